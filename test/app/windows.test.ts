/**
 * Freezes and deploy windows end to end, with the App's clock under the test's control: a request held
 * by a freeze is released when it ends; one waiting for people is held when a freeze starts; an
 * override needs a reason and is on record; `reject` ends a request at once.
 *
 * The App's clock runs `offset` ahead of the real one. GitHub (the double) keeps real time, and a
 * comment older than its request never votes, so each test opens its requests at offset 0 and only
 * then moves time on.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { RunnerJob } from '../github-double/index.js';
import { cancelledAfterEach, eventually, job, World, type ApiAnswer, type Notification } from './harness.js';

const HOUR = 3600_000;
let offset = 0;
const clock = () => Date.now() + offset;

let world: World;
beforeAll(async () => {
  world = await World.start({ clock });
}, 60_000);
afterAll(async () => world?.stop());

const opened = cancelledAfterEach(() => world);
// After the cancellations above: their writes are queued at the App's time as the test left it, and
// would wait in its future once the clock is set back, holding up the next test's settle.
afterEach(async () => {
  await world.settle();
  offset = 0;
});

/** A wall-clock date-time in UTC, as a policy writes it. */
const local = (ms: number) => new Date(ms).toISOString().slice(0, 19);

let repos = 0;
/** A repository of its own whose policy requires alice (or `require`) for every deploy (waiting up to 4 hours) and has this freeze. */
async function repoWithFreeze(freeze: string, require = '{ approvals: 1, approvers: [alice] }', list: 'freezes' | 'deploy_windows' = 'freezes'): Promise<string> {
  const name = `frozen-${++repos}`;
  const policy = `version: 1
defaults: { timeout: 4h }
rules:
  - name: deploys
    if: { action: deploy }
    require: ${require}
    notify: [ops-hook]
${list}:
${freeze}`;
  await world.control.seed({
    repos: [{ owner: 'acme', name, branches: { main: { '.github/jit-approval.yml': policy } }, collaborators: { alice: 'admin', carol: 'write', mallory: 'write' } }],
  });
  return `acme/${name}`;
}

async function open(repository: string): Promise<{ run: RunnerJob; id: string; answer: ApiAnswer['body'] }> {
  const run = job({ repository });
  const { status, body } = await world.open(run, { action: 'deploy' });
  expect(status).toBe(200);
  opened.push({ run, id: body.id as string });
  return { run, id: body.id as string, answer: body };
}

/** Moves the App's clock on and waits until the request's answer satisfies `accept`. */
async function after(ms: number, run: RunnerJob, id: string, accept: (answer: ApiAnswer['body']) => boolean): Promise<ApiAnswer['body']> {
  offset += ms;
  const answer = await eventually(async () => (await world.poll(run, id)).body, accept, 15_000);
  await world.settle();
  return answer;
}

const notificationsOf = (id: string) => world.notifications.filter((n: Notification) => n.request.id === id);
const auditTypes = async (id: string) => (await world.audit(id)).map((e) => e.type);

