/**
 * What GitHub knows about the run a token or a job-level gate's deployment speaks for: where its
 * check run goes, which branch and PR it belongs to, which merged PR brought its commit in, and which
 * files it changes.
 *
 * "What changes" is what would reach the environment if this request were approved: for a pull
 * request run, the PR's files and what its base branch holds beyond that branch's last approved deploy
 * (or, never deployed, beyond the default branch's, else beyond the default branch); for any other
 * run whose code is its own commit, the files changed since the commit of the last approved request
 * of the same action and environment, when that commit is an ancestor of this one. Where that base cannot be established (the first run,
 * a force push or rollback, an event that runs code other than its commit, a list GitHub cuts short)
 * the change set is **unknown**, said with the reason, and the policy treats it as the worst case. A
 * run whose facts GitHub contradicts fails closed with a `RunContextError`.
 */
import { samePerson, type Requester } from '../../policies/approval.js';
import type { ChangedFiles, Comparison, GitHubClient, MergedPull, PullRequestInfo, RepoCoordinates } from '../github/github.js';
import { isTransient } from '../github/transient.js';
import type { DeploymentFacts } from './request.js';
import type { PolicyCache } from './policy-source.js';

export interface RunContext {
  headSha: string;
  pull?: PullRequestInfo;
  branch?: string;
  targetBranch?: string;
  /** For a pull request run: its base branch, when the merge ships changes of it no approved request covered. */
  unapprovedBase?: string;
  labels: string[];
  changedFiles: string[];
  /** Why the change set is unknown; undefined when `changedFiles` is the whole of it. */
  unknownChanges?: string;
  /**
   * For a run that is not a pull request's: the merged pull requests that brought its commit in and,
   * when it is compared with the last approved deploy, those of the commits the branch went through
   * since. Their authors wrote the code the run ships, so they are requesters too.
   */
  shippedPulls?: MergedPull[];
  /** For a pull request run's job: the base commit its merge took. */
  mergedInto?: string;
}

/** The approved request a run is compared with (see the header), if there is one. */
export interface ApprovedBase {
  /** The commit it approved. */
  sha: string;
  /** How people recognise it in a reason: "request 1b2c… (run 123)". */
  label: string;
}

/** What a run's changes are measured from. */
export interface ComparisonBases {
  /** The last approved request of the same action and environment on `ref`, and how reasons name what it was looked for ("`deploy` to `production` from `main`"). */
  lastApproved(ref: string): Promise<{ subject: string; base: ApprovedBase | undefined }>;
  /** The default branch's head: a pull request into a branch is measured from it when neither that branch nor the default branch was ever deployed. */
  defaultBranchHead: string;
}

/** A run GitHub's facts contradict, or whose changes cannot be established; the request fails closed with this message. */
export class RunContextError extends Error {}

const PULL_REF = /^refs\/pull\/(\d+)\/(?:merge|head)$/;
/** A merge queue entry's branch: `gh-readonly-queue/<base>/pr-<number>-<head sha>`. */
const MERGE_QUEUE_REF = /^refs\/heads\/gh-readonly-queue\/(.+)\/pr-(\d+)-[0-9a-f]{40}$/;

/**
 * Events whose run builds and deploys the commit the token names. Other events (`pull_request_target`,
 * `issue_comment`, `workflow_run`, reviews, …) run the default branch's workflow about something
 * else, often a pull request's head, which the token does not name: their change set is unknown.
 */
const RUNS_ITS_OWN_COMMIT = new Set(['push', 'workflow_dispatch', 'schedule', 'repository_dispatch', 'merge_group', 'release', 'create', 'deployment']);

/**
 * A `pull_request` run's ref names a branch only once its pull request was merged (`closed`): GitHub
 * then runs it on the merge's commit on the base branch, which is what a checkout gets, as for a push of
 * that commit. Before that its ref is the pull request's (`refs/pull/<n>/merge`).
 */
const runsMergedPullRequest = (run: RunCommit) => run.eventName === 'pull_request' && !run.refFromDeployment && branchOfRef(run.ref) !== undefined;

const short = (sha: string) => sha.slice(0, 7);

/** A list GitHub may have cut short is no list at all: the change set is then unknown. */
function filesOrUnknown(list: ChangedFiles, what: string): { changedFiles: string[]; unknownChanges?: string } {
  if (!list.complete) return { changedFiles: [], unknownChanges: `GitHub's list of ${what} may be truncated (it lists only so many files)` };
  // A copy: a comparison is shared by the requests evaluated on it.
  return { changedFiles: [...list.files] };
}

