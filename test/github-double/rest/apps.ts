/** Apps: who the App is, where it is installed, and installation access tokens. */
import { issueInstallationToken } from '../auth.js';
import { githubError, notFound, paginate } from '../http.js';
import { appJson, installationJson, repoJson } from '../shapes.js';
import type { App } from '../types.js';
import type { RestContext, RestRegistrar } from './context.js';

function callingApp(ctx: RestContext): App {
  if (ctx.caller.kind !== 'app') throw githubError(401, 'A JSON web token could not be decoded');
  return ctx.caller.app;
}

export const registerApps: RestRegistrar = (add) => {
  add('GET', '/app', { auth: 'app', handler: (ctx) => ({ status: 200, body: appJson(callingApp(ctx), ctx.urls) }) });

  add('GET', '/repos/{owner}/{repo}/installation', {
    auth: 'app',
    handler: (ctx) => {
      const app = callingApp(ctx);
      const installation = ctx.state.installationFor(ctx.repo, app.id);
      if (!installation) throw notFound();
      return { status: 200, body: installationJson(installation, app, ctx.urls) };
    },
  });

  add('GET', '/app/installations/{installation_id}', {
    auth: 'app',
    handler: (ctx) => {
      const app = callingApp(ctx);
      const installation = ctx.state.installations.get(Number(ctx.params.installation_id));
      if (!installation || installation.appId !== app.id) throw notFound();
      return { status: 200, body: installationJson(installation, app, ctx.urls) };
    },
  });

  add('POST', '/app/installations/{installation_id}/access_tokens', {
    auth: 'app',
    handler: (ctx) => {
      const app = callingApp(ctx);
      const installation = ctx.state.installations.get(Number(ctx.params.installation_id));
      if (!installation || installation.appId !== app.id) throw notFound();
      if (installation.suspended) throw githubError(403, 'This installation has been suspended');
      const grant = issueInstallationToken(ctx.state, installation, ctx.body as Parameters<typeof issueInstallationToken>[2]);
      const repos = grant.repositoryIds === 'all' ? undefined : [...grant.repositoryIds].map((id) => ctx.state.repoById(id));
      return {
        status: 201,
        body: {
          token: grant.token, expires_at: new Date(grant.expiresAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
          permissions: grant.permissions, repository_selection: repos ? 'selected' : 'all',
          ...(repos ? { repositories: repos.map((r) => repoJson(r!, ctx.state, ctx.urls)) } : {}),
        },
      };
    },
  });

  add('GET', '/installation/repositories', {
    auth: 'token',
    handler: (ctx) => {
      const grant = ctx.caller.kind === 'token' ? ctx.caller.grant : undefined;
      const installation = grant?.installationId ? ctx.state.installations.get(grant.installationId) : undefined;
      if (!grant || !installation) throw githubError(403, 'This endpoint can only be accessed with an installation access token');
      const repos = ctx.state.installationRepos(installation).filter((r) => grant.repositoryIds === 'all' || grant.repositoryIds.has(r.id));
      const { page, headers } = paginate(repos, ctx.url);
      return {
        status: 200, headers,
        body: { total_count: repos.length, repository_selection: installation.repositories === 'all' ? 'all' : 'selected', repositories: page.map((r) => repoJson(r, ctx.state, ctx.urls)) },
      };
    },
  });
};
