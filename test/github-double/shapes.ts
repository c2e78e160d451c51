/** GitHub-shaped JSON for the double's state (the REST and webhook representations share these). */
import { blobSha, fileBytes, type FileChange } from './git.js';
import type { DoubleState, IssueEvent } from './state.js';
import { REACTION_CONTENTS, type Activity, type App, type CheckRun, type Comment, type Commit, type Installation, type Issue, type Pull, type Reaction, type Repo, type User } from './types.js';

export interface Urls {
  /** REST base, e.g. http://127.0.0.1:PORT/api/v3 */
  api: string;
  /** Web base, e.g. http://127.0.0.1:PORT */
  web: string;
}

export function nodeId(kind: string, id: number | string): string {
  return Buffer.from(`${kind}:${id}`).toString('base64').replace(/=+$/, '');
}

export function userJson(u: User, urls: Urls) {
  const api = `${urls.api}/users/${encodeURIComponent(u.login)}`;
  return {
    login: u.login, id: u.id, node_id: nodeId(u.type, u.id), avatar_url: `${urls.web}/avatars/u/${u.id}`, gravatar_id: '',
    url: api, html_url: `${urls.web}/${u.type === 'Bot' ? `apps/${encodeURIComponent(u.login.replace(/\[bot\]$/, ''))}` : encodeURIComponent(u.login)}`,
    followers_url: `${api}/followers`, following_url: `${api}/following{/other_user}`, gists_url: `${api}/gists{/gist_id}`,
    starred_url: `${api}/starred{/owner}{/repo}`, subscriptions_url: `${api}/subscriptions`, organizations_url: `${api}/orgs`,
    repos_url: `${api}/repos`, events_url: `${api}/events{/privacy}`, received_events_url: `${api}/received_events`,
    type: u.type, site_admin: false, user_view_type: 'public',
  };
}

export function publicUserJson(u: User, urls: Urls) {
  return {
    ...userJson(u, urls), name: u.name, company: null, blog: '', location: null, email: u.email, hireable: null, bio: null,
    public_repos: 0, public_gists: 0, followers: 0, following: 0, created_at: u.createdAt, updated_at: u.createdAt,
  };
}

export function repoJson(r: Repo, state: DoubleState, urls: Urls) {
  const api = `${urls.api}/repos/${r.fullName}`;
  const html = `${urls.web}/${r.fullName}`;
  const openIssues = [...(state.issues.get(r.id)?.values() ?? [])].filter((i) => i.state === 'open').length;
  return {
    id: r.id, node_id: nodeId('Repository', r.id), name: r.name, full_name: r.fullName, owner: userJson(r.owner, urls),
    private: r.private, visibility: r.private ? 'private' : 'public', html_url: html, description: null, fork: r.parentId !== undefined, url: api,
    archive_url: `${api}/{archive_format}{/ref}`, assignees_url: `${api}/assignees{/user}`, blobs_url: `${api}/git/blobs{/sha}`,
    branches_url: `${api}/branches{/branch}`, collaborators_url: `${api}/collaborators{/collaborator}`,
    comments_url: `${api}/comments{/number}`, commits_url: `${api}/commits{/sha}`, compare_url: `${api}/compare/{base}...{head}`,
    contents_url: `${api}/contents/{+path}`, contributors_url: `${api}/contributors`, deployments_url: `${api}/deployments`,
    downloads_url: `${api}/downloads`, events_url: `${api}/events`, forks_url: `${api}/forks`,
    git_commits_url: `${api}/git/commits{/sha}`, git_refs_url: `${api}/git/refs{/sha}`, git_tags_url: `${api}/git/tags{/sha}`,
    git_url: `${urls.web.replace(/^https?/, 'git')}/${r.fullName}.git`, hooks_url: `${api}/hooks`,
    issue_comment_url: `${api}/issues/comments{/number}`, issue_events_url: `${api}/issues/events{/number}`,
    issues_url: `${api}/issues{/number}`, keys_url: `${api}/keys{/key_id}`, labels_url: `${api}/labels{/name}`,
    languages_url: `${api}/languages`, merges_url: `${api}/merges`, milestones_url: `${api}/milestones{/number}`,
    notifications_url: `${api}/notifications{?since,all,participating}`, pulls_url: `${api}/pulls{/number}`,
    releases_url: `${api}/releases{/id}`, ssh_url: `git@${new URL(urls.web).host}:${r.fullName}.git`,
    stargazers_url: `${api}/stargazers`, statuses_url: `${api}/statuses/{sha}`, subscribers_url: `${api}/subscribers`,
    subscription_url: `${api}/subscription`, tags_url: `${api}/tags`, teams_url: `${api}/teams`, trees_url: `${api}/git/trees{/sha}`,
    clone_url: `${html}.git`, mirror_url: null, svn_url: html, homepage: null, language: null, forks_count: 0, forks: 0,
    stargazers_count: 0, watchers_count: 0, watchers: 0, size: 0, default_branch: r.defaultBranch,
    open_issues_count: openIssues, open_issues: openIssues, is_template: false, topics: [], has_issues: r.hasIssues,
    has_projects: true, has_wiki: true, has_pages: false, has_downloads: true, has_discussions: false, archived: false,
    disabled: false, pushed_at: r.pushedAt, created_at: r.createdAt, updated_at: r.pushedAt, license: null,
    allow_forking: true, web_commit_signoff_required: false,
  };
}

