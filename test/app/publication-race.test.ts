/**
 * Two App replicas on one PostgreSQL database publish the same request at once: a publication
 * queued again while one replica's still waits for GitHub is run by the other replica. Whatever they
 * both create on GitHub, every check run the App made for the request ends up showing its outcome,
 * and its buttons count.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { startApp, type AppSettings, type RunningApp } from '../../app/server.js';
import { freePort } from '../free-port.js';
import { dropSchema, POSTGRES_URL, randomSchema } from '../store/harness.js';
import { untilTheSecondAfter } from '../whole-seconds.js';
import { APP_ID, APP_PRIVATE_KEY, APP_URL, eventually, job, REPO, WEBHOOK_SECRET, World, type CheckRunJson } from './harness.js';

const schema = randomSchema();
let world: World;
let other: RunningApp | undefined;

beforeAll(async () => {
  world = await World.start({ databaseUrl: POSTGRES_URL, databaseSchema: schema });
}, 60_000);

afterEach(async () => {
  await other?.stop();
  other = undefined;
  await world.startApp();
}, 30_000);

afterAll(async () => {
  await world?.stop();
  const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 1 });
  await dropSchema(pool, schema).finally(() => pool.end());
});

const CREATE = 'POST /repos/{owner}/{repo}/check-runs';
const runsOf = async (requestId: string) => ((await world.control.checkRuns(REPO)) as unknown as CheckRunJson[]).filter((run) => run.external_id === requestId);
const commentsOf = async (requestId: string) => ((await world.control.comments(REPO)) as Array<{ body?: string }>).filter((c) => c.body?.includes(`request ${requestId}`));

/**
 * Opens a request on a PR while GitHub takes seconds to create its check run; while the first
 * replica waits for that answer, a second replica takes over GitHub's webhooks and the outbox (the
 * first one stops, as in a rolling deploy, finishing the publication under way).
 */
async function slowFirstPublication(head: string) {
  const pr = await world.control.openPull({ repository: REPO, user: 'mallory', title: head, head, files: { [`src/${head}.ts`]: 'export {};\n' } });
  const run = job({ ref: `refs/pull/${pr.number}/merge`, sha: pr.merge_sha, event_name: 'pull_request', head_ref: head, base_ref: 'main' });
  const before = (await world.control.requestCounts())[CREATE] ?? 0;
  await world.control.latency({ route: '/repos/{owner}/{repo}/check-runs', method: 'POST', ms: 8000, times: 1 });
  const opened = await world.openAsIs(run, { action: 'deploy', environment: 'production' });
  expect(opened.body).toMatchObject({ status: 'pending' });
  await eventually(async () => (await world.control.requestCounts())[CREATE] ?? 0, (count) => count > before);
  other = await startApp({
    appId: APP_ID,
    privateKey: APP_PRIVATE_KEY,
    webhookSecret: WEBHOOK_SECRET,
    port: await freePort(),
    host: '127.0.0.1',
    githubApiUrl: world.github.apiUrl,
    appUrl: APP_URL,
    oidcIssuer: world.github.oidcIssuer,
    databaseUrl: POSTGRES_URL,
    databaseSchema: schema,
    logLevel: (process.env.LOG_LEVEL as AppSettings['logLevel']) ?? 'silent',
    timerPollMs: 200,
  });
  await world.control.setWebhook(APP_ID, { url: `${other.url}/api/github/webhooks`, secret: WEBHOOK_SECRET });
  const stopped = world.app.stop();
  return { pr, run, id: opened.body.id as string, createdAt: Date.parse(opened.body.created_at as string), stopped, replica: other };
}

