/**
 * Reads shared among concurrent callers (the default branch's head, a repository's name) are shared
 * only within one installation: another installation's token may not reach the repository at all.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { pino } from 'pino';
import { Probot } from 'probot';
import { loadPolicyInputs, PolicyCache } from '../../app/gate/policy-source.js';
import { InstallationGone, Installations } from '../../app/github/installations.js';
import { AppOctokit } from '../../app/github/octokit.js';
import { generateAppKeyPair, startGitHubDouble, type RunningGitHubDouble } from '../github-double/index.js';

const APP_ID = 7;
const BASE = 'version: 1\nrules:\n  - name: acme-internal\n    if: { environment: production }\n    require: { approvals: 2, approvers: ["@acme/sre"] }\n';

describe('reads shared among concurrent callers', () => {
  let github: RunningGitHubDouble;
  let installations: Installations;
  let probot: Probot;
  let privateKey: string;

  beforeAll(async () => {
    const keys = generateAppKeyPair();
    github = await startGitHubDouble({
      seed: {
        repos: [
          { owner: 'acme', name: 'policies', private: true, defaultBranch: 'main', branches: { main: { '.github/jit-approval.yml': BASE } } },
          { owner: 'globex', name: 'app', defaultBranch: 'main', branches: { main: { '.github/jit-approval.yml': '_extends: acme/policies:.github/jit-approval.yml\nversion: 1\n' } } },
        ],
        apps: [{ id: APP_ID, slug: 'jit', name: 'JIT', publicKey: keys.publicKey }],
        installations: [{ appId: APP_ID, account: 'acme' }, { appId: APP_ID, account: 'globex' }],
      },
    });
    privateKey = keys.privateKey;
    probot = new Probot({ appId: APP_ID, privateKey, baseUrl: github.apiUrl, Octokit: AppOctokit, log: pino({ level: 'silent' }) });
    installations = new Installations(probot, APP_ID);
  });

  afterAll(async () => {
    await github?.close();
  });

  it("never gives one installation a default-branch head read with another installation's token", async () => {
    const acme = (await installations.forRepository('acme', 'policies')).github;
    const globex = (await installations.forRepository('globex', 'app')).github;
    const policies = { owner: 'acme', repo: 'policies' };
    // The operator lets policies extend acme/policies, but globex's installation cannot read it.
    const sources = { knownNotifiers: [], extendsRepositories: ['acme/policies'], cache: new PolicyCache() };
    await expect(globex.defaultBranchHead(policies)).rejects.toMatchObject({ status: 404 });
    const alone = await loadPolicyInputs(globex, { owner: 'globex', repo: 'app' }, 'main', sources);
    expect(alone).toMatchObject({ ok: false, problems: [expect.stringContaining('_extends names acme/policies:.github/jit-approval.yml, which does not exist, cannot be read by the App')] });

    // acme's own requests read the file at its head, and keep it.
    expect((await loadPolicyInputs(acme, policies, await acme.defaultBranchHead(policies), sources)).ok).toBe(true);
    // A burst of acme's requests reads the head while globex's policy is evaluated.
    await github.control.latency({ route: '/repos/{owner}/{repo}/commits', method: 'GET', ms: 800, times: 2 });
    const acmeReads = [acme.defaultBranchHead(policies), acme.defaultBranchHead(policies)];
    const during = await loadPolicyInputs(globex, { owner: 'globex', repo: 'app' }, 'main', sources);
    await Promise.all(acmeReads);
    expect(during).toMatchObject({ ok: false, problems: [expect.stringContaining('cannot be read by the App')] });
  }, 30_000);

  it("looks up installations through the App's own Octokit without wrapping it again each time", async () => {
    // `auth()` without an installation is the one Octokit the App has: a wrapper added per look-up
    // would pile up for as long as the App runs, until its requests overflow the stack.
    const appOctokit = await probot.auth();
    const wrap = jest.spyOn(appOctokit.hook, 'wrap');
    try {
      for (let i = 0; i < 3; i++) {
        installations.forget();
        expect((await installations.forRepository('acme', 'policies')).installationId).toBeGreaterThan(0);
      }
      expect(wrap.mock.calls.length).toBeLessThanOrEqual(1);
      // Still a conditional request: looking the repository up again costs GitHub a 304.
      const mark = await github.control.exchangeMark();
      installations.forget();
      await installations.forRepository('acme', 'policies');
      const lookups = (await github.control.exchanges(mark)).filter((x) => x.route === '/repos/{owner}/{repo}/installation');
      expect(lookups.map((x) => x.status)).toEqual([304]);
    } finally {
      wrap.mockRestore();
    }
  });

  it('an installation uninstalled without this replica hearing of it is not asked again once GitHub refuses it a token', async () => {
    const { installationId } = await installations.forRepository('globex', 'app');
    await github.control.changeInstallation({ installation_id: installationId, user: 'alice', action: 'delete' });
    // A replica that never heard the webhook, with no token of that installation yet.
    const elsewhere = new Installations(new Probot({ appId: APP_ID, privateKey, baseUrl: github.apiUrl, Octokit: AppOctokit, log: pino({ level: 'silent' }) }), APP_ID);
    const app = { owner: 'globex', repo: 'app' };
    await expect((await elsewhere.client(installationId)).repository(app)).rejects.toMatchObject({ status: 404 });
    const mark = await github.control.exchangeMark();
    await expect(elsewhere.client(installationId)).rejects.toBeInstanceOf(InstallationGone);
    expect(await github.control.exchanges(mark)).toEqual([]);
  });
});
