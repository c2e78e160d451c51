/**
 * The committed bundle run as a step would be: a child process with the runner's environment,
 * against the GitHub double over loopback.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { generateAppKeyPair, startGitHubDouble, type RunningGitHubDouble } from '../github-double/index.js';
import { killRunningSteps, startStep } from './action-process.js';

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

/** The environment a runner gives a step of a job registered with the double's OIDC issuer. */
async function runnerEnvironment(options: { idToken: boolean }) {
  const job = await github.control.registerJob({ repository: REPOSITORY, actor: 'dev' });
  const claims = job.claims as Record<string, string>;
  const env: Record<string, string> = {
    GITHUB_REPOSITORY: REPOSITORY,
    GITHUB_REPOSITORY_OWNER: 'acme',
    GITHUB_REPOSITORY_ID: claims.repository_id,
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
  return { env };
}

describe('the bundled Action as a step', () => {
  it('fails clearly when the job lacks `permissions: id-token: write`', async () => {
    const { env } = await runnerEnvironment({ idToken: false });
    const counted = await github.control.requestCounts();
    const step = startStep({ inputs: { action: 'deploy', 'app-url': github.url, 'github-token': 'unused' }, env });
    const result = await step.result;

    expect(result.exitCode).toBe(1);
    expect(result.stdout).toMatch(/::error::.*Add `permissions: id-token: write` to the job/);
    expect(result.outputs).toMatchObject({ status: 'error', decision: '', 'request-id': '' });
    expect(result.outputs.reason).toMatch(/Add `permissions: id-token: write` to the job/);
    expect(result.summary).toBe('');
    // Nothing reached GitHub: no token was asked for and no fallback read happened.
    expect(await github.control.requestCounts()).toEqual(counted);
  });

  it('fails clearly when the runner does not say which run attempt this is', async () => {
    const { env } = await runnerEnvironment({ idToken: true });
    delete env.GITHUB_RUN_ATTEMPT;
    const result = await startStep({ inputs: { action: 'deploy', 'app-url': github.url }, env }).result;

    expect(result.exitCode).toBe(1);
    expect(result.stdout).toContain("::error::GITHUB_RUN_ATTEMPT not set: the step cannot tell which run it is, so it cannot check the App's answer.");
    expect(result.outputs).toMatchObject({ status: 'error', decision: '' });
    expect(result.outputs.reason).toMatch(/^GITHUB_RUN_ATTEMPT not set/);
  });
});