/** The branch a `refs/heads/…` ref names; undefined for tags, pull request refs and anything else. */
export function branchOfRef(ref: string): string | undefined {
  return ref.startsWith('refs/heads/') ? ref.slice('refs/heads/'.length) : undefined;
}

/** What the token said about the run's commit: the ref and sha it ran, and the event that started it. */
export interface RunCommit {
  ref: string;
  sha: string;
  eventName: string;
  /** The ref is a deployment's, which names a branch and a tag alike (`main`): see `branchHolding`. */
  refFromDeployment?: boolean;
  /** For a deployment: the pull requests GitHub names for its run (a pull request run's job deploys one of them). */
  pullNumbers?: number[];
  /** The run: when it was made tells which base its pull request's test merge took. */
  runId?: string;
  /** When the run was made, where the caller reads the run anyway (called only when needed). */
  runCreatedAt?: () => Promise<string | undefined>;
  /** A pull request run's job decided before: the base commit its merge took (`RunContext.mergedInto`). */
  mergedInto?: string;
}

/**
 * Events whose run checks out its pull request's test merge: a job-level gate's deployment names the
 * pull request's head branch and commit, while the job ships that head merged into the base.
 */
const RUNS_A_PULL_REQUEST_MERGE = new Set(['pull_request', 'pull_request_review', 'pull_request_review_comment']);

export async function loadRunContext(
  github: GitHubClient,
  repo: RepoCoordinates,
  run: RunCommit,
  bases: ComparisonBases,
  cache: PolicyCache,
): Promise<RunContext> {
  const pullNumber = PULL_REF.exec(run.ref)?.[1];
  if (pullNumber) return pullRequestContext(github, repo, run, Number(pullNumber), bases, cache);
  if (run.refFromDeployment && RUNS_A_PULL_REQUEST_MERGE.has(run.eventName)) {
    return pullRequestContext(github, repo, run, deployedPullRequest(run.pullNumbers ?? [], run.eventName), bases, cache);
  }
  const branch = run.refFromDeployment ? await branchHolding(github, repo, branchOfRef(run.ref), run) : branchOfRef(run.ref);
  // A merge queue entry merges into its base, as a pull request does: its rules are the base's.
  const queuedInto = run.eventName === 'merge_group' ? MERGE_QUEUE_REF.exec(run.ref)?.[1] : undefined;
  const context = { headSha: run.sha, branch, ...(queuedInto !== undefined ? { targetBranch: queuedInto } : {}), labels: [] as string[], changedFiles: [] as string[] };
  // Whatever the event, the commit the token names is what a checkout gets: its pull request's author is a requester.
  const atHead = Promise.all([mergedPullsOfCommit(github, repo, run.sha), queuedPull(github, repo, run)]).then(([merged, queued]) => [...merged, ...queued]);
  if (!RUNS_ITS_OWN_COMMIT.has(run.eventName) && !runsMergedPullRequest(run)) {
    return { ...context, unknownChanges: `a \`${run.eventName}\` run can run code other than its commit ${short(run.sha)}, and its token does not say which`, shippedPulls: await atHead };
  }
  const { base, subject } = await bases.lastApproved(run.ref);
  if (!base) {
    return { ...context, unknownChanges: `no earlier run of ${subject} was approved, so there is nothing to compare ${short(run.sha)} with`, shippedPulls: await atHead };
  }
  const [{ earlierCommits, ...since }, headPulls] = await Promise.all([changesSince(github, repo, base, run.sha, subject, cache), atHead]);
  const earlier = await Promise.all(earlierCommits.map((sha) => mergedPullsOfCommit(github, repo, sha)));
  return { ...context, ...since, shippedPulls: uniquePulls([...headPulls, ...earlier.flat()]) };
}

/**
 * The pull request a pull request run's deployment is of. Its ref names only the head branch, which a
 * fork's pull request names in the fork (a fork's branch may be called `main`): without exactly one
 * pull request named by GitHub, neither the branch nor the code the job ships is known.
 */
