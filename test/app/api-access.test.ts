/**
 * Who may drive the request API, and how far: the owner allow-list, the caps on pending requests,
 * cached installation lookups, and a request answering only its own job of its own run attempt.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { settingsFromEnv } from '../../app/server.js';
import type { RunnerJob } from '../github-double/index.js';
import { APP_ID, APP_PRIVATE_KEY, job, World, type ApiAnswer, cancelledAfterEach } from './harness.js';

/** Opening a pending request takes a few seconds on a busy machine; these tests open several. */
const SLOW_TEST_MS = 90_000;
const INSTALLATION_LOOKUP = 'GET /repos/{owner}/{repo}/installation';
const AUTO_APPROVE = 'version: 1\nrules:\n  - name: all\n    if: {}\n    auto_approve: true\n';
const ALICE_APPROVES = 'version: 1\nrules:\n  - name: all\n    if: {}\n    require: { approvals: 1, approvers: [alice] }\n';

let world: World;
beforeAll(async () => {
  // Owners in any case: GitHub's logins are case-insensitive.
  world = await World.start({ admission: { allowedOwners: ['ACME', 'NewCo'], maxPendingPerRun: 2, maxPendingPerRepository: 3 } });
  await world.control.seed({
    repos: [
      // Installed, but its owner is not on the allow-list.
      { owner: 'evil', name: 'web', branches: { main: { '.github/jit-approval.yml': AUTO_APPROVE } }, collaborators: { mallory: 'admin' } },
      // Allowed, but not (yet) installed.
      { owner: 'newco', name: 'site', branches: { main: { '.github/jit-approval.yml': AUTO_APPROVE } }, collaborators: { alice: 'admin' } },
      { owner: 'acme', name: 'fresh', branches: { main: { '.github/jit-approval.yml': AUTO_APPROVE } }, collaborators: { alice: 'admin' } },
      // Each burst of concurrent opens needs a repository whose installation the App has not looked up yet.
      ...['burst-run', 'burst-repository'].map((name) => ({ owner: 'acme', name, branches: { main: { '.github/jit-approval.yml': ALICE_APPROVES } }, collaborators: { alice: 'admin' as const, mallory: 'write' as const } })),
    ],
    installations: [{ appId: APP_ID, account: 'evil' }],
  });
}, 120_000);
afterAll(async () => world?.stop());

const opened = cancelledAfterEach(() => world);

async function openPending(run: RunnerJob, action: string): Promise<string> {
  const { status, body } = await world.open(run, { action, environment: 'production' });
  expect(status).toBe(200);
  expect(body.status).toBe('pending');
  opened.push({ run, id: body.id as string });
  return body.id as string;
}

async function gitHubCalls(): Promise<Record<string, number>> {
  const counts = await world.control.requestCounts();
  // The OIDC issuer is how a token is verified, not a call on the token's behalf.
  return Object.fromEntries(Object.entries(counts).filter(([route]) => !route.includes('/_services/token')));
}

function expectRefusal(answer: ApiAnswer, status: number, code: string): string {
  expect({ status: answer.status, code: answer.body.error?.code }).toEqual({ status, code });
  return answer.body.error!.message;
}

describe('the owner allow-list', () => {
  it('refuses runs of another owner with 403 and a clear message, before any GitHub call', async () => {
    await world.control.resetRequestCounts();
    const run: RunnerJob = { repository: 'evil/web', actor: 'mallory', run_id: 990_001 };
    const message = expectRefusal(await world.open(run, { action: 'deploy' }), 403, 'owner_not_allowed');
    expect(message).toContain('"evil"');
    expect(message).toContain('ALLOWED_OWNERS');
    expect(await gitHubCalls()).toEqual({});
    expect(await world.control.checkRuns('evil/web')).toEqual([]);
    const someId = '00000000-0000-4000-8000-000000000001';
    expectRefusal(await world.poll(run, someId), 403, 'owner_not_allowed');
    expectRefusal(await world.api('POST', `/api/v1/requests/${someId}/cancel`, await world.token(run), {}), 403, 'owner_not_allowed');
  });

  it('serves the owners on it, whatever the case of their names', async () => {
    const { status, body } = await world.open(job(), { action: 'publish-docs' });
    expect({ status, decision: body.status }).toEqual({ status: 200, decision: 'approved' });
  });
});

