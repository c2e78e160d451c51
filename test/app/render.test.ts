import { describe, expect, it } from '@jest/globals';
import type { GateRequest } from '../../app/gate/request.js';
import { checkRunContent } from '../../app/render/check-run.js';
import { statusReport } from '../../app/render/deployment.js';
import { approversOf } from '../../app/gate/notifications.js';
import { approversLine, issueTitle, requestMarker, threadBody } from '../../app/render/thread.js';
import { decisionOf, gateRequest as request, REQUIREMENT } from './gate-request.js';
import { rendered } from './markdown.js';

describe('check run content', () => {
  it.each([
    ['a run of its own commit', { environment: undefined }, 'jit: deploy'],
    ["a pull request's run, by the base branch it was judged for", { environment: undefined, eventName: 'pull_request', pullNumber: 7, evaluated: { action: 'deploy', changedFiles: [], targetBranch: 'release/2.x' } }, 'jit: deploy (into release/2.x)'],
    ["a pull request's run that failed before it was judged", { environment: undefined, eventName: 'pull_request', pullNumber: 7 }, 'jit: deploy'],
    ['the environment it states', { environment: 'production' }, 'jit: deploy to production'],
    ['the environment and severity it states', { environment: 'Production', severity: 'high' }, 'jit: deploy to Production, severity high'],
    ['a severity with no environment', { environment: undefined, severity: 'low' }, 'jit: deploy severity low'],
    ['all of them', { environment: 'prod/eu-1', severity: 'critical', eventName: 'pull_request', pullNumber: 7, evaluated: { action: 'deploy', changedFiles: [], targetBranch: 'main' } }, 'jit: deploy to prod/eu-1, severity critical (into main)'],
    ["a pull request's run of another event", { eventName: 'pull_request_review', pullNumber: 7, evaluated: { action: 'deploy', changedFiles: [], targetBranch: 'main' } }, 'jit: deploy to production (into main, on pull_request_review)'],
    ['a run of its own commit that is not a push', { eventName: 'workflow_dispatch' }, 'jit: deploy to production (on workflow_dispatch)'],
    ['an environment that is not a plain word, quoted', { environment: 'staging eu' }, 'jit: deploy to "staging eu"'],
    ['an environment with hidden characters, written out', { environment: 'prod\u200e\n' }, 'jit: deploy to "prod\\u200e\\n"'],
  ] as [string, Partial<GateRequest>, string][])('is named for the action, and for %s', (_case, overrides, name) => {
    expect(checkRunContent(request(overrides), 'https://jit.example/requests/x').name).toBe(name);
  });

  it('gives different stated facts different names, whatever the texts', () => {
    // A required check is met by the newest check of its name: a request the policy may judge apart must never share it.
    const stated: Partial<GateRequest>[] = [
      { environment: 'production', severity: 'high' },
      { environment: 'production, severity high' },
      { environment: '"production", severity "high"' },
      { environment: 'production' },
      { environment: 'Production' },
      { environment: 'production\u200e' },
      { environment: 'production (into main)' },
      { environment: 'production', eventName: 'pull_request', pullNumber: 7, evaluated: { action: 'deploy', changedFiles: [], targetBranch: 'main' } },
      { environment: 'production', eventName: 'pull_request_review', pullNumber: 7, evaluated: { action: 'deploy', changedFiles: [], targetBranch: 'main' } },
      { environment: 'production', eventName: 'pull_request', pullNumber: 7, evaluated: { action: 'deploy', changedFiles: [], targetBranch: 'main, on push' } },
      { environment: 'production', eventName: 'workflow_dispatch' },
      { environment: undefined, severity: 'high' },
      { environment: undefined, severity: 'high (into main)' },
      { environment: undefined, severity: 'high', eventName: 'pull_request', pullNumber: 7, evaluated: { action: 'deploy', changedFiles: [], targetBranch: 'main' } },
      { environment: undefined },
    ];
    const names = stated.map((overrides) => checkRunContent(request(overrides), 'https://jit.example/requests/x').name);
    expect(new Set(names).size).toBe(stated.length);
  });

  it('offers Approve and Reject only while pending, within GitHub\'s limits', () => {
    const pending = checkRunContent(request(), 'https://jit.example/requests/x');
    expect(pending).toMatchObject({ name: 'jit: deploy to production', conclusion: 'action_required', externalId: request().id });
    expect(pending.buttons.map((b) => b.identifier)).toEqual(['jit-approve', 'jit-reject']);
    for (const button of pending.buttons) {
      expect(button.label.length).toBeLessThanOrEqual(20);
      expect(button.identifier.length).toBeLessThanOrEqual(20);
      expect(button.description.length).toBeLessThanOrEqual(40);
    }
    expect(pending.title).toContain('0 of 2 approvals (production)');
    expect(pending.summary).toContain('not @mallory, who started the run');

    const approve = (login: string) => ({ login, choice: 'approve' as const, note: '', via: 'comment', at: '2030-01-01T00:00:00Z', eligibleFor: [0] });
    const approved = checkRunContent(request({ status: 'approved', reason: 'quorum', votes: [approve('bob'), approve('alice')] }), 'u');
    expect(approved.conclusion).toBe('success');
    expect(approved.buttons).toEqual([]);
    expect(approved.title).toContain('approved by @bob, @alice');
    expect(JSON.parse(approved.text!.split('```json\n')[1].split('\n```')[0])).toMatchObject({ status: 'approved', votes: [{ login: 'bob' }, { login: 'alice' }] });
  });

  it('maps every final status to its conclusion and shows policy errors as file:line:col', () => {
    const conclusion = (status: GateRequest['status']) => checkRunContent(request({ status }), 'u').conclusion;
    expect(['rejected', 'failed', 'timed_out', 'cancelled'].map((s) => conclusion(s as GateRequest['status']))).toEqual(['failure', 'failure', 'timed_out', 'cancelled']);
    const broken = checkRunContent(request({ status: 'failed', reason: 'the approval policy is invalid', decision: undefined, problems: ['.github/jit-approval.yml:5:27: bad'] }), 'u');
    expect(broken.summary).toContain('.github/jit-approval.yml:5:27: bad');
  });

  it("names in its decision record only the approvers whose approvals count, as the App's API does", () => {
    const voter = (login: string, permission: 'write' | 'none', teams: string[] = []) => ({ login, id: login, isBot: false, permission, teams });
    const votes = [
      { login: 'bob', choice: 'approve' as const, note: '', via: 'comment', at: 't', eligibleFor: [0], voter: voter('bob', 'write') },
      // Eligible when voting; looked up again before the request completed, no longer in @acme/leads.
      { login: 'carol', choice: 'approve' as const, note: '', via: 'comment', at: 't', eligibleFor: [0], voter: voter('carol', 'write') },
      { login: 'alice', choice: 'approve' as const, note: '', via: 'comment', at: 't', eligibleFor: [0], voter: voter('alice', 'write') },
    ];
    const text = checkRunContent(request({ status: 'approved', reason: 'quorum', votes }), 'u').text!;
    const record = JSON.parse(/```json\n([\s\S]*?)\n```/.exec(text)![1]) as { approved_by: string[]; votes: { login: string }[] };
    expect(record.votes.map((v) => v.login)).toEqual(['bob', 'carol', 'alice']);
    expect(record.approved_by).toEqual(['bob', 'alice']);
  });

  it('keeps the output under GitHub\'s 65,535 characters', () => {
    const votes = Array.from({ length: 2000 }, (_, i) => ({ login: `user${i}`, choice: 'approve' as const, note: 'x'.repeat(40), via: 'comment', at: 't', eligibleFor: [] }));
    const content = checkRunContent(request({ votes }), 'u');
    expect(content.summary.length).toBeLessThanOrEqual(65_535);
    expect(content.text!.length).toBeLessThanOrEqual(65_535);
  });
});

