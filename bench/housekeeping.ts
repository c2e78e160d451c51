/**
 * What a reconcile round costs the store once the App has run a long time (PostgreSQL of the bench's
 * own): 200,000 requests ended over a year and 10,000 pending; 1,000,000 marks of handled deliveries
 * made over 28 days. Timed with and without the indexes that serve these reads (requests by
 * `completed_at`, marks by age), alternating in one run.
 */
import pg from 'pg';
import { openStore, type Store } from '../app/store/index.js';
import { newRequest } from '../test/store/new-request.js';
import { PrivatePostgres } from '../test/chaos/private-postgres.js';
import { percentile, type BenchReport } from './report.js';

const ENDED = Number(process.env.BENCH_ENDED ?? 200_000);
const PENDING = Number(process.env.BENCH_PENDING ?? 10_000);
const MARKS = Number(process.env.BENCH_MARKS ?? 1_000_000);
const ROUNDS = 3;
const REPEATS = 20;
const DAY_MS = 24 * 3600_000;
/** As the reconciler asks: marks older than 14 days, 5,000 of each kind a round. */
const RETENTION_MS = 14 * DAY_MS;
const BATCH = 5000;

interface Index {
  name: string;
  definition: string;
}
const COMPLETED: Index = { name: 'requests_completed', definition: 'CREATE INDEX requests_completed ON requests (completed_at) WHERE completed_at IS NOT NULL' };
const RECEIVED: Index = { name: 'webhook_deliveries_received', definition: 'CREATE INDEX webhook_deliveries_received ON webhook_deliveries (received_at)' };

export async function measureHousekeeping(): Promise<BenchReport> {
  const postgres = await PrivatePostgres.start();
  const db = new pg.Client({ connectionString: postgres.url });
  let store: Store | undefined;
  try {
    await db.connect();
    store = await openStore({ databaseUrl: postgres.url });
    await fill(store, db);
    const times: Record<string, { with: number[]; without: number[] }> = {};
    const time = async (figure: string, indexed: boolean, read: () => Promise<unknown>, repeats = REPEATS) => {
      await read();
      const spent: number[] = [];
      for (let i = 0; i < repeats; i++) {
        const started = performance.now();
        await read();
        spent.push(performance.now() - started);
      }
      (times[figure] ??= { with: [], without: [] })[indexed ? 'with' : 'without'].push(...spent);
    };
    const open = store;
    const before = () => new Date(Date.now() - RETENTION_MS);
    for (let round = 0; round < ROUNDS; round++) {
      for (const indexed of [true, false]) {
        await setIndexes(db, indexed);
        await time('a round\'s page of pending requests (500)', indexed, () => open.listRequests({ status: 'pending', limit: 500 }));
        await time('a round\'s page of requests ended in the last day (500)', indexed, () => open.listRequests({ completedAfter: new Date(Date.now() - DAY_MS), limit: 500 }));
        await time('installations with a request pending or ended in 30 days', indexed, () => open.listServedInstallations(new Date(Date.now() - 30 * DAY_MS)));
        // One batch from a backlog of old marks, then none left: what a quiet round pays.
        await addOldMarks(db, `backlog-${round}-${indexed}`, BATCH * 2);
        await time(`forgetting a batch of ${BATCH.toLocaleString('en-US')} old marks`, indexed, () => open.pruneHandledMarks(before(), BATCH), 1);
        await db.query('DELETE FROM webhook_deliveries WHERE received_at < $1', [before()]);
        await db.query('VACUUM ANALYZE webhook_deliveries');
        await time('a round with no old mark to forget', indexed, () => open.pruneHandledMarks(before(), BATCH));
      }
    }
    await setIndexes(db, true);
    const median = (values: number[]) => percentile([...values].sort((a, b) => a - b), 50);
    return {
      title: `Reconcile round housekeeping on PostgreSQL: ${ENDED.toLocaleString('en-US')} requests ended over a year, ${PENDING.toLocaleString('en-US')} pending, ${MARKS.toLocaleString('en-US')} delivery marks over 28 days`,
      columns: ['store work', 'with indexes, ms', 'without, ms', 'without / with'],
      rows: Object.entries(times).map(([figure, { with: indexed, without }]) => [
        figure,
        median(indexed).toFixed(2),
        median(without).toFixed(2),
        `${(median(without) / median(indexed)).toFixed(1)}×`,
      ]),
      notes: [
        `medians; each side ${ROUNDS} times, alternating, ${REPEATS} reads each (a batch: once each time)`,
        'indexes: requests_completed (requests by completed_at), webhook_deliveries_received (marks by age)',
      ],
    };
  } finally {
    await store?.close();
    await db.end().catch(() => undefined);
    await postgres.stop();
  }
}

/** Requests copied from one made by the store (so every column is as the App writes it), and the marks. */
async function fill(store: Store, db: pg.Client): Promise<void> {
  const { request } = await store.createRequest(newRequest({ facts: { installationId: 7 } }));
  await store.completeRequest(request.id, { status: 'approved', reason: 'quorum', actor: 'alice' });
  const { rows } = await db.query<{ columns: string }>(
    `SELECT string_agg(quote_ident(column_name), ', ') AS columns FROM information_schema.columns
     WHERE table_schema = current_schema() AND table_name = 'requests' AND column_name NOT IN ('id', 'run_id', 'created_at', 'completed_at', 'status')`,
  );
  const columns = rows[0].columns;
  // The pending ones opened in the last hour; the ended ones over the year before, each decided a minute after it opened.
  await db.query(
    `INSERT INTO requests (id, run_id, created_at, completed_at, status, ${columns})
     SELECT gen_random_uuid(), 900000000 + g, opened, CASE WHEN g <= $1 THEN NULL ELSE opened + interval '1 minute' END,
       CASE WHEN g <= $1 THEN 'pending' ELSE 'approved' END, ${columns}
     FROM (SELECT * FROM requests WHERE id = $2) template, generate_series(1, $3::int) g,
       LATERAL (SELECT CASE WHEN g <= $1 THEN now() - g * (interval '1 hour' / $1)
                ELSE now() - interval '1 hour' - (g - $1) * (interval '365 days' / $4) END AS opened) at`,
    [PENDING, request.id, ENDED + PENDING, ENDED],
  );
  await db.query(
    `INSERT INTO webhook_deliveries (delivery_id, event, state, received_at, lease_until, attempts)
     SELECT 'delivery-' || g, 'check_run.requested_action', 'done', now() - g * $1::interval, now(), 1 FROM generate_series(1, $2::int) g`,
    [`${(28 * 24 * 3600) / MARKS} seconds`, MARKS],
  );
  await db.query('VACUUM ANALYZE');
}

async function setIndexes(db: pg.Client, indexed: boolean): Promise<void> {
  for (const index of [COMPLETED, RECEIVED]) {
    await db.query(indexed ? `${index.definition.replace('CREATE INDEX', 'CREATE INDEX IF NOT EXISTS')}` : `DROP INDEX IF EXISTS ${index.name}`);
  }
  await db.query('ANALYZE requests, webhook_deliveries');
}

async function addOldMarks(db: pg.Client, prefix: string, count: number): Promise<void> {
  await db.query(
    `INSERT INTO webhook_deliveries (delivery_id, event, state, received_at, lease_until, attempts)
     SELECT $1 || '-' || g, 'check_run.requested_action', 'done', now() - interval '20 days' - g * interval '1 second', now(), 1 FROM generate_series(1, $2::int) g`,
    [prefix, count],
  );
}
