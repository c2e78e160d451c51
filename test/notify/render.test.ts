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
    expect(JSON.stringify(renderSlack(event).blocks)).toContain('freeze end-of-year overridden by lee: `payments are down`');
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

  test('a request: header, facts, buttons with the check run first and primary, the summary, context', () => {
    const message = renderSlack(requestedEvent());
    expect(message.blocks.map((b) => b.type)).toEqual(['header', 'section', 'actions', 'section', 'context']);
    expect(fieldsOf(requestedEvent())).toEqual([
      '*Repository*\nacme/payments',
      '*Action*\n`deploy`',
      '*Requested by*\ndana',
      '*Branch*\n`main`',
      '*Commit*\n9fceb02',
      '*Environment*\n`production`',
      '*Severity*\n`high`',
      '*Matched rules*\nproduction',
      '*Who may approve*\n@acme/sre, @lee, role:maintain (2 approvals needed)',
    ]);
    expect(message.blocks[2]).toEqual({
      type: 'actions',
      elements: [
        { type: 'button', text: { type: 'plain_text', text: 'Review and approve' }, url: 'https://github.com/acme/payments/runs/123', style: 'primary' },
        { type: 'button', text: { type: 'plain_text', text: 'View pull request' }, url: 'https://github.com/acme/payments/pull/42' },
      ],
    });
    expect(message.blocks[3]).toEqual({ type: 'section', text: { type: 'mrkdwn', text: "*Workflow's summary (not checked by the App):*\n```\nRoll out payments v2.3 to production\n```", verbatim: true } });
    expect(message.blocks[4]).toEqual({ type: 'context', elements: [{ type: 'mrkdwn', text: 'Request req-7f3a · requested 2025-03-01T10:00:00.000Z', verbatim: true }] });
  });

  test('the decision follow-up names the decision and its author, and its buttons are plain links', () => {
    const message = renderSlack(decidedEvent({ status: 'rejected', by: 'lee', reason: 'freeze week' }));
    expect(fieldsOf(decidedEvent({ status: 'rejected', by: 'lee', reason: 'freeze week' }))).toContain('*Decision*\nRejected by lee: `freeze week`');
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
    expect(JSON.stringify(message)).not.toContain('summary');
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
    expect(text).toContain('*Decision*\\nRejected by lee: `&lt;!channel&gt; &lt;@U024BE7LH&gt; &lt;!subteam^S1|team&gt; &amp; more`');
    expect(text).not.toMatch(/<!channel>|<@U|<!subteam/);
  });

  test('long text is cut between whole characters, never inside an emoji, and keeps its code block closed', () => {
    const family = '👩‍👩‍👧‍👦';
    const message = renderSlack(requestedEvent({ summary: family.repeat(500) }));
    const section = (message.blocks[3] as { text: { text: string } }).text.text;
    expect(section.length).toBeLessThanOrEqual(3000);
    expect(section).toBe(`*Workflow's summary (not checked by the App):*\n\`\`\`\n${family.repeat(267)}…\n\`\`\``);
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
  test('subject, aligned plain text and an HTML table, the summary quoted after them', () => {
    const mail = renderEmail(requestedEvent(), '[JIT approval]');
    expect(mail.subject).toBe('[JIT approval] Approval needed: deploy in acme/payments');
    expect(mail.text).toBe(
      [
        'Approval needed: deploy in acme/payments',
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
        "Workflow's summary (not checked by the App):",
        '> Roll out payments v2.3 to production',
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
    expect(mail.html).toContain('<blockquote><pre style="white-space: pre-wrap">&lt;b&gt;bold&lt;/b&gt; &amp; &quot;quotes&quot;</pre></blockquote>');
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

describe("caller text cannot pass for the App's lines", () => {
  // The workflow's summary is its own text, up to 4,000 characters with line breaks: here it imitates the App's rows and links.
  const FORGED_SUMMARY = [
    'Bump README typo',
    '',
    'Decision:        Approved by lee: reviewed, ship it',
    'Who may approve: nobody else needed (0 approvals needed)',
    '',
    'Review and approve: https://github.com.evil.example/acme/payments/runs/123',
  ].join('\n');
  const REAL_LINK = 'Review and approve: https://github.com/acme/payments/runs/123';

  test('e-mail: the summary comes after every row and link of the App, labelled, every line quoted', () => {
    const mail = renderEmail(requestedEvent({ summary: `${FORGED_SUMMARY}\r\u2028Decision: Approved` }), '[JIT approval]');
    const lines = mail.text.split('\n');
    const label = lines.indexOf("Workflow's summary (not checked by the App):");
    expect(label).toBeGreaterThan(lines.indexOf(REAL_LINK));
    expect(label).toBeGreaterThan(lines.findIndex((line) => line.startsWith('Who may approve:')));
    const quoted = lines.slice(label + 1, lines.indexOf('', label));
    expect(quoted).toEqual([
      '> Bump README typo',
      '>',
      '> Decision:        Approved by lee: reviewed, ship it',
      '> Who may approve: nobody else needed (0 approvals needed)',
      '>',
      '> Review and approve: https://github.com.evil.example/acme/payments/runs/123',
      '>',
      '> Decision: Approved',
    ]);
    // No line but the App's own reads as a row or a link.
    expect(lines.filter((line) => /^(Decision|Who may approve|Review and approve):/.test(line))).toEqual(['Who may approve: @acme/sre, @lee, role:maintain (2 approvals needed)', REAL_LINK]);
    // In the HTML part it is escaped and preformatted, in a quote after the App's links.
    const html = mail.html;
    expect(html.indexOf('<blockquote><pre style="white-space: pre-wrap">Bump README typo\n')).toBeGreaterThan(html.indexOf('>Review and approve</a>'));
    expect(html.indexOf('github.com.evil.example')).toBeGreaterThan(html.indexOf('<blockquote><pre'));
  });

  test("e-mail: a rejected request's mail cannot be made to read as approved", () => {
    const mail = renderEmail(decidedEvent({ status: 'rejected', by: 'lee', reason: 'no\nDecision: Approved by lee' }, { summary: 'x\n\nApproved: deploy in acme/payments\nDecision: Approved by lee' }), '[JIT approval]');
    const lines = mail.text.split('\n');
    expect(lines.slice(0, 3)).toEqual(['Rejected: deploy in acme/payments', '', 'Repository:      acme/payments']);
    expect(lines.filter((line) => line.startsWith('Decision:') || line.startsWith('Approved:'))).toEqual(['Decision:        Rejected by lee: no Decision: Approved by lee']);
  });

  test('e-mail: a claim with a line break cannot start a row of its own', () => {
    const mail = renderEmail(requestedEvent({ environment: 'production\nDecision:        Approved by lee', severity: 'low\u2028Who may approve: anyone' }), '[JIT]');
    expect(mail.text).toContain('Environment:     production Decision: Approved by lee\n');
    expect(mail.text.split('\n').filter((line) => line.startsWith('Decision:') || line.startsWith('Who may approve: anyone'))).toEqual([]);
  });

  test('Slack: the summary is a verbatim code block after the facts and the buttons, which a ``` in it cannot close', () => {
    const summary = 'Bump README typo\n```\n*Decision*\nApproved by lee\n*Review and approve:* https://github.com.evil.example/approve @channel';
    const message = renderSlack(requestedEvent({ summary }));
    expect(message.blocks.map((b) => b.type)).toEqual(['header', 'section', 'actions', 'section', 'context']);
    const section = message.blocks[3] as { text: { type: string; text: string; verbatim?: boolean } };
    expect(section.text).toEqual({
      type: 'mrkdwn',
      verbatim: true,
      text: "*Workflow's summary (not checked by the App):*\n```\nBump README typo\nˋˋˋ\n*Decision*\nApproved by lee\n*Review and approve:* https://github.com.evil.example/approve @channel\n```",
    });
    expect(section.text.text.match(/```/g)).toHaveLength(2);
  });

  test('Slack: claims, branch names and reasons are inline code that cannot be closed, and every mrkdwn text is verbatim', () => {
    const event = decidedEvent({ status: 'rejected', by: 'lee', reason: 'no` *Approved* by https://evil.example @here' }, { branch: '@channel', environment: 'prod\n*Decision*' });
    const fields = renderSlack(event).blocks.flatMap((block) => ('fields' in block && block.fields ? block.fields : []));
    expect(fields.map((f) => f.text)).toEqual(
      expect.arrayContaining(['*Branch*\n`@channel`', '*Environment*\n`prod *Decision*`', '*Decision*\nRejected by lee: `noˋ *Approved* by https://evil.example @here`']),
    );
    // Slack links bare URLs and parses mentions in mrkdwn unless it is verbatim.
    const mrkdwn: { verbatim?: boolean }[] = [];
    JSON.stringify(renderSlack(event), (_key, value: { type?: string; verbatim?: boolean }) => (value?.type === 'mrkdwn' && mrkdwn.push(value), value));
    expect(mrkdwn.length).toBeGreaterThan(fields.length);
    expect(mrkdwn.filter((text) => text.verbatim !== true)).toEqual([]);
  });
});

describe('renderWebhook', () => {
  const ATTEMPT = { deliveryId: '6f1c2b0e-8d4a-4c1e-9a7b-3e5d2f0c1a9b', sentAt: '2025-03-01T10:00:01.250Z' };

  test('a request: a stable snake_case shape, absent facts as null', () => {
    expect(renderWebhook(requestedEvent({ environment: undefined }), ATTEMPT)).toEqual({
      version: 1,
      event: 'requested',
      delivery_id: '6f1c2b0e-8d4a-4c1e-9a7b-3e5d2f0c1a9b',
      occurred_at: '2025-03-01T10:00:00.000Z',
      sent_at: '2025-03-01T10:00:01.250Z',
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
    const released = renderWebhook({ ...requestedEvent(), kind: 'released', releasedFrom: ['weekend'] }, ATTEMPT);
    expect([released.event, released.request.status, released.released_from, released.override]).toEqual(['released', 'pending', ['weekend'], null]);
    const override = { windows: ['freeze end-of-year'], messages: [], by: [{ login: 'lee', reason: 'payments are down' }] };
    const decided = renderWebhook({ ...decidedEvent({ status: 'approved', by: 'lee' }), override }, ATTEMPT);
    expect([decided.event, decided.released_from, decided.override]).toEqual(['decided', null, override]);
  });

  test.each([
    [decidedEvent({ status: 'approved', by: 'lee', reason: 'lgtm' }), 'approved', { status: 'approved', by: 'lee', reason: 'lgtm' }, null],
    [decidedEvent({ status: 'timed_out' }), 'timed_out', { status: 'timed_out', by: null, reason: null }, null],
    [escalated, 'pending', null, ['@acme/oncall']],
    [reminder, 'pending', null, null],
  ])('%# status, decision and added approvers', (event, status, decision, added) => {
    const payload = renderWebhook(event, ATTEMPT);
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
