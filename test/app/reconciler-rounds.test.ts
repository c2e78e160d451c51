/**
 * However many requests wait, the reconciler looks at every one: each round takes a page of the
 * pending requests and one of those ended lately, taking up where the last round left off and
 * starting over after the last, so a lost `/approve` on the newest of thousands is still found. It
 * looks for runs whose protection-rule webhook was lost in every installation served lately. And it
 * takes no command from a comment edited in the second it was written.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { recoverLostRules } from '../../app/deployments/recover.js';
import type { Gate } from '../../app/gate/gate.js';
import type { GitHubClient } from '../../app/github/github.js';
import { RECONCILE_JOB, Reconciler } from '../../app/reconciler/reconciler.js';
import { CONCLUSIONS } from '../../app/render/check-run.js';
import { openStore, type ApprovalRequest, type ClaimedTimer, type Store } from '../../app/store/index.js';
import { newRequest } from '../store/new-request.js';

let store: Store;
beforeAll(async () => {
  store = await openStore({ dataDir: 'memory://' });
});
afterAll(async () => store?.close());

/** Every request here is of one repository, which its name still leads to. */
const REPOSITORY_ID = newRequest().repositoryId;
const sameRepository: Pick<GitHubClient, 'repository'> = { repository: async (repo) => ({ id: REPOSITORY_ID, ...repo }) };

/** What one round read on GitHub: the threads of pending requests, the check runs of ended ones. */
interface Round {
  threads: number[];
  checkRuns: number[];
}

/** A GitHub whose threads have no comments and whose check runs show what the store holds; it notes what it is asked. */
function recordingGitHub(round: () => Round): GitHubClient {
  const client: Partial<GitHubClient> = {
    ...sameRepository,
    async listComments(_repo, issueNumber) {
      round().threads.push(issueNumber);
      return [];
    },
    async checkRunState(_repo, id) {
      round().checkRuns.push(id);
      const request = (await store.listRequests({ completedAfter: new Date(0) })).find((r) => r.checkRunId === id);
      return { conclusion: CONCLUSIONS[request!.status], buttons: [] };
    },
  };
  return client as GitHubClient;
}

/** bob's `/approve` as GitHub lists it, written at `writtenAt` (GitHub's timestamps have whole seconds). */
function bobsApproval(id: number, writtenAt: number) {
  const at = new Date(Math.floor(writtenAt / 1000) * 1000).toISOString().replace('.000', '');
  return { id, body: '/approve', createdAt: at, updatedAt: at, author: { login: 'bob', id: '2', type: 'User' } };
}

/** A gate that counts every vote it is handed, noting the comments they came from. */
function votingGate(request: ApprovalRequest): { gate: Gate; voted: number[] } {
  const voted: number[] = [];
  const gate = {
    vote: async (voting: { comment?: { id: number } }) => {
      voted.push(voting.comment!.id);
      return { counted: true, handled: false, request };
    },
  } as unknown as Gate;
  return { gate, voted };
}

async function open(prNumber: number): Promise<ApprovalRequest> {
  const facts = { installationId: 7, owner: 'acme', repo: 'web' };
  const { request } = await store.createRequest(newRequest({ prNumber, facts }));
  return request;
}

it('goes round every pending request and every one ended lately, a page a round', async () => {
  // Five pending (threads 1 to 5) and three ended lately (check runs 11 to 13); two of each a round.
  for (const n of [1, 2, 3, 4, 5]) await open(n);
  for (const n of [11, 12, 13]) {
    const request = await open(100 + n);
    await store.updateRequest(request.id, { checkRunId: n });
    await store.completeRequest(request.id, { status: 'approved', reason: 'quorum', actor: 'alice' });
  }
  const pending = (await store.listRequests({ status: 'pending' })).map((r) => r.prNumber);
  const ended = (await store.listRequests({ completedAfter: new Date(0) })).map((r) => r.checkRunId);

  const rounds: Round[] = [];
  const reconciler = new Reconciler({ store, gate: {} as Gate, github: async () => recordingGitHub(() => rounds.at(-1)!), log: pino({ level: 'silent' }), perRound: 2 });
  let job: ClaimedTimer | undefined;
  for (let i = 0; i < 4; i++) {
    rounds.push({ threads: [], checkRuns: [] });
    await reconciler.run(job);
    // The next round, as the timer worker would hand it over.
    [job] = await store.claimDueTimers(new Date(Date.now() + 3600_000), 1, { only: [RECONCILE_JOB] });
    expect(job).toBeDefined();
  }
  expect(rounds.map((round) => round.threads)).toEqual([
    [pending[0], pending[1]],
    [pending[2], pending[3]],
    [pending[4], pending[0]],
    [pending[1], pending[2]],
  ]);
  expect(rounds.map((round) => round.checkRuns)).toEqual([
    [ended[0], ended[1]],
    [ended[2], ended[0]],
    [ended[1], ended[2]],
    [ended[0], ended[1]],
  ]);

  // A payload that is no position (written by hand, say) starts that round from the first.
  rounds.push({ threads: [], checkRuns: [] });
  await reconciler.run({ payload: { pending: { createdAt: 'yesterday', id: 'x' }, ended: 42 } });
  expect(rounds.at(-1)).toEqual({ threads: [pending[0], pending[1]], checkRuns: [ended[0], ended[1]] });
  [job] = await store.claimDueTimers(new Date(Date.now() + 3600_000), 1, { only: [RECONCILE_JOB] });

  // When all of them fit in a round, every round looks at all of them: the first from where the last
  // round left off, round to it again, and the next from the first.
  const whole = new Reconciler({ store, gate: {} as Gate, github: async () => recordingGitHub(() => rounds.at(-1)!), log: pino({ level: 'silent' }) });
  for (let i = 0; i < 2; i++) {
    rounds.push({ threads: [], checkRuns: [] });
    await whole.run(job);
    [job] = await store.claimDueTimers(new Date(Date.now() + 3600_000), 1, { only: [RECONCILE_JOB] });
  }
  expect(rounds.at(-2)).toEqual({ threads: [...pending.slice(2), ...pending.slice(0, 2)], checkRuns: [...ended.slice(2), ...ended.slice(0, 2)] });
  expect(rounds.at(-1)).toEqual({ threads: pending, checkRuns: ended });
});

