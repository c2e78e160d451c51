/**
 * The changed files decide which rules match, so they must be what approving the request would
 * really ship: for a run of its own commit, everything since the last approved request of the same
 * action and environment (not just the tip commit, not just the last push); for a pull request, all
 * of its files and what its base branch holds that was never approved. Where that cannot be established, the change set is unknown and the policy treats it
 * as the worst case: approval is needed, and the decision says why.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { RunnerJob } from '../github-double/index.js';
import { eventually, job, World } from './harness.js';
import { untilTheSecondAfter } from '../whole-seconds.js';

const INFRA = 'acme/infra';
const PATHS_POLICY = `version: 1
rules:
  - name: infrastructure
    if: { paths: ["infra/**"] }
    require: { approvals: 1, approvers: [alice] }
  - name: docs-only
    if: { only_paths: ["docs/**"] }
    auto_approve: true
`;

let world: World;
beforeAll(async () => {
  // Short, so a GitHub that stays down fails a request within the test.
  world = await World.start({ evaluationBudgetMs: 10_000 });
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

const runOf = (sha: string, overrides: Partial<RunnerJob> = {}) =>
  job({ repository: INFRA, ref: 'refs/heads/main', sha, event_name: 'push', environment: 'production', ...overrides });

async function open(run: RunnerJob) {
  const { status, body } = await world.open(run, { action: 'deploy' });
  expect(status).toBe(200);
  return body;
}

/** Alice approves with the check run's button, as an approver would. */
async function approve(body: Record<string, unknown>) {
  await world.control.clickCheckRunButton({ repository: INFRA, check_run_id: body.check_run_id as number, user: 'alice', identifier: 'jit-approve' });
  await world.settle();
  lastApproved = `${String(body.id)}, run ${String(body.run_id)}`;
}

async function decisionOf(body: Record<string, unknown>) {
  const checkRun = (await world.checkRunOf(body.id as string, INFRA))!;
  return JSON.parse(/```json\n([\s\S]*)\n```/.exec(checkRun.output.text)![1]).decision as {
    facts: { changedFileCount: number; unknownChanges?: string };
    rules: { name: string; matched: boolean; conditions: { reason: string }[] }[];
  };
}

/** The label the App gives the last approved request: "<id>, run <run>". */
let lastApproved = '';
async function lastApprovedId(): Promise<string> {
  return lastApproved;
}

async function pushTo(branch: string, ...commits: Record<string, string>[]) {
  return world.control.push(INFRA, { branch, author: 'mallory', commits: commits.map((files) => ({ files })) });
}

