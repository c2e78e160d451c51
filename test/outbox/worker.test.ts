import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { OutboxWorker } from '../../app/outbox/worker.js';
import { openStore, PUBLISH_JOB, REPLY_JOB, type ClaimedTimer, type Store } from '../../app/store/index.js';

let store: Store;
beforeAll(async () => {
  store = await openStore({ dataDir: 'memory://' });
});
afterAll(async () => store?.close());

it('a stop waits for the job under way and hands the jobs queued behind it back, due at once', async () => {
  const now = Date.now();
  for (const n of [1, 2, 3]) await store.scheduleTimer({ kind: PUBLISH_JOB, dueAt: new Date(now - 10_000 + n), payload: { installationId: 7, n } });
  const ran: number[] = [];
  let started!: () => void;
  const firstStarted = new Promise<void>((resolve) => (started = resolve));
  let finish!: () => void;
  const firstFinishes = new Promise<void>((resolve) => (finish = resolve));
  const worker = new OutboxWorker({
    store,
    log: pino({ level: 'silent' }),
    // One installation's jobs run one after another, a long pause apart, as GitHub's pacing makes them.
    spacingMs: 60_000,
    handlers: {
      [PUBLISH_JOB]: async (job: ClaimedTimer) => {
        ran.push((job.payload as { n: number }).n);
        started();
        await firstFinishes;
      },
    },
    onGiveUp: async () => undefined,
  });
  await worker.start();
  await firstStarted;
  const stopping = worker.stop();
  finish();
  let timer: NodeJS.Timeout | undefined;
  const stoppedIn = await Promise.race([stopping.then(() => 'stopped'), new Promise((resolve) => (timer = setTimeout(() => resolve('still waiting'), 5_000)))]);
  clearTimeout(timer);
  expect(stoppedIn).toBe('stopped');
  expect(ran).toEqual([1]);
  // The two never begun are claimable now by whoever runs next; the finished one is gone.
  const left = await store.claimDueTimers(new Date(), 10, { only: [PUBLISH_JOB] });
  expect(left.map((job) => (job.payload as { n: number }).n).sort()).toEqual([2, 3]);
});

it("a job whose lease ended while it waited behind its installation's earlier jobs runs once, from its new claim", async () => {
  // Leases far shorter than the installation's backlog takes, as with hundreds of requests queued in one installation.
  const leased = await openStore({ dataDir: 'memory://', leaseMs: 2000 });
  try {
    const now = Date.now();
    for (const n of [1, 2, 3]) await leased.scheduleTimer({ kind: PUBLISH_JOB, dueAt: new Date(now - 10_000 + n), payload: { installationId: 7, n } });
    const runs: Array<{ n: number; leaseLeftMs: number }> = [];
    const worker = new OutboxWorker({
      store: leased,
      log: pino({ level: 'silent' }),
      pollMs: 100,
      spacingMs: 1200,
      handlers: {
        [PUBLISH_JOB]: async (job: ClaimedTimer) => {
          runs.push({ n: (job.payload as { n: number }).n, leaseLeftMs: job.leaseUntil.getTime() - Date.now() });
        },
      },
      onGiveUp: async () => undefined,
    });
    await worker.start();
    const deadline = Date.now() + 8_000;
    while (Date.now() < deadline && (runs.length < 3 || (await leased.nextTimerDue({ only: [PUBLISH_JOB] })) !== undefined)) await new Promise((resolve) => setTimeout(resolve, 100));
    await worker.stop();
    // The third job's first claim lapsed at 2 s, before its turn at 2.4 s: only its second claim ran it.
    expect(runs.map((run) => run.n).sort()).toEqual([1, 2, 3]);
    for (const run of runs) expect(run.leaseLeftMs).toBeGreaterThan(0);
    expect(await leased.nextTimerDue({ only: [PUBLISH_JOB] })).toBeUndefined();
  } finally {
    await leased.close();
  }
}, 60_000);

