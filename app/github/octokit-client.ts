/** GitHubClient over an installation Octokit from Probot (which keeps its retry and throttling plugins). */
import type { ProbotOctokit } from 'probot';
import type {
  BranchChanges,
  ChangedFiles,
  CheckRunContent,
  CheckRunRef,
  CheckRunState,
  CommentRef,
  Comparison,
  DeploymentInfo,
  DeploymentReview,
  IssueComment,
  GitHubClient,
  GitHubUser,
  IssueRef,
  MergedPull,
  PullRequestInfo,
  RepoCoordinates,
  RepositoryAccess,
  RepositoryNow,
  RepositoryPermission,
  WaitingRun,
  WorkflowRunInfo,
  WriteTarget,
} from './github.js';
import { decodeUtf8 } from '../../policies/yaml-source.js';
import { FileNotUtf8 } from './github.js';

import type { FreshReads } from './fresh-reads.js';
import { checkedBeforeSending } from './octokit.js';

type Octokit = InstanceType<typeof ProbotOctokit>;

const PERMISSION_LEVELS = new Set(['read', 'triage', 'write', 'maintain', 'admin']);

/** GitHub's documented caps: a list this long may have been cut short. */
export const MAX_PULL_FILES = 3000;
export const MAX_COMPARE_FILES = 300;
/** Commits a compare page lists (GitHub's most): enough to follow a deploy's merges back to the last approved one. */
const COMPARE_COMMITS_PAGE = 100;
/** Issue events that change a pull request's base branch. */
const BASE_CHANGES = new Set(['base_ref_changed', 'automatic_base_change_succeeded']);
/** Pages of a branch's activity read back to a moment: 300 changes since then is a branch moved too often to tell. */
const BRANCH_CHANGE_PAGES = 3;

/**
 * A create that GitHub performed but whose answer was lost must not be sent again blindly (it would
 * make a second check run, comment or issue): Octokit's automatic retry is off for them, and the
 * outbox retries the whole publication, which looks for what the lost attempt made first.
 */
const NO_BLIND_RETRY = { retries: 0 };

/** A repository as `GET /repos/{owner}/{repo}` answers, whoever asks: its id and the name it has now. */
export function repositoryNowOf(data: { id: number; name: string; owner: { login: string } }): RepositoryNow {
  return { id: String(data.id), owner: data.owner.login, repo: data.name };
}

/** Reads shared among the concurrent callers of one installation (see `FreshReads`). */
export interface SharedReads {
  installationId: number;
  branchHeads: FreshReads<string>;
  repositories: FreshReads<RepositoryNow>;
}

/**
 * The key a read is shared under: GitHub's names are case-insensitive, so one repository has one key;
 * and it is one installation's, as another installation's token may not reach the repository at all.
 */
function sharedKey(shared: SharedReads, repo: RepoCoordinates): string {
  return `${shared.installationId} ${repo.owner}/${repo.repo}`.toLowerCase();
}

export function isNotFound(err: unknown): boolean {
  return (err as { status?: number }).status === 404;
}

export class OctokitGitHubClient implements GitHubClient {
  constructor(
    private readonly octokit: Octokit,
    private readonly app: { appId: number; botLogin: () => Promise<string>; shared?: SharedReads },
  ) {}

  /** The parameters that address a write to `target`: its check, if any, runs just before the write is sent. */
  private addressed(target: WriteTarget, request: { retries?: number } = {}) {
    const fetch = this.octokit.request.endpoint.DEFAULTS.request?.fetch as typeof globalThis.fetch | undefined;
    const check = target.beforeSending;
    return { owner: target.owner, repo: target.repo, request: check ? { ...request, fetch: checkedBeforeSending(fetch, check) } : request };
  }

  repository(repo: RepoCoordinates): Promise<RepositoryNow> {
    const read = async () => repositoryNowOf((await this.octokit.rest.repos.get(repo)).data);
    // A burst of votes on one repository's requests shares a few reads, each started after the vote came.
    const { shared } = this.app;
    return shared ? shared.repositories.read(sharedKey(shared, repo), read) : read();
  }

  async defaultBranch(repo: RepoCoordinates): Promise<string> {
    const { data } = await this.octokit.rest.repos.get(repo);
    return data.default_branch;
  }