describe('what a run of its own commit changes: everything since the last approved run of that action and environment', () => {
  let approvedSha: string;
  let firstSha: string;

  it('knows nothing on the first run, so a docs-only change still needs approval, and says why', async () => {
    const pushed = await pushTo('main', { 'docs/first.md': 'first\n' });
    const run = runOf(pushed.sha);
    const body = await open(run);
    expect(body).toMatchObject({ status: 'pending', matched_rules: ['infrastructure'] });
    const decision = await decisionOf(body);
    expect(decision.facts.unknownChanges).toBe(`no earlier run of \`deploy\` to \`production\` from \`main\` was approved, so there is nothing to compare ${pushed.sha.slice(0, 7)} with`);
    expect(decision.rules.find((r) => r.name === 'docs-only')!.conditions[0].reason).toContain('never satisfies a condition that loosens the gate');
    await approve(body);
    expect((await world.poll(run, body.id as string)).body.status).toBe('approved');
    approvedSha = pushed.sha;
    firstSha = pushed.sha;
  });

  it('a dispatched run counts every commit since, not only its tip: infra with docs on top needs approval', async () => {
    const pushed = await pushTo('main', { 'infra/main.tf': 'replicas = 0\n' }, { 'docs/index.md': '# Infra, documented\n' });
    const body = await open(runOf(pushed.sha, { event_name: 'workflow_dispatch' }));
    expect(body).toMatchObject({ status: 'pending', matched_rules: ['infrastructure'] });
    expect((await decisionOf(body)).facts).toMatchObject({ changedFileCount: 2 });
    expect((await decisionOf(body)).facts.unknownChanges).toBeUndefined();
    await world.api('POST', `/api/v1/requests/${String(body.id)}/cancel`, await world.token(runOf(pushed.sha)), { reason: 'job_cancelled' });
  });

  it('a push of docs only after an unapproved infra push still carries the infra change', async () => {
    // Push 1 (infra) waits and is rejected; push 2 touches only docs. Deploying push 2 deploys push 1 too.
    const infra = await pushTo('main', { 'infra/main.tf': 'replicas = 100\n' });
    const first = await open(runOf(infra.sha));
    expect(first.status).toBe('pending');
    await world.control.clickCheckRunButton({ repository: INFRA, check_run_id: first.check_run_id as number, user: 'alice', identifier: 'jit-reject' });
    await world.settle();
    const docs = await pushTo('main', { 'docs/after.md': 'after\n' });
    const second = await open(runOf(docs.sha));
    expect(second).toMatchObject({ status: 'pending', matched_rules: ['infrastructure'] });
    await approve(second);
    approvedSha = docs.sha;
  });

  it('is only the docs once the infra change was approved: then a docs-only push deploys without approval', async () => {
    const docs = await pushTo('main', { 'docs/more.md': 'more\n' });
    const body = await open(runOf(docs.sha));
    expect(body).toMatchObject({ status: 'approved', reason: 'auto', matched_rules: ['docs-only'] });
    expect((await decisionOf(body)).facts).toMatchObject({ changedFileCount: 1 });
    approvedSha = docs.sha;
    lastApproved = `${String(body.id)}, run ${String(body.run_id)}`;
  });

  it("a merged pull request's run is measured as a push of its merge commit: docs pass, infra waits for someone other than its author", async () => {
    // GitHub runs a merged pull request's \`pull_request\` workflow on the base branch, at the merge's commit.
    const mergedRun = async (branch: string, files: Record<string, string>) => {
      const pr = await world.control.openPull({ repository: INFRA, user: 'carol', title: branch, head: branch, files });
      const merged = await world.control.mergePull({ repository: INFRA, number: pr.number, user: 'mallory' });
      return runOf(merged.sha, { event_name: 'pull_request' });
    };
    const docs = await mergedRun('merged-docs', { 'docs/merged.md': 'merged\n' });
    const passed = await open(docs);
    expect(passed).toMatchObject({ status: 'approved', reason: 'auto', matched_rules: ['docs-only'] });
    expect((await decisionOf(passed)).facts).toMatchObject({ changedFileCount: 1 });
    approvedSha = docs.sha!;
    lastApproved = `${String(passed.id)}, run ${String(passed.run_id)}`;

    const infraRun = await mergedRun('merged-infra', { 'infra/main.tf': 'replicas = 3\n' });
    const infra = await open(infraRun);
    expect(infra).toMatchObject({ status: 'pending', matched_rules: ['infrastructure'] });
    expect((await decisionOf(infra)).facts).toMatchObject({ changedFileCount: 1 });
    expect((await world.app.store.getRequest(infra.id as string))!.facts).toMatchObject({
      requesters: expect.arrayContaining([expect.objectContaining({ login: 'carol', role: 'opened a pull request the run ships' })]),
    });
    await world.api('POST', `/api/v1/requests/${String(infra.id)}/cancel`, await world.token(infraRun), { reason: 'job_cancelled' });
  });

  it('is measured per environment: approving staging is no base for production', async () => {
    const docs = await pushTo('main', { 'docs/staging.md': 'staging\n' });
    const staging = await open(runOf(docs.sha, { environment: 'staging' }));
    expect(staging.status).toBe('pending');
    const decision = await decisionOf(staging);
    expect(decision.facts.unknownChanges).toContain('no earlier run of `deploy` to `staging` from `main` was approved');
    await world.api('POST', `/api/v1/requests/${String(staging.id)}/cancel`, await world.token(runOf(docs.sha)), { reason: 'job_cancelled' });
  });

  it('is measured per branch: a run approved on another branch is no base for main', async () => {
    // mallory's branch changes infra, and its run to production is approved there (a policy could as
    // well let a branch's runs through without anyone). That says nothing about what main's next run ships.
    const branch = await world.control.push(INFRA, { branch: 'feat', author: 'mallory', commits: [{ files: { 'infra/main.tf': 'replicas = 9\n' } }] });
    const onBranch = await open(runOf(branch.sha, { ref: 'refs/heads/feat' }));
    expect((await decisionOf(onBranch)).facts.unknownChanges).toContain('no earlier run of `deploy` to `production` from `feat` was approved');
    await approve(onBranch);
    // main catches up with the branch: deploying main deploys the infra change, measured from main's last approval.
    await world.control.forcePush(INFRA, { branch: 'main', sha: branch.sha, author: 'mallory' });
    const onMain = await open(runOf(branch.sha));
    expect(onMain).toMatchObject({ status: 'pending', matched_rules: ['infrastructure'] });
    expect((await decisionOf(onMain)).facts.unknownChanges).toBeUndefined();
    approvedSha = branch.sha;
    await approve(onMain);
  });

  it('is unknown for a rollback: the last approved commit is not an ancestor of the one deployed', async () => {
    // Deploying an older commit takes back every change since; a comparison would show none of them.
    const body = await open(runOf(firstSha, { event_name: 'workflow_dispatch' }));
    expect(body).toMatchObject({ status: 'pending', matched_rules: ['infrastructure'] });
    expect((await decisionOf(body)).facts.unknownChanges).toBe(
      `the last approved commit of \`deploy\` to \`production\` from \`main\`, ${approvedSha.slice(0, 7)} (request ${(await lastApprovedId())}), is not an ancestor of ${firstSha.slice(0, 7)} (behind: a force push, a rollback or another branch)`,
    );
    await world.api('POST', `/api/v1/requests/${String(body.id)}/cancel`, await world.token(runOf(firstSha)), { reason: 'job_cancelled' });
  });

  it.each(['pull_request_target', 'issue_comment', 'workflow_run'])('is unknown for a `%s` run, which may run code other than its commit', async (event) => {
    const docs = await pushTo('main', { [`docs/${event}.md`]: 'x\n' });
    const body = await open(runOf(docs.sha, { event_name: event }));
    expect(body).toMatchObject({ status: 'pending', matched_rules: ['infrastructure'] });
    expect((await decisionOf(body)).facts.unknownChanges).toContain(`a \`${event}\` run can run code other than its commit`);
    await world.api('POST', `/api/v1/requests/${String(body.id)}/cancel`, await world.token(runOf(docs.sha)), { reason: 'job_cancelled' });
  });

  it('is unknown when GitHub\'s comparison may be cut short (300 files or more)', async () => {
    const files = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`docs/generated/${i}.md`, `${i}\n`]));
    const pushed = await pushTo('main', files, { 'docs/d.md': 'd\n' });
    const body = await open(runOf(pushed.sha));
    expect(body).toMatchObject({ status: 'pending', matched_rules: ['infrastructure'] });
    expect((await decisionOf(body)).facts.unknownChanges).toContain("GitHub's list of the files changed from");
    await world.api('POST', `/api/v1/requests/${String(body.id)}/cancel`, await world.token(runOf(pushed.sha)), { reason: 'job_cancelled' });
  });

  it('fails closed, approving nothing, when GitHub cannot compare within the evaluation budget', async () => {
    const pushed = await pushTo('main', { 'docs/e.md': 'e\n' });
    await world.control.fault({ route: '/repos/{owner}/{repo}/compare/{basehead}', status: 500, times: 1000 });
    try {
      const run = runOf(pushed.sha);
      const opened = await world.openAsIs(run, { action: 'deploy' });
      const body = (await eventually(() => world.poll(run, opened.body.id as string), (answer) => answer.body.status !== 'pending', 40_000)).body;
      expect(body).toMatchObject({ status: 'failed', reason: expect.stringContaining('could not establish the facts for a decision') });
    } finally {
      await world.control.clearFaults();
    }
  }, 60_000);
});