it('looks for runs whose protection-rule webhook was lost in every installation served lately, however many requests each has', async () => {
  // A busy installation's 500 requests, ended; then one of a quieter installation's, ended later.
  const ended = async (installationId: number) => {
    const { request } = await store.createRequest(newRequest({ facts: { installationId } }));
    await store.completeRequest(request.id, { status: 'approved', reason: 'quorum', actor: 'alice' });
  };
  for (let i = 0; i < 500; i++) await ended(41);
  await ended(42);
  const asked: number[] = [];
  const github = async (installationId: number) => {
    asked.push(installationId);
    return { installationRepositories: async () => [] } as unknown as GitHubClient;
  };
  await recoverLostRules({ store, gate: {} as Gate, github, appId: 1, log: pino({ level: 'silent' }), now: Date.now });
  expect(asked).toEqual(expect.arrayContaining([41, 42]));
  expect(new Set(asked).size).toBe(asked.length);
}, 60_000);

it("takes a command from a listing only once its edit's webhook would have come, and never one noted as edited", async () => {
  const request = await open(900);
  // The round runs 30 s after the request opened; GitHub's timestamps have whole seconds.
  const now = request.createdAt.getTime() + 30_000;
  const settled = bobsApproval(9001, request.createdAt.getTime() + 2_000);
  const justWritten = bobsApproval(9002, now - 3_000);
  const editedAtOnce = bobsApproval(9003, request.createdAt.getTime() + 4_000);
  await store.markCommentEdited(request.repositoryId, editedAtOnce.id);
  const github = { ...sameRepository, listComments: async (_repo: unknown, thread: number) => (thread === 900 ? [settled, justWritten, editedAtOnce] : []) } as unknown as GitHubClient;
  const { gate, voted } = votingGate(request);
  const reconciler = new Reconciler({ store, gate, github: async () => github, log: pino({ level: 'silent' }), clock: () => now, perRound: 10_000 });
  await reconciler.run();
  expect(voted).toEqual([settled.id]);
});

it("forgets a handled comment's mark only once no pending request could take the comment again", async () => {
  // Only this test's request waits: another pending request would hold the mark back on its own.
  for (const waiting of await store.listRequests({ status: 'pending', limit: 10_000 })) {
    await store.completeRequest(waiting.id, { status: 'cancelled', reason: 'cleared for this test', actor: 'test' });
  }
  const request = await open(950);
  // bob's `/approve`, counted when its webhook came (and, say, overruled by his `/reject` since).
  const approval = bobsApproval(9501, request.createdAt.getTime() + 2_000);
  await store.completeComment(request.repositoryId, approval.id);
  const github = { ...sameRepository, listComments: async (_repo: unknown, thread: number) => (thread === 950 ? [approval] : []) } as unknown as GitHubClient;
  const { gate, voted } = votingGate(request);
  // Fifteen days on, past how long marks are kept, the request still waits (a long timeout).
  let now = request.createdAt.getTime() + 15 * 24 * 3600_000;
  const reconciler = new Reconciler({ store, gate, github: async () => github, log: pino({ level: 'silent' }), clock: () => now, perRound: 10_000 });
  for (let round = 0; round < 2; round++) {
    await reconciler.run();
    now += 120_000;
  }
  expect(voted).toEqual([]);
  expect((await store.commandThread(request.repositoryId, 950, approval.id)).handled).toBe(true);

  // Once it ended, nothing can take the comment any more: the mark goes.
  await store.completeRequest(request.id, { status: 'rejected', reason: 'rejected', actor: 'bob' });
  await reconciler.run();
  expect((await store.commandThread(request.repositoryId, 950, approval.id)).handled).toBe(false);
});

it('costs a round no store look-up per command comment already handled, however many are on the thread', async () => {
  const request = await open(960);
  // Thousands may comment `/approve` on a public pull request; each was handled when its webhook came.
  const handled = Array.from({ length: 300 }, (_, i) => bobsApproval(96_000 + i, request.createdAt.getTime() + 2_000));
  for (const comment of handled) await store.completeComment(request.repositoryId, comment.id);
  // One whose webhook was lost: it must still be taken.
  const lost = bobsApproval(96_999, request.createdAt.getTime() + 3_000);
  const github = { ...sameRepository, listComments: async (_repo: unknown, thread: number) => (thread === 960 ? [...handled, lost] : []) } as unknown as GitHubClient;
  const { gate, voted } = votingGate(request);
  const lookups: string[] = [];
  const counting = new Proxy(store, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver) as unknown;
      if (name !== 'commandThread' || typeof value !== 'function') return typeof value === 'function' ? value.bind(target) : value;
      return (...args: unknown[]) => {
        lookups.push(String(args[2]));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  const now = request.createdAt.getTime() + 10 * 60_000;
  const reconciler = new Reconciler({ store: counting, gate, github: async () => github, log: pino({ level: 'silent' }), clock: () => now, perRound: 10_000 });
  await reconciler.run();
  expect(voted).toEqual([lost.id]);
  expect(lookups).toEqual([String(lost.id)]);
});
