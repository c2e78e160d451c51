import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { signWebhookBody } from '../github-double/index.js';
import { eventually, job, REPO, World, cancelledAfterEach, pullRequestJob } from './harness.js';

let world: World;
beforeAll(async () => {
  // bob writes dozens of commands on one pull request here, many of them refused: each must be answered
  // (test/app/reply-limit.test.ts holds the allowance a person's refused commands have by default).
  world = await World.start({ commandReplies: { perPerson: 1000, windowMs: 3600_000 } });
}, 60_000);
afterAll(async () => world?.stop());

const opened = cancelledAfterEach(() => world);

const PR = 7;
const prJob = () => pullRequestJob(PR);

async function openPending(body: Record<string, unknown> = { action: 'deploy', environment: 'production' }, run = prJob()) {
  const { status, body: answer } = await world.open(run, body);
  expect(status).toBe(200);
  expect(answer.status).toBe('pending');
  opened.push({ run, id: answer.id as string });
  return { run, id: answer.id as string, checkRunId: answer.check_run_id as number, answer };
}

async function commentsOn(issueNumber: number) {
  return (await world.control.comments(REPO, issueNumber)) as Array<{ id: number; body: string; user: { login: string } }>;
}

async function threadComment(id: string) {
  return (await commentsOn(PR)).find((c) => c.body.includes(`request ${id}`))!;
}