describe('what a pull request run changes: all of the pull request\'s files, and what its base holds that was never approved', () => {
  // alice or carol approves infrastructure here; the requests open as mallory's.
  const BASED = 'acme/based';
  beforeAll(async () => {
    const policy = PATHS_POLICY.replace('approvers: [alice]', 'approvers: [alice, carol]');
    await world.control.seed({ repos: [{ owner: 'acme', name: 'based', branches: { main: { '.github/jit-approval.yml': policy, 'infra/main.tf': 'replicas = 1\n' } }, collaborators: { alice: 'admin', carol: 'write', mallory: 'write' } }] });
  });
  const onBased = (overrides: Partial<RunnerJob>) => job({ repository: BASED, environment: 'production', ...overrides });
  const pullRunOf = (pull: { number: number; merge_sha: string }, head: string, base = 'main') =>
    onBased({ ref: `refs/pull/${pull.number}/merge`, sha: pull.merge_sha, event_name: 'pull_request', head_ref: head, base_ref: base });
  async function decisionOn(body: Record<string, unknown>) {
    const checkRun = (await world.checkRunOf(body.id as string, BASED))!;
    return (JSON.parse(/```json\n([\s\S]*)\n```/.exec(checkRun.output.text)![1]) as { decision: { facts: { changedFileCount: number; unknownChanges?: string } } }).decision.facts;
  }
  async function approvedByCarol(run: RunnerJob) {
    const body = await open(run);
    expect(body.status).toBe('pending');
    await world.control.clickCheckRunButton({ repository: BASED, check_run_id: body.check_run_id as number, user: 'carol', identifier: 'jit-approve' });
    await world.settle();
    expect((await world.poll(run, body.id as string)).body.status).toBe('approved');
  }
  const cancel = async (run: RunnerJob, body: Record<string, unknown>) => world.api('POST', `/api/v1/requests/${String(body.id)}/cancel`, await world.token(run), { reason: 'job_cancelled' });

  it('a docs-only pull request into a branch pushed straight to it, never approved, still carries that branch\'s infra change', async () => {
    // The run deploys the merge of the pull request into its base: the base's infra change ships with the docs.
    const base = await world.control.pushCommit(BASED, { branch: 'unreviewed', files: { 'infra/main.tf': 'replicas = 0\n' }, author: 'mallory' });
    const pull = await world.control.openPull({ repository: BASED, user: 'mallory', title: 'Docs', head: 'docs-on-unreviewed', base: 'unreviewed', files: { 'docs/a.md': 'a\n' } });
    const run = pullRunOf(pull, 'docs-on-unreviewed', 'unreviewed');
    const body = await open(run);
    expect(body).toMatchObject({ status: 'pending', matched_rules: ['infrastructure'] });
    expect(await decisionOn(body)).not.toHaveProperty('unknownChanges');
    expect(await decisionOn(body)).toMatchObject({ changedFileCount: 2 });
    await cancel(run, body);
    // The same branch once deployed with approval: only the pull request's docs are new.
    await approvedByCarol(onBased({ ref: 'refs/heads/unreviewed', sha: base.sha, event_name: 'push' }));
    const again = await open(pullRunOf(pull, 'docs-on-unreviewed', 'unreviewed'));
    expect(again).toMatchObject({ status: 'approved', reason: 'auto', matched_rules: ['docs-only'] });
  });

  it('a docs-only pull request into the default branch carries what the branch took since its last approved deploy, whose authors may not approve it', async () => {
    // Nothing deployed from main yet: its content is the default branch's own, and a docs pull request is only docs.
    const first = await world.control.openPull({ repository: BASED, user: 'mallory', title: 'Docs first', head: 'docs-first', files: { 'docs/first.md': 'first\n' } });
    expect(await open(pullRunOf(first, 'docs-first'))).toMatchObject({ status: 'approved', reason: 'auto', matched_rules: ['docs-only'] });
    await approvedByCarol(onBased({ ref: 'refs/heads/main', sha: first.base_sha, event_name: 'push' }));
    // alice's infra change is merged into main and not deployed since; mallory's docs pull request would ship it.
    const infra = await world.control.openPull({ repository: BASED, user: 'alice', title: 'Scale down', head: 'scale-down', files: { 'infra/main.tf': 'replicas = 2\n' } });
    await world.control.mergePull({ repository: BASED, number: infra.number, user: 'mallory' });
    const docs = await world.control.openPull({ repository: BASED, user: 'mallory', title: 'Docs', head: 'docs-after-infra', files: { 'docs/b.md': 'b\n' } });
    const run = pullRunOf(docs, 'docs-after-infra');
    const body = await open(run);
    expect(body).toMatchObject({ status: 'pending', matched_rules: ['infrastructure'] });
    expect(await decisionOn(body)).not.toHaveProperty('unknownChanges');
    expect(await decisionOn(body)).toMatchObject({ changedFileCount: 2 });
    await world.comment(docs.number, 'alice', '/approve', BASED);
    const replies = (await world.control.comments(BASED, docs.number)) as unknown as Array<{ body: string }>;
    expect(replies.map((c) => c.body).join('\n')).toContain('@alice opened a pull request the run ships and may not approve it (self-approval is not allowed)');
    expect((await world.poll(run, body.id as string)).body).toMatchObject({ status: 'pending', approved_by: [] });
    await cancel(run, body);
  });

  it("a docs-only pull request into a new branch cut from the default branch carries what that branch took since the default branch's last approved deploy", async () => {
    // main holds alice's undeployed infra change (above); a fresh branch cut from it has never been deployed.
    await world.control.pushCommit(BASED, { branch: 'cut-from-main', files: { 'docs/cut.md': 'cut\n' }, author: 'mallory' });
    const pull = await world.control.openPull({ repository: BASED, user: 'mallory', title: 'Docs', head: 'docs-on-cut', base: 'cut-from-main', files: { 'docs/d.md': 'd\n' } });
    const run = pullRunOf(pull, 'docs-on-cut', 'cut-from-main');
    const body = await open(run);
    expect(body).toMatchObject({ status: 'pending', matched_rules: ['infrastructure'] });
    expect(await decisionOn(body)).not.toHaveProperty('unknownChanges');
    expect(await decisionOn(body)).toMatchObject({ changedFileCount: 3 });
    await cancel(run, body);
  });

  it("fails when the pull request's base was changed after its run was made: its target branch would be the new base's", async () => {
    await world.control.pushCommit(BASED, { branch: 'infra-base', files: { 'infra/main.tf': 'replicas = 9\n' }, author: 'mallory' });
    const pull = await world.control.openPull({ repository: BASED, user: 'mallory', title: 'Docs', head: 'docs-retarget', base: 'infra-base', files: { 'docs/rt.md': 'rt\n' } });
    await untilTheSecondAfter(Date.now());
    const run = pullRunOf(pull, 'docs-retarget', 'infra-base');
    await world.token(run); // the run is made, its merge taken
    await untilTheSecondAfter(Date.now());
    await world.control.retargetPull({ repository: BASED, number: pull.number, base: 'main', user: 'mallory' });
    const opened = await world.openAsIs(run, { action: 'deploy' });
    const body = (await eventually(() => world.poll(run, opened.body.id as string), (answer) => answer.body.status !== 'pending')).body;
    expect(body).toMatchObject({ status: 'failed', reason: expect.stringContaining(`the base of pull request #${pull.number} was changed to \`main\` after run`) });
  });

  it('is unknown when the base branch was rewound past its last approved deploy', async () => {
    const start = await world.control.pushCommit(BASED, { branch: 'rewound', files: { 'docs/r.md': 'r\n' }, author: 'mallory' });
    const approved = await world.control.pushCommit(BASED, { branch: 'rewound', files: { 'docs/r.md': 'r, again\n' }, author: 'mallory' });
    await approvedByCarol(onBased({ ref: 'refs/heads/rewound', sha: approved.sha, event_name: 'push' }));
    await world.control.forcePush(BASED, { branch: 'rewound', sha: start.sha, author: 'mallory' });
    const pull = await world.control.openPull({ repository: BASED, user: 'mallory', title: 'Docs', head: 'docs-on-rewound', base: 'rewound', files: { 'docs/c.md': 'c\n' } });
    const run = pullRunOf(pull, 'docs-on-rewound', 'rewound');
    const body = await open(run);
    expect(body).toMatchObject({ status: 'pending', matched_rules: ['infrastructure'] });
    expect((await decisionOn(body)).unknownChanges).toContain(`the last approved commit of \`deploy\` to \`production\` from \`rewound\`, the branch pull request #${pull.number} merges into, ${approved.sha.slice(0, 7)}`);
    await cancel(run, body);
  });
});

