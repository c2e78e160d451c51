/**
 * The Action under `@github/local-action` (local-action.ts): local-action's stand-ins for the toolkit,
 * inputs from a .env file, against the real App (embedded store) and the GitHub double over loopback.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { freePort } from '../free-port.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApp, type RunningApp } from '../../app/server.js';
import { generateAppKeyPair, startGitHubDouble, type RunningGitHubDouble } from '../github-double/index.js';
import { eventually } from './action-process.js';
import { killLocalActions, parseOutputsTable, runLocalAction, startLocalAction } from './local-action.js';

const REPOSITORY = 'acme/web';
const APP_ID = 5252;
const WEBHOOK_SECRET = 'local-action-secret';
const POLICY = `version: 1
defaults: { approvals: 1, approvers: [alice], timeout: 1h }
unmatched: approve
rules:
  - name: production
    if: { environment: [production] }
    require: { approvals: 1, approvers: [alice] }
`;
const RUN_TIMEOUT = 120_000;

let github: RunningGitHubDouble;
let app: RunningApp | undefined;
let dataDir: string | undefined;


beforeAll(async () => {
  const keys = generateAppKeyPair();
  github = await startGitHubDouble({
    seed: {
      users: [{ login: 'dev' }, { login: 'alice' }],
      repos: [{
        owner: 'acme', name: 'web',
        branches: { main: { '.github/jit-approval.yml': POLICY, 'README.md': '# web\n' } },
        collaborators: { dev: 'write', alice: 'admin' },
      }],
      apps: [{ id: APP_ID, slug: 'mercurial-jit', publicKey: keys.publicKey }],
      installations: [{ appId: APP_ID, account: 'acme' }],
    },
  });
  dataDir = mkdtempSync(join(tmpdir(), 'jit-local-action-app-'));
  const port = await freePort();
  const appUrl = `http://127.0.0.1:${port}`;
  app = await startApp({
    appId: APP_ID, privateKey: keys.privateKey, webhookSecret: WEBHOOK_SECRET, port, host: '127.0.0.1',
    githubApiUrl: github.apiUrl, appUrl, oidcIssuer: github.oidcIssuer, dataDir, logLevel: 'warn',
  });
  await github.control.setWebhook(APP_ID, { url: `${appUrl}/api/github/webhooks`, secret: WEBHOOK_SECRET });
}, 120_000);

/** A production deploy step started, its request opened and its check run waiting for the approver. */
async function waitingForProduction() {
  const running = startLocalAction({ inputs: { action: 'deploy', 'app-url': app!.url, environment: 'production', timeout: '2m' }, env: await jobEnv() });
  let requestId = '';
  await eventually('the request to be opened', () => {
    requestId = /Approval request (\S+) opened/.exec(running.stdout())?.[1] ?? '';
    return requestId !== '';
  }, 60_000);
  let checkRun: { id: number; html_url: string; external_id: string | null; conclusion: string | null } | undefined;
  await eventually('the App to create the check run', async () => {
    checkRun = ((await github.control.checkRuns(REPOSITORY)) as unknown as NonNullable<typeof checkRun>[]).find((run) => run.external_id === requestId);
    return checkRun?.conclusion === 'action_required';
  });
  return { running, requestId, checkRun: checkRun! };
}

afterEach(killLocalActions);