describe('a pull request run', () => {
  it('waits with Approve and Reject buttons on the PR head, and one comment on the PR', async () => {
    const { id, checkRunId, answer } = await openPending();
    expect(answer).toMatchObject({ matched_rules: ['production'], approvals_required: 1, eligible_approvers: ['@alice', '@bob'] });
    const checkRun = await world.checkRun(checkRunId);
    // Named for the environment and the base branch too: what main's rules require of pull requests into it.
    expect(checkRun).toMatchObject({ name: 'jit: deploy to production (into main)', status: 'completed', conclusion: 'action_required', details_url: `https://jit.example.test/dashboard/requests/${id}` });
    expect(checkRun.actions.map((a) => a.identifier)).toEqual(['jit-approve', 'jit-reject']);
    const { token } = await world.control.repositoryToken(REPO);
    const headSha = (await (await fetch(`${world.github.apiUrl}/repos/${REPO}/pulls/${PR}`, { headers: { authorization: `Bearer ${token}` } })).json()) as { head: { sha: string } };
    expect(checkRun.head_sha).toBe(headSha.head.sha);
    expect(await threadComment(id)).toBeDefined();
  });

  it('is approved by a code owner\'s /approve comment; the comment is edited in place', async () => {
    const { run, id, checkRunId } = await openPending();
    await world.comment(PR, 'bob', '/approve ship it');
    const { body } = await world.poll(run, id);
    expect(body).toMatchObject({ status: 'approved', reason: 'quorum', approved_by: ['bob'] });
    const checkRun = await world.checkRun(checkRunId);
    expect(checkRun.conclusion).toBe('success');
    expect(checkRun.actions).toEqual([]);
    expect(checkRun.output.text).toContain('"login": "bob"');
    const ours = (await commentsOn(PR)).filter((c) => c.body.includes(`request ${id}`));
    expect(ours).toHaveLength(1);
    expect(ours[0].body).toContain('approved by @bob');
  });

  it('is approved by the Approve button', async () => {
    const { run, id, checkRunId } = await openPending();
    await world.control.clickCheckRunButton({ repository: REPO, check_run_id: checkRunId, user: 'alice', identifier: 'jit-approve' });
    await world.settle();
    expect((await world.poll(run, id)).body).toMatchObject({ status: 'approved', approved_by: ['alice'] });
    expect((await world.checkRun(checkRunId)).conclusion).toBe('success');
  });

  it('notifies the rule\'s notifier when approval is requested and when it is decided', async () => {
    const { id } = await openPending();
    await world.comment(PR, 'bob', '/approve');
    const events = await eventually(async () => world.notifications.filter((n) => n.request.id === id), (found) => found.length >= 2);
    expect(events.map((n) => n.event)).toEqual(['requested', 'decided']);
    expect(events[0].request).toMatchObject({ matched_rules: ['production'], approvers: ['@alice', '@bob'] });
    expect(events[1].decision).toMatchObject({ status: 'approved', by: 'bob' });
  });

  it('is rejected at once by an eligible /reject, with the reason', async () => {
    const { run, id, checkRunId } = await openPending();
    await world.comment(PR, 'alice', '/reject not during the freeze');
    expect((await world.poll(run, id)).body).toMatchObject({ status: 'rejected', reason: 'not during the freeze', rejected_by: 'alice' });
    const checkRun = await world.checkRun(checkRunId);
    expect(checkRun.conclusion).toBe('failure');
    expect(checkRun.output.title).toContain('rejected by @alice: not during the freeze');
  });

  it('needs two different people for a quorum of 2: a second vote by the same person does not count', async () => {
    const { run, id } = await openPending({ action: 'migrate', environment: 'prod-db' });
    await world.comment(PR, 'bob', '/approve');
    await world.comment(PR, 'bob', '/approve again');
    const afterTwice = await world.poll(run, id);
    expect(afterTwice.body).toMatchObject({ status: 'pending', approved_by: ['bob'] });
    expect((await commentsOn(PR)).at(-1)!.body).toContain('already voted');
    await world.comment(PR, 'alice', '/approve');
    expect((await world.poll(run, id)).body).toMatchObject({ status: 'approved', approved_by: ['bob', 'alice'] });
  });

  it('refuses self-approval and a non-owner, and says why', async () => {
    const { run, id } = await openPending();
    // mallory started the run and is not an owner; carol has write access but owns nothing.
    await world.comment(PR, 'mallory', '/approve');
    expect((await commentsOn(PR)).at(-1)!.body).toMatch(/@mallory your vote was not counted: @mallory started the run and may not approve it/);
    await world.comment(PR, 'carol', '/approve');
    expect((await commentsOn(PR)).at(-1)!.body).toMatch(/@carol your vote was not counted: .*not a code owner/);
    expect((await world.poll(run, id)).body).toMatchObject({ status: 'pending', approved_by: [] });
  });

  it('ignores an edited comment, however it now reads', async () => {
    const { run, id } = await openPending();
    const { comment } = await world.comment(PR, 'bob', 'looks fine to me');
    await world.control.editComment({ repository: REPO, comment_id: comment.id, user: 'bob', body: '/approve' });
    await world.settle();
    expect((await world.poll(run, id)).body).toMatchObject({ status: 'pending', approved_by: [] });
  });

  it('answers an unknown or malformed command with help', async () => {
    await openPending();
    await world.comment(PR, 'bob', '/aprove');
    expect((await commentsOn(PR)).at(-1)!.body).toContain('Did you mean `/approve`?');
    await world.comment(PR, 'bob', '/reject');
    expect((await commentsOn(PR)).at(-1)!.body).toContain('needs a reason');
    await world.comment(PR, 'bob', '/reject: not during the freeze');
    expect((await commentsOn(PR)).at(-1)!.body).toContain('`/reject` must be followed by a space or the end of the line');
  });
});