describe('the caps on pending requests', () => {
  it('refuse a third pending request of one run attempt with 429 and Retry-After; a retried step still reattaches', async () => {
    const run = job();
    const first = await openPending(run, 'deploy-a');
    await openPending(run, 'deploy-b');
    const refused = await world.open(run, { action: 'deploy-c', environment: 'production' });
    expect(expectRefusal(refused, 429, 'too_many_pending')).toContain('MAX_PENDING_PER_RUN');
    expect(refused.headers.get('retry-after')).toBe('30');
    const retried = await world.open(run, { action: 'deploy-a', environment: 'production' });
    expect({ status: retried.status, id: retried.body.id }).toEqual({ status: 200, id: first });
    // Once one ends, there is room again.
    await world.api('POST', `/api/v1/requests/${first}/cancel`, await world.token(run), { reason: 'job_cancelled' });
    await openPending(run, 'deploy-c');
  }, SLOW_TEST_MS);

  it('count each attempt of a run on its own', async () => {
    const firstAttempt = job({ run_attempt: 1 });
    await openPending(firstAttempt, 'deploy-a');
    await openPending(firstAttempt, 'deploy-b');
    await openPending({ ...firstAttempt, run_attempt: 2 }, 'deploy-a');
  }, SLOW_TEST_MS);

  it('refuse a fourth pending request of one repository, in any run, while other repositories are served', async () => {
    for (let i = 0; i < 3; i++) await openPending(job(), 'deploy');
    const refused = await world.open(job(), { action: 'deploy', environment: 'production' });
    expect(expectRefusal(refused, 429, 'too_many_pending')).toContain('MAX_PENDING_PER_REPOSITORY');
    expect(refused.headers.get('retry-after')).toBe('30');
    const elsewhere = await world.open(job({ repository: 'acme/api' }), { action: 'deploy' });
    expect(elsewhere.status).toBe(200);
    opened.push({ run: job({ repository: 'acme/api' }), id: elsewhere.body.id as string });
  }, SLOW_TEST_MS);
});

describe('the caps on pending requests, for requests opened at the same moment', () => {
  it.each([
    ['run attempt', 'acme/burst-run', 2, 'MAX_PENDING_PER_RUN', (): RunnerJob => ({ repository: 'acme/burst-run', actor: 'mallory', run_id: 991_000 })],
    ['repository', 'acme/burst-repository', 3, 'MAX_PENDING_PER_REPOSITORY', (i: number): RunnerJob => ({ repository: 'acme/burst-repository', actor: 'mallory', run_id: 992_000 + i })],
  ])('are never passed in one %s, however the opens interleave', async (_scope, repository, cap, variable, runOf) => {
    // Every open passes the first check while GitHub is slow to name the installation; only the store's own count can hold the cap.
    await world.control.latency({ route: '/repos/{owner}/{repo}/installation', method: 'GET', ms: 700, times: 6 });
    const bodies = Array.from({ length: 6 }, (_, i) => ({ run: runOf(i), body: { action: `deploy-${i}`, environment: 'production' } }));
    const tokens = await Promise.all(bodies.map(({ run }) => world.token(run)));
    const answers = await Promise.all(bodies.map(({ body }, i) => world.api('POST', '/api/v1/requests', tokens[i], body)));
    for (const [i, answer] of answers.entries()) if (answer.status === 200) opened.push({ run: bodies[i].run, id: answer.body.id as string });
    const served = answers.filter((answer) => answer.status === 200);
    const refused = answers.filter((answer) => answer.status !== 200);
    expect(served.map((answer) => answer.body.status)).toEqual(Array.from({ length: cap }, () => 'pending'));
    expect(refused).toHaveLength(6 - cap);
    for (const answer of refused) {
      expect(expectRefusal(answer, 429, 'too_many_pending')).toContain(variable);
      expect(answer.headers.get('retry-after')).toBe('30');
    }
    const pending = await world.app.store.listRequests({ status: 'pending' });
    expect(pending.filter((request) => request.repository === repository)).toHaveLength(cap);
  }, SLOW_TEST_MS);
});

