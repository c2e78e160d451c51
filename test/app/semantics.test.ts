/**
 * The policy means what it says, end to end through the App: a condition escalation adds a
 * requirement that a time escalation never widens, `codeowners` needs each owned group of changed
 * files, a step without a severity meets every severity condition that tightens the gate,
 * environment names ignore case, and no glob and no path name can stall the App.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { RunnerJob } from '../github-double/index.js';
import { eventually, job, World, cancelledAfterEach } from './harness.js';
import { untilTheSecondAfter } from '../whole-seconds.js';

const REPO = 'acme/mono';
const ONCALL_AFTER_SECONDS = 2;
/** Long enough for two votes to be counted before it is due, even on a busy machine. */
const STANDBY_AFTER_SECONDS = 10;
const POLICY = `version: 1
rules:
  - name: production
    if: { environment: production }
    require: { approvals: 1, approvers: [codeowners] }
    escalate:
      - if: { severity: critical }
        require: { approvals: 1, approvers: ["@acme/security"] }
      - after: ${ONCALL_AFTER_SECONDS}s
        also_eligible: ["@acme/oncall"]
  - name: migration
    if: { action: migrate }
    require: { approvals: 2, approvers: ["@acme/dba"] }
    escalate:
      - after: ${STANDBY_AFTER_SECONDS}s
        also_eligible: ["@acme/oncall"]
  - name: migration-watch
    if: { action: migrate }
    require: { approvals: 1, approvers: ["@acme/oncall"] }
  - name: hotfix
    if: { action: hotfix, severity: { at_least: high } }
    require: { approvals: 1, approvers: [carol] }
`;
const CODEOWNERS = `* @alice
/payments/ @acme/payments
*.md @acme/docs
`;

/** Patterns that make a backtracking matcher take time growing with a power of the path's length. */
const GLOBS_REPO = 'acme/globs';
const GLOBS_POLICY = `version: 1
rules:
  - name: ends-in-b
    if: { paths: ["*a*a*a*a*b"] }
    require: { approvals: 1, approvers: [carol] }
  - name: terraform
    if: { paths: ["**/*-*-*-*.tf"] }
    require: { approvals: 1, approvers: [carol] }
`;

let world: World;
beforeAll(async () => {
  world = await World.start();
  await world.control.seed({
    teams: [
      { org: 'acme', slug: 'payments', members: ['pia'] },
      { org: 'acme', slug: 'docs', members: ['dan'] },
      { org: 'acme', slug: 'security', members: ['sec'] },
      { org: 'acme', slug: 'oncall', members: ['olga', 'omar'] },
      { org: 'acme', slug: 'dba', members: ['dina'] },
    ],
    repos: [
      {
        owner: 'acme',
        name: 'mono',
        branches: { main: { '.github/jit-approval.yml': POLICY, '.github/CODEOWNERS': CODEOWNERS, 'payments/charge.ts': 'export {};\n', 'README.md': '# Mono\n' } },
        collaborators: { alice: 'admin', pia: 'write', dan: 'write', sec: 'write', carol: 'write', mallory: 'write', olga: 'write', omar: 'write', dina: 'write' },
      },
      {
        owner: 'acme',
        name: 'globs',
        branches: { main: { '.github/jit-approval.yml': GLOBS_POLICY, 'README.md': '# Globs\n' } },
        collaborators: { alice: 'admin', carol: 'write', mallory: 'write' },
      },
    ],
  });
}, 60_000);
afterAll(async () => world?.stop());

const opened = cancelledAfterEach(() => world);

let pulls = 0;
/** A pull request by mallory changing these files, and a job of its pull_request run. */
async function pullRun(files: Record<string, string>, overrides: Partial<RunnerJob> = {}) {
  const head = `change-${++pulls}`;
  const repository = overrides.repository ?? REPO;
  const pr = await world.control.openPull({ repository, user: 'mallory', title: head, head, files });
  const run = job({ repository, ref: `refs/pull/${pr.number}/merge`, sha: pr.merge_sha, event_name: 'pull_request', head_ref: head, base_ref: 'main', ...overrides });
  return { pr, run };
}

async function openPending(run: RunnerJob, body: Record<string, unknown>) {
  const answer = await world.open(run, body);
  expect(answer.body.status).toBe('pending');
  opened.push({ run, id: answer.body.id as string });
  return answer.body;
}

