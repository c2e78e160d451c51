/**
 * What GitHub knows about the run a token speaks for: where its check run goes, which branch and
 * PR it belongs to, and which files it changes (the PR's files, the pushed range, or the commit).
 */
import type { GitHubClient, PullRequestInfo, RepoCoordinates } from '../github/github.js';
import type { RunIdentity } from '../oidc.js';

export interface RunContext {
  headSha: string;
  pull?: PullRequestInfo;
  branch?: string;
  targetBranch?: string;
  labels: string[];
  changedFiles: string[];
}

/** A run GitHub's facts contradict; the request fails closed with this message. */
export class RunContextError extends Error {}

const PULL_REF = /^refs\/pull\/(\d+)\/(?:merge|head)$/;
const NO_COMMIT = /^0+$/;

export async function loadRunContext(github: GitHubClient, repo: RepoCoordinates, run: RunIdentity): Promise<RunContext> {
  const pullNumber = PULL_REF.exec(run.ref)?.[1];
  if (pullNumber) return pullRequestContext(github, repo, run, Number(pullNumber));
  const branch = run.ref.startsWith('refs/heads/') ? run.ref.slice('refs/heads/'.length) : undefined;
  return { headSha: run.sha, branch, labels: [], changedFiles: await changedFilesOf(github, repo, run) };
}

async function pullRequestContext(github: GitHubClient, repo: RepoCoordinates, run: RunIdentity, number: number): Promise<RunContext> {
  const [pull, mergeCommit] = await Promise.all([github.pullRequest(repo, number), github.commit(repo, run.sha)]);
  // The run tested merge commit (base, head-at-run-time). If the PR moved since, approving it would
  // approve code the reviewers no longer see on the PR.
  if (mergeCommit.parents.length === 2 && mergeCommit.parents[1] !== pull.headSha) {
    throw new RunContextError(
      `pull request #${number} was updated after this run started (run tested ${mergeCommit.parents[1].slice(0, 7)}, head is now ${pull.headSha.slice(0, 7)}); re-run the workflow on the new head`,
    );
  }
  return {
    headSha: pull.headSha,
    pull,
    branch: pull.headRef,
    targetBranch: pull.baseRef,
    labels: pull.labels,
    changedFiles: await github.pullRequestFiles(repo, number),
  };
}

async function changedFilesOf(github: GitHubClient, repo: RepoCoordinates, run: RunIdentity): Promise<string[]> {
  if (run.eventName === 'push') {
    const before = await github.pushedFrom(repo, run.ref, run.sha);
    if (before && !NO_COMMIT.test(before)) return github.compareFiles(repo, before, run.sha);
  }
  return (await github.commit(repo, run.sha)).files;
}
