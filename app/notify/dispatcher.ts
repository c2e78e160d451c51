/**
 * Sends notifications without ever holding up the gate: `dispatch` returns at once, each notifier
 * is delivered to on its own (a slow or dead one delays no other), failed attempts are retried with
 * exponential backoff and jitter up to a bound, and every attempt and every final failure goes to
 * the audit callback. Nothing here throws to the caller.
 */
import { randomUUID } from 'node:crypto';
import pRetry, { AbortError } from 'p-retry';
import type { NotificationEvent } from './event.js';
import type { Store } from '../store/store.js';
import { DeliveryError, type DeliveryReceipt, type Notifier } from './notifiers.js';

export type NotificationAuditType = 'notification_attempt' | 'notification_failed';

export interface NotificationAttemptFacts {
  notifier: string;
  notifierType?: Notifier['type'];
  event: NotificationEvent['kind'];
  deliveryId: string;
  attempt: number;
  maxAttempts: number;
  outcome: 'delivered' | 'failed';
  durationMs: number;
  status?: number;
  response?: string;
  error?: string;
}

export interface NotificationFailureFacts {
  notifier: string;
  notifierType?: Notifier['type'];
  event: NotificationEvent['kind'];
  deliveryId: string;
  /** How many attempts were made (0 for an unknown notifier). */
  attempts: number;
  reason: 'unknown_notifier' | 'attempts_exhausted' | 'permanent_error' | 'request_decided';
  error: string;
}

/** Records one fact in the audit trail; the App binds it to `store.appendAudit` (see `storeAudit`). */
export type NotificationAudit = (
  record:
    | { type: 'notification_attempt'; requestId: string; facts: NotificationAttemptFacts }
    | { type: 'notification_failed'; requestId: string; facts: NotificationFailureFacts },
) => Promise<void>;

export interface RetryPolicy {
  /** Attempts per notifier and event, the first included. */
  attempts: number;
  /** Wait before the first retry; each later wait doubles, and no wait (jitter included) exceeds `maxDelayMs`. */
  minDelayMs: number;
  maxDelayMs: number;
  /** Multiply each wait by a random factor between 1 and 2, so replicas and notifiers do not retry in step. */
  jitter: boolean;
}

/**
 * 8.5 to 17 minutes of trying (2 s, 4 s, … 256 s between attempts, each times the jitter) before a
 * notification is given up. The cap applies after the jitter, so it is above the largest jittered wait.
 */
export const DEFAULT_RETRY_POLICY: RetryPolicy = { attempts: 9, minDelayMs: 2000, maxDelayMs: 600_000, jitter: true };

interface DispatcherLog {
  warn(details: object, message: string): void;
}

export interface DispatcherOptions {
  notifiers: ReadonlyMap<string, Notifier>;
  audit: NotificationAudit;
  retry?: Partial<RetryPolicy>;
  log?: DispatcherLog;
  /** Asked before each attempt: false gives the event up (a reminder for a request decided meanwhile). */
  stillCurrent?: (event: NotificationEvent) => Promise<boolean>;
}

/** Given up rather than sent: what it says is no longer so. */
class NoLongerCurrent extends Error {}

export class NotificationDispatcher {
  private readonly retry: RetryPolicy;
  private readonly outstanding = new Set<Promise<void>>();

  constructor(private readonly options: DispatcherOptions) {
    this.retry = { ...DEFAULT_RETRY_POLICY, ...options.retry };
  }

  /** Starts delivering `event` to each named notifier (each once, however often named) and returns at once. */
  dispatch(event: NotificationEvent, notifierNames: Iterable<string>): void {
    for (const name of new Set(notifierNames)) {
      const delivery = this.deliver(event, name).catch((err: unknown) => {
        // deliver() handles its own failures; this only guards against a bug turning into an unhandled rejection.
        this.options.log?.warn({ err, notifier: name, requestId: event.requestId }, 'notification delivery crashed');
      });
      this.outstanding.add(delivery);
      void delivery.finally(() => this.outstanding.delete(delivery));
    }
  }

