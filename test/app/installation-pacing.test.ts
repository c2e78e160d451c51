import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { pino } from 'pino';
import { Probot } from 'probot';
import { AppOctokit, checkedBeforeSending } from '../../app/github/octokit.js';
import { generateAppKeyPair, startGitHubDouble, type RunningGitHubDouble } from '../github-double/index.js';

const APP_ID = 7;
const ORGS = ['acme', 'globex'];

/** Writes each installation makes, back to back, while the other installation does the same. */
const WRITES = 4;
/** GitHub asks for at least a second between mutative requests; Octokit spaces an installation's writes so. */
const SPACING_MS = 1000;

describe('write pacing', () => {
  let github: RunningGitHubDouble;
  let probot: Probot;

  beforeAll(async () => {
    const keys = generateAppKeyPair();
    github = await startGitHubDouble({
      seed: {
        repos: ORGS.map((owner) => ({ owner, name: 'payments', defaultBranch: 'main', branches: { main: { 'README.md': 'hi\n' } } })),
        apps: [{ id: APP_ID, slug: 'jit', name: 'JIT', publicKey: keys.publicKey }],
        installations: ORGS.map((account) => ({ appId: APP_ID, account })),
      },
    });
    probot = new Probot({ appId: APP_ID, privateKey: keys.privateKey, baseUrl: github.apiUrl, Octokit: AppOctokit, log: pino({ level: 'silent' }) });
  });

  afterAll(async () => {
    await github.close();
  });

  test("an installation's writes are spaced a second apart and never wait behind another installation's", async () => {
    const installationOf = new Map<string, string>();
    const writer = async (owner: string) => {
      const { data: installation } = await (await probot.auth()).rest.apps.getRepoInstallation({ owner, repo: 'payments' });
      installationOf.set(String(installation.id), owner);
      const octokit = await probot.auth(installation.id);
      const { data: commit } = await octokit.rest.repos.getCommit({ owner, repo: 'payments', ref: 'main' });
      const started = Date.now();
      for (let i = 0; i < WRITES; i++) await octokit.rest.checks.create({ owner, repo: 'payments', name: `jit-${i}`, head_sha: commit.sha });
      return Date.now() - started;
    };
    const took = await Promise.all(ORGS.map(writer));
    // Within an installation the writes stay a second apart...
    for (const ms of took) expect(ms).toBeGreaterThanOrEqual((WRITES - 1) * SPACING_MS - 50);
    // ...but neither waits for the other's: one limiter for the whole App would need (2 × WRITES − 1) s for the later one.
    expect(Math.max(...took)).toBeLessThan((2 * WRITES - 2) * SPACING_MS);
    // Asking for the installation's token is not one of its writes: the first write need not wait a second after it.
    const exchanges = await github.control.exchanges();
    for (const owner of ORGS) {
      const token = exchanges.find((e) => e.route === '/app/installations/{installation_id}/access_tokens' && installationOf.get(e.request.params.installation_id) === owner);
      const firstWrite = exchanges.find((e) => e.method === 'POST' && e.route === '/repos/{owner}/{repo}/check-runs' && e.request.params.owner === owner);
      expect(firstWrite!.at - token!.at).toBeLessThan(SPACING_MS - 100);
    }
  }, 60_000);

  test('a write that must still hold when it leaves is checked at its turn, after the writes queued before it, and a failed check stops it', async () => {
    const owner = ORGS[1];
    const { data: installation } = await (await probot.auth()).rest.apps.getRepoInstallation({ owner, repo: 'payments' });
    const octokit = await probot.auth(installation.id);
    const { data: commit } = await octokit.rest.repos.getCommit({ owner, repo: 'payments', ref: 'main' });
    const started = Date.now();
    const queued = ['before-0', 'before-1', 'before-2'].map((name) => octokit.rest.checks.create({ owner, repo: 'payments', name, head_sha: commit.sha }));
    // The Octokit's own fetch, as the App's client takes it for a deployment's answer.
    const fetch = octokit.request.endpoint.DEFAULTS.request?.fetch as typeof globalThis.fetch | undefined;
    expect(fetch).toBeDefined();
    const checkedAt: number[] = [];
    const check = async () => {
      checkedAt.push(Date.now() - started);
      throw new Error('no longer due');
    };
    const stopped = octokit.rest.checks.create({ owner, repo: 'payments', name: 'checked', head_sha: commit.sha, request: { fetch: checkedBeforeSending(fetch, check) } });
    await Promise.all(queued);
    await expect(stopped).rejects.toThrow('no longer due');
    // Its turn came after the three writes before it, a second apart: checked then, not when it was asked for.
    expect(checkedAt[0]).toBeGreaterThanOrEqual(3 * SPACING_MS - 100);
    const sent = (await github.control.exchanges()).filter((e) => e.method === 'POST' && (e.request.body as { name?: string } | undefined)?.name === 'checked');
    expect(sent).toEqual([]);
  }, 60_000);

  test('writes held up behind slow reads still leave a second apart', async () => {
    const owner = ORGS[0];
    const { data: installation } = await (await probot.auth()).rest.apps.getRepoInstallation({ owner, repo: 'payments' });
    const octokit = await probot.auth(installation.id);
    const { data: commit } = await octokit.rest.repos.getCommit({ owner, repo: 'payments', ref: 'main' });
    // Ten slow reads fill the ten requests Octokit lets an installation have in flight at once, so the
    // writes, spaced as they start waiting, queue behind them and would all leave as the reads end.
    await github.control.latency({ route: '/repos/{owner}/{repo}', method: 'GET', ms: 2500, times: 10 });
    const reads = Array.from({ length: 10 }, () => octokit.rest.repos.get({ owner, repo: 'payments' }));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const names = ['held-0', 'held-1', 'held-2'];
    await Promise.all([...reads, ...names.map((name) => octokit.rest.checks.create({ owner, repo: 'payments', name, head_sha: commit.sha }))]);
    const sent = (await github.control.exchanges())
      .filter((e) => e.method === 'POST' && names.includes((e.request.body as { name?: string } | undefined)?.name ?? ''))
      .map((e) => e.at)
      .sort((a, b) => a - b);
    expect(sent).toHaveLength(names.length);
    for (let i = 1; i < sent.length; i++) expect(sent[i] - sent[i - 1]).toBeGreaterThanOrEqual(SPACING_MS - 50);
  }, 60_000);
});