export function appJson(app: App, urls: Urls) {
  return {
    id: app.id, slug: app.slug, node_id: nodeId('Integration', app.id), client_id: `Iv1.double${app.id}`,
    owner: userJson(app.owner, urls), name: app.name, description: null, external_url: `${urls.web}/apps/${app.slug}`,
    html_url: `${urls.web}/apps/${app.slug}`, created_at: app.createdAt, updated_at: app.createdAt,
    permissions: app.permissions, events: app.events ?? ['check_run', 'issue_comment', 'pull_request', 'workflow_run', 'deployment_protection_rule'],
  };
}

export function installationJson(i: Installation, app: App, urls: Urls) {
  return {
    id: i.id, account: userJson(i.account, urls), repository_selection: i.repositories === 'all' ? 'all' : 'selected',
    access_tokens_url: `${urls.api}/app/installations/${i.id}/access_tokens`, repositories_url: `${urls.api}/installation/repositories`,
    html_url: `${urls.web}/organizations/${i.account.login}/settings/installations/${i.id}`, app_id: app.id, app_slug: app.slug,
    client_id: `Iv1.double${app.id}`, target_id: i.account.id, target_type: i.account.type, permissions: i.permissions,
    events: appJson(app, urls).events, created_at: i.createdAt, updated_at: i.createdAt, single_file_name: null,
    has_multiple_single_files: false, single_file_paths: [],
    suspended_by: i.suspended ? userJson(i.suspended.by, urls) : null, suspended_at: i.suspended?.at ?? null,
  };
}

function authorAssociation(state: DoubleState, repo: Repo, user: User): string {
  if (repo.owner.id === user.id) return 'OWNER';
  if (repo.collaborators.has(user.login.toLowerCase())) return 'COLLABORATOR';
  const member = [...state.teams.values()].some((t) => t.org.toLowerCase() === repo.owner.login.toLowerCase() && t.members.has(user.login.toLowerCase()));
  return member ? 'MEMBER' : 'NONE';
}

export function reactionRollup(reactions: Reaction[], url: string) {
  const counts = Object.fromEntries(REACTION_CONTENTS.map((c) => [c, reactions.filter((r) => r.content === c).length]));
  return { url, total_count: reactions.length, ...counts };
}