describe('what a pull request run changes: all of the pull request\'s files', () => {
  it('reads every page of them, and is unknown at GitHub\'s 3000-file cap', async () => {
    // 150 docs files and one infra file last: only a paginated read sees the infra change.
    const many = Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`docs/pages/${String(i).padStart(3, '0')}.md`, `${i}\n`]));
    const paged = await world.control.openPull({ repository: INFRA, user: 'mallory', title: 'Docs and a bit more', head: 'paged', files: { ...many, 'infra/zz.tf': 'x\n' } });
    const prJob = job({ repository: INFRA, ref: `refs/pull/${paged.number}/merge`, sha: paged.merge_sha, event_name: 'pull_request', head_ref: 'paged', base_ref: 'main' });
    expect(await open(prJob)).toMatchObject({ status: 'pending', matched_rules: ['infrastructure'] });

    const docsOnly = await world.control.openPull({ repository: INFRA, user: 'mallory', title: 'Docs', head: 'docs-only', files: { 'docs/pr.md': 'pr\n' } });
    const docsJob = job({ repository: INFRA, ref: `refs/pull/${docsOnly.number}/merge`, sha: docsOnly.merge_sha, event_name: 'pull_request', head_ref: 'docs-only', base_ref: 'main' });
    expect(await open(docsJob)).toMatchObject({ status: 'approved', reason: 'auto', matched_rules: ['docs-only'] });

    const huge = Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`docs/huge/${i}.md`, `${i}\n`]));
    const capped = await world.control.openPull({ repository: INFRA, user: 'mallory', title: 'Huge', head: 'huge', files: huge });
    const hugeJob = job({ repository: INFRA, ref: `refs/pull/${capped.number}/merge`, sha: capped.merge_sha, event_name: 'pull_request', head_ref: 'huge', base_ref: 'main' });
    const body = await open(hugeJob);
    expect(body).toMatchObject({ status: 'pending', matched_rules: ['infrastructure'] });
    expect((await decisionOf(body)).facts.unknownChanges).toContain(`GitHub's list of pull request #${capped.number}'s files may be truncated`);
  }, 60_000);
});