describe('installation lookups', () => {
  it('are cached: requests of one repository do not each look the installation up', async () => {
    await world.control.resetRequestCounts();
    for (let i = 0; i < 3; i++) expect((await world.open(job(), { action: 'publish-docs' })).body.status).toBe('approved');
    expect((await gitHubCalls())[INSTALLATION_LOOKUP] ?? 0).toBeLessThanOrEqual(1);
  });

  it('remember "not installed" only until the App is installed', async () => {
    await world.control.resetRequestCounts();
    const run = (): RunnerJob => ({ repository: 'newco/site', actor: 'alice' });
    expectRefusal(await world.open(run(), { action: 'deploy' }), 422, 'app_not_installed');
    expectRefusal(await world.open(run(), { action: 'deploy' }), 422, 'app_not_installed');
    expect((await gitHubCalls())[INSTALLATION_LOOKUP]).toBe(1);
    await world.control.install({ account: 'newco', user: 'alice' });
    await world.settle();
    const served = await world.open(run(), { action: 'deploy' });
    expect({ status: served.status, decision: served.body.status }).toEqual({ status: 200, decision: 'approved' });
  });

  it('that fail are not cached', async () => {
    await world.control.resetRequestCounts();
    await world.control.fault({ route: '/repos/{owner}/{repo}/installation', method: 'GET', status: 401, times: 1 });
    const run = (): RunnerJob => ({ repository: 'acme/fresh', actor: 'alice' });
    expect((await world.open(run(), { action: 'deploy' })).status).toBe(500);
    const served = await world.open(run(), { action: 'deploy' });
    expect({ status: served.status, decision: served.body.status }).toEqual({ status: 200, decision: 'approved' });
    expect((await gitHubCalls())[INSTALLATION_LOOKUP]).toBe(2);
  });
});

describe('a request', () => {
  it('answers only its own run attempt: another attempt of the run can neither read nor cancel it', async () => {
    const firstAttempt = job({ run_attempt: 1 });
    const id = await openPending(firstAttempt, 'deploy');
    const rerun = { ...firstAttempt, run_attempt: 2 };
    expectRefusal(await world.poll(rerun, id), 404, 'not_found');
    expectRefusal(await world.api('POST', `/api/v1/requests/${id}/cancel`, await world.token(rerun), { reason: 'job_cancelled' }), 404, 'not_found');
    const own = await world.poll(firstAttempt, id);
    expect({ status: own.status, decision: own.body.status }).toEqual({ status: 200, decision: 'pending' });
  }, SLOW_TEST_MS);

  it('answers only its own job: another job of the same run attempt can neither read, long-poll nor cancel it', async () => {
    // A job that runs code nobody reviewed (a build of the pull request, say) holds a token of the same run attempt.
    const deployJob = job({ job: 'deploy' });
    const id = await openPending(deployJob, 'deploy');
    const buildJob = { ...deployJob, job: 'build' };
    expectRefusal(await world.poll(buildJob, id), 404, 'not_found');
    expectRefusal(await world.poll(buildJob, id, 1), 404, 'not_found');
    expectRefusal(await world.api('POST', `/api/v1/requests/${id}/cancel`, await world.token(buildJob), { reason: 'job_cancelled' }), 404, 'not_found');
    expectRefusal(await world.api('POST', `/api/v1/requests/${id}/cancel`, await world.token(buildJob), { reason: 'timeout' }), 404, 'not_found');
    const own = await world.poll(deployJob, id);
    expect({ status: own.status, decision: own.body.status }).toEqual({ status: 200, decision: 'pending' });
  }, SLOW_TEST_MS);

  it('where GitHub gives no check_run_id claim (older servers), the job\'s environment still keeps another job out', async () => {
    const noClaim = { check_run_id: '' };
    const production = job({ job: 'production', environment: 'production', extra_claims: noClaim });
    const id = await openPending(production, 'deploy');
    const staging = { ...production, job: 'staging', environment: 'staging' };
    expectRefusal(await world.poll(staging, id), 404, 'not_found');
    expectRefusal(await world.api('POST', `/api/v1/requests/${id}/cancel`, await world.token(staging), { reason: 'job_cancelled' }), 404, 'not_found');
    // A job without `environment:` named the environment in its step, which a poll does not repeat: it is let through, as before.
    const own = await world.poll(production, id);
    expect({ status: own.status, decision: own.body.status }).toEqual({ status: 200, decision: 'pending' });
  }, SLOW_TEST_MS);

  it('where GitHub gives no check_run_id claim (older servers), a job without `environment:` cannot reach the request of a job with one', async () => {
    const noClaim = { check_run_id: '' };
    const production = job({ job: 'production', environment: 'production', extra_claims: noClaim });
    const id = await openPending(production, 'deploy');
    // A job that runs unreviewed code, with no `environment:`, naming the deploy job's environment in its step.
    const build: RunnerJob = { ...production, job: 'build', environment: undefined };
    expectRefusal(await world.poll(build, id), 404, 'not_found');
    expectRefusal(await world.poll(build, id, 1), 404, 'not_found');
    expectRefusal(await world.api('POST', `/api/v1/requests/${id}/cancel`, await world.token(build), { reason: 'job_cancelled' }), 404, 'not_found');
    // Its step's request is its own, never the deploy job's.
    const claimed = await world.openAsIs(build, { action: 'deploy', environment: 'production' });
    expect(claimed.status).toBe(200);
    opened.push({ run: build, id: claimed.body.id as string });
    expect(claimed.body.id).not.toBe(id);
    // And the deploy job, opening again, finds its own request, not the build job's.
    const again = await world.openAsIs(production, { action: 'deploy', environment: 'production' });
    expect({ status: again.status, id: again.body.id, decision: again.body.status }).toEqual({ status: 200, id, decision: 'pending' });
    const own = await world.poll(production, id);
    expect({ status: own.status, decision: own.body.status }).toEqual({ status: 200, decision: 'pending' });
  }, SLOW_TEST_MS);
});

