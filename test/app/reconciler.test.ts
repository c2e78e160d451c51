/**
 * The reconciler brings back what GitHub never sent: a command whose webhook was lost is acted on,
 * a deleted vote whose `deleted` webhook was lost is withdrawn, and a check run that shows an old
 * state (the outbox gave up on it) is shown again. Each under the same rules as the webhook path.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { settingsFromEnv } from '../../app/server.js';
import { APP_PRIVATE_KEY, eventually, job, REPO, World } from './harness.js';

const INTERVAL_MS = 1500;
let world: World;
beforeAll(async () => {
  world = await World.start({ reconcileIntervalMs: INTERVAL_MS, reconcileListingLagMs: 0 });
}, 60_000);
afterAll(async () => world?.stop());

let pulls = 0;
async function pullRun() {
  const head = `reconcile-${++pulls}`;
  const pr = await world.control.openPull({ repository: REPO, user: 'mallory', title: head, head, files: { [`src/${head}.ts`]: 'export {};\n' } });
  const run = job({ ref: `refs/pull/${pr.number}/merge`, sha: pr.merge_sha, event_name: 'pull_request', head_ref: head, base_ref: 'main' });
  const { body } = await world.open(run, { action: 'deploy', environment: 'production' });
  expect(body.status).toBe('pending');
  return { pr, run, id: body.id as string, checkRunId: body.check_run_id as number };
}

type Comment = { id: number; body: string; user: { login: string } };
const commentsOn = async (issueNumber: number) => (await world.control.comments(REPO, issueNumber)) as unknown as Comment[];

describe('a command whose webhook GitHub never delivered', () => {
  it('is counted within one interval, once', async () => {
    const { pr, run, id } = await pullRun();
    const started = Date.now();
    await world.withoutWebhooks(() => world.control.comment({ repository: REPO, issue_number: pr.number, user: 'bob', body: '/approve' }));
    expect((await world.poll(run, id)).body.status).toBe('pending');
    const decided = await eventually(() => world.poll(run, id), (answer) => answer.body.status !== 'pending', 4 * INTERVAL_MS);
    expect(decided.body).toMatchObject({ status: 'approved', approved_by: ['bob'] });
    expect(Date.now() - started).toBeLessThan(3 * INTERVAL_MS + 2000);
    await new Promise((resolve) => setTimeout(resolve, 2 * INTERVAL_MS));
    expect((await world.audit(id)).filter((event) => event.type === 'vote')).toHaveLength(1);
  }, 30_000);

  it('is refused like a delivered one, with one reply however many rounds see it', async () => {
    const { pr, run, id } = await pullRun();
    await world.withoutWebhooks(() => world.control.comment({ repository: REPO, issue_number: pr.number, user: 'mallory', body: '/approve' }));
    const replies = async () => (await commentsOn(pr.number)).filter((comment) => comment.body.startsWith('@mallory your vote was not counted'));
    await eventually(replies, (found) => found.length > 0, 4 * INTERVAL_MS);
    await new Promise((resolve) => setTimeout(resolve, 3 * INTERVAL_MS));
    await world.settle();
    expect(await replies()).toHaveLength(1);
    expect((await world.poll(run, id)).body).toMatchObject({ status: 'pending', approved_by: [] });
    expect((await world.audit(id)).filter((event) => event.type === 'vote_refused')).toHaveLength(1);
  }, 30_000);

  it('does not count a comment edited before the reconciler saw it', async () => {
    const { pr, run, id } = await pullRun();
    await world.withoutWebhooks(async () => {
      const { comment } = await world.control.comment({ repository: REPO, issue_number: pr.number, user: 'bob', body: 'looks fine' });
      await new Promise((resolve) => setTimeout(resolve, 1100)); // GitHub's timestamps have whole seconds
      await world.control.editComment({ repository: REPO, comment_id: comment.id as number, user: 'bob', body: '/approve' });
    });
    await new Promise((resolve) => setTimeout(resolve, 3 * INTERVAL_MS));
    expect((await world.poll(run, id)).body).toMatchObject({ status: 'pending', approved_by: [] });
  }, 30_000);

  it('does not count a comment written before the request opened', async () => {
    const head = `reconcile-${++pulls}`;
    const pr = await world.control.openPull({ repository: REPO, user: 'mallory', title: head, head, files: { [`src/${head}.ts`]: 'export {};\n' } });
    await world.withoutWebhooks(() => world.control.comment({ repository: REPO, issue_number: pr.number, user: 'bob', body: '/approve' }));
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const run = job({ ref: `refs/pull/${pr.number}/merge`, sha: pr.merge_sha, event_name: 'pull_request', head_ref: head, base_ref: 'main' });
    const { body } = await world.open(run, { action: 'deploy', environment: 'production' });
    await new Promise((resolve) => setTimeout(resolve, 3 * INTERVAL_MS));
    expect((await world.poll(run, body.id as string)).body).toMatchObject({ status: 'pending', approved_by: [] });
  }, 30_000);
});

describe('a comment edited into a command in the second it was written', () => {
  // GitHub's timestamps have whole seconds: such a comment lists as never edited. Here the edit's
  // webhook arrives, and the reconciler waits a little for it (its lag is more than the edit's).
  let edits: World;
  beforeAll(async () => {
    edits = await World.start({ reconcileIntervalMs: INTERVAL_MS, reconcileListingLagMs: 3000 });
  }, 60_000);
  afterAll(async () => edits?.stop());

  it('is never counted by the reconciler', async () => {
    const head = 'edited-at-once';
    const pr = await edits.control.openPull({ repository: REPO, user: 'mallory', title: head, head, files: { [`src/${head}.ts`]: 'export {};\n' } });
    const run = job({ ref: `refs/pull/${pr.number}/merge`, sha: pr.merge_sha, event_name: 'pull_request', head_ref: head, base_ref: 'main' });
    const { body } = await edits.open(run, { action: 'deploy', environment: 'production' });
    let written: Comment & { created_at: string; updated_at: string };
    do {
      // Just after a second begins, so that the comment and its edit fall in the same second.
      await new Promise((resolve) => setTimeout(resolve, 1010 - (Date.now() % 1000)));
      const { comment } = await edits.control.comment({ repository: REPO, issue_number: pr.number, user: 'bob', body: 'looks fine' });
      await edits.control.editComment({ repository: REPO, comment_id: comment.id as number, user: 'bob', body: '/approve' });
      written = ((await edits.control.comments(REPO, pr.number)) as unknown as Array<typeof written>).find((c) => c.id === comment.id)!;
    } while (written.updated_at !== written.created_at);
    expect(written.body).toBe('/approve');
    await new Promise((resolve) => setTimeout(resolve, 3000 + 3 * INTERVAL_MS));
    await edits.settle();
    expect((await edits.poll(run, body.id as string)).body).toMatchObject({ status: 'pending', approved_by: [] });
    expect((await edits.audit(body.id as string)).filter((event) => event.type === 'vote')).toHaveLength(0);
  }, 60_000);
});

describe('a command written in the second before its request opened', () => {
  it('is never counted by the reconciler, though the seconds are the same', async () => {
    let round = 0;
    let opened: { run: ReturnType<typeof job>; id: string; createdAt: string };
    let written: { created_at: string };
    do {
      const head = `written-first-${++round}`;
      const pr = await world.control.openPull({ repository: REPO, user: 'mallory', title: head, head, files: { [`src/${head}.ts`]: 'export {};\n' } });
      // Just after a second begins: bob's command, heard while nothing waits here, then the request.
      await new Promise((resolve) => setTimeout(resolve, 1010 - (Date.now() % 1000)));
      const { comment } = await world.control.comment({ repository: REPO, issue_number: pr.number, user: 'bob', body: '/approve' });
      written = comment as unknown as typeof written;
      await world.control.deliveriesIdle();
      const run = job({ ref: `refs/pull/${pr.number}/merge`, sha: pr.merge_sha, event_name: 'pull_request', head_ref: head, base_ref: 'main' });
      const { body } = await world.open(run, { action: 'deploy', environment: 'production' });
      opened = { run, id: body.id as string, createdAt: body.created_at as string };
    } while (Math.floor(Date.parse(opened.createdAt) / 1000) !== Math.floor(Date.parse(written.created_at) / 1000) && round < 5);
    expect(Math.floor(Date.parse(opened.createdAt) / 1000)).toBe(Math.floor(Date.parse(written.created_at) / 1000));
    await new Promise((resolve) => setTimeout(resolve, 3 * INTERVAL_MS));
    await world.settle();
    expect((await world.poll(opened.run, opened.id)).body).toMatchObject({ status: 'pending', approved_by: [] });
  }, 60_000);
});

describe('a vote whose comment was deleted without a webhook', () => {
  it('is withdrawn before it can make a quorum', async () => {
    // prod-db needs two code owners: bob votes, deletes his comment unheard, then alice votes.
    const head = `reconcile-${++pulls}`;
    const pr = await world.control.openPull({ repository: REPO, user: 'mallory', title: head, head, files: { [`src/${head}.ts`]: 'export {};\n' } });
    const run = job({ ref: `refs/pull/${pr.number}/merge`, sha: pr.merge_sha, event_name: 'pull_request', head_ref: head, base_ref: 'main', environment: 'prod-db' });
    const { body } = await world.open(run, { action: 'migrate', environment: 'prod-db' });
    const id = body.id as string;
    const { comment } = await world.comment(pr.number, 'bob', '/approve');
    expect((await world.poll(run, id)).body.approved_by).toEqual(['bob']);
    await world.withoutWebhooks(() => world.control.deleteComment({ repository: REPO, comment_id: comment.id as number, user: 'bob' }));
    await eventually(async () => (await world.audit(id)).filter((event) => event.type === 'vote_withdrawn'), (found) => found.length > 0, 4 * INTERVAL_MS);
    await world.comment(pr.number, 'alice', '/approve');
    expect((await world.poll(run, id)).body).toMatchObject({ status: 'pending', approved_by: ['alice'] });
  }, 30_000);
});

describe('a check run that shows an old state', () => {
  it('is shown again when the outbox gave up on it', async () => {
    const { pr, run, id, checkRunId } = await pullRun();
    // GitHub refuses the update in a way that will not pass on a retry: the outbox gives up.
    await world.control.fault({ route: '/repos/{owner}/{repo}/check-runs/{check_run_id}', method: 'PATCH', status: 422, times: 1 });
    await world.comment(pr.number, 'bob', '/approve');
    expect((await world.poll(run, id)).body.status).toBe('approved');
    expect((await world.audit(id)).some((event) => event.type === 'publish_failed')).toBe(true);
    const shown = await eventually(() => world.checkRun(checkRunId), (checkRun) => checkRun.conclusion === 'success', 4 * INTERVAL_MS);
    expect(shown.actions).toEqual([]);
  }, 30_000);
});

describe('a waiting request whose approval issue can no longer be read', () => {
  it('still has its check run compared, and shown again, after its repository turned issues off', async () => {
    const run = job({ environment: 'prod-db' });
    const { body } = await world.open(run, { action: 'migrate', environment: 'prod-db' });
    const id = body.id as string;
    expect(await eventually(() => world.issueOf(id), (found) => found !== undefined, 30_000)).toBeDefined();
    const checkRunId = (await eventually(async () => (await world.poll(run, id)).body, (b) => b.check_run_id !== null, 30_000)).check_run_id as number;
    await world.settle();
    const { state } = world.github.double;
    const repo = state.repoByFullName(REPO);
    repo.hasIssues = false;
    try {
      // Its buttons are gone (as a late write of an older publication would leave them): listing the
      // issue's comments now answers 410, and the comparison after it must still happen.
      state.checkRuns.get(checkRunId)!.actions = [];
      const shown = await eventually(() => world.checkRun(checkRunId), (checkRun) => checkRun.actions.length > 0, 6 * INTERVAL_MS);
      expect(shown.actions.map((action) => action.identifier)).toEqual(['jit-approve', 'jit-reject']);
      expect((await world.poll(run, id)).body.status).toBe('pending');
    } finally {
      repo.hasIssues = true;
    }
  }, 60_000);
});

describe('RECONCILE_INTERVAL', () => {
  const env = { APP_ID: '1', WEBHOOK_SECRET: 'secret', APP_URL: 'https://jit.example.test', PRIVATE_KEY: APP_PRIVATE_KEY };

  it('sets the interval as a duration, and is left to the default when unset', () => {
    expect(settingsFromEnv({ ...env, RECONCILE_INTERVAL: '30s' }).reconcileIntervalMs).toBe(30_000);
    expect(settingsFromEnv({ ...env, RECONCILE_INTERVAL: '1m30s' }).reconcileIntervalMs).toBe(90_000);
    expect(settingsFromEnv(env).reconcileIntervalMs).toBeUndefined();
  });

  it('refuses a value that is not a duration, naming the variable', () => {
    expect(() => settingsFromEnv({ ...env, RECONCILE_INTERVAL: '120' })).toThrow(/^ {2}- RECONCILE_INTERVAL: invalid duration "120"/m);
  });
});

describe("a renamed repository's old name, taken by another repository while the reconciler reads it", () => {
  // A world of its own: its one pending request is the only one whose comments the reconciler lists.
  let moved: World;
  beforeAll(async () => {
    moved = await World.start({ reconcileIntervalMs: INTERVAL_MS, reconcileListingLagMs: 0 });
  }, 60_000);
  afterAll(async () => moved?.stop());

  it('withdraws no vote, and counts no command, from the thread of that number in the repository that took the name', async () => {
    const policy = 'version: 1\nrules:\n  - name: production\n    if: {}\n    require: { approvals: 2, approvers: [alice, bob] }\n';
    await moved.control.seed({ repos: [{ owner: 'acme', name: 'recon-moved', branches: { main: { '.github/jit-approval.yml': policy } }, collaborators: { alice: 'admin', bob: 'write', mallory: 'write' } }] });
    const run = job({ repository: 'acme/recon-moved', actor: 'mallory', environment: 'production' });
    const { body } = await moved.open(run, { action: 'deploy' });
    expect(body.status).toBe('pending');
    const id = body.id as string;
    const issue = await eventually(() => moved.issueOf(id, 'acme/recon-moved'), (found) => found !== undefined);
    await moved.comment(issue!.number, 'bob', '/approve', 'acme/recon-moved');
    expect((await moved.poll(run, id)).body.approved_by).toEqual(['bob']);
    // The reconciler's listing of the thread is slow: the rename, and the old name's new holder, come meanwhile.
    const listing = '/repos/{owner}/{repo}/issues/{issue_number}/comments';
    const lists = async () => (await moved.control.requestCounts())[`GET ${listing}`] ?? 0;
    const listed = await lists();
    await moved.control.latency({ route: listing, method: 'GET', ms: 3000, times: 1 });
    await eventually(lists, (n) => n > listed, 4 * INTERVAL_MS);
    await moved.control.rename('acme/recon-moved', 'recon-moved-2', 'alice');
    await moved.control.deliveriesIdle();
    // mallory takes the old name, with an issue of the thread's number where bob's vote is not.
    const { state } = moved.github.double;
    const taken = state.addRepo({ owner: 'acme', name: 'recon-moved', collaborators: { mallory: 'admin' } });
    for (let n = 1; n <= issue!.number; n++) state.createIssue(taken, state.ensureUser('mallory'), { title: `bait ${n}`, body: null, labels: [], number: n });
    // Two more rounds list the thread.
    const after = await lists();
    await eventually(lists, (n) => n >= after + 2, 6 * INTERVAL_MS);
    const renamed = { ...run, repository: 'acme/recon-moved-2' };
    expect((await moved.audit(id)).filter((event) => event.type === 'vote_withdrawn')).toEqual([]);
    expect((await moved.poll(renamed, id)).body).toMatchObject({ status: 'pending', approved_by: ['bob'] });
    await moved.comment(issue!.number, 'alice', '/approve', 'acme/recon-moved-2');
    expect((await moved.poll(renamed, id)).body).toMatchObject({ status: 'approved', approved_by: ['bob', 'alice'] });
  }, 60_000);
});
