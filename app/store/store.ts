/**
 * The App's durable store: approval requests, votes, webhook deliveries, timers, change
 * notifications and the hash-chained audit trail. One interface, two back ends (embedded PGlite
 * and PostgreSQL) that share the SQL, so several App replicas may share one PostgreSQL database.
 *
 * Every method either commits all of its effects or none of them, and throws on any database
 * error: callers fail closed by letting the error propagate.
 */

export type RequestStatus = 'pending' | 'approved' | 'rejected' | 'timed_out' | 'cancelled' | 'failed';
export type FinalStatus = Exclude<RequestStatus, 'pending'>;
const REQUEST_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `id` has the form of a request's id (a UUID): anything else names no request. */
export function isRequestId(id: string): boolean {
  return REQUEST_ID.test(id);
}

export const FINAL_STATUSES: readonly FinalStatus[] = ['approved', 'rejected', 'timed_out', 'cancelled', 'failed'];

/** What makes a request unique: a retried step reattaches to the same request. */
export interface RequestKey {
  repositoryId: string;
  runId: string;
  runAttempt: string;
  action: string;
  /** The job within the run attempt (`check_run:<id>` from the token, else the environment), so two jobs never share a request. */
  jobKey: string;
}

export interface NewRequest extends RequestKey {
  /** `owner/name`. */
  repository: string;
  /** The OIDC `actor`. */
  requester: string;
  /** The environment, lower-cased (GitHub compares names ignoring case); '' for none. */
  environmentKey: string;
  /** The commit the request approves, compared with by later requests of the same action and environment. */
  commitSha?: string;
  /** Everything else known about the run (installation, ref, sha, environment, …), stored as jsonb. */
  facts: object;
  /** The policy decision, when it is already known at creation. */
  decision?: object;
  /** When set (and the request is pending) a `deadline` timer is scheduled in the same transaction. */
  deadline?: Date;
  /** When set, an `evaluate` job falls due then, in case whoever evaluates the request first does not finish. */
  evaluateAt?: Date;
  prNumber?: number;
  /** Caps on pending requests, checked in the transaction that creates this one (a request that exists already is returned, never refused). */
  limits?: PendingLimits;
}

/** How many requests may be pending at once in one repository, and in one attempt of one workflow run. */
export interface PendingLimits {
  perRepository: number;
  perRunAttempt: number;
}

/** Creating the request would pass a cap on pending requests: nothing was created. */
export class PendingLimitError extends Error {
  constructor(readonly scope: 'repository' | 'run_attempt', readonly pending: number) {
    super(`${pending} requests are already pending in this ${scope === 'repository' ? 'repository' : 'run attempt'}, the most allowed`);
  }
}

/** Where a request stands in the order of `listRequests`. */
export interface RequestPosition {
  createdAt: Date;
  id: string;
}

/** A policy decision for a pending request that has none yet (or, with `replace`, a new one for a pending request). */
export interface DecisionRecord {
  decision: object;
  facts: object;
  deadline: Date;
  prNumber?: number;
  /** The request is decided again (a freeze started or ended): its earlier decision is replaced. */
  replace?: boolean;
}

export interface ApprovalRequest extends RequestKey {
  id: string;
  repository: string;
  requester: string;
  environmentKey: string;
  commitSha: string | null;
  status: RequestStatus;
  /** Why it is in its status: `auto`, `quorum`, a reject reason, `deadline`, … Null while pending. */
  reason: string | null;
  /** Who completed it (a voter's login, the requester who cancelled, `app` for timeouts). */
  completedBy: string | null;
  facts: Record<string, unknown>;
  decision: Record<string, unknown> | null;
  prNumber: number | null;
  checkRunId: number | null;
  checkRunUrl: string | null;
  /** Check runs of the request created by a publication that raced another (see `recordCheckRun`): shown like the check run. */
  otherCheckRunIds: number[];
  commentId: number | null;
  commentUrl: string | null;
  issueNumber: number | null;
  issueUrl: string | null;
  deadline: Date | null;
  createdAt: Date;
  updatedAt: Date;
  completedAt: Date | null;
}

