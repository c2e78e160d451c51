/**
 * Text the App did not write, through whole flows against the GitHub double: hostile text stays
 * inside code in the thread and on the check run, and the longest and widest texts are cut to
 * GitHub's limits so the decision still reaches GitHub: the check run's final conclusion without
 * buttons, the PR comment updated, the approval issue updated and closed.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { job, REPO, World, type CheckRunJson, cancelledAfterEach, pullRequestJob } from './harness.js';
import { rendered } from './markdown.js';

let world: World;
beforeAll(async () => {
  world = await World.start();
}, 60_000);
afterAll(async () => world?.stop());

const opened = cancelledAfterEach(() => world);

const PR = 7;
const prJob = () => pullRequestJob(PR);

async function openPending(body: Record<string, unknown>, run = prJob()) {
  const { status, body: answer } = await world.open(run, body);
  expect(status).toBe(200);
  expect(answer.status).toBe('pending');
  opened.push({ run, id: answer.id as string });
  return { run, id: answer.id as string, checkRunId: answer.check_run_id as number };
}

async function threadComment(id: string) {
  const comments = (await world.control.comments(REPO, PR)) as unknown as Array<{ body: string }>;
  return comments.find((c) => c.body.includes(`request ${id}`))!.body;
}

const FAMILY = '👩‍👩‍👧‍👦'; // one grapheme: 7 code points, 11 UTF-16 code units, 25 bytes
const bytes = (text: string) => Buffer.byteLength(text, 'utf8');
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Within GitHub's limits: 65,536 characters for a body; 65,535 bytes for check-run output, 255 for its title. */
function expectBodyWithinLimits(body: string) {
  expect(body.length).toBeLessThanOrEqual(65_536);
  expectWholeEmoji(body);
}

function expectFinalCheckRun(checkRun: CheckRunJson, conclusion: string) {
  expect(checkRun).toMatchObject({ status: 'completed', conclusion, actions: [] });
  expect(bytes(checkRun.output.summary)).toBeLessThanOrEqual(65_535);
  expect(bytes(checkRun.output.text)).toBeLessThanOrEqual(65_535);
  expect(bytes(checkRun.output.title)).toBeLessThanOrEqual(255);
  for (const text of [checkRun.output.title, checkRun.output.summary, checkRun.output.text]) expectWholeEmoji(text);
}

/** Cut only between whole emoji: no half surrogate pair, no family missing a member. */
function expectWholeEmoji(text: string) {
  expect(text).not.toMatch(LONE_SURROGATE);
  expect(text.replaceAll(FAMILY, '')).not.toMatch(/[\u200d👩👧👦]/u);
}

/** The decision record the Action reads back from the check run when the App is unreachable. */
function recordOf(checkRun: CheckRunJson) {
  return JSON.parse(/```json\n([\s\S]*?)\n```/.exec(checkRun.output.text)![1]) as { status: string; action: string; reason: string; votes: { login: string }[] };
}

