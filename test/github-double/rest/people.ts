/** People: collaborator permission levels, team membership and users. */
import { forbiddenForIntegration, notFound, paginate } from '../http.js';
import { publicUserJson, userJson } from '../shapes.js';
import { activeMembersOf, membershipIn } from '../teams.js';
import type { Team } from '../types.js';
import type { RestContext, RestRegistrar } from './context.js';

/** `permission` is the legacy level (maintain → write, triage → read); `role_name` keeps the real role. */
const LEGACY_LEVEL = { admin: 'admin', maintain: 'write', write: 'write', triage: 'read', read: 'read', none: 'none' } as const;

/** Org endpoints answer only for the org the calling installation is on. */
function findTeam(ctx: RestContext): Team {
  const grant = ctx.caller.kind === 'token' ? ctx.caller.grant : undefined;
  const installation = grant?.installationId ? ctx.state.installations.get(grant.installationId) : undefined;
  const team = ctx.state.team(ctx.params.org, ctx.params.team_slug);
  if (!team || installation?.account.login.toLowerCase() !== ctx.params.org.toLowerCase()) throw notFound();
  return team;
}

export const registerPeople: RestRegistrar = (add) => {
  add('GET', '/repos/{owner}/{repo}/collaborators/{username}/permission', {
    auth: 'token', permission: ['metadata', 'read'],
    handler: (ctx) => {
      const user = ctx.state.user(ctx.params.username);
      if (!user) throw notFound();
      const role = ctx.state.permissionOf(ctx.repo, user.login);
      const levels = ['read', 'triage', 'write', 'maintain', 'admin'];
      const rank = levels.indexOf(role);
      return {
        status: 200,
        body: {
          permission: LEGACY_LEVEL[role], role_name: role,
          user: {
            ...userJson(user, ctx.urls), role_name: role,
            permissions: { pull: rank >= 0, triage: rank >= 1, push: rank >= 2, maintain: rank >= 3, admin: rank >= 4 },
          },
        },
      };
    },
  });

  add('GET', '/orgs/{org}/teams/{team_slug}/memberships/{username}', {
    auth: 'token', permission: ['members', 'read'],
    handler: (ctx) => {
      const team = findTeam(ctx);
      const user = ctx.state.user(ctx.params.username);
      const membership = user && membershipIn(ctx.state.teams, team, user.login);
      if (!user || !membership) throw notFound();
      return {
        status: 200,
        body: { url: `${ctx.urls.api}/organizations/${team.org}/team/${team.id}/memberships/${user.login}`, ...membership },
      };
    },
  });

  add('GET', '/orgs/{org}/teams/{team_slug}/members', {
    auth: 'token', permission: ['members', 'read'],
    handler: (ctx) => {
      const team = findTeam(ctx);
      const role = ctx.url.searchParams.get('role') ?? 'all';
      // Pending members are not listed (GitHub lists them as the team's invitations).
      const members = activeMembersOf(ctx.state.teams, team).filter((m) => role === 'all' || m.role === role)
        .map(({ login }) => ctx.state.user(login))
        .filter((u) => u !== undefined)
        .sort((a, b) => a.id - b.id);
      const { page, headers } = paginate(members, ctx.url);
      return { status: 200, headers, body: page.map((u) => userJson(u, ctx.urls)) };
    },
  });

  add('GET', '/user', {
    auth: 'token',
    handler: (ctx) => {
      // Only a user access token acts for a user; an installation token has nobody to answer for.
      const login = ctx.caller.kind === 'token' && ctx.caller.grant.kind === 'user' ? ctx.caller.grant.login : undefined;
      const user = login === undefined ? undefined : ctx.state.user(login);
      if (!user) throw forbiddenForIntegration();
      return { status: 200, body: publicUserJson(user, ctx.urls) };
    },
  });

  add('GET', '/users/{username}', {
    auth: 'token',
    handler: (ctx) => {
      const user = ctx.state.user(ctx.params.username);
      if (!user) throw notFound();
      return { status: 200, body: publicUserJson(user, ctx.urls) };
    },
  });
};