/** Fields a caller may set after creation. Absent fields are left alone. */
export interface RequestUpdate {
  decision?: object;
  facts?: object;
  /** Replaces the deadline and reschedules its timer (only while pending). */
  deadline?: Date;
  prNumber?: number;
  checkRunId?: number;
  checkRunUrl?: string;
  commentId?: number;
  commentUrl?: string;
  issueNumber?: number;
  issueUrl?: string;
}

export interface Completion {
  status: FinalStatus;
  reason: string;
  actor: string;
  /** Extra facts for the audit event. */
  facts?: object;
  /** Audit event type; by default the status, or `auto_approved` for an approval with reason `auto`. */
  auditType?: string;
}

export interface TransitionResult {
  /** True only for the one caller whose call moved the request out of `pending`. */
  changed: boolean;
  request: ApprovalRequest;
}

export type VoteChoice = 'approve' | 'reject';

export interface Vote {
  requestId: string;
  login: string;
  choice: VoteChoice;
  note: string;
  via: string;
  at: Date;
  /** The `/approve` or `/reject` comment that cast it, if a comment did. */
  commentId: number | null;
  /** Set when the comment that cast it was deleted while the request was pending: it no longer counts. */
  withdrawnAt: Date | null;
  /** Extras such as the voter's facts and the requirements they were eligible for. */
  facts: Record<string, unknown>;
}

export type TallyOutcome = 'approved' | 'rejected' | 'pending';

/**
 * The policy library's tally: given every vote recorded so far (the new one included) and the
 * request, say whether the request is now complete. Runs inside the transaction that holds the
 * request's row lock, so it must be pure and quick. If it throws, the vote is not recorded.
 */
export type Tally = (votes: readonly Vote[], request: ApprovalRequest) => TallyOutcome;

/**
 * What a webhook delivery's handling did: marked done in the same transaction as its effect, so a
 * crash cannot separate them. The mark is also the claim: a delivery or comment some other handling
 * already marked done makes the transaction fail with `AlreadyHandled`, and none of it is kept.
 */
export interface HandledBy {
  delivery?: { id: string; event: string };
  /**
   * `despiteDeletion`: the handling may be recorded even though the comment was deleted before it
   * was handled (a `/reject`, or a record that counts nothing); without it, a deleted comment's
   * handling records nothing.
   */
  comment?: { repositoryId: string; commentId: number; despiteDeletion?: boolean };
}

/** How many handled marks of each kind were forgotten. */
export interface PrunedMarks {
  deliveries: number;
  comments: number;
  edits: number;
}

/** The delivery or comment was handled by someone else first (a replay, a duplicate, the reconciler): nothing was recorded. */
export class AlreadyHandled extends Error {
  constructor(what: string) {
    super(`${what} was already handled`);
  }
}

/** What handling a delivery did when it changed no request: what goes on record, and the replies it queues. */
export interface HandledOutcome {
  audit: NewAuditEvent[];
  timers?: NewTimer[];
  handledBy?: HandledBy;
}

export interface NewVote {
  requestId: string;
  /** The delivery (and command comment) this vote comes from. */
  handledBy?: HandledBy;
  login: string;
  choice: VoteChoice;
  note?: string;
  via: string;
  commentId?: number;
  facts?: object;
  /**
   * Fresh facts for earlier voters, looked up again before this vote could complete the request
   * (permissions change): each replaces that voter's stored `facts.voter` before the tally runs.
   */
  refreshedVoters?: { login: string; voter: object }[];
  /** Audit events written in the same transaction, before the vote's own (e.g. an earlier vote that no longer counts). */
  audit?: NewAuditEvent[];
  tally: Tally;
  /** Reason recorded when the tally rejects; defaults to the vote's note. */
  rejectReason?: string;
}

