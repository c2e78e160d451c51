/**
 * End to end: the bundled Action as a child process, the real App (embedded store) and the GitHub
 * double, all over loopback. Votes arrive as GitHub would send them: webhooks from the double. Steps
 * reach the App through a relay (its public URL), which a test can cut to part the runner from the App.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { freePort } from '../free-port.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromMarkdown } from 'mdast-util-from-markdown';
import { gfmFromMarkdown } from 'mdast-util-gfm';
import { gfm } from 'micromark-extension-gfm';
import { Probot } from 'probot';
import { startApp, type AppSettings, type RunningApp } from '../../app/server.js';
import { openStore } from '../../app/store/index.js';
import { generateAppKeyPair, startGitHubDouble, type RunnerJob, type RunningGitHubDouble } from '../github-double/index.js';
import { eventually, killRunningSteps, startStep, type RunningStep, type StepResult } from './action-process.js';
import { startTcpRelay, type TcpRelay } from './tcp-relay.js';

const REPOSITORY = 'acme/web';
const APP_ID = 5151;
/** Another GitHub App installed on the same account, with its own key: it can make check runs named like the App's. */
const IMPOSTOR_APP_ID = 6161;
const IMPOSTOR_INSTALLATION_ID = 6262;
const impostorKeys = generateAppKeyPair();
const WEBHOOK_SECRET = 'e2e-secret';
const POLICY = `version: 1
defaults: { approvals: 1, approvers: [alice, carol], timeout: 1h }
unmatched: approve
rules:
  - name: production
    if: { environment: [production] }
    require: { approvals: 1, approvers: [alice, carol] }
`;

let github: RunningGitHubDouble;
let app: RunningApp | undefined;
let settings: AppSettings;
let relay: TcpRelay;

/** What each step's request should have left in the App's audit trail, checked by the last test. */
const AUDITED_TYPES = new Set(['requested', 'vote', 'approved', 'auto_approved', 'rejected', 'timed_out', 'cancelled']);
const expectedTrails: { requestId: string; types: string[] }[] = [];
function expectTrail(result: StepResult, types: string[]): void {
  expectedTrails.push({ requestId: result.outputs['request-id'], types });
}
let dataDir: string;


beforeAll(async () => {
  const keys = generateAppKeyPair();
  github = await startGitHubDouble({
    seed: {
      users: [{ login: 'dev' }, { login: 'alice' }, { login: 'carol' }],
      repos: [{
        owner: 'acme', name: 'web',
        branches: { main: { '.github/jit-approval.yml': POLICY, 'README.md': '# web\n' } },
        collaborators: { dev: 'write', alice: 'admin', carol: 'write' },
      }],
      apps: [
        { id: APP_ID, slug: 'mercurial-jit', publicKey: keys.publicKey },
        { id: IMPOSTOR_APP_ID, slug: 'jit-impostor', publicKey: impostorKeys.publicKey },
      ],
      installations: [{ appId: APP_ID, account: 'acme' }, { id: IMPOSTOR_INSTALLATION_ID, appId: IMPOSTOR_APP_ID, account: 'acme' }],
    },
  });
  dataDir = mkdtempSync(join(tmpdir(), 'jit-e2e-'));
  const port = await freePort();
  relay = await startTcpRelay({ host: '127.0.0.1', port });
  settings = {
    appId: APP_ID, privateKey: keys.privateKey, webhookSecret: WEBHOOK_SECRET, port, host: '127.0.0.1',
    githubApiUrl: github.apiUrl, appUrl: relay.url, oidcIssuer: github.oidcIssuer, dataDir, logLevel: 'warn',
  };
  app = await startApp(settings);
  // GitHub reaches the App directly, not through the runners' way in.
  await github.control.setWebhook(APP_ID, { url: `${app.url}/api/github/webhooks`, secret: WEBHOOK_SECRET });
}, 120_000);

afterEach(killRunningSteps);