describe('a freeze with mode: wait', () => {
  it('holds a request opened during the freeze and releases it when the freeze ends', async () => {
    const now = clock();
    const repository = await repoWithFreeze(`  - name: maintenance
    time_zone: UTC
    start: ${local(now - HOUR)}
    end: ${local(now + 2 * HOUR)}
    message: Database maintenance.
`);
    const { run, id, answer } = await open(repository);
    expect(answer).toMatchObject({ status: 'pending', window: { held: true, closed_by: ['maintenance'], messages: ['Database maintenance.'] } });
    expect(answer.awaiting).toEqual([expect.stringContaining('held until')]);
    // The step waits past the freeze: the timeout counts from when it opens.
    expect(Date.parse(answer.deadline as string)).toBeGreaterThan(now + 2 * HOUR);

    const checkRun = await world.checkRunOf(id, repository);
    expect(checkRun?.conclusion).toBe('action_required');
    expect(checkRun?.output.title).toMatch(/^Frozen until \d{4}-\d{2}-\d{2} \d{2}:\d{2}(?::\d{2})? UTC: `deploy` waits \(Database maintenance\.\)/);
    const issue = await eventually(() => world.issueOf(id, repository), (found) => found !== undefined);
    expect(issue?.body).toContain('Database maintenance.');
    expect(issue?.body).toContain('Frozen until');
    expect(issue?.body).toContain('Votes count once a window lets the request go ahead.');

    // Nobody can approve it while it is held; the reply says until when.
    await world.comment(issue!.number, 'alice', '/approve', repository);
    expect((await world.poll(run, id)).body.status).toBe('pending');
    const replies = (await world.control.comments(repository, issue!.number)) as unknown as Array<{ body: string }>;
    expect(replies.map((c) => c.body).join('\n')).toContain('the request is held until');
    expect(notificationsOf(id)).toEqual([]);

    // An hour on, still frozen; two hours on, released.
    await after(HOUR, run, id, () => true);
    expect((await world.poll(run, id)).body.window).not.toBeNull();
    const released = await after(HOUR + 5_000, run, id, (a) => a.window === null);
    expect(released).toMatchObject({ status: 'pending', approvals_required: 1, eligible_approvers: ['@alice'], awaiting: ['1 more from @alice'] });
    expect((await world.checkRunOf(id, repository))?.output.title).toMatch(/^Waiting for approval of `deploy`/);
    const events = await eventually(async () => notificationsOf(id), (found) => found.length > 0);
    expect(events.map((n) => n.event)).toEqual(['released']);
    expect(await auditTypes(id)).toEqual(expect.arrayContaining(['held', 'released']));

    await world.comment(issue!.number, 'alice', '/approve', repository);
    expect((await world.poll(run, id)).body).toMatchObject({ status: 'approved', reason: 'quorum' });
  });

  it('holds a request that was waiting for people when the freeze starts', async () => {
    const now = clock();
    const repository = await repoWithFreeze(`  - name: launch
    time_zone: UTC
    start: ${local(now + HOUR)}
    end: ${local(now + 3 * HOUR)}
    message: Launch in progress.
`);
    const { run, id, answer } = await open(repository);
    expect(answer).toMatchObject({ status: 'pending', window: null, awaiting: ['1 more from @alice'] });

    const held = await after(HOUR + 5_000, run, id, (a) => a.window !== null);
    expect(held).toMatchObject({ status: 'pending', window: { held: true, closed_by: ['launch'] } });
    expect((await world.checkRunOf(id, repository))?.output.title).toContain('Frozen until');
    expect(await auditTypes(id)).toContain('held');

    const released = await after(2 * HOUR, run, id, (a) => a.window === null);
    expect(released.status).toBe('pending');
    const issue = await world.issueOf(id, repository);
    await world.comment(issue!.number, 'alice', '/approve', repository);
    expect((await world.poll(run, id)).body.status).toBe('approved');
  });
});

describe('a window that changed before the App could decide again', () => {
  it('counts no vote on the decision before a freeze started, however long GitHub keeps the App from deciding again', async () => {
    const now = clock();
    const repository = await repoWithFreeze(`  - name: launch
    time_zone: UTC
    start: ${local(now + HOUR)}
    end: ${local(now + 3 * HOUR)}
    message: Launch in progress.
`);
    const { run, id } = await open(repository);
    const issue = await world.issueOf(id, repository);
    await world.settle();
    // GitHub fails the reads a new decision needs, so the freeze's start is not on record when alice votes in it.
    for (const route of ['/repos/{owner}/{repo}/contents/{path}', '/repos/{owner}/{repo}/actions/runs/{run_id}']) {
      await world.control.fault({ route, method: 'GET', status: 502, times: 100_000 });
    }
    try {
      offset += HOUR + 5_000;
      await world.comment(issue!.number, 'alice', '/approve', repository);
      expect((await world.poll(run, id)).body).toMatchObject({ status: 'pending', approved_by: [] });
      const refused = (await world.audit(id)).filter((e) => e.type === 'vote_refused').map((e) => (e.facts as { reason: string }).reason);
      expect(refused).toEqual([expect.stringContaining('the request is being decided again')]);
    } finally {
      await world.control.clearFaults();
    }
    const held = await eventually(async () => (await world.poll(run, id)).body, (a) => a.window !== null, 30_000);
    expect(held).toMatchObject({ status: 'pending', window: { held: true, closed_by: ['launch'] } });
    // Ended while the App's clock is still on, so what it queues is due before the clock goes back.
    expect((await world.api('POST', `/api/v1/requests/${id}/cancel`, await world.token(run), { reason: 'job_cancelled' })).status).toBe(200);
    opened.splice(opened.findIndex((o) => o.id === id), 1);
    await world.settle();
  });
});

