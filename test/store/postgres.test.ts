import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import pg from 'pg';
import { ALL_REQUESTS, openStore, type Store, type VoteResult } from '../../app/store/index.js';
import { MIGRATIONS } from '../../app/store/migrations.js';
import { openPostgresDatabase } from '../../app/store/postgres-database.js';
import { APPEND_AUDIT } from '../../app/store/sql-store.js';
import { dropSchema, openPostgresBackend, POSTGRES_URL, randomSchema, type PostgresBackend } from './harness.js';
import { collect, describeStoreBehaviour, newRequest, quorum } from './store-behaviour.js';

describe('store on PostgreSQL', () => {
  describeStoreBehaviour(openPostgresBackend);
});

describe('several App replicas on one PostgreSQL database', () => {
  let backend: PostgresBackend;
  let a: Store;
  let b: Store;
  beforeAll(async () => {
    backend = await openPostgresBackend();
    a = backend.store;
    b = await backend.openReplica();
  });
  afterAll(async () => {
    await backend?.close();
  });

  test('replies to one person\'s refused commands on a thread, handled through two replicas at once, stay within their allowance', async () => {
    const pr = 1 + Math.floor(Math.random() * 2 ** 30);
    const { request } = await a.createRequest(newRequest({ prNumber: pr }));
    const refuse = async (replica: Store, i: number) => {
      const commentId = 1_000_000 + i;
      const reply = (key: string) => ({ kind: 'reply', key: `${key}:${request.id}:${commentId}`, requestId: request.id, dueAt: new Date() });
      await replica.recordHandled({
        audit: [{ type: 'vote_refused', actor: 'mallory', requestId: request.id, facts: { via: 'comment', comment_id: commentId } }],
        timers: [{ ...reply('reply'), allowance: { repositoryId: request.repositoryId, issueNumber: pr, actor: 'mallory', max: 4, windowMs: 3600_000, last: reply('last-reply') } }],
        handledBy: { comment: { repositoryId: request.repositoryId, commentId } },
      });
      return (await a.cancelTimers({ key: `reply:${request.id}:${commentId}` })) + (await a.cancelTimers({ key: `last-reply:${request.id}:${commentId}` }));
    };
    const queued = await Promise.all(Array.from({ length: 20 }, (_, i) => refuse(i % 2 === 0 ? a : b, i)));
    expect(queued.reduce((sum, n) => sum + n, 0)).toBe(4);
    expect((await a.listAudit({ requestId: request.id })).filter((event) => event.type === 'vote_refused')).toHaveLength(20);
  });

  test('concurrent votes through two replicas complete each request exactly once', async () => {
    for (let round = 0; round < 5; round++) {
      const { request } = await a.createRequest(newRequest());
      const votes: Promise<VoteResult>[] = [];
      for (let i = 0; i < 30; i++) {
        const replica = i % 2 === 0 ? a : b;
        // Half the voters vote twice, once through each replica.
        const login = `voter${i % 15}`;
        votes.push(replica.castVote({ requestId: request.id, login, choice: 'approve', via: 'comment', tally: quorum(4) }));
      }
      const results = await Promise.all(votes);
      expect(results.filter((result) => result.outcome === 'recorded' && result.completed)).toHaveLength(1);
      expect(results.filter((result) => result.outcome === 'recorded')).toHaveLength(4);
      expect(await a.listVotes(request.id)).toHaveLength(4);
      const final = (await b.listAudit({ requestId: request.id })).map((event) => event.type);
      expect(final.filter((type) => type === 'approved')).toHaveLength(1);
      expect(final.filter((type) => type === 'vote')).toHaveLength(4);
    }
    expect(await b.verifyAudit()).toMatchObject({ ok: true });
  });

  test('concurrent audit appends from two replicas keep one linear chain', async () => {
    await Promise.all(
      Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).appendAudit({ type: 'notification_attempt', actor: 'app', facts: { i } })),
    );
    const verified = await a.verifyAudit();
    expect(verified.ok).toBe(true);
  });

  test('a transaction waiting on a row does not hold up audit appends of other replicas', async () => {
    // The audit chain's head row is every append's turn-taking point: a vote must lock it only to
    // append, just before committing, not from its first event until it commits.
    const { request } = await a.createRequest(newRequest({ deadline: new Date(backend.clock.now.getTime() + 3_600_000) }));
    const blocker = new pg.Client({ connectionString: POSTGRES_URL, options: `-c search_path=${backend.schema}` });
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      // The deadline timer: the deciding vote deletes it, so it waits here after recording its vote.
      expect((await blocker.query('SELECT id FROM timers WHERE request_id = $1 FOR UPDATE', [request.id])).rows).toHaveLength(1);
      const vote = a.castVote({ requestId: request.id, login: 'carol', choice: 'approve', via: 'button', tally: quorum(1) });
      const deadline = Date.now() + 10_000;
      const waiting = `SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%DELETE FROM timers WHERE request_id%'`;
      while ((await backend.sql(waiting)).length === 0) {
        if (Date.now() > deadline) throw new Error('the vote never reached the locked timer');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const appended = b.appendAudit({ type: 'notification_attempt', actor: 'app', facts: { while: 'a vote waits' } });
      let timer: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([appended.then(() => 'appended'), new Promise((resolve) => (timer = setTimeout(() => resolve('still waiting'), 3000)))]);
      clearTimeout(timer);
      expect(outcome).toBe('appended');
      await blocker.query('COMMIT');
      expect(await vote).toMatchObject({ outcome: 'recorded', completed: true });
      const events = await a.listAudit({ requestId: request.id });
      expect(events.map((event) => event.type)).toEqual(['requested', 'vote', 'approved']);
      expect(events[1].seq).toBeGreaterThan((await appended).seq);
      expect(await a.verifyAudit()).toMatchObject({ ok: true });
    } finally {
      await blocker.query('ROLLBACK').catch(() => {});
      await blocker.end();
    }
  });

  test("a timer's record for a waiting request waits for a decision under way on another replica, and then records nothing", async () => {
    const { request } = await a.createRequest(newRequest());
    const decider = new pg.Client({ connectionString: POSTGRES_URL, options: `-c search_path=${backend.schema}` });
    await decider.connect();
    try {
      await decider.query('BEGIN');
      await decider.query('SELECT id FROM requests WHERE id = $1 FOR UPDATE', [request.id]);
      const recorded = b.recordWhilePending(request.id, { audit: [{ type: 'escalated', actor: 'app', requestId: request.id, facts: {} }], timers: [{ kind: 'reminder', key: `reminder:${request.id}`, requestId: request.id, dueAt: new Date(backend.clock.now.getTime() + 60_000) }] });
      const deadline = Date.now() + 10_000;
      const waiting = `SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%FOR SHARE%'`;
      while ((await backend.sql(waiting)).length === 0) {
        if (Date.now() > deadline) throw new Error('the record never waited for the row');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await decider.query("UPDATE requests SET status = 'timed_out', completed_at = now() WHERE id = $1", [request.id]);
      await decider.query('COMMIT');
      expect(await recorded).toBe(false);
      expect((await a.listAudit({ requestId: request.id })).map((event) => event.type)).toEqual(['requested']);
      expect(await a.cancelTimers({ key: `reminder:${request.id}` })).toBe(0);
    } finally {
      await decider.query('ROLLBACK').catch(() => {});
      await decider.end();
    }
  });

  test('each due timer is claimed by exactly one replica', async () => {
    const now = backend.clock.now;
    const kind = 'escalation-race';
    for (let i = 0; i < 20; i++) await a.scheduleTimer({ kind, dueAt: now, payload: { i } });
    const batches = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? a : b).claimDueTimers(now, 3)));
    const claimed = batches.flat().filter((timer) => timer.kind === kind);
    expect(new Set(claimed.map((timer) => timer.id)).size).toBe(claimed.length);
    const rest = (await b.claimDueTimers(now, 100)).filter((timer) => timer.kind === kind);
    expect(claimed.length + rest.length).toBe(20);
    expect(new Set([...claimed, ...rest].map((timer) => timer.id)).size).toBe(20);
  });

  test('a change made through one replica is heard by a subscriber on another', async () => {
    const { request } = await a.createRequest(newRequest());
    const seen = collect(1, { skipCreated: true });
    const unsubscribe = await a.subscribe(request.id, seen.listener);
    await b.castVote({ requestId: request.id, login: 'alice', choice: 'approve', via: 'button', tally: quorum(1) });
    expect(await seen.done).toEqual([{ requestId: request.id, status: 'approved', change: 'completed' }]);
    await unsubscribe();
  });

  test('a subscriber keeps hearing changes after its listening connection is killed', async () => {
    const listening = `SELECT pid FROM pg_stat_activity WHERE query = 'LISTEN mercurial_jit_changes_${backend.schema}'`;
    await a.subscribe(ALL_REQUESTS, () => {});
    const killed = await backend.sql(`SELECT pid, pg_terminate_backend(pid) AS killed FROM (${listening}) AS l`);
    expect(killed.length).toBeGreaterThan(0);
    // The killed backend can linger in pg_stat_activity for a moment, and a new one shows its LISTEN
    // while it is still running: wait for a different backend that has finished it.
    const killedPids = killed.map((row) => Number(row.pid));
    const reconnected = `SELECT pid FROM (${listening} AND state = 'idle') AS l WHERE NOT (pid = ANY(ARRAY[${killedPids.join(',')}]::int[]))`;
    const deadline = Date.now() + 10_000;
    while ((await backend.sql(reconnected)).length === 0) {
      if (Date.now() > deadline) throw new Error('the listener did not reconnect');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const { request } = await b.createRequest(newRequest());
    const seen = collect(1, { skipCreated: true });
    const unsubscribe = await a.subscribe(request.id, seen.listener);
    await b.completeRequest(request.id, { status: 'cancelled', reason: 'cancelled', actor: 'octocat' });
    expect(await seen.done).toEqual([{ requestId: request.id, status: 'cancelled', change: 'completed' }]);
    await unsubscribe();
  });

  test('requests created through two replicas at the same moment never pass a cap on pending ones', async () => {
    const repositoryId = String(Date.now());
    const limits = { perRepository: 5, perRunAttempt: 5 };
    const attempts = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).createRequest(newRequest({ repositoryId, runId: String(i), action: 'deploy', limits }))),
    );
    expect(attempts.filter((attempt) => attempt.status === 'fulfilled')).toHaveLength(5);
    expect(attempts.filter((attempt) => attempt.status === 'rejected').map((attempt) => (attempt as PromiseRejectedResult).reason)).toEqual(
      Array.from({ length: 15 }, () => expect.objectContaining({ scope: 'repository', pending: 5 })),
    );
    expect((await a.countPendingRequests({ repositoryId, runId: '0', runAttempt: '1' })).repository).toBe(5);
  });

  test('a request waiting for its turn on the cap has already been written, and the statement waiting for the turn travels with the audit append', async () => {
    // Creations in one repository take turns on the cap; what each writes before its turn is written
    // side by side with the others, not one after another, and the turn ends on the server: no round
    // trip through the App between taking it and the commit.
    const repositoryId = String(Date.now() + 1);
    const blocker = new pg.Client({ connectionString: POSTGRES_URL, options: `-c search_path=${backend.schema}` });
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`pending-requests:${repositoryId}`]);
      const created = a.createRequest(newRequest({ repositoryId, deadline: new Date(backend.clock.now.getTime() + 3_600_000), limits: { perRepository: 5, perRunAttempt: 5 } }));
      // The backend waiting for this repository's lock: pg_locks shows an advisory key as its two halves.
      const waiting = `SELECT pid FROM pg_locks, (SELECT hashtextextended($1, 0) AS k) AS lock
                       WHERE locktype = 'advisory' AND NOT granted AND classid::bigint = (lock.k >> 32) & 4294967295 AND objid::bigint = lock.k & 4294967295`;
      const deadline = Date.now() + 10_000;
      let rows: Record<string, unknown>[];
      while ((rows = await backend.sql(waiting, [`pending-requests:${repositoryId}`])).length === 0) {
        if (Date.now() > deadline) throw new Error('the creation never came to the cap');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const held = await backend.sql(
        `SELECT DISTINCT relation::regclass::text AS relation FROM pg_locks WHERE pid = $1 AND mode = 'RowExclusiveLock' AND relation::regclass::text IN ('requests', 'timers')`,
        [rows[0].pid],
      );
      expect(held.map((row) => row.relation).sort()).toEqual(['requests', 'timers']);
      const [activity] = await backend.sql('SELECT query FROM pg_stat_activity WHERE pid = $1', [rows[0].pid]);
      // The turn, then the audit append (and the COMMIT, past what pg_stat_activity keeps of a query): one round trip.
      expect(String(activity.query)).toMatch(/^SELECT take_pending_turn\([^;]*\);\s*WITH RECURSIVE\s+head AS \(SELECT seq, hash FROM audit_head /);
      await blocker.query('COMMIT');
      expect(await created).toMatchObject({ created: true });
      expect(await a.verifyAudit()).toMatchObject({ ok: true });
    } finally {
      await blocker.query('ROLLBACK').catch(() => {});
      await blocker.end();
    }
  });

  test('an audit append is planned cheaply enough that PostgreSQL never compiles it', async () => {
    // A plan estimated past jit_above_cost gets JIT-compiled on every append, some 30 ms while every
    // other append waits on the chain's head.
    const [plan] = await backend.sql(`EXPLAIN (FORMAT JSON) ${APPEND_AUDIT}`, [
      JSON.stringify([{ head: '{"actor":"app","at":"2030-01-01T00:00:00.000Z","facts":{},"prevHash":', middle: ',"requestId":null,"seq":', tail: ',"type":"x"}', requestId: null, type: 'x', actor: 'app', facts: {} }]),
      new Date(),
    ]);
    const [{ jit_above_cost: jitAboveCost }] = await backend.sql(`SELECT current_setting('jit_above_cost')::float AS jit_above_cost`);
    const cost = (plan['QUERY PLAN'] as Array<{ Plan: { 'Total Cost': number } }>)[0].Plan['Total Cost'];
    expect(cost).toBeLessThan(Math.min(Number(jitAboveCost), 100_000) / 10);
  });

  test('a delivery replayed to the other replica is handled once', async () => {
    const id = `delivery-${Date.now()}`;
    const claims = await Promise.all([a.claimDelivery(id, 'issue_comment'), b.claimDelivery(id, 'issue_comment')]);
    expect(claims.filter(Boolean)).toHaveLength(1);
  });
});

