/**
 * The gate's view of one approval request: the store's row and votes, with the run facts and the
 * policy decision (kept as jsonb by the store) typed again.
 */
import type { Requester, Vote as CountedVote, Voter } from '../../policies/approval.js';
import type { Decision } from '../../policies/decision.js';
import type { RequestFacts } from '../../policies/types.js';
import type { RunIdentity } from '../oidc.js';
import type { RepoCoordinates, WriteTarget } from '../github/github.js';
import type { ApprovalRequest, RequestKey, RequestStatus, Store, Vote as StoredVote, VoteChoice } from '../store/store.js';

export type { RequestStatus, VoteChoice };

/**
 * Which request a step's call is about: its run attempt, action and job. The token's `check_run_id`
 * names the job where GitHub provides it, else the environment does (compared ignoring case, as
 * GitHub compares names), so two jobs of one run never share a request.
 */
export function requestKeyFor(run: RunIdentity, action: string, environment: string | undefined): RequestKey {
  return { repositoryId: run.repositoryId, runId: run.runId, runAttempt: run.runAttempt, action, jobKey: jobKeyOf(run, environment) };
}

/** Key of a request of a job whose token names its environment (older servers). */
const JOB_ENVIRONMENT = 'job_environment:';
/**
 * Key of a request of a job whose token names no environment (older servers): the step named it, if
 * at all. Requests opened before the two were kept apart have this key whatever the job's token said.
 */
const CLAIMED_ENVIRONMENT = 'environment:';

/**
 * A job's part of its requests' keys: its check run, or on older servers, whose tokens name none, the
 * environment. A job's `environment:` (in its token) and an environment a step names for a job
 * without one (a claim) are kept apart: a job without `environment:` that names the deploy job's
 * environment in its step never reaches the deploy job's request.
 */
function jobKeyOf(run: RunIdentity, environment: string | undefined): string {
  if (run.checkRunId !== undefined) return `check_run:${run.checkRunId}`;
  if (run.environment !== undefined) return `${JOB_ENVIRONMENT}${run.environment.toLowerCase()}`;
  return `${CLAIMED_ENVIRONMENT}${(environment ?? '').toLowerCase()}`;
}

/**
 * Whether a token's job is the one a request with this job key belongs to. A `check_run:` key needs
 * the same check run. On older servers, whose tokens name no check run, a job with `environment:`
 * reaches only requests of that environment, and a job without one only requests of jobs without one
 * (their step named the environment, which a poll or cancel does not repeat). A request opened before
 * the two were kept apart is still reached by its job, which may be either.
 */
export function isRequestOfJob(jobKey: string, run: RunIdentity): boolean {
  if (run.checkRunId !== undefined) return jobKey === jobKeyOf(run, undefined);
  if (run.environment === undefined) return jobKey.startsWith(CLAIMED_ENVIRONMENT);
  const environment = run.environment.toLowerCase();
  return jobKey === `${JOB_ENVIRONMENT}${environment}` || jobKey === `${CLAIMED_ENVIRONMENT}${environment}`;
}

/** The action name of requests a job's deployment protection rule opens (policies may match it with `action:`). */
export const DEPLOYMENT_ACTION = 'deployment';

/** The deployment protection rule a job waits on: where its answer goes. */
export interface DeploymentFacts {
  /** The run whose callback answers the rule (from `deployment_callback_url`). */
  callbackRunId: number;
  environment: string;
  deploymentId: number;
  /** When GitHub made the deployment (GitHub's clock): one made before the run's latest attempt started is an earlier attempt's. */
  createdAt?: string;
  /** The pull requests GitHub names for the run: a pull request run's job deploys one of them (absent in requests stored before they were kept). */
  pullNumbers?: number[];
  /** The run's attempt the deployment is of, read from the run when the request is first decided. */
  attempt?: number;
  /**
   * What the outbox has told GitHub so far: status reports made, the last one, and the answer once
   * sent, or `withheld` when the run had been re-run and the answer would have been taken as the new attempt's.
   */
  reports?: number;
  lastReport?: string;
  answered?: 'approved' | 'rejected' | 'withheld';
}

/** Who the request is for; a request stored before they were kept names only who started the run. */
export function requestersOf(facts: RunFacts, requester: string): Requester[] {
  return facts.requesters ?? [{ login: requester, role: 'started the run' }];
}

/** What the Action sends; everything else about the run comes from the OIDC token. */
export interface RequestInput {
  action: string;
  environment?: string;
  severity?: string;
  summary?: string;
  /** Seconds the Action will wait; the deadline is the sooner of this and the policy's timeout. */
  timeoutSeconds?: number;
}

/** Run facts kept with the request (the store's `facts` column). */
export interface RunFacts {
  owner: string;
  repo: string;
  installationId: number;
  eventName: string;
  ref: string;
  sha: string;
  /** The commit the check run is on: the PR's head for `pull_request` runs, else the run's sha. */
  headSha: string;
  environment?: string;
  severity?: string;
  summary?: string;
  timeoutSeconds?: number;
  /**
   * Who the request is for, and so may not approve it unless the policy allows self-approval: who
   * started the run and, for a pull request run, who opened the pull request. By account id too.
   */
  requesters?: Requester[];
  /** The facts the policy was evaluated on (changed files included), so a policy change can be replayed on them. */
  evaluated?: RequestFacts;
  /** `file:line:col: message` lines when the policy could not be loaded. */
  problems?: string[];
  /** Set once the request has been announced to its notifiers. */
  announced?: boolean;
  /**
   * When the request started waiting for people, if not when it was opened: the moment a window that
   * held it opened. Its timeout, time escalations and reminders count from here.
   */
  waitingSince?: string;
  /** Set when the request gates a whole job through a custom deployment protection rule. */
  deployment?: DeploymentFacts;
  /**
   * For a pull request run's job: the base commit its merge took, found from the branch's activity when
   * first decided. Decided again later, the request keeps it (the activity since grows, and GitHub lists only so much).
   */
  pullMergedInto?: string;
}