describe('a freeze with mode: require', () => {
  it('needs an override with a reason from a named approver, recorded as an override and shown loudly', async () => {
    const now = clock();
    const repository = await repoWithFreeze(`  - name: end-of-quarter
    time_zone: UTC
    start: ${local(now - HOUR)}
    end: ${local(now + 5 * HOUR)}
    message: Quarter close; outages only.
    mode: require
    override: { approvers: [carol] }
`);
    const { run, id, answer } = await open(repository);
    expect(answer).toMatchObject({ status: 'pending', window: { held: false, closed_by: ['end-of-quarter'] } });
    expect(answer.awaiting).toEqual(['1 more from @alice', '1 more override of end-of-quarter, with a reason, from @carol']);
    expect((await world.checkRunOf(id, repository))?.output.title).toMatch(/^⚠️ Frozen: `deploy` needs an override of freeze `end-of-quarter`, with a reason/);
    const issue = await eventually(() => world.issueOf(id, repository), (found) => found !== undefined);
    expect(issue?.body).toContain('/approve <reason>');

    // Without a reason the override is refused, with how to give one.
    await world.comment(issue!.number, 'carol', '/approve', repository);
    const replies = async () => ((await world.control.comments(repository, issue!.number)) as unknown as Array<{ body: string }>).map((c) => c.body).join('\n');
    expect(await replies()).toContain('an override needs a reason: comment `/approve <reason>`');
    expect((await world.poll(run, id)).body.approved_by).toEqual([]);

    await world.comment(issue!.number, 'carol', '/approve payments are down and this is the fix', repository);
    await world.comment(issue!.number, 'alice', '/approve', repository);
    expect((await world.poll(run, id)).body).toMatchObject({ status: 'approved', approved_by: ['alice', 'carol'] });

    const audit = await world.audit(id);
    const override = audit.find((e) => e.type === 'override');
    expect(override).toMatchObject({ actor: 'carol', facts: { windows: ['end-of-quarter'], reason: 'payments are down and this is the fix', via: 'comment' } });
    const refused = audit.find((e) => e.type === 'vote_refused' && e.actor === 'carol');
    expect(String(refused?.facts.reason)).toContain('an override needs a reason');

    const checkRun = await world.checkRunOf(id, repository);
    expect(checkRun?.output.title).toMatch(/^⚠️ OVERRIDE: `deploy` approved despite `end-of-quarter` by @carol, @alice; reason: payments are down/);
    expect(checkRun?.output.summary).toContain('**Override** of `end-of-quarter`');
    const decided = await eventually(async () => notificationsOf(id).filter((n) => n.event === 'decided'), (found) => found.length > 0);
    expect((decided[0] as unknown as { override: unknown }).override).toEqual({
      windows: ['freeze end-of-quarter'],
      messages: [],
      by: [{ login: 'carol', reason: 'payments are down and this is the fix' }],
    });
  });

  it('lets the rule\'s approval through once the freeze ends, without an override', async () => {
    const now = clock();
    const repository = await repoWithFreeze(`  - name: short
    time_zone: UTC
    start: ${local(now - HOUR)}
    end: ${local(now + HOUR)}
    mode: require
    override: { approvers: [carol] }
`);
    const { run, id } = await open(repository);
    const issue = await eventually(() => world.issueOf(id, repository), (found) => found !== undefined);
    await world.comment(issue!.number, 'alice', '/approve', repository);
    expect((await world.poll(run, id)).body).toMatchObject({ status: 'pending', approved_by: ['alice'] });
    // Decided again when the freeze ends, alice's approval is all it needs.
    const done = await after(HOUR + 5_000, run, id, (a) => a.status !== 'pending');
    expect(done).toMatchObject({ status: 'approved', reason: 'quorum' });
  });
});

