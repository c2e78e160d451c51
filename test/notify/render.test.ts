import { describe, expect, test } from '@jest/globals';
import type { NotificationEvent } from '../../app/notify/event.js';
import { approverStrings } from '../../app/notify/event.js';
import { renderEmail } from '../../app/notify/render-email.js';
import { renderSlack } from '../../app/notify/render-slack.js';
import { formatDuration, headline } from '../../app/notify/render-text.js';
import { renderWebhook } from '../../app/notify/render-webhook.js';
import { decidedEvent, requestedEvent } from './sample-event.js';

const reminder: NotificationEvent = { ...requestedEvent(), kind: 'reminder', occurredAt: '2025-03-01T12:05:00.000Z' };
const escalated: NotificationEvent = { ...requestedEvent(), kind: 'escalated', occurredAt: '2025-03-01T10:30:00.000Z', approvers: ['@acme/sre', '@acme/oncall'], addedApprovers: ['@acme/oncall'] };
const hostile = requestedEvent({ branch: 'x<!channel>&<https://evil|click>', summary: '<b>bold</b> & "quotes"' });

describe('headline', () => {
  test.each([
    [requestedEvent(), 'Approval needed: deploy in acme/payments'],
    [reminder, 'Reminder: deploy in acme/payments still needs approval (pending 2h 5m)'],
    [escalated, 'Escalated: deploy in acme/payments still needs approval after 30m'],
    [decidedEvent({ status: 'approved', by: 'lee' }), 'Approved: deploy in acme/payments'],
    [decidedEvent({ status: 'rejected', by: 'lee', reason: 'no' }), 'Rejected: deploy in acme/payments'],
    [decidedEvent({ status: 'timed_out', by: 'app' }), 'Timed out: deploy in acme/payments'],
    [decidedEvent({ status: 'cancelled', by: 'dana' }), 'Cancelled: deploy in acme/payments'],
    [{ ...requestedEvent(), kind: 'released', releasedFrom: ['weekend'] } as NotificationEvent, 'Released: deploy in acme/payments may go ahead now that weekend has opened; it needs approval'],
    [{ ...requestedEvent(), override: { windows: ['freeze end-of-year'], messages: ['Outages only.'], by: [] } }, '⚠️ Needs an override of freeze end-of-year: Approval needed: deploy in acme/payments'],
    [{ ...decidedEvent({ status: 'approved', by: 'lee' }), override: { windows: ['freeze end-of-year'], messages: [], by: [{ login: 'lee', reason: 'outage' }] } }, '⚠️ OVERRIDE of freeze end-of-year: Approved: deploy in acme/payments'],
  ])('%#', (event, expected) => {
    expect(headline(event)).toBe(expected);
  });

  test('an override is in the facts of every renderer, with who and why', () => {
    const event: NotificationEvent = { ...decidedEvent({ status: 'approved', by: 'lee' }), override: { windows: ['freeze end-of-year'], messages: [], by: [{ login: 'lee', reason: 'payments are down' }] } };
    expect(renderEmail(event, '[JIT]').text).toContain('Override:');
    expect(renderEmail(event, '[JIT]').text).toContain('freeze end-of-year overridden by lee: payments are down');
    expect(renderEmail(event, '[JIT]').subject).toBe('[JIT] ⚠️ OVERRIDE of freeze end-of-year: Approved: deploy in acme/payments');
    expect(JSON.stringify(renderSlack(event).blocks)).toContain('freeze end-of-year overridden by lee: payments are down');
  });
});

test.each([
  [0, '0s'],
  [45, '45s'],
  [60, '1m'],
  [1800, '30m'],
  [7200, '2h'],
  [7500, '2h 5m'],
  [7501, '2h 5m'],
  [90061, '1d 1h'],
])('formatDuration(%d) = %s', (seconds, expected) => {
  expect(formatDuration(seconds)).toBe(expected);
});

