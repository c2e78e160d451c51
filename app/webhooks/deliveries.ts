/**
 * Runs each webhook delivery once, however often GitHub (or an attacker replaying a captured,
 * correctly signed delivery) sends it: the store claims the delivery id first. A failed handling
 * releases the claim, so GitHub's redelivery gets another chance.
 */
import type { Context } from 'probot';
import type { Metrics } from '../ops/metrics.js';
import type { Store } from '../store/store.js';

type Handler<C extends Context> = (context: C) => Promise<void>;

export function once<C extends Context>(store: Store, metrics: Metrics, handler: Handler<C>): Handler<C> {
  return async (context) => {
    const event = 'action' in context.payload && context.payload.action ? `${context.name}.${String(context.payload.action)}` : context.name;
    const stop = metrics.webhookSeconds.startTimer({ event });
    if (!(await store.claimDelivery(context.id, event))) {
      context.log.info({ delivery: context.id, event }, 'delivery already handled; ignoring the replay');
      stop({ outcome: 'replay' });
      return;
    }
    try {
      await handler(context);
      await store.completeDelivery(context.id);
      stop({ outcome: 'handled' });
    } catch (err) {
      await store.releaseDelivery(context.id).catch(() => undefined);
      stop({ outcome: 'error' });
      throw err;
    }
  };
}
