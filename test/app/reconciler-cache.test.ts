/**
 * A reconcile round reads every waiting request's thread and check run again. Unchanged, each read is
 * a 304, which GitHub does not count against the installation's rate limit; that holds only while the
 * App still has the ETag of every read of the round when the next round comes to it.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { Probot, ProbotOctokit } from 'probot';
import type { Gate } from '../../app/gate/gate.js';
import { Installations } from '../../app/github/installations.js';
import { AppOctokit } from '../../app/github/octokit.js';
import { Reconciler } from '../../app/reconciler/reconciler.js';
import { openStore, type Store } from '../../app/store/index.js';
import { generateAppKeyPair, startGitHubDouble, type RunningGitHubDouble } from '../github-double/index.js';
import { newRequest } from '../store/new-request.js';

const APP_ID = 7;
/** More waiting requests than the 2,000 reads the App used to keep the ETags of. */
const WAITING = 1010;

let github: RunningGitHubDouble;
let store: Store;

beforeAll(async () => {
  const keys = generateAppKeyPair();
  github = await startGitHubDouble({
    seed: {
      repos: [{ owner: 'acme', name: 'web', defaultBranch: 'main', branches: { main: { 'README.md': 'web\n' } }, issues: Array.from({ length: WAITING }, (_, i) => ({ title: `approve ${i + 1}`, user: 'octocat' })) }],
      apps: [{ id: APP_ID, slug: 'jit', name: 'JIT', publicKey: keys.publicKey }],
      installations: [{ appId: APP_ID, account: 'acme' }],
    },
  });
  store = await openStore({ dataDir: 'memory://' });
  const probot = new Probot({ appId: APP_ID, privateKey: keys.privateKey, baseUrl: github.apiUrl, Octokit: AppOctokit, log: pino({ level: 'silent' }) });
  const installations = new Installations(probot, APP_ID);
  const { installationId } = await installations.forRepository('acme', 'web');
  // The check runs, written straight to GitHub (the App spaces its own writes a second apart).
  const writer = new ProbotOctokit({ auth: { appId: APP_ID, privateKey: keys.privateKey, installationId }, baseUrl: github.apiUrl, throttle: { enabled: false }, retry: { enabled: false } });
  const { data: repository } = await writer.rest.repos.get({ owner: 'acme', repo: 'web' });
  const { data: [head] } = await writer.rest.repos.listCommits({ owner: 'acme', repo: 'web', per_page: 1 });
  for (let issue = 1; issue <= WAITING; issue++) {
    const { data: run } = await writer.rest.checks.create({ owner: 'acme', repo: 'web', name: 'approval', head_sha: head!.sha, status: 'in_progress' });
    const { request } = await store.createRequest(newRequest({ repositoryId: String(repository.id), facts: { installationId, owner: 'acme', repo: 'web' } }));
    await store.updateRequest(request.id, { checkRunId: run.id, issueNumber: issue });
  }
  reconciler = new Reconciler({ store, gate: {} as Gate, github: (id) => installations.client(id), log: pino({ level: 'silent' }), perRound: WAITING });
}, 120_000);

afterAll(async () => {
  await store?.close();
  await github?.close();
});

let reconciler: Reconciler;

it('revalidates every unchanged thread and check run of a thousand waiting requests without spending rate limit', async () => {
  await reconciler.run();
  const mark = await github.control.exchangeMark();
  await reconciler.run();
  const reads = (await github.control.exchanges(mark)).filter((x) => x.method === 'GET');
  const counted = (route: string) => reads.filter((x) => x.route === route && x.status !== 304).length;
  // Nothing changed on GitHub between the rounds: every read of the second one is a 304.
  expect({ threads: counted('/repos/{owner}/{repo}/issues/{issue_number}/comments'), checkRuns: counted('/repos/{owner}/{repo}/check-runs/{check_run_id}') }).toEqual({ threads: 0, checkRuns: 0 });
  expect(reads.filter((x) => x.status === 304).length).toBeGreaterThanOrEqual(2 * WAITING);
}, 300_000);