function deployedPullRequest(numbers: number[], eventName: string): number {
  if (numbers.length === 1) return numbers[0]!;
  const which = numbers.length === 0
    ? 'GitHub names no open pull request of this repository for it (it names none for a pull request from a fork, nor for one that is closed)'
    : `GitHub names several pull requests for it (${numbers.map((n) => `#${n}`).join(', ')}), one branch open into several bases`;
  throw new RunContextError(`this job of a \`${eventName}\` run deploys a pull request merged into its base, but ${which}, so which code it ships and which branch it merges into are unknown; gate the deploy with the step, whose token names its pull request`);
}

/**
 * A deployment's ref names a tag as it names a branch (`main`), so a tag named like a protected branch
 * would pass for it. The run is the branch's only when the branch holds its commit (its head, or an
 * ancestor of it) and that commit was the branch's head at some moment since the run was made: a
 * branch also holds every commit of the pull requests merged into it, which it never was (one that
 * added a backdoor its next commit took out again). Otherwise which rules apply is not known, and the
 * request fails rather than being judged as a run of no branch, which rules written for the branch
 * would let through; so does a deployment that names no branch (a sha, or a full ref of a tag).
 */
async function branchHolding(github: GitHubClient, repo: RepoCoordinates, branch: string | undefined, run: RunCommit): Promise<string> {
  const { sha } = run;
  // A sha, or a full ref other than a branch's (`refs/tags/…`): judged as a run of no branch, the rules written for branches would not apply.
  if (branch === undefined) {
    throw new RunContextError(`the deployment names no branch (\`${run.ref}\`), so which branch's rules apply to commit ${short(sha)} is unknown, and it is not judged as a run of no branch; deploy from a branch`);
  }
  const notHeld = `the deployment names \`${branch}\`, but that branch does not hold commit ${short(sha)} (a tag of that name, or the branch was moved or deleted since), so the rules for \`${branch}\` cannot be trusted to apply; re-run the job from the branch`;
  // Compared by commit: a name in the comparison's path would need its "/" escaped.
  const head = await github.branchHead(repo, branch);
  if (head === undefined) throw new RunContextError(notHeld);
  if (head === sha) return branch;
  // GitHub answers 404 for a commit the branch's network does not have: not held either.
  const status = await github.compareFiles(repo, head, sha).then(
    (comparison) => comparison.status,
    (err: unknown) => {
      if ((err as { status?: number }).status === 404) return undefined;
      throw err;
    },
  );
  if (status !== 'behind') throw new RunContextError(notHeld);
  const made = await runMadeAt(github, repo, run, 'whether its commit was the branch\'s');
  const { changes, complete } = await github.branchChangesSince(repo, branch, made.at);
  if (!complete) throw new RunContextError(`\`${branch}\` changed too often since run ${made.runId} was made to tell whether it was commit ${short(sha)}, which it holds (a tag of that name may be on it); re-run the job from the branch`);
  // Its head when the run was made (before its first change since), or any head it had since.
  if (changes.some((change) => change.after === sha) || changes.at(-1)?.before === sha) return branch;
  throw new RunContextError(`the deployment names \`${branch}\`, but \`${branch}\` never was commit ${short(sha)} since run ${made.runId} was made, though it holds it (a tag of that name on a commit of a pull request merged into it, or on an old one), so the rules for \`${branch}\` cannot be trusted to apply; re-run the job from the branch`);
}

/**
 * The pull request a merge queue entry is for, named by its branch: not merged yet, so GitHub names
 * it as no merged pull request of the commit, while its author wrote what the entry ships. Whatever
 * the event: creating the entry's branch is also a `push`, whose run ships the same code.
 */
async function queuedPull(github: GitHubClient, repo: RepoCoordinates, run: RunCommit): Promise<MergedPull[]> {
  const number = MERGE_QUEUE_REF.exec(run.ref)?.[2];
  if (number === undefined) return [];
  const pull = await github.pullRequest(repo, Number(number));
  return [{ number: pull.number, author: pull.author, authorId: pull.authorId }];
}

/**
 * At most this many commits before the run's own, along the branch since the last approved deploy, are
 * asked for their pull request: each is one request.
 */
export const EARLIER_COMMITS_LOOKED_UP = 20;

/**
 * The commits the branch went through from `base` to `head`, newest first, without `head`: its first
 * parents, as far as the comparison lists them. A merge commit stands for the commits it merged, and
 * squashed or rebased pull requests and direct pushes are first parents themselves.
 */
