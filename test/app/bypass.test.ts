/**
 * Ways around the gate, tried as an attacker would, over HTTP against the real App and the GitHub
 * double: each must leave the request waiting (or failed), never approved by someone the policy does
 * not ask for.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { signWebhookBody, type RunnerJob } from '../github-double/index.js';
import { APP_ID, eventually, job, REPO, WEBHOOK_SECRET, World, cancelledAfterEach } from './harness.js';
import { REPLY_JOB } from '../../app/store/store.js';
import { untilTheSecondAfter } from '../whole-seconds.js';

const JOBS = 'acme/jobs';
const JOBS_POLICY = `version: 1
rules:
  - name: staging
    if: { environment: staging }
    auto_approve: true
  - name: production
    if: { environment: production }
    require: { approvals: 1, approvers: [alice] }
`;

const ORG_POLICY = `version: 1
rules:
  - name: org-production
    if: { environment: production }
    require: { approvals: 1, approvers: [alice] }
`;
const TEAM_POLICY = `version: 1
rules:
  - name: production
    if: { environment: production }
    require: { approvals: 2, approvers: ["@acme/leads"] }
`;

let world: World;
beforeAll(async () => {
  world = await World.start({ extendsRepositories: ['acme/policies'] });
  await world.control.seed({
    repos: [
      { owner: 'acme', name: 'jobs', branches: { main: { '.github/jit-approval.yml': JOBS_POLICY } }, collaborators: { alice: 'admin', mallory: 'write' } },
      // Its policy is written by the test: a freeze that ends a few seconds after the request opens.
      { owner: 'acme', name: 'legacy', branches: { main: { 'README.md': '# Legacy\n' } }, collaborators: { alice: 'admin', mallory: 'write' } },
      // Private repositories the App's installation can read, which no policy may name.
      { owner: 'acme', name: 'vault', branches: { main: { 'secrets/prod.env': 'API_KEY=hunter2-production-secret\nDB_PASSWORD=correct-horse\n' } } },
      {
        owner: 'acme',
        name: 'leaky',
        branches: { main: { '.github/jit-approval.yml': 'version: 1\n_extends: vault:secrets/prod.env\n' } },
        collaborators: { mallory: 'admin' },
      },
      {
        owner: 'acme',
        name: 'probe',
        branches: { main: { '.github/jit-approval.yml': 'version: 1\n_extends: no-such-repo:secrets/prod.env\n' } },
        collaborators: { mallory: 'admin' },
      },
      // A repository the operator allows: one file with a problem whose text must stay there, one that is fine.
      {
        owner: 'acme',
        name: 'policies',
        branches: { main: { 'base.yml': 'version: 1\nrules:\n  - name: org\n    if: { branch: "[hunter2-in-a-glob" }\n', 'good.yml': ORG_POLICY.replace('org-production', 'listed-production') } },
      },
      {
        owner: 'acme',
        name: 'allowed-good',
        branches: { main: { '.github/jit-approval.yml': 'version: 1\n_extends: policies:good.yml\n' } },
        collaborators: { alice: 'admin', mallory: 'write' },
      },
      // The owner's own .github repository, which every policy of the owner may extend.
      { owner: 'acme', name: '.github', branches: { main: { '.github/jit-approval.yml': ORG_POLICY } } },
      { owner: 'acme', name: 'child', branches: { main: { '.github/jit-approval.yml': 'version: 1\n_extends: .github\n' } }, collaborators: { alice: 'admin', mallory: 'write' } },
      // Another owner's .github repository is not the owner's: no policy of acme may extend it.
      { owner: 'globex', name: '.github', branches: { main: { '.github/jit-approval.yml': 'version: 1\nrules:\n  - name: all\n    if: {}\n    auto_approve: true\n' } } },
      { owner: 'acme', name: 'foreign', branches: { main: { '.github/jit-approval.yml': 'version: 1\n_extends: globex/.github\n' } }, collaborators: { mallory: 'admin' } },
      // Two approvals from @acme/leads, whose membership decides who may approve.
      { owner: 'acme', name: 'teamed', branches: { main: { '.github/jit-approval.yml': TEAM_POLICY } }, collaborators: { alice: 'admin', bob: 'write', carol: 'write', mallory: 'write' } },
      {
        owner: 'acme',
        name: 'allowed',
        branches: { main: { '.github/jit-approval.yml': 'version: 1\n_extends: policies:base.yml\n' } },
        collaborators: { mallory: 'admin' },
      },
    ],
    teams: [{ org: 'acme', slug: 'leads', members: ['bob', 'carol'] }],
  });
}, 60_000);
afterAll(async () => world?.stop());

const opened = cancelledAfterEach(() => world);

async function openPending(run: RunnerJob, body: Record<string, unknown>) {
  const answer = await world.open(run, body);
  expect(answer.status).toBe(200);
  expect(answer.body.status).toBe('pending');
  opened.push({ run, id: answer.body.id as string });
  return answer.body;
}

async function commentsOn(issueNumber: number) {
  return (await world.control.comments(REPO, issueNumber)) as Array<{ id: number; body: string; user: { login: string } }>;
}

let pulls = 0;
/** A fresh pull request on acme/web (CODEOWNERS `* @alice @bob`) and a job of a pull_request run on it. */
async function pullRun(user = 'mallory', actor = user) {
  const head = `change-${++pulls}`;
  const pr = await world.control.openPull({ repository: REPO, user, title: `Change ${pulls}`, head, files: { [`src/${head}.ts`]: 'export {};\n' } });
  const run = job({ actor, ref: `refs/pull/${pr.number}/merge`, sha: pr.merge_sha, event_name: 'pull_request', head_ref: head, base_ref: 'main' });
  return { pr, run, head };
}

async function idOf(login: string): Promise<string> {
  const { token } = await world.control.repositoryToken(REPO);
  const user = (await (await fetch(`${world.github.apiUrl}/users/${login}`, { headers: { authorization: `Bearer ${token}` } })).json()) as { id: number };
  return String(user.id);
}

describe('a request belongs to one job of one run attempt', () => {
  const runId = 555_000;

  it('a production job never reattaches to the staging job\'s auto-approved request', async () => {
    const staging = job({ repository: JOBS, run_id: runId, job: 'staging', environment: 'staging' });
    const production = job({ repository: JOBS, run_id: runId, job: 'production', environment: 'production' });
    const first = await world.open(staging, { action: 'deploy' });
    expect(first.body).toMatchObject({ status: 'approved', reason: 'auto', environment: 'staging' });
    const second = await world.open(production, { action: 'deploy' });
    expect(second.body).toMatchObject({ status: 'pending', environment: 'production', matched_rules: ['production'] });
    expect(second.body.id).not.toBe(first.body.id);
    opened.push({ run: production, id: second.body.id as string });
  });

  it('also where GitHub gives no check_run_id claim (older servers): the environment keeps the jobs apart', async () => {
    const noClaim = { check_run_id: '' };
    const staging = job({ repository: JOBS, run_id: runId + 1, job: 'staging', environment: 'staging', extra_claims: noClaim });
    const production = job({ repository: JOBS, run_id: runId + 1, job: 'production', environment: 'production', extra_claims: noClaim });
    expect((await world.open(staging, { action: 'deploy' })).body.status).toBe('approved');
    const second = await world.open(production, { action: 'deploy' });
    expect(second.body).toMatchObject({ status: 'pending', environment: 'production' });
    opened.push({ run: production, id: second.body.id as string });
  });

  it('a step reattaching with other facts is refused with 409, never answered with the other decision', async () => {
    // No `environment:` on the job: the step's input is the environment, and the token's check run keeps the key.
    const run = job({ repository: JOBS, run_id: runId + 2 });
    const withoutTimeout = { action: 'deploy', environment: 'production', severity: 'high', summary: 'ship v1' };
    const facts = { ...withoutTimeout, timeout_seconds: 600 };
    const first = await openPending(run, facts);
    expect((await world.open(run, facts)).body.id).toBe(first.id);
    // Environment names ignore case, as on GitHub: the same step.
    expect((await world.open(run, { ...facts, environment: 'PRODUCTION' })).body.id).toBe(first.id);
    for (const [other, difference] of [
      [{ ...facts, severity: 'low' }, 'severity "low" (the request has "high")'],
      [{ ...facts, summary: 'something else' }, 'a different summary'],
      // staging is auto-approved: answering with the production request's state, or opening a new one, would be wrong either way.
      [{ ...facts, environment: 'staging' }, 'environment "staging" (the request has "production")'],
      [withoutTimeout, 'timeout unset (the request has 600)'],
      [{ ...facts, timeout_seconds: 60 }, 'timeout 60 (the request has 600)'],
    ] as const) {
      const conflict = await world.open(run, other);
      expect({ status: conflict.status, code: conflict.body.error?.code }).toEqual({ status: 409, code: 'request_conflict' });
      expect(conflict.body.error?.message).toContain(`request ${String(first.id)} for \`deploy\` in this run attempt was opened with other facts; this step sends ${difference}.`);
    }
    expect((await world.poll(run, first.id as string)).body).toMatchObject({ status: 'pending', environment: 'production', severity: 'high' });
  });

  it('another attempt of the same run opens its own request', async () => {
    const run = job({ repository: JOBS, run_id: runId + 3, environment: 'production' });
    const first = await openPending(run, { action: 'deploy' });
    const retry = await openPending({ ...run, run_attempt: 2 }, { action: 'deploy' });
    expect(retry.id).not.toBe(first.id);
  });
});