/**
 * The votes that stand counted again without a new one: a time escalation has widened who counts, or
 * the request was decided again, so approvals already cast may now be enough.
 */
export interface Recount {
  requestId: string;
  /** As a vote's: earlier voters looked up again, replacing their stored `facts.voter` first. */
  refreshedVoters?: { login: string; voter: object }[];
  /** Written first, in the same transaction (what prompted the count, an earlier vote that no longer counts). */
  audit?: NewAuditEvent[];
  /** As a vote's; only `approved` completes the request (a reject completes it when it is cast). */
  tally: Tally;
  /** Recorded with the approval, beside the votes counted (for example when and why they were counted). */
  facts?: object;
}

export type RecountResult =
  | { outcome: 'not_found' }
  /** The request was no longer pending, or its deadline had passed (its timer ends it): nothing was recorded. */
  | { outcome: 'closed'; request: ApprovalRequest }
  /** Counted; `completed` is true when this count approved the request. */
  | { outcome: 'counted'; request: ApprovalRequest; votes: Vote[]; completed: boolean };

/** A vote withdrawn because its comment was deleted. */
export interface WithdrawnVote {
  request: ApprovalRequest;
  vote: Vote;
}

export type VoteResult =
  | { outcome: 'not_found' }
  /**
   * The request was already final (or its deadline had passed): the vote was not recorded.
   * `completed` is true when this very call timed the request out (a late vote after a missed
   * deadline): the caller is then the one that saw it complete, and must count and announce it.
   */
  | { outcome: 'closed'; request: ApprovalRequest; completed: boolean }
  /** This person had already voted on this request: nothing changed. */
  | { outcome: 'duplicate'; request: ApprovalRequest; votes: Vote[] }
  /** Its delivery or comment had been handled already (see HandledBy): nothing was recorded. */
  | { outcome: 'already_handled' }
  /** Recorded; `completed` is true when this vote's tally completed the request. */
  | { outcome: 'recorded'; request: ApprovalRequest; votes: Vote[]; completed: boolean };

export interface NewTimer {
  kind: string;
  dueAt: Date;
  requestId?: string;
  /** Scheduling again with the same key replaces the timer instead of adding one. */
  key?: string;
  payload?: object;
  /** With a key: leave a timer already scheduled under it as it is. */
  keepExisting?: boolean;
  /** A reply to a command: queued by `recordHandled` only within its author's allowance on the thread. */
  allowance?: ReplyAllowance;
}

/**
 * How many of one person's commands on one thread that did not count are answered. A command is
 * answered while fewer than `max` of theirs on the thread were recorded as refused or ignored within
 * `windowMs` before it (counted from the audit trail, under a lock per person and thread, so replicas
 * agree); the last answered one gets `last` instead, which says the next ones will not be. Every
 * refusal is still on record.
 */
export interface ReplyAllowance {
  repositoryId: string;
  /** The pull request or approval issue. */
  issueNumber: number;
  /** The commenter, as the audit events name them. */
  actor: string;
  max: number;
  windowMs: number;
  last: NewTimer;
}

export interface Timer {
  id: number;
  kind: string;
  requestId: string | null;
  key: string | null;
  dueAt: Date;
  payload: Record<string, unknown>;
  /** How many times it has been claimed, this claim included. */
  attempts: number;
  /** When it was first scheduled (scheduling the same key again keeps it). */
  createdAt: Date;
}

/** A timer claimed by this replica until `leaseUntil`; pass it back to complete or release it. */
export interface ClaimedTimer extends Timer {
  claimToken: string;
  leaseUntil: Date;
}

