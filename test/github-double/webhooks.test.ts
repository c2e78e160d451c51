import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createNodeMiddleware, Probot } from 'probot';
import { APP_ID, appKeys, INSTALLATION_ID, REPO, standardSeed } from './fixtures.js';
import { startGitHubDouble, type RunningGitHubDouble } from './index.js';

const SECRET = 'webhook-secret';
let gh: RunningGitHubDouble;

interface Received { headers: IncomingHttpHeaders; body: string }

/** A bare receiver that records exactly what arrives. */
async function startReceiver(status = 202): Promise<{ url: string; received: Received[]; server: Server }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, received, server };
}

let receiver: Awaited<ReturnType<typeof startReceiver>>;

beforeAll(async () => {
  gh = await startGitHubDouble({ seed: standardSeed() });
  receiver = await startReceiver();
});
afterAll(async () => {
  await gh.close();
  receiver.server.closeAllConnections();
  receiver.server.close();
});
beforeEach(async () => {
  await gh.control.reset();
  receiver.received.length = 0;
  await gh.control.setWebhook(APP_ID, { url: receiver.url, secret: SECRET });
});

const payloads = () => receiver.received.map((r) => JSON.parse(r.body) as { comment: { body: string } } & Record<string, unknown>);

describe('webhook deliveries to a real Probot app', () => {
  let probotServer: Server;
  const seen: { name: string; sender: string; body?: string }[] = [];

  beforeAll(async () => {
    const probot = new Probot({ appId: APP_ID, privateKey: appKeys.privateKey, secret: SECRET, baseUrl: gh.apiUrl, logLevel: 'fatal' });
    const middleware = await createNodeMiddleware((app) => {
      app.on('issue_comment', async (context) => {
        seen.push({ name: `${context.name}.${context.payload.action}`, sender: context.payload.sender.login, body: context.payload.comment.body });
        // A human's comment gets a 👀 reaction from the App, through the double's REST API.
        if (context.payload.sender.type !== 'Bot' && context.payload.action === 'created') {
          await context.octokit.rest.reactions.createForIssueComment(context.repo({ comment_id: context.payload.comment.id, content: 'eyes' }));
          await context.octokit.rest.issues.createComment(context.issue({ body: 'seen' }));
        }
      });
    }, { probot });
    probotServer = createServer((req, res) => void middleware(req, res, () => res.writeHead(404).end()));
    await new Promise<void>((resolve) => probotServer.listen(0, '127.0.0.1', resolve));
  });
  afterAll(() => {
    probotServer.closeAllConnections();
    probotServer.close();
  });
  beforeEach(async () => {
    seen.length = 0;
    await gh.control.setWebhook(APP_ID, { url: `http://127.0.0.1:${(probotServer.address() as AddressInfo).port}/api/github/webhooks`, secret: SECRET });
  });

  it('delivers a human comment that Probot verifies and acts on, and the App\'s own comment back to it', async () => {
    await gh.control.comment({ repository: REPO, issue_number: 1, user: 'alice', body: '/approve' });
    const delivery = await gh.control.waitForDelivery({ event: 'issue_comment', app_id: APP_ID });
    expect(delivery).toMatchObject({ status: 200, state: 'delivered', action: 'created' });
    const own = await gh.control.waitForDelivery({ event: 'issue_comment', app_id: APP_ID, after: delivery.seq });
    expect(own.payload).toMatchObject({ sender: { login: 'jit-approval[bot]', type: 'Bot' }, comment: { body: 'seen' } });
    await gh.control.deliveriesIdle();
    expect(seen).toEqual([
      { name: 'issue_comment.created', sender: 'alice', body: '/approve' },
      { name: 'issue_comment.created', sender: 'jit-approval[bot]', body: 'seen' },
    ]);
    expect(await gh.control.reactions(REPO)).toEqual([expect.objectContaining({ content: 'eyes', user: 'jit-approval[bot]' })]);
  });

  it('reports the receiver\'s rejection when the signature does not match its secret', async () => {
    await gh.control.setWebhook(APP_ID, { url: `http://127.0.0.1:${(probotServer.address() as AddressInfo).port}/api/github/webhooks`, secret: 'wrong' });
    await gh.control.comment({ repository: REPO, issue_number: 1, user: 'alice', body: '/approve' });
    const delivery = await gh.control.waitForDelivery({ event: 'issue_comment' });
    expect(delivery.state).toBe('failed');
    expect(delivery.status).toBeGreaterThanOrEqual(400);
    expect(seen).toEqual([]);
  });
});