describe('commands that must not count', () => {
  it('ignores commands from bots entirely', async () => {
    const { run, id } = await openPending();
    const before = (await commentsOn(PR)).length;
    await world.comment(PR, 'deploy-bot[bot]', '/approve');
    expect((await world.poll(run, id)).body).toMatchObject({ status: 'pending', approved_by: [] });
    expect((await commentsOn(PR)).length).toBe(before + 1); // the bot's own comment, no reply
  });

  it('answers, and never counts, a command whose opening paragraph is too long to read', async () => {
    const { run, id } = await openPending();
    // GitHub's longest comment, every character of it in the command's paragraph.
    const body = `/approve ${'*['.repeat(32_764)}`;
    expect(body.length).toBe(65_537);
    await world.comment(PR, 'bob', body.slice(0, 65_536));
    expect((await world.poll(run, id)).body).toMatchObject({ status: 'pending', approved_by: [] });
    expect((await commentsOn(PR)).at(-1)!.body).toContain('too long to read as a command');
    await world.comment(PR, 'bob', `/approve ship it\n\n${'*['.repeat(32_000)}`);
    expect((await world.poll(run, id)).body).toMatchObject({ status: 'approved', approved_by: ['bob'] });
  }, 30_000);

  it('ignores a command GitHub renders as code, a table or a heading, without replying', async () => {
    const { run, id } = await openPending();
    const before = (await commentsOn(PR)).length;
    const rendersOtherwise = ['    /approve', '\t/approve ship it', '/approve | now\n--- | ---', '/approve\n==='];
    for (const body of rendersOtherwise) await world.comment(PR, 'bob', body);
    expect((await world.poll(run, id)).body).toMatchObject({ status: 'pending', approved_by: [] });
    expect((await commentsOn(PR)).length).toBe(before + rendersOtherwise.length);
    await world.comment(PR, 'bob', '/approve');
    expect((await world.poll(run, id)).body).toMatchObject({ status: 'approved', approved_by: ['bob'] });
  });

  it('makes a command name its action when several different requests wait on the PR', async () => {
    const deploy = await openPending({ action: 'deploy', environment: 'production' });
    const migrate = await openPending({ action: 'migrate', environment: 'production' });
    await world.comment(PR, 'bob', '/approve looks good');
    expect((await commentsOn(PR)).at(-1)!.body).toContain('several requests are waiting here (`[deploy production]`, `[migrate production]`)');
    await world.comment(PR, 'bob', '/approve [migrate] looks good');
    expect((await world.poll(migrate.run, migrate.id)).body.status).toBe('approved');
    expect((await world.poll(deploy.run, deploy.id)).body.status).toBe('pending');
  });

  it('makes a command name the severity where requests of one action and environment state different ones: each is its own gate', async () => {
    const low = await openPending({ action: 'deploy', environment: 'production', severity: 'low', summary: 'docs only' });
    const high = await openPending({ action: 'deploy', environment: 'production', severity: 'high', summary: 'drops a table' });
    // A bare /approve is for neither: the newer, high one is not what the older one's thread asks about.
    await world.comment(PR, 'bob', '/approve');
    expect((await commentsOn(PR)).at(-1)!.body).toContain('several requests are waiting here (`[deploy production low]`, `[deploy production high]`)');
    expect((await world.poll(high.run, high.id)).body).toMatchObject({ status: 'pending', approved_by: [] });
    await world.comment(PR, 'bob', '/approve [deploy production low] docs are fine');
    expect((await world.poll(low.run, low.id)).body).toMatchObject({ status: 'approved', approved_by: ['bob'] });
    expect((await world.poll(high.run, high.id)).body.status).toBe('pending');
  });

  it('makes a command name the request by its id where only the event tells two apart', async () => {
    const push = await openPending();
    const review = await openPending(undefined, pullRequestJob(PR, { event_name: 'pull_request_review' }));
    await world.comment(PR, 'bob', '/approve');
    expect((await commentsOn(PR)).at(-1)!.body).toContain(`several requests are waiting here (\`[${push.id.slice(0, 8)}]\`, \`[${review.id.slice(0, 8)}]\`)`);
    await world.comment(PR, 'bob', `/approve [${review.id}] reviewed`);
    expect((await world.poll(review.run, review.id)).body).toMatchObject({ status: 'approved', approved_by: ['bob'] });
    expect((await world.poll(push.run, push.id)).body.status).toBe('pending');
    await world.comment(PR, 'bob', `/approve [${push.id.slice(0, 8)}]`);
    expect((await world.poll(push.run, push.id)).body.status).toBe('approved');
  });

  it('never takes a command that names a request which has ended for the one still waiting', async () => {
    const staging = await openPending({ action: 'deploy', environment: 'staging' });
    const production = await openPending({ action: 'deploy', environment: 'production' });
    // The pull request's author ends the staging request; bob's approval of staging must not become production's.
    expect((await world.api('POST', `/api/v1/requests/${staging.id}/cancel`, await world.token(staging.run), { reason: 'job_cancelled' })).status).toBe(200);
    await world.comment(PR, 'bob', '/approve [deploy staging]');
    expect((await commentsOn(PR)).at(-1)!.body).toContain('`[deploy staging]` names none of the requests waiting, and only `[deploy production]` is waiting here');
    await world.comment(PR, 'bob', `/approve [${staging.id.slice(0, 8)}]`);
    expect((await world.poll(production.run, production.id)).body).toMatchObject({ status: 'pending', approved_by: [] });
    await world.comment(PR, 'bob', '/approve [deploy production]');
    expect((await world.poll(production.run, production.id)).body).toMatchObject({ status: 'approved', approved_by: ['bob'] });
  });

  it("takes a name's words as they are: fewer than tell two waiting requests apart name neither", async () => {
    const low = await openPending({ action: 'deploy', environment: 'production', severity: 'low' });
    const unstated = await openPending({ action: 'deploy', environment: 'production' });
    await world.comment(PR, 'bob', '/approve [deploy production]');
    expect((await commentsOn(PR)).at(-1)!.body).toContain(`\`[deploy production]\` fits more than one of the requests waiting, and several requests are waiting here (\`[deploy production low]\`, \`[${unstated.id.slice(0, 8)}]\`)`);
    expect((await world.poll(unstated.run, unstated.id)).body).toMatchObject({ status: 'pending', approved_by: [] });
    expect((await world.poll(low.run, low.id)).body).toMatchObject({ status: 'pending', approved_by: [] });
  });

  it("never reads a note's first word as a name: a request named after it does not catch the approval", async () => {
    const deploy = await openPending({ action: 'deploy', environment: 'production', summary: 'the reviewed deploy' });
    // The workflow's author opens a request whose action is a word approvers write in notes.
    const catcher = await openPending({ action: 'ship', environment: 'production', summary: 'anything' });
    await world.comment(PR, 'bob', '/approve ship it');
    expect((await commentsOn(PR)).at(-1)!.body).toContain('several requests are waiting here (`[deploy production]`, `[ship production]`)');
    expect((await world.poll(catcher.run, catcher.id)).body).toMatchObject({ status: 'pending', approved_by: [] });
    expect((await world.poll(deploy.run, deploy.id)).body).toMatchObject({ status: 'pending', approved_by: [] });
  });

  it("never takes the name the App lists for one request as the start of another's id", async () => {
    const deploy = await openPending({ action: 'deploy', environment: 'production', summary: 'the pull request\'s code' });
    const prefix = deploy.id.slice(0, 8);
    // The workflow's author, who reads the deploy's request id in the job's log, opens a request whose action is that id's start.
    const catcher = await openPending({ action: prefix, environment: 'production', summary: 'rotate the logs' });
    await world.comment(PR, 'bob', '/approve');
    const listed = (await commentsOn(PR)).at(-1)!.body;
    // bob means the catcher, whose action he reads as its name: his vote must not count for the deploy.
    await world.comment(PR, 'bob', `/approve [${prefix}] log rotation is fine`);
    expect((await world.poll(deploy.run, deploy.id)).body).toMatchObject({ status: 'pending', approved_by: [] });
    expect((await commentsOn(PR)).at(-1)!.body).toContain(`\`[${prefix}]\` fits more than one of the requests waiting`);
    await world.comment(PR, 'bob', `/approve [${catcher.id.slice(0, 8)}]`);
    expect((await world.poll(catcher.run, catcher.id)).body).toMatchObject({ status: 'approved', approved_by: ['bob'] });
    expect((await world.poll(deploy.run, deploy.id)).body).toMatchObject({ status: 'pending', approved_by: [] });
    // Nor does the App list the catcher under a name that picks the deploy.
    expect(listed).toContain(`several requests are waiting here (\`[deploy production]\`, \`[${prefix} production]\`)`);
  });

  it('reads a note that starts like an id as a note: only brackets name a request', async () => {
    const { run, id } = await openPending();
    await world.comment(PR, 'bob', '/approve 20261206 release train');
    expect((await world.poll(run, id)).body).toMatchObject({ status: 'approved', approved_by: ['bob'] });
  });

  it('still takes a re-run of the same gate for the newest: a bare command is for it', async () => {
    const first = await openPending();
    const rerun = await openPending();
    await world.comment(PR, 'bob', '/approve');
    expect((await world.poll(rerun.run, rerun.id)).body).toMatchObject({ status: 'approved', approved_by: ['bob'] });
    expect((await world.poll(first.run, first.id)).body.status).toBe('pending');
  });
});