  defaultBranchHead(repo: RepoCoordinates): Promise<string> {
    const read = async () => {
      // Without `sha`, GitHub lists the default branch's history, newest first: one request, where the
      // branch's name and then its head would be two.
      const { data } = await this.octokit.rest.repos.listCommits({ ...repo, per_page: 1 });
      const head = data[0]?.sha;
      if (head === undefined) throw new Error(`${repo.owner}/${repo.repo}: GitHub listed no commit on the default branch`);
      return head;
    };
    const { shared } = this.app;
    return shared ? shared.branchHeads.read(sharedKey(shared, repo), read) : read();
  }

  async branchHead(repo: RepoCoordinates, branch: string): Promise<string | undefined> {
    try {
      // The branch endpoint, not `commits?sha=<name>`, which takes a tag of the same name first, as git does.
      // Octokit sends a "/" in the name (`release/1.x`) as %2F.
      const { data } = await this.octokit.rest.repos.getBranch({ ...repo, branch });
      // A renamed branch's old name redirects to the new one, which is another branch.
      return data.name === branch ? data.commit.sha : undefined;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async pullBaseChangedAt(repo: RepoCoordinates, number: number): Promise<string | undefined> {
    const events = await this.octokit.paginate(this.octokit.rest.issues.listEvents, { ...repo, issue_number: number, per_page: 100 });
    // GitHub's own retarget, when the branch a pull request merged into is merged and deleted, is an event of its own.
    return events.filter((event) => BASE_CHANGES.has(event.event)).map((event) => event.created_at).sort().at(-1);
  }

  async branchChangesSince(repo: RepoCoordinates, branch: string, since: string): Promise<BranchChanges> {
    const changes: BranchChanges['changes'] = [];
    let pages = 0;
    for await (const { data } of this.octokit.paginate.iterator(this.octokit.rest.repos.listActivities, { ...repo, ref: `refs/heads/${branch}`, direction: 'desc', per_page: 100 })) {
      for (const activity of data) {
        if (Date.parse(activity.timestamp) < Date.parse(since)) return { changes, complete: true };
        changes.push({ before: activity.before, after: activity.after, timestamp: activity.timestamp });
      }
      if (++pages >= BRANCH_CHANGE_PAGES) return { changes, complete: false };
    }
    return { changes, complete: true };
  }

  async fileAt(repo: RepoCoordinates, path: string, ref: string): Promise<string | undefined> {
    try {
      const { data } = await this.octokit.rest.repos.getContent({ ...repo, path, ref });
      if (Array.isArray(data) || data.type !== 'file') return undefined;
      // Over 1 MB GitHub sends no content here (`encoding: none`): read as empty, a large CODEOWNERS would own nothing.
      const bytes = data.encoding === 'none' ? await this.rawFileAt(repo, path, ref) : Buffer.from(data.content, 'base64');
      const text = decodeUtf8(bytes);
      if (text === undefined) throw new FileNotUtf8(repo, path);
      return text;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /**
   * A file's bytes through the raw media type, the only one GitHub sends a file over 1 MB in: as
   * bytes, since Octokit would decode them as text, replacing what is not UTF-8.
   */
  private async rawFileAt(repo: RepoCoordinates, path: string, ref: string): Promise<Uint8Array> {
    const { data } = await this.octokit.rest.repos.getContent({ ...repo, path, ref, mediaType: { format: 'raw' }, request: { parseSuccessResponseBody: false } });
    const body = data as unknown;
    if (!(body instanceof ReadableStream)) throw new Error(`${repo.owner}/${repo.repo}: GitHub sent ${path} at ${ref} in no raw form`);
    return new Uint8Array(await new Response(body).arrayBuffer());
  }

  async pullRequest(repo: RepoCoordinates, number: number): Promise<PullRequestInfo> {
    const { data } = await this.octokit.rest.pulls.get({ ...repo, pull_number: number });
    return {
      number: data.number,
      headSha: data.head.sha,
      // A fork's branch (`main`, say) is no branch of this repository: it goes by GitHub's label, `owner:branch`.
      headRef: data.head.repo?.id === data.base.repo.id ? data.head.ref : data.head.label,
      baseRef: data.base.ref,
      defaultBranch: data.base.repo.default_branch,
      author: data.user.login,
      authorId: String(data.user.id),
      labels: data.labels.map((label) => label.name),
      htmlUrl: data.html_url,
      createdAt: data.created_at,
    };
  }

  async mergedPullsOf(repo: RepoCoordinates, sha: string): Promise<MergedPull[]> {
    // Every page: off the default branch GitHub lists open pull requests too, and anyone may open those.
    const pulls = await this.octokit.paginate(this.octokit.rest.repos.listPullRequestsAssociatedWithCommit, { ...repo, commit_sha: sha, per_page: 100 });
    // A pull request whose author's account is gone (GitHub's ghost) names nobody who could vote.
    return pulls.flatMap((pull) => (pull.merged_at && pull.user ? [{ number: pull.number, author: pull.user.login, authorId: String(pull.user.id) }] : []));
  }

  async pullRequestFiles(repo: RepoCoordinates, number: number): Promise<ChangedFiles> {
    const files = await this.octokit.paginate(this.octokit.rest.pulls.listFiles, { ...repo, pull_number: number, per_page: 100 });
    return { files: changedPaths(files), complete: files.length < MAX_PULL_FILES };
  }

  async compareFiles(repo: RepoCoordinates, base: string, head: string): Promise<Comparison> {
    // With paging parameters the files come on the first page only, up to 300 for the whole comparison.
    const { data } = await this.octokit.rest.repos.compareCommitsWithBasehead({ ...repo, basehead: `${base}...${head}`, per_page: COMPARE_COMMITS_PAGE, page: 1 });
    const files = data.files ?? [];
    // No `files` at all for a non-empty comparison: GitHub gave up on the diff.
    const complete = files.length < MAX_COMPARE_FILES && (data.files !== undefined || data.status === 'identical');
    const commits = data.commits.map((commit) => ({ sha: commit.sha, parents: commit.parents.map((parent) => parent.sha) }));
    return { files: changedPaths(files), complete, status: data.status, commits };
  }

  async commitParents(repo: RepoCoordinates, sha: string): Promise<string[]> {
    const { data } = await this.octokit.rest.repos.getCommit({ ...repo, ref: sha, per_page: 1 });
    return data.parents.map((parent) => parent.sha);
  }

  async permission(repo: RepoCoordinates, login: string): Promise<RepositoryAccess> {
    try {
      const { data } = await this.octokit.rest.repos.getCollaboratorPermissionLevel({ ...repo, username: login });
      // role_name carries the fine levels (triage, maintain) that `permission` folds away.
      const level = (data as { role_name?: string }).role_name ?? data.permission;
      const permission = PERMISSION_LEVELS.has(level) ? (level as RepositoryPermission) : data.permission === 'none' ? 'none' : 'read';
      return data.user ? { permission, account: { login: data.user.login, id: String(data.user.id), type: data.user.type } } : { permission };
    } catch (err) {
      if (isNotFound(err)) return { permission: 'none' };
      throw err;
    }
  }

  async isTeamMember(org: string, teamSlug: string, login: string): Promise<boolean> {
    try {
      const { data } = await this.octokit.rest.teams.getMembershipForUserInOrg({ org, team_slug: teamSlug, username: login });
      return data.state === 'active';
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  async user(login: string): Promise<GitHubUser> {
    const { data } = await this.octokit.rest.users.getByUsername({ username: login });
    return { login: data.login, id: String(data.id), type: data.type };
  }

  async createCheckRun(repo: WriteTarget, content: CheckRunContent): Promise<CheckRunRef> {
    const { data } = await this.octokit.rest.checks.create({ ...this.addressed(repo, NO_BLIND_RETRY), head_sha: content.headSha, ...checkRunFields(content) });
    return { id: data.id, htmlUrl: data.html_url ?? '' };
  }

  async checkRunState(repo: RepoCoordinates, id: number): Promise<CheckRunState> {
    const { data } = await this.octokit.rest.checks.get({ ...repo, check_run_id: id });
    const buttons = (data as { actions?: Array<{ identifier: string }> }).actions ?? [];
    return { conclusion: data.conclusion, buttons: buttons.map((b) => b.identifier) };
  }

  async listComments(repo: RepoCoordinates, issueNumber: number, since: Date): Promise<IssueComment[]> {
    const comments = await this.octokit.paginate(this.octokit.rest.issues.listComments, { ...repo, issue_number: issueNumber, since: since.toISOString(), per_page: 100 });
    return comments.map((c) => ({
      id: c.id,
      body: c.body ?? '',
      createdAt: c.created_at,
      updatedAt: c.updated_at,
      author: { login: c.user?.login ?? '', id: String(c.user?.id ?? ''), type: c.user?.type ?? 'User' },
    }));
  }

  async findCheckRun(repo: RepoCoordinates, sha: string, name: string, externalId: string): Promise<CheckRunRef | undefined> {
    // One commit can carry more than a page of them: a matrix of jobs gated on one action.
    const pages = this.octokit.paginate.iterator(this.octokit.rest.checks.listForRef, { ...repo, ref: sha, check_name: name, filter: 'all', per_page: 100 });
    for await (const { data } of pages) {
      const found = data.find((run) => run.external_id === externalId && run.app?.id === this.app.appId);
      if (found) return { id: found.id, htmlUrl: found.html_url ?? '' };
    }
    return undefined;
  }

  async updateCheckRun(repo: WriteTarget, id: number, content: CheckRunContent): Promise<CheckRunRef> {
    const { data } = await this.octokit.rest.checks.update({ ...this.addressed(repo), check_run_id: id, ...checkRunFields(content) });
    return { id: data.id, htmlUrl: data.html_url ?? '' };
  }

  async createComment(repo: WriteTarget, issueNumber: number, body: string): Promise<CommentRef> {
    const { data } = await this.octokit.rest.issues.createComment({ ...this.addressed(repo, NO_BLIND_RETRY), issue_number: issueNumber, body });
    return { id: data.id, htmlUrl: data.html_url };
  }

  async findComment(repo: RepoCoordinates, issueNumber: number, marker: string, since: Date): Promise<CommentRef | undefined> {
    const bot = await this.app.botLogin();
    const comments = await this.octokit.paginate(this.octokit.rest.issues.listComments, { ...repo, issue_number: issueNumber, since: since.toISOString(), per_page: 100 });
    const found = comments.find((c) => c.user?.login === bot && carriesMarker(c.body ?? '', marker));
    return found && { id: found.id, htmlUrl: found.html_url };
  }

  async findIssue(repo: RepoCoordinates, marker: string, since: Date): Promise<IssueRef | undefined> {
    const bot = await this.app.botLogin();
    const issues = await this.octokit.paginate(this.octokit.rest.issues.listForRepo, { ...repo, state: 'all', creator: bot, since: since.toISOString(), per_page: 100 });
    const found = issues.find((i) => !i.pull_request && carriesMarker(i.body ?? '', marker));
    return found && { number: found.number, htmlUrl: found.html_url };
  }

  async updateComment(repo: WriteTarget, commentId: number, body: string): Promise<CommentRef> {
    const { data } = await this.octokit.rest.issues.updateComment({ ...this.addressed(repo), comment_id: commentId, body });
    return { id: data.id, htmlUrl: data.html_url };
  }

  async createIssue(repo: WriteTarget, title: string, body: string): Promise<IssueRef> {
    const { data } = await this.octokit.rest.issues.create({ ...this.addressed(repo, NO_BLIND_RETRY), title, body });
    return { number: data.number, htmlUrl: data.html_url };
  }

  async updateIssue(repo: WriteTarget, issueNumber: number, body: string, close?: 'completed' | 'not_planned'): Promise<void> {
    await this.octokit.rest.issues.update({ ...this.addressed(repo), issue_number: issueNumber, body, ...(close ? { state: 'closed', state_reason: close } : {}) });
  }

  async reviewDeployment(repo: RepoCoordinates, runId: number, review: DeploymentReview): Promise<void> {
    const body = { environment_name: review.environmentName, comment: review.comment };
    await this.octokit.request('POST /repos/{owner}/{repo}/actions/runs/{run_id}/deployment_protection_rule', {
      ...this.addressed({ ...repo, beforeSending: review.stillDue }),
      run_id: runId,
      ...(review.state ? { ...body, state: review.state } : body),
    });
  }

  async installationRepositories(): Promise<Array<RepoCoordinates & { id: string }>> {
    const repositories = await this.octokit.paginate(this.octokit.rest.apps.listReposAccessibleToInstallation, { per_page: 100 });
    return repositories.map((r) => ({ owner: r.owner.login, repo: r.name, id: String(r.id) }));
  }

  async runAttemptStarter(repo: RepoCoordinates, runId: number, attempt: number): Promise<{ login: string; id: string } | undefined> {
    const { data } = await this.octokit.rest.actions.getWorkflowRunAttempt({ ...repo, run_id: runId, attempt_number: attempt, exclude_pull_requests: true });
    const actor = data.triggering_actor;
    return actor ? { login: actor.login, id: String(actor.id) } : undefined;
  }

  async workflowRun(repo: RepoCoordinates, runId: number): Promise<WorkflowRunInfo> {
    const { data } = await this.octokit.rest.actions.getWorkflowRun({ ...repo, run_id: runId, exclude_pull_requests: true });
    const person = (user: { login: string; id: number } | null | undefined) => (user ? { login: user.login, id: String(user.id) } : undefined);
    return { attempt: data.run_attempt ?? 1, starter: person(data.actor), attemptStarter: person(data.triggering_actor), ...(data.run_started_at ? { startedAt: data.run_started_at } : {}), createdAt: data.created_at };
  }

  async waitingRuns(repo: RepoCoordinates): Promise<WaitingRun[]> {
    const runs = await this.octokit.paginate(this.octokit.rest.actions.listWorkflowRunsForRepo, { ...repo, status: 'waiting', per_page: 100 });
    return runs.map((run) => {
      const actor = run.triggering_actor ?? run.actor;
      return {
        id: run.id,
        attempt: run.run_attempt ?? 1,
        ...(run.run_started_at ? { startedAt: run.run_started_at } : {}),
        headSha: run.head_sha,
        headBranch: run.head_branch ?? null,
        event: run.event,
        ...(actor ? { triggeringActor: { login: actor.login, id: String(actor.id) } } : {}),
        // The run's pull request merges into this repository from the run's branch; GitHub lists others too (one into a fork's upstream, say).
        pullNumbers: (run.pull_requests ?? []).filter((pull) => pull.base.repo.id === run.repository.id && pull.head.ref === run.head_branch).map((pull) => pull.number),
      };
    });
  }

  async pendingEnvironments(repo: RepoCoordinates, runId: number): Promise<string[]> {
    const { data } = await this.octokit.rest.actions.getPendingDeploymentsForRun({ ...repo, run_id: runId });
    return data.flatMap((pending) => (pending.environment.name ? [pending.environment.name] : []));
  }

  async protectionRuleApps(repo: RepoCoordinates, environment: string): Promise<number[]> {
    const { data } = await this.octokit.rest.repos.getAllDeploymentProtectionRules({ ...repo, environment_name: environment });
    return (data.custom_deployment_protection_rules ?? []).filter((rule) => rule.enabled).map((rule) => rule.app.id);
  }

  async deployments(repo: RepoCoordinates, sha: string, environment: string): Promise<DeploymentInfo[]> {
    const { data } = await this.octokit.rest.repos.listDeployments({ ...repo, sha, environment, per_page: 100 });
    return data
      .map((d) => ({ id: d.id, sha: d.sha, ref: d.ref, environment: d.environment, createdAt: d.created_at, ...(d.creator ? { creator: { login: d.creator.login, id: String(d.creator.id) } } : {}) }))
      .sort((a, b) => b.id - a.id);
  }
}

/** Renames and removals count under both names: moving a file out of a gated path must not dodge the gate. */
function changedPaths(files: Array<{ filename: string; previous_filename?: string }>): string[] {
  const paths = new Set<string>();
  for (const file of files) {
    paths.add(file.filename);
    if (file.previous_filename) paths.add(file.previous_filename);
  }
  return [...paths];
}

function checkRunFields(content: CheckRunContent) {
  const annotations = content.annotations?.map((a) => ({
    path: a.path,
    start_line: a.startLine,
    end_line: a.endLine,
    annotation_level: a.level,
    message: a.message,
    ...(a.title ? { title: a.title } : {}),
  }));
  return {
    name: content.name,
    external_id: content.externalId,
    details_url: content.detailsUrl,
    status: 'completed' as const,
    conclusion: content.conclusion,
    ...(content.at ? { started_at: content.at } : {}),
    completed_at: content.at ?? new Date().toISOString(),
    output: {
      title: content.title,
      summary: content.summary,
      ...(content.text ? { text: content.text } : {}),
      ...(annotations && annotations.length > 0 ? { annotations } : {}),
    },
    actions: content.buttons,
  };
}

/**
 * The App writes a marker as the first line of a thread's body or the last of a reply's. Anywhere else
 * it is text the App quoted (a commenter's, a workflow's): taken for the marker, it would make a retry
 * rewrite the wrong comment, or skip a reply never sent.
 */
function carriesMarker(body: string, marker: string): boolean {
  return body.startsWith(marker) || body.trimEnd().endsWith(marker);
}