/** Which due timers a claim takes, and when their attempts are counted. */
export interface TimerClaim {
  only?: readonly string[];
  except?: readonly string[];
  /**
   * The claimer queues what it claims and begins each later (`startTimer`), as the outbox queues an
   * installation's jobs one behind another: an attempt is counted when a timer begins, not when it is claimed.
   */
  startsLater?: boolean;
  /**
   * At most this many timers of one installation (the payload's `installationId`, else its request's)
   * leased at once, on any replica: one installation's backlog, which runs a job a second, never
   * fills every claim and holds back the jobs of all the others.
   */
  perInstallation?: number;
  /**
   * Kinds claimed only after every other due timer (of their installation, with `perInstallation`):
   * messages such as replies to commands, which anyone who may comment can queue by the hundred,
   * never hold back what shows a request's state.
   */
  behind?: readonly string[];
}

export type ChangeKind = 'created' | 'updated' | 'vote' | 'completed';

/** A request changed, or (seen only by `ALL_REQUESTS` listeners) a job was queued for the outbox. */
export type ChangeEvent = { requestId: string; status: RequestStatus; change: ChangeKind } | { requestId: typeof OUTBOX_QUEUE; change: 'queued' };

/** The `requestId` of a "job queued" event: no request has it, so only `ALL_REQUESTS` listeners hear it. */
export const OUTBOX_QUEUE = '';

/**
 * Jobs that bring GitHub in line with the store (the outbox): publishing a request's check run and
 * thread, and replies to commands. They live in the timers table, claimed with leases like timers,
 * but outlive the request's completion (the decision must still be shown).
 */
export const PUBLISH_JOB = 'publish';
export const REPLY_JOB = 'reply';
/** The policy preview of a pull request (`app/preview/`). */
export const PREVIEW_JOB = 'preview';
/**
 * Answering the deployment protection rule a run waits on (`app/deployments/`): queued with every
 * publication of a request whose facts name a `deployment`, so its decision reaches GitHub durably.
 */
export const DEPLOYMENT_REVIEW_JOB = 'deployment_review';
export const OUTBOX_KINDS: readonly string[] = [PUBLISH_JOB, REPLY_JOB, PREVIEW_JOB, DEPLOYMENT_REVIEW_JOB];

/** Evaluating a new request against the policy: a job, so that a replica dying mid-way does not strand it. */
export const EVALUATE_JOB = 'evaluate';

/** Subscribe to every request's changes. */
export const ALL_REQUESTS = '*';
export type Unsubscribe = () => Promise<void>;

export type AuditEventType =
  | 'requested'
  | 'auto_approved'
  | 'vote'
  | 'approved'
  | 'rejected'
  | 'timed_out'
  | 'cancelled'
  | 'failed'
  | 'policy_error'
  | (string & {});

export interface NewAuditEvent {
  type: AuditEventType;
  actor: string;
  requestId?: string | null;
  facts?: object;
}

