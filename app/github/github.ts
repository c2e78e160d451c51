/**
 * Every GitHub call the App makes goes through this one interface, bound to one installation.
 * The gate and the webhook handlers depend on it, never on Octokit, so the rules stay readable.
 */
import type { PermissionLevel } from '../../policies/types.js';
import { NOT_UTF8 } from '../../policies/yaml-source.js';

export type RepoCoordinates = { owner: string; repo: string };

/**
 * A repository a write is addressed to by name, with a check run just before the write is sent, once
 * its turn among the installation's writes has come (that queue can hold it for seconds): what the
 * check throws stops the write. A rename meanwhile would send it to whatever holds the old name now.
 */
export type WriteTarget = RepoCoordinates & { beforeSending?: () => Promise<void> };

export type RepositoryPermission = PermissionLevel | 'none';

export interface PullRequestInfo {
  number: number;
  headSha: string;
  /** The head branch; a fork's as GitHub labels it, `owner:branch`, so that it is never taken for this repository's branch of that name. */
  headRef: string;
  baseRef: string;
  /** The repository's default branch, which GitHub names in the pull request's base. */
  defaultBranch: string;
  author: string;
  /** The author's account id (logins can be renamed). */
  authorId: string;
  labels: string[];
  htmlUrl: string;
  /** When it was opened: a run made before then is not of this pull request. */
  createdAt: string;
}

/** A merged pull request, and who opened it. */
export interface MergedPull {
  number: number;
  author: string;
  /** The author's account id (logins can be renamed). */
  authorId: string;
}

/** A person's access to a repository: the level, and which account the login named when GitHub answered. */
export interface RepositoryAccess {
  permission: RepositoryPermission;
  /** Absent when GitHub knows no such account (its answer is then a 404). */
  account?: GitHubUser;
}

export interface GitHubUser {
  login: string;
  id: string;
  /** GitHub's account type: `User`, `Bot` or `Organization`. */
  type: string;
}

/** Button on a completed check run; GitHub caps label and identifier at 20 characters, description at 40. */
export interface CheckRunButton {
  label: string;
  description: string;
  identifier: string;
}

export type CheckRunConclusion = 'action_required' | 'success' | 'failure' | 'timed_out' | 'cancelled';

/** A note on a line of a file in the repository; GitHub takes at most 50 per request. */
export interface CheckRunAnnotation {
  path: string;
  startLine: number;
  endLine: number;
  level: 'notice' | 'warning' | 'failure';
  message: string;
  title?: string;
}

export interface CheckRunContent {
  name: string;
  headSha: string;
  externalId: string;
  detailsUrl: string;
  conclusion: CheckRunConclusion;
  title: string;
  summary: string;
  text?: string;
  buttons: CheckRunButton[];
  /** At most 50: GitHub refuses more in one request (further ones go in updates, which add to them). */
  annotations?: CheckRunAnnotation[];
  /**
   * The time the check run says it started and completed; the time of sending unless given. Of the
   * check runs of one name on a commit, GitHub counts the latest by `completed_at`.
   */
  at?: string;
}

export interface CheckRunRef {
  id: number;
  htmlUrl: string;
}

/** What a check run shows now, to compare with what it should. */
export interface CheckRunState {
  conclusion: string | null;
  /** Its requested-action buttons' identifiers. */
  buttons: string[];
}

/** A comment as listed on an issue or pull request. */
export interface IssueComment {
  id: number;
  body: string;
  createdAt: string;
  updatedAt: string;
  author: { login: string; id: string; type: string };
}

export interface IssueRef {
  number: number;
  htmlUrl: string;
}

export interface CommentRef {
  id: number;
  htmlUrl: string;
}

/** Changed paths as GitHub listed them; `complete` is false when GitHub's cap may have cut the list short. */
export interface ChangedFiles {
  files: string[];
  complete: boolean;
}

/** How `head` relates to `base` in a comparison (GitHub's compare `status`). */
export type ComparisonStatus = 'ahead' | 'behind' | 'diverged' | 'identical';

export interface Comparison extends ChangedFiles {
  status: ComparisonStatus;
  /** Commits of `head` not in `base`, oldest first: GitHub's first page of them. */
  commits: Array<{ sha: string; parents: string[] }>;
}

/**
 * An answer to a custom deployment protection rule (`state`), or without one a status report shown
 * on the run (GitHub keeps at most 10 per deployment, each at most 1,024 characters).
 */