describe('prepared statements', () => {
  const schema = randomSchema();
  const db = openPostgresDatabase(POSTGRES_URL, schema);
  const prepared = async () =>
    (await db.query<{ name: string }>(`SELECT name FROM pg_prepared_statements WHERE statement NOT LIKE '%pg_prepared_statements%' ORDER BY name`)).map((row) => row.name);
  beforeAll(async () => {
    await db.exec(`CREATE SCHEMA ${schema}; CREATE TABLE ${schema}.items (id int PRIMARY KEY, label text); INSERT INTO ${schema}.items VALUES (1, 'one')`);
  });
  afterAll(async () => {
    await db.exec(`DROP SCHEMA ${schema} CASCADE`);
    await db.close();
  });

  // One statement at a time: the pool hands out the connection last given back, so all of these share it.
  test('a statement is prepared once per connection and then only bound', async () => {
    await db.query('SELECT label FROM items WHERE id = $1', [1]);
    await db.query('SELECT label FROM items WHERE id = $1', [1]);
    expect(await prepared()).toHaveLength(1);
    await db.transaction((tx) => tx.query('SELECT label FROM items WHERE id = $1 FOR UPDATE', [1]));
    expect(await prepared()).toHaveLength(2);
    await db.query('SELECT count(*) AS n FROM items');
    expect(await prepared()).toHaveLength(3);
  });

  test('a migration that changes what SELECT * returns is recovered from, in and out of transactions', async () => {
    const read = () => db.query('SELECT * FROM items WHERE id = $1', [1]);
    const lock = () => db.transaction((tx) => tx.query('SELECT * FROM items WHERE id = $1 FOR UPDATE', [1]));
    expect(await read()).toEqual([{ id: 1, label: 'one' }]);
    expect(await lock()).toEqual([{ id: 1, label: 'one' }]);
    // What another replica's migration does; PostgreSQL then refuses the plans prepared before it.
    await db.exec(`ALTER TABLE ${schema}.items ADD COLUMN note text`);
    expect(await read()).toEqual([{ id: 1, label: 'one', note: null }]);
    expect(await lock()).toEqual([{ id: 1, label: 'one', note: null }]);
    await db.exec(`ALTER TABLE ${schema}.items ADD COLUMN tag text`);
    expect(await lock()).toEqual([{ id: 1, label: 'one', note: null, tag: null }]);
    expect(await read()).toEqual([{ id: 1, label: 'one', note: null, tag: null }]);
  });

  test('a pooler that loses prepared statements between calls turns naming off', async () => {
    const read = () => db.query('SELECT label FROM items WHERE id = $1', [1]);
    await read();
    // What a transaction-mode pooler does when it hands the next call another server connection.
    await db.exec('DEALLOCATE ALL');
    expect(await read()).toEqual([{ label: 'one' }]);
    expect(await db.transaction((tx) => tx.query('SELECT label FROM items WHERE id = $1', [1]))).toEqual([{ label: 'one' }]);
    expect(await prepared()).toEqual([]);
  });
});