describe('a request decided again while it waits for people', () => {
  const ESCALATION = '      - after: 10m\n        also_eligible: [mallory]\n';
  /** A repository whose policy escalates deploys after 10m, and whose freeze starts 30 minutes from now. */
  async function freezeIn30Minutes(policyDefaults: string, escalations = ESCALATION): Promise<{ repository: string; policy: (escalations: string) => string }> {
    const now = clock();
    const name = `frozen-${++repos}`;
    const policy = (steps: string) => `version: 1
defaults: ${policyDefaults}
rules:
  - name: deploys
    if: { action: deploy }
    require: { approvals: 1, approvers: [alice] }
    notify: [ops-hook]
    escalate:
${steps}freezes:
  - name: quarter-close
    time_zone: UTC
    start: ${local(now + 30 * 60_000)}
    end: ${local(now + 3 * HOUR)}
    mode: require
    override: { approvers: [carol] }
`;
    await world.control.seed({
      repos: [{ owner: 'acme', name, branches: { main: { '.github/jit-approval.yml': policy(escalations) } }, collaborators: { alice: 'admin', carol: 'write', mallory: 'write' } }],
    });
    return { repository: `acme/${name}`, policy };
  }

  it('fires no time escalation or reminder a second time', async () => {
    const { repository } = await freezeIn30Minutes('{ timeout: 4h, reminder: 20m }');
    const { run, id } = await open(repository);
    const events = (event: string) => notificationsOf(id).filter((n) => n.event === event);

    // 25 minutes on: the escalation (10m) and the first reminder (20m) have fired, once each.
    await after(25 * 60_000, run, id, () => true);
    await eventually(async () => [events('escalated'), events('reminder')], ([e, r]) => e.length > 0 && r.length > 0);
    // 35 minutes on: the freeze has started, and the request is decided again, before the next reminder (40m).
    const frozen = await after(10 * 60_000, run, id, (a) => a.window !== null);
    expect(frozen).toMatchObject({ status: 'pending', window: { held: false, closed_by: ['quarter-close'] } });
    await world.settle();
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    const escalatedOnRecord = (await auditTypes(id)).filter((type) => type === 'escalated').length;
    expect({ escalatedOnRecord, escalated: events('escalated').length, reminders: events('reminder').length }).toEqual({ escalatedOnRecord: 1, escalated: 1, reminders: 1 });
  });

  it('announces a time escalation the policy added meanwhile, already due, once', async () => {
    const { repository, policy } = await freezeIn30Minutes('{ timeout: 4h }');
    const { run, id } = await open(repository);
    const events = (event: string) => notificationsOf(id).filter((n) => n.event === event);
    await after(25 * 60_000, run, id, () => true);
    await eventually(async () => events('escalated'), (e) => e.length > 0);
    // A second step, after 15m, is merged while the request waits: at the freeze's start (35m) it is long due.
    await world.control.pushCommit(repository, { branch: 'main', files: { '.github/jit-approval.yml': policy(`${ESCALATION}      - after: 15m\n        also_eligible: [carol]\n`) } });
    await after(10 * 60_000, run, id, (a) => a.window !== null);
    await eventually(async () => events('escalated'), (e) => e.length > 1);
    await world.settle();
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(events('escalated').length).toBe(2);
    expect((await auditTypes(id)).filter((type) => type === 'escalated')).toHaveLength(2);
  });
});