async function vote(pr: number, user: string, body = '/approve') {
  await world.comment(pr, user, body, REPO);
}

describe('`codeowners`: each owned group of changed files needs one of its owners', () => {
  it('a docs owner cannot release a payments change by touching one markdown file', async () => {
    const { pr, run } = await pullRun({ 'payments/charge.ts': 'export const fee = 2;\n', 'payments/README.md': '# Fees\n' });
    const request = await openPending(run, { action: 'deploy', environment: 'production', severity: 'low' });
    await vote(pr.number, 'dan');
    const afterDocs = (await world.poll(run, request.id as string)).body;
    expect(afterDocs).toMatchObject({ status: 'pending', approved_by: ['dan'] });
    const groups = (afterDocs.requirements as Array<{ owner_groups: unknown[] }>)[0].owner_groups;
    expect(groups).toHaveLength(2);
    expect(groups).toEqual(expect.arrayContaining([
      { owners: ['@acme/payments'], patterns: ['/payments/'], covered_by: null },
      { owners: ['@acme/docs'], patterns: ['*.md'], covered_by: 'dan' },
    ]));
    const thread = (await world.control.comments(REPO, pr.number)) as unknown as Array<{ body: string }>;
    expect(thread.find((c) => c.body.includes(`request ${String(request.id)}`))!.body).toContain('⏳ waiting: an owner of `/payments/` (`@acme/payments`)');
    await vote(pr.number, 'pia');
    expect((await world.poll(run, request.id as string)).body).toMatchObject({ status: 'approved', approved_by: ['dan', 'pia'] });
  });
});

describe('a condition escalation adds a requirement', () => {
  it('a critical deploy needs security as well as the code owner', async () => {
    const { pr, run } = await pullRun({ 'payments/charge.ts': 'export const fee = 3;\n' });
    const request = await openPending(run, { action: 'deploy', environment: 'production', severity: 'critical' });
    await vote(pr.number, 'pia');
    expect((await world.poll(run, request.id as string)).body).toMatchObject({ status: 'pending', awaiting: ['1 more from @acme/security'] });
    await vote(pr.number, 'sec');
    expect((await world.poll(run, request.id as string)).body).toMatchObject({ status: 'approved', approved_by: ['pia', 'sec'] });
  });

  it('once the on-call may step in, they still cannot stand in for security', async () => {
    const { pr, run } = await pullRun({ 'payments/charge.ts': 'export const fee = 5;\n' });
    const request = await openPending(run, { action: 'deploy', environment: 'production', severity: 'critical' });
    await vote(pr.number, 'pia');
    const due = await eventually(() => world.poll(run, request.id as string), (answer) => (answer.body.eligible_approvers as string[]).includes('@acme/oncall'), (ONCALL_AFTER_SECONDS + 10) * 1000);
    expect(due.body.eligible_approvers).toContain('@acme/oncall');
    await vote(pr.number, 'olga');
    await vote(pr.number, 'omar');
    const waiting = (await world.poll(run, request.id as string)).body;
    expect(waiting).toMatchObject({ status: 'pending', awaiting: ['1 more from @acme/security'] });
    expect((waiting.requirements as Array<{ approved_by: string[] }>).map((r) => r.approved_by)).toEqual([['pia', 'olga', 'omar'], []]);
    await vote(pr.number, 'sec');
    expect((await world.poll(run, request.id as string)).body).toMatchObject({ status: 'approved', approved_by: ['pia', 'olga', 'omar', 'sec'] });
  });
});