describe('migrations', () => {
  const schema = randomSchema();
  const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 1 });
  afterAll(async () => {
    await dropSchema(pool, schema);
    await pool.end();
  });

  test('replicas starting together apply each migration exactly once', async () => {
    const stores = await Promise.all(Array.from({ length: 4 }, () => openStore({ databaseUrl: POSTGRES_URL, schema })));
    await Promise.all(stores.map((store) => store.close()));
    const { rows } = await pool.query(`SELECT version FROM ${schema}.schema_migrations ORDER BY version`);
    expect(rows.map((row) => row.version)).toEqual(MIGRATIONS.map((migration) => migration.version));

    const again = await openStore({ databaseUrl: POSTGRES_URL, schema });
    await again.close();
    const { rows: after } = await pool.query(`SELECT count(*)::int AS n FROM ${schema}.schema_migrations`);
    expect(after[0].n).toBe(MIGRATIONS.length);
  });

  test('a store that already holds pending requests starts its kept counts from them', async () => {
    const store = await openStore({ databaseUrl: POSTGRES_URL, schema });
    const run = { repositoryId: '5150', runId: '1', runAttempt: '1' };
    const made = await Promise.all(['deploy', 'migrate', 'seed'].map((action) => store.createRequest(newRequest({ ...run, action }))));
    await store.createRequest(newRequest({ ...run, repositoryId: '5151' }));
    await store.completeRequest(made[0]!.request.id, { status: 'approved', reason: 'approved', actor: 'octocat' });
    await store.close();
    // As the store was before the counts were kept.
    await pool.query(`DROP TABLE ${schema}.pending_request_counts; DROP TRIGGER requests_count_pending ON ${schema}.requests;
      DROP FUNCTION ${schema}.count_pending_request_change(); DELETE FROM ${schema}.schema_migrations WHERE version = 7`);

    const reopened = await openStore({ databaseUrl: POSTGRES_URL, schema });
    try {
      const { rows } = await pool.query(`SELECT repository_id::text, pending FROM ${schema}.pending_request_counts ORDER BY repository_id`);
      expect(rows).toEqual([{ repository_id: '5150', pending: 2 }, { repository_id: '5151', pending: 1 }]);
      await expect(reopened.createRequest(newRequest({ ...run, runId: '2', limits: { perRepository: 2, perRunAttempt: 5 } }))).rejects.toMatchObject({ scope: 'repository', pending: 2 });
    } finally {
      await reopened.close();
    }
  });

  test('an App older than the schema refuses to start, and changes nothing', async () => {
    await (await openStore({ databaseUrl: POSTGRES_URL, schema })).close();
    const latest = Math.max(...MIGRATIONS.map((migration) => migration.version));
    // What a newer release of the App left: a migration this one does not know.
    await pool.query(`INSERT INTO ${schema}.schema_migrations (version, name) VALUES ($1, 'from a newer release')`, [latest + 1]);
    try {
      await expect(openStore({ databaseUrl: POSTGRES_URL, schema })).rejects.toThrow(
        `the database's schema is at migration ${latest + 1}, newer than this release of the App knows (${latest})`,
      );
      const { rows } = await pool.query(`SELECT max(version)::int AS latest, count(*)::int AS n FROM ${schema}.schema_migrations`);
      expect(rows[0]).toEqual({ latest: latest + 1, n: MIGRATIONS.length + 1 });
    } finally {
      await pool.query(`DELETE FROM ${schema}.schema_migrations WHERE version > $1`, [latest]);
    }
  });

  test('a migration that fails leaves the database as it was and names itself', async () => {
    await (await openStore({ databaseUrl: POSTGRES_URL, schema })).close();
    // Its row lost, its tables kept: migration 7 runs again, and cannot.
    await pool.query(`DELETE FROM ${schema}.schema_migrations WHERE version = 7`);
    try {
      await expect(openStore({ databaseUrl: POSTGRES_URL, schema })).rejects.toThrow(
        'migration 7 (pending requests counted per repository as they change, for the cap) failed, and the database was left as it was: relation "pending_request_counts" already exists',
      );
      const { rows } = await pool.query(`SELECT array_agg(version ORDER BY version) AS versions FROM ${schema}.schema_migrations`);
      expect(rows[0].versions).toEqual(MIGRATIONS.map((migration) => migration.version).filter((version) => version !== 7));
    } finally {
      await pool.query(`INSERT INTO ${schema}.schema_migrations (version, name) VALUES (7, 'restored')`);
    }
  });

  test('a schema name that is not a plain identifier is refused', async () => {
    await expect(openStore({ databaseUrl: POSTGRES_URL, schema: 'x; DROP TABLE y' })).rejects.toThrow(/invalid schema name/);
  });
});
