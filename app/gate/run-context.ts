/**
 * What GitHub knows about the run a token speaks for: where its check run goes, which branch and
 * PR it belongs to, and which files it changes (the PR's files, the pushed range, or the commit).
 *
 * The changed files decide which rules match, so a list that may be short is never used: when GitHub
 * cannot say what a run changes (no such push in its activity, a capped list, an API error), the
 * request fails closed with a `RunContextError` that says so.
 */
import type { ChangedFiles, GitHubClient, PullRequestInfo, RefActivity, RepoCoordinates } from '../github/github.js';
import type { RunIdentity } from '../oidc.js';

export interface RunContext {
  headSha: string;
  pull?: PullRequestInfo;
  branch?: string;
  targetBranch?: string;
  labels: string[];
  changedFiles: string[];
}

/** A run GitHub's facts contradict, or whose changes cannot be established; the request fails closed with this message. */
export class RunContextError extends Error {}

const PULL_REF = /^refs\/pull\/(\d+)\/(?:merge|head)$/;
const NO_COMMIT = /^0+$/;

const short = (sha: string) => sha.slice(0, 7);
const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

function undetermined(why: string): RunContextError {
  return new RunContextError(`the changed files could not be determined: ${why}; failing closed rather than deciding on a partial list`);
}

function completeOrFail(list: ChangedFiles, what: string): string[] {
  if (!list.complete) throw undetermined(`GitHub's list of ${what} may be truncated (it lists only so many files)`);
  return list.files;
}

export async function loadRunContext(github: GitHubClient, repo: RepoCoordinates, run: RunIdentity, defaultBranch: string): Promise<RunContext> {
  const pullNumber = PULL_REF.exec(run.ref)?.[1];
  if (pullNumber) return pullRequestContext(github, repo, run, Number(pullNumber));
  const branch = run.ref.startsWith('refs/heads/') ? run.ref.slice('refs/heads/'.length) : undefined;
  const changedFiles = run.eventName === 'push'
    ? await pushedFiles(github, repo, run, defaultBranch)
    : completeOrFail(await github.commit(repo, run.sha), `the files of commit ${short(run.sha)}`);
  return { headSha: run.sha, branch, labels: [], changedFiles };
}

async function pullRequestContext(github: GitHubClient, repo: RepoCoordinates, run: RunIdentity, number: number): Promise<RunContext> {
  const [pull, parents] = await Promise.all([github.pullRequest(repo, number), github.commitParents(repo, run.sha)]);
  // The run tested merge commit (base, head-at-run-time). If the PR moved since, approving it would
  // approve code the reviewers no longer see on the PR.
  if (parents.length === 2 && parents[1] !== pull.headSha) {
    throw new RunContextError(
      `pull request #${number} was updated after this run started (run tested ${parents[1].slice(0, 7)}, head is now ${pull.headSha.slice(0, 7)}); re-run the workflow on the new head`,
    );
  }
  return {
    headSha: pull.headSha,
    pull,
    branch: pull.headRef,
    targetBranch: pull.baseRef,
    labels: pull.labels,
    changedFiles: completeOrFail(await github.pullRequestFiles(repo, number), `pull request #${number}'s files`),
  };
}

/**
 * Every file the push that produced `run.sha` changed, not just its last commit: GitHub's activity of the
 * ref gives the push (`before` → `after`), and compare gives the files of that range.
 */
async function pushedFiles(github: GitHubClient, repo: RepoCoordinates, run: RunIdentity, defaultBranch: string): Promise<string[]> {
  let pushes: RefActivity[];
  try {
    pushes = await github.activitiesTo(repo, run.ref, run.sha);
  } catch (err) {
    throw undetermined(`GitHub's repository activity could not be read (${messageOf(err)})`);
  }
  if (!pushes.length) throw undetermined(`GitHub's repository activity lists no push of ${short(run.sha)} to ${run.ref}`);
  const files = new Set<string>();
  try {
    // The same commit pushed more than once (e.g. a branch reset back to it): the union of every such push.
    for (const push of pushes) for (const file of await filesOfPush(github, repo, push, defaultBranch)) files.add(file);
  } catch (err) {
    if (err instanceof RunContextError) throw err;
    throw undetermined(`GitHub's comparison of the pushed range failed (${messageOf(err)})`);
  }
  return [...files];
}

async function filesOfPush(github: GitHubClient, repo: RepoCoordinates, push: RefActivity, defaultBranch: string): Promise<string[]> {
  if (NO_COMMIT.test(push.before)) {
    if (push.ref !== `refs/heads/${defaultBranch}`) return rangeFiles(github, repo, defaultBranch, push.after);
    // The push created the default branch itself: all of it is new. Only a root commit lists that in full.
    const commit = await github.commit(repo, push.after);
    if (commit.parents.length) throw undetermined(`the push created the default branch ${defaultBranch} with history, so everything in it is new`);
    return completeOrFail(commit, `the files of commit ${short(push.after)}`);
  }
  const forward = await github.compareFiles(repo, push.before, push.after);
  const files = completeOrFail(forward, `the files changed from ${short(push.before)} to ${short(push.after)}`);
  if (forward.status === 'ahead' || forward.status === 'identical') return files;
  // A force push (or reset) dropped commits: the files they changed change back, so they count too.
  const dropped = await github.compareFiles(repo, push.after, push.before);
  return [...files, ...completeOrFail(dropped, `the files of the commits the push dropped from ${short(push.before)}`)];
}

async function rangeFiles(github: GitHubClient, repo: RepoCoordinates, base: string, head: string): Promise<string[]> {
  return completeOrFail(await github.compareFiles(repo, base, head), `the files changed from ${base} to ${short(head)}`);
}