describe('webhook deliveries', () => {
  it('refuses a forged signature with 401', async () => {
    const body = JSON.stringify({ action: 'created', comment: { body: '/approve' } });
    const response = await fetch(`${world.app.url}/api/github/webhooks`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-github-event': 'issue_comment',
        'x-github-delivery': 'forged-1',
        'x-hub-signature-256': signWebhookBody('not-the-secret', body),
      },
      body,
    });
    expect(response.status).toBe(401);
  });

  it('refuses an unsigned delivery with 401, as a forged one', async () => {
    const body = JSON.stringify({ action: 'created', comment: { body: '/approve' } });
    const response = await fetch(`${world.app.url}/api/github/webhooks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-github-event': 'issue_comment', 'x-github-delivery': 'unsigned-1' },
      body,
    });
    expect(response.status).toBe(401);
    expect(await response.text()).toMatch(/X-Hub-Signature-256/);
  });

  it('handles a replayed delivery once', async () => {
    const { run, id } = await openPending({ action: 'migrate', environment: 'prod-db' });
    const { deliveries } = await world.comment(PR, 'bob', '/approve');
    const before = (await commentsOn(PR)).length;
    await world.control.redeliver(deliveries[0]);
    await world.settle();
    const redelivered = (await world.control.deliveries({ event: 'issue_comment' })).at(-1)!;
    expect(redelivered.status).toBe(200);
    expect((await world.poll(run, id)).body).toMatchObject({ status: 'pending', approved_by: ['bob'] });
    // No "already voted" reply either: the replay was not handled at all.
    expect((await commentsOn(PR)).length).toBe(before);
  });
});

describe('a time escalation', () => {
  it('widens who may approve once due, and mentions the new approvers', async () => {
    const run = job({ environment: 'staging' });
    const { body } = await world.open(run, { action: 'deploy' });
    const id = body.id as string;
    expect(body).toMatchObject({ status: 'pending', eligible_approvers: ['@bob'] });
    const issue = (await world.issueOf(id))!;
    await world.comment(issue.number, 'carol', '/approve');
    expect((await commentsOn(issue.number)).at(-1)!.body).toMatch(/@carol your vote was not counted/);

    const escalated = await eventually(() => world.issueOf(id), (found) => found?.body?.includes('@carol') ?? false, 15_000);
    expect(escalated?.body).toContain('Approvers: @bob, @carol');
    await world.comment(issue.number, 'carol', '/approve');
    expect((await world.poll(run, id)).body).toMatchObject({ status: 'approved', approved_by: ['carol'] });
  });
});

describe('a run without a pull request', () => {
  it('opens an approval issue mentioning the approvers, and closes it with the decision', async () => {
    const run = job({ environment: 'production' });
    const { body } = await world.open(run, { action: 'deploy' });
    expect(body.status).toBe('pending');
    const issue = (await world.issueOf(body.id as string))!;
    expect(issue.title).toContain('Approval needed: deploy to production');
    expect(issue.body).toContain('Approvers: @alice, @bob');
    await world.comment(issue.number, 'alice', '/approve');
    expect((await world.poll(run, body.id as string)).body.status).toBe('approved');
    expect((await world.issueOf(body.id as string))?.state).toBe('closed');
  });
});