describe('a time escalation counts the approvals already given when it falls due', () => {
  /**
   * Two approvals from @acme/dba, or after a while the on-call in a DBA's place; the on-call also
   * watches every migration. An on-call member approves for the watch and dina for the DBAs before the
   * escalation is due: once it is, the on-call's approval counts for the DBAs too, and nobody needs to
   * vote again. Three such requests wait at once, one for each test.
   */
  const flows: Record<'plain' | 'lostAccess' | 'moved' | 'githubDown', { pr: { number: number }; run: RunnerJob; id: string }> = {} as never;
  beforeAll(async () => {
    const approvedForBoth = async (oncall: string) => {
      const { pr, run } = await pullRun({ [`migrations/${oncall}-${pulls}.sql`]: 'select 1;\n' });
      // Answered as soon as it is evaluated; its check run and thread comment are published meanwhile.
      const { body } = await world.openAsIs(run, { action: 'migrate', environment: 'staging', severity: 'low' });
      expect(body.status).toBe('pending');
      await untilTheSecondAfter(Date.parse(body.created_at as string));
      // Counted once its delivery is answered; the outbox publishing meanwhile is not waited for.
      for (const user of [oncall, 'dina']) {
        await world.control.comment({ repository: REPO, issue_number: pr.number, user, body: '/approve' });
        await world.control.deliveriesIdle();
      }
      return { pr, run, id: body.id as string };
    };
    [flows.plain, flows.lostAccess, flows.moved] = await Promise.all([approvedForBoth('olga'), approvedForBoth('omar'), approvedForBoth('olga')]);
    await world.control.setPermission(REPO, 'omar', 'read');
    // A fourth, due later: GitHub fails the look-ups when it falls due.
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    flows.githubDown = await approvedForBoth('olga');
    await world.control.pushCommit(REPO, { branch: flows.moved.run.head_ref as string, files: { 'migrations/002.sql': 'drop table users;\n' }, author: 'mallory' });
    for (const { run, id } of Object.values(flows)) {
      // Not yet due: had the escalation fired before these votes, dina's would have approved.
      expect((await world.poll(run, id)).body).toMatchObject({ status: 'pending', awaiting: ['1 more from @acme/dba'] });
    }
  }, 60_000);
  afterAll(async () => {
    await world.control.clearFaults();
    await world.control.setPermission(REPO, 'omar', 'write');
    for (const { run, id } of [flows.lostAccess, flows.githubDown]) {
      await world.api('POST', `/api/v1/requests/${id}/cancel`, await world.token(run), { reason: 'job_cancelled' });
    }
  });
  const settled = ({ run, id }: { run: RunnerJob; id: string }) =>
    eventually(async () => ({ answer: (await world.poll(run, id)).body, audit: (await world.audit(id)).map((event) => event.type) }), ({ audit }) => audit.includes('escalated'), (STANDBY_AFTER_SECONDS + 15) * 1000);

  it('approves the request then, without another vote', async () => {
    const { answer, audit } = await settled(flows.plain);
    expect(answer).toMatchObject({ status: 'approved', reason: 'quorum', approved_by: ['olga', 'dina'] });
    expect(audit.slice(-2)).toEqual(['escalated', 'approved']);
  }, 30_000);

  it('looks up the earlier approvers again first: one who lost write access no longer counts', async () => {
    const { answer, audit } = await settled(flows.lostAccess);
    expect(answer).toMatchObject({ status: 'pending' });
    expect(audit.slice(-2)).toEqual(['escalated', 'vote_no_longer_counts']);
    expect((await world.audit(flows.lostAccess.id)).at(-1)!.facts).toMatchObject({ login: 'omar', reason: expect.stringContaining('write') });
  }, 30_000);

  it('escalates on time when GitHub cannot be asked, and approves nothing: the votes count at the next vote', async () => {
    expect(await world.audit(flows.githubDown.id)).not.toContainEqual(expect.objectContaining({ type: 'escalated' }));
    await world.control.fault({ route: '/repos/{owner}/{repo}/collaborators/{username}/permission', status: 500, times: 1_000 });
    const { answer, audit } = await settled(flows.githubDown);
    expect(answer).toMatchObject({ status: 'pending' });
    expect(audit.at(-1)).toBe('escalated');
    await world.control.clearFaults();
  }, 30_000);

  it('does not approve code the pull request no longer holds: a moved head fails the request as superseded', async () => {
    const { answer, audit } = await settled(flows.moved);
    expect(answer).toMatchObject({ status: 'failed', reason: expect.stringContaining(`pull request #${flows.moved.pr.number} has moved on`) });
    expect(audit.slice(-2)).toEqual(['escalated', 'failed']);
  }, 30_000);
});

describe('a step that states no severity meets every severity condition that tightens the gate', () => {
  it('leaving the input out does not dodge the high-severity rule', async () => {
    const { run } = await pullRun({ 'src/x.ts': 'export {};\n' });
    const body = await openPending(run, { action: 'hotfix' });
    expect(body).toMatchObject({ matched_rules: ['hotfix'], severity: null });
    const { body: low } = await world.open((await pullRun({ 'src/y.ts': 'export {};\n' })).run, { action: 'hotfix', severity: 'low' });
    expect(low).toMatchObject({ status: 'approved', reason: 'auto' });
  });

  it('a severity the policy does not list fails closed, whatever the rules read', async () => {
    const { run } = await pullRun({ 'src/z.ts': 'export {};\n' });
    const { body } = await world.open(run, { action: 'lint', severity: 'Critical' });
    expect(body).toMatchObject({ status: 'failed', reason: expect.stringContaining("severity `Critical` is not one of the policy's severities") });
  });
});