describe('renamed files and rewritten history', () => {
  it('counts a renamed file under its old path too: moving a gated file out of its path still needs approval', async () => {
    const pushed = await world.control.push(INFRA, { branch: 'main', author: 'mallory', commits: [{ renames: { 'infra/main.tf': 'docs/main.tf' } }] });
    const { body } = await world.open(runOf(pushed.sha), { action: 'deploy' });
    expect(body).toMatchObject({ status: 'pending', matched_rules: expect.arrayContaining(['infrastructure']) });

    // The same through a pull request's files.
    await world.control.pushCommit(INFRA, { branch: 'main', files: { 'infra/pr.tf': 'size = 3\n' } });
    await world.control.pushCommit(INFRA, { branch: 'move', renames: { 'infra/pr.tf': 'docs/pr.md' } });
    const pull = await world.control.openPull({ repository: INFRA, user: 'mallory', title: 'Tidy up', head: 'move' });
    const prJob = job({ repository: INFRA, ref: `refs/pull/${pull.number}/merge`, sha: pull.merge_sha, event_name: 'pull_request', head_ref: 'move', base_ref: 'main' });
    const onPull = await world.open(prJob, { action: 'deploy' });
    expect(onPull.body).toMatchObject({ status: 'pending', matched_rules: expect.arrayContaining(['infrastructure']) });
  });

  it('is unknown after a force push back past the last approved commit: rewinding needs approval, and says why', async () => {
    const start = await world.control.push(INFRA, { branch: 'main', commits: [{ files: { 'docs/e.md': 'e\n' } }] });
    const infra = await world.control.push(INFRA, { branch: 'main', commits: [{ files: { 'infra/net.tf': 'open = true\n' } }] });
    const approved = await open(runOf(infra.sha));
    await approve(approved);
    const forced = await world.control.forcePush(INFRA, { branch: 'main', sha: start.sha, author: 'mallory' });
    expect(forced.activity_type).toBe('force_push');
    const { body } = await world.open(runOf(start.sha), { action: 'deploy' });
    expect(body).toMatchObject({ status: 'pending', matched_rules: expect.arrayContaining(['infrastructure']) });
    expect((await decisionOf(body)).facts.unknownChanges).toContain(`${infra.sha.slice(0, 7)} (request ${String(approved.id)}, run ${String(approved.run_id)}), is not an ancestor of ${start.sha.slice(0, 7)}`);
  });
});

