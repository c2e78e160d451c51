/**
 * The reconciler: what GitHub never sent. GitHub does not redeliver a webhook on its own, so a lost
 * `/approve` would strand its request until the deadline, and a check run or thread could keep
 * showing an old state if the outbox ever gave up. Every interval, one replica (the `reconcile` job is
 * claimed like any timer) goes over the pending requests and those that ended recently, a page of
 * each per round, taking up where the last round left off and starting over after the last one, so
 * that every request is looked at however many there are:
 *
 * - it reads each thread's comments since the request opened (a conditional request: an unchanged
 *   thread costs nothing against the rate limit) and acts on commands no delivery brought, under the
 *   same rules (only comments created in a later second than the request, never edited ones,
 *   including those edited in the second they were written, which only the edit's webhook tells;
 *   each comment once: those handled already are found with one look-up for the thread), and
 *   withdraws votes whose comment is gone;
 * - it compares each check run with the stored state, and queues a publication where they differ.
 *
 * Each round also forgets a batch of the marks of handled deliveries and comments that nothing can
 * need any more: older than GitHub lets anyone redeliver, and than every pending request.
 */
import type { Logger } from 'probot';
import { RepositoryNameTaken, repositoryNow, type Gate } from '../gate/gate.js';
import type { RunFacts } from '../gate/request.js';
import type { GitHubClient } from '../github/github.js';
import { isInstallationGone } from '../github/installations.js';
import { isGone } from '../github/transient.js';
import { CONCLUSIONS, APPROVE_BUTTON } from '../render/check-run.js';
import { isRequestId, type ApprovalRequest, type RequestPosition, type Store } from '../store/store.js';
import { parseCommand } from '../webhooks/commands.js';
import { processCommandComment } from '../webhooks/comments.js';

export const RECONCILE_JOB = 'reconcile';
export const DEFAULT_RECONCILE_INTERVAL_MS = 2 * 60_000;
/** Pending requests, and requests ended lately, looked at per round (of each). */
const DEFAULT_PER_ROUND = 500;
/** How long after it ended a request's check run is still compared with the store. */
const RECENTLY_ENDED_MS = 24 * 3600_000;
const DEFAULT_LISTING_LAG_MS = 60_000;
/** How long after a comment is written its edit's webhook may still be on the way (at most the listing lag). */
const EDIT_WEBHOOK_LAG_MS = 10_000;
/**
 * How long the mark of a handled delivery or comment is kept: twice the longest window in which
 * GitHub redelivers a delivery (3 days on github.com, 7 on GitHub Enterprise Server).
 */
export const HANDLED_MARK_RETENTION_MS = 14 * 24 * 3600_000;
/** Marks of each kind forgotten per round at most, so that a round's deletes stay short. */
const MARKS_FORGOTTEN_PER_ROUND = 5000;

export interface ReconcilerOptions {
  store: Store;
  gate: Gate;
  github: (installationId: number) => Promise<GitHubClient>;
  log: Logger;
  intervalMs?: number;
  /** How far GitHub's lists may lag behind a comment just created. */
  listingLagMs?: number;
  /** The App's clock (milliseconds since the epoch). */
  clock?: () => number;
  /** Requests of each kind looked at per round. */
  perRound?: number;
}

/** Where the next round takes up, kept in the `reconcile` job's payload. */
interface RoundStart {
  pending?: RequestPosition;
  ended?: RequestPosition;
}

export class Reconciler {
  private readonly now: () => number;

  constructor(private readonly options: ReconcilerOptions) {
    this.now = options.clock ?? Date.now;
  }

  get intervalMs(): number {
    return this.options.intervalMs ?? DEFAULT_RECONCILE_INTERVAL_MS;
  }

  /** Makes sure a round is scheduled (without moving one another replica scheduled). */
  async start(): Promise<void> {
    await this.options.store.scheduleTimer({ kind: RECONCILE_JOB, key: RECONCILE_JOB, dueAt: new Date(this.now() + this.intervalMs), keepExisting: true });
  }