/** A pull request's labels are its issue's. */
function labelsJson(issue: Issue, repo: Repo, urls: Urls) {
  return issue.labels.map((name, index) => ({
    id: index + 1, node_id: nodeId('Label', `${repo.id}:${name}`), url: `${urls.api}/repos/${repo.fullName}/labels/${encodeURIComponent(name)}`,
    name, description: null, color: 'ededed', default: false,
  }));
}

export function issueJson(issue: Issue, repo: Repo, state: DoubleState, urls: Urls) {
  const api = `${urls.api}/repos/${repo.fullName}/issues/${issue.number}`;
  const html = `${urls.web}/${repo.fullName}/${issue.pullNumber ? 'pull' : 'issues'}/${issue.number}`;
  const assignees = issue.assignees.map((a) => userJson(a, urls));
  return {
    id: issue.id, node_id: nodeId('Issue', issue.id), url: api, repository_url: `${urls.api}/repos/${repo.fullName}`,
    labels_url: `${api}/labels{/name}`, comments_url: `${api}/comments`, events_url: `${api}/events`, html_url: html,
    number: issue.number, state: issue.state, state_reason: issue.stateReason, title: issue.title, body: issue.body,
    user: userJson(issue.author, urls),
    labels: labelsJson(issue, repo, urls),
    assignee: assignees[0] ?? null, assignees, milestone: null, locked: false, active_lock_reason: null,
    comments: state.commentsOf(repo, issue.number).length, closed_at: issue.closedAt, created_at: issue.createdAt,
    updated_at: issue.updatedAt, closed_by: null, author_association: authorAssociation(state, repo, issue.author),
    reactions: reactionRollup(state.reactionsOn({ kind: 'issue', repoId: repo.id, number: issue.number }), `${api}/reactions`),
    timeline_url: `${api}/timeline`, performed_via_github_app: null,
    ...(issue.pullNumber ? {
      pull_request: {
        url: `${urls.api}/repos/${repo.fullName}/pulls/${issue.number}`, html_url: html, diff_url: `${html}.diff`,
        patch_url: `${html}.patch`, merged_at: state.pull(repo, issue.number)?.mergedAt ?? null,
      },
    } : {}),
  };
}

export function commentJson(c: Comment, repo: Repo, state: DoubleState, urls: Urls) {
  const issue = state.issue(repo, c.issueNumber) as Issue;
  const url = `${urls.api}/repos/${repo.fullName}/issues/comments/${c.id}`;
  const app = c.viaAppId === null ? undefined : state.apps.get(c.viaAppId);
  return {
    id: c.id, node_id: nodeId('IssueComment', c.id), url,
    html_url: `${urls.web}/${repo.fullName}/${issue.pullNumber ? 'pull' : 'issues'}/${c.issueNumber}#issuecomment-${c.id}`,
    body: c.body, user: userJson(c.author, urls), created_at: c.createdAt, updated_at: c.updatedAt,
    issue_url: `${urls.api}/repos/${repo.fullName}/issues/${c.issueNumber}`, author_association: authorAssociation(state, repo, c.author),
    performed_via_github_app: app ? appJson(app, urls) : null,
    reactions: reactionRollup(state.reactionsOn({ kind: 'comment', commentId: c.id }), `${url}/reactions`),
  };
}

export function reactionJson(r: Reaction, urls: Urls) {
  return { id: r.id, node_id: nodeId('Reaction', r.id), user: userJson(r.user, urls), content: r.content, created_at: r.createdAt };
}

/** An issue event with only the common properties, as GitHub gives a `base_ref_changed`. */
export function issueEventJson(e: IssueEvent, repo: Repo, urls: Urls) {
  return {
    id: e.id, node_id: nodeId('IssueEvent', e.id), url: `${urls.api}/repos/${repo.fullName}/issues/events/${e.id}`, actor: userJson(e.actor, urls),
    event: e.event, commit_id: null, commit_url: null, created_at: e.createdAt, performed_via_github_app: null,
  };
}

