/** Repository: metadata, contents per ref, commits, a commit, compare, and the repository's activity (pushes). */
import { ancestry, blobSha, diffTrees, fileBytes } from '../git.js';
import { githubError, notFound, paginate } from '../http.js';
import { activityJson, branchWithProtectionJson, commitJson, contentFileJson, directoryEntryJson, repoJson } from '../shapes.js';
import type { Activity, Commit } from '../types.js';
import type { RestContext, RestRegistrar } from './context.js';

/** Compare lists at most 300 changed files for the whole comparison (GitHub's documented limit). */
const MAX_COMPARE_FILES = 300;
/** Without paging parameters compare lists at most 250 commits, the most recent ones. */
const MAX_COMPARE_COMMITS = 250;
/** A commit lists at most 3000 files; past 300 they are paged (300 a page unless `per_page` says otherwise). */
const MAX_COMMIT_FILES = 3000;
const COMMIT_FILES_UNPAGED = 300;

const TIME_PERIODS: Record<string, number> = { day: 1, week: 7, month: 30, quarter: 91, year: 365 };

/** Opaque cursors, as GitHub's activity Link headers carry (`before=`/`after=`). */
const cursorOf = (activity: Activity) => Buffer.from(`cursor:${activity.id}`).toString('base64url');
const idOfCursor = (cursor: string) => Number(Buffer.from(cursor, 'base64url').toString('utf8').replace(/^cursor:/, ''));

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
      const asked = ctx.url.searchParams.get('ref');
      const ref = asked || ctx.repo.defaultBranch;
      const commit = resolve(ctx, asked || `refs/heads/${ref}`);
      const path = ctx.params.path.replace(/^\/+|\/+$/g, '');
      const content = commit.files.get(path);
      if (content !== undefined) {
        if (/raw/.test(String(ctx.headers.accept ?? ''))) {
          return { status: 200, body: fileBytes(content), headers: { 'content-type': 'application/vnd.github.raw; charset=utf-8' } };
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
        return directoryEntryJson(child, type, type === 'file' ? blobSha(text) : blobSha(`tree:${commit.sha}:${child}`), type === 'file' ? fileBytes(text).length : 0, ctx.repo, ref, ctx.urls);
      });
      return { status: 200, body: entries };
    },
  });

  // Newest first from `sha` (a branch or commit; the default branch when absent). The double lists the
  // history breadth-first from there, which starts at the same head as GitHub's date order. Its
  // repositories always have a first commit, so GitHub's 409 for an empty repository never arises.
  add('GET', '/repos/{owner}/{repo}/commits', {
    auth: 'token', permission: ['contents', 'read'],
    handler: (ctx) => {
      const head = resolve(ctx, ctx.url.searchParams.get('sha') || `refs/heads/${ctx.repo.defaultBranch}`);
      const { page, headers } = paginate(ancestry(ctx.repo.commits, head.sha), ctx.url);
      return { status: 200, headers, body: page.map((c) => commitJson(c, ctx.repo, ctx.state, ctx.urls)) };
    },
  });

  // A branch by name, never a tag of the same name. Octokit sends a "/" in the name as %2F.
  add('GET', '/repos/{owner}/{repo}/branches/{branch}', {
    auth: 'token', permission: ['contents', 'read'],
    handler: (ctx) => {
      const sha = ctx.repo.branches.get(ctx.params.branch);
      if (sha === undefined) throw githubError(404, 'Branch not found');
      return { status: 200, body: branchWithProtectionJson(ctx.repo, ctx.params.branch, ctx.repo.commits.get(sha) as Commit, ctx.state, ctx.urls) };
    },
  });

  add('GET', '/repos/{owner}/{repo}/commits/{ref}', {
    auth: 'token', permission: ['contents', 'read'],
    handler: (ctx) => {
      const commit = resolve(ctx, ctx.params.ref);
      const parent = commit.parents[0] ? ctx.repo.commits.get(commit.parents[0]) : undefined;
      const changes = diffTrees(parent?.files ?? new Map(), commit.files).slice(0, MAX_COMMIT_FILES);
      if (changes.length <= COMMIT_FILES_UNPAGED) return { status: 200, body: commitJson(commit, ctx.repo, ctx.state, ctx.urls, changes) };
      // Every page repeats the commit; only the file list moves on.
      const { page, headers } = paginate(changes, ctx.url, COMMIT_FILES_UNPAGED);
      return { status: 200, headers, body: commitJson(commit, ctx.repo, ctx.state, ctx.urls, changes, page) };
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
      const changes = diffTrees(mergeBase.files, head.files).slice(0, MAX_COMPARE_FILES);
      // With paging parameters the commits are paged and the files appear on the first page only.
      const q = ctx.url.searchParams;
      const paged = q.has('per_page') || q.has('page');
      const { page: commits, headers } = paged ? paginate(ahead, ctx.url) : { page: ahead.slice(-MAX_COMPARE_COMMITS), headers: {} };
      const firstPage = !paged || Math.max(1, Number(q.get('page')) || 1) === 1;
      return {
        headers,
        status: 200,
        body: {
          url: `${ctx.urls.api}/repos/${ctx.repo.fullName}/compare/${ctx.params.basehead}`, html_url: html,
          permalink_url: `${ctx.urls.web}/${ctx.repo.fullName}/compare/${ctx.repo.owner.login}:${base.sha.slice(0, 7)}...${ctx.repo.owner.login}:${head.sha.slice(0, 7)}`,
          diff_url: `${html}.diff`, patch_url: `${html}.patch`,
          base_commit: commitJson(base, ctx.repo, ctx.state, ctx.urls), merge_base_commit: commitJson(mergeBase, ctx.repo, ctx.state, ctx.urls),
          status, ahead_by: ahead.length, behind_by: behind.length, total_commits: ahead.length,
          commits: commits.map((c) => commitJson(c, ctx.repo, ctx.state, ctx.urls)),
          files: firstPage ? commitJson(head, ctx.repo, ctx.state, ctx.urls, changes).files : [],
        },
      };
    },
  });

  add('GET', '/repos/{owner}/{repo}/activity', {
    auth: 'token', permission: ['metadata', 'read'],
    handler: (ctx) => {
      const q = ctx.url.searchParams;
      const ref = q.get('ref');
      const fullRef = ref && !ref.startsWith('refs/') ? `refs/heads/${ref}` : ref;
      const period = TIME_PERIODS[q.get('time_period') ?? ''];
      const since = period ? Date.now() - period * 86_400_000 : 0;
      let items = ctx.repo.activities
        .filter((a) => !fullRef || a.ref === fullRef)
        .filter((a) => !q.get('actor') || a.actor.toLowerCase() === q.get('actor')?.toLowerCase())
        .filter((a) => !q.get('activity_type') || a.type === q.get('activity_type'))
        .filter((a) => Date.parse(a.timestamp) >= since - 1000);
      if (q.get('direction') !== 'asc') items = [...items].reverse();
      const perPage = Math.min(100, Math.max(1, Number(q.get('per_page')) || 30));
      const after = q.get('after');
      const before = q.get('before');
      let start = 0;
      let end = items.length;
      if (after) start = items.findIndex((a) => a.id === idOfCursor(after)) + 1;
      if (before) end = Math.max(0, items.findIndex((a) => a.id === idOfCursor(before)));
      const page = before && !after ? items.slice(Math.max(start, end - perPage), end) : items.slice(start, Math.min(end, start + perPage));
      const links: string[] = [];
      const link = (name: 'before' | 'after', activity: Activity, rel: string) => {
        const u = new URL(ctx.url);
        u.searchParams.delete('before');
        u.searchParams.delete('after');
        u.searchParams.set(name, cursorOf(activity));
        links.push(`<${u.toString()}>; rel="${rel}"`);
      };
      const firstIndex = page.length ? items.indexOf(page[0]) : start;
      const lastIndex = page.length ? items.indexOf(page[page.length - 1]) : start - 1;
      if (page.length && lastIndex < items.length - 1) link('after', page[page.length - 1], 'next');
      if (page.length && firstIndex > 0) link('before', page[0], 'prev');
      const body = page.map((a) => activityJson(a, ctx.state, ctx.urls));
      const headers: Record<string, string> = links.length ? { link: links.join(', ') } : {};
      return { status: 200, headers, body };
    },
  });
};
