/**
 * The outbox: brings GitHub in line with the store. Jobs (publish a request, send a reply) are
 * queued by the store in the transaction of the change they show, claimed with a lease by one
 * replica at a time, and deleted once done; a job queued again while it runs is run again after, so
 * the last state is always the one shown, and a burst of changes is shown once. A failure is retried
 * with backoff (as long as GitHub asks on a rate limit); a job that cannot succeed ends, and a
 * pending request nobody can see on GitHub fails closed.
 *
 * Jobs of one installation run one after another, with a pause between them: GitHub asks for
 * content-creating requests to be made serially, and counts its secondary limits per installation.
 */
import type { Logger } from 'probot';
import { backoffMs, isTransient, retryAfterMs } from '../github/transient.js';
import { ALL_REQUESTS, DEPLOYMENT_REVIEW_JOB, OUTBOX_KINDS, PREVIEW_JOB, PUBLISH_JOB, REPLY_JOB, type ClaimedTimer, type Store, type TimerClaim, type Unsubscribe } from '../store/store.js';

/** Runs one job (`job.attempts` > 1: an earlier attempt may have done part of it). */
export type OutboxHandler = (job: ClaimedTimer) => Promise<void>;

export interface OutboxOptions {
  store: Store;
  /** What each kind of job does. */
  handlers: Record<string, OutboxHandler>;
  /** A job was given up (it cannot succeed, or ran out of tries). */
  onGiveUp: (job: ClaimedTimer, err: Error) => Promise<void>;
  log: Logger;
  /** Longest sleep between looks, so jobs queued by another replica are seen. */
  pollMs?: number;
  /** Tries before a job is given up. */
  maxAttempts?: number;
  /** Pause after each job of one installation. */
  spacingMs?: number;
  /** The App's clock (milliseconds since the epoch): jobs fall due by it. */
  clock?: () => number;
}

/**
 * Jobs of one installation claimed at once, on all replicas together. Its jobs run a second or more
 * apart, so a backlog of one installation (a repository's workflows opening request after request)
 * claimed whole would fill every claim and hold back every other installation's jobs behind it.
 */
export const JOBS_PER_INSTALLATION = 5;
// A job waits behind its installation's earlier ones: its try and its lease begin when it does. Replies
// to commands and policy previews (as many as anyone who may comment, or push to a pull request,
// cares to provoke) wait behind what shows requests and answers deployments.
const OUTBOX_CLAIM: TimerClaim = { only: OUTBOX_KINDS, startsLater: true, perInstallation: JOBS_PER_INSTALLATION, behind: [REPLY_JOB, PREVIEW_JOB] };
const BATCH = 50;
/**
 * Least time between two looks for due jobs. Every committed change pokes the outbox; under a burst
 * of votes (one a few milliseconds) a look per change would cost the store two statements per vote
 * for nothing, while jobs queued in one such window are all claimed by the next look anyway.
 */
const LOOK_SPACING_MS = 100;
/**
 * Longest wait GitHub's rate-limit answer is followed for (its hourly budget's window): a job asked to
 * wait until the installation's budget resets waits for it, rather than trying again every minute, which
 * GitHub asks integrations not to do, and using up its tries until its request fails.
 */
const LONGEST_RATE_LIMIT_WAIT_MS = 3_600_000;
/**
 * Jobs that show the state the store holds when they run (not a message sent once, like a reply):
 * one that finds its claim taken when it ends (queued again by a change, or its lease ran out while
 * GitHub kept it waiting) may have overlapped another run of it on another replica, whose newer
 * writes its older ones can have overwritten. It is run once more, after, so the last writes are of
 * the latest state.
 */
const SHOWS_LATEST_STATE: ReadonlySet<string> = new Set([PUBLISH_JOB, PREVIEW_JOB, DEPLOYMENT_REVIEW_JOB]);

export class OutboxWorker {
  private timeout?: NodeJS.Timeout;
  /** When the scheduled look runs (performance.now()). */
  private lookAt = 0;
  /** When the last look began (performance.now()). */
  private lookedAt = Number.NEGATIVE_INFINITY;
  private running?: Promise<void>;
  private again = false;
  private stopped = false;
  private unsubscribe?: Unsubscribe;
  /** The tail of each installation's chain of jobs. */
  private readonly lanes = new Map<number, Promise<void>>();
  /** Jobs claimed and not yet finished: no more are claimed than can run before their leases end. */
  private inFlight = 0;

  constructor(private readonly options: OutboxOptions) {}

  async start(): Promise<void> {
    // Any change to a request may have queued its publication: look at once rather than at the next poll.
    this.unsubscribe = await this.options.store.subscribe(ALL_REQUESTS, () => this.poke());
    this.poke();
  }

