/**
 * Runs the store's durable timers (request deadlines, time escalations, reminders, windows that open or close): they survive
 * restarts, and with several replicas each timer is claimed by one of them. Sleeps until the next
 * timer is due, at most `pollMs`.
 *
 * A timer of another subsystem's (`handlers`: the reconciler's round, which can take minutes) runs
 * beside the batches, not in one: the deadlines and escalations that fall due meanwhile are claimed
 * and fired as usual. While one of a kind runs, this replica claims no other of that kind. Another
 * replica may: a round schedules the next before it reconciles anything, so one that outlasts the reconcile
 * interval has the next one run beside it elsewhere.
 */
import type { Logger } from 'probot';
import { backoffMs } from '../github/transient.js';
import { EVALUATE_JOB, OUTBOX_KINDS, type ClaimedTimer, type Store } from '../store/store.js';
import { DEADLINE_TIMER, ESCALATION_TIMER, REMINDER_TIMER, TransientError, WINDOW_TIMER, type Gate } from './gate.js';

/** The outbox's jobs are its own worker's (`app/outbox/`). */
const NOT_OUTBOX = { except: OUTBOX_KINDS };

export interface TimerWorkerOptions {
  store: Store;
  gate: Gate;
  log: Logger;
  /** Longest sleep, so a timer scheduled by another replica is noticed. */
  pollMs?: number;
  /** Kinds of timers other subsystems run (the reconciler's round). */
  handlers?: Record<string, (timer: ClaimedTimer) => Promise<void>>;
  retryMs?: number;
  /** The App's clock (milliseconds since the epoch): timers fall due by it. */
  clock?: () => number;
}

export class TimerWorker {
  private timeout?: NodeJS.Timeout;
  private running?: Promise<void>;
  /** The other subsystems' timers running beside the batches, by kind. */
  private readonly beside = new Map<string, Promise<void>>();
  private stopped = false;
  private readonly now: () => number;

  constructor(private readonly options: TimerWorkerOptions) {
    this.now = options.clock ?? Date.now;
  }

  start(): void {
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timeout);
    await this.running;
    await Promise.all(this.beside.values());
  }

  /** Looks again soon, e.g. after this replica scheduled a deadline. */
  poke(): void {
    if (!this.running) this.schedule(0);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    clearTimeout(this.timeout);
    this.timeout = setTimeout(() => {
      this.running = this.tick().finally(() => (this.running = undefined));
    }, delayMs);
  }

  private async tick(): Promise<void> {
    const { store, log } = this.options;
    const pollMs = this.options.pollMs ?? 5000;
    let next = pollMs;
    try {
      const kinds = { except: [...NOT_OUTBOX.except, ...this.beside.keys()] };
      const due = await store.claimDueTimers(new Date(this.now()), 20, kinds);
      const batch = due.filter((timer) => !this.runsBeside(timer));
      await Promise.all(batch.map((timer) => this.run(timer)));
      const nextDue = due.length > 0 ? new Date(this.now()) : await store.nextTimerDue(kinds);
      if (nextDue) next = Math.min(pollMs, Math.max(0, nextDue.getTime() - this.now()));
    } catch (err) {
      log.error({ err }, 'timer check failed');
    }
    this.schedule(next);
  }

  /** True when `timer` is another subsystem's: it is then started beside the batch (after any of its kind claimed with it). */
  private runsBeside(timer: ClaimedTimer): boolean {
    if (!this.options.handlers?.[timer.kind]) return false;
    const { kind } = timer;
    const before = this.beside.get(kind) ?? Promise.resolve();
    const running: Promise<void> = before.then(() => this.run(timer)).finally(() => {
      if (this.beside.get(kind) !== running) return;
      this.beside.delete(kind);
      this.poke();
    });
    this.beside.set(kind, running);
    return true;
  }

  private async run(timer: ClaimedTimer): Promise<void> {
    const { store, gate, log } = this.options;
    try {
      if (timer.kind === DEADLINE_TIMER && timer.requestId) await gate.expire(timer.requestId);
      else if (timer.kind === ESCALATION_TIMER && timer.requestId) await gate.escalate(timer.requestId, timer.payload);
      else if (timer.kind === REMINDER_TIMER && timer.requestId) await gate.remind(timer.requestId, timer.dueAt);
      else if (timer.kind === EVALUATE_JOB && timer.requestId) await gate.evaluateRequest(timer.requestId);
      else if (timer.kind === WINDOW_TIMER && timer.requestId) await gate.recheckWindows(timer.requestId);
      else if (this.options.handlers?.[timer.kind]) await this.options.handlers[timer.kind](timer);
      else log.warn({ timer }, 'unknown timer kind; dropping it');
      await store.completeTimer(timer);
    } catch (err) {
      if (err instanceof TransientError) {
        log.warn({ err, timer: timer.id, attempts: timer.attempts }, 'evaluation will be retried');
        await store.releaseTimer(timer, new Date(this.now() + backoffMs(timer.attempts, err.cause))).catch(() => undefined);
        return;
      }
      log.error({ err, timer: timer.id }, 'timer failed; will retry');
      await store.releaseTimer(timer, new Date(this.now() + (this.options.retryMs ?? 30_000))).catch(() => undefined);
    }
  }
}