/** `GET …/branches/{branch}`: the double protects no branch. */
export function branchWithProtectionJson(repo: Repo, name: string, commit: Commit, state: DoubleState, urls: Urls) {
  const api = `${urls.api}/repos/${repo.fullName}/branches/${encodeURIComponent(name)}`;
  return {
    name, commit: commitJson(commit, repo, state, urls),
    _links: { self: api, html: `${urls.web}/${repo.fullName}/tree/${name}` },
    protected: false,
    protection: { enabled: false, required_status_checks: { enforcement_level: 'off', contexts: [], checks: [] } },
    protection_url: `${api}/protection`,
  };
}

function branchJson(repo: Repo, ref: string, sha: string, state: DoubleState, urls: Urls) {
  return { label: `${repo.owner.login}:${ref}`, ref, sha, user: userJson(repo.owner, urls), repo: repoJson(repo, state, urls) };
}

export function pullJson(pull: Pull, repo: Repo, state: DoubleState, urls: Urls, changes: FileChange[]) {
  const issue = state.issue(repo, pull.number) as Issue;
  const api = `${urls.api}/repos/${repo.fullName}/pulls/${pull.number}`;
  const html = `${urls.web}/${repo.fullName}/pull/${pull.number}`;
  const issueApi = `${urls.api}/repos/${repo.fullName}/issues/${pull.number}`;
  const assignees = issue.assignees.map((a) => userJson(a, urls));
  const href = (h: string) => ({ href: h });
  const statuses = `${urls.api}/repos/${repo.fullName}/statuses/${pull.headSha}`;
  return {
    url: api, id: pull.id, node_id: nodeId('PullRequest', pull.id), html_url: html, diff_url: `${html}.diff`, patch_url: `${html}.patch`,
    issue_url: issueApi, commits_url: `${api}/commits`, review_comments_url: `${api}/comments`,
    review_comment_url: `${urls.api}/repos/${repo.fullName}/pulls/comments{/number}`, comments_url: `${issueApi}/comments`,
    statuses_url: statuses, number: pull.number, state: issue.state, locked: false, title: issue.title,
    user: userJson(issue.author, urls), body: issue.body, labels: labelsJson(issue, repo, urls), milestone: null, active_lock_reason: null,
    created_at: issue.createdAt, updated_at: issue.updatedAt, closed_at: issue.closedAt, merged_at: pull.mergedAt,
    merge_commit_sha: pull.mergeSha, assignee: assignees[0] ?? null, assignees, requested_reviewers: [], requested_teams: [],
    head: branchJson(state.headRepoOf(repo, pull), pull.headRef, pull.headSha, state, urls), base: branchJson(repo, pull.baseRef, pull.baseSha, state, urls),
    _links: {
      self: href(api), html: href(html), issue: href(issueApi), comments: href(`${issueApi}/comments`),
      review_comments: href(`${api}/comments`), review_comment: href(`${urls.api}/repos/${repo.fullName}/pulls/comments{/number}`),
      commits: href(`${api}/commits`), statuses: href(statuses),
    },
    author_association: authorAssociation(state, repo, issue.author), auto_merge: null, draft: pull.draft,
    // Only in the single-PR representation:
    // GitHub stops computing mergeability once a pull request is merged.
    merged: pull.merged, mergeable: pull.merged ? null : true, rebaseable: pull.merged ? null : true,
    mergeable_state: pull.merged ? 'unknown' : 'clean', merged_by: pull.mergedBy ? userJson(pull.mergedBy, urls) : null,
    comments: state.commentsOf(repo, pull.number).length, review_comments: 0, maintainer_can_modify: false, commits: 1,
    additions: changes.reduce((n, c) => n + c.additions, 0), deletions: changes.reduce((n, c) => n + c.deletions, 0),
    changed_files: changes.length,
  };
}