export function branchCommitsBefore(commits: Comparison['commits'], head: string, base: string): string[] {
  const bySha = new Map(commits.map((commit) => [commit.sha, commit]));
  const chain: string[] = [];
  let at = bySha.get(head)?.parents[0];
  while (at !== undefined && at !== base && bySha.has(at) && chain.length < EARLIER_COMMITS_LOOKED_UP) {
    chain.push(at);
    at = bySha.get(at)?.parents[0];
  }
  return chain;
}

function uniquePulls(pulls: MergedPull[]): MergedPull[] {
  return [...new Map(pulls.map((pull) => [pull.number, pull])).values()];
}

/**
 * The merged pull requests that brought a commit in: a `push` after a merge is started by whoever
 * merged, while the code is the pull request author's. Unknown, the request fails closed.
 */
async function mergedPullsOfCommit(github: GitHubClient, repo: RepoCoordinates, sha: string): Promise<MergedPull[]> {
  return github.mergedPullsOf(repo, sha).catch((err: unknown) => {
    if (isTransient(err)) throw err;
    const status = (err as { status?: number }).status;
    const what = `which pull request brought in commit ${short(sha)}`;
    if (status === 404 || status === 422) throw new RunContextError(`GitHub does not say ${what}, so who wrote it (and may not approve it) is unknown`);
    if (status === 403) throw new RunContextError(`the App may not read ${what}, to learn who wrote it: grant the App's installation the Pull requests (read) permission it asks for`);
    throw err;
  });
}

/**
 * Who started this attempt of the run, when it is a re-run: the token's `actor` is whoever started the
 * first attempt, so whoever pressed Re-run is only known from GitHub. Undefined for a first attempt.
 */
export async function rerunStarter(github: GitHubClient, repo: RepoCoordinates, runId: string, attempt: string): Promise<{ login: string; id: string } | undefined> {
  if (Number(attempt) <= 1) return undefined;
  const what = `attempt ${attempt} of run ${runId}`;
  const starter = await github.runAttemptStarter(repo, Number(runId), Number(attempt)).catch((err: unknown) => runReadFailed(err, what, 'who re-ran it'));
  if (!starter) throw new RunContextError(`GitHub does not say who started ${what}, who may not approve it`);
  return starter;
}

/** A run as a job-level gate needs it: its latest attempt, when that started, and who started the run and that attempt. */
export interface RunStarters {
  attempt: number;
  startedAt?: string;
  createdAt?: string;
  starter: { login: string; id: string };
  attemptStarter: { login: string; id: string };
}

/**
 * The run a job-level gate's deployment belongs to, as it is now. GitHub's deployment names only
 * whoever started the attempt it was made for (on a re-run, whoever pressed Re-run), so whoever started
 * the run, who may not approve it either, is read from the run.
 */
export async function runStarters(github: GitHubClient, repo: RepoCoordinates, runId: string): Promise<RunStarters> {
  const what = `run ${runId}`;
  const run = await github.workflowRun(repo, Number(runId)).catch((err: unknown) => runReadFailed(err, what, 'who started it'));
  if (!run.starter || !run.attemptStarter) throw new RunContextError(`GitHub does not say who started ${what}, who may not approve it`);
  return {
    attempt: run.attempt,
    ...(run.startedAt ? { startedAt: run.startedAt } : {}),
    ...(run.createdAt ? { createdAt: run.createdAt } : {}),
    starter: run.starter,
    attemptStarter: run.attemptStarter,
  };
}

/**
 * A job-level gate's requesters once its run is read. The deployment named whoever started the attempt
 * it is of; the run names whoever started the run and whoever started its latest attempt. None of them
 * may approve it unless the policy allows.
 */
export function withRunStarters(requesters: Requester[], run: RunStarters): Requester[] {
  const people: Requester[] = [{ ...run.starter, role: 'started the run' }];
  for (const requester of requesters) addRequester(people, requester, requester.role === 'started the run' ? 're-ran the run' : requester.role);
  addRequester(people, run.attemptStarter, 're-ran the run');
  return people;
}

/** Adds a person to the requesters in that role, unless they are one already (by account id, else login). */
export function addRequester(requesters: Requester[], person: { login: string; id?: string }, role: Requester['role']): void {
  if (!requesters.some((known) => samePerson(known, person))) requesters.push({ login: person.login, ...(person.id ? { id: person.id } : {}), role });
}