describe('renderSlack', () => {
  const fieldsOf = (event: NotificationEvent) =>
    renderSlack(event)
      .blocks.flatMap((block) => ('fields' in block && block.fields ? block.fields : []))
      .map((field) => field.text);

  test('a request: header, summary, facts, buttons with the check run first and primary, context', () => {
    const message = renderSlack(requestedEvent());
    expect(message.blocks.map((b) => b.type)).toEqual(['header', 'section', 'section', 'actions', 'context']);
    expect(message.blocks[1]).toEqual({ type: 'section', text: { type: 'mrkdwn', text: 'Roll out payments v2.3 to production' } });
    expect(fieldsOf(requestedEvent())).toEqual([
      '*Repository*\nacme/payments',
      '*Action*\ndeploy',
      '*Requested by*\ndana',
      '*Branch*\nmain',
      '*Commit*\n9fceb02',
      '*Environment*\nproduction',
      '*Severity*\nhigh',
      '*Matched rules*\nproduction',
      '*Who may approve*\n@acme/sre, @lee, role:maintain (2 approvals needed)',
    ]);
    expect(message.blocks[3]).toEqual({
      type: 'actions',
      elements: [
        { type: 'button', text: { type: 'plain_text', text: 'Review and approve' }, url: 'https://github.com/acme/payments/runs/123', style: 'primary' },
        { type: 'button', text: { type: 'plain_text', text: 'View pull request' }, url: 'https://github.com/acme/payments/pull/42' },
      ],
    });
    expect(message.blocks[4]).toEqual({ type: 'context', elements: [{ type: 'mrkdwn', text: 'Request req-7f3a · requested 2025-03-01T10:00:00.000Z' }] });
  });

  test('the decision follow-up names the decision and its author, and its buttons are plain links', () => {
    const message = renderSlack(decidedEvent({ status: 'rejected', by: 'lee', reason: 'freeze week' }));
    expect(fieldsOf(decidedEvent({ status: 'rejected', by: 'lee', reason: 'freeze week' }))).toContain('*Decision*\nRejected by lee: freeze week');
    const actions = message.blocks.find((b) => b.type === 'actions');
    expect(JSON.stringify(actions)).not.toContain('primary');
    expect(JSON.stringify(actions)).toContain('View check run');
  });

  test('an escalation lists who it added', () => {
    expect(fieldsOf(escalated)).toContain('*Added by escalation*\n@acme/oncall');
  });

  test('an approval issue link replaces the pull request button; optional facts are left out', () => {
    const event = requestedEvent({ links: { checkRun: 'https://github.com/r/1', issue: 'https://github.com/acme/payments/issues/9' } as never, branch: undefined, environment: undefined, summary: undefined });
    const message = renderSlack(event);
    expect(message.blocks.map((b) => b.type)).toEqual(['header', 'section', 'actions', 'context']);
    expect(JSON.stringify(message)).toContain('View approval issue');
    expect(fieldsOf(event).some((f) => f.startsWith('*Branch*') || f.startsWith('*Environment*'))).toBe(false);
  });

  test('text from the run is escaped: no forged links or channel pings', () => {
    const text = JSON.stringify(renderSlack(hostile));
    expect(text).toContain('x&lt;!channel&gt;&amp;&lt;https://evil|click&gt;');
    expect(text).toContain('&lt;b&gt;bold&lt;/b&gt; &amp; \\"quotes\\"');
    expect(text).not.toContain('<!channel>');
  });

  test('text from commenters is escaped too: a reject reason cannot ping the channel or a user', () => {
    const text = JSON.stringify(renderSlack(decidedEvent({ status: 'rejected', by: 'lee', reason: '<!channel> <@U024BE7LH> <!subteam^S1|team> & more' })));
    expect(text).toContain('*Decision*\\nRejected by lee: &lt;!channel&gt; &lt;@U024BE7LH&gt; &lt;!subteam^S1|team&gt; &amp; more');
    expect(text).not.toMatch(/<!channel>|<@U|<!subteam/);
  });

  test('long text is cut between whole characters, never inside an emoji', () => {
    const family = '👩‍👩‍👧‍👦';
    const message = renderSlack(requestedEvent({ summary: family.repeat(500) }));
    const section = (message.blocks[1] as { text: { text: string } }).text.text;
    expect(section.length).toBeLessThanOrEqual(3000);
    expect(section).toBe(`${family.repeat(272)}…`);
  });

  test('links that are not http(s) are never rendered', () => {
    const message = renderSlack(requestedEvent({ links: { checkRun: 'javascript:alert(1)' } as never }));
    expect(message.blocks.some((b) => b.type === 'actions')).toBe(false);
  });

  test('long values stay within Block Kit limits', () => {
    const message = renderSlack(requestedEvent({ action: 'a'.repeat(400), matchedRules: ['r'.repeat(5000)] }));
    const header = message.blocks[0] as { text: { text: string } };
    expect(header.text.text).toHaveLength(150);
    expect(Math.max(...fieldsOf(requestedEvent({ matchedRules: ['r'.repeat(5000)] })).map((f) => f.length))).toBe(2000);
  });
});