export interface AuditEvent {
  seq: number;
  requestId: string | null;
  type: string;
  actor: string;
  at: Date;
  facts: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

export type AuditVerification =
  | { ok: true; count: number; headHash: string }
  | { ok: false; seq: number; reason: string; checked: number };

/** A signed-in dashboard user; `idHash` is the SHA-256 of the id the session cookie holds. */
export interface DashboardSession {
  idHash: string;
  login: string;
  userId: string;
  /** The user's GitHub access token: what the dashboard asks GitHub which repositories they can read with. */
  accessToken: string;
  csrfToken: string;
  createdAt: Date;
  expiresAt: Date;
}

/**
 * The dashboard's request filters: always within `repositoryIds`, GitHub's ids of the repositories,
 * never their names (a renamed or deleted repository's old name may since be another's).
 */
export interface RequestSearch {
  repositoryIds: readonly string[];
  status?: RequestStatus;
  action?: string;
  /** Compared ignoring case, as GitHub compares environment names. */
  environment?: string;
  requester?: string;
  /** Someone who voted on the request (a vote that counts or counted). */
  approver?: string;
  createdFrom?: Date;
  createdBefore?: Date;
  /** Oldest first (what waits longest first) instead of newest first. */
  oldestFirst?: boolean;
  /** Keyset paging: the last request of the previous page. */
  after?: { createdAt: Date; id: string };
  limit: number;
}

/** The audit trail's filters: events of requests in `repositoryIds` (as for requests), with the request filters that apply to events. */
export interface AuditSearch {
  repositoryIds: readonly string[];
  requestId?: string;
  type?: string;
  actor?: string;
  action?: string;
  environment?: string;
  from?: Date;
  before?: Date;
  afterSeq?: number;
  limit: number;
}

export interface Store {
  /**
   * Creates the request, or returns the existing one for the same key (`created: false`). With
   * `limits`, throws `PendingLimitError` instead of creating one past a cap, even when others are
   * being created at the same time, on this replica or another.
   */
  createRequest(input: NewRequest): Promise<{ created: boolean; request: ApprovalRequest }>;
  getRequest(id: string): Promise<ApprovalRequest | undefined>;
  /** The request and its votes that stand (not withdrawn), oldest first, read together in one statement. */
  getRequestWithVotes(id: string): Promise<{ request: ApprovalRequest; votes: Vote[] } | undefined>;
  findRequest(key: RequestKey): Promise<ApprovalRequest | undefined>;
  /** The run's requests of this action whose key's job part starts with `jobKeyPrefix`, in any attempt and state, oldest first. */
  runRequests(filter: { repositoryId: string; runId: string; action: string; jobKeyPrefix: string }): Promise<ApprovalRequest[]>;
  /**
   * The most recently approved request of this action and environment on `ref` in the repository, created
   * before `before`. A pull request's run is none: it ships its head merged into its base and was judged
   * on what that adds to the base, so it says nothing about what the head branch itself holds (a job-level
   * gate's deployment names that branch as the run's ref).
   */
  findLastApproved(filter: { repositoryId: string; action: string; environmentKey: string; ref: string; before: Date }): Promise<ApprovalRequest | undefined>;
  /**
   * Oldest first (by creation, then id); `completedAfter`: only requests that ended since then;
   * `after`: only those that come after that request in this order, to go through them page by page.
   */
  listRequests(filter?: { status?: RequestStatus; completedAfter?: Date; after?: RequestPosition; limit?: number }): Promise<ApprovalRequest[]>;
  /** The installations of the requests pending, or ended since `since`. */
  listServedInstallations(since: Date): Promise<number[]>;
  /** The repository's most recent requests, newest first. */
  listRecentRequests(repositoryId: string, limit: number): Promise<ApprovalRequest[]>;
  /**
   * The repository `repositoryId` is called `owner/repo` now: its requests of the installation
   * `installationId` are shown, answered and listed under that name. Returns how many it renamed.
   */
  renameRepository(repositoryId: string, now: { owner: string; repo: string; installationId: number }): Promise<number>;
  countRequestsByStatus(): Promise<Record<RequestStatus, number>>;
  /** Resolves when the store answers a query at all: what a health check asks, at the same cost however much the store holds. */
  ping(): Promise<void>;
  updateRequest(id: string, update: RequestUpdate): Promise<ApprovalRequest | undefined>;
  /**
   * Marks a pending request announced (its `facts.announced`), leaving its other facts as they are
   * now. True only for the call that marked it: a request is announced once, and never once decided.
   */
  markAnnounced(id: string): Promise<boolean>;
  /** Moves a pending request to a final status, exactly once (and queues its publication); undefined when there is no such request. */
  completeRequest(id: string, completion: Completion): Promise<TransitionResult | undefined>;
  /**
   * Stores the decision of a pending request that has none (or replaces it, with `replace`), cancels
   * its `evaluate` job, reschedules its deadline and queues its publication, in one transaction.
   * False when it already had a decision (without `replace`) or ended meanwhile.
   */
  recordDecision(id: string, record: DecisionRecord): Promise<{ recorded: boolean; request: ApprovalRequest | undefined }>;
  /** Queues (or re-queues, if it is being published now) the publication of a request on GitHub. */
  enqueuePublish(requestId: string): Promise<void>;
  /** Notes that publication of the request starts; false when an earlier attempt had already started it. */
  markPublishStarted(requestId: string): Promise<boolean>;
  /**
   * Stores a check run created (or found) for the request as its check run, unless it has one: then
   * the run is kept among its other check runs. Returns the request's check run either way
   * (undefined when there is no such request).
   */
  recordCheckRun(requestId: string, checkRun: { id: number; url: string }): Promise<{ id: number; url: string } | undefined>;
  /**
   * The request under `key`, if any; and the pending requests of its repository and of its run
   * attempt, each counted up to one past its cap in `limits` (how far past does not matter to a cap).
   * What admission checks before a new request costs any GitHub call, in one round trip.
   */
  findRequestOrCountPending(key: RequestKey, limits: PendingLimits): Promise<{ existing: ApprovalRequest | undefined; pending: { repository: number; runAttempt: number } }>;
  /** Pending requests of a repository, and of one attempt of one of its runs, all counted. */
  countPendingRequests(run: { repositoryId: string; runId: string; runAttempt: string }): Promise<{ repository: number; runAttempt: number }>;