/**
 * Whether a job-level gate's deployment is of an earlier attempt of its run than the latest. GitHub takes
 * a rule's answer by run and environment alone, so an earlier attempt's answer would be taken as the
 * latest's. The attempt is known once the request was first decided; before that, a deployment made
 * before the latest attempt started (GitHub's clock, whole seconds) is an earlier attempt's. A request
 * that knows neither is taken as an earlier attempt's once the run was re-run at all.
 */
export function ofEarlierAttempt(deployment: Pick<DeploymentFacts, 'attempt' | 'createdAt'>, run: { attempt: number; startedAt?: string }): boolean {
  if (deployment.attempt !== undefined) return deployment.attempt < run.attempt;
  if (deployment.createdAt === undefined || run.startedAt === undefined) return run.attempt > 1;
  return wholeSecond(deployment.createdAt) < wholeSecond(run.startedAt);
}

/**
 * Whether a deployment not yet tied to an attempt was made in the very second a re-run attempt started:
 * then its time cannot tell whether it is that attempt's or an earlier one's (the caller asks whether a
 * later deployment of the run waits in that environment).
 */
export function madeAsAttemptStarted(deployment: Pick<DeploymentFacts, 'attempt' | 'createdAt'>, run: { attempt: number; startedAt?: string }): boolean {
  if (deployment.attempt !== undefined || deployment.createdAt === undefined || run.startedAt === undefined || run.attempt <= 1) return false;
  return wholeSecond(deployment.createdAt) === wholeSecond(run.startedAt);
}

const wholeSecond = (time: string) => Math.floor(Date.parse(time) / 1000);

/** A run GitHub would not show: who started it, and so who may not approve it, is unknown. */
function runReadFailed(err: unknown, what: string, who: string): never {
  // A rate limit (403 with retry-after) passes: the caller reads again later.
  if (isTransient(err)) throw err;
  const status = (err as { status?: number }).status;
  if (status === 404) throw new RunContextError(`GitHub does not know ${what}, so who started it (and may not approve it) is unknown`);
  if (status === 403) throw new RunContextError(`the App may not read ${what} to learn ${who}: grant the App's installation the Actions (read) permission it asks for`);
  throw err;
}

async function changesSince(
  github: GitHubClient,
  repo: RepoCoordinates,
  base: ApprovedBase,
  head: string,
  subject: string,
  cache: PolicyCache,
): Promise<{ changedFiles: string[]; unknownChanges?: string; earlierCommits: string[] }> {
  let comparison: Comparison;
  try {
    // Requests on one commit, with one approved base, share the comparison.
    comparison = await cache.compareFiles(github, repo, base.sha, head);
  } catch (err) {
    // The base commit may be gone (a force push and garbage collection): then nothing can be compared.
    if ((err as { status?: number }).status === 404) {
      return { changedFiles: [], unknownChanges: `the last approved commit of ${subject}, ${short(base.sha)} (${base.label}), can no longer be compared with ${short(head)}`, earlierCommits: [] };
    }
    throw err;
  }
  if (comparison.status !== 'ahead' && comparison.status !== 'identical') {
    return {
      changedFiles: [],
      unknownChanges: `the last approved commit of ${subject}, ${short(base.sha)} (${base.label}), is not an ancestor of ${short(head)} (${comparison.status}: a force push, a rollback or another branch)`,
      earlierCommits: [],
    };
  }
  return { ...filesOrUnknown(comparison, `the files changed from ${short(base.sha)} (${base.label}) to ${short(head)}`), earlierCommits: branchCommitsBefore(comparison.commits, head, base.sha) };
}

