/**
 * Runs each webhook delivery once, however often GitHub (or an attacker replaying a captured,
 * correctly signed delivery) sends it: the store claims the delivery id first, and a handler's effect
 * marks it done in the same transaction (or, for a command comment, the comment's own mark does both). A failed handling that committed nothing releases the claim
 * (so a redelivery, or the reconciler, gets another chance) and is answered 503; one that had already
 * committed its effect is answered 2xx, since doing it again would do it twice. Never GitHub's own
 * status: a 403 rate limit from a call made while handling is not the App refusing the delivery.
 */
import type { Context } from 'probot';
import type { Metrics } from '../ops/metrics.js';
import type { Store } from '../store/store.js';

/** Resolves true when the handler's own transaction already marked the delivery handled, with its effect. */
type Handler<C extends Context> = (context: C) => Promise<void | boolean>;

/** Nothing was committed: 503, so whoever sent it may send it again. */
export class HandlingFailed extends Error {
  readonly status = 503;

  constructor(cause: unknown) {
    super(`the delivery could not be handled: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

export interface OnceOptions<C extends Context> {
  /**
   * Tells, from the payload alone, whether a delivery can have any effect: one that can't (an
   * ordinary comment, most of what an `issue_comment` subscription brings) is answered without
   * touching the store, since handling it twice would do nothing twice.
   */
  concerns?: (context: C) => boolean;
  /**
   * The handler makes sure itself that what the delivery is about is acted on once (a command
   * comment's record marks the comment, whichever delivery or reconcile brings it), so the delivery
   * needs no claim of its own.
   */
  dedupedByHandler?: boolean;
}

export function once<C extends Context>(store: Store, metrics: Metrics, handler: Handler<C>, options: OnceOptions<C> = {}): (context: C) => Promise<void> {
  return async (context) => {
    const event = 'action' in context.payload && context.payload.action ? `${context.name}.${String(context.payload.action)}` : context.name;
    const stop = metrics.webhookSeconds.startTimer({ event });
    if (options.concerns && !options.concerns(context)) {
      stop({ outcome: 'ignored' });
      return;
    }
    if (options.dedupedByHandler) {
      try {
        await handler(context);
        stop({ outcome: 'handled' });
      } catch (err) {
        // Whatever the handler committed is marked with it, so handling it again does it once.
        stop({ outcome: 'error' });
        throw new HandlingFailed(err);
      }
      return;
    }
    if (!(await store.claimDelivery(context.id, event))) {
      context.log.info({ delivery: context.id, event }, 'delivery already handled; ignoring the replay');
      stop({ outcome: 'replay' });
      return;
    }
    try {
      if (!(await handler(context))) await store.completeDelivery(context.id, event);
      stop({ outcome: 'handled' });
    } catch (err) {
      const released = await store.releaseDelivery(context.id).catch(() => true);
      stop({ outcome: 'error' });
      if (!released) {
        context.log.error({ err, delivery: context.id, event }, 'delivery failed after its effect was committed; not handling it again');
        return;
      }
      throw new HandlingFailed(err);
    }
  };
}