describe('webhook headers and payloads', () => {
  it('signs the exact body with HMAC-SHA256 and sends GitHub headers', async () => {
    await gh.control.comment({ repository: REPO, issue_number: 2, user: 'bob', body: 'hello' });
    const delivery = await gh.control.waitForDelivery({ event: 'issue_comment' });
    expect(delivery.status).toBe(202);
    const [{ headers, body }] = receiver.received;
    expect(headers['x-hub-signature-256']).toBe(`sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`);
    expect(headers['x-github-event']).toBe('issue_comment');
    expect(headers['x-github-delivery']).toBe(delivery.id);
    expect(headers['content-type']).toBe('application/json');
    expect(JSON.parse(body)).toMatchObject({
      action: 'created', installation: { id: INSTALLATION_ID }, repository: { full_name: REPO }, sender: { login: 'bob' },
      issue: { number: 2 }, comment: { body: 'hello', user: { login: 'bob' }, author_association: 'COLLABORATOR' },
    });
  });

  it('announces an edit with the previous body', async () => {
    const { comment } = await gh.control.comment({ repository: REPO, issue_number: 2, user: 'bob', body: '/approve' });
    await gh.control.editComment({ repository: REPO, comment_id: comment.id, user: 'bob', body: '/reject no' });
    await gh.control.waitForDelivery({ event: 'issue_comment', action: 'edited' });
    expect(payloads()[1]).toMatchObject({ action: 'edited', changes: { body: { from: '/approve' } }, comment: { body: '/reject no' } });
  });

  it('announces a check-run button click to the App that owns the run', async () => {
    const { token } = await gh.control.installationToken(INSTALLATION_ID);
    const sha = (await gh.control.pushCommit(REPO, { branch: 'main', files: { 'a.txt': 'a\n' } })).sha;
    const created = await fetch(`${gh.apiUrl}/repos/${REPO}/check-runs`, {
      method: 'POST', headers: { authorization: `token ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'gate', head_sha: sha, conclusion: 'action_required', output: { title: 't', summary: 's' }, actions: [{ label: 'Approve', description: 'Approve it', identifier: 'approve' }] }),
    });
    const run = (await created.json()) as { id: number };
    await expect(gh.control.clickCheckRunButton({ repository: REPO, check_run_id: run.id, user: 'alice', identifier: 'nope' })).rejects.toMatchObject({ status: 422 });
    await gh.control.clickCheckRunButton({ repository: REPO, check_run_id: run.id, user: 'alice', identifier: 'approve' });
    const delivery = await gh.control.waitForDelivery({ event: 'check_run' });
    expect(delivery.payload).toMatchObject({ action: 'requested_action', requested_action: { identifier: 'approve' }, check_run: { id: run.id, head_sha: sha }, sender: { login: 'alice' } });
    expect(delivery.app_id).toBe(APP_ID);
  });

  it('announces a click on "Re-run" as check_run.rerequested, to the App that owns the run only', async () => {
    const { token } = await gh.control.installationToken(INSTALLATION_ID);
    const sha = (await gh.control.pushCommit(REPO, { branch: 'main', files: { 'r.txt': 'r\n' } })).sha;
    const created = await fetch(`${gh.apiUrl}/repos/${REPO}/check-runs`, {
      method: 'POST', headers: { authorization: `token ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'gate', head_sha: sha, conclusion: 'failure', output: { title: 't', summary: 's' } }),
    });
    const run = (await created.json()) as { id: number };
    const { deliveries } = await gh.control.rerunCheckRun({ repository: REPO, check_run_id: run.id, user: 'bob' });
    expect(deliveries).toHaveLength(1); // the other App installed on acme hears nothing
    const delivery = await gh.control.waitForDelivery({ event: 'check_run', action: 'rerequested' });
    expect(delivery).toMatchObject({ app_id: APP_ID, payload: { action: 'rerequested', check_run: { id: run.id, head_sha: sha, conclusion: 'failure' }, sender: { login: 'bob' } } });
  });

  it('announces a merged pull request as pull_request.closed with merged set', async () => {
    const { sha } = await gh.control.mergePull({ repository: REPO, number: 1, user: 'alice' });
    const delivery = await gh.control.waitForDelivery({ event: 'pull_request', action: 'closed' });
    expect(delivery.payload).toMatchObject({
      number: 1, sender: { login: 'alice' }, pull_request: { merged: true, merge_commit_sha: sha, state: 'closed', merged_by: { login: 'alice' } },
    });
  });

  it('announces pull requests, installations, workflow runs and deployment protection rules', async () => {
    const pull = await gh.control.openPull({ repository: REPO, user: 'carol', title: 'More', head: 'more', files: { 'infra/db.tf': 'db\n' } });
    expect((await gh.control.waitForDelivery({ event: 'pull_request' })).payload).toMatchObject({ action: 'opened', number: pull.number, pull_request: { head: { sha: pull.head_sha }, changed_files: 1 } });
    const install = await gh.control.install({ account: 'acme', user: 'alice', repositories: ['secret'] });
    expect((await gh.control.waitForDelivery({ event: 'installation' })).payload).toMatchObject({ action: 'created', installation: { id: install.installation_id }, repositories: [{ full_name: 'acme/secret' }] });
    const run = await gh.control.workflowRun({ repository: REPO, actor: 'bob', action: 'completed', conclusion: 'success' });
    expect((await gh.control.waitForDelivery({ event: 'workflow_run' })).payload).toMatchObject({ action: 'completed', workflow_run: { id: run.run_id, conclusion: 'success' } });
    const gate = await gh.control.deploymentGate({ repository: REPO, actor: 'bob', environment: 'production' });
    const requested = await gh.control.waitForDelivery({ event: 'deployment_protection_rule' });
    const callback = (requested.payload as { deployment_callback_url: string }).deployment_callback_url;
    expect(callback).toBe(`${gh.apiUrl}/repos/${REPO}/actions/runs/${gate.run_id}/deployment_protection_rule`);
    const { token } = await gh.control.installationToken(INSTALLATION_ID);
    const review = (body: Record<string, unknown>, url = callback) => fetch(url, {
      method: 'POST', headers: { authorization: `token ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ environment_name: 'production', ...body }),
    });
    expect((await review({ comment: 'waiting for @alice' })).status).toBe(204); // a status report decides nothing
    expect((await review({})).status).toBe(422); // a status report needs its comment
    expect((await review({ comment: 'x'.repeat(1025) })).status).toBe(422);
    expect((await review({ state: 'approved', comment: 'policy says yes' })).status).toBe(204);
    expect((await review({ state: 'approved', comment: 'policy says yes' })).status).toBe(422); // answered already
    expect(await gh.control.deploymentReviews()).toEqual([
      expect.objectContaining({ repository: REPO, runId: gate.run_id, environmentName: 'production', state: null, comment: 'waiting for @alice' }),
      expect.objectContaining({ repository: REPO, runId: gate.run_id, environmentName: 'production', state: 'approved' }),
    ]);
    // Ten status reports per deployment, then no more.
    const other = await gh.control.deploymentGate({ repository: REPO, actor: 'bob', environment: 'production' });
    const otherCallback = `${gh.apiUrl}/repos/${REPO}/actions/runs/${other.run_id}/deployment_protection_rule`;
    for (let i = 1; i <= 10; i++) expect((await review({ comment: `report ${i}` }, otherCallback)).status).toBe(204);
    expect((await review({ comment: 'report 11' }, otherCallback)).status).toBe(422);
    expect((await review({ state: 'rejected', comment: 'no' }, otherCallback)).status).toBe(204);
  });
});

describe('delivery controls', () => {
  afterEach(() => gh.control.setDeliveryDelay(0));

  const comment = (body: string) => gh.control.comment({ repository: REPO, issue_number: 2, user: 'bob', body });
  const bodies = () => payloads().map((p) => p.comment.body as string);

  it('holds deliveries and releases them reversed or in a chosen order', async () => {
    await gh.control.pauseDeliveries();
    for (const body of ['one', 'two', 'three']) await comment(body);
    expect(receiver.received).toHaveLength(0);
    await gh.control.releaseDeliveries('reverse');
    await gh.control.deliveriesIdle();
    expect(bodies()).toEqual(['three', 'two', 'one']);
    receiver.received.length = 0;
    await gh.control.pauseDeliveries();
    for (const body of ['a', 'b', 'c']) await comment(body);
    const more = (await gh.control.deliveries({ app_id: APP_ID, event: 'issue_comment' })).filter((d) => d.state === 'held').map((d) => d.seq);
    await gh.control.releaseDeliveries([more[1], more[2], more[0]]);
    await gh.control.deliveriesIdle();
    expect(bodies()).toEqual(['b', 'c', 'a']);
  });

  it('sends deliveries concurrently and out of order in concurrent mode, as GitHub may', async () => {
    // A receiver that takes a while to answer shows whether deliveries overlap.
    let open = 0;
    let mostOpen = 0;
    const arrived: string[] = [];
    const slow = createServer((req, res) => {
      open += 1;
      mostOpen = Math.max(mostOpen, open);
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => setTimeout(() => {
        arrived.push((JSON.parse(Buffer.concat(chunks).toString('utf8')) as { comment: { body: string } }).comment.body);
        open -= 1;
        res.writeHead(204).end();
      }, 40));
    });
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    try {
      await gh.control.setWebhook(APP_ID, { url: `http://127.0.0.1:${(slow.address() as AddressInfo).port}/`, secret: SECRET });
      await gh.control.setDeliveryMode({ mode: 'concurrent', max_jitter_ms: 120, seed: 7 });
      const sent = Array.from({ length: 8 }, (_, i) => `c${i}`);
      for (const body of sent) await comment(body);
      await gh.control.deliveriesIdle();
      expect([...arrived].sort()).toEqual(sent);
      expect(arrived).not.toEqual(sent);
      expect(mostOpen).toBeGreaterThan(1);
      // Back to one at a time, in order.
      await gh.control.setDeliveryMode({ mode: 'sequential' });
      arrived.length = 0;
      mostOpen = 0;
      for (const body of sent) await comment(body);
      await gh.control.deliveriesIdle();
      expect([arrived, mostOpen]).toEqual([sent, 1]);
    } finally {
      slow.closeAllConnections();
      slow.close();
    }
  });

  it('loses and duplicates deliveries at the asked rates, the same way for the same seed', async () => {
    const run = async (seed: number) => {
      receiver.received.length = 0;
      const after = Math.max(0, ...(await gh.control.deliveries()).map((d) => d.seq));
      await gh.control.setDeliveryLoss({ drop_rate: 0.3, duplicate_rate: 0.3, seed });
      for (let i = 0; i < 40; i++) await comment(`l${i}`);
      await gh.control.deliveriesIdle();
      await gh.control.setDeliveryLoss({});
      const listed = await gh.control.deliveries({ event: 'issue_comment', after });
      const positions = (keep: (d: (typeof listed)[number]) => boolean) => listed.flatMap((d, i) => (keep(d) ? [i] : []));
      return { received: bodies(), dropped: positions((d) => d.state === 'failed'), twice: positions((d) => d.attempts === 2) };
    };
    const first = await run(11);
    expect(first.dropped.length).toBeGreaterThan(4);
    expect(first.twice.length).toBeGreaterThan(4);
    // Each delivery arrives as often as it was sent: never for a dropped one, twice (same GUID) for a duplicated one.
    expect(first.received.length).toBe(40 - first.dropped.length + first.twice.length);
    const guids = receiver.received.map((r) => r.headers['x-github-delivery']);
    expect(new Set(guids).size).toBe(40 - first.dropped.length);
    expect(await run(11)).toEqual({ ...first, received: expect.any(Array) });
    // With loss ended, every delivery arrives once.
    receiver.received.length = 0;
    await comment('after');
    await gh.control.deliveriesIdle();
    expect(bodies()).toEqual(['after']);
  });

  it('delays deliveries and redelivers one with the same GUID', async () => {
    await gh.control.setDeliveryDelay(250);
    const started = Date.now();
    await comment('slow');
    const delivery = await gh.control.waitForDelivery({ event: 'issue_comment' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(240);
    await gh.control.setDeliveryDelay(0);
    await gh.control.redeliver(delivery.seq);
    await gh.control.deliveriesIdle();
    expect(receiver.received.map((r) => r.headers['x-github-delivery'])).toEqual([delivery.id, delivery.id]);
    expect(receiver.received[0].body).toBe(receiver.received[1].body);
    expect((await gh.control.deliveries({ event: 'issue_comment', app_id: APP_ID }))[0].attempts).toBe(2);
  });
});