async function pullRequestContext(github: GitHubClient, repo: RepoCoordinates, run: RunCommit, number: number, bases: ComparisonBases, cache: PolicyCache): Promise<RunContext> {
  const [pull, parents, madeAt] = await Promise.all([
    github.pullRequest(repo, number),
    run.refFromDeployment ? undefined : github.commitParents(repo, run.sha),
    runMadeAt(github, repo, run),
  ]);
  // The merge also ships its base branch as it then was: a base nobody approved must not ride along unseen.
  const mergedInto = parents ? testedMergeBase(parents, run.sha, pull) : await deployedMergeBase(github, repo, run.sha, pull, madeAt, run.mergedInto);
  const [files, base] = await Promise.all([github.pullRequestFiles(repo, number), baseBranchChanges(github, repo, pull, mergedInto, bases, cache)]);
  await filesWereOfRun(github, repo, pull, madeAt);
  const own = filesOrUnknown(files, `pull request #${number}'s files`);
  const unknownChanges = own.unknownChanges ?? base.unknownChanges;
  const shipped = await Promise.all(base.shippedCommits.map((sha) => mergedPullsOfCommit(github, repo, sha)));
  return {
    headSha: pull.headSha,
    pull,
    branch: pull.headRef,
    targetBranch: pull.baseRef,
    ...(base.changedFiles.length > 0 || base.unknownChanges !== undefined ? { unapprovedBase: pull.baseRef } : {}),
    labels: pull.labels,
    changedFiles: unknownChanges === undefined ? [...new Set([...own.changedFiles, ...base.changedFiles])] : [],
    ...(unknownChanges !== undefined ? { unknownChanges } : {}),
    shippedPulls: uniquePulls(shipped.flat()),
    ...(parents ? {} : { mergedInto }),
  };
}

const movedOn = (pull: PullRequestInfo, ran: string) =>
  new RunContextError(`pull request #${pull.number} was updated after this run started (run tested ${short(ran)}, head is now ${short(pull.headSha)}); re-run the workflow on the new head`);

/**
 * GitHub lists a pull request's files as of its head and base when they are read, not as of a commit:
 * a push or a change of base between reading the pull request (whose head and base the run merged)
 * and its files would have the run judged on other files (docs) than it ships (infra). Read after the
 * files, an unchanged head and no change of base since the run was made say they are the run's.
 */
async function filesWereOfRun(github: GitHubClient, repo: RepoCoordinates, pull: PullRequestInfo, made: { runId: string; at: string }): Promise<void> {
  const now = await github.pullRequest(repo, pull.number);
  if (now.headSha !== pull.headSha) throw movedOn(now, pull.headSha);
  // The base's changes are issue events: one undone again before this read is still listed.
  await notRetargetedSince(github, repo, now, made);
}

/**
 * The base a step's token names through the test merge (base, head at run time). If the pull request
 * moved since, approving would approve code the reviewers no longer see on it. A run of a commit that
 * is no merge (the head's own ref) must be of the head itself.
 */
function testedMergeBase(parents: string[], sha: string, pull: PullRequestInfo): string {
  if (parents.length !== 2) {
    if (sha !== pull.headSha) throw movedOn(pull, sha);
    return sha;
  }
  if (parents[1] !== pull.headSha) throw movedOn(pull, parents[1]!);
  return parents[0]!;
}

/** When a pull request's run was made: its test merge took the base as it was then. */
async function runMadeAt(github: GitHubClient, repo: RepoCoordinates, { runId, runCreatedAt }: RunCommit, unknown = 'which base its pull request merge took'): Promise<{ runId: string; at: string }> {
  if (runId === undefined) throw new RunContextError(`the run is not known, so ${unknown} is unknown`);
  const read = () => github.workflowRun(repo, Number(runId)).then((run) => run.createdAt, (err: unknown) => runReadFailed(err, `run ${runId}`, 'when it was made'));
  const createdAt = await (runCreatedAt ?? read)();
  if (createdAt === undefined) throw new RunContextError(`GitHub does not say when run ${runId} was made, so ${unknown} is unknown`);
  return { runId, at: createdAt };
}

/**
 * A pull request whose base was changed after its run was made is judged on a base its merge did not
 * take: its `target_branch` and the base's changes would be the new base's, while the job ships the old.
 * GitHub's times have whole seconds, so a change in the second the run was made counts as after it.
 */
async function notRetargetedSince(github: GitHubClient, repo: RepoCoordinates, pull: PullRequestInfo, made: { runId: string; at: string }): Promise<void> {
  const changedAt = await github.pullBaseChangedAt(repo, pull.number);
  if (changedAt !== undefined && wholeSecond(changedAt) >= wholeSecond(made.at)) {
    throw new RunContextError(`the base of pull request #${pull.number} was changed to \`${pull.baseRef}\` after run ${made.runId} was made, so its merge took another branch; push a new commit to the pull request (a re-run keeps the run's merge)`);
  }
}

/**
 * A deployment names the pull request's head, not the merge its job checks out. That merge took the
 * base branch as it was when the run was made: its head then is the one before the branch's first
 * change since (a revert or force push after the run started must not hide what the job ships), or
 * its head now when it has not changed since.
 */