describe('two replicas publishing one request at once', () => {
  it('never leave a decided request shown as pending by a publication that read it before the decision', async () => {
    const pr = await world.control.openPull({ repository: REPO, user: 'mallory', title: 'stale', head: 'stale', files: { 'src/stale.ts': 'export {};\n' } });
    const run = job({ ref: `refs/pull/${pr.number}/merge`, sha: pr.merge_sha, event_name: 'pull_request', head_ref: 'stale', base_ref: 'main' });
    const opened = await world.open(run, { action: 'deploy', environment: 'production' });
    const id = opened.body.id as string;
    const checkRunId = opened.body.check_run_id as number;
    const UPDATE = 'PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}';
    const before = (await world.control.requestCounts())[UPDATE] ?? 0;
    // A change queues the publication again; the first replica reads the pending request and GitHub
    // takes seconds to apply its update of the check run.
    await world.control.latency({ route: '/repos/{owner}/{repo}/check-runs/{check_run_id}', method: 'PATCH', ms: 8000, times: 1 });
    await world.app.store.enqueuePublish(id);
    await eventually(async () => (await world.control.requestCounts())[UPDATE] ?? 0, (count) => count > before);
    other = await startApp({
      appId: APP_ID,
      privateKey: APP_PRIVATE_KEY,
      webhookSecret: WEBHOOK_SECRET,
      port: await freePort(),
      host: '127.0.0.1',
      githubApiUrl: world.github.apiUrl,
      appUrl: APP_URL,
      oidcIssuer: world.github.oidcIssuer,
      databaseUrl: POSTGRES_URL,
      databaseSchema: schema,
      logLevel: (process.env.LOG_LEVEL as AppSettings['logLevel']) ?? 'silent',
      timerPollMs: 200,
    });
    const replica = other;
    await world.control.setWebhook(APP_ID, { url: `${replica.url}/api/github/webhooks`, secret: WEBHOOK_SECRET });
    const stopped = world.app.stop();
    await untilTheSecondAfter(Date.parse(opened.body.created_at as string));
    // bob approves; the second replica publishes the decision while the first one's update is still on its way.
    await world.control.comment({ repository: REPO, issue_number: pr.number, user: 'bob', body: '/approve' });
    await eventually(async () => (await replica.store.getRequest(id))?.status, (status) => status === 'approved');
    await stopped;
    const shown = await eventually(
      async () => (await runsOf(id)).find((r) => r.id === checkRunId),
      (r) => r?.conclusion === 'success',
      15_000,
    );
    expect(shown).toMatchObject({ status: 'completed', conclusion: 'success', actions: [] });
    await world.control.deliveriesIdle();
    const comments = await eventually(() => commentsOf(id), (found) => found.length === 1 && !found[0].body!.includes('Reply `/approve`'));
    expect(comments).toHaveLength(1);
    expect(comments[0].body).toContain('Decision record:');
  }, 60_000);

  it('leave no check run of the request asking for approval once it is approved, and one PR comment', async () => {
    const { pr, id, createdAt, stopped, replica } = await slowFirstPublication('race-vote');
    await untilTheSecondAfter(createdAt);
    // bob approves while the first replica still waits for GitHub to create the check run.
    await world.control.comment({ repository: REPO, issue_number: pr.number, user: 'bob', body: '/approve' });
    await eventually(async () => (await replica.store.getRequest(id))?.status, (status) => status === 'approved');
    await stopped;
    const runs = await eventually(() => runsOf(id), (found) => found.length > 1 && found.every((r) => r.conclusion === 'success'), 15_000);
    expect(runs.map((r) => ({ status: r.status, conclusion: r.conclusion, actions: r.actions }))).toEqual(
      runs.map(() => ({ status: 'completed', conclusion: 'success', actions: [] })),
    );
    // The two replicas did race: each created a check run.
    expect(runs).toHaveLength(2);
    await world.control.deliveriesIdle();
    expect(await commentsOf(id)).toHaveLength(1);
  }, 60_000);

  it('count a button pressed on the check run the request did not keep', async () => {
    const { id, createdAt, stopped, replica } = await slowFirstPublication('race-button');
    // A change queues the publication again while the first replica still waits for GitHub.
    await replica.store.enqueuePublish(id);
    await stopped;
    const runs = await eventually(() => runsOf(id), (found) => found.length > 1, 15_000);
    expect(runs).toHaveLength(2);
    const kept = (await replica.store.getRequest(id))?.checkRunId;
    const notKept = runs.find((r) => r.id !== kept)!;
    expect(notKept).toMatchObject({ conclusion: 'action_required', actions: [{ identifier: 'jit-approve' }, { identifier: 'jit-reject' }] });
    await untilTheSecondAfter(createdAt);
    await world.control.clickCheckRunButton({ repository: REPO, check_run_id: notKept.id, user: 'bob', identifier: 'jit-approve' });
    await world.control.deliveriesIdle();
    expect(await eventually(async () => (await replica.store.getRequest(id))?.status, (status) => status === 'approved')).toBe('approved');
    expect((await eventually(() => runsOf(id), (found) => found.every((r) => r.conclusion === 'success'))).map((r) => r.conclusion)).toEqual(['success', 'success']);
  }, 60_000);
});