  castVote(vote: NewVote): Promise<VoteResult>;
  /** Counts the standing votes again under the request's lock, and completes it if they now approve it. */
  recountVotes(recount: Recount): Promise<RecountResult>;
  /** The votes that count (withdrawn ones only with `includeWithdrawn`), in the order cast. */
  listVotes(requestId: string, options?: { includeWithdrawn?: boolean }): Promise<Vote[]>;
  /**
   * A command comment was deleted: the votes it cast on pending requests of the repository stop
   * counting (each withdrawal is audited). A comment not handled yet is marked deleted, so that its
   * creation, delivered after its deletion, casts no approval (see HandledBy's `despiteDeletion`).
   * Votes on final requests stay as they were.
   */
  withdrawCommentVotes(repositoryId: string, commentId: number, actor: string): Promise<WithdrawnVote[]>;

  /**
   * What a command comment needs first, in one read: the requests of its thread (those whose PR
   * number or approval issue number is `issueNumber` in that repository, oldest first), and whether
   * the comment was acted on already (its effect's transaction marked it, see HandledBy, or
   * `completeComment` did), or deleted before it was (`withdrawCommentVotes`).
   */
  commandThread(repositoryId: string, issueNumber: number, commentId: number): Promise<{ requests: ApprovalRequest[]; handled: boolean; deleted: boolean }>;
  /** Marks a command comment acted on when what it did was recorded without the mark. */
  completeComment(repositoryId: string, commentId: number): Promise<void>;
  /** Notes that a comment was edited (into a command): its text now is not what was written. */
  markCommentEdited(repositoryId: string, commentId: number): Promise<void>;
  /** Which of these comments were noted as edited. */
  editedComments(repositoryId: string, commentIds: readonly number[]): Promise<Set<number>>;
  /** Which of these comments were acted on already (`commandThread`'s `handled`): one look-up for a whole thread. */
  handledComments(repositoryId: string, commentIds: readonly number[]): Promise<Set<number>>;

  /**
   * True when this replica should handle the delivery; false for a replay (done, or in hand elsewhere).
   * Deliveries whose effect marks them (HandledBy) need no claim: the mark is one.
   */
  claimDelivery(deliveryId: string, event: string): Promise<boolean>;
  /** Marks the delivery done, claimed or not. */
  completeDelivery(deliveryId: string, event: string): Promise<void>;
  /**
   * Handling failed: forget the claim so that GitHub's redelivery is handled. False when the delivery
   * was already marked done by the transaction that recorded its effect (then it stays done).
   */
  releaseDelivery(deliveryId: string): Promise<boolean>;
  /**
   * Forgets up to `limit` of each kind of handled mark (deliveries, command comments, edit notes)
   * made before `before` and before every pending request was opened: nothing GitHub redelivers or
   * the reconciler reads can need them any more (see docs/SECURITY.md). How many of each went.
   */
  pruneHandledMarks(before: Date, limit: number): Promise<PrunedMarks>;