describe('renderEmail', () => {
  test('subject, aligned plain text and an HTML table', () => {
    const mail = renderEmail(requestedEvent(), '[JIT approval]');
    expect(mail.subject).toBe('[JIT approval] Approval needed: deploy in acme/payments');
    expect(mail.text).toBe(
      [
        'Approval needed: deploy in acme/payments',
        '',
        'Roll out payments v2.3 to production',
        '',
        'Repository:      acme/payments',
        'Action:          deploy',
        'Requested by:    dana',
        'Branch:          main',
        'Commit:          9fceb02',
        'Environment:     production',
        'Severity:        high',
        'Matched rules:   production',
        'Who may approve: @acme/sre, @lee, role:maintain (2 approvals needed)',
        '',
        'Review and approve: https://github.com/acme/payments/runs/123',
        'View pull request: https://github.com/acme/payments/pull/42',
        '',
        'Request req-7f3a, requested 2025-03-01T10:00:00.000Z.',
        '',
      ].join('\n'),
    );
    expect(mail.html).toContain('<tr><th align="left">Requested by</th><td>dana</td></tr>');
    expect(mail.html).toContain('<a href="https://github.com/acme/payments/runs/123">Review and approve</a> · <a href="https://github.com/acme/payments/pull/42">View pull request</a>');
  });

  test('everything in the HTML part is escaped; the text part stays literal', () => {
    const mail = renderEmail(hostile, '[JIT]');
    expect(mail.html).toContain('<p>&lt;b&gt;bold&lt;/b&gt; &amp; &quot;quotes&quot;</p>');
    expect(mail.html).toContain('<td>x&lt;!channel&gt;&amp;&lt;https://evil|click&gt;</td>');
    expect(mail.html).not.toMatch(/<b>|<!channel>/);
    expect(mail.text).toContain('<b>bold</b> & "quotes"');
  });

  test('a subject is always one line', () => {
    expect(renderEmail(requestedEvent({ action: 'deploy\r\nBcc: victim@example.com' }), '[JIT]').subject).toBe('[JIT] Approval needed: deploy Bcc: victim@example.com in acme/payments');
  });

  test('the decision mail carries the decision; a timeout by the App names no person', () => {
    expect(renderEmail(decidedEvent({ status: 'timed_out', by: 'app', reason: 'deadline' }), '[JIT]').text).toMatch(/Decision:\s+Timed out: deadline\n/);
  });
});

describe('renderWebhook', () => {
  test('a request: a stable snake_case shape, absent facts as null', () => {
    expect(renderWebhook(requestedEvent({ environment: undefined }))).toEqual({
      version: 1,
      event: 'requested',
      occurred_at: '2025-03-01T10:00:00.000Z',
      request: {
        id: 'req-7f3a',
        repository: 'acme/payments',
        action: 'deploy',
        requester: 'dana',
        branch: 'main',
        sha: '9fceb02d0ae598e95dc970b74767f19372d61af8',
        environment: null,
        severity: 'high',
        summary: 'Roll out payments v2.3 to production',
        matched_rules: ['production'],
        approvers: ['@acme/sre', '@lee', 'role:maintain'],
        approvals_required: 2,
        requested_at: '2025-03-01T10:00:00.000Z',
        status: 'pending',
        links: { check_run: 'https://github.com/acme/payments/runs/123', pull_request: 'https://github.com/acme/payments/pull/42', issue: null },
      },
      added_approvers: null,
      released_from: null,
      override: null,
      decision: null,
    });
  });

  test('a release and an override say what happened to the window', () => {
    const released = renderWebhook({ ...requestedEvent(), kind: 'released', releasedFrom: ['weekend'] });
    expect([released.event, released.request.status, released.released_from, released.override]).toEqual(['released', 'pending', ['weekend'], null]);
    const override = { windows: ['freeze end-of-year'], messages: [], by: [{ login: 'lee', reason: 'payments are down' }] };
    const decided = renderWebhook({ ...decidedEvent({ status: 'approved', by: 'lee' }), override });
    expect([decided.event, decided.released_from, decided.override]).toEqual(['decided', null, override]);
  });

  test.each([
    [decidedEvent({ status: 'approved', by: 'lee', reason: 'lgtm' }), 'approved', { status: 'approved', by: 'lee', reason: 'lgtm' }, null],
    [decidedEvent({ status: 'timed_out' }), 'timed_out', { status: 'timed_out', by: null, reason: null }, null],
    [escalated, 'pending', null, ['@acme/oncall']],
    [reminder, 'pending', null, null],
  ])('%# status, decision and added approvers', (event, status, decision, added) => {
    const payload = renderWebhook(event);
    expect([payload.event, payload.request.status, payload.decision, payload.added_approvers]).toEqual([event.kind, status, decision, added]);
  });
});

test('approverStrings flattens the evaluator approver set without repeats', () => {
  expect(approverStrings({ codeowners: 'any', owners: ['@acme/web', '@lee', 'ops@example.com'], ownerGroups: [], teams: ['@acme/sre', '@acme/web'], users: ['lee', 'kim'], roles: ['admin'] })).toEqual([
    '@acme/sre',
    '@acme/web',
    '@lee',
    'ops@example.com',
    '@kim',
    'role:admin',
  ]);
});