describe('whoever re-ran a run asked for its deploy too', () => {
  // GitHub's token names who started the first attempt; who pressed Re-run is read from GitHub.
  const runId = 556_000;

  it('an approver who re-ran someone else\'s run may not approve the re-run', async () => {
    const rerun = job({ repository: JOBS, run_id: runId, run_attempt: 2, actor: 'mallory', triggering_actor: 'alice', environment: 'production' });
    const request = await openPending(rerun, { action: 'deploy' });
    const issue = await world.issueOf(request.id as string, JOBS);
    expect(issue?.body).toContain('not @mallory, who started the run, nor @alice, who re-ran the run');
    await world.comment(issue!.number, 'alice', '/approve', JOBS);
    const replies = (await world.control.comments(JOBS, issue!.number)) as unknown as Array<{ body: string }>;
    expect(replies.map((c) => c.body).join('\n')).toContain('@alice re-ran the run and may not approve it (self-approval is not allowed)');
    expect((await world.poll(rerun, request.id as string)).body).toMatchObject({ status: 'pending', approved_by: [] });
  });

  it("a person's re-run of the release bot's run is a person's deploy: `unless: { actor: release-bot }` does not waive it", async () => {
    const released = 'acme/released';
    const policy = 'version: 1\nrules:\n  - name: production\n    if: { environment: production }\n    unless: { actor: release-bot }\n    require: { approvals: 1, approvers: [alice] }\n';
    await world.control.seed({ repos: [{ owner: 'acme', name: 'released', branches: { main: { '.github/jit-approval.yml': policy } }, collaborators: { alice: 'admin', mallory: 'write' } }] });
    const bots = job({ repository: released, run_id: runId + 10, actor: 'release-bot', environment: 'production' });
    expect((await world.open(bots, { action: 'deploy' })).body).toMatchObject({ status: 'approved', reason: 'auto' });
    const rerun = await openPending({ ...bots, run_attempt: 2, triggering_actor: 'mallory' }, { action: 'deploy' });
    expect(rerun).toMatchObject({ matched_rules: ['production'], eligible_approvers: ['@alice'] });
  });

  it('a re-run by whoever started the run leaves the approver free to approve', async () => {
    const rerun = job({ repository: JOBS, run_id: runId + 1, run_attempt: 3, actor: 'mallory', environment: 'production' });
    const request = await openPending(rerun, { action: 'deploy' });
    const issue = await world.issueOf(request.id as string, JOBS);
    await world.comment(issue!.number, 'alice', '/approve', JOBS);
    expect((await world.poll(rerun, request.id as string)).body).toMatchObject({ status: 'approved', approved_by: ['alice'] });
    opened.splice(opened.findIndex((o) => o.id === request.id), 1);
  });

  it('a request stored before its requesters were kept still names who started the run when it is decided again', async () => {
    const at = (ms: number) => new Date(Date.now() + ms).toISOString().slice(0, 19);
    const policy = [
      'version: 1',
      'rules:',
      '  - name: all',
      '    if: {}',
      '    require: { approvals: 1, approvers: [alice, mallory] }',
      'freezes:',
      '  - name: brief',
      '    time_zone: UTC',
      `    start: ${at(-3_600_000)}`,
      `    end: ${at(6_000)}`,
    ].join('\n');
    await world.control.pushCommit('acme/legacy', { branch: 'main', files: { '.github/jit-approval.yml': `${policy}\n` } });
    const run = job({ repository: 'acme/legacy', actor: 'mallory' });
    const request = await openPending(run, { action: 'deploy' });
    // As an older version stored it: no requesters in its facts.
    const row = (await world.app.store.getRequest(request.id as string))!;
    const { requesters: _, ...facts } = row.facts as { requesters?: unknown };
    await world.app.store.updateRequest(row.id, { facts });
    // The freeze ends and the request is decided again.
    await eventually(async () => (await world.app.store.getRequest(row.id))!.decision as { outcome?: string } | null, (decision) => decision?.outcome === 'approval_required', 20_000);
    const issue = await eventually(() => world.issueOf(row.id, 'acme/legacy'), (found) => found !== undefined);
    await world.comment(issue!.number, 'mallory', '/approve', 'acme/legacy');
    const replies = (await world.control.comments('acme/legacy', issue!.number)) as unknown as Array<{ body: string }>;
    expect(replies.map((c) => c.body).join('\n')).toContain('@mallory started the run and may not approve it');
    expect((await world.poll(run, row.id)).body).toMatchObject({ status: 'pending', approved_by: [] });
  }, 60_000);

  it('an installation that may not read runs fails a re-run closed, saying what to grant', async () => {
    await world.control.seed({
      repos: [{ owner: 'narrowco', name: 'app', branches: { main: { '.github/jit-approval.yml': JOBS_POLICY } }, collaborators: { alice: 'admin' } }],
      installations: [{ appId: APP_ID, account: 'narrowco', permissions: { checks: 'write', issues: 'write', pull_requests: 'write', contents: 'read', metadata: 'read', members: 'read' } }],
    });
    const rerun = job({ repository: 'narrowco/app', run_id: runId + 3, run_attempt: 2, actor: 'mallory', triggering_actor: 'alice', environment: 'production' });
    const answer = await world.open(rerun, { action: 'deploy' });
    expect(answer.body).toMatchObject({
      status: 'failed',
      reason: `the App may not read attempt 2 of run ${runId + 3} to learn who re-ran it: grant the App's installation the Actions (read) permission it asks for`,
    });
  });

  it('an attempt GitHub does not know fails closed, naming it', async () => {
    // A token the issuer signed for attempt 4 of a run whose attempts it never saw (its claims given verbatim).
    const unknown = job({ repository: JOBS, run_id: runId + 2, environment: 'production', extra_claims: { run_attempt: '4' } });
    const answer = await world.open(unknown, { action: 'deploy' });
    expect(answer.body).toMatchObject({ status: 'failed', reason: `GitHub does not know attempt 4 of run ${runId + 2}, so who started it (and may not approve it) is unknown` });
  });
});

