/** Prometheus metrics. A registry per App instance, so tests can run several Apps in one process. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ApprovalRequest, Store } from '../store/store.js';

/** How long one count of the requests by status answers scrapes. */
export const COUNTS_FRESH_MS = 5000;

export class Metrics {
  readonly registry = new Registry();
  readonly decisionSeconds = new Histogram({
    name: 'jit_decision_latency_seconds',
    help: 'Time from request to final status, by status',
    labelNames: ['status'],
    buckets: [0.5, 5, 30, 60, 300, 900, 3600, 4 * 3600, 24 * 3600],
    registers: [this.registry],
  });
  readonly webhookSeconds = new Histogram({
    name: 'jit_webhook_handling_seconds',
    help: 'Time to handle one webhook delivery, by event and outcome',
    labelNames: ['event', 'outcome'],
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly completions = new Counter({
    name: 'jit_requests_completed_total',
    help: 'Requests that reached a final status, by status',
    labelNames: ['status'],
    registers: [this.registry],
  });

  constructor(store: Store, now: () => number = Date.now) {
    // Read from the store at scrape time so every replica reports the shared truth; a count is a scan of
    // every request, so scrapes within COUNTS_FRESH_MS of it (a burst at an open /metrics, say) share it.
    let counted: { at: number; counts: Promise<Record<string, number>> } | undefined;
    const counts = () => {
      if (!counted || now() - counted.at >= COUNTS_FRESH_MS) {
        const current = { at: now(), counts: store.countRequestsByStatus() };
        // A failed count is not kept: the next scrape asks the store again.
        current.counts.catch(() => {
          if (counted === current) counted = undefined;
        });
        counted = current;
      }
      return counted.counts;
    };
    new Gauge({
      name: 'jit_requests',
      help: 'Requests in the store, by status',
      labelNames: ['status'],
      registers: [this.registry],
      async collect() {
        for (const [status, count] of Object.entries(await counts())) this.set({ status }, count);
      },
    });
    collectDefaultMetrics({ register: this.registry });
  }

  requestCompleted(request: ApprovalRequest): void {
    this.completions.inc({ status: request.status });
    const end = request.completedAt ?? new Date();
    this.decisionSeconds.observe({ status: request.status }, (end.getTime() - request.createdAt.getTime()) / 1000);
  }
}