describe('an approval given before a freeze with mode: require started', () => {
  it('is not taken as its override: a named approver must still override, with a reason, once it is on', async () => {
    const now = clock();
    // Starts a few seconds from now on GitHub's clock too, so that carol's override below is written in it.
    const start = Math.ceil((now + 6_000) / 1000) * 1000;
    // carol may approve the rule and override the freeze; her approval before the freeze is only the rule's.
    const repository = await repoWithFreeze(`  - name: quarter-close
    time_zone: UTC
    start: ${local(start)}
    end: ${local(now + 3 * HOUR)}
    mode: require
    override: { approvers: [carol] }
`, '{ approvals: 2, approvers: [alice, carol] }');
    const { run, id, answer } = await open(repository);
    expect(answer).toMatchObject({ status: 'pending', window: null });
    const issue = await eventually(() => world.issueOf(id, repository), (found) => found !== undefined);
    const { comment: beforeFreeze } = await world.comment(issue!.number, 'carol', '/approve', repository);
    expect((await world.poll(run, id)).body).toMatchObject({ status: 'pending', approved_by: ['carol'] });

    expect(Date.now()).toBeLessThan(start);
    const frozen = await after(0, run, id, (a) => a.window !== null);
    expect(frozen).toMatchObject({ status: 'pending', window: { held: false, closed_by: ['quarter-close'] } });
    expect(frozen.awaiting).toContain('1 more override of quarter-close, with a reason, from @carol');

    await world.comment(issue!.number, 'alice', '/approve', repository);
    const answered = (await world.poll(run, id)).body;
    expect(answered).toMatchObject({ status: 'pending', approved_by: ['carol', 'alice'] });
    expect(answered.awaiting).toEqual(['1 more override of quarter-close, with a reason, from @carol']);
    expect(await auditTypes(id)).not.toContain('override');

    // To override, carol withdraws her earlier approval (deleting its comment) and approves again with a reason.
    await world.control.deleteComment({ repository, comment_id: beforeFreeze.id as number, user: 'carol' });
    await world.settle();
    await world.comment(issue!.number, 'carol', '/approve the quarter-close report is broken', repository);
    expect((await world.poll(run, id)).body).toMatchObject({ status: 'approved', approved_by: ['alice', 'carol'] });
    expect((await world.audit(id)).find((e) => e.type === 'override')).toMatchObject({ actor: 'carol', facts: { windows: ['quarter-close'] } });
    await world.settle();
  }, 60_000);
});

describe.each([
  {
    closing: 'a freeze with mode: require started',
    window: 'release-freeze',
    repository: (now: number) => repoWithFreeze(`  - name: release-freeze
    time_zone: UTC
    start: ${local(now + HOUR)}
    end: ${local(now + 3 * HOUR)}
    mode: require
    override: { approvers: [carol] }
`),
  },
  {
    closing: 'a deploy window with mode: require closed',
    window: 'office',
    repository: (now: number) => repoWithFreeze(`  - name: office
    time_zone: UTC
    start: ${local(now - HOUR)}
    end: ${local(now + HOUR)}
    mode: require
    override: { approvers: [carol] }
`, undefined, 'deploy_windows'),
  },
])('an approval written before $closing, received after it', ({ window, repository: seeded }) => {
  it('is not taken as its override, though it carries words that read as a reason', async () => {
    const repository = await seeded(clock());
    const { run, id } = await open(repository);
    const issue = await eventually(() => world.issueOf(id, repository), (found) => found !== undefined);
    // The App's clock moves past the window's change and it decides the request again; GitHub's stays
    // behind, so the comments below are stamped before the change: written then, delivered late.
    const closed = await after(HOUR + 5_000, run, id, (a) => a.window !== null);
    expect(closed.awaiting).toContain(`1 more override of ${window}, with a reason, from @carol`);
    await world.comment(issue!.number, 'alice', '/approve', repository);
    await world.comment(issue!.number, 'carol', '/approve looks good to me', repository);
    expect((await world.poll(run, id)).body).toMatchObject({ status: 'pending' });
    expect(await auditTypes(id)).not.toContain('override');
    const refused = (await world.audit(id)).filter((e) => e.type === 'vote_refused' && e.actor === 'carol').map((e) => String(e.facts.reason));
    expect(refused).toEqual([expect.stringContaining(`before \`${window}\` closed the request`)]);
    // Ended while the App's clock is still on, so what it queues is due before the clock goes back.
    expect((await world.api('POST', `/api/v1/requests/${id}/cancel`, await world.token(run), { reason: 'job_cancelled' })).status).toBe(200);
    opened.splice(opened.findIndex((o) => o.id === id), 1);
    await world.settle();
  });
});

