/**
 * The changed files decide which rules match, so the App must see all of them: every commit of a push
 * (from GitHub's repository activity and compare), all of a PR's files, and never a list GitHub may
 * have cut short. When it cannot, the request fails closed.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { job, World } from './harness.js';

const INFRA = 'acme/infra';
const PATHS_POLICY = `version: 1
rules:
  - name: infrastructure
    if: { paths: ["infra/**"] }
    require: { approvals: 1, approvers: [alice] }
  - name: docs
    if: { paths: ["docs/**"] }
    auto_approve: true
`;
const UNDETERMINED = 'the changed files could not be determined';

let world: World;
beforeAll(async () => {
  world = await World.start();
  await world.control.seed({
    repos: [{
      owner: 'acme',
      name: 'infra',
      defaultBranch: 'main',
      branches: { main: { '.github/jit-approval.yml': PATHS_POLICY, 'infra/main.tf': 'replicas = 1\n', 'docs/index.md': '# Infra\n' } },
      collaborators: { alice: 'admin', mallory: 'write' },
    }],
  });
}, 60_000);
afterAll(async () => world?.stop());

const pushJob = (sha: string, branch = 'main') => job({ repository: INFRA, ref: `refs/heads/${branch}`, sha, event_name: 'push' });

describe('a push of several commits', () => {
  it('counts the files of every pushed commit: an infra change followed by a docs change needs approval', async () => {
    const pushed = await world.control.push(INFRA, {
      branch: 'main',
      author: 'mallory',
      commits: [
        { files: { 'infra/main.tf': 'replicas = 0\n' }, message: 'Scale to zero' },
        { files: { 'docs/index.md': '# Infra, documented\n' }, message: 'Docs' },
      ],
    });
    const { body } = await world.open(pushJob(pushed.sha), { action: 'deploy' });
    expect(body).toMatchObject({ status: 'pending', matched_rules: expect.arrayContaining(['infrastructure', 'docs']) });
    const checkRun = (await world.checkRunOf(body.id as string, INFRA))!;
    expect(checkRun.conclusion).toBe('action_required');
  });

  it('auto-approves a push whose commits touch only docs (the rule still works)', async () => {
    const pushed = await world.control.push(INFRA, {
      branch: 'main',
      commits: [{ files: { 'docs/a.md': 'a\n' } }, { files: { 'docs/b.md': 'b\n' } }],
    });
    const { body } = await world.open(pushJob(pushed.sha), { action: 'deploy' });
    expect(body).toMatchObject({ status: 'approved', reason: 'auto', matched_rules: ['docs'] });
  });

  it('compares a new branch against the default branch, so its first push counts every commit', async () => {
    const pushed = await world.control.push(INFRA, {
      branch: 'hotfix',
      commits: [{ files: { 'infra/main.tf': 'replicas = 9\n' } }, { files: { 'docs/hotfix.md': 'why\n' } }],
    });
    expect(pushed.before).toBe('0'.repeat(40));
    const { body } = await world.open(pushJob(pushed.sha, 'hotfix'), { action: 'deploy' });
    expect(body).toMatchObject({ status: 'pending', matched_rules: expect.arrayContaining(['infrastructure']) });
  });
});

describe('failing closed when the changed files cannot be determined', () => {
  it('fails a push run whose push GitHub does not list, and says so on the check run', async () => {
    // A real commit, but never pushed to main: the token's claim cannot be matched to a push.
    const elsewhere = await world.control.pushCommit(INFRA, { branch: 'side', files: { 'docs/side.md': 'side\n' } });
    const { body } = await world.open(pushJob(elsewhere.sha, 'main'), { action: 'deploy' });
    expect(body).toMatchObject({ status: 'failed', reason: expect.stringContaining(UNDETERMINED) });
    expect(body.reason).toContain(`lists no push of ${elsewhere.sha.slice(0, 7)} to refs/heads/main`);
    const checkRun = (await world.checkRunOf(body.id as string, INFRA))!;
    expect(checkRun.conclusion).toBe('failure');
    expect(checkRun.output.summary).toContain(UNDETERMINED);
  });

  it('fails closed when GitHub\'s repository activity cannot be read', async () => {
    const pushed = await world.control.push(INFRA, { branch: 'main', commits: [{ files: { 'docs/c.md': 'c\n' } }] });
    // More failures than Octokit retries.
    await world.control.fault({ route: '/repos/{owner}/{repo}/activity', status: 500, times: 10 });
    try {
      const { body } = await world.open(pushJob(pushed.sha), { action: 'deploy' });
      expect(body).toMatchObject({ status: 'failed', reason: expect.stringContaining(`${UNDETERMINED}: GitHub's repository activity could not be read`) });
    } finally {
      await world.control.clearFaults();
    }
  }, 60_000);

  it('fails closed on a push of 300 or more files, where GitHub\'s compare list may be cut short', async () => {
    const files = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`docs/generated/${i}.md`, `${i}\n`]));
    const pushed = await world.control.push(INFRA, { branch: 'main', commits: [{ files }, { files: { 'docs/d.md': 'd\n' } }] });
    const { body } = await world.open(pushJob(pushed.sha), { action: 'deploy' });
    expect(body).toMatchObject({ status: 'failed', reason: expect.stringContaining(`${UNDETERMINED}: GitHub's list of the files changed from`) });
  });

  it('reads all pages of a pull request\'s files, and fails closed at GitHub\'s 3000-file cap', async () => {
    // 150 docs files and one infra file last: only a paginated read sees the infra change.
    const many = Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`docs/pages/${String(i).padStart(3, '0')}.md`, `${i}\n`]));
    const paged = await world.control.openPull({ repository: INFRA, user: 'mallory', title: 'Docs and a bit more', head: 'paged', files: { ...many, 'infra/zz.tf': 'x\n' } });
    const prJob = job({ repository: INFRA, ref: `refs/pull/${paged.number}/merge`, sha: paged.merge_sha, event_name: 'pull_request', head_ref: 'paged', base_ref: 'main' });
    const { body } = await world.open(prJob, { action: 'deploy' });
    expect(body).toMatchObject({ status: 'pending', matched_rules: expect.arrayContaining(['infrastructure']) });

    const huge = Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`docs/huge/${i}.md`, `${i}\n`]));
    const capped = await world.control.openPull({ repository: INFRA, user: 'mallory', title: 'Huge', head: 'huge', files: huge });
    const hugeJob = job({ repository: INFRA, ref: `refs/pull/${capped.number}/merge`, sha: capped.merge_sha, event_name: 'pull_request', head_ref: 'huge', base_ref: 'main' });
    const answer = await world.open(hugeJob, { action: 'deploy' });
    expect(answer.body).toMatchObject({ status: 'failed', reason: expect.stringContaining(`${UNDETERMINED}: GitHub's list of pull request #${capped.number}'s files may be truncated`) });
  }, 60_000);
});

describe('renamed files and rewritten history', () => {
  it('counts a renamed file under its old path too: moving a gated file out of its path still needs approval', async () => {
    const pushed = await world.control.push(INFRA, { branch: 'main', author: 'mallory', commits: [{ renames: { 'infra/main.tf': 'docs/main.tf' } }] });
    const { body } = await world.open(pushJob(pushed.sha), { action: 'deploy' });
    expect(body).toMatchObject({ status: 'pending', matched_rules: expect.arrayContaining(['infrastructure']) });

    // The same through a pull request's files.
    await world.control.pushCommit(INFRA, { branch: 'main', files: { 'infra/pr.tf': 'size = 3\n' } });
    await world.control.pushCommit(INFRA, { branch: 'move', renames: { 'infra/pr.tf': 'docs/pr.md' } });
    const pull = await world.control.openPull({ repository: INFRA, user: 'mallory', title: 'Tidy up', head: 'move' });
    const prJob = job({ repository: INFRA, ref: `refs/pull/${pull.number}/merge`, sha: pull.merge_sha, event_name: 'pull_request', head_ref: 'move', base_ref: 'main' });
    const onPull = await world.open(prJob, { action: 'deploy' });
    expect(onPull.body).toMatchObject({ status: 'pending', matched_rules: expect.arrayContaining(['infrastructure']) });
  });

  it('counts the files a force push dropped: rewinding past an infra change needs approval', async () => {
    const start = await world.control.push(INFRA, { branch: 'main', commits: [{ files: { 'docs/e.md': 'e\n' } }] });
    await world.control.push(INFRA, { branch: 'main', commits: [{ files: { 'infra/net.tf': 'open = true\n' } }] });
    const forced = await world.control.forcePush(INFRA, { branch: 'main', sha: start.sha, author: 'mallory' });
    expect(forced.activity_type).toBe('force_push');
    const { body } = await world.open(pushJob(start.sha), { action: 'deploy' });
    expect(body).toMatchObject({ status: 'pending', matched_rules: expect.arrayContaining(['infrastructure']) });
  });
});