it("time spent waiting behind its installation's earlier jobs uses up neither a job's tries nor its lease", async () => {
  // Leases shorter than the installation's backlog takes: the third job's first claim lapses before its turn.
  const leased = await openStore({ dataDir: 'memory://', leaseMs: 2000 });
  try {
    const now = Date.now();
    for (const n of [1, 2, 3]) await leased.scheduleTimer({ kind: PUBLISH_JOB, dueAt: new Date(now - 10_000 + n), payload: { installationId: 7, n } });
    const runs: Array<{ n: number; attempts: number; leaseLeftMs: number }> = [];
    const gaveUp: number[] = [];
    const worker = new OutboxWorker({
      store: leased,
      log: pino({ level: 'silent' }),
      pollMs: 100,
      spacingMs: 1200,
      // Two tries: a job whose lapsed claim had counted as one would be given up at its first failure.
      maxAttempts: 2,
      handlers: {
        [PUBLISH_JOB]: async (job: ClaimedTimer) => {
          const n = (job.payload as { n: number }).n;
          runs.push({ n, attempts: job.attempts, leaseLeftMs: job.leaseUntil.getTime() - Date.now() });
          // GitHub answers the third job's first try with a 502.
          if (n === 3 && job.attempts === 1) throw Object.assign(new Error('Bad Gateway'), { status: 502 });
        },
      },
      onGiveUp: async (job) => void gaveUp.push((job.payload as { n: number }).n),
    });
    await worker.start();
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline && (await leased.nextTimerDue({ only: [PUBLISH_JOB] })) !== undefined) await new Promise((resolve) => setTimeout(resolve, 100));
    await worker.stop();
    expect(gaveUp).toEqual([]);
    expect(runs.map(({ n, attempts }) => [n, attempts])).toEqual([
      [1, 1],
      [2, 1],
      [3, 1],
      [3, 2],
    ]);
    // Each began with a whole lease before it, however long it had waited for its turn.
    for (const run of runs) expect(run.leaseLeftMs).toBeGreaterThan(1500);
    expect(await leased.nextTimerDue({ only: [PUBLISH_JOB] })).toBeUndefined();
  } finally {
    await leased.close();
  }
}, 60_000);

it('with every claimed job still under way, the worker waits for one to finish instead of asking the store again and again', async () => {
  const busy = await openStore({ dataDir: 'memory://' });
  const looks = { claims: 0, nextDue: 0 };
  // Counts the worker's looks at the store; everything else passes through.
  const counted = new Proxy(busy, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver);
      if (name === 'claimDueTimers') return (...args: Parameters<Store['claimDueTimers']>) => (looks.claims++, target.claimDueTimers(...args));
      if (name === 'nextTimerDue') return (...args: Parameters<Store['nextTimerDue']>) => (looks.nextDue++, target.nextTimerDue(...args));
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const worker = new OutboxWorker({
    store: counted,
    log: pino({ level: 'silent' }),
    // One installation's backlog, longer than a look claims: its jobs run a second apart, as GitHub's pacing makes them.
    spacingMs: 1000,
    handlers: { [PUBLISH_JOB]: async () => undefined },
    onGiveUp: async () => undefined,
  });
  try {
    const now = Date.now();
    for (let n = 0; n < 80; n++) await busy.scheduleTimer({ kind: PUBLISH_JOB, dueAt: new Date(now - 10_000 + n), payload: { installationId: 7, n } });
    await worker.start();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    // The first look claims a full batch; then a job finishes once a second, and each makes room for one
    // look. A worker that asks when the next job falls due meanwhile is told "now", again and again.
    expect(looks.claims).toBeGreaterThanOrEqual(1);
    expect(looks.claims + looks.nextDue).toBeLessThanOrEqual(10);
  } finally {
    await worker.stop();
    await busy.close();
  }
}, 30_000);

