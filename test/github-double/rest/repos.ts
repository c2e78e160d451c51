/** Repository: metadata, contents per ref, a commit, and compare. */
import { ancestry, blobSha, diffTrees } from '../git.js';
import { githubError, notFound } from '../http.js';
import { commitJson, contentFileJson, directoryEntryJson, repoJson } from '../shapes.js';
import type { Commit } from '../types.js';
import type { RestContext, RestRegistrar } from './context.js';

function resolve(ctx: RestContext, ref: string): Commit {
  const commit = ctx.state.resolveRef(ctx.repo, ref);
  if (!commit) throw githubError(404, `No commit found for the ref ${ref}`);
  return commit;
}

export const registerRepos: RestRegistrar = (add) => {
  add('GET', '/repos/{owner}/{repo}', {
    auth: 'token', permission: ['metadata', 'read'],
    handler: (ctx) => ({
      status: 200,
      body: { ...repoJson(ctx.repo, ctx.state, ctx.urls), network_count: 0, subscribers_count: 0, temp_clone_token: '' },
    }),
  });

  add('GET', '/repos/{owner}/{repo}/contents/{path}', {
    auth: 'token', permission: ['contents', 'read'],
    handler: (ctx) => {
      const ref = ctx.url.searchParams.get('ref') || ctx.repo.defaultBranch;
      const commit = resolve(ctx, ref);
      const path = ctx.params.path.replace(/^\/+|\/+$/g, '');
      const content = commit.files.get(path);
      if (content !== undefined) {
        if (/raw/.test(String(ctx.headers.accept ?? ''))) {
          return { status: 200, body: content, headers: { 'content-type': 'application/vnd.github.raw; charset=utf-8' } };
        }
        return { status: 200, body: contentFileJson(path, content, ctx.repo, ref, ctx.urls) };
      }
      const prefix = `${path}/`;
      const children = new Map<string, 'file' | 'dir'>();
      for (const file of commit.files.keys()) {
        if (!file.startsWith(prefix)) continue;
        const [name, ...rest] = file.slice(prefix.length).split('/');
        children.set(name, rest.length ? 'dir' : 'file');
      }
      if (!children.size) throw notFound();
      const entries = [...children].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, type]) => {
        const child = `${prefix}${name}`;
        const text = commit.files.get(child) ?? '';
        return directoryEntryJson(child, type, type === 'file' ? blobSha(text) : blobSha(`tree:${commit.sha}:${child}`), type === 'file' ? Buffer.byteLength(text) : 0, ctx.repo, ref, ctx.urls);
      });
      return { status: 200, body: entries };
    },
  });

  add('GET', '/repos/{owner}/{repo}/commits/{ref}', {
    auth: 'token', permission: ['contents', 'read'],
    handler: (ctx) => {
      const commit = resolve(ctx, ctx.params.ref);
      const parent = commit.parents[0] ? ctx.repo.commits.get(commit.parents[0]) : undefined;
      const changes = diffTrees(parent?.files ?? new Map(), commit.files);
      return { status: 200, body: commitJson(commit, ctx.repo, ctx.state, ctx.urls, changes) };
    },
  });

  add('GET', '/repos/{owner}/{repo}/compare/{basehead}', {
    auth: 'token', permission: ['contents', 'read'],
    handler: (ctx) => {
      const match = /^(.+?)\.{2,3}(.+)$/.exec(ctx.params.basehead);
      if (!match) throw notFound();
      const base = resolve(ctx, match[1]);
      const head = resolve(ctx, match[2]);
      const headHistory = ancestry(ctx.repo.commits, head.sha);
      const baseHistory = ancestry(ctx.repo.commits, base.sha);
      const inBase = new Set(baseHistory.map((c) => c.sha));
      const inHead = new Set(headHistory.map((c) => c.sha));
      const mergeBase = headHistory.find((c) => inBase.has(c.sha)) ?? base;
      const ahead = headHistory.filter((c) => !inBase.has(c.sha)).reverse();
      const behind = baseHistory.filter((c) => !inHead.has(c.sha));
      const status = base.sha === head.sha ? 'identical' : !behind.length ? 'ahead' : !ahead.length ? 'behind' : 'diverged';
      const html = `${ctx.urls.web}/${ctx.repo.fullName}/compare/${ctx.params.basehead}`;
      const changes = diffTrees(mergeBase.files, head.files);
      return {
        status: 200,
        body: {
          url: `${ctx.urls.api}/repos/${ctx.repo.fullName}/compare/${ctx.params.basehead}`, html_url: html,
          permalink_url: `${ctx.urls.web}/${ctx.repo.fullName}/compare/${ctx.repo.owner.login}:${base.sha.slice(0, 7)}...${ctx.repo.owner.login}:${head.sha.slice(0, 7)}`,
          diff_url: `${html}.diff`, patch_url: `${html}.patch`,
          base_commit: commitJson(base, ctx.repo, ctx.state, ctx.urls), merge_base_commit: commitJson(mergeBase, ctx.repo, ctx.state, ctx.urls),
          status, ahead_by: ahead.length, behind_by: behind.length, total_commits: ahead.length,
          commits: ahead.map((c) => commitJson(c, ctx.repo, ctx.state, ctx.urls)),
          files: commitJson(head, ctx.repo, ctx.state, ctx.urls, changes).files,
        },
      };
    },
  });
};
