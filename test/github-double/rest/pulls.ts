/** Pull requests: get, list, changed files, and the PRs associated with a commit. */
import { diffTrees } from '../git.js';
import { notFound, paginate } from '../http.js';
import { diffEntryJson, pullJson, pullSimpleJson } from '../shapes.js';
import type { Commit, Pull } from '../types.js';
import type { RestContext, RestRegistrar } from './context.js';

/** GitHub lists at most 3000 files of a pull request. */
const MAX_PULL_FILES = 3000;

function findPull(ctx: RestContext): Pull {
  const pull = ctx.state.pull(ctx.repo, Number(ctx.params.pull_number));
  if (!pull) throw notFound();
  return pull;
}

/** A PR's files: the merge commit against its base, i.e. what the PR changes. */
function pullChanges(ctx: RestContext, pull: Pull) {
  const merge = ctx.repo.commits.get(pull.mergeSha) as Commit;
  const base = ctx.repo.commits.get(pull.baseSha) as Commit;
  return diffTrees(base.files, merge.files).slice(0, MAX_PULL_FILES);
}

export const registerPulls: RestRegistrar = (add) => {
  add('GET', '/repos/{owner}/{repo}/pulls/{pull_number}', {
    auth: 'token', permission: ['pull_requests', 'read'],
    handler: (ctx) => {
      const pull = findPull(ctx);
      return { status: 200, body: pullJson(pull, ctx.repo, ctx.state, ctx.urls, pullChanges(ctx, pull)) };
    },
  });

  add('GET', '/repos/{owner}/{repo}/pulls', {
    auth: 'token', permission: ['pull_requests', 'read'],
    handler: (ctx) => {
      const q = ctx.url.searchParams;
      const state = q.get('state') ?? 'open';
      const pulls = [...(ctx.state.pulls.get(ctx.repo.id)?.values() ?? [])]
        .filter((p) => state === 'all' || ctx.state.issue(ctx.repo, p.number)?.state === state)
        .filter((p) => !q.get('head') || `${ctx.state.headRepoOf(ctx.repo, p).owner.login}:${p.headRef}` === q.get('head'))
        .filter((p) => !q.get('base') || p.baseRef === q.get('base'))
        .sort((a, b) => b.number - a.number);
      const { page, headers } = paginate(pulls, ctx.url);
      return { status: 200, headers, body: page.map((p) => pullSimpleJson(p, ctx.repo, ctx.state, ctx.urls)) };
    },
  });

  add('GET', '/repos/{owner}/{repo}/pulls/{pull_number}/files', {
    auth: 'token', permission: ['pull_requests', 'read'],
    handler: (ctx) => {
      const pull = findPull(ctx);
      const { page, headers } = paginate(pullChanges(ctx, pull), ctx.url);
      return { status: 200, headers, body: page.map((c) => diffEntryJson(c, ctx.repo, pull.headSha, ctx.urls)) };
    },
  });

  add('GET', '/repos/{owner}/{repo}/commits/{commit_sha}/pulls', {
    auth: 'token', permission: ['pull_requests', 'read'],
    handler: (ctx) => {
      const commit = ctx.state.resolveRef(ctx.repo, ctx.params.commit_sha);
      if (!commit) throw notFound();
      const pulls = ctx.state.pullsForCommit(ctx.repo, commit.sha);
      const { page, headers } = paginate(pulls, ctx.url);
      return { status: 200, headers, body: page.map((p) => pullSimpleJson(p, ctx.repo, ctx.state, ctx.urls)) };
    },
  });
};
