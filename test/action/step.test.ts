/**
 * The committed bundle run as a step would be: a child process with the runner's environment,
 * against the GitHub double over loopback.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateAppKeyPair, startGitHubDouble, type RunningGitHubDouble } from '../github-double/index.js';
import { eventually, killRunningSteps, startStep } from './action-process.js';

const REPOSITORY = 'acme/web';
const APP_ID = 4242;

let github: RunningGitHubDouble;

beforeAll(async () => {
  github = await startGitHubDouble({
    seed: {
      users: [{ login: 'dev' }, { login: 'alice' }],
      repos: [{ owner: 'acme', name: 'web', branches: { main: { 'README.md': '# web\n' } }, collaborators: { dev: 'write', alice: 'admin' } }],
      apps: [{ id: APP_ID, slug: 'mercurial-jit', publicKey: generateAppKeyPair().publicKey }],
      installations: [{ appId: APP_ID, account: 'acme' }],
    },
  });
});

afterEach(killRunningSteps);

afterAll(async () => {
  await github?.close();
});

/** A port nothing listens on: bound, then closed. */
async function deadUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}

/** The environment a runner gives a step of a job registered with the double's OIDC issuer. */
async function runnerEnvironment(options: { idToken: boolean }) {
  const job = await github.control.registerJob({ repository: REPOSITORY, actor: 'dev' });
  const { token } = await github.control.repositoryToken(REPOSITORY, { checks: 'read', metadata: 'read' });
  const claims = job.claims as Record<string, string>;
  const env: Record<string, string> = {
    GITHUB_REPOSITORY: REPOSITORY,
    GITHUB_REPOSITORY_OWNER: 'acme',
    GITHUB_SHA: claims.sha,
    GITHUB_REF: claims.ref,
    GITHUB_EVENT_NAME: 'push',
    GITHUB_ACTOR: 'dev',
    GITHUB_RUN_ID: claims.run_id,
    GITHUB_RUN_ATTEMPT: claims.run_attempt,
    GITHUB_API_URL: github.apiUrl,
    GITHUB_SERVER_URL: github.url,
  };
  if (options.idToken) Object.assign(env, { ACTIONS_ID_TOKEN_REQUEST_URL: job.requestUrl, ACTIONS_ID_TOKEN_REQUEST_TOKEN: job.requestToken });
  return { env, token, claims };
}

/** The check run text the App writes: its decision record as a ```json block (app/render/check-run.ts). */
function recordText(record: Record<string, unknown>): string {
  return ['## Decision record', '', '```json', JSON.stringify(record, null, 2), '```'].join('\n');
}

describe('the bundled Action as a step', () => {
  it('fails clearly when the job lacks `permissions: id-token: write`', async () => {
    const { env } = await runnerEnvironment({ idToken: false });
    const counted = await github.control.requestCounts();
    const step = startStep({ inputs: { action: 'deploy', 'app-url': github.url, 'github-token': 'unused' }, env });
    const result = await step.result;

    expect(result.exitCode).toBe(1);
    expect(result.stdout).toMatch(/::error::.*Add `permissions: id-token: write` to the job/);
    expect(result.outputs.decision).toBeUndefined();
    expect(result.summary).toBe('');
    // Nothing reached GitHub: no token was asked for and no fallback read happened.
    expect(await github.control.requestCounts()).toEqual(counted);
  });

  it('reads the check run with conditional requests while the App is unreachable, and resolves when it completes', async () => {
    const { env, token, claims } = await runnerEnvironment({ idToken: true });
    const record = { request: 'req-fallback', repository: REPOSITORY, run: { id: claims.run_id, attempt: claims.run_attempt }, action: 'deploy' };

    // The check run as the App made it before going away: pending, with buttons.
    const installation = await github.control.installationToken([...github.double.state.installations.keys()][0]);
    const created = await fetch(`${github.apiUrl}/repos/${REPOSITORY}/check-runs`, {
      method: 'POST',
      headers: { authorization: `token ${installation.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'jit: deploy', head_sha: claims.sha, external_id: 'req-fallback', status: 'completed', conclusion: 'action_required',
        output: { title: 'Waiting for approval of `deploy`', summary: 'needs 1 approval', text: recordText({ ...record, status: 'pending', votes: [] }) },
        actions: [{ label: 'Approve', description: 'Approve this gated step', identifier: 'jit-approve' }],
      }),
    });
    expect(created.status).toBe(201);
    const checkRun = (await created.json()) as { id: number; html_url: string };

    const listRoute = '/repos/{owner}/{repo}/commits/{ref}/check-runs';
    const notModified = async () =>
      (await github.control.exchanges()).filter((e) => e.method === 'GET' && e.route === listRoute && e.status === 304).length;
    const before = await notModified();

    const step = startStep({
      inputs: { action: 'deploy', 'app-url': await deadUrl(), timeout: '2m', 'github-token': token },
      env,
    });
    await eventually('a 304 on the check run list', () => step.stdout().includes('its check run is still pending'), 30_000);
    await eventually('a conditional request answered 304', async () => (await notModified()) > before, 30_000);

    const completed = await fetch(`${github.apiUrl}/repos/${REPOSITORY}/check-runs/${checkRun.id}`, {
      method: 'PATCH',
      headers: { authorization: `token ${installation.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        status: 'completed', conclusion: 'success',
        output: {
          title: '`deploy` approved by @alice', summary: 'approved',
          text: recordText({ ...record, status: 'approved', reason: 'quorum', votes: [{ login: 'alice', choice: 'approve', note: 'ship it', via: 'comment', at: new Date().toISOString() }] }),
        },
        actions: [],
      }),
    });
    expect(completed.status).toBe(200);

    const result = await step.result;
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/::warning::POST http:\/\/127\.0\.0\.1:\d+\/api\/v1\/requests failed after 4 attempts/);
    expect(result.outputs).toMatchObject({ decision: 'approved', 'approved-by': 'alice', 'check-run-url': checkRun.html_url, reason: 'quorum' });
    expect(result.summary).toContain('## ✅ Approved: `deploy`');
    expect(result.summary).toContain('| Read from | the check run (the App was unreachable) |');
    expect(await notModified()).toBeGreaterThan(before);
  }, 90_000);
});