  /**
   * Waits for the jobs under way, not for those queued behind them in their installation's lane:
   * those go back to the store, due at once, for the next replica or the next start. Waiting for
   * them would hold a shutdown for as long as GitHub's pacing of a whole backlog.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timeout);
    await this.unsubscribe?.();
    await this.running;
    await Promise.all(this.lanes.values());
  }

  /** Look for due jobs soon: after the current look, if one is under way, and no sooner than the spacing allows. */
  poke(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    const wait = Math.max(0, this.lookedAt + LOOK_SPACING_MS - performance.now());
    // A look already due by then sees this change too.
    if (this.timeout !== undefined && this.lookAt <= performance.now() + wait) return;
    this.schedule(wait);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    clearTimeout(this.timeout);
    this.lookAt = performance.now() + delayMs;
    this.timeout = setTimeout(() => {
      this.timeout = undefined;
      this.lookedAt = performance.now();
      this.running = this.tick().finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.poke();
        }
      });
    }, delayMs);
  }

  private async tick(): Promise<void> {
    const { store, log } = this.options;
    const pollMs = this.options.pollMs ?? 1000;
    let next = pollMs;
    try {
      const room = BATCH - this.inFlight;
      // Every claimed job is still under way: the next to finish pokes, and until then nothing more may
      // be claimed, however many are due. Asking when the next one falls due would answer "now" and spin.
      if (room > 0) {
        const now = this.options.clock ?? Date.now;
        const due = await store.claimDueTimers(new Date(now()), room, OUTBOX_CLAIM);
        for (const job of due) this.enqueue(job);
        const nextDue = due.length === room ? new Date(now()) : await store.nextTimerDue(OUTBOX_CLAIM);
        if (nextDue) next = Math.min(pollMs, Math.max(0, nextDue.getTime() - now()));
        // Due, yet not claimed: held by its installation's cap until one of its jobs ends (which pokes,
        // here; on another replica the poll sees it). Looking again at once would spin.
        if (due.length < room && next === 0) next = pollMs;
      }
    } catch (err) {
      log.error({ err }, 'outbox check failed');
    }
    this.schedule(next);
  }

  /** Chains the job behind the installation's earlier ones. */
  private enqueue(job: ClaimedTimer): void {
    const installation = Number((job.payload as { installationId?: unknown }).installationId ?? 0);
    this.inFlight += 1;
    const lane = (async () => {
      const key = installation || (job.requestId ? await this.installationOf(job.requestId) : 0);
      const previous = this.lanes.get(key) ?? Promise.resolve();
      const run = previous.then(() => this.run(job)).then(async (ran) => {
        if (ran && !this.stopped) await sleep(this.options.spacingMs ?? 0);
      });
      this.lanes.set(key, run);
      await run;
      if (this.lanes.get(key) === run) this.lanes.delete(key);
    })();
    void lane
      .catch((err) => this.options.log.error({ err, job: job.id }, 'outbox job failed unexpectedly'))
      .finally(() => {
        this.inFlight -= 1;
        this.poke();
      });
  }

  private async installationOf(requestId: string): Promise<number> {
    const row = await this.options.store.getRequest(requestId);
    return Number((row?.facts as { installationId?: unknown } | undefined)?.installationId ?? 0);
  }

  /** Runs the job, or not (false) when it is no longer this replica's to run. */
  private async run(claimed: ClaimedTimer): Promise<boolean> {
    const { store, log } = this.options;
    const now = this.options.clock ?? Date.now;
    if (this.stopped) {
      await store.releaseTimer(claimed, new Date(now())).catch(() => undefined);
      return false;
    }
    // Its lease ended while it waited behind its installation's earlier jobs (the store hands it out
    // again, here or to another replica, and that claim runs it), or it was queued again meanwhile.
    // Running this one too would make its GitHub writes twice, and under a backlog the re-claimed
    // copies crowd out the jobs never run.
    if (claimed.leaseUntil.getTime() <= now()) return false;
    let job: ClaimedTimer | undefined;
    try {
      job = await store.startTimer(claimed, new Date(now()));
    } catch (err) {
      log.error({ err, job: claimed.id }, 'could not begin an outbox job; it runs when its lease ends');
    }
    if (!job) return false;
    const attempts = this.options.maxAttempts ?? 12;
    if (job.attempts > attempts) {
      // Every try was begun and none ended: the replica running it died or hung each time (a job that
      // kills whoever runs it). Beginning it again would only take this replica down too.
      await this.giveUp(job, new Error(`begun ${attempts} tries without any ending; the replica running it stopped each time`));
      return true;
    }
    try {
      const handler = this.options.handlers[job.kind];
      if (handler) await handler(job);
      else log.warn({ job }, 'unknown outbox job; dropping it');
      if (!(await store.completeTimer(job)) && handler !== undefined && job.key !== null && SHOWS_LATEST_STATE.has(job.kind)) {
        await store.scheduleTimer({ kind: job.kind, key: job.key, requestId: job.requestId ?? undefined, payload: job.payload, dueAt: new Date(now()) }).catch((err) => {
          log.error({ err, job: job.id }, 'could not queue an overlapped outbox job again');
        });
      }
    } catch (err) {
      // A 404 or a 422 will fail the same way again: only what may pass is retried.
      const gaveUp = !isTransient(err) || job.attempts >= attempts;
      if (!gaveUp) {
        log.warn({ err, job: job.id, kind: job.kind, attempts: job.attempts }, 'outbox job failed; will retry');
        const wait = Math.max(backoffMs(job.attempts, err), Math.min(LONGEST_RATE_LIMIT_WAIT_MS, retryAfterMs(err, now())));
        await store.releaseTimer(job, new Date(now() + wait)).catch(() => undefined);
        return true;
      }
      await this.giveUp(job, err as Error);
    }
    return true;
  }

  private async giveUp(job: ClaimedTimer, err: Error): Promise<void> {
    const { store, log } = this.options;
    log.error({ err, job: job.id, kind: job.kind, attempts: job.attempts }, 'outbox job failed; giving up');
    await store.completeTimer(job).catch(() => undefined);
    await this.options.onGiveUp(job, err).catch((failure) => log.error({ err: failure, job: job.id }, 'could not record a failed outbox job'));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