describe('a request decided again when a freeze ends counts its standing approvals as a vote would', () => {
  const freeze = (now: number) => `  - name: short
    time_zone: UTC
    start: ${local(now - HOUR)}
    end: ${local(now + HOUR)}
    mode: require
    override: { approvers: [carol] }
`;
  /** A pull request run waiting in the freeze, with alice's approval for the rule. */
  async function approvedPull(repository: string, head: string) {
    const pr = await world.control.openPull({ repository, user: 'mallory', title: head, head, files: { [`src/${head}.ts`]: 'export {};\n' } });
    const run = job({ repository, ref: `refs/pull/${pr.number}/merge`, sha: pr.merge_sha, event_name: 'pull_request', head_ref: head, base_ref: 'main' });
    const { status, body } = await world.open(run, { action: 'deploy' });
    expect(status).toBe(200);
    opened.push({ run, id: body.id as string });
    await world.comment(pr.number, 'alice', '/approve', repository);
    expect((await world.poll(run, body.id as string)).body).toMatchObject({ status: 'pending', approved_by: ['alice'] });
    return { pr, run, id: body.id as string };
  }

  it('fails the request when its pull request has moved on meanwhile', async () => {
    const repository = await repoWithFreeze(freeze(clock()));
    const { pr, run, id } = await approvedPull(repository, 'moved-in-freeze');
    await world.control.pushCommit(repository, { branch: 'moved-in-freeze', files: { 'src/later.ts': 'export const later = 1;\n' }, author: 'mallory' });
    const done = await after(HOUR + 5_000, run, id, (a) => a.status !== 'pending');
    expect(done).toMatchObject({ status: 'failed', reason: expect.stringContaining(`pull request #${pr.number} was updated after this run started`) });
  });

  it('counts only the approvals that stand when it counts: one withdrawn while the approvers are looked up again does not approve', async () => {
    const repository = await repoWithFreeze(freeze(clock()));
    const head = 'withdrawn-in-freeze';
    const pr = await world.control.openPull({ repository, user: 'mallory', title: head, head, files: { [`src/${head}.ts`]: 'export {};\n' } });
    const run = job({ repository, ref: `refs/pull/${pr.number}/merge`, sha: pr.merge_sha, event_name: 'pull_request', head_ref: head, base_ref: 'main' });
    const { body } = await world.open(run, { action: 'deploy' });
    const id = body.id as string;
    opened.push({ run, id });
    const { comment } = await world.control.comment({ repository, issue_number: pr.number, user: 'alice', body: '/approve' });
    await world.settle();
    expect((await world.poll(run, id)).body).toMatchObject({ status: 'pending', approved_by: ['alice'] });
    // When the freeze ends, alice's approval has been read and looked up again; before it is counted,
    // she deletes her comment, which withdraws it.
    const { store } = world.app;
    const recountVotes = store.recountVotes.bind(store);
    const spy = jest.spyOn(store, 'recountVotes').mockImplementation(async (recount) => {
      if (spy.mock.calls.length === 1) {
        await world.control.deleteComment({ repository, comment_id: comment.id as number, user: 'alice' });
        await eventually(() => store.listVotes(id), (votes) => votes.length === 0);
      }
      const result = await recountVotes(recount);
      counted = true;
      return result;
    });
    let counted = false;
    try {
      await after(HOUR + 5_000, run, id, (a) => a.window === null || (a.window as { closed_by: string[] }).closed_by.length === 0);
      await eventually(() => Promise.resolve(counted), (done) => done);
      expect((await world.poll(run, id)).body).toMatchObject({ status: 'pending', approved_by: [] });
      expect(await auditTypes(id)).toContain('vote_withdrawn');
    } finally {
      spy.mockRestore();
    }
    await world.api('POST', `/api/v1/requests/${id}/cancel`, await world.token(run), { reason: 'job_cancelled' });
    await world.settle();
  });

  it('does not count an approver who has lost write access meanwhile, and says so in the audit trail', async () => {
    const repository = await repoWithFreeze(freeze(clock()));
    const { run, id } = await approvedPull(repository, 'lost-access-in-freeze');
    await world.control.setPermission(repository, 'alice', 'read');
    await after(HOUR + 5_000, run, id, (a) => a.window === null || (a.window as { closed_by: string[] }).closed_by.length === 0);
    const audit = await eventually(() => auditTypes(id), (types) => types.includes('vote_no_longer_counts'));
    expect(audit).toContain('vote_no_longer_counts');
    expect((await world.poll(run, id)).body).toMatchObject({ status: 'pending' });
    // Ended while the App's clock is still ahead, so that its publication is not queued an hour into the next test's future.
    await world.api('POST', `/api/v1/requests/${id}/cancel`, await world.token(run), { reason: 'job_cancelled' });
    await world.settle();
  });
});

