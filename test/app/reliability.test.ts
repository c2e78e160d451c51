/**
 * Nothing stranded: webhooks are answered once their effect is committed, GitHub is brought in line
 * from the durable outbox (retried, without duplicates when GitHub's answer was lost), evaluation
 * rides out a GitHub outage within its budget, what was committed survives a restart, and a request
 * whose comment on its pull request was deleted is shown in a new one rather than failed.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eventually, job, REPO, World } from './harness.js';

let world: World;
beforeAll(async () => {
  world = await World.start({ evaluationBudgetMs: 15_000 });
}, 60_000);
afterAll(async () => world?.stop());

let pulls = 0;
async function pullRun() {
  const head = `reliable-${++pulls}`;
  const pr = await world.control.openPull({ repository: REPO, user: 'mallory', title: head, head, files: { [`src/${head}.ts`]: 'export {};\n' } });
  const run = job({ ref: `refs/pull/${pr.number}/merge`, sha: pr.merge_sha, event_name: 'pull_request', head_ref: head, base_ref: 'main' });
  return { pr, run };
}

type Json = Record<string, unknown> & { body?: string; external_id?: string; user?: { login: string } };
const ours = (items: Json[], requestId: string) => items.filter((item) => item.external_id === requestId || item.body?.includes(`request ${requestId}`));

describe('webhooks are answered once their effect is committed', () => {
  it('a vote is counted and answered 2xx while GitHub refuses the check-run update; the outbox shows it later', async () => {
    const { pr, run } = await pullRun();
    const { body } = await world.open(run, { action: 'deploy', environment: 'production' });
    await world.control.fault({ route: '/repos/{owner}/{repo}/check-runs/{check_run_id}', method: 'PATCH', status: 502, times: 6 });
    const { deliveries } = await world.comment(pr.number, 'bob', '/approve');
    const delivery = await world.control.waitForDelivery({ event: 'issue_comment', after: deliveries[0] - 1 });
    expect(delivery.status).toBeGreaterThanOrEqual(200);
    expect(delivery.status).toBeLessThan(300);
    expect((await world.poll(run, body.id as string)).body).toMatchObject({ status: 'approved', approved_by: ['bob'] });
    const checkRun = await eventually(() => world.checkRun(body.check_run_id as number), (run) => run.conclusion === 'success', 30_000);
    expect(checkRun).toMatchObject({ conclusion: 'success', actions: [] });
    await world.control.clearFaults();
  }, 60_000);

  it('a delivery whose handling failed before committing anything is answered 503, and counts when delivered again', async () => {
    const { pr, run } = await pullRun();
    const { body } = await world.open(run, { action: 'deploy', environment: 'production' });
    // A failure Octokit does not retry: bob's permission cannot be looked up, so nothing is recorded.
    await world.control.fault({ route: '/repos/{owner}/{repo}/collaborators/{username}/permission', status: 400, times: 1 });
    const { deliveries } = await world.comment(pr.number, 'bob', '/approve');
    expect((await world.control.waitForDelivery({ event: 'issue_comment', after: deliveries[0] - 1 })).status).toBe(503);
    expect((await world.poll(run, body.id as string)).body).toMatchObject({ status: 'pending', approved_by: [] });
    await world.control.clearFaults();
    await world.control.redeliver(deliveries[0]);
    await world.settle();
    expect((await world.poll(run, body.id as string)).body).toMatchObject({ status: 'approved', approved_by: ['bob'] });
  }, 60_000);
});

describe('a write GitHub performed but whose answer was lost is not made twice', () => {
  it.each([
    ['the check run', '/repos/{owner}/{repo}/check-runs'],
    ['the approval issue', '/repos/{owner}/{repo}/issues'],
  ])('%s', async (_what, route) => {
    await world.control.fault({ route, method: 'POST', status: 502, times: 1, after: true });
    const run = job({ environment: 'production' });
    const { body } = await world.open(run, { action: 'deploy', environment: 'production' });
    await eventually(async () => (await world.poll(run, body.id as string)).body, (b) => b.check_run_id !== null, 30_000);
    await world.settle();
    const issues = ours((await world.control.issues(REPO)) as unknown as Json[], body.id as string);
    const runs = ours((await world.control.checkRuns(REPO)) as unknown as Json[], body.id as string);
    await eventually(async () => ours((await world.control.issues(REPO)) as unknown as Json[], body.id as string), (found) => found.length > 0, 30_000);
    expect(runs).toHaveLength(1);
    expect(issues.length).toBeLessThanOrEqual(1);
    expect(ours((await world.control.issues(REPO)) as unknown as Json[], body.id as string)).toHaveLength(1);
    await world.api('POST', `/api/v1/requests/${String(body.id)}/cancel`, await world.token(run), { reason: 'job_cancelled' });
  }, 60_000);

  it('the PR comment and a reply', async () => {
    const { pr, run } = await pullRun();
    await world.control.fault({ route: '/repos/{owner}/{repo}/issues/{issue_number}/comments', method: 'POST', status: 502, times: 1, after: true });
    const { body } = await world.open(run, { action: 'deploy', environment: 'production' });
    const thread = async () => ((await world.control.comments(REPO, pr.number)) as unknown as Json[]).filter((c) => c.body?.includes(`request ${String(body.id)}`));
    expect(await eventually(thread, (found) => found.length > 0, 30_000)).toHaveLength(1);
    // carol may not approve: the App replies, and loses the answer to its first try.
    await world.control.fault({ route: '/repos/{owner}/{repo}/issues/{issue_number}/comments', method: 'POST', status: 502, times: 1, after: true });
    await world.comment(pr.number, 'carol', '/approve');
    const replies = async () => ((await world.control.comments(REPO, pr.number)) as unknown as Json[]).filter((c) => c.body?.startsWith('@carol'));
    await eventually(replies, (found) => found.length > 0, 30_000);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(await replies()).toHaveLength(1);
    expect(await thread()).toHaveLength(1);
    await world.api('POST', `/api/v1/requests/${String(body.id)}/cancel`, await world.token(run), { reason: 'job_cancelled' });
  }, 60_000);
});

describe('a check run GitHub shows wrongly', () => {
  it('is shown again at once when someone re-runs it', async () => {
    const { pr, run } = await pullRun();
    const { body } = await world.open(run, { action: 'deploy', environment: 'production' });
    const checkRunId = body.check_run_id as number;
    // A refusal that will not pass on a retry: the outbox gives up and the check run keeps asking for approval.
    await world.control.fault({ route: '/repos/{owner}/{repo}/check-runs/{check_run_id}', method: 'PATCH', status: 422, times: 1 });
    await world.comment(pr.number, 'bob', '/approve');
    expect((await world.poll(run, body.id as string)).body.status).toBe('approved');
    expect((await world.checkRun(checkRunId)).conclusion).toBe('action_required');
    await world.control.rerunCheckRun({ repository: REPO, check_run_id: checkRunId, user: 'bob' });
    await world.settle();
    expect(await world.checkRun(checkRunId)).toMatchObject({ conclusion: 'success', actions: [] });
  }, 60_000);
});

describe('evaluation rides out a GitHub outage within its budget', () => {
  it('keeps the request waiting while GitHub fails, and decides when it answers again', async () => {
    await world.control.fault({ route: '/repos/{owner}/{repo}/commits', status: 502, times: 6 });
    const run = job();
    const opened = await world.openAsIs(run, { action: 'lint' });
    expect(opened.body).toMatchObject({ status: 'pending', matched_rules: [], reason: '' });
    const decided = await eventually(() => world.poll(run, opened.body.id as string), (a) => a.body.status !== 'pending', 30_000);
    expect(decided.body).toMatchObject({ status: 'approved', reason: 'auto' });
  }, 60_000);

  it('fails closed, never approving, once the budget is spent', async () => {
    await world.control.fault({ route: '/repos/{owner}/{repo}/commits', status: 502, times: 500 });
    try {
      const run = job();
      const opened = await world.openAsIs(run, { action: 'lint' });
      const decided = await eventually(() => world.poll(run, opened.body.id as string), (a) => a.body.status !== 'pending', 40_000);
      expect(decided.body).toMatchObject({ status: 'failed', reason: expect.stringContaining('could not establish the facts for a decision') });
    } finally {
      await world.control.clearFaults();
    }
  }, 60_000);
});

describe('what was committed survives a restart', () => {
  it('a decision whose publication was still queued when the App stopped is shown after it starts again', async () => {
    const { pr, run } = await pullRun();
    const { body } = await world.open(run, { action: 'deploy', environment: 'production' });
    // GitHub refuses every check-run update until the App is back.
    await world.control.fault({ route: '/repos/{owner}/{repo}/check-runs/{check_run_id}', method: 'PATCH', status: 503, times: 1000 });
    await world.comment(pr.number, 'bob', '/approve');
    expect((await world.poll(run, body.id as string)).body.status).toBe('approved');
    await world.app.stop();
    await world.control.clearFaults();
    await world.startApp();
    const checkRun = await eventually(() => world.checkRun(body.check_run_id as number), (r) => r.conclusion === 'success', 30_000);
    expect(checkRun.actions).toEqual([]);
  }, 90_000);
});

describe('where GitHub takes no approval issue, the check run carries the request', () => {
  it('a run without a pull request in a repository whose issues are off waits on its check run, and its button approves it', async () => {
    const ISSUELESS = 'acme/issueless';
    const policy = 'version: 1\nunmatched: require\ndefaults: { approvers: [alice] }\n';
    await world.control.seed({ repos: [{ owner: 'acme', name: 'issueless', hasIssues: false, branches: { main: { '.github/jit-approval.yml': policy, 'src/app.ts': 'export {};\n' } }, collaborators: { alice: 'admin', mallory: 'write' } }] });
    const run = job({ repository: ISSUELESS, environment: 'production' });
    const { body } = await world.open(run, { action: 'deploy', environment: 'production' });
    await eventually(async () => (await world.poll(run, body.id as string)).body, (b) => b.check_run_id !== null, 30_000);
    await world.settle();
    const { body: waiting } = await world.poll(run, body.id as string);
    expect(waiting).toMatchObject({ status: 'pending' });
    expect(await world.control.issues(ISSUELESS)).toEqual([]);
    const checkRunId = waiting.check_run_id as number;
    expect((await world.checkRun(checkRunId, ISSUELESS)).actions.map((a) => a.identifier)).toEqual(['jit-approve', 'jit-reject']);
    await world.control.clickCheckRunButton({ repository: ISSUELESS, check_run_id: checkRunId, user: 'alice', identifier: 'jit-approve' });
    expect((await eventually(() => world.poll(run, body.id as string), (a) => a.body.status !== 'pending', 30_000)).body).toMatchObject({ status: 'approved', approved_by: ['alice'] });
  }, 60_000);

  it('a request whose approval issue GitHub no longer takes (deleted, or issues turned off) keeps waiting on its check run', async () => {
    const run = job({ environment: 'prod-db' });
    const { body } = await world.open(run, { action: 'migrate', environment: 'prod-db' });
    const issue = await eventually(() => world.issueOf(body.id as string), (found) => found !== undefined, 30_000);
    expect(issue).toBeDefined();
    await world.control.fault({ route: '/repos/{owner}/{repo}/issues/{issue_number}', method: 'PATCH', status: 410, times: 1000 });
    try {
      const checkRunId = (await world.poll(run, body.id as string)).body.check_run_id as number;
      await world.control.clickCheckRunButton({ repository: REPO, check_run_id: checkRunId, user: 'bob', identifier: 'jit-approve' });
      await eventually(async () => (await world.poll(run, body.id as string)).body, (b) => (b.approved_by as string[]).length > 0, 30_000);
      await world.settle();
      expect((await world.poll(run, body.id as string)).body).toMatchObject({ status: 'pending', approved_by: ['bob'] });
      await world.control.clickCheckRunButton({ repository: REPO, check_run_id: checkRunId, user: 'alice', identifier: 'jit-approve' });
      expect((await eventually(() => world.poll(run, body.id as string), (a) => a.body.status !== 'pending', 30_000)).body).toMatchObject({ status: 'approved' });
    } finally {
      await world.control.clearFaults();
    }
  }, 60_000);
});

describe('a comment of the App deleted by someone', () => {
  type Comment = { id: number; body: string; user: { login: string } };
  const appComments = async (issueNumber: number) =>
    ((await world.control.comments(REPO, issueNumber)) as unknown as Comment[]).filter((comment) => comment.user.login === 'mercurial-jit[bot]');

  it('a request whose comment on its pull request was deleted stays open, is shown in a new comment, and can still be approved', async () => {
    const head = 'deleted-thread-comment';
    const pr = await world.control.openPull({ repository: REPO, user: 'mallory', title: head, head, files: { [`src/${head}.ts`]: 'export {};\n' } });
    const run = job({ ref: `refs/pull/${pr.number}/merge`, sha: pr.merge_sha, event_name: 'pull_request', head_ref: head, base_ref: 'main' });
    // prod-db needs two approvals: bob's vote publishes the request again while it still waits.
    const { body } = await world.open(run, { action: 'deploy', environment: 'prod-db' });
    const id = body.id as string;
    await world.settle();
    const [shown] = await appComments(pr.number);
    expect(shown).toBeDefined();
    await world.control.deleteComment({ repository: REPO, comment_id: shown!.id, user: 'alice' });

    await world.comment(pr.number, 'bob', '/approve');
    await world.settle();
    expect((await world.poll(run, id)).body).toMatchObject({ status: 'pending', approved_by: ['bob'] });
    const [again, ...more] = await appComments(pr.number);
    expect(more).toEqual([]);
    expect(again!.id).not.toBe(shown!.id);
    expect(again!.body).toContain(id);
    expect((await world.audit(id)).filter((event) => event.type === 'publish_failed')).toEqual([]);

    await world.comment(pr.number, 'alice', '/approve');
    const decided = await eventually(() => world.poll(run, id), (answer) => answer.body.status !== 'pending');
    expect(decided.body).toMatchObject({ status: 'approved' });
    await world.settle();
    // The new comment is the one kept up to date.
    expect((await appComments(pr.number)).map((comment) => comment.id)).toEqual([again!.id]);
    expect((await world.audit(id)).filter((event) => event.type === 'publish_failed')).toEqual([]);
  }, 60_000);
});
