/**
 * History beyond plain pushes: force pushes, branch deletions, pull-request merges (each one entry of the
 * repository's activity, as GitHub records them), and pushed commits that rename files.
 */
import { ancestry } from './git.js';
import { NO_COMMIT, timestamp, type DoubleState } from './state.js';
import type { Activity, Commit, FileMap, Pull, Repo, User } from './types.js';

/** A refusal of the control API: the change is not one GitHub would make. */
export class HistoryError extends Error {}

function openPullsOn(state: DoubleState, repo: Repo, branch: string): Pull[] {
  return [...(state.pulls.get(repo.id)?.values() ?? [])]
    .filter((p) => ((p.headRef === branch && p.headRepoId === undefined) || p.baseRef === branch) && state.issue(repo, p.number)?.state === 'open');
}

/** Points `branch` at `to` (null deletes it), records the activity and brings open pull requests along. */
function moveBranch(state: DoubleState, repo: Repo, branch: string, to: string | null, actor: string, type: Activity['type']): Activity {
  const before = repo.branches.get(branch) ?? NO_COMMIT;
  if (to === null) repo.branches.delete(branch);
  else repo.branches.set(branch, to);
  repo.pushedAt = timestamp();
  const activity = state.recordActivity(repo, branch, before, to ?? NO_COMMIT, actor, type);
  for (const pull of openPullsOn(state, repo, branch)) state.refreshPullCommits(repo, pull);
  return activity;
}

/**
 * Moves an existing branch to any commit of the repository. GitHub records a `force_push` when the old head
 * is not in the new head's history, and a plain `push` when the move only fast-forwards.
 */
export function forcePush(state: DoubleState, repo: Repo, branch: string, sha: string, actor: string): Activity {
  const before = repo.branches.get(branch);
  if (!before) throw new HistoryError(`${repo.fullName}: no branch ${branch} to force-push`);
  const target = state.resolveRef(repo, sha);
  if (!target || target.sha !== sha) throw new HistoryError(`${repo.fullName}: no commit ${sha}`);
  const fastForward = ancestry(repo.commits, sha).some((c) => c.sha === before);
  return moveBranch(state, repo, branch, sha, actor, fastForward ? 'push' : 'force_push');
}

/**
 * Deletes a branch (`after` is 40 zeros). The default branch cannot be deleted; neither can a branch an open
 * pull request uses, since GitHub would then close or retarget the pull request, which the double does not model.
 */
export function deleteBranch(state: DoubleState, repo: Repo, branch: string, actor: string): Activity {
  if (!repo.branches.has(branch)) throw new HistoryError(`${repo.fullName}: no branch ${branch}`);
  if (branch === repo.defaultBranch) throw new HistoryError(`${repo.fullName}: the default branch ${branch} cannot be deleted`);
  const using = openPullsOn(state, repo, branch).map((p) => `#${p.number}`);
  if (using.length) throw new HistoryError(`${repo.fullName}: branch ${branch} is used by open pull request ${using.join(', ')}`);
  return moveBranch(state, repo, branch, null, actor, 'branch_deletion');
}

/**
 * Merges an open pull request with a merge commit (the test-merge tree, parents base and head), moves the base
 * branch there as a `pr_merge` activity, closes the pull request and announces `pull_request.closed`.
 */
export function mergePull(state: DoubleState, repo: Repo, number: number, merger: User): { pull: Pull; commit: Commit } {
  const pull = state.pull(repo, number);
  const issue = state.issue(repo, number);
  if (!pull || !issue) throw new HistoryError(`${repo.fullName}: no pull request #${number}`);
  if (pull.merged || issue.state !== 'open') throw new HistoryError(`${repo.fullName}#${number} is not open`);
  if (pull.draft) throw new HistoryError(`${repo.fullName}#${number} is still a draft`);
  const testMerge = repo.commits.get(pull.mergeSha) as Commit;
  const owner = state.headRepoOf(repo, pull).owner.login;
  const commit = state.addCommit(repo, {
    parents: [pull.baseSha, pull.headSha], files: new Map(testMerge.files), author: merger.login, salt: `merge/${number}`,
    message: `Merge pull request #${number} from ${owner}/${pull.headRef}`,
  });
  // The base moves after the pull request is marked merged, so it keeps its base and head as they were.
  Object.assign(pull, { merged: true, mergedAt: commit.date, mergedBy: merger, mergeSha: commit.sha });
  moveBranch(state, repo, pull.baseRef, commit.sha, merger.login, 'pr_merge');
  state.updateIssue(repo, issue, { state: 'closed', stateReason: 'completed' });
  state.announce({ name: 'pull_request', action: 'closed', repo, sender: merger, body: { number, pull } });
  return { pull, commit };
}

/**
 * The file changes of commits that also rename files (`renames`: old path → new path), applied in order on
 * top of `branch`: a renamed file keeps its content unless the commit's `files` give the new path another.
 */
export function withRenames(repo: Repo, branch: string, commits: Array<{ files?: FileMap; renames?: Record<string, string> }>): FileMap[] {
  const head = repo.branches.get(branch) ?? repo.branches.get(repo.defaultBranch);
  const tree = new Map(head ? repo.commits.get(head)?.files : undefined);
  return commits.map(({ files = {}, renames = {} }) => {
    const changes: FileMap = {};
    for (const [from, to] of Object.entries(renames)) {
      const content = tree.get(from);
      if (content === undefined) throw new HistoryError(`${repo.fullName}: cannot rename ${from} on ${branch}: no such file`);
      changes[from] = null;
      changes[to] = content;
    }
    Object.assign(changes, files);
    for (const [path, content] of Object.entries(changes)) {
      if (content === null) tree.delete(path);
      else tree.set(path, content);
    }
    return changes;
  });
}