describe('the admission settings', () => {
  const env = { APP_ID: '1', WEBHOOK_SECRET: 'secret', APP_URL: 'https://jit.example.test', PRIVATE_KEY: APP_PRIVATE_KEY };

  it('are read from ALLOWED_OWNERS, MAX_PENDING_PER_REPOSITORY and MAX_PENDING_PER_RUN', () => {
    expect(settingsFromEnv({ ...env, ALLOWED_OWNERS: 'acme, acme-labs', MAX_PENDING_PER_REPOSITORY: '50', MAX_PENDING_PER_RUN: '5' }).admission)
      .toEqual({ allowedOwners: ['acme', 'acme-labs'], maxPendingPerRepository: 50, maxPendingPerRun: 5 });
    expect(settingsFromEnv(env).admission).toEqual({});
  });

  it.each([
    [{ ALLOWED_OWNERS: 'acme,not/an-owner' }, 'ALLOWED_OWNERS: not a GitHub user or organization name: not/an-owner'],
    [{ MAX_PENDING_PER_REPOSITORY: '0' }, 'MAX_PENDING_PER_REPOSITORY: expected a whole number of at least 1, got "0"'],
    [{ MAX_PENDING_PER_RUN: 'ten' }, 'MAX_PENDING_PER_RUN: expected a whole number of at least 1, got "ten"'],
  ])('refuse a bad value, naming its variable: %j', (bad, message) => {
    expect(() => settingsFromEnv({ ...env, ...bad })).toThrow(message);
  });
});

describe('EXTENDS_REPOSITORIES', () => {
  const env = { APP_ID: '1', WEBHOOK_SECRET: 'secret', APP_URL: 'https://jit.example.test', PRIVATE_KEY: APP_PRIVATE_KEY };

  it('is read as owner/name repositories, separated by commas or spaces', () => {
    expect(settingsFromEnv({ ...env, EXTENDS_REPOSITORIES: 'acme/policies, Acme-Labs/org.config  acme/.github' }).extendsRepositories)
      .toEqual(['acme/policies', 'Acme-Labs/org.config', 'acme/.github']);
    expect(settingsFromEnv(env).extendsRepositories).toEqual([]);
  });

  it.each([
    ['policies', 'policies'],
    ['acme/policies/base.yml', 'acme/policies/base.yml'],
    ['acme/policies:base.yml', 'acme/policies:base.yml'],
    ['acme/policies,acme/', 'acme/'],
    ['-acme/policies', '-acme/policies'],
    ['acme/..', 'acme/..'],
  ])('refuses %j, naming the variable and the entry', (value, bad) => {
    expect(() => settingsFromEnv({ ...env, EXTENDS_REPOSITORIES: value })).toThrow(`EXTENDS_REPOSITORIES: expected owner/name repositories (e.g. acme/policies), got: ${bad}`);
  });
});