  scheduleTimer(timer: NewTimer): Promise<Timer>;
  /**
   * Claims up to `limit` timers due at `now`, of the kinds in `claim.only` (or all but `claim.except`);
   * each is claimed by one caller until its lease ends. Each claim counts as an attempt, unless
   * `claim.startsLater`: then only `startTimer` counts one.
   */
  claimDueTimers(now: Date, limit: number, claim?: TimerClaim): Promise<ClaimedTimer[]>;
  /**
   * A timer claimed with `startsLater` is begun: counts the attempt and leases it afresh from `now`, so
   * the time it waited for its turn uses up neither its tries nor its lease. Undefined when the claim
   * is no longer the caller's (its lease ended, or the timer was scheduled again meanwhile).
   */
  startTimer(timer: ClaimedTimer, now: Date): Promise<ClaimedTimer | undefined>;
  /** Deletes a handled timer; false if it was rescheduled or re-claimed meanwhile. */
  completeTimer(timer: ClaimedTimer): Promise<boolean>;
  /** Handling failed: make it due again at `retryAt`. */
  releaseTimer(timer: ClaimedTimer, retryAt: Date): Promise<void>;
  cancelTimers(filter: { requestId: string; kind?: string } | { key: string } | { keys: readonly string[] }): Promise<number>;
  /** When the next timer (of those kinds) becomes claimable (due, and not leased), so a replica knows how long it may sleep. */
  nextTimerDue(kinds?: Pick<TimerClaim, 'only' | 'except'>): Promise<Date | undefined>;

  /** Resolves once listening, so a change committed after it resolves is always delivered. */
  subscribe(requestId: string, listener: (event: ChangeEvent) => void): Promise<Unsubscribe>;

  appendAudit(event: NewAuditEvent): Promise<AuditEvent>;
  /**
   * Records a handled delivery's audit events and queued timers, and marks it (and its comment)
   * handled, in one transaction; false, recording nothing, when either was handled already.
   */
  recordHandled(outcome: HandledOutcome): Promise<boolean>;
  /**
   * Records what a timer leaves for a waiting request (a time escalation's audit event and its
   * publication, a reminder's next timer) in one transaction that holds the request's row; false,
   * recording nothing, once the request is decided. A decision at the same moment commits either
   * first (nothing is recorded) or after it (its events follow these in the trail).
   */
  recordWhilePending(requestId: string, record: { audit?: NewAuditEvent[]; timers?: NewTimer[]; publish?: boolean }): Promise<boolean>;
  listAudit(filter?: { requestId?: string; afterSeq?: number; limit?: number }): Promise<AuditEvent[]>;
  /** Recomputes the whole chain; reports the first row that is missing, edited or out of place. */
  /** `anchor`: a head recorded earlier (`seq`, `hash`) that the chain must still pass through. */
  verifyAudit(anchor?: { seq: number; hash: string }): Promise<AuditVerification>;

  /** The repositories (`owner/name`) that have requests: what the dashboard asks a viewer's access to. */
  listRequestRepositories(): Promise<string[]>;
  searchRequests(filter: RequestSearch): Promise<ApprovalRequest[]>;
  /** Audit events of requests matching the filter, in chain order. */
  searchAudit(filter: AuditSearch): Promise<AuditEvent[]>;
  /** Stores a new session (and forgets the expired ones). */
  createSession(session: DashboardSession): Promise<void>;
  /** The session, unless it has expired by `now`. */
  getSession(idHash: string, now: Date): Promise<DashboardSession | undefined>;
  deleteSession(idHash: string): Promise<void>;

  close(): Promise<void>;
}