it("one installation's backlog does not hold back another installation's jobs", async () => {
  const shared = await openStore({ dataDir: 'memory://' });
  const ran: Array<{ installation: number; at: number }> = [];
  const worker = new OutboxWorker({
    store: shared,
    log: pino({ level: 'silent' }),
    pollMs: 100,
    // GitHub's pacing: an installation's jobs run a second apart.
    spacingMs: 1000,
    handlers: {
      [PUBLISH_JOB]: async (job: ClaimedTimer) => void ran.push({ installation: (job.payload as { installationId: number }).installationId, at: Date.now() }),
    },
    onGiveUp: async () => undefined,
  });
  try {
    const now = Date.now();
    // One repository's workflows flooded their installation's lane; another installation's job falls due after.
    for (let n = 0; n < 80; n++) await shared.scheduleTimer({ kind: PUBLISH_JOB, dueAt: new Date(now - 10_000 + n), payload: { installationId: 7, n } });
    await shared.scheduleTimer({ kind: PUBLISH_JOB, dueAt: new Date(now - 1000), payload: { installationId: 8 } });
    const started = Date.now();
    await worker.start();
    while (Date.now() - started < 5_000 && !ran.some((r) => r.installation === 8)) await new Promise((resolve) => setTimeout(resolve, 100));
    // It runs at once, beside the backlog, not some eighty seconds later behind it.
    expect(ran.find((r) => r.installation === 8)?.at).toBeLessThan(started + 3_000);
  } finally {
    await worker.stop();
    await shared.close();
  }
}, 30_000);

it('a publication whose lease ran out while GitHub kept it waiting runs again after it ends, so its older writes are not the last', async () => {
  // One store, two replicas' workers; a lease far shorter than GitHub keeps the first run waiting (a secondary rate limit's retry-after).
  const shared = await openStore({ dataDir: 'memory://', leaseMs: 1000 });
  const runs: Array<{ worker: string; start: number; end?: number }> = [];
  const workerOf = (name: string) =>
    new OutboxWorker({
      store: shared,
      log: pino({ level: 'silent' }),
      pollMs: 100,
      handlers: {
        [PUBLISH_JOB]: async () => {
          const run: { worker: string; start: number; end?: number } = { worker: name, start: Date.now() };
          runs.push(run);
          if (runs.length === 1) await new Promise((resolve) => setTimeout(resolve, 4000));
          run.end = Date.now();
        },
      },
      onGiveUp: async () => undefined,
    });
  const first = workerOf('first');
  const second = workerOf('second');
  try {
    await shared.scheduleTimer({ kind: PUBLISH_JOB, key: 'publish:lease', dueAt: new Date(Date.now() - 1000), payload: { installationId: 9 } });
    await first.start();
    while (runs.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    // The first replica is being replaced (a rolling deploy): it claims nothing more, and finishes the run under way.
    const stopping = first.stop();
    await second.start();
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && (runs.some((run) => run.end === undefined) || (await shared.nextTimerDue({ only: [PUBLISH_JOB] })) !== undefined)) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await stopping;
    // The second replica took the job over while the first still ran it; a run then began after the first one's writes ended.
    expect(runs.length).toBeGreaterThanOrEqual(3);
    const slow = runs[0];
    expect(Math.max(...runs.map((run) => run.start))).toBeGreaterThanOrEqual(slow.end!);
    expect(await shared.nextTimerDue({ only: [PUBLISH_JOB] })).toBeUndefined();
  } finally {
    await first.stop();
    await second.stop();
    await shared.close();
  }
}, 30_000);

it("a flood of replies to commands does not hold back its installation's publications", async () => {
  const shared = await openStore({ dataDir: 'memory://' });
  const ran: Array<{ kind: string; at: number }> = [];
  const worker = new OutboxWorker({
    store: shared,
    log: pino({ level: 'silent' }),
    pollMs: 100,
    // GitHub's pacing: an installation's writes run a second apart (its comments three).
    spacingMs: 1000,
    handlers: {
      [REPLY_JOB]: async () => void ran.push({ kind: REPLY_JOB, at: Date.now() }),
      [PUBLISH_JOB]: async () => void ran.push({ kind: PUBLISH_JOB, at: Date.now() }),
    },
    onGiveUp: async () => undefined,
  });
  try {
    const now = Date.now();
    // Someone who may comment posted eighty refused `/approve`s, each answered by a reply; then another
    // repository of the installation opens a request, whose check run and thread are to be shown.
    for (let n = 0; n < 80; n++) await shared.scheduleTimer({ kind: REPLY_JOB, key: `reply:flood:${n}`, dueAt: new Date(now - 10_000 + n), payload: { installationId: 7, n } });
    await shared.scheduleTimer({ kind: PUBLISH_JOB, dueAt: new Date(now - 1000), payload: { installationId: 7 } });
    const started = Date.now();
    await worker.start();
    while (Date.now() - started < 10_000 && !ran.some((r) => r.kind === PUBLISH_JOB)) await new Promise((resolve) => setTimeout(resolve, 100));
    // It is shown within seconds, not after the eighty replies (some eighty seconds, or four minutes at GitHub's pace for comments).
    expect(ran.find((r) => r.kind === PUBLISH_JOB)?.at).toBeLessThan(started + 6_000);
  } finally {
    await worker.stop();
    await shared.close();
  }
}, 30_000);

