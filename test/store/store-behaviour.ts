/**
 * The behaviour every Store back end must have. Each back-end test file runs it against one real
 * database; tests share that store, so each works on its own requests and timer kinds.
 */
import { randomInt } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import {
  ALL_REQUESTS,
  type ApprovalRequest,
  type ChangeEvent,
  type ClaimedTimer,
  type NewRequest,
  PendingLimitError,
  REPLY_JOB,
  type Tally,
  type VoteResult,
} from '../../app/store/index.js';
import { auditHash } from '../../app/store/audit-chain.js';
import type { Backend } from './harness.js';
import { newRequest, quorum } from './new-request.js';

export { newRequest, quorum };

/**
 * Resolves with the events a listener saw once `count` arrived, or rejects after `ms`.
 * Notifications travel asynchronously, so one committed just before subscribing may still arrive:
 * tests that subscribe to a request after creating it skip its `created` event.
 */
export function collect(
  count: number,
  options: { skipCreated?: boolean; ms?: number } = {},
): { events: ChangeEvent[]; listener: (e: ChangeEvent) => void; done: Promise<ChangeEvent[]> } {
  const events: ChangeEvent[] = [];
  let resolve!: (events: ChangeEvent[]) => void;
  const done = new Promise<ChangeEvent[]>((res, reject) => {
    resolve = res;
    const why = (): Error => new Error(`only ${events.length} of ${count} events: ${JSON.stringify(events)}`);
    setTimeout(() => reject(why()), options.ms ?? 5000).unref();
  });
  return {
    events,
    done,
    listener: (event) => {
      if (options.skipCreated && event.change === 'created') return;
      events.push(event);
      if (events.length === count) resolve(events);
    },
  };
}