afterAll(async () => {
  await app?.stop();
  await relay?.close();
  await github?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

interface Job {
  claims: Record<string, string>;
  requestUrl: string;
  requestToken: string;
}

async function runnerJob(options: Partial<RunnerJob> = {}): Promise<Job> {
  const job = await github.control.registerJob({ repository: REPOSITORY, actor: 'dev', ...options });
  return { claims: job.claims as Record<string, string>, requestUrl: job.requestUrl, requestToken: job.requestToken };
}

async function step(inputs: Record<string, string>, job?: Job) {
  job ??= await runnerJob();
  const { claims } = job;
  const { token } = await github.control.repositoryToken(REPOSITORY, { checks: 'read', metadata: 'read' });
  const running = startStep({
    inputs: { action: 'deploy', 'app-url': relay.url, 'github-token': token, ...inputs },
    env: {
      GITHUB_REPOSITORY: REPOSITORY, GITHUB_REPOSITORY_OWNER: 'acme', GITHUB_REPOSITORY_ID: claims.repository_id, GITHUB_SHA: claims.sha, GITHUB_REF: claims.ref,
      GITHUB_EVENT_NAME: 'push', GITHUB_ACTOR: 'dev', GITHUB_RUN_ID: claims.run_id, GITHUB_RUN_ATTEMPT: claims.run_attempt,
      GITHUB_API_URL: github.apiUrl, GITHUB_SERVER_URL: github.url,
      ACTIONS_ID_TOKEN_REQUEST_URL: job.requestUrl, ACTIONS_ID_TOKEN_REQUEST_TOKEN: job.requestToken,
    },
  });
  return { ...running, claims };
}

interface CheckRunJson {
  id: number;
  html_url: string;
  external_id: string | null;
  conclusion: string | null;
}

/** The App's check run for a request: the App puts the request id in `external_id`. */
async function checkRunOf(requestId: string): Promise<CheckRunJson | undefined> {
  const runs = (await github.control.checkRuns(REPOSITORY)) as unknown as CheckRunJson[];
  return runs.find((run) => run.external_id === requestId);
}

function requestIdOf(running: RunningStep): string {
  return /Approval request (\S+) opened/.exec(running.stdout())?.[1] ?? '';
}

/** The pending check run of this step's request, once the App has made it. */
async function pendingCheckRun(running: RunningStep): Promise<CheckRunJson> {
  let requestId = '';
  await eventually('the request to be opened', () => {
    requestId = requestIdOf(running);
    return requestId !== '';
  });
  let found: CheckRunJson | undefined;
  await eventually('the App to create the check run', async () => {
    found = await checkRunOf(requestId);
    return found?.conclusion === 'action_required';
  });
  return found!;
}

/**
 * Another App, authenticating with its own key, posts what the App would post on approval: a
 * successful `jit: deploy` check run on the run's commit, with a decision record naming the run.
 */
async function impostorApproves(claims: Record<string, string>, requestId = 'req-forged'): Promise<void> {
  const impostor = new Probot({ appId: IMPOSTOR_APP_ID, privateKey: impostorKeys.privateKey, baseUrl: github.apiUrl, logLevel: 'fatal' });
  const octokit = await impostor.auth(IMPOSTOR_INSTALLATION_ID);
  const record = {
    request: requestId, repository: REPOSITORY, run: { id: claims.run_id, attempt: claims.run_attempt }, action: 'deploy',
    status: 'approved', reason: 'quorum', votes: [{ login: 'alice', choice: 'approve' }],
  };
  await octokit.rest.checks.create({
    owner: 'acme', repo: 'web', name: 'jit: deploy', head_sha: claims.sha, external_id: requestId, status: 'completed', conclusion: 'success',
    output: { title: '`deploy` approved by @alice', summary: 'approved', text: ['## Decision record', '', '```json', JSON.stringify(record, null, 2), '```'].join('\n') },
  });
}

const CHECK_RUN_ROUTES = new Set(['/repos/{owner}/{repo}/check-runs/{check_run_id}', '/repos/{owner}/{repo}/commits/{ref}/check-runs']);

/** Check run reads served so far (the App never reads check runs; the step's fallback does). */
async function checkRunReads(status?: number): Promise<number> {
  const exchanges = await github.control.exchanges();
  return exchanges.filter((e) => e.method === 'GET' && CHECK_RUN_ROUTES.has(e.route) && (status === undefined || e.status === status)).length;
}

/** A Markdown node's text, as the reader sees it. */
const markdownText = (node: object): string =>
  'value' in node && typeof node.value === 'string' ? node.value : 'children' in node && Array.isArray(node.children) ? node.children.map(markdownText).join('') : '';

describe('the Action against the App and the GitHub double', () => {
  it('auto-approves when no rule needs approval', async () => {
    const result = await (await step({ environment: 'staging' })).result;
    expect(result.stdout).not.toContain('::error::');
    expect(result.exitCode).toBe(0);
    expect(result.outputs).toMatchObject({ decision: 'auto_approved', reason: 'auto', 'approved-by': '' });
    expect(result.outputs['request-id']).not.toBe('');
    expect(result.summary).toContain('## ✅ Approved automatically: `deploy` to `staging`');
    expectTrail(result, ['requested', 'auto_approved']);
  });

  it('waits for an approver and passes with who approved', async () => {
    const running = await step({ environment: 'production', timeout: '2m' });
    const checkRun = await pendingCheckRun(running);
    await github.control.clickCheckRunButton({ repository: REPOSITORY, check_run_id: checkRun.id, user: 'alice', identifier: 'jit-approve' });

    const result = await running.result;
    expect(result.stdout).not.toContain('::error::');
    expect(result.exitCode).toBe(0);
    expect(result.outputs).toMatchObject({ decision: 'approved', 'approved-by': 'alice', 'check-run-url': checkRun.html_url });
    expect(result.summary).toContain('| Approved by | @alice |');
    expect(result.summary).toContain('| Matched rules | production |');
    expectTrail(result, ['requested', 'vote', 'approved']);
  }, 60_000);

  it('fails the step when an approver rejects', async () => {
    const running = await step({ environment: 'production', timeout: '2m' });
    const checkRun = await pendingCheckRun(running);
    await github.control.clickCheckRunButton({ repository: REPOSITORY, check_run_id: checkRun.id, user: 'carol', identifier: 'jit-reject' });

    const result = await running.result;
    expect(result.exitCode).toBe(1);
    expect(result.outputs.decision).toBe('rejected');
    expect(result.stdout).toMatch(/::error::Rejected: /);
    expect(result.summary).toContain('## ❌ Rejected: `deploy` to `production`');
    expectTrail(result, ['requested', 'vote', 'rejected']);
  }, 60_000);

  it('passes a rejection through when fail-on-reject is false', async () => {
    const running = await step({ environment: 'production', timeout: '2m', 'fail-on-reject': 'false' });
    const checkRun = await pendingCheckRun(running);
    await github.control.clickCheckRunButton({ repository: REPOSITORY, check_run_id: checkRun.id, user: 'carol', identifier: 'jit-reject' });

    const result = await running.result;
    expect(result.exitCode).toBe(0);
    expect(result.outputs.decision).toBe('rejected');
    expect(result.stdout).toMatch(/::warning::Rejected: .*fail-on-reject is false/);
  }, 60_000);

  it('cancels the request and fails on its own timeout', async () => {
    const result = await (await step({ environment: 'production', timeout: '3s' })).result;
    expect(result.exitCode).toBe(1);
    expect(result.outputs.decision).toBe('timed_out');
    // Whichever deadline fires first, the App's or the step's own (which cancels), the request ends timed out.
    expect(result.stdout).toMatch(/::error::Timed out waiting for approval: /);
    expect(result.summary).toContain('## ⏱️ Timed out');
    // The App updates its check run just after answering.
    await eventually('the check run to conclude timed_out', async () => (await checkRunOf(result.outputs['request-id']))?.conclusion === 'timed_out');
    expectTrail(result, ['requested', 'timed_out']);
  }, 60_000);

  it('cancels the request when the job is cancelled (SIGINT)', async () => {
    const running = await step({ environment: 'production', timeout: '2m' });
    await eventually('the request to be opened', () => running.stdout().includes('Approval request'));
    running.child.kill('SIGINT');

    const result = await running.result;
    expect(result.exitCode).toBe(1);
    expect(result.outputs.decision).toBe('cancelled');
    // The App updates its check run just after answering.
    await eventually('the check run to conclude cancelled', async () => (await checkRunOf(result.outputs['request-id']))?.conclusion === 'cancelled');
    expectTrail(result, ['requested', 'cancelled']);
  }, 60_000);

  it('cancels the request the App was still opening when the job was cancelled (SIGINT)', async () => {
    // `concurrency: cancel-in-progress` cancels a run as the next push starts it: often while the step
    // still waits for the App to open its request. The App is slow here (GitHub answers it slowly).
    const job = await runnerJob({ run_id: 5_500_002 });
    const before = await github.control.exchangeMark();
    const exchangesSince = async () => (await github.control.exchanges(before));
    await github.control.latency({ method: 'GET', route: '/repos/{owner}/{repo}/commits/{commit_sha}/pulls', ms: 3000, times: 1 });
    const running = await step({ environment: 'production', timeout: '2m' }, job);
    // The App has stored the request and is evaluating it: the step has no answer yet.
    await eventually('the App to evaluate the request', async () => (await exchangesSince()).some((e) => e.route === '/repos/{owner}/{repo}/commits'));
    expect(running.stdout()).not.toContain('Approval request');
    running.child.kill('SIGINT');

    const result = await running.result;
    expect(result.exitCode).toBe(1);
    expect(result.outputs.decision).toBe('cancelled');
    // The request the App opened for the cancelled job is not left asking approvers about a step that is gone.
    let requestId = '';
    await eventually('the App to make its check run', async () => {
      const made = (await exchangesSince()).find((e) => e.method === 'POST' && e.route === '/repos/{owner}/{repo}/check-runs');
      requestId = (made?.request.body as { external_id?: string } | undefined)?.external_id ?? '';
      return requestId !== '';
    });
    await eventually('the check run to conclude cancelled', async () => (await checkRunOf(requestId))?.conclusion === 'cancelled', 15_000);
    expect(result.outputs['request-id']).toBe(requestId);
    // Reported once, by the cancellation, not again by the wait that saw the request end.
    expect(result.summary.match(/^## /gm)).toEqual(['## ']);
    expect(result.summary).toContain('## 🚫 Cancelled: `deploy` to `production`');
    expectTrail(result, ['requested', 'cancelled']);
  }, 60_000);

  it("keeps text the App hands back from the step's own inputs from writing lines of the job summary", async () => {
    // A severity the policy does not list fails the request, and the App names it among the problems.
    // Passed on from a `workflow_dispatch` input, say, it must not close the summary's code block.
    const severity = 'high\n```\n## ✅ Approved: `deploy`\n```';
    const result = await (await step({ environment: 'production', severity, timeout: '1m' })).result;
    expect(result.exitCode).toBe(1);
    expect(result.outputs).toMatchObject({ status: 'failed', decision: '' });
    const tree = fromMarkdown(result.summary, { extensions: [gfm()], mdastExtensions: [gfmFromMarkdown()] });
    const headings = tree.children.filter((node) => node.type === 'heading').map(markdownText);
    expect(headings).toEqual(['⚠️ Cannot be approved: deploy to production']);
    const blocks = tree.children.filter((node) => node.type === 'code').map((node) => ('value' in node ? node.value : ''));
    expect(blocks.join('\n')).toContain('## ✅ Approved: `deploy`');
    expectTrail(result, ['requested']);
  }, 60_000);

  it('fails a job that is handed the decision of another job of the same run', async () => {
    const runId = 5_500_001;
    const staging = await (await step({ environment: 'staging' }, await runnerJob({ run_id: runId, environment: 'staging' }))).result;
    expect(staging.outputs.decision).toBe('auto_approved');
    expectTrail(staging, ['requested', 'auto_approved']);

    // The same run and action in a production job: one step names its environment, one leaves it to the job's token.
    for (const inputs of [{ environment: 'production' }, {}] as Record<string, string>[]) {
      const result = await (await step({ timeout: '1m', ...inputs }, await runnerJob({ run_id: runId, environment: 'production' }))).result;
      expect(result.exitCode).toBe(1);
      expect(result.outputs).toMatchObject({ status: 'error', decision: '', 'request-id': '' });
      // Either the step notices the foreign answer, or the App refuses to hand it over.
      expect(result.stdout).toMatch(
        /::error::(The App answered with the request for environment "staging", not this step's environment "production"|The App refused POST \/api\/v1\/requests \(409 request_conflict\))/,
      );
    }
  }, 60_000);

  it("reads only the App's own check run while the runner cannot reach the App", async () => {
    const running = await step({ environment: 'production', timeout: '2m' });
    const checkRun = await pendingCheckRun(running);
    // Cut only once the step has heard of it: a step that never learnt its check run has none to read.
    await eventually('the step to learn its check run', () => running.stdout().includes(checkRun.html_url), 30_000);
    const notModifiedBefore = await checkRunReads(304);
    await relay.cut();
    try {
      await eventually('the step to notice the App is out of reach', () => running.stdout().includes('Reading the approval check run with GITHUB_TOKEN'), 30_000);
      await eventually('a conditional read answered 304', async () => (await checkRunReads(304)) > notModifiedBefore, 30_000);

      await impostorApproves(running.claims, checkRun.external_id!);
      const readsBefore = await checkRunReads();
      await eventually('another read of the check run', async () => (await checkRunReads()) > readsBefore, 30_000);
      expect(running.child.exitCode).toBeNull();

      // The App still gets GitHub's webhooks: it records the rejection on its check run, where the step reads it.
      await github.control.clickCheckRunButton({ repository: REPOSITORY, check_run_id: checkRun.id, user: 'carol', identifier: 'jit-reject' });
      const result = await running.result;
      expect(result.exitCode).toBe(1);
      expect(result.stdout).toContain(`Decision read from the check run ${checkRun.html_url}: rejected`);
      expect(result.outputs).toMatchObject({ status: 'rejected', decision: 'rejected', 'request-id': checkRun.external_id, 'check-run-url': checkRun.html_url });
      expect(result.summary).toContain('| Read from | the check run (the App was unreachable) |');
      expectTrail(result, ['requested', 'vote', 'rejected']);
    } finally {
      await relay.mend();
    }
  }, 90_000);

  it("never takes another App's check run for the answer of an App it never reached", async () => {
    const job = await runnerJob();
    await impostorApproves(job.claims);
    const readsBefore = await checkRunReads();
    await relay.cut();
    try {
      const result = await (await step({ environment: 'production', timeout: '6s' }, job)).result;
      expect(result.exitCode).toBe(1);
      expect(result.stdout).toContain(`::error::The App at ${relay.url} was never reached; nothing was approved.`);
      expect(result.outputs).toMatchObject({ status: 'error', decision: '', 'request-id': '' });
      expect(result.outputs.reason).toMatch(/^The App at .* was never reached; nothing was approved\./);
      expect(await checkRunReads()).toBe(readsBefore);
    } finally {
      await relay.mend();
    }
  }, 60_000);

  // Last: it restarts the App.
  it('gets an approval that arrives while the App restarts', async () => {
    const running = await step({ environment: 'production', timeout: '3m' });
    const checkRun = await pendingCheckRun(running);
    await app!.stop();
    await eventually('the step to notice the App is gone', () => running.stdout().includes('Reading the approval check run with GITHUB_TOKEN'), 30_000);

    // The click's webhook finds nobody listening; GitHub keeps it for "Redeliver".
    const { deliveries } = await github.control.clickCheckRunButton({ repository: REPOSITORY, check_run_id: checkRun.id, user: 'alice', identifier: 'jit-approve' });
    const missed = await github.control.waitForDelivery({ event: 'check_run', after: deliveries[0] - 1, timeout_ms: 10_000 });
    expect(missed.state).toBe('failed');

    app = await startApp(settings);
    await github.control.redeliver(deliveries[0]);

    const result = await running.result;
    expect(result.stdout).not.toContain('::error::');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('The App is reachable again.');
    expect(result.outputs).toMatchObject({ decision: 'approved', 'approved-by': 'alice', 'check-run-url': checkRun.html_url });
    expectTrail(result, ['requested', 'vote', 'approved']);
  }, 180_000);

  it("leaves an intact audit trail of every step's request and decision", async () => {
    await app?.stop();
    app = undefined;
    const store = await openStore({ dataDir });
    try {
      expect(await store.verifyAudit()).toMatchObject({ ok: true });
      for (const { requestId, types } of expectedTrails) {
        const events = await store.listAudit({ requestId });
        expect({ requestId, types: events.map((event) => event.type).filter((type) => AUDITED_TYPES.has(type)) }).toEqual({ requestId, types });
      }
    } finally {
      await store.close();
    }
  }, 60_000);
});