  /**
   * One round, taking up where `job`'s payload says the last one left off, then the next is
   * scheduled. A request that fails is logged and left for the next time round.
   */
  async run(job?: { payload: Record<string, unknown> }): Promise<void> {
    const { store, log } = this.options;
    const start = roundStart(job?.payload);
    const pending = await this.page({ status: 'pending' }, start.pending);
    const ended = await this.page({ completedAfter: new Date(this.now() - RECENTLY_ENDED_MS) }, start.ended);
    // The next round is durable first: a crash in this one does not end reconciling.
    const next: RoundStart = { pending: pending.next, ended: ended.next };
    await store.scheduleTimer({ kind: RECONCILE_JOB, key: RECONCILE_JOB, dueAt: new Date(this.now() + this.intervalMs), payload: { ...next } });
    for (const request of [...pending.requests, ...ended.requests.filter((r) => r.status !== 'pending')]) {
      try {
        await this.reconcile(request);
      } catch (err) {
        // Uninstalled: GitHub has nothing of it to show or read any more.
        if (isInstallationGone(err)) continue;
        log.warn({ err, requestId: request.id }, 'could not reconcile a request; trying again next round');
      }
    }
    await this.forgetOldMarks().catch((err: unknown) => log.warn({ err }, 'could not forget old handled marks; trying again next round'));
  }

  private async forgetOldMarks(): Promise<void> {
    const forgotten = await this.options.store.pruneHandledMarks(new Date(this.now() - HANDLED_MARK_RETENTION_MS), MARKS_FORGOTTEN_PER_ROUND);
    if (forgotten.deliveries + forgotten.comments + forgotten.edits > 0) this.options.log.info(forgotten, 'forgot old marks of handled deliveries and comments');
  }

  /**
   * The requests after `from`, up to a round's worth, continued from the first when the last comes
   * sooner; and where the next round takes up (nowhere, meaning the first, when all of them fit).
   */
  private async page(filter: { status?: 'pending'; completedAfter?: Date }, from: RequestPosition | undefined): Promise<{ requests: ApprovalRequest[]; next?: RequestPosition }> {
    const { store } = this.options;
    const perRound = this.options.perRound ?? DEFAULT_PER_ROUND;
    const requests = await store.listRequests({ ...filter, after: from, limit: perRound });
    if (from && requests.length < perRound) {
      const seen = new Set(requests.map((request) => request.id));
      const first = await store.listRequests({ ...filter, limit: perRound - requests.length });
      requests.push(...first.filter((request) => !seen.has(request.id)));
    }
    const last = requests.at(-1);
    return { requests, next: requests.length === perRound && last ? { createdAt: last.createdAt, id: last.id } : undefined };
  }

  private async reconcile(request: ApprovalRequest): Promise<void> {
    const facts = request.facts as unknown as RunFacts;
    const github = await this.options.github(facts.installationId);
    let repo: { owner: string; repo: string };
    try {
      repo = await repositoryNow(github, request, facts);
    } catch (err) {
      if (!(err instanceof RepositoryNameTaken)) throw err;
      this.options.log.warn({ requestId: request.id }, err.message);
      return;
    }
    const thread = request.prNumber ?? request.issueNumber;
    if (request.status === 'pending' && thread !== null) {
      await this.missedCommands(github, repo, request, thread).catch((err: unknown) => {
        // Issues turned off (or the approval issue deleted): its comments cannot be read, nor written.
        // The check run, whose buttons carry the request now, is still compared below.
        if (!isGone(err)) throw err;
        this.options.log.debug({ requestId: request.id }, 'the approval issue cannot be read (issues off, or the issue deleted); no commands to look for');
      });
    }
    if (request.checkRunId !== null && (await this.checkRunDiffers(github, repo, request))) {
      this.options.log.info({ requestId: request.id }, 'the check run differs from the request; publishing it again');
      await this.options.store.enqueuePublish(request.id);
    }
  }