describe('a pull request pushed to while its run is evaluated', () => {
  /** Opens the run's request while GitHub holds its read of the pull request's files, and does `meanwhile` during that read. */
  async function openDuringFilesRead(run: RunnerJob, meanwhile: () => Promise<unknown>) {
    const token = await world.token(run);
    // The policy preview reads the files of a pull request when it opens: that read is not the one raced.
    await world.settle();
    const filesRoute = 'GET /repos/{owner}/{repo}/pulls/{pull_number}/files';
    const filesReadBefore = (await world.control.requestCounts())[filesRoute] ?? 0;
    await world.control.latency({ route: '/repos/{owner}/{repo}/pulls/{pull_number}/files', method: 'GET', ms: 1500, times: 1 });
    try {
      const answer = world.api('POST', '/api/v1/requests', token, { action: 'deploy' });
      await eventually(() => world.control.requestCounts(), (counts) => (counts[filesRoute] ?? 0) > filesReadBefore, 10_000);
      await meanwhile();
      return (await answer).body;
    } finally {
      await world.control.clearFaults();
    }
  }

  it("is judged on the files of the head its run tested: a push between reading the pull request and its files does not pass infra as docs", async () => {
    const pull = await world.control.openPull({ repository: INFRA, user: 'mallory', title: 'Scale', head: 'swap-under-read', files: { 'infra/main.tf': 'replicas = 0\n' } });
    const run = job({ repository: INFRA, ref: `refs/pull/${pull.number}/merge`, sha: pull.merge_sha, event_name: 'pull_request', head_ref: 'swap-under-read', base_ref: 'main', environment: 'production' });
    // The App has read the pull request (head: the infra change) when it asks for the files; the push lands while it waits.
    const body = await openDuringFilesRead(run, () =>
      world.control.pushCommit(INFRA, { branch: 'swap-under-read', author: 'mallory', files: { 'infra/main.tf': 'replicas = 1\n', 'docs/scale.md': 'scale\n' } }));
    // The run tested the infra change: it must not be approved as the docs-only head that replaced it.
    expect(body).toMatchObject({ status: 'failed', reason: expect.stringContaining(`pull request #${pull.number} was updated after this run started`) });
  });

  it('is judged on the files against the base its run merged into: a retarget while the files are read does not pass infra as docs', async () => {
    // The pull request's first commit changes infra, its second adds docs; `infra-ahead` already holds the first.
    const infra = await world.control.pushCommit(INFRA, { branch: 'retarget-under-read', author: 'mallory', files: { 'infra/main.tf': 'replicas = 5\n' } });
    await world.control.pushCommit(INFRA, { branch: 'retarget-under-read', author: 'mallory', files: { 'docs/retarget.md': 'docs\n' } });
    await world.control.pushCommit(INFRA, { branch: 'infra-ahead', author: 'mallory', files: { 'docs/placeholder.md': 'x\n' } });
    await world.control.forcePush(INFRA, { branch: 'infra-ahead', sha: infra.sha, author: 'mallory' });
    const pull = await world.control.openPull({ repository: INFRA, user: 'mallory', title: 'Scale', head: 'retarget-under-read' });
    const run = job({ repository: INFRA, ref: `refs/pull/${pull.number}/merge`, sha: pull.merge_sha, event_name: 'pull_request', head_ref: 'retarget-under-read', base_ref: 'main', environment: 'production' });
    // Against `infra-ahead` the pull request's files are the docs alone; the run merged it into main, infra and all.
    const body = await openDuringFilesRead(run, () => world.control.retargetPull({ repository: INFRA, number: pull.number, base: 'infra-ahead', user: 'mallory' }));
    expect(body).toMatchObject({ status: 'failed', reason: expect.stringContaining(`the base of pull request #${pull.number} was changed`) });
  });
});