describe('environment names ignore case, as GitHub\'s do', () => {
  it('a job in `Production` is gated by the rule for `production`', async () => {
    const { run } = await pullRun({ 'payments/charge.ts': 'export const fee = 4;\n' }, { environment: 'Production' });
    const body = await openPending(run, { action: 'deploy', environment: 'production', severity: 'low' });
    expect(body).toMatchObject({ matched_rules: ['production'], environment: 'Production' });
  });
});

describe('globs run in linear time, whatever the paths a change names', () => {
  /**
   * Paths that make a backtracking matcher try every way of splitting a long run of `a` or `-` among
   * the pattern's stars before failing at the `/`: at 4,000 characters picomatch's regular
   * expressions take well over a minute on each. Git stores a name of any length in a tree, and a
   * push made to attack needs no checkout, so one long name is what an attacker sends; the double
   * enforces no limit on paths, and each stays under the 4,096 bytes of PATH_MAX.
   */
  const worstForB = (length: number) => `${'a'.repeat(length - 2)}/b`;
  const worstForTf = (length: number) => `${'-'.repeat(length - 4)}/.tf`;
  const PATH_LENGTH = 4000;
  /**
   * The lengths grow by doubling, so that a backtracking matcher (whose time grows with the cube or
   * the fourth power of the length) fails the bound within a step or two instead of blocking the
   * process, and this test with it, for hours at 4,000 characters.
   */
  const LENGTHS = [125, 250, 500, 1000, 2000, PATH_LENGTH];
  /** Far more than the engine takes (a few milliseconds), far less than a backtracking matcher would. */
  const PROMPT_MS = 5000;

  /** Opens the request of a pull request changing these files, timing the App's answer alone. */
  async function openTimed(paths: string[]) {
    const { run } = await pullRun(Object.fromEntries(paths.map((path) => [path, 'x\n'])), { repository: GLOBS_REPO });
    const token = await world.token(run);
    const started = performance.now();
    const answer = await world.api('POST', '/api/v1/requests', token, { action: 'deploy', severity: 'low' });
    const elapsedMs = performance.now() - started;
    expect(answer.status).toBe(200);
    if (answer.body.status === 'pending') opened.push({ run, id: answer.body.id as string });
    return { body: answer.body, elapsedMs };
  }

  it('paths built to be worst cases, up to 4,000 characters, match neither pattern: no approval needed, answered at once', async () => {
    for (const length of LENGTHS) {
      const paths = [worstForB(length), worstForTf(length)];
      expect(paths.map((path) => path.length)).toEqual([length, length]);
      const { body, elapsedMs } = await openTimed(paths);
      expect({ length, body }).toMatchObject({ length, body: { status: 'approved', reason: 'auto', matched_rules: [] } });
      if (elapsedMs >= PROMPT_MS) throw new Error(`worst-case paths of ${length} characters took ${elapsedMs.toFixed(0)} ms to answer, over ${PROMPT_MS} ms`);
      expect(await world.checkRunOf(body.id as string, GLOBS_REPO)).toMatchObject({ status: 'completed', conclusion: 'success' });
    }
  });

  it.each([
    ['ends-in-b', `${'a'.repeat(PATH_LENGTH - 1)}b`],
    ['terraform', `${'-'.repeat(PATH_LENGTH - 3)}.tf`],
  ])('beside the worst cases, a 4,000-character path that matches `%s` makes the rule apply, answered at once', async (rule, matching) => {
    expect(matching).toHaveLength(PATH_LENGTH);
    const { body, elapsedMs } = await openTimed([worstForB(PATH_LENGTH), worstForTf(PATH_LENGTH), matching]);
    expect(body).toMatchObject({ status: 'pending', matched_rules: [rule] });
    expect(elapsedMs).toBeLessThan(PROMPT_MS);
    expect(await world.checkRunOf(body.id as string, GLOBS_REPO)).toMatchObject({ status: 'completed', conclusion: 'action_required' });
  });
});