/** The list representation (pull-request-simple) lacks the counters of the single-PR one. */
export function pullSimpleJson(pull: Pull, repo: Repo, state: DoubleState, urls: Urls) {
  const {
    merged: _merged, mergeable: _mergeable, rebaseable: _rebaseable, mergeable_state: _ms, merged_by: _mb, comments: _c,
    review_comments: _rc, maintainer_can_modify: _mcm, commits: _commits, additions: _a, deletions: _d, changed_files: _cf, ...simple
  } = pullJson(pull, repo, state, urls, []);
  return simple;
}

export function diffEntryJson(change: FileChange, repo: Repo, ref: string, urls: Urls) {
  const path = change.filename.split('/').map(encodeURIComponent).join('/');
  return {
    sha: change.sha, filename: change.filename, status: change.status, additions: change.additions, deletions: change.deletions,
    changes: change.additions + change.deletions, blob_url: `${urls.web}/${repo.fullName}/blob/${ref}/${path}`,
    raw_url: `${urls.web}/${repo.fullName}/raw/${ref}/${path}`, contents_url: `${urls.api}/repos/${repo.fullName}/contents/${path}?ref=${ref}`,
    ...(change.patch === undefined ? {} : { patch: change.patch }),
    ...(change.previousFilename === undefined ? {} : { previous_filename: change.previousFilename }),
  };
}

function gitActor(state: DoubleState, login: string, date: string) {
  const user = state.user(login);
  return { name: user?.name ?? login, email: user?.email ?? `${login}@users.noreply.example`, date };
}

export function activityJson(a: Activity, state: DoubleState, urls: Urls) {
  const actor = state.user(a.actor);
  return {
    id: a.id, node_id: nodeId('RepositoryActivity', a.id), before: a.before, after: a.after, ref: a.ref,
    timestamp: a.timestamp, activity_type: a.type, actor: actor ? userJson(actor, urls) : null,
  };
}

/** `files` is the page of `changes` to list (a large commit's files are paged; `stats` always cover them all). */
export function commitJson(commit: Commit, repo: Repo, state: DoubleState, urls: Urls, changes?: FileChange[], files = changes) {
  const api = `${urls.api}/repos/${repo.fullName}/commits/${commit.sha}`;
  const author = state.user(commit.author);
  return {
    url: api, sha: commit.sha, node_id: nodeId('Commit', commit.sha), html_url: `${urls.web}/${repo.fullName}/commit/${commit.sha}`,
    comments_url: `${api}/comments`,
    commit: {
      url: `${urls.api}/repos/${repo.fullName}/git/commits/${commit.sha}`, author: gitActor(state, commit.author, commit.date),
      committer: gitActor(state, commit.author, commit.date), message: commit.message, comment_count: 0,
      tree: { sha: blobSha(JSON.stringify([...commit.files.keys()].sort())), url: `${urls.api}/repos/${repo.fullName}/git/trees/${commit.sha}` },
      verification: { verified: false, reason: 'unsigned', signature: null, payload: null, verified_at: null },
    },
    author: author ? userJson(author, urls) : null, committer: author ? userJson(author, urls) : null,
    parents: commit.parents.map((sha) => ({ sha, url: `${urls.api}/repos/${repo.fullName}/commits/${sha}`, html_url: `${urls.web}/${repo.fullName}/commit/${sha}` })),
    ...(changes ? {
      stats: { additions: changes.reduce((n, c) => n + c.additions, 0), deletions: changes.reduce((n, c) => n + c.deletions, 0), total: changes.reduce((n, c) => n + c.additions + c.deletions, 0) },
      files: (files ?? []).map((c) => diffEntryJson(c, repo, commit.sha, urls)),
    } : {}),
  };
}

/** The largest file whose content `GET …/contents/{path}` sends as base64 JSON; larger ones need the raw media type. */
export const MAX_CONTENT_OBJECT_BYTES = 1024 * 1024;