it('a job GitHub asks to wait longer than a minute (a rate limit) waits that long, and does not use up its tries meanwhile', async () => {
  const shared = await openStore({ dataDir: 'memory://' });
  const tries: number[] = [];
  const gaveUp: string[] = [];
  const resetAt = Math.ceil(Date.now() / 1000) + 20 * 60;
  const worker = new OutboxWorker({
    store: shared,
    log: pino({ level: 'silent' }),
    pollMs: 100,
    maxAttempts: 3,
    handlers: {
      // The installation's hourly budget is spent: GitHub answers 403 until its reset, twenty minutes away.
      [PUBLISH_JOB]: async (job: ClaimedTimer) => {
        tries.push(job.attempts);
        throw Object.assign(new Error('API rate limit exceeded for installation ID 7.'), {
          status: 403,
          response: { headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(resetAt) } },
        });
      },
    },
    onGiveUp: async (job: ClaimedTimer, err: Error) => void gaveUp.push(err.message),
  });
  try {
    await shared.scheduleTimer({ kind: PUBLISH_JOB, key: 'publish:limited', dueAt: new Date(Date.now() - 1000), payload: { installationId: 7 } });
    await worker.start();
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    // Tried once, then left until GitHub's reset: not every few seconds until given up (and its request failed).
    expect(gaveUp).toEqual([]);
    expect(tries).toEqual([1]);
    expect((await shared.nextTimerDue({ only: [PUBLISH_JOB] }))!.getTime()).toBeGreaterThanOrEqual(resetAt * 1000);
  } finally {
    await worker.stop();
    await shared.close();
  }
}, 30_000);

it('a job begun as often as its tries allow without ever ending (its replica died each time) is given up, not begun again', async () => {
  const leased = await openStore({ dataDir: 'memory://', leaseMs: 200 });
  try {
    await leased.scheduleTimer({ kind: PUBLISH_JOB, key: 'publish:poison', dueAt: new Date(Date.now() - 1000), payload: { installationId: 7 } });
    // Three replicas in turn began it and died mid-way (it exhausts their memory, say): nobody completed or released it.
    for (let n = 0; n < 3; n++) {
      const [claimed] = await leased.claimDueTimers(new Date(), 10, { only: [PUBLISH_JOB], startsLater: true });
      expect(await leased.startTimer(claimed, new Date())).toBeDefined();
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    const ran: number[] = [];
    const gaveUp: Array<{ attempts: number; error: string }> = [];
    const worker = new OutboxWorker({
      store: leased,
      log: pino({ level: 'silent' }),
      pollMs: 100,
      maxAttempts: 3,
      handlers: { [PUBLISH_JOB]: async (job: ClaimedTimer) => void ran.push(job.attempts) },
      onGiveUp: async (job: ClaimedTimer, err: Error) => void gaveUp.push({ attempts: job.attempts, error: err.message }),
    });
    await worker.start();
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline && gaveUp.length === 0 && ran.length === 0) await new Promise((resolve) => setTimeout(resolve, 50));
    await worker.stop();
    // Not a fourth time, which would kill this replica too: given up (its request fails closed), and gone.
    expect(ran).toEqual([]);
    expect(gaveUp).toEqual([{ attempts: 4, error: expect.stringContaining('3 tries') }]);
    expect(await leased.nextTimerDue({ only: [PUBLISH_JOB] })).toBeUndefined();
  } finally {
    await leased.close();
  }
}, 30_000);