/** Polls `probe` until it returns a non-empty list, for up to `ms`. */
async function eventually<T>(probe: () => T[], ms = 5000): Promise<T[]> {
  const until = Date.now() + ms;
  for (;;) {
    const found = probe();
    if (found.length > 0) return found;
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export function describeStoreBehaviour(open: () => Promise<Backend>): void {
  let backend: Backend;
  beforeAll(async () => {
    backend = await open();
  }, 60_000);
  afterAll(async () => {
    await backend?.close();
  });

  async function auditTypes(requestId: string): Promise<string[]> {
    return (await backend.store.listAudit({ requestId })).map((event) => event.type);
  }

  async function create(overrides: Partial<NewRequest> = {}): Promise<ApprovalRequest> {
    const { created, request } = await backend.store.createRequest(newRequest(overrides));
    expect(created).toBe(true);
    return request;
  }

  describe('requests', () => {
    test('creating is idempotent on repository, run, attempt and action', async () => {
      const input = newRequest();
      const first = await backend.store.createRequest(input);
      expect(first.created).toBe(true);
      expect(first.request).toMatchObject({ status: 'pending', repositoryId: input.repositoryId, runId: input.runId, reason: null });

      const retry = await backend.store.createRequest({ ...input, facts: { different: true } });
      expect(retry.created).toBe(false);
      expect(retry.request.id).toBe(first.request.id);
      expect(retry.request.facts).toEqual(input.facts);

      const otherAttempt = await backend.store.createRequest({ ...input, runAttempt: '2' });
      expect(otherAttempt.created).toBe(true);
      expect(otherAttempt.request.id).not.toBe(first.request.id);

      expect(await auditTypes(first.request.id)).toEqual(['requested']);
      expect(await backend.store.findRequest(input)).toEqual(first.request);
    });

    test('an invalid date is refused, naming it, and nothing is written', async () => {
      const invalid = new Date(Number.NaN);
      const input = newRequest({ deadline: invalid });
      await expect(backend.store.createRequest(input)).rejects.toThrow("the request's deadline is not a valid date");
      expect(await backend.store.findRequest(input)).toBeUndefined();
      const request = await create({ deadline: new Date(backend.clock.now.getTime() + 3600_000) });
      await expect(backend.store.updateRequest(request.id, { deadline: invalid })).rejects.toThrow("the request's deadline is not a valid date");
      await expect(backend.store.recordDecision(request.id, { decision: request.decision ?? {}, facts: request.facts, deadline: invalid })).rejects.toThrow(
        "the request's deadline is not a valid date",
      );
      expect((await backend.store.getRequest(request.id))?.deadline).toEqual(request.deadline);
    });

    test("a renamed repository's requests of the same installation, and only those, take its new name, facts included", async () => {
      const repositoryId = String(9_000_000 + Math.floor(Math.random() * 1_000_000));
      const facts = { owner: 'acme', repo: 'old-name', installationId: 7, ref: 'refs/heads/main' };
      const [first, second] = [await create({ repositoryId, repository: 'acme/old-name', facts }), await create({ repositoryId, repository: 'acme/old-name', facts })];
      const other = await create({ repository: 'acme/old-name', facts });
      // Another installation's word about the repository (one it was transferred to) moves nothing.
      expect(await backend.store.renameRepository(repositoryId, { owner: 'acme-labs', repo: 'new-name', installationId: 8 })).toBe(0);
      expect(await backend.store.renameRepository(repositoryId, { owner: 'acme', repo: 'new-name', installationId: 7 })).toBe(2);
      expect(await backend.store.renameRepository(repositoryId, { owner: 'acme', repo: 'new-name', installationId: 7 })).toBe(0);
      for (const id of [first.id, second.id]) {
        expect(await backend.store.getRequest(id)).toMatchObject({ repository: 'acme/new-name', facts: { owner: 'acme', repo: 'new-name', installationId: 7, ref: 'refs/heads/main' } });
      }
      expect(await backend.store.getRequest(other.id)).toMatchObject({ repository: 'acme/old-name', facts });
    });

    test('concurrent creates of one request make exactly one', async () => {
      const input = newRequest();
      const results = await Promise.all(Array.from({ length: 8 }, () => backend.store.createRequest(input)));
      expect(results.filter((result) => result.created)).toHaveLength(1);
      expect(new Set(results.map((result) => result.request.id)).size).toBe(1);
      expect(await auditTypes(results[0].request.id)).toEqual(['requested']);
    });

    test('an unknown or malformed id is not found', async () => {
      expect(await backend.store.getRequest('00000000-0000-4000-8000-000000000000')).toBeUndefined();
      expect(await backend.store.getRequest("1' OR '1'='1")).toBeUndefined();
      expect(await backend.store.completeRequest('not-a-uuid', { status: 'cancelled', reason: 'x', actor: 'a' })).toBeUndefined();
    });

    test('a request completes exactly once, and only the caller that completed it is told so', async () => {
      const request = await create();
      const results = await Promise.all([
        backend.store.completeRequest(request.id, { status: 'approved', reason: 'quorum', actor: 'alice' }),
        backend.store.completeRequest(request.id, { status: 'cancelled', reason: 'cancelled by the Action', actor: 'octocat' }),
        backend.store.completeRequest(request.id, { status: 'timed_out', reason: 'deadline', actor: 'app' }),
      ]);
      const winners = results.filter((result) => result!.changed);
      expect(winners).toHaveLength(1);
      const final = winners[0]!.request;
      for (const result of results) expect(result!.request.status).toBe(final.status);

      const stored = await backend.store.getRequest(request.id);
      expect(stored).toMatchObject({ status: final.status, reason: final.reason, completedBy: final.completedBy });
      expect(stored!.completedAt).toEqual(backend.clock.now);
      expect(await auditTypes(request.id)).toEqual(['requested', final.status]);
    });

    test('a pending request is marked announced once, its facts as they are then kept, and a decided one never', async () => {
      const request = await create();
      // Facts written after the announcer read the request stay: the mark is made on the row as it is.
      await backend.store.updateRequest(request.id, { facts: { ...request.facts, evaluated: { branch: 'main' } } });
      const marks = await Promise.all([backend.store.markAnnounced(request.id), backend.store.markAnnounced(request.id)]);
      expect(marks.filter(Boolean)).toHaveLength(1);
      expect(await backend.store.markAnnounced(request.id)).toBe(false);
      expect((await backend.store.getRequest(request.id))!.facts).toMatchObject({ evaluated: { branch: 'main' }, announced: true });

      const decided = await create();
      await backend.store.completeRequest(decided.id, { status: 'approved', reason: 'quorum', actor: 'alice' });
      expect(await backend.store.markAnnounced(decided.id)).toBe(false);
      expect((await backend.store.getRequest(decided.id))!.facts).not.toHaveProperty('announced');
      expect(await backend.store.markAnnounced('not-a-uuid')).toBe(false);
    });

    test('auto-approval is audited as auto_approved', async () => {
      const request = await create();
      const result = await backend.store.completeRequest(request.id, {
        status: 'approved',
        reason: 'auto',
        actor: 'policy',
        facts: { rules: ['docs'] },
      });
      expect(result).toMatchObject({ changed: true, request: { status: 'approved', reason: 'auto' } });
      const events = await backend.store.listAudit({ requestId: request.id });
      expect(events.map((event) => event.type)).toEqual(['requested', 'auto_approved']);
      expect(events[1].facts).toEqual({ status: 'approved', reason: 'auto', rules: ['docs'] });
    });

    test('the database itself refuses to change a final status', async () => {
      const request = await create();
      await backend.store.completeRequest(request.id, { status: 'rejected', reason: 'no', actor: 'bob' });
      await expect(backend.sql(`UPDATE requests SET status = 'approved' WHERE id = $1`, [request.id])).rejects.toThrow(/already rejected/);
      expect((await backend.store.getRequest(request.id))!.status).toBe('rejected');
    });

    test('GitHub ids and the decision are kept and found again', async () => {
      const request = await create({ prNumber: 42 });
      const checkRunId = randomInt(1, 2 ** 40);
      const updated = await backend.store.updateRequest(request.id, {
        decision: { outcome: 'approval_required', requirements: [{ approvals: 2 }] },
        checkRunId,
        checkRunUrl: `https://github.example/acme/web/runs/${checkRunId}`,
        commentId: 7,
        commentUrl: 'https://github.example/acme/web/pull/42#issuecomment-7',
      });
      expect(updated).toMatchObject({
        decision: { outcome: 'approval_required', requirements: [{ approvals: 2 }] },
        checkRunId,
        commentId: 7,
        prNumber: 42,
        issueNumber: null,
      });
      expect((await backend.store.getRequest(request.id))?.checkRunId).toBe(checkRunId);

      const viaIssue = await create();
      await backend.store.updateRequest(viaIssue.id, { issueNumber: 43, issueUrl: 'https://github.example/acme/web/issues/43' });
      // A command comment's first read: the thread's requests (by PR or by approval issue), and whether that comment was handled.
      expect(await backend.store.commandThread(request.repositoryId, 42, 99)).toEqual({ requests: [expect.objectContaining({ id: request.id })], handled: false, deleted: false });
      expect(await backend.store.commandThread(request.repositoryId, 43, 99)).toEqual({ requests: [expect.objectContaining({ id: viaIssue.id, issueNumber: 43 })], handled: false, deleted: false });
      await backend.store.completeComment(request.repositoryId, 99);
      expect(await backend.store.commandThread(request.repositoryId, 42, 99)).toEqual({ requests: [expect.objectContaining({ id: request.id })], handled: true, deleted: false });
      expect(await backend.store.commandThread(request.repositoryId, 44, 99)).toEqual({ requests: [], handled: true, deleted: false });
      expect(await backend.store.commandThread(request.repositoryId, 44, 100)).toEqual({ requests: [], handled: false, deleted: false });
    });

    test("a new request's deadline and evaluation jobs are scheduled with it, and a recorded decision replaces them", async () => {
      const now = backend.clock.now.getTime();
      const timers = async (id: string) =>
        (await backend.sql('SELECT kind, key, due_at FROM timers WHERE request_id = $1 ORDER BY kind', [id])).map((row) => ({
          kind: row.kind,
          key: row.key,
          dueAt: new Date(String(row.due_at)).getTime(),
        }));
      const { request } = await backend.store.createRequest(newRequest({ deadline: new Date(now + 3_600_000), evaluateAt: new Date(now + 30_000) }));
      expect(await timers(request.id)).toEqual([
        { kind: 'deadline', key: `deadline:${request.id}`, dueAt: now + 3_600_000 },
        { kind: 'evaluate', key: `evaluate:${request.id}`, dueAt: now + 30_000 },
      ]);

      const seen = collect(1, { skipCreated: true });
      const unsubscribe = await backend.store.subscribe(request.id, seen.listener);
      const decision = { outcome: 'approval_required', requirements: [{ approvals: 1 }] };
      const recorded = await backend.store.recordDecision(request.id, { decision, facts: { ...request.facts, checked: true }, deadline: new Date(now + 7_200_000), prNumber: 7 });
      expect(recorded).toMatchObject({ recorded: true, request: { id: request.id, decision, facts: { checked: true }, prNumber: 7, status: 'pending' } });
      expect(await seen.done).toEqual([{ requestId: request.id, status: 'pending', change: 'updated' }]);
      await unsubscribe();
      // The evaluation is done: its job goes; the deadline moves; the decision is to be published now.
      expect(await timers(request.id)).toEqual([
        { kind: 'deadline', key: `deadline:${request.id}`, dueAt: now + 7_200_000 },
        { kind: 'publish', key: `publish:${request.id}`, dueAt: now },
      ]);
      // Decided once: a second decision is not recorded unless it replaces the first.
      expect(await backend.store.recordDecision(request.id, { decision: { outcome: 'auto_approve' }, facts: {}, deadline: new Date(now) })).toMatchObject({ recorded: false, request: { decision } });
      expect(await timers(request.id)).toHaveLength(2);

      // A job-level gate's request is also reviewed on its deployment.
      const gate = await create();
      await backend.store.recordDecision(gate.id, { decision, facts: { deployment: { environment: 'production' } }, deadline: new Date(now + 60_000) });
      expect((await timers(gate.id)).map((timer) => timer.kind)).toEqual(['deadline', 'deployment_review', 'publish']);
    });

    test('a request whose deadline has passed is not decided again: its deadline stays, for its timer to end it', async () => {
      const now = backend.clock.now.getTime();
      const decision = { outcome: 'approval_required', requirements: [{ approvals: 1 }] };
      const request = await create({ deadline: new Date(now + 60_000) });
      expect(await backend.store.recordDecision(request.id, { decision, facts: request.facts, deadline: new Date(now + 60_000) })).toMatchObject({ recorded: true });
      // An outage: the deadline passed, and a window's re-decision is handled before the deadline's timer.
      await backend.sql('UPDATE requests SET deadline = $2 WHERE id = $1', [request.id, new Date(now - 1000)]);
      const late = await backend.store.recordDecision(request.id, { decision: { outcome: 'held' }, facts: request.facts, deadline: new Date(now + 7_200_000), replace: true });
      expect(late).toMatchObject({ recorded: false, request: { status: 'pending', decision, deadline: new Date(now - 1000) } });
      const deadlineTimer = await backend.sql("SELECT due_at FROM timers WHERE key = 'deadline:' || $1::text", [request.id]);
      expect(new Date(String(deadlineTimer[0]?.due_at)).getTime()).toBe(now + 60_000);
    });

    test('requests are listed page by page from where the last page ended, as in one listing', async () => {
      for (let i = 0; i < 4; i++) await create();
      const whole = await backend.store.listRequests({ status: 'pending', limit: 100_000 });
      const paged: ApprovalRequest[] = [];
      for (let page = await backend.store.listRequests({ status: 'pending', limit: 3 }); page.length > 0; ) {
        paged.push(...page);
        const last = page.at(-1)!;
        page = await backend.store.listRequests({ status: 'pending', limit: 3, after: { createdAt: last.createdAt, id: last.id } });
      }
      expect(paged.map((request) => request.id)).toEqual(whole.map((request) => request.id));
    });

    test('the installations served are those of pending requests and of requests ended since, each once', async () => {
      const installation = () => randomInt(1, 2 ** 40);
      const [waiting, endedLately, endedLongAgo] = [installation(), installation(), installation()];
      const withInstallation = (installationId: unknown) => create({ facts: { installationId } });
      await withInstallation(waiting);
      await withInstallation(waiting);
      const old = await withInstallation(endedLongAgo);
      await backend.store.completeRequest(old.id, { status: 'approved', reason: 'quorum', actor: 'alice' });
      backend.clock.advance(31 * 24 * 3600_000);
      const lately = await withInstallation(endedLately);
      await backend.store.completeRequest(lately.id, { status: 'rejected', reason: 'rejected', actor: 'bob' });
      // Facts the App never writes name no installation.
      for (const odd of ['12abc', 0, -5, '9'.repeat(20), null]) await withInstallation(odd);

      const served = await backend.store.listServedInstallations(new Date(backend.clock.now.getTime() - 30 * 24 * 3600_000));
      expect(served.filter((id) => id === waiting)).toEqual([waiting]);
      expect(served).toContain(endedLately);
      expect(served).not.toContain(endedLongAgo);
      expect(served.every((id) => Number.isSafeInteger(id) && id > 0)).toBe(true);
    });

    test('counts requests by status', async () => {
      const before = await backend.store.countRequestsByStatus();
      const request = await create();
      await create();
      await backend.store.completeRequest(request.id, { status: 'cancelled', reason: 'cancelled', actor: 'octocat' });
      const after = await backend.store.countRequestsByStatus();
      expect(after.pending - before.pending).toBe(1);
      expect(after.cancelled - before.cancelled).toBe(1);
      expect(after.approved).toBe(before.approved);
    });

    test('answers a ping, the health check\'s one query', async () => {
      await expect(backend.store.ping()).resolves.toBeUndefined();
    });

    test('counts the pending requests of a repository and of one run attempt', async () => {
      const repository = String(randomInt(1, 2 ** 40));
      const run = { repositoryId: repository, runId: '77', runAttempt: '1' };
      await backend.store.createRequest(newRequest({ ...run, action: 'deploy' }));
      const done = await backend.store.createRequest(newRequest({ ...run, action: 'migrate' }));
      await backend.store.createRequest(newRequest({ ...run, runAttempt: '2' }));
      await backend.store.createRequest(newRequest({ repositoryId: repository, runId: '78' }));
      await backend.store.createRequest(newRequest({ ...run, repositoryId: String(Number(repository) + 1) }));
      await backend.store.completeRequest(done.request.id, { status: 'approved', reason: 'auto', actor: 'app' });
      expect(await backend.store.countPendingRequests(run)).toEqual({ repository: 3, runAttempt: 1 });
      expect(await backend.store.countPendingRequests({ ...run, runId: '79' })).toEqual({ repository: 3, runAttempt: 0 });
    });

    test('finds the request under a key, or counts the pending ones up to one past each cap', async () => {
      const repository = String(randomInt(1, 2 ** 40));
      const run = { repositoryId: repository, runId: '77', runAttempt: '1' };
      for (const action of ['deploy', 'migrate', 'seed']) await create({ ...run, action });
      await create({ ...run, runId: '78' });
      const key = (action: string) => ({ ...run, action, jobKey: 'check_run:1' });
      // Four pending in the repository, three in the run attempt: counted only as far as a cap needs.
      expect(await backend.store.findRequestOrCountPending(key('verify'), { perRepository: 2, perRunAttempt: 1 })).toEqual({ existing: undefined, pending: { repository: 3, runAttempt: 2 } });
      expect(await backend.store.findRequestOrCountPending(key('verify'), { perRepository: 10, perRunAttempt: 10 })).toEqual({ existing: undefined, pending: { repository: 4, runAttempt: 3 } });
      const found = await backend.store.findRequestOrCountPending(key('migrate'), { perRepository: 10, perRunAttempt: 10 });
      expect(found.existing).toEqual(await backend.store.findRequest(key('migrate')));
      expect(found.existing).toMatchObject({ action: 'migrate', runId: '77' });
    });

    test('with limits, refuses a request past a cap on pending ones, creating nothing, and returns one that exists', async () => {
      const repository = String(randomInt(1, 2 ** 40));
      const limits = { perRepository: 3, perRunAttempt: 2 };
      const run = { repositoryId: repository, runId: '77', runAttempt: '1', limits };
      await create({ ...run, action: 'deploy' });
      await create({ ...run, action: 'migrate' });
      const third = backend.store.createRequest(newRequest({ ...run, action: 'seed' }));
      await expect(third).rejects.toThrow(PendingLimitError);
      await expect(third).rejects.toMatchObject({ scope: 'run_attempt', pending: 2 });
      // A retried step gets its request back at the cap.
      expect(await backend.store.createRequest(newRequest({ ...run, action: 'deploy' }))).toMatchObject({ created: false, request: { action: 'deploy' } });
      await create({ ...run, runId: '78' });
      await expect(backend.store.createRequest(newRequest({ ...run, runId: '79' }))).rejects.toMatchObject({ scope: 'repository', pending: 3 });
      expect(await backend.store.countPendingRequests(run)).toEqual({ repository: 3, runAttempt: 2 });
    });

    test('keeps each repository\'s count of pending requests as requests are created, refused and decided at once', async () => {
      const repository = String(randomInt(1, 2 ** 40));
      const run = (i: number) => ({ repositoryId: repository, runId: String(i), runAttempt: '1' });
      const kept = async () => (await backend.store.findRequestOrCountPending({ ...run(0), action: 'none', jobKey: 'none' }, { perRepository: 1000, perRunAttempt: 1000 })).pending.repository;
      const made = await Promise.all(Array.from({ length: 10 }, (_, i) => backend.store.createRequest(newRequest({ ...run(i), action: 'deploy' }))));
      // A step asking again, and steps refused at a cap, change nothing.
      await backend.store.createRequest(newRequest({ ...run(0), action: 'deploy' }));
      await Promise.allSettled(Array.from({ length: 3 }, (_, i) => backend.store.createRequest(newRequest({ ...run(20 + i), limits: { perRepository: 10, perRunAttempt: 10 } }))));
      expect(await kept()).toBe(10);
      const statuses = ['approved', 'rejected', 'timed_out', 'cancelled'] as const;
      await Promise.all(statuses.map((status, i) => backend.store.completeRequest(made[i]!.request.id, { status, reason: status === 'approved' ? 'approved' : status, actor: 'octocat' })));
      // Completing one again changes nothing either.
      await backend.store.completeRequest(made[0]!.request.id, { status: 'cancelled', reason: 'cancelled', actor: 'octocat' });
      expect(await kept()).toBe(6);
      expect((await backend.store.countPendingRequests(run(0))).repository).toBe(6);
      // The places the decisions freed can be taken again, up to the cap.
      const limits = { perRepository: 8, perRunAttempt: 10 };
      const again = await Promise.allSettled(Array.from({ length: 4 }, (_, i) => backend.store.createRequest(newRequest({ ...run(30 + i), limits }))));
      expect(again.filter((attempt) => attempt.status === 'fulfilled')).toHaveLength(2);
      expect(await kept()).toBe(8);
    });

    test('with limits, requests created at the same moment never pass a cap', async () => {
      const repository = String(randomInt(1, 2 ** 40));
      const limits = { perRepository: 4, perRunAttempt: 3 };
      const attempts = await Promise.allSettled(
        Array.from({ length: 12 }, (_, i) => backend.store.createRequest(newRequest({ repositoryId: repository, runId: String(i % 2), runAttempt: '1', action: `deploy-${i}`, limits }))),
      );
      expect(attempts.filter((attempt) => attempt.status === 'fulfilled')).toHaveLength(4);
      for (const attempt of attempts) if (attempt.status === 'rejected') expect(attempt.reason).toBeInstanceOf(PendingLimitError);
      expect((await backend.store.countPendingRequests({ repositoryId: repository, runId: '0', runAttempt: '1' })).repository).toBe(4);
    });
  });

  describe('votes', () => {
    test('a quorum of two: the same person twice counts once, the second person approves', async () => {
      const request = await create();
      const cast = (login: string): Promise<VoteResult> =>
        backend.store.castVote({ requestId: request.id, login, choice: 'approve', note: 'lgtm', via: 'comment', tally: quorum(2) });

      expect(await cast('alice')).toMatchObject({ outcome: 'recorded', completed: false, request: { status: 'pending' } });
      const again = await cast('Alice');
      expect(again).toMatchObject({ outcome: 'duplicate', request: { status: 'pending' } });
      expect(again.outcome === 'duplicate' && again.votes.map((vote) => vote.login)).toEqual(['alice']);

      const second = await cast('bob');
      expect(second).toMatchObject({ outcome: 'recorded', completed: true, request: { status: 'approved', reason: 'quorum', completedBy: 'bob' } });
      expect(await cast('carol')).toMatchObject({ outcome: 'closed', completed: false, request: { status: 'approved' } });

      expect((await backend.store.listVotes(request.id)).map((vote) => vote.login)).toEqual(['alice', 'bob']);
      expect(await auditTypes(request.id)).toEqual(['requested', 'vote', 'vote', 'approved']);
    });

    test('a request read with its votes is what the request and its standing votes read apart are', async () => {
      const request = await create();
      expect(await backend.store.getRequestWithVotes(request.id)).toEqual({ request: await backend.store.getRequest(request.id), votes: [] });
      await backend.store.castVote({ requestId: request.id, login: 'alice', choice: 'approve', note: 'ok', via: 'comment', commentId: 2 ** 40, facts: { voter: { login: 'alice', teams: ['a/b'] } }, tally: quorum(3) });
      await backend.store.castVote({ requestId: request.id, login: 'bob', choice: 'approve', via: 'button', tally: quorum(3) });
      await backend.store.withdrawCommentVotes(request.repositoryId, 2 ** 40, 'alice');
      backend.clock.advance(1234);
      await backend.store.castVote({ requestId: request.id, login: 'carol', choice: 'reject', note: 'no', via: 'comment', commentId: 7, tally: () => 'pending' });
      const read = await backend.store.getRequestWithVotes(request.id);
      expect(read).toEqual({ request: await backend.store.getRequest(request.id), votes: await backend.store.listVotes(request.id) });
      expect(read?.votes.map((vote) => vote.login)).toEqual(['bob', 'carol']);
      expect(read?.votes[1].at).toEqual(backend.clock.now);
      expect(await backend.store.getRequestWithVotes('00000000-0000-4000-8000-000000000000')).toBeUndefined();
      expect(await backend.store.getRequestWithVotes('not-an-id')).toBeUndefined();
    });

    test('a reject completes the request at once with its reason', async () => {
      const request = await create();
      await backend.store.castVote({ requestId: request.id, login: 'alice', choice: 'approve', via: 'button', tally: quorum(2) });
      const result = await backend.store.castVote({
        requestId: request.id,
        login: 'bob',
        choice: 'reject',
        note: 'not during the freeze',
        via: 'comment',
        facts: { commentId: 99 },
        tally: quorum(2),
      });
      expect(result).toMatchObject({ outcome: 'recorded', completed: true, request: { status: 'rejected', reason: 'not during the freeze' } });
      const events = await backend.store.listAudit({ requestId: request.id });
      expect(events.map((event) => [event.type, event.actor])).toEqual([
        ['requested', 'octocat'],
        ['vote', 'alice'],
        ['vote', 'bob'],
        ['rejected', 'bob'],
      ]);
      expect(events[2].facts).toEqual({ choice: 'reject', note: 'not during the freeze', via: 'comment', commentId: 99 });
    });

    test('a tally that throws records nothing', async () => {
      const request = await create();
      await expect(
        backend.store.castVote({
          requestId: request.id,
          login: 'alice',
          choice: 'approve',
          via: 'comment',
          tally: () => {
            throw new Error('policy error');
          },
        }),
      ).rejects.toThrow('policy error');
      expect(await backend.store.listVotes(request.id)).toEqual([]);
      expect(await auditTypes(request.id)).toEqual(['requested']);
      expect((await backend.store.getRequest(request.id))!.status).toBe('pending');
    });

    test('a vote on an unknown request is not found', async () => {
      const result = await backend.store.castVote({
        requestId: '00000000-0000-4000-8000-000000000000',
        login: 'alice',
        choice: 'approve',
        via: 'comment',
        tally: quorum(1),
      });
      expect(result).toEqual({ outcome: 'not_found' });
    });

    test('many concurrent votes complete the request exactly once', async () => {
      const request = await create();
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          backend.store.castVote({ requestId: request.id, login: `voter${i}`, choice: 'approve', via: 'comment', tally: quorum(3) }),
        ),
      );
      const completed = results.filter((result) => result.outcome === 'recorded' && result.completed);
      expect(completed).toHaveLength(1);
      expect(results.filter((result) => result.outcome === 'recorded')).toHaveLength(3);
      expect(results.filter((result) => result.outcome === 'closed')).toHaveLength(17);
      expect(await backend.store.listVotes(request.id)).toHaveLength(3);
      expect((await auditTypes(request.id)).filter((type) => type === 'approved')).toHaveLength(1);
    });

    test('a vote after the deadline times the request out instead of counting', async () => {
      const request = await create({ deadline: new Date(backend.clock.now.getTime() + 60_000) });
      backend.clock.advance(61_000);
      const result = await backend.store.castVote({ requestId: request.id, login: 'alice', choice: 'approve', via: 'comment', tally: quorum(1) });
      expect(result).toMatchObject({ outcome: 'closed', completed: true, request: { status: 'timed_out', reason: 'deadline' } });
      expect(await backend.store.listVotes(request.id)).toEqual([]);
      expect(await auditTypes(request.id)).toEqual(['requested', 'timed_out']);
      // Only the call that timed it out says so; a later late vote finds it already closed.
      const later = await backend.store.castVote({ requestId: request.id, login: 'bob', choice: 'approve', via: 'comment', tally: quorum(1) });
      expect(later).toMatchObject({ outcome: 'closed', completed: false, request: { status: 'timed_out' } });
      expect(await auditTypes(request.id)).toEqual(['requested', 'timed_out']);
    });

    test('counting again without a vote: the standing votes, as refreshed, approve under the lock', async () => {
      const request = await create();
      for (const login of ['alice', 'bob']) {
        await backend.store.castVote({ requestId: request.id, login, choice: 'approve', via: 'comment', facts: { voter: { login, permission: 'write' } }, tally: quorum(3) });
      }
      const seen: string[][] = [];
      const twoWithWrite: Tally = (votes) => {
        seen.push(votes.map((vote) => `${vote.login}:${(vote.facts.voter as { permission: string }).permission}`));
        return votes.filter((vote) => (vote.facts.voter as { permission: string }).permission === 'write').length >= 2 ? 'approved' : 'pending';
      };
      const notYet = await backend.store.recountVotes({
        requestId: request.id,
        refreshedVoters: [{ login: 'Bob', voter: { login: 'bob', permission: 'read' } }],
        audit: [{ type: 'escalated', actor: 'app', facts: { step: 0 } }, { type: 'vote_no_longer_counts', actor: 'app', facts: { login: 'bob' } }],
        tally: twoWithWrite,
      });
      expect(notYet).toMatchObject({ outcome: 'counted', completed: false, request: { status: 'pending' } });
      expect(seen).toEqual([['alice:write', 'bob:read']]);
      expect(await auditTypes(request.id)).toEqual(['requested', 'vote', 'vote', 'escalated', 'vote_no_longer_counts']);

      const approved = await backend.store.recountVotes({
        requestId: request.id,
        refreshedVoters: [{ login: 'bob', voter: { login: 'bob', permission: 'write' } }],
        audit: [{ type: 'escalated', actor: 'app', facts: { step: 1 } }],
        facts: { counted: 'when a time escalation fell due' },
        tally: twoWithWrite,
      });
      expect(approved).toMatchObject({ outcome: 'counted', completed: true, request: { status: 'approved', reason: 'quorum', completedBy: 'app' } });
      expect(approved.outcome === 'counted' && approved.votes.map((vote) => vote.login)).toEqual(['alice', 'bob']);
      expect(await auditTypes(request.id)).toEqual(['requested', 'vote', 'vote', 'escalated', 'vote_no_longer_counts', 'escalated', 'approved']);
      expect((await backend.store.listAudit({ requestId: request.id })).at(-1)!.facts).toMatchObject({
        votes: [{ login: 'alice', choice: 'approve' }, { login: 'bob', choice: 'approve' }],
        counted: 'when a time escalation fell due',
      });
      // Final now: a further count records nothing and calls no tally.
      expect(await backend.store.recountVotes({ requestId: request.id, audit: [{ type: 'escalated', actor: 'app', facts: {} }], tally: twoWithWrite })).toMatchObject({ outcome: 'closed', request: { status: 'approved' } });
      expect(seen).toHaveLength(2);
      expect((await auditTypes(request.id)).filter((type) => type === 'escalated')).toHaveLength(2);
    });

    test('counting again records nothing when the tally throws, past the deadline, or for no request', async () => {
      const request = await create({ deadline: new Date(backend.clock.now.getTime() + 60_000) });
      await backend.store.castVote({ requestId: request.id, login: 'alice', choice: 'approve', via: 'comment', facts: { voter: { login: 'alice', permission: 'write' } }, tally: quorum(2) });
      const recount = (tally: Tally) => backend.store.recountVotes({
        requestId: request.id,
        refreshedVoters: [{ login: 'alice', voter: { login: 'alice', permission: 'read' } }],
        audit: [{ type: 'escalated', actor: 'app', facts: {} }],
        tally,
      });
      await expect(recount(() => {
        throw new Error('approvers not looked up again');
      })).rejects.toThrow('approvers not looked up again');
      expect((await backend.store.listVotes(request.id))[0].facts.voter).toEqual({ login: 'alice', permission: 'write' });
      expect(await auditTypes(request.id)).toEqual(['requested', 'vote']);

      backend.clock.advance(61_000);
      // Past its deadline the request is its deadline timer's to end, never approved by a count.
      expect(await recount(() => 'approved')).toMatchObject({ outcome: 'closed', request: { status: 'pending' } });
      expect(await auditTypes(request.id)).toEqual(['requested', 'vote']);
      expect(await backend.store.recountVotes({ requestId: '00000000-0000-4000-8000-000000000000', tally: () => 'approved' })).toEqual({ outcome: 'not_found' });
      expect(await backend.store.recountVotes({ requestId: 'not-an-id', tally: () => 'approved' })).toEqual({ outcome: 'not_found' });
    });

    test('concurrent late votes: exactly one of them times the request out', async () => {
      const request = await create({ deadline: new Date(backend.clock.now.getTime() + 60_000) });
      backend.clock.advance(61_000);
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          backend.store.castVote({ requestId: request.id, login: `late${i}`, choice: 'approve', via: 'comment', tally: quorum(1) }),
        ),
      );
      expect(results.every((result) => result.outcome === 'closed')).toBe(true);
      expect(results.filter((result) => result.outcome === 'closed' && result.completed)).toHaveLength(1);
      expect((await auditTypes(request.id)).filter((type) => type === 'timed_out')).toHaveLength(1);
    });
  });

  describe('webhook deliveries', () => {
    test('a replayed delivery is handled once', async () => {
      const id = `delivery-${randomInt(2 ** 40)}`;
      expect(await backend.store.claimDelivery(id, 'issue_comment')).toBe(true);
      expect(await backend.store.claimDelivery(id, 'issue_comment')).toBe(false);
      await backend.store.completeDelivery(id, 'issue_comment');
      expect(await backend.store.claimDelivery(id, 'issue_comment')).toBe(false);
      backend.clock.advance(24 * 3600_000);
      expect(await backend.store.claimDelivery(id, 'issue_comment')).toBe(false);
    });

    test('concurrent claims of one delivery: exactly one wins', async () => {
      const id = `delivery-${randomInt(2 ** 40)}`;
      const claims = await Promise.all(Array.from({ length: 6 }, () => backend.store.claimDelivery(id, 'check_run')));
      expect(claims.filter(Boolean)).toHaveLength(1);
    });

    test('a failed delivery can be handled again, and so can one whose handler died', async () => {
      const released = `delivery-${randomInt(2 ** 40)}`;
      expect(await backend.store.claimDelivery(released, 'issue_comment')).toBe(true);
      await backend.store.releaseDelivery(released);
      expect(await backend.store.claimDelivery(released, 'issue_comment')).toBe(true);

      const abandoned = `delivery-${randomInt(2 ** 40)}`;
      expect(await backend.store.claimDelivery(abandoned, 'issue_comment')).toBe(true);
      backend.clock.advance(30_000);
      expect(await backend.store.claimDelivery(abandoned, 'issue_comment')).toBe(false);
      backend.clock.advance(31_000);
      expect(await backend.store.claimDelivery(abandoned, 'issue_comment')).toBe(true);
    });

    test('comments noted as edited are told apart, per repository, however often noted', async () => {
      const repositoryId = String(randomInt(1, 2 ** 40));
      const [edited, untouched] = [randomInt(2 ** 40), randomInt(2 ** 40)];
      await backend.store.markCommentEdited(repositoryId, edited);
      await backend.store.markCommentEdited(repositoryId, edited);
      expect(await backend.store.editedComments(repositoryId, [edited, untouched])).toEqual(new Set([edited]));
      expect(await backend.store.editedComments(String(Number(repositoryId) + 1), [edited])).toEqual(new Set());
      expect(await backend.store.editedComments(repositoryId, [])).toEqual(new Set());
    });

    test('comments acted on already are told apart from those deleted first and those never seen, per repository', async () => {
      const repositoryId = String(randomInt(1, 2 ** 40));
      const [done, deleted, unseen] = [randomInt(2 ** 40), randomInt(2 ** 40), randomInt(2 ** 40)];
      await backend.store.completeComment(repositoryId, done);
      await backend.store.withdrawCommentVotes(repositoryId, deleted, 'app');
      expect(await backend.store.handledComments(repositoryId, [done, deleted, unseen])).toEqual(new Set([done]));
      expect(await backend.store.handledComments(String(Number(repositoryId) + 1), [done])).toEqual(new Set());
      expect(await backend.store.handledComments(repositoryId, [])).toEqual(new Set());
    });

    test("what a timer leaves for a waiting request is recorded only while it waits: after its decision, nothing", async () => {
      const request = await create();
      const key = `reminder:${request.id}`;
      const reminder = { kind: `test-${randomInt(2 ** 40)}`, key, requestId: request.id, dueAt: new Date(backend.clock.now.getTime() + 60_000) };
      const escalated = { type: 'escalated', actor: 'app', requestId: request.id, facts: { step: 0 } };
      expect(await backend.store.recordWhilePending(request.id, { audit: [escalated], timers: [reminder], publish: true })).toBe(true);
      expect((await auditTypes(request.id)).filter((type) => type === 'escalated')).toHaveLength(1);
      expect(await backend.store.cancelTimers({ key })).toBe(1);

      await backend.store.completeRequest(request.id, { status: 'rejected', reason: 'no', actor: 'bob' });
      expect(await backend.store.recordWhilePending(request.id, { audit: [escalated], timers: [reminder], publish: true })).toBe(false);
      expect((await auditTypes(request.id)).slice(-1)).toEqual(['rejected']);
      expect(await backend.store.cancelTimers({ key })).toBe(0);
      expect(await backend.store.recordWhilePending('not-a-request-id', { audit: [escalated] })).toBe(false);
    });

    test('what a handled delivery did that changed no request is recorded, queued and marked handled together, or not at all', async () => {
      const request = await create();
      const delivery = { id: `delivery-${randomInt(2 ** 40)}`, event: 'check_run.requested_action' };
      const comment = { repositoryId: request.repositoryId, commentId: randomInt(2 ** 40) };
      const reply = { kind: REPLY_JOB, key: `reply:${delivery.id}`, requestId: request.id, dueAt: backend.clock.now, payload: { body: 'not counted' } };
      expect(await backend.store.claimDelivery(delivery.id, delivery.event)).toBe(true);

      // A reply that cannot be queued: the record of the refusal goes too, and neither is marked handled.
      const unqueueable = { ...reply, dueAt: new Date(Number.NaN) };
      const refused = { type: 'vote_refused', actor: 'mallory', requestId: request.id, facts: { reason: 'not eligible' } };
      await expect(backend.store.recordHandled({ audit: [refused], timers: [unqueueable], handledBy: { delivery, comment } })).rejects.toThrow("the reply timer's due time is not a valid date");
      expect(await auditTypes(request.id)).not.toContain('vote_refused');
      expect(await backend.store.cancelTimers({ key: reply.key })).toBe(0);
      expect((await backend.store.commandThread(comment.repositoryId, 1, comment.commentId)).handled).toBe(false);

      expect(await backend.store.recordHandled({ audit: [refused], timers: [reply], handledBy: { delivery, comment } })).toBe(true);
      expect((await auditTypes(request.id)).filter((type) => type === 'vote_refused')).toHaveLength(1);
      // Marked handled: the delivery's claim is done, and the comment is on record as acted on.
      expect(await backend.store.releaseDelivery(delivery.id)).toBe(false);
      backend.clock.advance(24 * 3600_000);
      expect(await backend.store.claimDelivery(delivery.id, delivery.event)).toBe(false);
      expect((await backend.store.commandThread(comment.repositoryId, 1, comment.commentId)).handled).toBe(true);
      expect(await backend.store.cancelTimers({ key: reply.key })).toBe(1);
      expect((await backend.store.verifyAudit()).ok).toBe(true);
    });

    test('a comment deleted before it was handled casts no approval when its creation comes, while a rejection still counts', async () => {
      const request = await create();
      const approving = { repositoryId: request.repositoryId, commentId: randomInt(2 ** 40) };
      const rejecting = { repositoryId: request.repositoryId, commentId: randomInt(2 ** 40) };
      for (const comment of [approving, rejecting]) await backend.store.withdrawCommentVotes(comment.repositoryId, comment.commentId, 'mallory');
      expect(await backend.store.commandThread(request.repositoryId, 42, approving.commentId)).toMatchObject({ handled: false, deleted: true });

      const cast = (login: string, choice: 'approve' | 'reject', comment: typeof approving) =>
        backend.store.castVote({ requestId: request.id, login, choice, via: 'comment', commentId: comment.commentId, handledBy: { comment: { ...comment, despiteDeletion: choice === 'reject' } }, tally: () => 'pending' });
      expect(await cast('alice', 'approve', approving)).toEqual({ outcome: 'already_handled' });
      expect(await backend.store.listVotes(request.id)).toEqual([]);
      expect(await cast('bob', 'reject', rejecting)).toMatchObject({ outcome: 'recorded' });
      expect(await backend.store.commandThread(request.repositoryId, 42, rejecting.commentId)).toMatchObject({ handled: true, deleted: false });
      // A comment handled already stays handled when it is deleted.
      await backend.store.withdrawCommentVotes(rejecting.repositoryId, rejecting.commentId, 'mallory');
      expect(await backend.store.commandThread(request.repositoryId, 42, rejecting.commentId)).toMatchObject({ handled: true, deleted: false });
    });

    test('the mark is the claim: a comment handled twice, even at once, is recorded once', async () => {
      const request = await create();
      const comment = { repositoryId: request.repositoryId, commentId: randomInt(2 ** 40) };
      const record = (i: number) => backend.store.recordHandled({
        audit: [{ type: 'vote_ignored', actor: 'alice', requestId: request.id, facts: { i } }],
        timers: [{ kind: REPLY_JOB, key: `reply:${comment.commentId}:${i}`, requestId: request.id, dueAt: backend.clock.now }],
        handledBy: { comment },
      });
      const results = await Promise.all([0, 1, 2, 3].map(record));
      expect(results.filter(Boolean)).toHaveLength(1);
      expect((await auditTypes(request.id)).filter((type) => type === 'vote_ignored')).toHaveLength(1);
      const queued = await Promise.all([0, 1, 2, 3].map((i) => backend.store.cancelTimers({ key: `reply:${comment.commentId}:${i}` })));
      expect(queued.reduce((a, b) => a + b, 0)).toBe(1);
      // A vote brought by a comment some other handling already acted on is not counted either.
      const vote = await backend.store.castVote({ requestId: request.id, login: 'bob', choice: 'approve', via: 'comment', handledBy: { comment }, tally: quorum(1) });
      expect(vote).toEqual({ outcome: 'already_handled' });
      expect(await backend.store.listVotes(request.id)).toEqual([]);
      expect((await backend.store.getRequest(request.id))?.status).toBe('pending');
    });

    test('replies to one person\'s refused commands on a thread stay within their allowance, even at once; every refusal is recorded', async () => {
      const pr = randomInt(1, 2 ** 30);
      const request = await create({ prNumber: pr });
      const refuse = (actor: string) => {
        const commentId = randomInt(2 ** 40);
        const reply = (key: string) => ({ kind: REPLY_JOB, key: `${key}:${commentId}`, requestId: request.id, dueAt: backend.clock.now });
        const allowance = { repositoryId: request.repositoryId, issueNumber: pr, actor, max: 3, windowMs: 3600_000, last: reply('last-reply') };
        return backend.store
          .recordHandled({
            audit: [{ type: 'vote_refused', actor, requestId: request.id, facts: { via: 'comment', comment_id: commentId } }],
            timers: [{ ...reply('reply'), allowance }],
            handledBy: { comment: { repositoryId: request.repositoryId, commentId } },
          })
          .then(async () => ((await backend.store.cancelTimers({ key: `reply:${commentId}` })) ? 'reply' : (await backend.store.cancelTimers({ key: `last-reply:${commentId}` })) ? 'last' : 'none'));
      };
      const answers = await Promise.all(Array.from({ length: 8 }, () => refuse('mallory')));
      expect(answers.sort()).toEqual(['last', 'none', 'none', 'none', 'none', 'none', 'reply', 'reply']);
      // Someone else on the thread is answered; the refusals are all on record.
      expect(await refuse('carol')).toBe('reply');
      expect((await auditTypes(request.id)).filter((type) => type === 'vote_refused')).toHaveLength(9);
      // Past the window, with fewer than the allowance within it, the person is answered again.
      backend.clock.advance(3600_000);
      expect(await refuse('mallory')).toBe('reply');
      expect((await backend.store.verifyAudit()).ok).toBe(true);
    });

    test('handled marks are forgotten once old, a batch at a time, but none made since a request still pending opened', async () => {
      // Only this test's request waits: earlier tests' pending requests would hold back every mark.
      for (const waiting of await backend.store.listRequests({ status: 'pending', limit: 10_000 })) {
        await backend.store.completeRequest(waiting.id, { status: 'cancelled', reason: 'cleared for this test', actor: 'test' });
      }
      const retention = 14 * 24 * 3600_000;
      const prune = (limit = 1000) => backend.store.pruneHandledMarks(new Date(backend.clock.now.getTime() - retention), limit);
      // Earlier tests' marks go first, so that what follows counts only this test's.
      backend.clock.advance(retention + 1000);
      while (Object.values(await prune()).some((n) => n > 0));

      const repositoryId = String(randomInt(1, 2 ** 40));
      const mark = async () => {
        const marked = { delivery: `delivery-${randomInt(2 ** 40)}`, comment: randomInt(2 ** 40) };
        await backend.store.claimDelivery(marked.delivery, 'check_run.requested_action');
        await backend.store.completeDelivery(marked.delivery, 'check_run.requested_action');
        await backend.store.completeComment(repositoryId, marked.comment);
        await backend.store.markCommentEdited(repositoryId, marked.comment);
        return marked;
      };
      const kept = async (marked: { delivery: string; comment: number }) => {
        const comment = (await backend.store.commandThread(repositoryId, 1, marked.comment)).handled;
        const edit = (await backend.store.editedComments(repositoryId, [marked.comment])).has(marked.comment);
        // Claiming again is what a replay would do: it succeeds only once the mark is gone.
        const delivery = !(await backend.store.claimDelivery(marked.delivery, 'check_run.requested_action'));
        if (!delivery) await backend.store.completeDelivery(marked.delivery, 'check_run.requested_action');
        expect([comment, edit]).toEqual([delivery, delivery]);
        return delivery;
      };

      const old = await mark();
      backend.clock.advance(24 * 3600_000);
      // Made in the second before the request opened: a comment written then may count for it.
      const justBefore = await mark();
      backend.clock.advance(500);
      const waiting = await create({ repositoryId });
      backend.clock.advance(24 * 3600_000);
      const since = await mark();
      backend.clock.advance(20 * 24 * 3600_000);
      expect(await prune()).toEqual({ deliveries: 1, comments: 1, edits: 1 });
      expect([await kept(old), await kept(justBefore), await kept(since)]).toEqual([false, true, true]);
      expect(await prune()).toEqual({ deliveries: 0, comments: 0, edits: 0 });

      // Once it ended, the two go as well, a batch at a time; a recent one stays.
      await backend.store.completeRequest(waiting.id, { status: 'approved', reason: 'quorum', actor: 'alice' });
      const recent = await mark();
      expect(await prune(1)).toEqual({ deliveries: 1, comments: 1, edits: 1 });
      expect(await prune(1)).toEqual({ deliveries: 1, comments: 1, edits: 1 });
      expect(await prune(1)).toEqual({ deliveries: 0, comments: 0, edits: 0 });
      expect([await kept(justBefore), await kept(since), await kept(recent)]).toEqual([false, false, true]);
      await expect(backend.store.pruneHandledMarks(new Date(Number.NaN), 1)).rejects.toThrow("the handled marks' cutoff is not a valid date");
    });

    test('a comment marked handled without a record of its own stays handled', async () => {
      const comment = { repositoryId: String(randomInt(2 ** 40)), commentId: randomInt(2 ** 40) };
      expect((await backend.store.commandThread(comment.repositoryId, 1, comment.commentId)).handled).toBe(false);
      await backend.store.completeComment(comment.repositoryId, comment.commentId);
      await backend.store.completeComment(comment.repositoryId, comment.commentId);
      expect((await backend.store.commandThread(comment.repositoryId, 1, comment.commentId)).handled).toBe(true);
    });
  });

  describe('timers', () => {
    const kind = (): string => `test-${randomInt(2 ** 40)}`;
    const mine = <T extends { kind: string }>(timers: T[], k: string): T[] => timers.filter((timer) => timer.kind === k);

    test('due timers are claimed once, completed, and later ones wait', async () => {
      const k = kind();
      const now = backend.clock.now;
      for (let i = 0; i < 5; i++) await backend.store.scheduleTimer({ kind: k, dueAt: new Date(now.getTime() - i * 1000), payload: { i } });
      const later = await backend.store.scheduleTimer({ kind: k, dueAt: new Date(now.getTime() + 3600_000) });

      const claims = await Promise.all(Array.from({ length: 4 }, () => backend.store.claimDueTimers(now, 100)));
      const claimed = claims.flatMap((batch) => mine(batch, k));
      expect(claimed).toHaveLength(5);
      expect(new Set(claimed.map((timer) => timer.id)).size).toBe(5);
      expect(claimed.map((timer) => timer.payload.i).sort()).toEqual([0, 1, 2, 3, 4]);
      expect(claimed.every((timer) => timer.attempts === 1)).toBe(true);

      for (const timer of claimed) expect(await backend.store.completeTimer(timer)).toBe(true);
      expect(mine(await backend.store.claimDueTimers(new Date(now.getTime() + 120_000), 100), k)).toEqual([]);
      const due = mine(await backend.store.claimDueTimers(new Date(now.getTime() + 3600_000), 100), k);
      expect(due.map((timer) => timer.id)).toEqual([later.id]);
    });

    test("a claim capped per installation takes no more of one installation's timers than the cap, counting those leased on any replica", async () => {
      const k = kind();
      const now = backend.clock.now;
      const installation = randomInt(2 ** 40);
      const other = installation + 1;
      // Timers of one installation by their payload, and by their request's facts (a publication's).
      for (let i = 0; i < 3; i++) await backend.store.scheduleTimer({ kind: k, dueAt: new Date(now.getTime() - 10_000 + i), payload: { installationId: installation, i } });
      for (let i = 3; i < 6; i++) {
        const { request } = await backend.store.createRequest(newRequest({ facts: { installationId: installation } }));
        await backend.store.scheduleTimer({ kind: k, requestId: request.id, dueAt: new Date(now.getTime() - 10_000 + i), payload: { i } });
      }
      await backend.store.scheduleTimer({ kind: k, dueAt: new Date(now.getTime() - 1000), payload: { installationId: other, i: 6 } });

      const claim = { only: [k], perInstallation: 4 };
      const claimed = (timers: ClaimedTimer[]) => timers.map((timer) => timer.payload.i as number).sort((a, b) => a - b);
      const first = await backend.store.claimDueTimers(now, 2, claim);
      expect(claimed(first)).toEqual([0, 1]);
      // Another replica: two more of the first installation, then the other installation's, although due later.
      const second = await backend.store.claimDueTimers(now, 10, claim);
      expect(claimed(second)).toEqual([2, 3, 6]);
      expect(await backend.store.claimDueTimers(now, 10, claim)).toEqual([]);
      // One ends: one more may be claimed.
      expect(await backend.store.completeTimer(first[0])).toBe(true);
      expect(claimed(await backend.store.claimDueTimers(now, 10, claim))).toEqual([4]);
    });

    test('a claimed timer whose handler died is claimed again after its lease', async () => {
      const k = kind();
      const now = backend.clock.now;
      await backend.store.scheduleTimer({ kind: k, dueAt: now });
      const [first] = mine(await backend.store.claimDueTimers(now, 100), k);
      expect(mine(await backend.store.claimDueTimers(new Date(now.getTime() + 59_000), 100), k)).toEqual([]);
      const [again] = mine(await backend.store.claimDueTimers(new Date(now.getTime() + 61_000), 100), k);
      expect(again).toMatchObject({ id: first.id, attempts: 2 });
      // The first claimant's late completion must not delete what another replica now holds.
      expect(await backend.store.completeTimer(first)).toBe(false);
      expect(await backend.store.completeTimer(again)).toBe(true);
    });

    test('a timer claimed to begin later counts its attempt and its lease from when it begins', async () => {
      const k = kind();
      const now = backend.clock.now;
      await backend.store.scheduleTimer({ kind: k, dueAt: now });
      const [claimed] = mine(await backend.store.claimDueTimers(now, 100, { only: [k], startsLater: true }), k);
      expect(claimed.attempts).toBe(0);
      const begun = await backend.store.startTimer(claimed, new Date(now.getTime() + 50_000));
      expect(begun).toMatchObject({ id: claimed.id, attempts: 1, claimToken: claimed.claimToken, leaseUntil: new Date(now.getTime() + 110_000) });
      // Leased from when it began: not claimable where the claim's own lease would have ended.
      expect(mine(await backend.store.claimDueTimers(new Date(now.getTime() + 61_000), 100), k)).toEqual([]);
      expect(await backend.store.completeTimer(begun!)).toBe(true);
    });

    test('a timer cannot be begun on a claim that lapsed, was taken over or was scheduled again', async () => {
      const now = backend.clock.now;
      const lapsed = kind();
      await backend.store.scheduleTimer({ kind: lapsed, dueAt: now });
      const [first] = mine(await backend.store.claimDueTimers(now, 100, { only: [lapsed], startsLater: true }), lapsed);
      expect(await backend.store.startTimer(first, new Date(now.getTime() + 60_000))).toBeUndefined();
      const [again] = mine(await backend.store.claimDueTimers(new Date(now.getTime() + 61_000), 100, { only: [lapsed], startsLater: true }), lapsed);
      expect(again.attempts).toBe(0);
      // The first claimant, late, cannot begin what another now holds; the holder can.
      expect(await backend.store.startTimer(first, new Date(now.getTime() + 61_000))).toBeUndefined();
      expect(await backend.store.startTimer(again, new Date(now.getTime() + 61_000))).toMatchObject({ attempts: 1 });

      const moved = kind();
      const key = `publish:${moved}`;
      await backend.store.scheduleTimer({ kind: moved, key, dueAt: now });
      const [claimed] = mine(await backend.store.claimDueTimers(now, 100, { only: [moved], startsLater: true }), moved);
      await backend.store.scheduleTimer({ kind: moved, key, dueAt: now, payload: { round: 2 } });
      expect(await backend.store.startTimer(claimed, now)).toBeUndefined();
      const [due] = mine(await backend.store.claimDueTimers(now, 100, { only: [moved], startsLater: true }), moved);
      expect(due).toMatchObject({ id: claimed.id, payload: { round: 2 } });
    });

    test('the next timer is the earliest one claimable, not one leased to someone else', async () => {
      const k = kind();
      const now = new Date(backend.clock.now.getTime() + 7 * 24 * 3600_000);
      // Clear the timers other tests left due before this test's window.
      for (const timer of await backend.store.claimDueTimers(now, 10_000)) await backend.store.completeTimer(timer);
      await backend.store.scheduleTimer({ kind: k, dueAt: new Date(now.getTime() + 1000) });
      await backend.store.scheduleTimer({ kind: k, dueAt: new Date(now.getTime() + 90_000) });
      expect(await backend.store.nextTimerDue()).toEqual(new Date(now.getTime() + 1000));
      const [leased] = await backend.store.claimDueTimers(new Date(now.getTime() + 1000), 100);
      expect(leased.kind).toBe(k);
      // Leased until now + 1 s + 60 s: the other timer, due at now + 90 s, is not the next any more.
      expect(await backend.store.nextTimerDue()).toEqual(leased.leaseUntil);
      await backend.store.completeTimer(leased);
      expect(await backend.store.nextTimerDue()).toEqual(new Date(now.getTime() + 90_000));
      for (const timer of await backend.store.claimDueTimers(new Date(now.getTime() + 90_000), 100)) await backend.store.completeTimer(timer);
    });

    test('a released timer is due again at the retry time', async () => {
      const k = kind();
      const now = backend.clock.now;
      await backend.store.scheduleTimer({ kind: k, dueAt: now });
      const [timer] = mine(await backend.store.claimDueTimers(now, 100), k);
      await backend.store.releaseTimer(timer, new Date(now.getTime() + 10_000));
      expect(mine(await backend.store.claimDueTimers(new Date(now.getTime() + 9_000), 100), k)).toEqual([]);
      expect(mine(await backend.store.claimDueTimers(new Date(now.getTime() + 10_000), 100), k).map((t) => t.id)).toEqual([timer.id]);
    });

    test('scheduling a key again moves the timer instead of adding one', async () => {
      const k = kind();
      const key = `reminder:${k}`;
      const now = backend.clock.now;
      const first = await backend.store.scheduleTimer({ kind: k, key, dueAt: now });
      const [claimed] = mine(await backend.store.claimDueTimers(now, 100), k);
      const moved = await backend.store.scheduleTimer({ kind: k, key, dueAt: new Date(now.getTime() + 5000), payload: { round: 2 } });
      expect(moved.id).toBe(first.id);
      expect(await backend.store.completeTimer(claimed)).toBe(false);
      const [due] = mine(await backend.store.claimDueTimers(new Date(now.getTime() + 5000), 100), k);
      expect(due).toMatchObject({ id: first.id, payload: { round: 2 } });
      expect(await backend.store.cancelTimers({ key })).toBe(1);
    });

    test('cancelling several keys at once deletes those timers and leaves the rest', async () => {
      const k = kind();
      const now = backend.clock.now;
      for (const step of [0, 1, 2]) await backend.store.scheduleTimer({ kind: k, key: `escalation:${k}:${step}`, dueAt: now });
      expect(await backend.store.cancelTimers({ keys: [`escalation:${k}:0`, `escalation:${k}:2`, `escalation:${k}:9`] })).toBe(2);
      expect(await backend.store.cancelTimers({ keys: [] })).toBe(0);
      const left = mine(await backend.store.claimDueTimers(now, 100), k);
      expect(left.map((timer) => timer.key)).toEqual([`escalation:${k}:1`]);
      await backend.store.completeTimer(left[0]);
    });

    test('a deadline is a timer, and completing the request removes it, leaving only its publication', async () => {
      const deadline = new Date(backend.clock.now.getTime() + 3600_000);
      const request = await create({ deadline });
      const claimed = (await backend.store.claimDueTimers(deadline, 1000)).filter((timer) => timer.requestId === request.id);
      expect(claimed).toMatchObject([{ kind: 'deadline', key: `deadline:${request.id}`, dueAt: deadline }]);
      await backend.store.releaseTimer(claimed[0], deadline);

      await backend.store.completeRequest(request.id, { status: 'approved', reason: 'quorum', actor: 'alice' });
      const after = await backend.store.claimDueTimers(new Date(deadline.getTime() + 1), 1000);
      expect(after.filter((timer) => timer.requestId === request.id).map((timer) => timer.kind)).toEqual(['publish']);
    });
  });

  describe('change notifications', () => {
    test('a subscriber hears of votes and completion of its request, and nothing else', async () => {
      const request = await create();
      const other = await create();
      const seen = collect(2, { skipCreated: true });
      const unsubscribe = await backend.store.subscribe(request.id, seen.listener);
      await backend.store.castVote({ requestId: other.id, login: 'alice', choice: 'approve', via: 'comment', tally: quorum(2) });
      await backend.store.castVote({ requestId: request.id, login: 'alice', choice: 'approve', via: 'comment', tally: quorum(2) });
      await backend.store.castVote({ requestId: request.id, login: 'bob', choice: 'approve', via: 'comment', tally: quorum(2) });
      expect(await seen.done).toEqual([
        { requestId: request.id, status: 'pending', change: 'vote' },
        { requestId: request.id, status: 'approved', change: 'completed' },
      ]);
      await unsubscribe();
      await backend.store.completeRequest(other.id, { status: 'cancelled', reason: 'x', actor: 'octocat' });
      await backend.store.updateRequest(request.id, { commentId: 5 });
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(seen.events).toHaveLength(2);
    });

    test('an all-requests subscriber hears of new requests', async () => {
      const events: ChangeEvent[] = [];
      const unsubscribe = await backend.store.subscribe(ALL_REQUESTS, (event) => events.push(event));
      const request = await create();
      const [event] = await eventually(() => events.filter((e) => e.requestId === request.id));
      expect(event).toEqual({ requestId: request.id, status: 'pending', change: 'created' });
      await unsubscribe();
    });

    test('a rolled-back change notifies nobody', async () => {
      const request = await create();
      const seen = collect(1, { skipCreated: true });
      const unsubscribe = await backend.store.subscribe(request.id, seen.listener);
      await expect(
        backend.store.castVote({ requestId: request.id, login: 'alice', choice: 'approve', via: 'comment', tally: () => {
          throw new Error('boom');
        } }),
      ).rejects.toThrow('boom');
      await backend.store.completeRequest(request.id, { status: 'cancelled', reason: 'x', actor: 'octocat' });
      expect(await seen.done).toEqual([{ requestId: request.id, status: 'cancelled', change: 'completed' }]);
      await unsubscribe();
    });
  });

  // Last: these tamper with the trail and restore it, so they must not interleave with other appends.
  describe('audit trail', () => {
    test('events chain: each holds the previous hash, and the chain verifies', async () => {
      const appended = [];
      for (let i = 0; i < 3; i++) {
        appended.push(await backend.store.appendAudit({ type: 'notification_attempt', actor: 'app', facts: { notifier: 'slack', i } }));
      }
      expect(appended[1].prevHash).toBe(appended[0].hash);
      expect(appended[2].prevHash).toBe(appended[1].hash);
      expect(appended[1].seq).toBe(appended[0].seq + 1);
      expect(appended[0].at).toEqual(backend.clock.now);
      const verified = await backend.store.verifyAudit();
      expect(verified).toEqual({ ok: true, count: appended[2].seq, headHash: appended[2].hash });
    });

    test('facts that jsonb normalises still verify: key order, big and decimal numbers, unicode', async () => {
      const facts = { z: 1, a: { y: [1.5, 1.0, 2 ** 60], b: null }, 'ünïcødé': '☃ \u2028 "quoted"', nested: [{ b: 2, a: 1 }] };
      const event = await backend.store.appendAudit({ type: 'policy_error', actor: 'app', facts });
      const [stored] = await backend.store.listAudit({ afterSeq: event.seq - 1, limit: 1 });
      expect(stored).toEqual(event);
      expect(stored.facts).toEqual(facts);
      expect((await backend.store.verifyAudit()).ok).toBe(true);
    });

    test('the database refuses to edit or delete audit rows', async () => {
      await expect(backend.sql(`UPDATE audit_events SET actor = 'mallory' WHERE seq = 1`)).rejects.toThrow(/append-only/);
      await expect(backend.sql('DELETE FROM audit_events WHERE seq = 1')).rejects.toThrow(/append-only/);
      await expect(backend.sql('TRUNCATE audit_events')).rejects.toThrow(/append-only/);
    });

    describe('with the append-only trigger disabled, as an attacker with table rights could', () => {
      let middle: number;
      let last: number;
      beforeAll(async () => {
        for (let i = 0; i < 4; i++) await backend.store.appendAudit({ type: 'notification_attempt', actor: 'app', facts: { i } });
        const events = await backend.store.listAudit({ limit: 100_000 });
        last = events[events.length - 1].seq;
        middle = last - 2;
        await backend.sql('ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only');
      });
      afterAll(async () => {
        await backend.sql('ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only');
      });

      async function snapshot(seq: number): Promise<Record<string, unknown>> {
        const [row] = await backend.sql('SELECT * FROM audit_events WHERE seq = $1', [seq]);
        return row;
      }

      async function insert(row: Record<string, unknown>, seq = row.seq): Promise<void> {
        await backend.sql(
          `INSERT INTO audit_events (seq, request_id, type, actor, at, facts, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8)`,
          [seq, row.request_id, row.type, row.actor, row.at, JSON.stringify(row.facts), row.prev_hash, row.hash],
        );
      }

      async function restore(...rows: Record<string, unknown>[]): Promise<void> {
        await backend.sql('DELETE FROM audit_events WHERE seq = ANY($1::bigint[])', [rows.map((row) => row.seq)]);
        for (const row of rows) await insert(row);
        expect((await backend.store.verifyAudit()).ok).toBe(true);
      }

      test('an edited row is caught at that row', async () => {
        const original = await snapshot(middle);
        await backend.sql(`UPDATE audit_events SET facts = '{"i": 99}' WHERE seq = $1`, [middle]);
        const verified = await backend.store.verifyAudit();
        expect(verified).toMatchObject({ ok: false, seq: middle, checked: middle - 1 });
        expect(verified.ok === false && verified.reason).toMatch(/hash mismatch.*edited/);
        await restore(original);
      });

      test('an edited row whose own hash was recomputed is caught at the next row', async () => {
        const original = await snapshot(middle);
        const forgedHash = auditHash({
          seq: middle,
          prevHash: String(original.prev_hash),
          requestId: (original.request_id as string | null) ?? null,
          type: String(original.type),
          actor: 'mallory',
          at: original.at as Date,
          facts: original.facts,
        });
        await backend.sql(`UPDATE audit_events SET actor = $2, hash = $3 WHERE seq = $1`, [middle, 'mallory', forgedHash]);
        const verified = await backend.store.verifyAudit();
        expect(verified).toMatchObject({ ok: false, seq: middle + 1 });
        expect(verified.ok === false && verified.reason).toMatch(/prev_hash .* does not match the hash of seq/);
        await restore(original);
      });

      test('a row deleted from the middle is caught', async () => {
        const original = await snapshot(middle);
        await backend.sql('DELETE FROM audit_events WHERE seq = $1', [middle]);
        const verified = await backend.store.verifyAudit();
        expect(verified).toMatchObject({ ok: false, seq: middle });
        expect(verified.ok === false && verified.reason).toMatch(/missing \(deleted\)/);
        await insert(original);
        expect((await backend.store.verifyAudit()).ok).toBe(true);
      });

      test('a row deleted from the end is caught through the head record', async () => {
        const original = await snapshot(last);
        await backend.sql('DELETE FROM audit_events WHERE seq = $1', [last]);
        const verified = await backend.store.verifyAudit();
        expect(verified).toMatchObject({ ok: false, seq: last });
        expect(verified.ok === false && verified.reason).toMatch(/deleted from the end/);
        await insert(original);
        expect((await backend.store.verifyAudit()).ok).toBe(true);
      });

      test.each([
        ['a time out of range', `at = '290000-01-01'`, /seq \d+: its time \(at\) is .*, which the App never writes: the row was edited \(type notification_attempt, actor app\)/],
        ['an infinite time', `at = 'infinity'`, /its time \(at\) is .*, which the App never writes/],
        ['no time', 'at = NULL', /its time \(at\) is missing \(NULL\), which the App never writes/],
        ['a number JSON cannot hold', `facts = '{"i": 1e400}'`, /its facts cannot be hashed \(Infinity is not allowed\), which the App never writes/],
      ])('a row edited to hold %s is caught at that row, not left unverifiable', async (_, change, reason) => {
        const original = await snapshot(middle);
        await backend.sql('ALTER TABLE audit_events ALTER COLUMN at DROP NOT NULL');
        try {
          await backend.sql(`UPDATE audit_events SET ${change} WHERE seq = $1`, [middle]);
          const verified = await backend.store.verifyAudit();
          expect(verified).toMatchObject({ ok: false, seq: middle, checked: middle - 1 });
          expect(verified.ok === false && `seq ${verified.seq}: ${verified.reason}`).toMatch(reason);
        } finally {
          await restore(original);
          await backend.sql('ALTER TABLE audit_events ALTER COLUMN at SET NOT NULL');
        }
      });

      test('rows swapped in place are caught', async () => {
        const a = await snapshot(middle);
        const b = await snapshot(middle + 1);
        await backend.sql('DELETE FROM audit_events WHERE seq IN ($1, $2)', [middle, middle + 1]);
        await insert(b, middle);
        await insert(a, middle + 1);
        expect(await backend.store.verifyAudit()).toMatchObject({ ok: false, seq: middle });
        await restore(a, b);
      });

      test('a second row with an existing seq is caught, wherever it falls, even against a head kept from before', async () => {
        // Enough events that the chain is read in more than one batch, the forged row where one ends.
        const [{ count }] = await backend.sql('SELECT count(*)::int AS count FROM audit_events');
        const more = Math.max(0, 1001 - Number(count));
        await backend.store.recordHandled({ audit: Array.from({ length: more }, (_, i) => ({ type: 'notification_attempt', actor: 'app', facts: { i } })), handledBy: {} });
        const kept = await backend.store.verifyAudit();
        if (!kept.ok) throw new Error('the trail should verify before the forgery');
        // Whoever owns the table drops its key and adds a decision under an existing seq, copying that row's hashes.
        await backend.sql('ALTER TABLE audit_events DROP CONSTRAINT audit_events_pkey');
        await backend.sql(
          `INSERT INTO audit_events (seq, request_id, type, actor, at, facts, prev_hash, hash)
           SELECT seq, request_id, 'approved', 'mallory', at, '{"status": "approved"}'::jsonb, prev_hash, hash FROM audit_events WHERE seq = 1000`,
        );
        try {
          expect((await backend.store.listAudit({ afterSeq: 999, limit: 3 })).map((event) => event.actor)).toContain('mallory');
          const verified = await backend.store.verifyAudit({ seq: kept.count, hash: kept.headHash });
          expect(verified).toMatchObject({ ok: false, seq: 1000 });
          expect(verified.ok === false && verified.reason).toMatch(/a second row with seq 1000|hash mismatch/);
        } finally {
          await backend.sql(`DELETE FROM audit_events WHERE seq = 1000 AND actor = 'mallory'`);
          await backend.sql('ALTER TABLE audit_events ADD PRIMARY KEY (seq)');
        }
        expect((await backend.store.verifyAudit()).ok).toBe(true);
      });

      test('a second head record, added by whoever dropped its key, is named as such', async () => {
        await backend.sql('ALTER TABLE audit_head DROP CONSTRAINT audit_head_pkey');
        await backend.sql('INSERT INTO audit_head (seq, hash) SELECT seq, hash FROM audit_head');
        try {
          const verified = await backend.store.verifyAudit();
          expect(verified).toMatchObject({ ok: false, reason: 'there are 2 audit head records where the App keeps one: one was added outside the App' });
        } finally {
          await backend.sql('DELETE FROM audit_head WHERE ctid <> (SELECT min(ctid) FROM audit_head)');
          await backend.sql('ALTER TABLE audit_head ADD PRIMARY KEY (singleton)');
        }
        expect((await backend.store.verifyAudit()).ok).toBe(true);
      });

      test('the App refuses to append once the head record is gone, and what the event would record is not written', async () => {
        const [head] = await backend.sql('SELECT seq, hash FROM audit_head');
        await backend.sql('DELETE FROM audit_head');
        expect(await backend.store.verifyAudit()).toMatchObject({ ok: false, reason: expect.stringMatching(/head record is missing/) });
        await expect(backend.store.appendAudit({ type: 'vote', actor: 'x' })).rejects.toThrow(/head record is missing/);
        // A change is committed with its audit event or not at all, with or without a cap's turn.
        const unrecorded = { repositoryId: String(randomInt(1, 2 ** 40)), runId: '5', runAttempt: '1', action: 'deploy' };
        await expect(backend.store.createRequest(newRequest(unrecorded))).rejects.toThrow(/head record is missing/);
        await expect(backend.store.createRequest(newRequest({ ...unrecorded, limits: { perRepository: 5, perRunAttempt: 5 } }))).rejects.toThrow(/head record is missing/);
        expect(await backend.store.findRequest({ ...unrecorded, jobKey: newRequest(unrecorded).jobKey })).toBeUndefined();
        await backend.sql('INSERT INTO audit_head (seq, hash) VALUES ($1, $2)', [head.seq, head.hash]);
        expect((await backend.store.verifyAudit()).ok).toBe(true);
      });
    });
  });
}