export function contentFileJson(path: string, content: string, repo: Repo, ref: string, urls: Urls) {
  const sha = blobSha(content);
  const encodedPath = path.split('/').map(encodeURIComponent).join('/');
  const url = `${urls.api}/repos/${repo.fullName}/contents/${encodedPath}?ref=${encodeURIComponent(ref)}`;
  const html = `${urls.web}/${repo.fullName}/blob/${ref}/${encodedPath}`;
  const git = `${urls.api}/repos/${repo.fullName}/git/blobs/${sha}`;
  // GitHub wraps base64 at 60 columns; clients must tolerate the newlines.
  const bytes = fileBytes(content);
  const base64 = bytes.toString('base64').replace(/(.{60})/g, '$1\n');
  const size = bytes.length;
  // Over 1 MB GitHub sends no content in this shape (only the raw media type carries it).
  const body = size > MAX_CONTENT_OBJECT_BYTES ? { encoding: 'none', content: '' } : { encoding: 'base64', content: base64 };
  return {
    type: 'file', ...body, size, name: path.split('/').pop() as string, path,
    sha, url, git_url: git, html_url: html, download_url: `${urls.web}/${repo.fullName}/raw/${ref}/${encodedPath}`,
    _links: { self: url, git, html },
  };
}

export function directoryEntryJson(path: string, type: 'file' | 'dir', sha: string, size: number, repo: Repo, ref: string, urls: Urls) {
  const encodedPath = path.split('/').map(encodeURIComponent).join('/');
  const url = `${urls.api}/repos/${repo.fullName}/contents/${encodedPath}?ref=${encodeURIComponent(ref)}`;
  const html = `${urls.web}/${repo.fullName}/${type === 'dir' ? 'tree' : 'blob'}/${ref}/${encodedPath}`;
  const git = `${urls.api}/repos/${repo.fullName}/git/${type === 'dir' ? 'trees' : 'blobs'}/${sha}`;
  return {
    type, size, name: path.split('/').pop() as string, path, sha, url, git_url: git, html_url: html,
    download_url: type === 'file' ? `${urls.web}/${repo.fullName}/raw/${ref}/${encodedPath}` : null, _links: { self: url, git, html },
  };
}

/** A pull request as a check run or a workflow run lists it (`pull-request-minimal`). */
export function pullMinimalJson(pull: Pull, repo: Repo, urls: Urls) {
  const repoRef = { id: repo.id, url: `${urls.api}/repos/${repo.fullName}`, name: repo.name };
  return {
    id: pull.id, number: pull.number, url: `${urls.api}/repos/${repo.fullName}/pulls/${pull.number}`,
    head: { ref: pull.headRef, sha: pull.headSha, repo: repoRef }, base: { ref: pull.baseRef, sha: pull.baseSha, repo: repoRef },
  };
}

export function checkRunJson(run: CheckRun, repo: Repo, state: DoubleState, urls: Urls) {
  const app = state.apps.get(run.appId) as App;
  const url = `${urls.api}/repos/${repo.fullName}/check-runs/${run.id}`;
  // Only open pull requests whose head is the run's commit, as GitHub documents.
  const pulls = state.pullsForCommit(repo, run.headSha).filter((p) => p.headSha === run.headSha && state.issue(repo, p.number)?.state === 'open');
  return {
    id: run.id, node_id: nodeId('CheckRun', run.id), head_sha: run.headSha, external_id: run.externalId ?? '', url,
    html_url: `${urls.web}/${repo.fullName}/runs/${run.id}`, details_url: run.detailsUrl, status: run.status,
    conclusion: run.conclusion, started_at: run.startedAt, completed_at: run.completedAt, name: run.name,
    output: {
      title: run.output.title, summary: run.output.summary, text: run.output.text, annotations_count: run.output.annotationsCount,
      annotations_url: `${url}/annotations`,
    },
    check_suite: { id: run.checkSuiteId }, app: appJson(app, urls),
    pull_requests: pulls.map((p) => pullMinimalJson(p, repo, urls)),
    actions: run.actions,
  };
}