  private async missedCommands(github: GitHubClient, repo: { owner: string; repo: string }, request: ApprovalRequest, thread: number): Promise<void> {
    const opened = Math.floor(request.createdAt.getTime() / 1000) * 1000;
    const listingLagMs = this.options.listingLagMs ?? DEFAULT_LISTING_LAG_MS;
    // Votes cast since shortly before this listing may come from comments it does not show yet.
    const settledBefore = this.now() - listingLagMs;
    // A comment edited in the second it was written lists as never edited (GitHub's timestamps have
    // whole seconds): only the edit's webhook tells, so a comment is taken once that has had time to come.
    const editHeardBefore = this.now() - Math.min(listingLagMs, EDIT_WEBHOOK_LAG_MS);
    const comments = await github.listComments(repo, thread, new Date(opened));
    // The name was checked before the listing, which can take a while: renamed meanwhile, and taken by
    // another repository, it listed that one's thread of the same number, whose comments are not this
    // request's (and whose lack of its votes' comments would withdraw them). The next round reads it anew.
    try {
      await repositoryNow(github, request, repo);
    } catch (err) {
      if (!(err instanceof RepositoryNameTaken)) throw err;
      this.options.log.warn({ requestId: request.id }, `${err.message}; it led there while its thread was listed, so nothing listed is acted on`);
      return;
    }
    // Only what was written for this request, as written: an edited comment's first words are gone.
    const commands = comments.flatMap((comment) => {
      const created = Date.parse(comment.createdAt);
      const command = created > opened && created <= editHeardBefore && comment.updatedAt === comment.createdAt ? parseCommand(comment.body) : undefined;
      return command ? [{ comment, command }] : [];
    });
    const ids = commands.map(({ comment }) => comment.id);
    const edited = await this.options.store.editedComments(request.repositoryId, ids);
    // Those acted on already (most, on a busy thread) cost one look-up together, not one each: a
    // thread's comments are anyone's to write, and are read again every round.
    const handled = await this.options.store.handledComments(request.repositoryId, ids);
    for (const { comment, command } of commands) {
      if (edited.has(comment.id) || handled.has(comment.id)) continue;
      const { acted } = await processCommandComment(this.options.gate, this.options.store, {
        command,
        repositoryId: request.repositoryId,
        repository: repo,
        issueNumber: thread,
        id: comment.id,
        body: comment.body,
        createdAt: comment.createdAt,
        author: comment.author,
      });
      if (acted) this.options.log.debug({ requestId: request.id, comment: comment.id }, 'reconciled a command comment');
    }
    // A vote's comment no longer in the thread was deleted, even if its `deleted` webhook never came.
    const present = new Set(comments.map((comment) => comment.id));
    for (const vote of await this.options.store.listVotes(request.id)) {
      if (vote.commentId === null || present.has(vote.commentId) || vote.at.getTime() > settledBefore) continue;
      this.options.log.info({ requestId: request.id, comment: vote.commentId }, 'a vote\'s comment was deleted without a webhook; withdrawing the vote');
      await this.options.gate.withdrawComment(request.repositoryId, vote.commentId, 'app');
    }
  }

  private async checkRunDiffers(github: GitHubClient, repo: { owner: string; repo: string }, request: ApprovalRequest): Promise<boolean> {
    const shown = await github.checkRunState(repo, request.checkRunId as number);
    const wantsButtons = request.status === 'pending';
    return shown.conclusion !== CONCLUSIONS[request.status] || shown.buttons.includes(APPROVE_BUTTON.identifier) !== wantsButtons;
  }
}

/** The positions in a `reconcile` job's payload (JSON); one that is not a position is ignored: that round starts from the first. */
function roundStart(payload: Record<string, unknown> | undefined): RoundStart {
  const position = (value: unknown): RequestPosition | undefined => {
    const { createdAt, id } = (value ?? {}) as { createdAt?: unknown; id?: unknown };
    const at = typeof createdAt === 'string' ? new Date(createdAt) : undefined;
    return at && !Number.isNaN(at.getTime()) && typeof id === 'string' && isRequestId(id) ? { createdAt: at, id } : undefined;
  };
  return { pending: position(payload?.pending), ended: position(payload?.ended) };
}