describe('a freeze with mode: wait that gives way to one with mode: reject', () => {
  it('never tells anyone the request may go ahead: only that it was rejected', async () => {
    const now = clock();
    const repository = await repoWithFreeze(`  - name: maintenance
    time_zone: UTC
    start: ${local(now - HOUR)}
    end: ${local(now + HOUR)}
  - name: launch-day
    time_zone: UTC
    start: ${local(now + HOUR)}
    end: ${local(now + 3 * HOUR)}
    mode: reject
    message: Launch day; nothing ships.
`);
    const { run, id, answer } = await open(repository);
    expect(answer).toMatchObject({ status: 'pending', window: { held: true, closed_by: ['maintenance'] } });

    await after(HOUR + 5_000, run, id, (a) => a.status !== 'pending');
    expect((await world.poll(run, id)).body).toMatchObject({ status: 'rejected', reason: expect.stringContaining('Launch day; nothing ships.') });
    const events = await eventually(async () => notificationsOf(id), (found) => found.some((n) => n.event === 'decided'));
    await world.settle();
    // A `released` notification here would say "may go ahead" of a request that is rejected in the same moment.
    expect(notificationsOf(id).map((n) => n.event)).toEqual(['decided']);
    expect(events.find((n) => n.event === 'decided')).toMatchObject({ decision: { status: 'rejected' } });
  });
});

describe('a freeze with mode: reject', () => {
  it('ends the request at once with the message', async () => {
    const now = clock();
    const repository = await repoWithFreeze(`  - name: launch-day
    time_zone: UTC
    start: ${local(now - HOUR)}
    end: ${local(now + HOUR)}
    mode: reject
    message: Launch day; nothing ships.
`);
    const run = job({ repository });
    const { status, body } = await world.open(run, { action: 'deploy' });
    expect(status).toBe(200);
    expect(body).toMatchObject({ status: 'rejected', reason: expect.stringContaining('Launch day; nothing ships.') });
    const checkRun = await world.checkRunOf(body.id as string, repository);
    expect(checkRun).toMatchObject({ conclusion: 'failure' });
    expect(checkRun?.output.title).toContain('Launch day; nothing ships.');
    expect(await auditTypes(body.id as string)).toContain('window_rejected');
  });
});