afterAll(async () => {
  await app?.stop();
  await github?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** The runner's variables for a job of the double that has `id-token: write`. */
async function jobEnv(): Promise<Record<string, string>> {
  const job = await github.control.registerJob({ repository: REPOSITORY, actor: 'dev' });
  const claims = job.claims as Record<string, string>;
  return {
    GITHUB_REPOSITORY: REPOSITORY, GITHUB_REPOSITORY_OWNER: 'acme', GITHUB_REPOSITORY_ID: claims.repository_id, GITHUB_SHA: claims.sha, GITHUB_REF: claims.ref,
    GITHUB_EVENT_NAME: 'push', GITHUB_ACTOR: 'dev', GITHUB_RUN_ID: claims.run_id, GITHUB_RUN_ATTEMPT: claims.run_attempt,
    GITHUB_API_URL: github.apiUrl, GITHUB_SERVER_URL: github.url,
    ACTIONS_ID_TOKEN_REQUEST_URL: job.requestUrl, ACTIONS_ID_TOKEN_REQUEST_TOKEN: job.requestToken,
  };
}

describe('parseOutputsTable', () => {
  it("reads local-action's console.table of outputs, quotes and empty values included", () => {
    const stdout = [
      'Action Outputs', '',
      '┌─────────┬─────────────┬──────────────────┐',
      '│ (index) │ Output      │ Value            │',
      '├─────────┼─────────────┼──────────────────┤',
      "│ 0       │ 'decision'  │ 'approved'       │",
      "│ 1       │ 'approved-by' │ ''             │",
      '│ 2       │ \'reason\'    │ "alice\'s call"  │',
      '└─────────┴─────────────┴──────────────────┘',
    ].join('\n');
    expect(parseOutputsTable(stdout)).toEqual({ decision: 'approved', 'approved-by': '', reason: "alice's call" });
    expect(parseOutputsTable('No outputs were set!')).toEqual({});
  });
});

describe('the Action under @github/local-action', () => {
  it('fails clearly, and with exit code 1, without the id-token permission', async () => {
    const env = await jobEnv();
    delete env.ACTIONS_ID_TOKEN_REQUEST_URL;
    delete env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
    const result = await runLocalAction({ inputs: { action: 'deploy', 'app-url': app!.url, environment: 'production' }, env });

    expect(result.stdout).toContain('Running Action');
    expect(result.stdout).toMatch(/::error::This job cannot request an OIDC token.*`permissions: id-token: write`/);
    expect(result.stdout).not.toContain('Not implemented');
    expect(result.outputs).toMatchObject({ status: 'error', decision: '', 'request-id': '' });
    expect(result.outputs.reason).toMatch(/^This job cannot request an OIDC token/);
    expect(result.exitCode).toBe(1);
  }, RUN_TIMEOUT);

  it("reports every bad input at once, read through local-action's getInput", async () => {
    const result = await runLocalAction({
      inputs: { action: 'deploy', 'app-url': 'http://jit.example.com', timeout: 'soon', 'fail-on-reject': 'maybe' },
      env: await jobEnv(),
    });

    expect(result.stdout).toContain('::error::Invalid inputs:');
    expect(result.stdout).toContain('app-url "http://jit.example.com" must use https://');
    expect(result.stdout).toMatch(/timeout: .*soon/);
    expect(result.stdout).toContain('fail-on-reject must be true or false, not "maybe"');
    expect(result.exitCode).toBe(1);
  }, RUN_TIMEOUT);

  it('auto-approves against the App, with an OIDC token from the double, and reports outputs and summary', async () => {
    const result = await runLocalAction({ inputs: { action: 'deploy', 'app-url': app!.url, environment: 'staging' }, env: await jobEnv() });

    expect(result.stdout).not.toContain('::error::');
    expect(result.outputs).toMatchObject({ decision: 'auto_approved', reason: 'auto', 'approved-by': '' });
    expect(result.outputs['request-id']).toMatch(/\S/);
    expect(result.summary).toContain('## ✅ Approved automatically: `deploy` to `staging`');
    expect(result.exitCode).toBe(0);
  }, RUN_TIMEOUT);

  it("waits for the approver's click on the check run, then passes with who approved", async () => {
    const { running, requestId, checkRun } = await waitingForProduction();
    await github.control.clickCheckRunButton({ repository: REPOSITORY, check_run_id: checkRun.id, user: 'alice', identifier: 'jit-approve' });

    const result = await running.result;
    expect(result.stdout).not.toContain('::error::');
    expect(result.outputs).toEqual({
      status: 'approved', decision: 'approved', 'approved-by': 'alice', 'request-id': requestId, 'check-run-url': checkRun.html_url, reason: expect.any(String),
    });
    expect(result.summary).toContain('| Approved by | @alice |');
    expect(result.exitCode).toBe(0);
  }, RUN_TIMEOUT);

  it('resumes with the approval when its repository is renamed while it waits', async () => {
    const { running, requestId, checkRun } = await waitingForProduction();
    await github.control.rename(REPOSITORY, 'web-renamed');
    try {
      // The App hears of the rename and answers under the new name, which the step, named at its start, does not know.
      await eventually('the App to answer under the new name', async () => (await app!.store.getRequest(requestId))?.repository === 'acme/web-renamed');
      await github.control.clickCheckRunButton({ repository: 'acme/web-renamed', check_run_id: checkRun.id, user: 'alice', identifier: 'jit-approve' });
      // Any poll the step makes from here carries a token minted after the rename: the new name, the same repository id.
      const result = await running.result;
      // With the step's own log, should it fail.
      expect({ outputs: result.outputs, log: result.stdout.slice(result.stdout.indexOf('Running Action')) }).toMatchObject({ outputs: { decision: 'approved', 'approved-by': 'alice' } });
      expect(result.exitCode).toBe(0);
    } finally {
      await github.control.rename('acme/web-renamed', 'web');
    }
  }, RUN_TIMEOUT);
});

// Canaries for what local-action.ts works around: when one fails after an upgrade of
// @github/local-action, the workaround (or the bundle's exclusion) can go.
describe('what @github/local-action 7 cannot do on its own', () => {
  it("cannot get an OIDC token, and exits 0 on a failed step, without the --pre shim", async () => {
    const result = await runLocalAction({ inputs: { action: 'deploy', 'app-url': app!.url, environment: 'staging' }, env: await jobEnv(), pre: null });

    expect(result.stdout).toContain('::error::Could not get an OIDC token from the runner: Not implemented');
    expect(result.exitCode).toBe(0);
  }, RUN_TIMEOUT);

  it('cannot run the committed bundle: it has no run() export, and core is inlined past the stubs', async () => {
    const env = await jobEnv();
    delete env.ACTIONS_ID_TOKEN_REQUEST_URL;
    const result = await runLocalAction({ inputs: { action: 'deploy', 'app-url': app!.url }, env, entry: 'dist/index.js', pre: null });

    // The bundle ran itself on import, with its own @actions/core, which knows no action.yml defaults
    // (local-action's stub would have given github-token its default)...
    expect(result.stdout).toContain('No github-token given');
    expect(result.stdout).toContain('::error::This job cannot request an OIDC token');
    // ...and then local-action gave up on it.
    expect(result.stdout + result.stderr).toContain('dist/index.js does not export a run() function');
    expect(result.exitCode).toBe(1);
  }, RUN_TIMEOUT);
});
