/**
 * A reconcile round can take minutes (hundreds of threads read on GitHub, every installation looked
 * through); the deadlines, escalations and reminders that fall due meanwhile must not wait for it.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { DEADLINE_TIMER, type Gate } from '../../app/gate/gate.js';
import { TimerWorker } from '../../app/gate/timers.js';
import { RECONCILE_JOB } from '../../app/reconciler/reconciler.js';
import { openStore, type Store } from '../../app/store/index.js';
import { newRequest } from '../store/new-request.js';

let store: Store;
let now = Date.parse('2026-03-02T10:00:00Z');
beforeAll(async () => {
  store = await openStore({ dataDir: 'memory://', clock: () => new Date(now) });
});
afterAll(async () => store?.close());

/** Resolves once `done()` holds, looking every few milliseconds; rejects after `tries` looks. */
async function eventually(done: () => boolean, tries = 400): Promise<void> {
  for (let i = 0; i < tries && !done(); i += 1) await new Promise((resolve) => setTimeout(resolve, 5));
  if (!done()) throw new Error('never happened');
}

it('fires a deadline that falls due while a reconcile round is still running, and never runs two rounds at once', async () => {
  const { request } = await store.createRequest(newRequest());
  await store.scheduleTimer({ kind: RECONCILE_JOB, key: RECONCILE_JOB, dueAt: new Date(now) });
  await store.scheduleTimer({ kind: DEADLINE_TIMER, requestId: request.id, key: `deadline:${request.id}`, dueAt: new Date(now + 60_000) });

  const expired: string[] = [];
  const gate = { expire: async (id: string) => void expired.push(id) } as unknown as Gate;
  let rounds = 0;
  let endRound!: () => void;
  const roundEnds = new Promise<void>((resolve) => (endRound = resolve));
  const reconcile = async () => {
    rounds += 1;
    // As the reconciler does first: the next round is scheduled, due at once here.
    await store.scheduleTimer({ kind: RECONCILE_JOB, key: RECONCILE_JOB, dueAt: new Date(now) });
    await roundEnds;
  };
  const worker = new TimerWorker({ store, gate, log: pino({ level: 'silent' }), pollMs: 5, handlers: { [RECONCILE_JOB]: reconcile }, clock: () => now });
  worker.start();
  try {
    await eventually(() => rounds === 1);
    now += 61_000; // the deadline falls due while the round runs
    await eventually(() => expired.length > 0).catch(() => undefined);
    expect({ expired, rounds }).toEqual({ expired: [request.id], rounds: 1 });
  } finally {
    endRound();
    await worker.stop();
  }
  // The round that was due meanwhile runs once the first has ended.
  const again = new TimerWorker({ store, gate, log: pino({ level: 'silent' }), pollMs: 5, handlers: { [RECONCILE_JOB]: async () => void (rounds += 1) }, clock: () => now });
  again.start();
  await eventually(() => rounds === 2);
  await again.stop();
});