export interface DeploymentReview {
  environmentName: string;
  state?: 'approved' | 'rejected';
  comment: string;
  /** Runs just before the answer is sent, once its turn among the installation's writes has come; what it throws stops it. */
  stillDue?: () => Promise<void>;
}

/** A workflow run as GitHub shows it now. */
export interface WorkflowRunInfo {
  /** Its latest attempt (1 until it is re-run). */
  attempt: number;
  /** GitHub's `actor`: who started the run's first attempt. */
  starter?: { login: string; id: string };
  /** GitHub's `triggering_actor`: who started the latest attempt (pressed Re-run, say). */
  attemptStarter?: { login: string; id: string };
  /** GitHub's `run_started_at`: when the latest attempt started. */
  startedAt?: string;
  /** GitHub's `created_at`: when the run was made, which is when a pull request run's test merge was taken. */
  createdAt?: string;
}

/** A branch's changes from a moment on, newest first, as GitHub's repository activity lists them. */
export interface BranchChanges {
  changes: { before: string; after: string; timestamp: string }[];
  /** False when GitHub listed more than was read, so an earlier change may be missing. */
  complete: boolean;
}

/** A workflow run waiting for its jobs' environments' protection rules. */
export interface WaitingRun {
  id: number;
  /** Its latest attempt, the one that waits, and when it started (`run_started_at`). */
  attempt: number;
  startedAt?: string;
  headSha: string;
  /** The branch the run is for (null when GitHub names none). */
  headBranch: string | null;
  event: string;
  /** Who started this attempt of the run. */
  triggeringActor?: { login: string; id: string };
  /** The pull requests of this repository the run is about. */
  pullNumbers: number[];
}

/** A deployment GitHub made for a job that targets an environment. */
export interface DeploymentInfo {
  id: number;
  sha: string;
  ref: string;
  environment: string;
  creator?: { login: string; id: string };
  createdAt: string;
}

/** A repository as GitHub names it now, and its id, which stays with it through renames and transfers. */
export interface RepositoryNow extends RepoCoordinates {
  id: string;
}

/**
 * A file whose bytes are not UTF-8 text: refused, as `validate` refuses it, rather than decoded into
 * replacement characters that match nothing (a tightening rule's pattern would silently not apply).
 */
export class FileNotUtf8 extends Error {
  constructor(
    readonly repo: RepoCoordinates,
    readonly path: string,
  ) {
    super(`${repo.owner}/${repo.repo}:${path}: ${NOT_UTF8}`);
  }
}