async function deployedMergeBase(github: GitHubClient, repo: RepoCoordinates, sha: string, pull: PullRequestInfo, made: { runId: string; at: string }, known: string | undefined): Promise<string> {
  if (pull.headSha !== sha) throw movedOn(pull, sha);
  // GitHub names the open pull requests of the run's branch as they are now: one opened since is not the run's
  // (one opened in the same second is: its opening makes the run).
  if (wholeSecond(pull.createdAt) > wholeSecond(made.at)) {
    throw new RunContextError(`pull request #${pull.number} was opened after run ${made.runId} was made, so it is not the pull request the run merged; push a new commit to it`);
  }
  if (known !== undefined) return known;
  const into = `\`${pull.baseRef}\`, the branch pull request #${pull.number} merges into`;
  const { changes, complete } = await github.branchChangesSince(repo, pull.baseRef, made.at);
  if (!complete) throw new RunContextError(`${into}, changed too often since run ${made.runId} was made to tell which commit its merge took`);
  // GitHub's times have whole seconds: a change in the second the run was made may be before or after its merge.
  if (changes.some((change) => wholeSecond(change.timestamp) === wholeSecond(made.at))) {
    throw new RunContextError(`${into}, changed in the second run ${made.runId} was made, so which commit its merge took is unknown; push a new commit to the pull request (a re-run keeps the run's merge)`);
  }
  const head = changes.length > 0 ? changes[changes.length - 1]!.before : await github.branchHead(repo, pull.baseRef);
  if (head === undefined || /^0+$/.test(head)) throw new RunContextError(`${into}, did not exist when run ${made.runId} was made, so what the job ships from it is unknown`);
  return head;
}

/**
 * What a pull request run ships from its base branch beyond what was approved: the base as the merge
 * took it (`mergedInto`), measured from the last approved deploy of that branch or, when it has none,
 * from the default branch's (a branch cut from it carries what it took since), else from the default
 * branch's head, whose content the policy itself is read from. The commits it lists are asked for
 * their pull requests, whose authors wrote that code.
 */
async function baseBranchChanges(
  github: GitHubClient,
  repo: RepoCoordinates,
  pull: PullRequestInfo,
  mergedInto: string,
  bases: ComparisonBases,
  cache: PolicyCache,
): Promise<{ changedFiles: string[]; unknownChanges?: string; shippedCommits: string[] }> {
  const nothing = { changedFiles: [], shippedCommits: [] };
  const merging = `the branch pull request #${pull.number} merges into`;
  const own = await bases.lastApproved(`refs/heads/${pull.baseRef}`);
  if (own.base) {
    if (own.base.sha === mergedInto) return nothing;
    const { earlierCommits, ...since } = await changesSince(github, repo, own.base, mergedInto, `${own.subject}, ${merging}`, cache);
    return { ...since, shippedCommits: since.unknownChanges === undefined ? [mergedInto, ...earlierCommits] : [mergedInto] };
  }
  const fromDefault = pull.baseRef === pull.defaultBranch ? undefined : (await bases.lastApproved(`refs/heads/${pull.defaultBranch}`)).base;
  const from = fromDefault?.sha ?? bases.defaultBranchHead;
  if (from === mergedInto) return nothing;
  let comparison: Comparison;
  try {
    comparison = await cache.compareFiles(github, repo, from, mergedInto);
  } catch (err) {
    // No common history with the default branch: nothing says what the base adds to it.
    if ((err as { status?: number }).status === 404) return { changedFiles: [], unknownChanges: `\`${pull.baseRef}\`, ${merging}, cannot be compared with the default branch`, shippedCommits: [mergedInto] };
    throw err;
  }
  // Behind or level with it, the base adds nothing; ahead or diverged, the three-dot comparison lists what the base added since they parted.
  if (comparison.status === 'behind' || comparison.status === 'identical') return nothing;
  const what = fromDefault ? `the default branch's last approved deploy, ${short(from)} (${fromDefault.label})` : 'the default branch';
  return {
    ...filesOrUnknown(comparison, `the files \`${pull.baseRef}\`, ${merging}, adds to ${what}`),
    shippedCommits: [mergedInto, ...branchCommitsBefore(comparison.commits, mergedInto, from)],
  };
}
