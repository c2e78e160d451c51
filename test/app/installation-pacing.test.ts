import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { pino } from 'pino';
import { Probot } from 'probot';
import { AppOctokit } from '../../app/github/octokit.js';
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
    const writer = async (owner: string) => {
      const { data: installation } = await (await probot.auth()).rest.apps.getRepoInstallation({ owner, repo: 'payments' });
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
  }, 60_000);
});