describe("a run of a pull request's head ref", () => {
  it('must be of the head itself: an earlier commit of the pull request is not judged on the files of the head that replaced it', async () => {
    // The first commit changes infra; the second puts it back and adds docs, so the pull request's files are docs alone.
    const infra = await world.control.pushCommit(INFRA, { branch: 'head-ref', author: 'mallory', files: { 'infra/main.tf': 'replicas = 0\n' } });
    await world.control.pushCommit(INFRA, { branch: 'head-ref', author: 'mallory', files: { 'infra/main.tf': 'replicas = 1\n', 'docs/head-ref.md': 'docs\n' } });
    const pull = await world.control.openPull({ repository: INFRA, user: 'mallory', title: 'Docs', head: 'head-ref' });
    const run = job({ repository: INFRA, ref: `refs/pull/${pull.number}/head`, sha: infra.sha, event_name: 'pull_request', head_ref: 'head-ref', base_ref: 'main', environment: 'production' });
    const { body } = await world.api('POST', '/api/v1/requests', await world.token(run), { action: 'deploy' });
    expect(body).toMatchObject({ status: 'failed', reason: expect.stringContaining(`pull request #${pull.number} was updated after this run started`) });
  });
});

describe('a CODEOWNERS file over 1 MB', () => {
  it('still owns files: GitHub sends its content only raw, and read as empty it would own nothing', async () => {
    // GitHub loads a CODEOWNERS file under 3 MB; its contents API sends one over 1 MB only through the raw media type.
    const padding = `${'# '.padEnd(99, '-')}\n`.repeat(11_000);
    const codeowners = `${padding}* @mallory\ninfra/ @alice\n`;
    expect(Buffer.byteLength(codeowners)).toBeGreaterThan(1024 * 1024);
    const policy = `version: 1\nrules:\n  - name: infrastructure\n    if: { paths: ["infra/**"] }\n    require: { approvals: 1, approvers: [codeowners, carol] }\n`;
    await world.control.seed({ repos: [{ owner: 'acme', name: 'big-owners', branches: { main: { '.github/jit-approval.yml': policy, '.github/CODEOWNERS': codeowners, 'infra/main.tf': 'replicas = 1\n' } }, collaborators: { alice: 'admin', carol: 'write', mallory: 'write' } }] });
    const pull = await world.control.openPull({ repository: 'acme/big-owners', user: 'mallory', title: 'Scale', head: 'scale', files: { 'infra/main.tf': 'replicas = 9\n' } });
    const run = job({ repository: 'acme/big-owners', ref: `refs/pull/${pull.number}/merge`, sha: pull.merge_sha, event_name: 'pull_request', head_ref: 'scale', base_ref: 'main', environment: 'production' });
    const body = await open(run);
    // carol counts beside the code owner, never in their place: the infra files need @alice.
    expect(body).toMatchObject({ status: 'pending', matched_rules: ['infrastructure'] });
    expect((body.requirements as Array<{ owner_groups: unknown[] }>)[0].owner_groups).toEqual([{ owners: ['@alice'], patterns: ['infra/'], covered_by: null }]);
    await world.api('POST', `/api/v1/requests/${String(body.id)}/cancel`, await world.token(run), { reason: 'job_cancelled' });
  });

  it('is refused, as one under 1 MB is, when it is not UTF-8 text', async () => {
    // A Latin-1 "é" (0xE9) in an owner's line: read raw as text, it would be a replacement character.
    const padding = `${'# '.padEnd(99, '-')}\n`.repeat(11_000);
    const codeowners = `${padding}* @mallory\ninfra/ @alice # Andr\uDCE9\n`;
    const policy = `version: 1\nrules:\n  - name: infrastructure\n    if: { paths: ["infra/**"] }\n    require: { approvals: 1, approvers: [codeowners] }\n`;
    await world.control.seed({ repos: [{ owner: 'acme', name: 'latin1-owners', branches: { main: { '.github/jit-approval.yml': policy, '.github/CODEOWNERS': codeowners, 'infra/main.tf': 'replicas = 1\n' } }, collaborators: { alice: 'admin', mallory: 'write' } }] });
    const pull = await world.control.openPull({ repository: 'acme/latin1-owners', user: 'mallory', title: 'Scale', head: 'scale', files: { 'infra/main.tf': 'replicas = 9\n' } });
    const run = job({ repository: 'acme/latin1-owners', ref: `refs/pull/${pull.number}/merge`, sha: pull.merge_sha, event_name: 'pull_request', head_ref: 'scale', base_ref: 'main', environment: 'production' });
    expect(await open(run)).toMatchObject({ status: 'failed', problems: ['.github/CODEOWNERS:1:1: the file is not valid UTF-8 text'] });
  });
});