describe('whoever wrote the code a run ships asked for its deploy too', () => {
  // alice or carol may approve production: carol approves the deploys the next ones are compared with.
  const SHIPPED = 'acme/shipped';
  beforeAll(async () => {
    const policy = JOBS_POLICY.replace('approvers: [alice]', 'approvers: [alice, carol]');
    await world.control.seed({ repos: [{ owner: 'acme', name: 'shipped', branches: { main: { '.github/jit-approval.yml': policy } }, collaborators: { alice: 'admin', carol: 'write', mallory: 'write' } }] });
  });

  it('the author of a merged pull request may not approve the deploy that its merge started', async () => {
    // alice opens a pull request and mallory merges it: the push run is mallory's, the code alice's.
    const pr = await world.control.openPull({ repository: SHIPPED, user: 'alice', title: 'Ship it', head: 'ship-it', files: { 'src/ship.ts': 'export const shipped = true;\n' } });
    const { sha } = await world.control.mergePull({ repository: SHIPPED, number: pr.number, user: 'mallory' });
    const run = job({ repository: SHIPPED, actor: 'mallory', sha, environment: 'production' });
    const request = await openPending(run, { action: 'deploy' });
    const issue = await world.issueOf(request.id as string, SHIPPED);
    expect(issue?.body).toContain('not @mallory, who started the run, nor @alice, who opened a pull request the run ships');
    await world.comment(issue!.number, 'alice', '/approve', SHIPPED);
    const replies = (await world.control.comments(SHIPPED, issue!.number)) as unknown as Array<{ body: string }>;
    expect(replies.map((c) => c.body).join('\n')).toContain('@alice opened a pull request the run ships and may not approve it (self-approval is not allowed)');
    expect((await world.poll(run, request.id as string)).body).toMatchObject({ status: 'pending', approved_by: [] });
  });

  it.each([
    ['a commit pushed on top of the merge, since the last approved deploy', 'push'],
    ['the merge commit, in a run of an event that can run other code', 'deployment_status'],
  ])('nor may they approve a deploy of %s', async (_case, event) => {
    // An approved deploy of main's head: what the next deploy is compared with.
    const approvedRun = job({ repository: SHIPPED, actor: 'mallory', environment: 'production' });
    const approved = await openPending(approvedRun, { action: 'deploy' });
    await world.comment((await world.issueOf(approved.id as string, SHIPPED))!.number, 'carol', '/approve', SHIPPED);
    expect((await world.poll(approvedRun, approved.id as string)).body).toMatchObject({ status: 'approved' });
    opened.splice(opened.findIndex((o) => o.id === approved.id), 1);
    const pr = await world.control.openPull({ repository: SHIPPED, user: 'alice', title: `Ship ${event}`, head: `ship-${event}`, files: { [`src/${event}.ts`]: 'export const shipped = true;\n' } });
    const merged = await world.control.mergePull({ repository: SHIPPED, number: pr.number, user: 'mallory' });
    const sha = event === 'push' ? (await world.control.pushCommit(SHIPPED, { branch: 'main', files: { VERSION: `${pr.number}\n` }, author: 'mallory' })).sha : merged.sha;
    const run = job({ repository: SHIPPED, actor: 'mallory', sha, environment: 'production', event_name: event });
    const request = await openPending(run, { action: 'deploy' });
    const issue = await world.issueOf(request.id as string, SHIPPED);
    expect(issue?.body).toContain('not @mallory, who started the run, nor @alice, who opened a pull request the run ships');
    await world.comment(issue!.number, 'alice', '/approve', SHIPPED);
    expect((await world.poll(run, request.id as string)).body).toMatchObject({ status: 'pending', approved_by: [] });
  });

  it('nor may the author of the pull request a merge queue entry is for approve its run', async () => {
    // alice's pull request enters the merge queue (mallory queued it): the entry's run ships her code, not merged yet.
    const pr = await world.control.openPull({ repository: SHIPPED, user: 'alice', title: 'Queued', head: 'queued', files: { 'src/queued.ts': 'export const queued = true;\n' } });
    const run = job({ repository: SHIPPED, actor: 'mallory', ref: `refs/heads/gh-readonly-queue/main/pr-${pr.number}-${pr.head_sha}`, sha: pr.merge_sha, environment: 'production', event_name: 'merge_group' });
    const request = await openPending(run, { action: 'deploy' });
    const issue = await world.issueOf(request.id as string, SHIPPED);
    expect(issue?.body).toContain('not @mallory, who started the run, nor @alice, who opened a pull request the run ships');
    await world.comment(issue!.number, 'alice', '/approve', SHIPPED);
    expect((await world.poll(run, request.id as string)).body).toMatchObject({ status: 'pending', approved_by: [] });
  });

  it('nor may they approve the push run GitHub also starts on the merge queue entry\'s branch', async () => {
    // Creating the entry's branch is a push too: its run ships the same unmerged code of alice's.
    const pr = await world.control.openPull({ repository: SHIPPED, user: 'alice', title: 'Queued push', head: 'queued-push', files: { 'src/queued-push.ts': 'export const queued = true;\n' } });
    const run = job({ repository: SHIPPED, actor: 'mallory', ref: `refs/heads/gh-readonly-queue/main/pr-${pr.number}-${pr.head_sha}`, sha: pr.merge_sha, environment: 'production', event_name: 'push' });
    const request = await openPending(run, { action: 'deploy' });
    const issue = await world.issueOf(request.id as string, SHIPPED);
    await world.comment(issue!.number, 'alice', '/approve', SHIPPED);
    expect((await world.poll(run, request.id as string)).body).toMatchObject({ status: 'pending', approved_by: [] });
    expect(issue?.body).toContain('not @mallory, who started the run, nor @alice, who opened a pull request the run ships');
  });

  it("a merge queue entry's run merges into its base: a rule for what merges into main applies to it", async () => {
    const queued = 'acme/queued';
    const policy = 'version: 1\nrules:\n  - name: into-main\n    if: { target_branch: main }\n    require: { approvals: 1, approvers: [alice] }\n';
    await world.control.seed({ repos: [{ owner: 'acme', name: 'queued', branches: { main: { '.github/jit-approval.yml': policy } }, collaborators: { alice: 'admin', mallory: 'write' } }] });
    const pr = await world.control.openPull({ repository: queued, user: 'mallory', title: 'Queued', head: 'queued', files: { 'src/queued.ts': 'export const queued = true;\n' } });
    const run = job({ repository: queued, actor: 'mallory', ref: `refs/heads/gh-readonly-queue/main/pr-${pr.number}-${pr.head_sha}`, sha: pr.merge_sha, environment: 'production', event_name: 'merge_group' });
    expect(await openPending(run, { action: 'deploy' })).toMatchObject({ matched_rules: ['into-main'], eligible_approvers: ['@alice'] });
  });

  it('an installation that may not read pull requests fails a push run closed, saying what to grant', async () => {
    await world.control.seed({
      repos: [{ owner: 'prless', name: 'app', branches: { main: { '.github/jit-approval.yml': JOBS_POLICY } }, collaborators: { alice: 'admin' } }],
      installations: [{ appId: APP_ID, account: 'prless', permissions: { checks: 'write', issues: 'write', contents: 'read', metadata: 'read', members: 'read', actions: 'read' } }],
    });
    const run = job({ repository: 'prless/app', actor: 'mallory', environment: 'production' });
    const answer = await world.open(run, { action: 'deploy' });
    expect(answer.body).toMatchObject({ status: 'failed', reason: expect.stringMatching(/^the App may not read which pull request brought in commit [0-9a-f]{7}, to learn who wrote it: grant the App's installation the Pull requests \(read\) permission it asks for$/) });
  });
});

describe('_extends reads only what the App\'s operator allows, and never quotes another repository', () => {
  it('refuses another private repository without reading it, with the same message as a missing one', async () => {
    const leaky = await world.open(job({ repository: 'acme/leaky', actor: 'mallory' }), { action: 'deploy' });
    expect(leaky.body).toMatchObject({ status: 'failed' });
    const text = JSON.stringify(leaky.body) + JSON.stringify(await world.checkRunOf(leaky.body.id as string, 'acme/leaky'));
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('API_KEY');
    // The App did not even ask GitHub for it.
    const exchanges = (await world.control.exchanges()) as Array<{ request?: { params?: Record<string, string> } }>;
    expect(exchanges.filter((e) => e.request?.params?.repo === 'vault')).toEqual([]);

    const probe = await world.open(job({ repository: 'acme/probe', actor: 'mallory' }), { action: 'deploy' });
    const message = (body: Record<string, unknown>, name: string) => (body.problems as string[])[0].replace(name, 'X');
    expect(message(leaky.body, 'vault')).toBe(message(probe.body, 'no-such-repo'));
    expect((leaky.body.problems as string[])[0]).toContain('is not one it may extend');
  });

  it('reports a problem in an allowed repository\'s file by place only', async () => {
    const allowed = await world.open(job({ repository: 'acme/allowed', actor: 'mallory' }), { action: 'deploy' });
    expect(allowed.body.status).toBe('failed');
    expect(allowed.body.problems).toEqual([
      'acme/policies:base.yml:4:19: this file of another repository has a problem here; its text is not shown in this repository (check it with `mercurial-jit validate` there)',
    ]);
    expect(JSON.stringify(allowed.body)).not.toContain('hunter2');
  });

  it('loads the owner\'s .github repository, and a repository the operator lists', async () => {
    const child = await openPending(job({ repository: 'acme/child' }), { action: 'deploy', environment: 'production' });
    expect(child).toMatchObject({ matched_rules: ['org-production'], eligible_approvers: ['@alice'] });
    const listed = await openPending(job({ repository: 'acme/allowed-good' }), { action: 'deploy', environment: 'production' });
    expect(listed).toMatchObject({ matched_rules: ['listed-production'], eligible_approvers: ['@alice'] });
  });

  it('reads the owner\'s .github policy at its default branch\'s head commit, once per commit', async () => {
    type Read = { method: string; route: string; request: { params: Record<string, string>; query: Record<string, string | string[]> } };
    // A new commit of the org's repository, so its files have not been read at its head yet.
    const { sha } = await world.control.pushCommit('acme/.github', { branch: 'main', files: { 'README.md': '# Org defaults\n' } });
    const since = await world.control.exchangeMark();
    for (let i = 0; i < 2; i++) expect(await openPending(job({ repository: 'acme/child' }), { action: 'deploy', environment: 'production' })).toMatchObject({ matched_rules: ['org-production'] });
    const orgReads = ((await world.control.exchanges(since)) as Read[])
      .filter((e) => e.method === 'GET' && e.route === '/repos/{owner}/{repo}/contents/{path}' && e.request.params.repo === '.github');
    // A commit, never the branch's name (which a tag of that name could be read for); the second request reads nothing.
    expect(orgReads.map((e) => e.request.query.ref)).toEqual([sha]);
  });

  it('refuses another owner\'s .github repository without reading it', async () => {
    await world.control.resetRequestCounts();
    const foreign = await world.open(job({ repository: 'acme/foreign' }), { action: 'deploy' });
    expect(foreign.body).toMatchObject({ status: 'failed', approved_by: [] });
    expect(foreign.body.problems).toEqual([
      '.github/jit-approval.yml:2:11: _extends names globex/.github:.github/jit-approval.yml, which does not exist, cannot be read by the App, or is not one it may extend (the owner\'s .github repository, or one the App\'s operator allows)',
    ]);
    const exchanges = (await world.control.exchanges()) as Array<{ request?: { params?: Record<string, string> } }>;
    expect(exchanges.filter((e) => e.request?.params?.owner?.toLowerCase() === 'globex')).toEqual([]);
  });
});

describe('a change cannot weaken its own gate', () => {
  it('a pull request whose head loosens the policy and CODEOWNERS is judged by the default branch\'s', async () => {
    const head = `loosen-${++pulls}`;
    const pr = await world.control.openPull({
      repository: REPO,
      user: 'mallory',
      title: 'Loosen the gate',
      head,
      files: {
        '.github/jit-approval.yml': 'version: 1\nrules:\n  - name: everything\n    if: {}\n    auto_approve: true\n',
        '.github/CODEOWNERS': '* @carol\n',
      },
    });
    const run = job({ ref: `refs/pull/${pr.number}/merge`, sha: pr.merge_sha, event_name: 'pull_request', head_ref: head, base_ref: 'main' });
    const request = await openPending(run, { action: 'deploy', environment: 'production' });
    expect(request).toMatchObject({ matched_rules: ['production'], eligible_approvers: ['@alice', '@bob'] });
    // carol owns everything only on the pull request's branch.
    await world.comment(pr.number, 'carol', '/approve');
    expect((await commentsOn(pr.number)).at(-1)!.body).toContain('@carol is not a code owner of the changed files');
    expect((await world.poll(run, request.id as string)).body).toMatchObject({ status: 'pending', approved_by: [] });
  });
});

describe("a fork's branch is not this repository's branch of the same name", () => {
  // Staging deploys from main go through; anything else asks alice.
  const FORKED = 'acme/forked';
  beforeAll(async () => {
    const policy = 'version: 1\nunmatched: require\ndefaults: { approvers: [alice] }\nrules:\n  - name: main-to-staging\n    if: { environment: staging, branch: main }\n    auto_approve: true\n';
    await world.control.seed({ repos: [{ owner: 'acme', name: 'forked', branches: { main: { '.github/jit-approval.yml': policy, 'src/app.ts': 'export {};\n' } }, collaborators: { alice: 'admin' } }] });
  });

  it("a pull request from a fork's main is judged as the fork's branch, never as main", async () => {
    const { full_name: fork } = await world.control.fork(FORKED, 'mallory');
    const pr = await world.control.openPull({ repository: FORKED, user: 'mallory', title: 'Tidy', head: 'main', head_repository: fork, files: { 'src/app.ts': 'export const backdoor = 1;\n' } });
    const run = job({ repository: FORKED, ref: `refs/pull/${pr.number}/merge`, sha: pr.merge_sha, event_name: 'pull_request', head_ref: 'main', base_ref: 'main', environment: 'staging', actor: 'mallory' });
    const request = await openPending(run, { action: 'deploy' });
    expect(request).toMatchObject({ matched_rules: [] });
    const { body } = await world.poll(run, request.id as string);
    expect(body).toMatchObject({ status: 'pending' });
    const stored = await world.app.store.getRequest(request.id as string);
    expect((stored!.facts as { evaluated?: { branch?: string } }).evaluated?.branch).toBe('mallory:main');
  });

  it('a pull request from main into a branch of unreviewed commits is not judged as main: its merge ships that branch too', async () => {
    await world.control.pushCommit(FORKED, { branch: 'evil', files: { 'src/app.ts': 'export const backdoor = 1;\n' }, author: 'mallory' });
    await world.control.pushCommit(FORKED, { branch: 'main', files: { 'docs/a.md': 'a\n' }, author: 'alice' });
    const pr = await world.control.openPull({ repository: FORKED, user: 'mallory', title: 'Sync main', head: 'main', base: 'evil' });
    const run = job({ repository: FORKED, ref: `refs/pull/${pr.number}/merge`, sha: pr.merge_sha, event_name: 'pull_request', head_ref: 'main', base_ref: 'evil', environment: 'staging', actor: 'mallory' });
    const request = await openPending(run, { action: 'deploy' });
    expect(request).toMatchObject({ matched_rules: [] });
    const stored = await world.app.store.getRequest(request.id as string);
    expect((stored!.facts as { evaluated?: Record<string, unknown> }).evaluated).toMatchObject({ branch: 'main', unapprovedBase: 'evil', changedFiles: expect.arrayContaining(['src/app.ts']) });
  });

  it("a pull request from main into a branch of unreviewed commits does not get a lighter rule for main's deploys in place of the defaults", async () => {
    const LIGHTER = 'acme/lighter';
    const policy = 'version: 1\nunmatched: require\ndefaults: { approvals: 2, approvers: [alice, bob, carol] }\nrules:\n  - name: main-to-production\n    if: { environment: production, branch: main }\n    require: { approvals: 1, approvers: [alice, bob, carol] }\n';
    await world.control.seed({ repos: [{ owner: 'acme', name: 'lighter', branches: { main: { '.github/jit-approval.yml': policy, 'src/app.ts': 'export {};\n' } }, collaborators: { alice: 'admin', bob: 'write', carol: 'write', mallory: 'write' } }] });
    await world.control.pushCommit(LIGHTER, { branch: 'evil', files: { 'src/app.ts': 'export const backdoor = 1;\n' }, author: 'mallory' });
    await world.control.pushCommit(LIGHTER, { branch: 'main', files: { 'docs/a.md': 'a\n' }, author: 'alice' });
    const pr = await world.control.openPull({ repository: LIGHTER, user: 'mallory', title: 'Sync main', head: 'main', base: 'evil' });
    const run = job({ repository: LIGHTER, ref: `refs/pull/${pr.number}/merge`, sha: pr.merge_sha, event_name: 'pull_request', head_ref: 'main', base_ref: 'evil', environment: 'production', actor: 'mallory' });
    const request = await openPending(run, { action: 'deploy' });
    expect(request).toMatchObject({ matched_rules: ['main-to-production'], approvals_required: 2 });
    await world.comment(pr.number, 'bob', '/approve', LIGHTER);
    expect((await world.poll(run, request.id as string)).body).toMatchObject({ status: 'pending', approved_by: ['bob'] });
  });
});

describe("a pull request's required check answers for requests into its own base branch only", () => {
  const RELEASE = 'acme/release';
  beforeAll(async () => {
    const policy = 'version: 1\nrules:\n  - name: release\n    if: { target_branch: main }\n    require: { approvals: 1, approvers: [alice] }\n';
    await world.control.seed({ repos: [{ owner: 'acme', name: 'release', branches: { main: { '.github/jit-approval.yml': policy }, dev: { 'README.md': '# dev\n' } }, collaborators: { alice: 'admin', mallory: 'write' } }] });
  });

  it('a request about the same head commit and other facts never puts a green check of the same name on it', async () => {
    const toMain = await world.control.openPull({ repository: RELEASE, user: 'mallory', title: 'Release', head: 'feat', base: 'main', files: { 'src/x.ts': 'export const x = 1;\n' } });
    const mainRun = job({ repository: RELEASE, ref: `refs/pull/${toMain.number}/merge`, sha: toMain.merge_sha, event_name: 'pull_request', head_ref: 'feat', base_ref: 'main' });
    await openPending(mainRun, { action: 'deploy' });
    // The same head into dev, which the policy lets through, and a push run of the head branch itself.
    const toDev = await world.control.openPull({ repository: RELEASE, user: 'mallory', title: 'Release to dev', head: 'feat', base: 'dev' });
    const devRun = job({ repository: RELEASE, ref: `refs/pull/${toDev.number}/merge`, sha: toDev.merge_sha, event_name: 'pull_request', head_ref: 'feat', base_ref: 'dev' });
    expect((await world.open(devRun, { action: 'deploy' })).body.status).toBe('approved');
    const pushRun = job({ repository: RELEASE, ref: 'refs/heads/feat', sha: toMain.head_sha, event_name: 'push' });
    expect((await world.open(pushRun, { action: 'deploy' })).body.status).toBe('approved');
    await world.settle();
    const onHead = ((await world.control.checkRuns(RELEASE)) as unknown as Array<{ id: number; name: string; head_sha: string; conclusion: string }>).filter((r) => r.head_sha === toMain.head_sha);
    // What main's rules require, the newest check of that name on the head: still waiting for alice.
    const newest = (name: string) => onHead.filter((r) => r.name === name).sort((a, b) => b.id - a.id)[0]?.conclusion;
    expect(newest('jit: deploy (into main)')).toBe('action_required');
    expect(newest('jit: deploy (into dev)')).toBe('success');
    expect(newest('jit: deploy')).toBe('success');
  });

  it('another job of the run, stating another environment or severity, never puts a green check of the same name on it', async () => {
    const GATED = 'acme/gated-jobs';
    const policy = 'version: 1\nseverities: [low, high]\nrules:\n  - name: production\n    if: { environment: production, severity: high }\n    require: { approvals: 1, approvers: [alice] }\n';
    await world.control.seed({ repos: [{ owner: 'acme', name: 'gated-jobs', branches: { main: { '.github/jit-approval.yml': policy } }, collaborators: { alice: 'admin', mallory: 'write' } }] });
    const pr = await world.control.openPull({ repository: GATED, user: 'mallory', title: 'Sneaky', head: 'sneaky', files: { 'src/evil.ts': 'export const evil = 1;\n' } });
    const onPull = { repository: GATED, ref: `refs/pull/${pr.number}/merge`, sha: pr.merge_sha, event_name: 'pull_request', head_ref: 'sneaky', base_ref: 'main', actor: 'mallory', run_id: 990_001 };
    const production = job({ ...onPull, job: 'deploy-prod', environment: 'production' });
    const gated = await openPending(production, { action: 'deploy', severity: 'high' });
    await world.comment(pr.number, 'alice', '/reject not this', GATED);
    expect((await world.poll(production, gated.id as string)).body.status).toBe('rejected');
    // mallory's pull request adds jobs the policy lets through: a preview deploy, and the same environment at a lower severity.
    for (const [name, environment, severity] of [['deploy-preview', 'preview', 'high'], ['deploy-prod-low', 'production', 'low'], ['deploy-quoted', 'production, severity high', undefined]] as const) {
      const other = job({ ...onPull, job: name, environment });
      expect((await world.open(other, { action: 'deploy', ...(severity ? { severity } : {}) })).body.status).toBe('approved');
    }
    await world.settle();
    const onHead = ((await world.control.checkRuns(GATED)) as unknown as Array<{ id: number; name: string; head_sha: string; conclusion: string }>).filter((r) => r.head_sha === pr.head_sha);
    const named = onHead.filter((r) => r.name === 'jit: deploy to production, severity high (into main)');
    expect(named.map((r) => r.conclusion)).toEqual(['failure']);
    expect(onHead).toHaveLength(4);
  }, 60_000);

  it("an older request's green check, shown again by its Re-run button, does not pass for the newest of its name", async () => {
    const RERUN = 'acme/rerun-check';
    const policy = 'version: 1\nrules:\n  - name: production\n    if: { environment: production }\n    require: { approvals: 1, approvers: [alice] }\n';
    await world.control.seed({ repos: [{ owner: 'acme', name: 'rerun-check', branches: { main: { '.github/jit-approval.yml': policy } }, collaborators: { alice: 'admin', mallory: 'write' } }] });
    const pr = await world.control.openPull({ repository: RERUN, user: 'mallory', title: 'Fix', head: 'fix', files: { 'src/fix.ts': 'export const fix = 1;\n' } });
    const onPull = { repository: RERUN, ref: `refs/pull/${pr.number}/merge`, sha: pr.merge_sha, event_name: 'pull_request', head_ref: 'fix', base_ref: 'main', actor: 'mallory', environment: 'production', run_id: 992_001 };
    const first = job(onPull);
    const approved = await openPending(first, { action: 'deploy' });
    await world.comment(pr.number, 'alice', '/approve', RERUN);
    expect((await world.poll(first, approved.id as string)).body.status).toBe('approved');
    await world.settle();
    // mallory re-runs the run; its request waits for alice again. Then she clicks Re-run on the first attempt's green check.
    const second = job({ ...onPull, run_attempt: 2 });
    await openPending(second, { action: 'deploy' });
    await world.settle();
    const name = 'jit: deploy to production (into main)';
    const onHead = ((await world.control.checkRuns(RERUN)) as unknown as Array<{ id: number; name: string; head_sha: string; external_id: string }>).filter((r) => r.head_sha === pr.head_sha && r.name === name);
    const green = onHead.find((r) => r.external_id === approved.id)!;
    await untilTheSecondAfter(Date.now());
    await world.control.rerunCheckRun({ repository: RERUN, check_run_id: green.id, user: 'mallory' });
    await world.settle();
    // What a required check reads: the latest check run of the name on the head, by GitHub's `filter=latest`.
    const { token } = await world.control.repositoryToken(RERUN);
    const listed = await fetch(`${world.github.apiUrl}/repos/${RERUN}/commits/${pr.head_sha}/check-runs?check_name=${encodeURIComponent(name)}`, { headers: { authorization: `Bearer ${token}` } });
    const { check_runs: latest } = (await listed.json()) as { check_runs: Array<{ external_id: string; conclusion: string }> };
    expect(latest).toHaveLength(1);
    expect(latest[0]!.conclusion).toBe('action_required');
  });

  it("a run of the pull request for another event (mallory's own review) never puts a green check of the same name on it", async () => {
    const EVENTED = 'acme/evented';
    const policy = 'version: 1\nrules:\n  - name: pr-production\n    if: { environment: production, event: pull_request }\n    require: { approvals: 1, approvers: [alice] }\n';
    await world.control.seed({ repos: [{ owner: 'acme', name: 'evented', branches: { main: { '.github/jit-approval.yml': policy } }, collaborators: { alice: 'admin', mallory: 'write' } }] });
    const pr = await world.control.openPull({ repository: EVENTED, user: 'mallory', title: 'Sneaky', head: 'sneaky', files: { 'src/evil.ts': 'export const evil = 1;\n' } });
    const onPull = { repository: EVENTED, ref: `refs/pull/${pr.number}/merge`, sha: pr.merge_sha, head_ref: 'sneaky', base_ref: 'main', actor: 'mallory', environment: 'production' };
    const gatedRun = job({ ...onPull, event_name: 'pull_request', run_id: 991_001 });
    const gated = await openPending(gatedRun, { action: 'deploy' });
    await world.comment(pr.number, 'alice', '/reject not this', EVENTED);
    expect((await world.poll(gatedRun, gated.id as string)).body.status).toBe('rejected');
    // Her pull request's workflow also runs on pull_request_review, which the policy lets through: she reviews her own pull request.
    const reviewRun = job({ ...onPull, event_name: 'pull_request_review', run_id: 991_002 });
    expect((await world.open(reviewRun, { action: 'deploy' })).body.status).toBe('approved');
    await world.settle();
    const onHead = ((await world.control.checkRuns(EVENTED)) as unknown as Array<{ id: number; name: string; head_sha: string; conclusion: string }>).filter((r) => r.head_sha === pr.head_sha);
    expect(onHead.map((r) => [r.name, r.conclusion]).sort()).toEqual([
      ['jit: deploy to production (into main)', 'failure'],
      ['jit: deploy to production (into main, on pull_request_review)', 'success'],
    ]);
  });
});

describe("a renamed repository's old name, taken by another repository, decides nothing about its requests", () => {
  const at = (ms: number) => new Date(Date.now() + ms).toISOString().slice(0, 19);

  /** mallory, who may create repositories in the org, takes the old name and pushes the original's history with a policy of her own. */
  function squat(original: string, renamed: string, policy: string) {
    const { state } = world.github.double;
    const source = state.repoByFullName(renamed);
    const [owner, name] = original.split('/');
    const taken = state.addRepo({ owner: owner!, name: name!, collaborators: { mallory: 'admin' } });
    for (const [sha, commit] of source.commits) taken.commits.set(sha, commit);
    taken.branches.set('main', source.branches.get('main')!);
    taken.activities.push(...source.activities);
    state.commit(taken, 'main', { '.github/jit-approval.yml': policy }, 'mine now', 'mallory');
    expect(taken.id).not.toBe(source.id);
  }

  it('a held request decided again after a rename the App never heard of fails, rather than taking the policy of the repository now at its old name', async () => {
    const policy = `version: 1\nrules:\n  - name: production\n    if: {}\n    require: { approvals: 1, approvers: [alice] }\nfreezes:\n  - name: brief\n    time_zone: UTC\n    start: ${at(-3_600_000)}\n    end: ${at(8_000)}\n`;
    await world.control.seed({ repos: [{ owner: 'acme', name: 'held-deploys', branches: { main: { '.github/jit-approval.yml': policy } }, collaborators: { alice: 'admin', mallory: 'write' } }] });
    const run = job({ repository: 'acme/held-deploys', actor: 'mallory', environment: 'production' });
    const opened = await openPending(run, { action: 'deploy' });
    expect((await world.app.store.getRequest(opened.id as string))?.decision).toMatchObject({ outcome: 'held' });
    // The rename's delivery is lost, so the App still has the old name when the freeze ends.
    await world.control.setDeliveryLoss({ drop_rate: 1 });
    await world.control.rename('acme/held-deploys', 'held-deploys-2');
    await world.control.setDeliveryLoss({});
    squat('acme/held-deploys', 'acme/held-deploys-2', 'version: 1\nunmatched: approve\nrules: []\n');
    // The step, whose token names its repository as it is called now, waits on.
    const waiting = { ...run, repository: 'acme/held-deploys-2' };
    const final = await eventually(() => world.poll(waiting, opened.id as string), (answer) => answer.body.status !== 'pending', 30_000);
    expect(final.body).toMatchObject({ status: 'failed', reason: expect.stringContaining('acme/held-deploys is now another repository') });
  }, 60_000);

  it("an /approve on the renamed repository is judged there, not by the permission its old name's new holder gives", async () => {
    const policy = 'version: 1\nrules:\n  - name: production\n    if: {}\n    require: { approvals: 1, approvers: ["role:admin"] }\n';
    await world.control.seed({ repos: [{ owner: 'acme', name: 'renamed-svc', branches: { main: { '.github/jit-approval.yml': policy } }, collaborators: { alice: 'admin', mallory: 'write' } }] });
    const run = job({ repository: 'acme/renamed-svc', actor: 'bob', environment: 'production' });
    const opened = await openPending(run, { action: 'deploy' });
    const issue = await eventually(() => world.issueOf(opened.id as string, 'acme/renamed-svc'), (found) => found !== undefined);
    // The rename's delivery is lost: the App has only the old name.
    await world.control.setDeliveryLoss({ drop_rate: 1 });
    await world.control.rename('acme/renamed-svc', 'renamed-svc-2');
    await world.control.setDeliveryLoss({});
    squat('acme/renamed-svc', 'acme/renamed-svc-2', policy);
    await world.comment(issue!.number, 'mallory', '/approve', 'acme/renamed-svc-2');
    await world.settle();
    expect((await world.poll({ ...run, repository: 'acme/renamed-svc-2' }, opened.id as string)).body.status).toBe('pending');
    // The repository's own admin still approves it under its new name.
    await world.comment(issue!.number, 'alice', '/approve', 'acme/renamed-svc-2');
    expect((await world.poll({ ...run, repository: 'acme/renamed-svc-2' }, opened.id as string)).body).toMatchObject({ status: 'approved', approved_by: ['alice'] });
  }, 60_000);

  it('a renamed repository\'s requests are shown and answered under its new name, not in the repository that takes its old one', async () => {
    const policy = 'version: 1\nrules:\n  - name: production\n    if: {}\n    require: { approvals: 1, approvers: [alice] }\n';
    await world.control.seed({ repos: [{ owner: 'acme', name: 'moved-svc', branches: { main: { '.github/jit-approval.yml': policy } }, collaborators: { alice: 'admin', mallory: 'write' } }] });
    const run = job({ repository: 'acme/moved-svc', actor: 'bob', environment: 'production' });
    const opened = await openPending(run, { action: 'deploy' });
    const issue = await eventually(() => world.issueOf(opened.id as string, 'acme/moved-svc'), (found) => found !== undefined);
    await world.control.rename('acme/moved-svc', 'moved-svc-2', 'alice');
    await world.settle();
    expect((await world.app.store.getRequest(opened.id as string))?.repository).toBe('acme/moved-svc-2');
    // mallory takes the old name, with an issue of the approval issue's number for replies to land in.
    squat('acme/moved-svc', 'acme/moved-svc-2', policy);
    const { state } = world.github.double;
    const taken = state.repoByFullName('acme/moved-svc');
    for (let n = 1; n <= issue!.number; n++) state.createIssue(taken, state.ensureUser('mallory'), { title: `bait ${n}`, body: null, labels: [], number: n });
    await world.comment(issue!.number, 'carol', '/approve', 'acme/moved-svc-2');
    await world.comment(issue!.number, 'alice', '/approve', 'acme/moved-svc-2');
    expect((await world.poll({ ...run, repository: 'acme/moved-svc-2' }, opened.id as string)).body).toMatchObject({ status: 'approved', approved_by: ['alice'] });
    await world.settle();
    const runs = (await world.control.checkRuns('acme/moved-svc-2')) as unknown as Array<{ external_id: string; conclusion: string | null }>;
    expect(runs.filter((r) => r.external_id === opened.id).map((r) => r.conclusion)).toEqual(['success']);
    const replies = ((await world.control.comments('acme/moved-svc-2', issue!.number)) as unknown as Array<{ body: string; user: { login: string } }>).filter((c) => c.user.login.endsWith('[bot]'));
    expect(replies.some((c) => c.body.includes('@carol'))).toBe(true);
    expect(((await world.control.comments('acme/moved-svc')) as unknown as Array<{ user: { login: string } }>).filter((c) => c.user.login.endsWith('[bot]'))).toEqual([]);
    expect(await world.control.checkRuns('acme/moved-svc')).toEqual([]);
  }, 60_000);

  it('a reply held back while its repository is renamed is sent under the new name, not into the repository that took the old one', async () => {
    const policy = 'version: 1\nrules:\n  - name: production\n    if: {}\n    require: { approvals: 1, approvers: [alice] }\n';
    await world.control.seed({ repos: [{ owner: 'acme', name: 'queued-reply', branches: { main: { '.github/jit-approval.yml': policy } }, collaborators: { alice: 'admin', mallory: 'write' } }] });
    const run = job({ repository: 'acme/queued-reply', actor: 'bob', environment: 'production' });
    const request = await openPending(run, { action: 'deploy' });
    const issue = await eventually(() => world.issueOf(request.id as string, 'acme/queued-reply'), (found) => found !== undefined);
    await world.settle();
    // GitHub refuses the reply to carol's refused vote once. Its next try first looks for what the
    // refused one may have posted, and that look is slow: the rename, and the old name's new holder,
    // come while the reply waits to be sent.
    const comments = '/repos/{owner}/{repo}/issues/{issue_number}/comments';
    const looks = async () => (await world.control.requestCounts())[`GET ${comments}`] ?? 0;
    const looked = await looks();
    await world.control.fault({ route: comments, method: 'POST', status: 502, times: 1 });
    await world.control.latency({ route: comments, method: 'GET', ms: 3000, times: 1 });
    await world.control.comment({ repository: 'acme/queued-reply', issue_number: issue!.number, user: 'carol', body: '/approve' });
    expect(await eventually(looks, (n) => n > looked, 30_000)).toBeGreaterThan(looked);
    await world.control.rename('acme/queued-reply', 'queued-reply-2', 'alice');
    await world.control.deliveriesIdle();
    expect((await world.app.store.getRequest(request.id as string))?.repository).toBe('acme/queued-reply-2');
    squat('acme/queued-reply', 'acme/queued-reply-2', policy);
    const taken = world.github.double.state.repoByFullName('acme/queued-reply');
    for (let n = 1; n <= issue!.number; n++) world.github.double.state.createIssue(taken, world.github.double.state.ensureUser('mallory'), { title: `bait ${n}`, body: null, labels: [], number: n });
    const botReplies = async () => ((await world.control.comments('acme/queued-reply-2', issue!.number)) as unknown as Array<{ body: string; user: { login: string } }>).filter((c) => c.user.login.endsWith('[bot]'));
    const replies = await eventually(botReplies, (found) => found.some((c) => c.body.includes('@carol')), 30_000);
    expect(replies.some((c) => c.body.includes('@carol'))).toBe(true);
    expect(await eventually(() => world.app.store.nextTimerDue({ only: [REPLY_JOB] }), (due) => due === undefined)).toBeUndefined();
    expect(((await world.control.comments('acme/queued-reply')) as unknown as Array<{ user: { login: string } }>).filter((c) => c.user.login.endsWith('[bot]'))).toEqual([]);
    opened.find((o) => o.id === request.id)!.run = { ...run, repository: 'acme/queued-reply-2' };
  }, 90_000);

  it('a publication held back while its repository is renamed shows the request under the new name, not in the repository that took the old one', async () => {
    const policy = 'version: 1\nrules:\n  - name: production\n    if: {}\n    require: { approvals: 1, approvers: [alice] }\n';
    await world.control.seed({ repos: [{ owner: 'acme', name: 'held-publication', branches: { main: { '.github/jit-approval.yml': policy } }, collaborators: { alice: 'admin', mallory: 'write' } }] });
    // The check run is made, but GitHub's answer is lost; the publication's next try first looks for
    // it, and that look is slow: the rename, and the old name's new holder, come meanwhile.
    const lookup = '/repos/{owner}/{repo}/commits/{ref}/check-runs';
    const looks = async () => (await world.control.requestCounts())[`GET ${lookup}`] ?? 0;
    const looked = await looks();
    await world.control.fault({ route: '/repos/{owner}/{repo}/check-runs', method: 'POST', status: 502, times: 1, after: true });
    await world.control.latency({ route: lookup, method: 'GET', ms: 3000, times: 1 });
    const run = job({ repository: 'acme/held-publication', actor: 'bob', environment: 'production' });
    // The step's request is answered once it is shown, or after a while: the rename comes before that.
    const opening = world.open(run, { action: 'deploy' });
    expect(await eventually(looks, (n) => n > looked, 30_000)).toBeGreaterThan(looked);
    await world.control.rename('acme/held-publication', 'held-publication-2', 'alice');
    await world.control.deliveriesIdle();
    squat('acme/held-publication', 'acme/held-publication-2', policy);
    await opening;
    const [request] = await world.app.store.listRecentRequests(String(world.github.double.state.repoByFullName('acme/held-publication-2').id), 1);
    expect(request).toMatchObject({ repository: 'acme/held-publication-2', status: 'pending' });
    opened.push({ run: { ...run, repository: 'acme/held-publication-2' }, id: request!.id });
    const issue = await eventually(() => world.issueOf(request!.id, 'acme/held-publication-2'), (found) => found !== undefined, 30_000);
    expect(issue).toBeDefined();
    await world.settle();
    const runs = (await world.control.checkRuns('acme/held-publication-2')) as unknown as Array<{ external_id: string }>;
    expect(runs.filter((r) => r.external_id === request!.id)).toHaveLength(1);
    expect(await world.control.checkRuns('acme/held-publication')).toEqual([]);
    expect(await world.control.issues('acme/held-publication')).toEqual([]);
  }, 90_000);

  it("a renamed repository's notifications link to its approval issue and check run under its new name, not to what the repository that took the old one holds there", async () => {
    const policy = 'version: 1\nrules:\n  - name: production\n    if: {}\n    require: { approvals: 1, approvers: [alice] }\n    notify: [ops-hook]\n';
    await world.control.seed({ repos: [{ owner: 'acme', name: 'linked-svc', branches: { main: { '.github/jit-approval.yml': policy } }, collaborators: { alice: 'admin', mallory: 'write' } }] });
    const run = job({ repository: 'acme/linked-svc', actor: 'bob', environment: 'production' });
    const request = await openPending(run, { action: 'deploy' });
    const issue = await eventually(() => world.issueOf(request.id as string, 'acme/linked-svc'), (found) => found !== undefined);
    await world.control.rename('acme/linked-svc', 'linked-svc-2', 'alice');
    await world.settle();
    expect((await world.app.store.getRequest(request.id as string))?.repository).toBe('acme/linked-svc-2');
    opened.find((o) => o.id === request.id)!.run = { ...run, repository: 'acme/linked-svc-2' };
    // mallory takes the old name, with an issue of the approval issue's number that looks like it.
    squat('acme/linked-svc', 'acme/linked-svc-2', policy);
    const { state } = world.github.double;
    const taken = state.repoByFullName('acme/linked-svc');
    for (let n = 1; n <= issue!.number; n++) state.createIssue(taken, state.ensureUser('mallory'), { title: n === issue!.number ? issue!.title : `bait ${n}`, body: null, labels: [], number: n });
    await world.comment(issue!.number, 'alice', '/approve', 'acme/linked-svc-2');
    type Linked = { event: string; request: { id: string; links: { check_run: string | null; issue: string | null } } };
    const decided = await eventually(async () => (world.notifications as unknown as Linked[]).find((n) => n.event === 'decided' && n.request.id === request.id), (found) => found !== undefined);
    const web = world.github.url;
    expect(decided!.request.links.issue).toBe(`${web}/acme/linked-svc-2/issues/${issue!.number}`);
    expect(decided!.request.links.check_run).toMatch(new RegExp(`^${web}/acme/linked-svc-2/runs/\\d+$`));
  }, 60_000);

  it("an /approve whose delivery comes after a rename is not judged by the permission the old name's new holder gives", async () => {
    const policy = 'version: 1\nrules:\n  - name: production\n    if: {}\n    require: { approvals: 1, approvers: ["role:admin"] }\n';
    await world.control.seed({ repos: [{ owner: 'acme', name: 'late-vote', branches: { main: { '.github/jit-approval.yml': policy } }, collaborators: { alice: 'admin', mallory: 'write' } }] });
    const run = job({ repository: 'acme/late-vote', actor: 'bob', environment: 'production' });
    const request = await openPending(run, { action: 'deploy' });
    const issue = await eventually(() => world.issueOf(request.id as string, 'acme/late-vote'), (found) => found !== undefined);
    await world.settle();
    // mallory's /approve is delivered late, after the repository was renamed and she took its old name:
    // its delivery names the repository as it was called when she wrote it.
    await untilTheSecondAfter(Date.parse(request.created_at as string));
    await world.control.pauseDeliveries();
    await world.control.comment({ repository: 'acme/late-vote', issue_number: issue!.number, user: 'mallory', body: '/approve' });
    await world.control.rename('acme/late-vote', 'late-vote-2', 'alice');
    squat('acme/late-vote', 'acme/late-vote-2', policy);
    await world.control.releaseDeliveries('fifo');
    await world.settle();
    const renamed = { ...run, repository: 'acme/late-vote-2' };
    opened.find((o) => o.id === request.id)!.run = renamed;
    expect((await world.poll(renamed, request.id as string)).body).toMatchObject({ status: 'pending', approved_by: [] });
    // The repository's own admin still approves it under its new name.
    await world.comment(issue!.number, 'alice', '/approve', 'acme/late-vote-2');
    expect((await world.poll(renamed, request.id as string)).body).toMatchObject({ status: 'approved', approved_by: ['alice'] });
  }, 60_000);

  it('renamed twice, with the news arriving backwards after its middle name was taken, the requests follow it to its last name', async () => {
    await world.control.seed({ repos: [{ owner: 'acme', name: 'twice-a', branches: { main: { '.github/jit-approval.yml': 'version: 1\nrules:\n  - name: all\n    if: {}\n    require: { approvals: 1, approvers: [alice] }\n' } }, collaborators: { alice: 'admin' } }] });
    const run = job({ repository: 'acme/twice-a', actor: 'bob', environment: 'production' });
    const request = await openPending(run, { action: 'deploy' });
    await world.settle();
    await world.control.pauseDeliveries();
    await world.control.rename('acme/twice-a', 'twice-b');
    await world.control.rename('acme/twice-b', 'twice-c');
    squat('acme/twice-b', 'acme/twice-c', 'version: 1\nunmatched: approve\nrules: []\n');
    await world.control.releaseDeliveries('reverse');
    await world.settle();
    expect((await world.app.store.getRequest(request.id as string))?.repository).toBe('acme/twice-c');
    // The step's token names the repository as it is called now when the request is cancelled after the test.
    opened.find((o) => o.id === request.id)!.run = { ...run, repository: 'acme/twice-c' };
  }, 60_000);
});

describe('votes count once, from the right person, on the code under review', () => {
  it('a replayed /approve delivery under a new delivery id does not approve a newer request', async () => {
    const { pr, run } = await pullRun();
    const first = await openPending(run, { action: 'deploy', environment: 'production' });
    const { deliveries } = await world.comment(pr.number, 'bob', '/approve');
    expect((await world.poll(run, first.id as string)).body.status).toBe('approved');

    const rerun = { ...run, run_id: (run.run_id as number) + 50_000 };
    const second = await openPending(rerun, { action: 'deploy', environment: 'production' });
    const [captured] = await world.control.deliveries({ after: deliveries[0] - 1 });
    const body = JSON.stringify(captured.payload);
    const replay = await fetch(`${world.app.url}/api/github/webhooks`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-github-event': 'issue_comment',
        'x-github-delivery': '00000000-1111-2222-3333-444444444444',
        'x-hub-signature-256': signWebhookBody(WEBHOOK_SECRET, body),
      },
      body,
    });
    expect(replay.status).toBeLessThan(300);
    expect((await world.poll(rerun, second.id as string)).body).toMatchObject({ status: 'pending', approved_by: [] });
  });

  it('a comment written before the request opened does not count for it', async () => {
    const { pr, run } = await pullRun();
    await world.control.pauseDeliveries();
    await world.control.comment({ repository: REPO, issue_number: pr.number, user: 'bob', body: '/approve' });
    // The request opens after the comment was written, and only then does its delivery arrive.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const request = await openPending(run, { action: 'deploy', environment: 'production' });
    await world.control.releaseDeliveries('fifo');
    await world.settle();
    expect((await world.poll(run, request.id as string)).body).toMatchObject({ status: 'pending', approved_by: [] });
    expect((await commentsOn(pr.number)).at(-1)!.body).toContain('before this request was opened');
  });

  it('a comment written in the second the request opened, before it, does not count for it', async () => {
    // GitHub stamps comments with whole seconds, so this one reads as written when the request opened.
    for (let attempt = 1; ; attempt++) {
      const { pr, run } = await pullRun();
      await untilTheSecondAfter(Date.now());
      await world.control.pauseDeliveries();
      const { comment } = await world.control.comment({ repository: REPO, issue_number: pr.number, user: 'bob', body: '/approve' });
      const request = await openPending(run, { action: 'deploy', environment: 'production' });
      await world.control.releaseDeliveries('fifo');
      await world.settle();
      const opened = (await world.app.store.getRequest(request.id as string))!.createdAt;
      // A slow machine may have opened it in the next second: that case is the test above; try again.
      if (Math.floor(opened.getTime() / 1000) !== Math.floor(Date.parse(comment.created_at as string) / 1000) && attempt < 5) continue;
      expect(Math.floor(opened.getTime() / 1000)).toBe(Math.floor(Date.parse(comment.created_at as string) / 1000));
      expect((await world.poll(run, request.id as string)).body).toMatchObject({ status: 'pending', approved_by: [] });
      expect((await commentsOn(pr.number)).at(-1)!.body).toContain('in the second this request was opened, perhaps before it');
      return;
    }
  });

  it('a refused comment delivered again under a new delivery id is not handled again', async () => {
    const { pr, run } = await pullRun();
    await openPending(run, { action: 'deploy', environment: 'production' });
    const { deliveries } = await world.comment(pr.number, 'carol', '/approve');
    const replies = (await commentsOn(pr.number)).length;
    const [captured] = await world.control.deliveries({ after: deliveries[0] - 1 });
    const body = JSON.stringify(captured.payload);
    for (const id of ['aaaaaaaa-0000-0000-0000-000000000001', 'aaaaaaaa-0000-0000-0000-000000000002']) {
      await fetch(`${world.app.url}/api/github/webhooks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-github-event': 'issue_comment', 'x-github-delivery': id, 'x-hub-signature-256': signWebhookBody(WEBHOOK_SECRET, body) },
        body,
      });
    }
    expect((await commentsOn(pr.number)).length).toBe(replies);
  });

  it('the author of the pull request may not approve a run someone else started', async () => {
    // bob (a code owner) opened the PR; alice re-ran its workflow, so the token's actor is alice.
    const { pr, run } = await pullRun('bob', 'alice');
    const request = await openPending(run, { action: 'deploy', environment: 'production' });
    await world.comment(pr.number, 'bob', '/approve');
    expect((await commentsOn(pr.number)).at(-1)!.body.replace(/\s*<!--.*-->$/, '')).toBe('@bob your vote was not counted: @bob opened the pull request and may not approve it (self-approval is not allowed).');
    expect((await world.poll(run, request.id as string)).body).toMatchObject({ status: 'pending', approved_by: [] });
  });

  it('a renamed account is still the requester: the account id decides, not the login', async () => {
    const { pr, run } = await pullRun();
    const renamed = { ...run, extra_claims: { actor: 'bob-before-rename', actor_id: await idOf('bob') } };
    const request = await openPending(renamed, { action: 'deploy', environment: 'production' });
    await world.comment(pr.number, 'bob', '/approve');
    expect((await commentsOn(pr.number)).at(-1)!.body).toContain('@bob started the run and may not approve it');
    expect((await world.poll(renamed, request.id as string)).body.status).toBe('pending');
  });

  it('an approval after the pull request moved on does not count, and the request fails as superseded', async () => {
    const { pr, run, head } = await pullRun();
    const request = await openPending(run, { action: 'deploy', environment: 'production' });
    await world.control.pushCommit(REPO, { branch: head, files: { [`src/${head}.ts`]: 'export const changed = true;\n' }, author: 'mallory' });
    await world.comment(pr.number, 'bob', '/approve');
    expect((await commentsOn(pr.number)).at(-1)!.body).toContain(`pull request #${pr.number} has moved on`);
    const { body } = await world.poll(run, request.id as string);
    expect(body).toMatchObject({ status: 'failed', reason: expect.stringContaining('superseded'), approved_by: [] });
    expect((await world.checkRun(body.check_run_id as number)).conclusion).toBe('failure');
  });
});

describe('votes are re-checked', () => {
  it('deleting a counted /approve withdraws it while the request waits', async () => {
    const { pr, run } = await pullRun();
    // prod-db needs two code owners.
    const request = await openPending(run, { action: 'migrate', environment: 'prod-db' });
    const { comment } = await world.comment(pr.number, 'bob', '/approve');
    expect((await world.poll(run, request.id as string)).body.approved_by).toEqual(['bob']);
    await world.control.deleteComment({ repository: REPO, comment_id: comment.id as number, user: 'bob' });
    await world.settle();
    expect((await world.poll(run, request.id as string)).body.approved_by).toEqual([]);
    await world.comment(pr.number, 'alice', '/approve');
    expect((await world.poll(run, request.id as string)).body).toMatchObject({ status: 'pending', approved_by: ['alice'] });
    await world.comment(pr.number, 'bob', '/approve again, for real');
    expect((await world.poll(run, request.id as string)).body).toMatchObject({ status: 'approved', approved_by: ['alice', 'bob'] });
    expect((await world.audit(request.id as string)).map((e) => e.type)).toContain('vote_withdrawn');
  }, 60_000);

  /**
   * bob's command, deleted by `deleter` while its creation is still to be delivered (GitHub promises no
   * order), after `deleter` edited it to `editedTo` first when given: the request as it then is.
   */
  async function deletedBeforeDelivered(body: string, deleter: string, editedTo?: string) {
    const { pr, run } = await pullRun();
    const request = await openPending(run, { action: 'deploy', environment: 'production' });
    await world.control.pauseDeliveries();
    const { comment } = await world.control.comment({ repository: REPO, issue_number: pr.number, user: 'bob', body });
    if (editedTo !== undefined) await world.control.editComment({ repository: REPO, comment_id: comment.id as number, user: deleter, body: editedTo });
    await world.control.deleteComment({ repository: REPO, comment_id: comment.id as number, user: deleter });
    await world.control.releaseDeliveries('reverse');
    await world.settle();
    return { answer: (await world.poll(run, request.id as string)).body, audit: await world.audit(request.id as string) };
  }

  it('an /approve deleted before its creation is delivered never counts', async () => {
    const { answer, audit } = await deletedBeforeDelivered('/approve', 'bob');
    expect(answer).toMatchObject({ status: 'pending', approved_by: [] });
    expect(audit.map((e) => e.type)).not.toContain('vote');
  });

  it('an /approve deleted while its vote is being checked never counts, and the audit trail still records it', async () => {
    const { pr, run } = await pullRun();
    const request = await openPending(run, { action: 'deploy', environment: 'production' });
    await world.control.setDeliveryMode({ mode: 'concurrent', max_jitter_ms: 0 });
    try {
      // bob's permission is looked up slowly: his comment is deleted while the vote waits on it.
      await world.control.latency({ route: '/repos/{owner}/{repo}/collaborators/{username}/permission', method: 'GET', ms: 1500, times: 1 });
      const { comment } = await world.control.comment({ repository: REPO, issue_number: pr.number, user: 'bob', body: '/approve' });
      await new Promise((resolve) => setTimeout(resolve, 500));
      await world.control.deleteComment({ repository: REPO, comment_id: comment.id as number, user: 'bob' });
      await world.settle();
      expect((await world.poll(run, request.id as string)).body).toMatchObject({ status: 'pending', approved_by: [] });
      const audit = await world.audit(request.id as string);
      expect(audit.map((e) => e.type)).not.toContain('vote');
      expect(audit.find((e) => e.actor === 'bob' && (e.facts as { comment_id?: number }).comment_id === comment.id)).toMatchObject({
        type: 'vote_ignored',
        facts: { choice: 'approve', reason: 'the comment was deleted before its approval was counted' },
      });
    } finally {
      await world.control.setDeliveryMode({ mode: 'sequential' });
      await world.control.clearFaults();
    }
  }, 60_000);

  it('a /reject deleted by someone else before its creation is delivered still rejects', async () => {
    // The requester may delete comments: an approver's rejection must not vanish that way.
    expect((await deletedBeforeDelivered('/reject not this one', 'mallory')).answer).toMatchObject({ status: 'rejected', rejected_by: 'bob' });
  });

  it('a /reject that someone else edited into /approve, then deleted, before its creation is delivered still rejects', async () => {
    // Whoever may write to the repository may edit others' comments: what a comment says as it is
    // deleted is not what it said when it was written, which is what votes.
    const { answer, audit } = await deletedBeforeDelivered('/reject not this one', 'mallory', '/approve');
    expect(answer).toMatchObject({ status: 'rejected', rejected_by: 'bob' });
    expect(audit.filter((e) => e.type === 'vote').map((e) => e.actor)).toEqual(['bob']);
  });

  it('an approver who lost write permission since voting does not complete the quorum', async () => {
    const { pr, run } = await pullRun();
    const request = await openPending(run, { action: 'migrate', environment: 'prod-db' });
    await world.comment(pr.number, 'bob', '/approve');
    await world.control.setPermission(REPO, 'bob', 'read');
    try {
      await world.comment(pr.number, 'alice', '/approve');
      expect((await world.poll(run, request.id as string)).body).toMatchObject({ status: 'pending', approved_by: ['alice'] });
      const events = await world.audit(request.id as string);
      expect(events.find((e) => e.type === 'vote_no_longer_counts')?.facts).toMatchObject({ login: 'bob', reason: '@bob has read permission; write is required' });
    } finally {
      await world.control.setPermission(REPO, 'bob', 'write');
    }
  });

  it('an approver whose login another account took since voting does not complete the quorum', async () => {
    const { pr, run } = await pullRun();
    const request = await openPending(run, { action: 'migrate', environment: 'prod-db' });
    await world.comment(pr.number, 'bob', '/approve');
    // bob takes another name and leaves the repository; carol takes "bob". Looked up by login alone,
    // bob's vote would now stand on her write access, and as "bob" on her code ownership.
    await world.control.renameUser('bob', 'bob-left');
    await world.control.setPermission(REPO, 'bob-left', null);
    await world.control.renameUser('carol', 'bob');
    try {
      await world.comment(pr.number, 'alice', '/approve');
      expect((await world.poll(run, request.id as string)).body).toMatchObject({ status: 'pending', approved_by: ['alice'] });
      const events = await world.audit(request.id as string);
      expect(events.find((e) => e.type === 'vote_no_longer_counts')?.facts).toMatchObject({
        login: 'bob',
        reason: '@bob now names another GitHub account (an account was renamed) since voting',
      });
    } finally {
      await world.control.renameUser('bob', 'carol');
      await world.control.renameUser('bob-left', 'bob');
      await world.control.setPermission(REPO, 'bob', 'write');
    }
  });

  it('an approval that lands while another is checked, from someone who then lost permission, does not complete the quorum', async () => {
    const { pr, run } = await pullRun();
    const request = await openPending(run, { action: 'migrate', environment: 'prod-db' });
    // alice's vote finds no earlier approvers to look up again. Before it is counted, bob approves and
    // then loses write permission: counted together, the two would approve without bob looked up again.
    const { store } = world.app;
    const castVote = store.castVote.bind(store);
    // bob's comment is delivered while alice's delivery is still being handled, as GitHub may.
    await world.control.setDeliveryMode({ mode: 'concurrent' });
    const spy = jest.spyOn(store, 'castVote').mockImplementation(async (vote) => {
      if (vote.login === 'alice' && spy.mock.calls.length === 1) {
        // Not world.comment: it waits for every delivery to be answered, alice's among them.
        await world.control.comment({ repository: REPO, issue_number: pr.number, user: 'bob', body: '/approve' });
        const until = Date.now() + 10_000;
        while (!(await store.listVotes(request.id as string)).some((v) => v.login === 'bob')) {
          if (Date.now() > until) throw new Error("bob's vote was never counted");
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        await world.control.setPermission(REPO, 'bob', 'read');
      }
      return castVote(vote);
    });
    try {
      await world.comment(pr.number, 'alice', '/approve');
      expect((await world.poll(run, request.id as string)).body).toMatchObject({ status: 'pending', approved_by: ['alice'] });
      const events = await world.audit(request.id as string);
      expect(events.find((e) => e.type === 'vote_no_longer_counts')?.facts).toMatchObject({ login: 'bob', reason: '@bob has read permission; write is required' });
      expect(events.filter((e) => e.type === 'vote').map((e) => e.actor)).toEqual(['bob', 'alice']);
    } finally {
      spy.mockRestore();
      await world.control.setDeliveryMode({ mode: 'sequential' });
      await world.control.setPermission(REPO, 'bob', 'write');
    }
  });

  it('a vote that keeps finding approvals nobody looked up again is refused, not counted', async () => {
    const { pr, run } = await pullRun();
    const request = await openPending(run, { action: 'migrate', environment: 'prod-db' });
    await world.comment(pr.number, 'bob', '/approve');
    // Each time alice's vote is counted, the votes under the lock hold one more approval than its
    // look-up saw, as if approvals kept landing: it must give up rather than count them unchecked.
    const { store } = world.app;
    const castVote = store.castVote.bind(store);
    let arrivals = 0;
    const spy = jest.spyOn(store, 'castVote').mockImplementation(async (vote) => {
      if (vote.login !== 'alice') return castVote(vote);
      return castVote({
        ...vote,
        tally: (votes, current) => {
          const bob = votes.find((v) => v.login === 'bob')!;
          return vote.tally([...votes, { ...bob, login: `late-${++arrivals}` }], current);
        },
      });
    });
    try {
      await world.comment(pr.number, 'alice', '/approve');
      expect(arrivals).toBe(3);
      expect((await world.poll(run, request.id as string)).body).toMatchObject({ status: 'pending', approved_by: ['bob'] });
      expect((await commentsOn(pr.number)).at(-1)!.body).toContain('kept arriving while this vote was checked; vote again');
      const events = await world.audit(request.id as string);
      expect(events.at(-1)).toMatchObject({ type: 'vote_refused', actor: 'alice' });
      expect(events.filter((e) => e.type === 'vote').map((e) => e.actor)).toEqual(['bob']);
    } finally {
      spy.mockRestore();
    }
  });

  it('an approver who left the team that made them eligible does not complete the quorum', async () => {
    const run = job({ repository: 'acme/teamed' });
    const request = await openPending(run, { action: 'deploy', environment: 'production' });
    const issue = (await world.issueOf(request.id as string, 'acme/teamed'))!;
    await world.comment(issue.number, 'bob', '/approve', 'acme/teamed');
    expect((await world.poll(run, request.id as string)).body.approved_by).toEqual(['bob']);
    // bob leaves @acme/leads; he keeps his write permission on the repository.
    await world.control.seed({ teams: [{ org: 'acme', slug: 'leads', members: ['carol'] }] });
    await world.comment(issue.number, 'carol', '/approve', 'acme/teamed');
    expect((await world.poll(run, request.id as string)).body).toMatchObject({ status: 'pending', approved_by: ['carol'] });
    const events = await world.audit(request.id as string);
    expect(events.find((e) => e.type === 'vote_no_longer_counts')?.facts).toMatchObject({ login: 'bob', reason: expect.stringContaining('@acme/leads') });
  });
});

describe('every vote received is in the audit trail', () => {
  it('the losing vote of a race, a late vote and a bot\'s /approve all leave an event', async () => {
    const { pr, run } = await pullRun();
    const request = await openPending(run, { action: 'deploy', environment: 'production' });
    await world.comment(pr.number, 'deploy-bot[bot]', '/approve');
    await world.control.pauseDeliveries();
    await world.control.comment({ repository: REPO, issue_number: pr.number, user: 'bob', body: '/approve' });
    await world.control.comment({ repository: REPO, issue_number: pr.number, user: 'alice', body: '/reject not today' });
    await world.control.releaseDeliveries('fifo');
    await world.settle();
    await world.comment(pr.number, 'alice', '/reject too late');
    const events = (await world.audit(request.id as string)).filter((e) => e.type.startsWith('vote'));
    expect(events.map((e) => [e.type, e.actor])).toEqual([
      ['vote_refused', 'deploy-bot[bot]'],
      ['vote', 'bob'],
      ['vote_ignored', 'alice'],
      ['vote_ignored', 'alice'],
    ]);
    // Whether the loser of the race found the request decided or no longer waiting depends on timing; either way it is on record.
    expect(events[2].facts).toMatchObject({ choice: 'reject', reason: expect.stringMatching(/the request is already approved|nothing is waiting for approval here any more/) });
  });

  it('a second vote by the same person and an ineligible vote leave an event each', async () => {
    const { pr, run } = await pullRun();
    // prod-db needs two code owners, so the request still waits after bob's first vote.
    const request = await openPending(run, { action: 'migrate', environment: 'prod-db' });
    await world.comment(pr.number, 'bob', '/approve');
    await world.comment(pr.number, 'bob', '/approve once more');
    await world.comment(pr.number, 'carol', '/approve');
    const events = (await world.audit(request.id as string)).filter((e) => e.type.startsWith('vote'));
    expect(events.map((e) => [e.type, e.actor, (e.facts as { reason?: string }).reason ?? ''])).toEqual([
      ['vote', 'bob', ''],
      ['vote_ignored', 'bob', 'you have already voted on this request; each person counts once'],
      ['vote_refused', 'carol', '@carol is not a code owner of the changed files'],
    ]);
  }, 60_000);

  it('a command that names none of several waiting requests, a /reject without a reason and a mistyped command leave an event each', async () => {
    const { pr, run } = await pullRun();
    const deploy = await openPending(run, { action: 'deploy', environment: 'production' });
    const migrate = await openPending(run, { action: 'migrate', environment: 'prod-db' });
    await world.comment(pr.number, 'bob', '/approve looks fine');
    expect((await commentsOn(pr.number)).at(-1)!.body).toContain('@bob several requests are waiting here (`[deploy production]`, `[migrate prod-db]`); name the one you mean');
    await world.comment(pr.number, 'alice', '/reject [deploy]');
    await world.comment(pr.number, 'carol', '/aprove');
    const votes = async (id: unknown) =>
      (await world.audit(id as string)).filter((e) => e.type.startsWith('vote')).map((e) => [e.type, e.actor, e.facts.choice, e.facts.reason]);
    const several = 'several requests are waiting here (`[deploy production]`, `[migrate prod-db]`); name the one you mean, for example `/approve [deploy production] …`';
    expect(await votes(deploy.id)).toEqual([
      ['vote_ignored', 'bob', 'approve', several],
      ['vote_ignored', 'alice', 'reject', '`/reject` needs a reason'],
      ['vote_ignored', 'carol', 'approve', 'unknown command `/aprove`'],
    ]);
    expect(await votes(migrate.id)).toEqual([
      ['vote_ignored', 'bob', 'approve', several],
      ['vote_ignored', 'carol', 'approve', 'unknown command `/aprove`'],
    ]);
    for (const request of [deploy, migrate]) expect((await world.poll(run, request.id as string)).body).toMatchObject({ status: 'pending', approved_by: [] });
  }, 60_000);

  it('a bot\'s command on a thread where nothing waits any more leaves an event, and no reply', async () => {
    const { pr, run } = await pullRun();
    const request = await openPending(run, { action: 'deploy', environment: 'production' });
    await world.api('POST', `/api/v1/requests/${String(request.id)}/cancel`, await world.token(run), { reason: 'job_cancelled' });
    await world.settle();
    const replies = (await commentsOn(pr.number)).length;
    await world.comment(pr.number, 'deploy-bot[bot]', '/approve');
    const events = (await world.audit(request.id as string)).filter((e) => e.type.startsWith('vote'));
    expect(events.map((e) => [e.type, e.actor, e.facts.reason])).toEqual([['vote_refused', 'deploy-bot[bot]', '@deploy-bot[bot] is a bot; bots never vote by comment']]);
    // Its own comment is the only new one.
    expect((await commentsOn(pr.number)).length).toBe(replies + 1);
  });
});