  /** Resolves when every delivery started so far (its retries and audit records included) has finished. */
  async idle(): Promise<void> {
    while (this.outstanding.size > 0) await Promise.all([...this.outstanding]);
  }

  private async deliver(event: NotificationEvent, name: string): Promise<void> {
    const deliveryId = randomUUID();
    const notifier = this.options.notifiers.get(name);
    const base = { notifier: name, event: event.kind, deliveryId };
    if (!notifier) {
      const known = [...this.options.notifiers.keys()].join(', ') || 'none';
      await this.record({ type: 'notification_failed', requestId: event.requestId, facts: { ...base, attempts: 0, reason: 'unknown_notifier', error: `no notifier named "${name}" is configured (configured: ${known})` } });
      return;
    }
    const { attempts, minDelayMs, maxDelayMs, jitter } = this.retry;
    const common = { ...base, notifierType: notifier.type, maxAttempts: attempts };
    let made = 0;
    try {
      await pRetry(
        async (attempt) => {
          if (this.options.stillCurrent && !(await this.options.stillCurrent(event))) {
            throw new AbortError(new NoLongerCurrent(`the request was decided before this ${event.kind} notification was delivered`));
          }
          made = attempt;
          const started = Date.now();
          let receipt: DeliveryReceipt;
          try {
            receipt = await notifier.send(event, { id: deliveryId });
          } catch (err) {
            const error = err instanceof DeliveryError ? err : new DeliveryError((err as Error)?.message ?? String(err), { permanent: false, cause: err });
            await this.record({
              type: 'notification_attempt',
              requestId: event.requestId,
              facts: { ...common, attempt, outcome: 'failed', durationMs: Date.now() - started, ...(error.status ? { status: error.status } : {}), error: error.message },
            });
            throw error.permanent ? new AbortError(error) : error;
          }
          await this.record({ type: 'notification_attempt', requestId: event.requestId, facts: { ...common, attempt, outcome: 'delivered', durationMs: Date.now() - started, ...receipt } });
        },
        { retries: attempts - 1, minTimeout: minDelayMs, maxTimeout: maxDelayMs, factor: 2, randomize: jitter },
      );
    } catch (err) {
      const permanent = err instanceof DeliveryError && err.permanent;
      const reason = err instanceof NoLongerCurrent ? 'request_decided' : permanent ? 'permanent_error' : 'attempts_exhausted';
      await this.record({
        type: 'notification_failed',
        requestId: event.requestId,
        facts: { ...base, notifierType: notifier.type, attempts: made, reason, error: (err as Error).message },
      });
    }
  }

  /** An audit write that fails must not stop delivery: it is logged and delivery goes on. */
  private async record(record: Parameters<NotificationAudit>[0]): Promise<void> {
    try {
      await this.options.audit(record);
    } catch (err) {
      this.options.log?.warn({ err, audit: record }, 'could not record a notification audit event');
    }
  }
}

/**
 * A reminder or an escalation notice is worth sending only while its request waits: one still being
 * retried when the request is decided would arrive after the decision. A store that cannot answer
 * does not stop a notification.
 */
export function storeStillWaiting(store: Pick<Store, 'getRequest'>): (event: NotificationEvent) => Promise<boolean> {
  return async (event) => {
    if (event.kind !== 'reminder' && event.kind !== 'escalated') return true;
    return store.getRequest(event.requestId).then((request) => request?.status === 'pending', () => true);
  };
}

/** The audit callback that writes to the App's hash-chained audit trail, as the App's own actor. */
export function storeAudit(store: Pick<Store, 'appendAudit'>, actor = 'app'): NotificationAudit {
  return async ({ type, requestId, facts }) => {
    await store.appendAudit({ type, actor, requestId, facts });
  };
}
