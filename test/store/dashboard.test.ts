/**
 * What the dashboard asks of the store, on PGlite and on PostgreSQL: sessions, request filters with
 * keyset pages, audit search; and the filters stay fast with 10,000 requests.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { ApprovalRequest } from '../../app/store/index.js';
import { openPgliteBackend, openPostgresBackend, type Backend } from './harness.js';
import { newRequest, quorum } from './store-behaviour.js';

const BULK = 10_000;
/** Generous for a shared two-core machine: an unindexed plan over 10,000 jsonb rows takes several times this. */
const FAST_MS = 250;

describe.each([
  ['PGlite', openPgliteBackend],
  ['PostgreSQL', () => openPostgresBackend()],
] as const)('the dashboard\'s queries on %s', (backendName, open) => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await open();
  }, 60_000);
  afterAll(async () => backend?.close());

  test('a session is found by its hash until it expires, and is gone once deleted', async () => {
    const { store, clock } = backend;
    const session = { idHash: 'h1', login: 'bob', userId: '42', accessToken: 'ghu_x', csrfToken: 'c1', createdAt: clock.now, expiresAt: new Date(clock.now.getTime() + 60_000) };
    await store.createSession(session);
    expect(await store.getSession('h1', clock.now)).toEqual(session);
    expect(await store.getSession('other', clock.now)).toBeUndefined();
    expect(await store.getSession('h1', new Date(clock.now.getTime() + 60_000))).toBeUndefined();
    await store.deleteSession('h1');
    expect(await store.getSession('h1', clock.now)).toBeUndefined();
  });

  test('filters requests within the readable repositories, by id, and pages without gaps or repeats', async () => {
    const { store, clock } = backend;
    const [FILTERS, HIDDEN, GONE] = ['710001', '710002', '710003'];
    const made: ApprovalRequest[] = [];
    for (let i = 0; i < 7; i++) {
      clock.advance(1000);
      const [repository, repositoryId] = i % 2 === 0 ? ['acme/Filters', FILTERS] : ['acme/hidden', HIDDEN];
      made.push((await store.createRequest(newRequest({ repository, repositoryId, requester: i === 3 ? 'Carol' : 'octocat', action: i === 5 ? 'migrate' : 'deploy', environmentKey: i === 1 ? 'staging' : 'production' }))).request);
    }
    // A request of an earlier repository of the same name (renamed or deleted since): not the readable one's.
    const gone = (await store.createRequest(newRequest({ repository: 'acme/Filters', repositoryId: GONE }))).request;
    await store.castVote({ requestId: made[2]!.id, login: 'Bob', choice: 'approve', via: 'dashboard', tally: quorum(2) });
    const ids = (list: ApprovalRequest[]) => list.map((r) => r.id);
    const visible = [FILTERS];
    // Newest first, only the readable repository.
    expect(ids(await store.searchRequests({ repositoryIds: visible, limit: 10 }))).toEqual(ids([made[6]!, made[4]!, made[2]!, made[0]!]));
    expect(ids(await store.searchRequests({ repositoryIds: [GONE], limit: 10 }))).toEqual([gone.id]);
    expect(ids(await store.searchRequests({ repositoryIds: [], limit: 10 }))).toEqual([]);
    expect(ids(await store.searchRequests({ repositoryIds: visible, approver: 'bob', limit: 10 }))).toEqual([made[2]!.id]);
    expect(ids(await store.searchRequests({ repositoryIds: [HIDDEN], requester: 'carol', limit: 10 }))).toEqual([made[3]!.id]);
    expect(ids(await store.searchRequests({ repositoryIds: [HIDDEN], environment: 'STAGING', limit: 10 }))).toEqual([made[1]!.id]);
    expect(ids(await store.searchRequests({ repositoryIds: [HIDDEN], action: 'migrate', limit: 10 }))).toEqual([made[5]!.id]);
    expect(ids(await store.searchRequests({ repositoryIds: visible, createdFrom: made[2]!.createdAt, createdBefore: made[6]!.createdAt, limit: 10 }))).toEqual(ids([made[4]!, made[2]!]));
    expect(ids(await store.searchRequests({ repositoryIds: visible, oldestFirst: true, status: 'pending', limit: 2 }))).toEqual(ids([made[0]!, made[2]!]));
    const first = await store.searchRequests({ repositoryIds: visible, limit: 3 });
    const second = await store.searchRequests({ repositoryIds: visible, after: { createdAt: first.at(-1)!.createdAt, id: first.at(-1)!.id }, limit: 3 });
    expect([...ids(first), ...ids(second)]).toEqual(ids([made[6]!, made[4]!, made[2]!, made[0]!]));
    expect(await store.listRequestRepositories()).toEqual(expect.arrayContaining(['acme/Filters', 'acme/hidden']));
  });

  test('searches the audit trail of readable repositories only, by id, in chain order', async () => {
    const { store } = backend;
    const [AUDITED, SECRET] = ['720001', '720002'];
    const mine = (await store.createRequest(newRequest({ repository: 'acme/audited', repositoryId: AUDITED, action: 'audit-me' }))).request;
    const theirs = (await store.createRequest(newRequest({ repository: 'acme/secret', repositoryId: SECRET, action: 'audit-me' }))).request;
    // The same name, another repository: its events are not the readable repository's.
    const namesake = (await store.createRequest(newRequest({ repository: 'acme/audited', repositoryId: SECRET, action: 'audit-me' }))).request;
    await store.castVote({ requestId: mine.id, login: 'bob', choice: 'reject', note: 'no', via: 'dashboard', tally: quorum(1) });
    await store.castVote({ requestId: namesake.id, login: 'bob', choice: 'reject', note: 'secret', via: 'dashboard', tally: quorum(1) });
    const events = await store.searchAudit({ repositoryIds: [AUDITED], action: 'audit-me', limit: 100 });
    expect(events.map((e) => e.type)).toEqual(['requested', 'vote', 'rejected']);
    expect(events.every((e) => e.requestId === mine.id)).toBe(true);
    expect(events.map((e) => e.seq)).toEqual([...events.map((e) => e.seq)].sort((a, b) => a - b));
    expect((await store.searchAudit({ repositoryIds: [AUDITED], actor: 'BOB', limit: 100 })).map((e) => e.type)).toEqual(['vote', 'rejected']);
    expect(await store.searchAudit({ repositoryIds: [AUDITED], requestId: theirs.id, limit: 100 })).toEqual([]);
    const paged = await store.searchAudit({ repositoryIds: [AUDITED], afterSeq: events[0]!.seq, limit: 1 });
    expect(paged.map((e) => e.seq)).toEqual([events[1]!.seq]);
  });

  test(`stays fast with ${BULK.toLocaleString('en')} requests`, async () => {
    await backend.sql(
      `INSERT INTO requests (repository_id, run_id, run_attempt, action, job_key, repository, requester, facts, status, created_at, updated_at, completed_at, environment_key)
       SELECT 900000 + (n % 40), 5000000 + n, 1, 'deploy-' || (n % 7), 'environment:', 'bulk/repo-' || (n % 40), 'user-' || (n % 50),
              jsonb_build_object('environment', 'env-' || (n % 3)), CASE WHEN n % 10 = 0 THEN 'pending' ELSE 'approved' END,
              timestamp '2029-01-01' + n * interval '1 minute', timestamp '2029-01-01' + n * interval '1 minute',
              CASE WHEN n % 10 = 0 THEN NULL ELSE timestamp '2029-01-01' + n * interval '1 minute' END, 'env-' || (n % 3)
       FROM generate_series(1, ${BULK}) AS n`,
    );
    await backend.sql('ANALYZE requests');
    const readable = Array.from({ length: 20 }, (_, i) => String(900000 + i));
    const timed = async (run: () => Promise<unknown[]>) => {
      await run();
      const started = performance.now();
      const rows = await run();
      return { ms: performance.now() - started, rows: rows.length };
    };
    const figures = {
      newest: await timed(() => backend.store.searchRequests({ repositoryIds: readable, limit: 51 })),
      pendingOldest: await timed(() => backend.store.searchRequests({ repositoryIds: readable, status: 'pending', oldestFirst: true, limit: 100 })),
      requester: await timed(() => backend.store.searchRequests({ repositoryIds: readable, requester: 'user-7', limit: 51 })),
      deepPage: await timed(() => backend.store.searchRequests({ repositoryIds: readable, after: { createdAt: new Date('2029-01-06T00:00:00Z'), id: '00000000-0000-0000-0000-000000000000' }, limit: 51 })),
      environmentAndDates: await timed(() => backend.store.searchRequests({ repositoryIds: readable, environment: 'env-1', createdFrom: new Date('2029-01-02'), createdBefore: new Date('2029-01-05'), limit: 51 })),
    };
    for (const [name, { ms, rows }] of Object.entries(figures)) {
      expect([name, rows > 0]).toEqual([name, true]);
      expect([name, ms < FAST_MS]).toEqual([name, true]);
    }
    process.stdout.write(`dashboard queries on ${BULK} requests (${backendName}): ${Object.entries(figures).map(([n, f]) => `${n} ${f.ms.toFixed(1)} ms`).join(', ')}\n`);
  }, 60_000);
});