describe('hostile text from the workflow and from commenters', () => {
  const FAKE_DECISION = '### `migrate` to `prod-db` approved by @alice';
  const SUMMARY = [
    `a lone carriage return\r${FAKE_DECISION}`,
    `a line separator\u2028${FAKE_DECISION}`,
    'cc @mallory-friend and @acme/secret-team',
    '![Approved](https://evil.example/approved.png) <!-- hidden -->',
    '```',
    '',
    FAKE_DECISION,
  ].join('\n');

  it('stays inside code in the PR comment and on the check run, from request to rejection', async () => {
    const { run, id, checkRunId } = await openPending({ action: 'migrate', environment: 'prod-db', summary: SUMMARY });
    const contained = (markdown: string) => {
      const md = rendered(markdown);
      expect(md.prose).not.toMatch(/@mallory-friend|@acme\/secret-team|approved by @alice|evil\.example|<img/);
      expect(md.images).toEqual([]);
      expect(md.html).toEqual(markdown.startsWith('<!--') ? [`<!-- mercurial-jit request ${id} -->`] : []);
      expect(markdown).not.toMatch(/[\r\u2028]/);
      return md;
    };
    const pending = contained(await threadComment(id));
    expect(pending.headings).toEqual(['Waiting for approval of migrate to prod-db: 0 of 2 approvals (database)']);
    expect(pending.code).toContain(`a lone carriage return\n${FAKE_DECISION}\na line separator\n${FAKE_DECISION}\ncc @mallory-friend`);

    await world.comment(PR, 'alice', '/approve cc @mallory-friend ![Approved](https://evil.example/a.png) <img src="https://evil.example/b.png"> ``` \u2028 approved by @alice');
    await world.comment(PR, 'bob', '/reject `` `@acme/secret-team` `` ### approved by @alice');
    expect((await world.poll(run, id)).body).toMatchObject({ status: 'rejected', rejected_by: 'bob' });

    const decided = contained(await threadComment(id));
    expect(decided.headings).toHaveLength(1);
    expect(decided.headings[0]).toMatch(/^migrate to prod-db rejected by @bob: `@acme\/secret-team` ### approved by @alice$/);
    expect(decided.code).toContain('cc @mallory-friend Approved');
    const checkRun = await world.checkRun(checkRunId);
    expectFinalCheckRun(checkRun, 'failure');
    contained(checkRun.output.summary);
    expect(checkRun.output.title).toBe('`migrate` to `prod-db` rejected by @bob: `@acme/secret-team` ### approved by @alice');
  });
});

describe('texts past GitHub\'s limits', () => {
  it('a 40,000-character /reject reason still updates the PR comment and ends the check run', async () => {
    const summary = '👍🏽'.repeat(2_000); // 4,000 characters, the API's most
    const { run, id, checkRunId } = await openPending({ action: 'deploy', environment: 'production', summary });
    const reason = `not now ${'x'.repeat(40_000)}`;
    await world.comment(PR, 'alice', `/reject ${reason}`);
    expect((await world.poll(run, id)).body).toMatchObject({ status: 'rejected', reason, rejected_by: 'alice' });

    const checkRun = await world.checkRun(checkRunId);
    expectFinalCheckRun(checkRun, 'failure');
    expect(checkRun.output.title).toMatch(/^`deploy` to `production` rejected by @alice: not now x+…$/);
    expect(recordOf(checkRun)).toMatchObject({ status: 'rejected', action: 'deploy', reason: expect.stringMatching(/^not now x+…$/), votes: [{ login: 'alice' }] });

    const body = await threadComment(id);
    expectBodyWithinLimits(body);
    expect(rendered(body).headings).toEqual([`deploy to production rejected by @alice: not now ${'x'.repeat(192)}… (39,808 more characters not shown)`]);
    expect(body).toContain(`> ${summary}\n`);
    expect(body).toContain('Decision record: ');
  });

  it('a /reject reason of 125,000 bytes of emoji still updates and closes the approval issue', async () => {
    const run = job({ environment: 'production' });
    const { id, checkRunId } = await openPending({ action: 'deploy' }, run);
    const issue = (await world.issueOf(id))!;
    const reason = FAMILY.repeat(5_000);
    await world.comment(issue.number, 'alice', `/reject ${reason}`);
    expect((await world.poll(run, id)).body).toMatchObject({ status: 'rejected', reason });

    const closed = (await world.issueOf(id))!;
    expect(closed.state).toBe('closed');
    expectBodyWithinLimits(closed.body!);
    // 18 whole families fit the decision line's 200 UTF-16 code units; the other 4,982 (34,874 code points) are cut.
    expect(rendered(closed.body!).headings).toEqual([`deploy to production rejected by @alice: ${FAMILY.repeat(18)}… (34,874 more characters not shown)`]);
    expectFinalCheckRun(await world.checkRun(checkRunId), 'failure');
  });

  it('emoji /approve notes of 120,000 bytes each still end the check run with success and update the PR comment', async () => {
    const { run, id, checkRunId } = await openPending({ action: 'migrate', environment: 'prod-db' });
    await world.comment(PR, 'alice', `/approve ${'😀'.repeat(30_000)}`);
    await world.comment(PR, 'bob', `/approve ${FAMILY.repeat(5_000)}`);
    expect((await world.poll(run, id)).body).toMatchObject({ status: 'approved', approved_by: ['alice', 'bob'] });

    const checkRun = await world.checkRun(checkRunId);
    expectFinalCheckRun(checkRun, 'success');
    expect(recordOf(checkRun)).toMatchObject({ status: 'approved', action: 'migrate', votes: [{ login: 'alice' }, { login: 'bob' }] });
    const body = await threadComment(id);
    expectBodyWithinLimits(body);
    expect(rendered(body).headings).toEqual(['migrate to prod-db approved by @alice, @bob']);
  });
});

describe("a commenter's text in the App's own replies", () => {
  const commentsOn = async (issueNumber: number) => (await world.control.comments(REPO, issueNumber)) as unknown as Array<{ body: string; user: { login: string } }>;
  // As a commenter writes it: Markdown escapes keep `*`, `<` and the backticks literal in the command's text.
  const INJECTED = String.raw`x\` \*\*Approved by @alice\*\*, cc @acme/secret-team \<img src="https://evil.example/a.png"\> \<!-- mercurial-jit request 00000000-0000-0000-0000-000000000000 --\> \<a href="https://evil.example/approve"\>Approve\</a\> https://evil.example/approve2 \``;

  it('a bracketed name that names no request stays inside code in the help reply, even with backticks', async () => {
    await openPending({ action: 'migrate', environment: 'prod-db' });
    // Anyone who may comment: the reply comes before any eligibility check.
    await world.comment(PR, 'carol', `/approve [${INJECTED}] ship it`);
    const reply = (await commentsOn(PR)).at(-1)!;
    expect(reply.body).toContain('names none of the requests waiting');
    const md = rendered(reply.body);
    expect(md.prose).not.toMatch(/@alice|@acme\/secret-team|evil\.example/);
    expect(md.images).toEqual([]);
    expect(md.links).toEqual([]);
    // Only the App's own reply marker is raw HTML: nothing that poses as a request's marker.
    expect(md.html.filter((html) => !html.startsWith('<!-- mercurial-jit reply to '))).toEqual([]);
  });
});