describe("a job-level request's status report on the run page", () => {
  const checkRun = { id: 9, url: 'https://github.example/acme/web/runs/9' };
  it.each([
    ['a pull request, and the buttons', { pullNumber: 7, checkRun }, 'To vote, comment /approve or /reject on pull request #7 or use the buttons on https://github.example/acme/web/runs/9.'],
    ['its approval issue, and the buttons', { issue: { number: 3, url: 'https://github.example/acme/web/issues/3' }, checkRun }, 'To vote, comment /approve or /reject on issue #3 or use the buttons on https://github.example/acme/web/runs/9.'],
    ['the buttons alone where GitHub took no approval issue', { checkRun }, 'To vote, use the buttons on https://github.example/acme/web/runs/9.'],
  ] as [string, Partial<GateRequest>, string][])('says where to vote: %s', (_case, overrides, where) => {
    expect(statusReport(request(overrides), new Date())).toContain(` ${where}`);
  });
});

describe('thread body', () => {
  it('mentions approvers while pending and links the decision record once final', () => {
    const pending = threadBody(request({ summary: 'Deploy v2\nwith migrations' }), { checkRunUrl: 'https://github/run/1', approvers: '@alice, @bob' });
    expect(pending).toContain('<!-- mercurial-jit request 7f1c4a4e-0000-4000-8000-000000000001 -->');
    expect(pending).toContain('Approvers: @alice, @bob');
    expect(pending).toContain('> Deploy v2\n> with migrations');
    const done = threadBody(request({ status: 'timed_out' }), { checkRunUrl: 'https://github/run/1', approvers: '@alice' });
    expect(done).not.toContain('Approvers:');
    expect(done).toContain('Decision record: https://github/run/1');
  });

  it('@-mentions at most 50 people or teams in all, the Approvers line counting the rest', () => {
    // GitHub notifies only the first 50 distinct people or teams a comment mentions, in order.
    const users = Array.from({ length: 60 }, (_, i) => `user${i}`);
    const requirement = { ...REQUIREMENT, approvers: { ...REQUIREMENT.approvers, codeowners: false as const, owners: [], users, teams: ['@acme/sre'] } };
    const vote = { login: 'user0', choice: 'approve' as const, note: '', via: 'comment', at: '2025-03-01T10:00:00Z', eligibleFor: [0] };
    const pending = request({ decision: decisionOf(requirement), votes: [vote], requesters: [{ login: 'mallory', role: 'started the run' }, { login: 'erin', role: 'opened a pull request the run ships' }] });
    const body = threadBody(pending, { approvers: approversLine(pending, approversOf(pending)) });
    const handles = [...rendered(body).prose.matchAll(/(?<![\w`])@([A-Za-z0-9-]+(?:\/[A-Za-z0-9_.-]+)?)/g)].map((m) => m[1].toLowerCase());
    const notified = [...new Set(handles)].slice(0, 50);
    const line = body.split('\n').find((l) => l.startsWith('Approvers: '))!;
    const named = [...line.matchAll(/@([A-Za-z0-9-]+(?:\/[A-Za-z0-9_.-]+)?)/g)].map((m) => m[1].toLowerCase());
    expect(new Set(handles).size).toBeLessThanOrEqual(50);
    expect(named.filter((handle) => !notified.includes(handle))).toEqual([]);
    expect(named[0]).toBe('acme/sre');
    expect(line).toMatch(/ and \d+ more$/);
  });
});

/** A fake decision line: what an attacker would like the thread to show. */
const FAKE_DECISION = '### `deploy` to `production` approved by @alice';
/** Text written by the workflow or a commenter, trying every way out of its place. */
const HOSTILE = [
  `a lone carriage return\r${FAKE_DECISION}`,
  `a line separator\u2028${FAKE_DECISION}`,
  'cc @mallory-friend and @acme/secret-team, fixes acme/web#1',
  '![Approved](https://evil.example/approved.png) [Approve](https://evil.example/approve)',
  '<!-- mercurial-jit request 00000000-0000-4000-8000-000000000000 --><img src="https://evil.example/x.png">',
  '```',
  '',
  FAKE_DECISION,
  '',
  '````',
  '`` ` `` and a trailing backtick `',
  '\u202eesrever\u202c bidi override',
].join('\n');

/** Everything hostile stayed inside code, where GitHub renders it literally, and is still shown there. */
function expectContained(markdown: string, options: { headings: number; html: string[]; shows: boolean }) {
  const md = rendered(markdown);
  expect(md.prose).not.toMatch(/@mallory-friend|@acme\/secret-team|acme\/web#1|approved by @alice|evil\.example|<img/);
  expect(md.images).toEqual([]);
  expect(md.links.filter((url) => url.includes('evil'))).toEqual([]);
  expect(md.html).toEqual(options.html);
  expect(md.headings).toHaveLength(options.headings);
  expect(markdown).not.toMatch(/[\r\u2028\u202e\u202c]/);
  if (options.shows) expect(md.code).toContain('cc @mallory-friend and @acme/secret-team');
  return md;
}

describe('text the App did not write', () => {
  const hostileVote = (login: string, choice: 'approve' | 'reject') => ({ login, choice, note: HOSTILE, via: 'comment', at: '2030-01-01T00:00:00Z', eligibleFor: [0] });
  const hostile = (overrides: Partial<GateRequest> = {}) => request({
    environment: `prod\`uction @mallory-friend\n${FAKE_DECISION}`,
    severity: 'high` @acme/secret-team',
    ref: 'refs/heads/`@mallory-friend`',
    summary: HOSTILE,
    ...overrides,
  });
  const rejected = hostile({ status: 'rejected', reason: HOSTILE, votes: [hostileVote('bob', 'approve'), hostileVote('carol', 'reject')] });

  it('stays inside code in the PR comment or approval issue, pending and decided', () => {
    const links = { checkRunUrl: 'https://github.example/run/1', approvers: '@bob' };
    for (const subject of [hostile(), rejected]) {
      const body = threadBody(subject, links);
      const md = expectContained(body, { headings: 1, html: [requestMarker(subject.id)], shows: true });
      expect(md.headings[0]).toMatch(subject.status === 'pending' ? /^Waiting for approval of deploy to prod`uction/ : /^deploy to prod`uction .* rejected by @carol: a lone carriage return /);
    }
    // The summary is a quoted code block: shown in full, line by line.
    expect(threadBody(hostile(), links)).toContain(`> a lone carriage return\n> ${FAKE_DECISION}\n> a line separator\n> ${FAKE_DECISION}\n`);
  });

  it('stays inside code in the check run, and the title is one plain line', () => {
    for (const subject of [hostile(), rejected]) {
      const content = checkRunContent(subject, 'u');
      // The workflow's summary is not on the check run; a decided one shows the votes.
      expectContained(content.summary, { headings: 0, html: [], shows: subject.status !== 'pending' });
      expect(rendered(content.text!).prose).not.toMatch(/@mallory-friend|evil\.example/);
      // The decision record keeps the text whole, with the misleading characters escaped.
      expect(content.text).not.toMatch(/[\r\u2028\u202e]/);
      expect(recordOf(content.text!).reason).toBe(subject.reason);
      expect(content.title).not.toMatch(/[\r\n\u2028\u202e]/);
    }
    expect(checkRunContent(rejected, 'u').title).toMatch(/^`deploy` to `prod`uction @mallory-friend ### .*` rejected by @carol: a lone carriage return ###/);
  });

  it('cannot break the approval issue\'s title into lines, nor push it past GitHub\'s 256 characters', () => {
    expect(issueTitle(hostile())).toBe('Approval needed: deploy to prod`uction @mallory-friend ### `deploy` to `production` approved by @alice (run 42)');
    const long = issueTitle(request({ action: 'a'.repeat(100), environment: '👩‍👩‍👧‍👦'.repeat(23) }));
    expect(long.length).toBeLessThanOrEqual(256);
    expect(long).toMatch(/^Approval needed: a{100} to (👩‍👩‍👧‍👦)+… \(run 42\)$/u);
  });

  it('is shown as code even when it is one backtick or nothing visible', () => {
    const note = (text: string) => threadBody(request({ votes: [{ ...hostileVote('bob', 'approve'), note: text }] }), { approvers: '' });
    expect(note('`')).toContain('- @bob approved via comment: `` ` `` (');
    expect(note('\u202e')).toContain('- @bob approved via comment: *(empty)* (');
  });
});

const FAMILY = '👩‍👩‍👧‍👦'; // one grapheme of 7 code points, 11 UTF-16 code units, 25 bytes
const bytes = (text: string) => Buffer.byteLength(text, 'utf8');
/** A lone surrogate would be a character cut in half. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Text cut only between whole emoji: no half surrogate pair, no family missing a member. */
function expectWholeEmoji(text: string) {
  expect(text).not.toMatch(LONE_SURROGATE);
  expect(text.replaceAll(FAMILY, '')).not.toMatch(/[\u200d👩👧👦]/u);
}

function recordOf(text: string) {
  return JSON.parse(/```json\n([\s\S]*?)\n```/.exec(text)![1]) as Record<string, unknown> & { votes: { login: string; note: string }[] };
}

describe('GitHub\'s size limits', () => {
  const vote = (login: string, choice: 'approve' | 'reject', note: string) => ({ login, choice, note, via: 'comment', at: '2030-01-01T00:00:00Z', eligibleFor: [0] });

  it('a 40,000-character reason: the decision line stays whole, the reason is cut and says so', () => {
    const reason = `not now ${'x'.repeat(40_000)}`;
    const rejected = request({ status: 'rejected', reason, votes: [vote('alice', 'reject', reason)] });
    const body = threadBody(rejected, { checkRunUrl: 'https://github.example/run/1', approvers: '' });
    expect(body.length).toBeLessThanOrEqual(65_536);
    expect(rendered(body).headings).toEqual([`deploy to production rejected by @alice: not now ${"x".repeat(192)}… (39,808 more characters not shown)`]);
    expect(body).toContain('more characters not shown)*');
    expect(body).toContain('Decision record: https://github.example/run/1');

    const content = checkRunContent(rejected, 'u');
    for (const output of [content.summary, content.text!]) expect(bytes(output)).toBeLessThanOrEqual(65_535);
    expect(bytes(content.title)).toBeLessThanOrEqual(255);
    expect(content.title).toMatch(/^`deploy` to `production` rejected by @alice: not now x+…$/);
    const record = recordOf(content.text!);
    expect(record).toMatchObject({ request: rejected.id, action: 'deploy', run: { id: '42', attempt: '1' }, status: 'rejected', votes: [{ login: 'alice' }] });
    expect(record.reason).toMatch(/^not now x{4000,}…$/);
    expect(record.shortened).toContain('65,535 bytes');
  });

  it('emoji notes: the check run stays within 65,535 bytes, cut between whole emoji', () => {
    const note = FAMILY.repeat(6_000); // 150,000 bytes
    const votes = [vote('alice', 'approve', note), vote('bob', 'approve', note)];
    for (const status of ['pending', 'approved'] as const) {
      const content = checkRunContent(request({ status, reason: 'quorum', votes }), 'u');
      for (const output of [content.summary, content.text!, content.title]) expectWholeEmoji(output);
      expect(bytes(content.summary)).toBeLessThanOrEqual(65_535);
      expect(bytes(content.text!)).toBeLessThanOrEqual(65_535);
      expect(recordOf(content.text!).votes.map((v) => v.login)).toEqual(['alice', 'bob']);
    }
    const body = threadBody(request({ status: 'approved', reason: 'quorum', votes }), { approvers: '' });
    expectWholeEmoji(body);
    expect(rendered(body).headings).toEqual(['deploy to production approved by @alice, @bob']);
  });

  it('thousands of votes: whole entries are left out from the end and the cut is marked', () => {
    const votes = Array.from({ length: 3_000 }, (_, i) => vote(`user${i}`, 'approve', `${FAMILY} looks good`.repeat(20)));
    const pending = request({ votes });
    const content = checkRunContent(pending, 'u');
    expect(bytes(content.summary)).toBeLessThanOrEqual(65_535);
    expect(content.summary).toMatch(/\n\n\*Shortened to fit GitHub's limit of 65,535 bytes: \d+ more entries are not shown\.\*\n\n\nApprove with the \*\*Approve\*\* button/);
    expect(content.buttons).toHaveLength(2);
    const body = threadBody(pending, { approvers: '@alice' });
    expect(body.length).toBeLessThanOrEqual(65_536);
    expect(body).toMatch(/\*Shortened to fit GitHub's limit of 65,536 characters: \d+ more entries are not shown\.\*\n\nApprovers: @alice/);
    // Each vote line that is shown is whole: its note's code span is closed.
    const shownVotes = body.split('\n').filter((line) => line.startsWith('- @user'));
    expect(shownVotes.length).toBeGreaterThan(100);
    for (const line of shownVotes) expect(line).toMatch(/^- @user\d+ approved via comment: `.*` \(2030-01-01T00:00:00Z\)$/u);
    expect(recordOf(content.text!).votes.length).toBeLessThan(3_000);
    expect(bytes(content.text!)).toBeLessThanOrEqual(65_535);
  });
});
