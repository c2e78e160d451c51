/**
 * What GitHub knows about the run a token speaks for: where its check run goes, which branch and
 * PR it belongs to, and which files it changes.
 *
 * "What changes" is what would reach the environment if this request were approved: for a pull
 * request run, the PR's files; for any other run whose code is its own commit, the files changed
 * since the commit of the last approved request of the same action and environment, when that commit
 * is an ancestor of this one. Where that base cannot be established (the first run, a force push or
 * rollback, an event that runs code other than its commit, a list GitHub cuts short) the change set
 * is **unknown**, said with the reason, and the policy treats it as the worst case. A run whose facts
 * GitHub contradicts fails closed with a `RunContextError`.
 */
import type { ChangedFiles, GitHubClient, PullRequestInfo, RepoCoordinates } from '../github/github.js';
import type { PolicyCache } from './policy-source.js';

export interface RunContext {
  headSha: string;
  pull?: PullRequestInfo;
  branch?: string;
  targetBranch?: string;
  labels: string[];
  changedFiles: string[];
  /** Why the change set is unknown; undefined when `changedFiles` is the whole of it. */
  unknownChanges?: string;
}

/** The approved request a non-PR run is compared with (see the header), if there is one. */
export interface ApprovedBase {
  /** The commit it approved. */
  sha: string;
  /** How people recognise it in a reason: "request 1b2c… (run 123)". */
  label: string;
}

/** A run GitHub's facts contradict, or whose changes cannot be established; the request fails closed with this message. */
export class RunContextError extends Error {}

const PULL_REF = /^refs\/pull\/(\d+)\/(?:merge|head)$/;

/**
 * Events whose run builds and deploys the commit the token names. Other events (`pull_request_target`,
 * `issue_comment`, `workflow_run`, reviews, …) run the default branch's workflow about something
 * else, often a pull request's head, which the token does not name: their change set is unknown.
 */
const RUNS_ITS_OWN_COMMIT = new Set(['push', 'workflow_dispatch', 'schedule', 'repository_dispatch', 'merge_group', 'release', 'create', 'deployment']);

const short = (sha: string) => sha.slice(0, 7);

/** A list GitHub may have cut short is no list at all: the change set is then unknown. */
function filesOrUnknown(list: ChangedFiles, what: string): { changedFiles: string[]; unknownChanges?: string } {
  if (!list.complete) return { changedFiles: [], unknownChanges: `GitHub's list of ${what} may be truncated (it lists only so many files)` };
  // A copy: a comparison is shared by the requests evaluated on it.
  return { changedFiles: [...list.files] };
}

/**
 * `subject` names what the base is looked for ("deploy to production"); `base` is the last approved
 * request of it, if any.
 */
/** What the token said about the run's commit: the ref and sha it ran, and the event that started it. */
/** The branch a `refs/heads/…` ref names; undefined for tags, pull request refs and anything else. */
export function branchOfRef(ref: string): string | undefined {
  return ref.startsWith('refs/heads/') ? ref.slice('refs/heads/'.length) : undefined;
}

export interface RunCommit {
  ref: string;
  sha: string;
  eventName: string;
}

export async function loadRunContext(
  github: GitHubClient,
  repo: RepoCoordinates,
  run: RunCommit,
  comparison: { subject: string; base: ApprovedBase | undefined },
  cache: PolicyCache,
): Promise<RunContext> {
  const pullNumber = PULL_REF.exec(run.ref)?.[1];
  if (pullNumber) return pullRequestContext(github, repo, run, Number(pullNumber));
  const branch = branchOfRef(run.ref);
  const context = { headSha: run.sha, branch, labels: [] as string[], changedFiles: [] as string[] };
  if (!RUNS_ITS_OWN_COMMIT.has(run.eventName)) {
    return { ...context, unknownChanges: `a \`${run.eventName}\` run can run code other than its commit ${short(run.sha)}, and its token does not say which` };
  }
  const { base, subject } = comparison;
  if (!base) return { ...context, unknownChanges: `no earlier run of ${subject} was approved, so there is nothing to compare ${short(run.sha)} with` };
  const since = await changesSince(github, repo, base, run.sha, subject, cache);
  return { ...context, ...since };
}

/**
 * Who started this attempt of the run, when it is a re-run: the token's `actor` is whoever started the
 * first attempt, so whoever pressed Re-run is only known from GitHub. Undefined for a first attempt.
 */
export async function rerunStarter(github: GitHubClient, repo: RepoCoordinates, runId: string, attempt: string): Promise<{ login: string; id: string } | undefined> {
  if (Number(attempt) <= 1) return undefined;
  try {
    const starter = await github.runAttemptStarter(repo, Number(runId), Number(attempt));
    if (!starter) throw new RunContextError(`GitHub does not say who started attempt ${attempt} of run ${runId}, who may not approve it`);
    return starter;
  } catch (err) {
    const status = (err as { status?: number }).status;
    if (status === 404) throw new RunContextError(`GitHub does not know attempt ${attempt} of run ${runId}, so who started it (and may not approve it) is unknown`);
    if (status === 403) throw new RunContextError(`the App may not read attempt ${attempt} of run ${runId} to learn who re-ran it: grant the App's installation the Actions (read) permission it asks for`);
    throw err;
  }
}

async function changesSince(
  github: GitHubClient,
  repo: RepoCoordinates,
  base: ApprovedBase,
  head: string,
  subject: string,
  cache: PolicyCache,
): Promise<{ changedFiles: string[]; unknownChanges?: string }> {
  let comparison: Awaited<ReturnType<GitHubClient['compareFiles']>>;
  try {
    // Requests on one commit, with one approved base, share the comparison.
    comparison = await cache.compareFiles(github, repo, base.sha, head);
  } catch (err) {
    // The base commit may be gone (a force push and garbage collection): then nothing can be compared.
    if ((err as { status?: number }).status === 404) {
      return { changedFiles: [], unknownChanges: `the last approved commit of ${subject}, ${short(base.sha)} (${base.label}), can no longer be compared with ${short(head)}` };
    }
    throw err;
  }
  if (comparison.status !== 'ahead' && comparison.status !== 'identical') {
    return {
      changedFiles: [],
      unknownChanges: `the last approved commit of ${subject}, ${short(base.sha)} (${base.label}), is not an ancestor of ${short(head)} (${comparison.status}: a force push, a rollback or another branch)`,
    };
  }
  return filesOrUnknown(comparison, `the files changed from ${short(base.sha)} (${base.label}) to ${short(head)}`);
}

async function pullRequestContext(github: GitHubClient, repo: RepoCoordinates, run: RunCommit, number: number): Promise<RunContext> {
  const [pull, parents] = await Promise.all([github.pullRequest(repo, number), github.commitParents(repo, run.sha)]);
  // The run tested merge commit (base, head-at-run-time). If the PR moved since, approving it would
  // approve code the reviewers no longer see on the PR.
  if (parents.length === 2 && parents[1] !== pull.headSha) {
    throw new RunContextError(
      `pull request #${number} was updated after this run started (run tested ${short(parents[1])}, head is now ${short(pull.headSha)}); re-run the workflow on the new head`,
    );
  }
  return {
    headSha: pull.headSha,
    pull,
    branch: pull.headRef,
    targetBranch: pull.baseRef,
    labels: pull.labels,
    ...filesOrUnknown(await github.pullRequestFiles(repo, number), `pull request #${number}'s files`),
  };
}