export interface Vote {
  login: string;
  choice: VoteChoice;
  /** The `/approve` note or the `/reject` reason. */
  note: string;
  via: string;
  at: string;
  /** Indexes into `decision.requirements` that this voter was eligible for when voting. */
  eligibleFor: number[];
  /** The voter as last looked up (permission, teams, bot), which the tally counts. */
  voter?: Voter;
  /** Set when the approval overrode closed windows: which, and the reason given. */
  override?: { windows: string[]; reason: string };
}

export interface GateRequest extends RunFacts {
  id: string;
  repositoryId: string;
  runId: string;
  runAttempt: string;
  action: string;
  /** The OIDC `actor`: who started the run, and may not approve it unless the policy says so. */
  requester: string;
  pullNumber?: number;
  status: RequestStatus;
  reason: string;
  completedBy?: string;
  decision?: Decision;
  problems: string[];
  votes: Vote[];
  createdAt: string;
  deadline?: string;
  completedAt?: string;
  checkRun?: { id: number; url: string };
  /** Check runs of the request a racing publication created besides `checkRun`: shown the same. */
  otherCheckRunIds?: number[];
  comment?: { id: number; url: string };
  issue?: { number: number; url: string };
}

export function eligibleFor(vote: StoredVote): number[] {
  const value = vote.facts.eligibleFor;
  return Array.isArray(value) ? value.filter((n): n is number => typeof n === 'number') : [];
}

export function toGateVote(vote: StoredVote): Vote {
  return {
    login: vote.login,
    choice: vote.choice,
    note: vote.note,
    via: vote.via,
    at: vote.at.toISOString(),
    eligibleFor: eligibleFor(vote),
    ...(vote.facts.voter ? { voter: vote.facts.voter as Voter } : {}),
    ...(vote.facts.override ? { override: vote.facts.override as { windows: string[]; reason: string } } : {}),
  };
}

/** Votes as the policy library's tally counts them: each voter as last looked up, and the windows it was cast overriding. */
export function countedVotes(votes: readonly Vote[]): CountedVote[] {
  return votes.flatMap(({ voter, choice, override }) => (voter ? [{ voter, verdict: choice, ...(override ? { overrides: override.windows } : {}) }] : []));
}

/**
 * A link GitHub gave to the request's check run, comment or issue, under the name its repository has
 * now: a link stored before a rename names the old one, which another repository may have taken since,
 * with an issue or pull request of the same number (GitHub redirects the old name only until then).
 */
export function linkUnderName(url: string, owner: string, repo: string): string {
  return url.replace(/\/[^/?#]+\/[^/?#]+(\/(?:issues|pull|runs)\/\d+(?:#[^/?#]*)?)$/, (_, tail: string) => `/${owner}/${repo}${tail}`);
}

export function toGateRequest(row: ApprovalRequest, votes: readonly StoredVote[]): GateRequest {
  const facts = row.facts as unknown as RunFacts;
  const link = (url: string | null | undefined) => linkUnderName(url ?? '', facts.owner, facts.repo);
  return {
    ...facts,
    id: row.id,
    repositoryId: row.repositoryId,
    runId: row.runId,
    runAttempt: row.runAttempt,
    action: row.action,
    requester: row.requester,
    requesters: requestersOf(facts, row.requester),
    pullNumber: row.prNumber ?? undefined,
    status: row.status,
    reason: row.reason ?? '',
    completedBy: row.completedBy ?? undefined,
    decision: (row.decision as unknown as Decision | null) ?? undefined,
    problems: facts.problems ?? [],
    votes: votes.map(toGateVote),
    createdAt: row.createdAt.toISOString(),
    deadline: row.deadline?.toISOString(),
    completedAt: row.completedAt?.toISOString(),
    checkRun: row.checkRunId ? { id: row.checkRunId, url: link(row.checkRunUrl) } : undefined,
    ...(row.otherCheckRunIds.length > 0 ? { otherCheckRunIds: row.otherCheckRunIds } : {}),
    comment: row.commentId ? { id: row.commentId, url: link(row.commentUrl) } : undefined,
    issue: row.issueNumber ? { number: row.issueNumber, url: link(row.issueUrl) } : undefined,
  };
}

/**
 * A check that the store still names the request's repository `repo`: a write addressed to it, or
 * a read the write depends on, that waited its turn while the repository was renamed would otherwise
 * reach whatever repository has taken the old name. What it throws is retried, under the new name.
 */
export function stillNamed(store: Store, requestId: string, repo: RepoCoordinates): () => Promise<void> {
  const name = `${repo.owner}/${repo.repo}`;
  return async () => {
    const now = (await store.getRequest(requestId))?.repository;
    if (now !== name) throw new Error(`${name} is now ${now ?? 'unknown'}: what waited for it was not sent to what holds the old name`);
  };
}

/** The request's repository as a write's target, good only while the store still names it so. */
export function requestRepository(store: Store, requestId: string, repo: RepoCoordinates): WriteTarget {
  return { owner: repo.owner, repo: repo.repo, beforeSending: stillNamed(store, requestId, repo) };
}