export interface GitHubClient {
  /** The repository a name leads to now: a renamed one's old name leads to it under its new name, until another repository takes that name. */
  repository(repo: RepoCoordinates): Promise<RepositoryNow>;
  defaultBranch(repo: RepoCoordinates): Promise<string>;
  /** The commit at the tip of the default branch (one request). Files read at a commit never change, so they can be kept. */
  defaultBranchHead(repo: RepoCoordinates): Promise<string>;
  /** The commit at the tip of a branch as it is now (never a tag of that name), or undefined when there is no such branch. */
  branchHead(repo: RepoCoordinates, branch: string): Promise<string | undefined>;
  /** When the pull request's base branch was last changed (GitHub's `base_ref_changed` or `automatic_base_change_succeeded` issue event), if ever. */
  pullBaseChangedAt(repo: RepoCoordinates, number: number): Promise<string | undefined>;
  /** The branch's changes (pushes, force pushes, its creation or deletion) at or after `since`, newest first. */
  branchChangesSince(repo: RepoCoordinates, branch: string, since: string): Promise<BranchChanges>;
  /** The file's text at `ref`, or undefined when there is no such file; `FileNotUtf8` when its bytes are not UTF-8 text. */
  fileAt(repo: RepoCoordinates, path: string, ref: string): Promise<string | undefined>;
  pullRequest(repo: RepoCoordinates, number: number): Promise<PullRequestInfo>;
  /**
   * The merged pull requests GitHub associates with the commit: on the default branch, the one that
   * brought it in (for a merge commit, the pull request it merged).
   */
  mergedPullsOf(repo: RepoCoordinates, sha: string): Promise<MergedPull[]>;
  /** All pages of the PR's files (GitHub lists at most 3000). */
  pullRequestFiles(repo: RepoCoordinates, number: number): Promise<ChangedFiles>;
  /**
   * Files changed from the merge base of `base` and `head` to `head` (three-dot compare; GitHub lists at
   * most 300), and the first page of the commits in between (the oldest 100, each with its parents).
   */
  compareFiles(repo: RepoCoordinates, base: string, head: string): Promise<Comparison>;
  /** The commit's parents (one request). */
  commitParents(repo: RepoCoordinates, sha: string): Promise<string[]>;
  /** Their permission, and the account GitHub found under that login (it says which, in the same answer). */
  permission(repo: RepoCoordinates, login: string): Promise<RepositoryAccess>;
  isTeamMember(org: string, teamSlug: string, login: string): Promise<boolean>;
  user(login: string): Promise<GitHubUser>;
  createCheckRun(repo: WriteTarget, content: CheckRunContent): Promise<CheckRunRef>;
  /** The check run's conclusion and buttons (conditional: unchanged costs no rate limit). */
  checkRunState(repo: RepoCoordinates, id: number): Promise<CheckRunState>;
  /** This App's check run of that name and external id on the commit, if it made one. */
  findCheckRun(repo: RepoCoordinates, sha: string, name: string, externalId: string): Promise<CheckRunRef | undefined>;
  updateCheckRun(repo: WriteTarget, id: number, content: CheckRunContent): Promise<CheckRunRef>;
  createComment(repo: WriteTarget, issueNumber: number, body: string): Promise<CommentRef>;
  /** Every comment on the issue or pull request updated since `since` (conditional: an unchanged thread costs no rate limit). */
  listComments(repo: RepoCoordinates, issueNumber: number, since: Date): Promise<IssueComment[]>;
  /** A comment this App wrote on the issue since `since` whose body starts or ends with `marker` (to find what a failed attempt did create). */
  findComment(repo: RepoCoordinates, issueNumber: number, marker: string, since: Date): Promise<CommentRef | undefined>;
  updateComment(repo: WriteTarget, commentId: number, body: string): Promise<CommentRef>;
  createIssue(repo: WriteTarget, title: string, body: string): Promise<IssueRef>;
  /** An issue this App opened since `since` whose body starts or ends with `marker`. */
  findIssue(repo: RepoCoordinates, marker: string, since: Date): Promise<IssueRef | undefined>;
  /** Rewrites the issue's body and, with `close`, closes it for that reason, in one request. */
  updateIssue(repo: WriteTarget, issueNumber: number, body: string, close?: 'completed' | 'not_planned'): Promise<void>;
  /** Answers (or reports on) the deployment protection rule a run waits on; GitHub says 422 once it is answered. */
  reviewDeployment(repo: RepoCoordinates, runId: number, review: DeploymentReview): Promise<void>;
  /** The repositories this installation may access, with their ids. */
  installationRepositories(): Promise<Array<RepoCoordinates & { id: string }>>;
  /** Who started that attempt of the run (GitHub's `triggering_actor`: who pressed Re-run); undefined when GitHub names nobody. */
  runAttemptStarter(repo: RepoCoordinates, runId: number, attempt: number): Promise<{ login: string; id: string } | undefined>;
  /** The run as it is now: its latest attempt, who started the run and who started that attempt. */
  workflowRun(repo: RepoCoordinates, runId: number): Promise<WorkflowRunInfo>;
  /** The repository's runs waiting on a protection rule or reviewers (the first 100). */
  waitingRuns(repo: RepoCoordinates): Promise<WaitingRun[]>;
  /** The environments a waiting run's jobs wait on. */
  pendingEnvironments(repo: RepoCoordinates, runId: number): Promise<string[]>;
  /** The ids of the Apps whose deployment protection rule is enabled on the environment. */
  protectionRuleApps(repo: RepoCoordinates, environment: string): Promise<number[]>;
  /** Deployments of the commit to the environment, newest first. */
  deployments(repo: RepoCoordinates, sha: string, environment: string): Promise<DeploymentInfo[]>;
}

/** What GitHub hands back once, when an App registered from a manifest is confirmed. */
export interface RegisteredApp {
  id: number;
  slug: string;
  name: string;
  /** Who owns the App on GitHub (a user's or organization's login): they can change its key, webhook and permissions. */
  owner: string;
  /** The App's page on GitHub; `/installations/new` under it installs the App. */
  htmlUrl: string;
  /** PEM private key. */
  pem: string;
  webhookSecret: string;
  /** The App's OAuth credentials, which the dashboard signs people in with. */
  clientId: string;
  clientSecret: string;
}

/**
 * The manifest flow's exchange (`POST /app-manifests/{code}/conversions`): the one GitHub call made
 * before the App has credentials, so it is not bound to an installation.
 */
export interface AppRegistrar {
  convertManifest(code: string): Promise<RegisteredApp>;
}
