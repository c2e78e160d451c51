/** Delivery over real loopback servers: Slack and webhook posts to an HTTP receiver, mail to an SMTP server. */
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { networkInterfaces } from 'node:os';
import { afterEach, describe, expect, jest, test } from '@jest/globals';
import { formatConfigDiagnostic, parseNotifiersConfig } from '../../app/notify/config.js';
import { DEFAULT_RETRY_POLICY, NotificationDispatcher, type NotificationAudit } from '../../app/notify/dispatcher.js';
import { createNotifiers, DeliveryError, DEFAULT_NOTIFIER_OPTIONS, type Notifier } from '../../app/notify/notifiers.js';
import { renderWebhook } from '../../app/notify/render-webhook.js';
import { decidedEvent, requestedEvent } from './sample-event.js';
import { startHttpReceiver, startSmtpReceiver, type HttpReceiver, type SmtpReceiver } from './receivers.js';

type AuditRecord = Parameters<NotificationAudit>[0];

const WEBHOOK_SECRET = 'whsec-test-0123456789abcdef';
const SMTP_LOGIN = { user: 'jit', pass: 'mail-password' };
const FAST_RETRY = { attempts: 3, minDelayMs: 20, maxDelayMs: 100, jitter: true };

const servers: (HttpReceiver | SmtpReceiver)[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function http(respond?: Parameters<typeof startHttpReceiver>[0]) {
  const receiver = await startHttpReceiver(respond);
  servers.push(receiver);
  return receiver;
}

async function smtp(host?: string) {
  const receiver = await startSmtpReceiver(SMTP_LOGIN, host);
  servers.push(receiver);
  return receiver;
}

/** A dispatcher for a notifiers file, configured through the same parser the App uses. */
function dispatcherFor(yaml: string, env: Record<string, string>, options: { timeoutMs?: number; retry?: object; stillCurrent?: () => Promise<boolean> } = {}) {
  const parsed = parseNotifiersConfig(yaml, 'notifiers.yml', env);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.diagnostics));
  const audit: AuditRecord[] = [];
  const dispatcher = new NotificationDispatcher({
    notifiers: createNotifiers(parsed.config, { timeoutMs: options.timeoutMs ?? 5000 }),
    audit: async (record) => void audit.push(record),
    retry: { ...FAST_RETRY, ...options.retry },
    stillCurrent: options.stillCurrent,
  });
  return { dispatcher, audit };
}

const attemptsOf = (audit: AuditRecord[], notifier: string) =>
  audit.filter((r) => r.type === 'notification_attempt' && r.facts.notifier === notifier).map((r) => r.facts as unknown as Record<string, unknown>);
const failuresOf = (audit: AuditRecord[], notifier: string) =>
  audit.filter((r) => r.type === 'notification_failed' && r.facts.notifier === notifier).map((r) => r.facts as unknown as Record<string, unknown>);

function expectedSignature(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

describe('Slack', () => {
  test('posts a Block Kit message for the request, then a follow-up with the decision', async () => {
    const slack = await http();
    const { dispatcher, audit } = dispatcherFor('notifiers:\n  slack-deploys:\n    type: slack\n    url: ${SLACK_URL}\n', {
      SLACK_URL: `${slack.url}/services/T000/B000/secret`,
    });

    dispatcher.dispatch(requestedEvent(), ['slack-deploys']);
    await dispatcher.idle();
    dispatcher.dispatch(decidedEvent({ status: 'approved', by: 'lee', reason: 'ship it' }), ['slack-deploys']);
    await dispatcher.idle();

    expect(slack.requests.map((r) => [r.method, r.path, r.headers['content-type']])).toEqual([
      ['POST', '/services/T000/B000/secret', 'application/json'],
      ['POST', '/services/T000/B000/secret', 'application/json'],
    ]);
    const [request, followUp] = slack.requests.map((r) => JSON.parse(r.body));
    expect(request.text).toBe('Approval needed: deploy in acme/payments');
    expect(request.blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: 'Approval needed: deploy in acme/payments', emoji: true } });
    const fields = request.blocks.flatMap((b: { fields?: { text: string }[] }) => b.fields ?? []).map((f: { text: string }) => f.text);
    expect(fields).toEqual(
      expect.arrayContaining(['*Requested by*\ndana', '*Branch*\n`main`', '*Commit*\n9fceb02', '*Environment*\n`production`', '*Severity*\n`high`', '*Matched rules*\nproduction']),
    );
    expect(fields).toContain('*Who may approve*\n@acme/sre, @lee, role:maintain (2 approvals needed)');
    const buttons = request.blocks.find((b: { type: string }) => b.type === 'actions').elements;
    expect(buttons.map((b: { url: string }) => b.url)).toEqual(['https://github.com/acme/payments/runs/123', 'https://github.com/acme/payments/pull/42']);

    expect(followUp.text).toBe('Approved: deploy in acme/payments');
    expect(JSON.stringify(followUp.blocks)).toContain('*Decision*\\nApproved by lee: `ship it`');
    expect(attemptsOf(audit, 'slack-deploys').map((a) => [a.event, a.attempt, a.outcome, a.status])).toEqual([
      ['requested', 1, 'delivered', 200],
      ['decided', 1, 'delivered', 200],
    ]);
  });
});

describe('signed webhook', () => {
  test('posts the JSON event with a signature that verifies with the shared secret, an event header and a delivery id', async () => {
    const receiver = await http();
    const { dispatcher, audit } = dispatcherFor('notifiers:\n  pager:\n    type: webhook\n    url: ${PAGER_URL}\n    secret: ${PAGER_SECRET}\n', {
      PAGER_URL: `${receiver.url}/hooks/jit`,
      PAGER_SECRET: WEBHOOK_SECRET,
    });
    const event = requestedEvent();

    dispatcher.dispatch(event, ['pager']);
    await dispatcher.idle();

    const [request] = receiver.requests;
    expect(receiver.requests).toHaveLength(1);
    expect(request.path).toBe('/hooks/jit');
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers['x-jit-event']).toBe('requested');
    expect(request.headers['x-jit-delivery']).toMatch(/^[0-9a-f-]{36}$/);
    expect(request.headers['user-agent']).toBe('mercurial-jit-notifier');
    const signature = String(request.headers['x-jit-signature-256']);
    expect(timingSafeEqual(Buffer.from(signature), Buffer.from(expectedSignature(request.body, WEBHOOK_SECRET)))).toBe(true);
    expect(signature).not.toBe(expectedSignature(request.body, `${WEBHOOK_SECRET}x`));
    // The signed body names its delivery and when it was sent; the headers repeat what the body says.
    const body = JSON.parse(request.body) as { delivery_id: string; sent_at: string };
    expect(body).toEqual(renderWebhook(event, { deliveryId: String(request.headers['x-jit-delivery']), sentAt: body.sent_at }));
    expect(Math.abs(Date.parse(body.sent_at) - request.at)).toBeLessThan(5000);
    expect(attemptsOf(audit, 'pager')).toEqual([
      expect.objectContaining({ attempt: 1, maxAttempts: 3, outcome: 'delivered', status: 200, deliveryId: request.headers['x-jit-delivery'] }),
    ]);
  });
});

describe('a replayed webhook', () => {
  const STALE_AFTER_MS = 5 * 60_000;

  /** A receiver as docs/NOTIFICATIONS.md says to write one: it trusts only the signed body, never the headers. */
  function receiverFollowingTheDocs(now: () => number) {
    const seen = new Set<string>();
    return (request: { body: string; headers: Record<string, unknown> }): 'accepted' | 'bad signature' | 'stale' | 'repeat' => {
      const given = Buffer.from(String(request.headers['x-jit-signature-256'] ?? ''));
      const expected = Buffer.from(expectedSignature(request.body, WEBHOOK_SECRET));
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'bad signature';
      const body = JSON.parse(request.body) as { delivery_id: string; sent_at: string };
      if (Math.abs(now() - Date.parse(body.sent_at)) > STALE_AFTER_MS) return 'stale';
      if (seen.has(body.delivery_id)) return 'repeat';
      seen.add(body.delivery_id);
      return 'accepted';
    };
  }

  test('with a fresh delivery id is a repeat, later it is stale, and its signed id and time cannot be changed', async () => {
    const receiver = await http();
    const { dispatcher } = dispatcherFor(`notifiers:\n  pager:\n    type: webhook\n    url: ${receiver.url}\n    secret: ${WEBHOOK_SECRET}\n`, {});
    dispatcher.dispatch(decidedEvent({ status: 'approved', by: 'lee' }), ['pager']);
    await dispatcher.idle();
    const [captured] = await receiver.received(1);

    // Someone who captured the delivery (a log, a proxy) sends it again with a new X-Jit-Delivery.
    const replayed = await fetch(receiver.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-jit-signature-256': String(captured.headers['x-jit-signature-256']), 'x-jit-delivery': randomUUID(), 'x-jit-event': 'decided' },
      body: captured.body,
    });
    expect(replayed.status).toBe(200);
    const [, replay] = await receiver.received(2);
    expect(replay.headers['x-jit-delivery']).not.toBe(captured.headers['x-jit-delivery']);

    const accept = receiverFollowingTheDocs(Date.now);
    expect(accept(captured)).toBe('accepted');
    expect(accept(replay)).toBe('repeat');
    // Replayed after the receiver forgot the id: the signed time says it is old.
    expect(receiverFollowingTheDocs(() => Date.now() + STALE_AFTER_MS + 1000)(replay)).toBe('stale');
    // Changing the signed id or time breaks the signature.
    const body = JSON.parse(captured.body) as { delivery_id: string; sent_at: string };
    expect(accept({ ...replay, body: JSON.stringify({ ...body, delivery_id: randomUUID() }) })).toBe('bad signature');
    expect(accept({ ...replay, body: JSON.stringify({ ...body, sent_at: new Date().toISOString() }) })).toBe('bad signature');
  });

  test('is never taken again while the docs say to remember its id: not even the last retry of a delivery taken at its first attempt', () => {
    // A receiver that took the first attempt but whose 2xx the App never got (it answered after the
    // attempt's timeout) gets every retry, each signed afresh; each retry's body is fresh for 5 minutes.
    const { attempts, minDelayMs, maxDelayMs } = DEFAULT_RETRY_POLICY;
    const waits = Array.from({ length: attempts - 1 }, (_, i) => Math.min(minDelayMs * 2 ** i, maxDelayMs) * 2); // jitter at its largest
    const lastRetrySentAfter = waits.reduce((sum, wait) => sum + wait, 0) + (attempts - 1) * DEFAULT_NOTIFIER_OPTIONS.timeoutMs;
    const docs = readFileSync(new URL('../../docs/NOTIFICATIONS.md', import.meta.url), 'utf8');
    const minutes = [...docs.matchAll(/(?:for at least|in the last) (\d+) minutes/g)].map((m) => Number(m[1]));
    expect(minutes).toHaveLength(2);
    for (const remembered of minutes) expect({ remembered, enough: remembered * 60_000 >= lastRetrySentAfter + STALE_AFTER_MS }).toEqual({ remembered, enough: true });
  });
});

describe('e-mail', () => {
  test('sends one mail with a plain-text and an escaped HTML part to every recipient, through SMTP AUTH', async () => {
    const server = await smtp();
    const { dispatcher, audit } = dispatcherFor(
      [
        'notifiers:',
        '  oncall-mail:',
        '    type: email',
        '    host: 127.0.0.1',
        '    port: ${SMTP_PORT}',
        '    auth: { user: jit, pass: "${SMTP_PASS}" }',
        '    from: "JIT approvals <jit@example.com>"',
        '    to: [oncall@example.com, lead@example.com]',
      ].join('\n'),
      { SMTP_PORT: String(server.port), SMTP_PASS: SMTP_LOGIN.pass },
    );

    dispatcher.dispatch(requestedEvent({ summary: 'Deploy <script>alert(1)</script> & more' }), ['oncall-mail']);
    await dispatcher.idle();
    dispatcher.dispatch(decidedEvent({ status: 'rejected', by: 'lee', reason: 'not today' }), ['oncall-mail']);
    await dispatcher.idle();

    expect(server.mails).toHaveLength(2);
    const [{ envelope, user, mail }, { mail: followUp }] = server.mails;
    expect(user).toBe('jit');
    expect(envelope).toEqual({ from: 'jit@example.com', to: ['oncall@example.com', 'lead@example.com'] });
    expect(mail.subject).toBe('[JIT approval] Approval needed: deploy in acme/payments');
    expect(mail.from?.value).toEqual([{ address: 'jit@example.com', name: 'JIT approvals' }]);
    expect(mail.headers.get('x-jit-event')).toBe('requested');
    expect(mail.text).toContain('Deploy <script>alert(1)</script> & more');
    expect(mail.text).toMatch(/Requested by:\s+dana/);
    expect(mail.text).toContain('Review and approve: https://github.com/acme/payments/runs/123');
    expect(mail.html).toContain('<pre style="white-space: pre-wrap">Deploy &lt;script&gt;alert(1)&lt;/script&gt; &amp; more</pre>');
    expect(mail.html).not.toContain('<script>');
    expect(mail.html).toContain('<a href="https://github.com/acme/payments/runs/123">Review and approve</a>');

    expect(followUp.subject).toBe('[JIT approval] Rejected: deploy in acme/payments');
    expect(followUp.text).toMatch(/Decision:\s+Rejected by lee: not today/);
    // The follow-up joins the thread of the first mail.
    expect(followUp.inReplyTo).toBe(mail.messageId);
    expect(attemptsOf(audit, 'oncall-mail').map((a) => a.outcome)).toEqual(['delivered', 'delivered']);
  });

  test('wrong SMTP credentials are a permanent failure: one attempt, audited', async () => {
    const server = await smtp();
    const { dispatcher, audit } = dispatcherFor(
      `notifiers:\n  mail:\n    type: email\n    host: 127.0.0.1\n    port: ${server.port}\n    auth: { user: jit, pass: wrong }\n    from: jit@example.com\n    to: [a@example.com]\n`,
      {},
    );
    dispatcher.dispatch(requestedEvent(), ['mail']);
    await dispatcher.idle();
    expect(server.mails).toHaveLength(0);
    expect(attemptsOf(audit, 'mail')).toEqual([expect.objectContaining({ attempt: 1, outcome: 'failed', error: expect.stringMatching(/535/) })]);
    expect(failuresOf(audit, 'mail')).toEqual([expect.objectContaining({ attempts: 1, reason: 'permanent_error' })]);
  });
  test('an attempt ends at the timeout even while the server keeps trickling its answer', async () => {
    // The server greets at once, then answers EHLO one line of a never-ending reply at a time, each well within the timeout.
    const TIMEOUT_MS = 500;
    const TRICKLED_LINES = 40; // 100 ms apart: 8 timeouts' worth, after which the server falls silent
    let linesSent = 0;
    const sockets = new Set<Socket>();
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.write('220 slow.example.com ESMTP\r\n');
      socket.once('data', () => {
        const timer = setInterval(() => {
          if (socket.destroyed || linesSent >= TRICKLED_LINES) return clearInterval(timer);
          linesSent += 1;
          socket.write(`250-slow.example.com line ${linesSent}\r\n`);
        }, 100);
        socket.on('close', () => clearInterval(timer));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const { dispatcher, audit } = dispatcherFor(`notifiers:\n  mail:\n    type: email\n    host: 127.0.0.1\n    port: ${port}\n    from: jit@example.com\n    to: [a@example.com]\n`, {}, { timeoutMs: TIMEOUT_MS, retry: { attempts: 1 } });
      let linesWhenEnded = -1;
      dispatcher.dispatch(requestedEvent(), ['mail']);
      await dispatcher.idle().then(() => (linesWhenEnded = linesSent));
      expect(attemptsOf(audit, 'mail')).toEqual([expect.objectContaining({ attempt: 1, outcome: 'failed', error: 'the mail could not be sent: no answer in time' })]);
      expect({ endedWhileTrickling: linesWhenEnded < TRICKLED_LINES }).toEqual({ endedWhileTrickling: true });
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

/** This machine's address on a network (not loopback), where a mail server stands for one across the network. */
const NETWORK_ADDRESS = Object.values(networkInterfaces())
  .flat()
  .find((address) => address?.family === 'IPv4' && !address.internal)?.address;

describe('e-mail across a network', () => {
  // A server that offers no STARTTLS is also what a man in the middle who strips it from the greeting looks like.
  (NETWORK_ADDRESS ? test : test.skip)('a server that offers no STARTTLS is never sent the password or a mail in clear, unless require_tls: false says so', async () => {
    const server = await smtp(NETWORK_ADDRESS);
    const config = (extra: string[] = []) =>
      ['notifiers:', '  mail:', '    type: email', `    host: ${NETWORK_ADDRESS}`, `    port: ${server.port}`, '    auth: { user: jit, pass: "${SMTP_PASS}" }', '    from: jit@example.com', '    to: [oncall@example.com]', ...extra].join('\n');

    const { dispatcher, audit } = dispatcherFor(config(), { SMTP_PASS: SMTP_LOGIN.pass });
    dispatcher.dispatch(requestedEvent(), ['mail']);
    await dispatcher.idle();
    expect(server.mails).toHaveLength(0);
    // Refused before AUTH, and not retried: the server will not start offering STARTTLS.
    expect(failuresOf(audit, 'mail')).toEqual([expect.objectContaining({ attempts: 1, reason: 'permanent_error', error: expect.stringMatching(/STARTTLS/) })]);

    // The operator may still choose clear text for a server they trust the path to.
    const optedOut = dispatcherFor(config(['    require_tls: false']), { SMTP_PASS: SMTP_LOGIN.pass });
    optedOut.dispatcher.dispatch(requestedEvent(), ['mail']);
    await optedOut.dispatcher.idle();
    expect(server.mails.map((m) => m.user)).toEqual(['jit']);
  });
});

describe('retries', () => {
  test('a receiver that is down and then recovers gets the notification once, and every attempt is audited', async () => {
    const receiver = await http((index) => (index < 2 ? 500 : 200));
    const { dispatcher, audit } = dispatcherFor(`notifiers:\n  pager:\n    type: webhook\n    url: ${'${URL}'}\n    secret: ${WEBHOOK_SECRET}\n`, { URL: receiver.url });

    dispatcher.dispatch(requestedEvent(), ['pager']);
    await dispatcher.idle();

    expect(receiver.requests).toHaveLength(3);
    // One delivery, retried: the same id every time, signed afresh with the time of each attempt.
    expect(new Set(receiver.requests.map((r) => r.headers['x-jit-delivery'])).size).toBe(1);
    const bodies = receiver.requests.map((r) => JSON.parse(r.body) as { delivery_id: string; sent_at: string });
    expect(new Set(bodies.map((b) => b.delivery_id))).toEqual(new Set([receiver.requests[0].headers['x-jit-delivery']]));
    expect(new Set(bodies.map(({ sent_at: _, ...rest }) => JSON.stringify(rest))).size).toBe(1);
    const sent = bodies.map((b) => Date.parse(b.sent_at));
    expect(sent[1]).toBeGreaterThan(sent[0]);
    expect(sent[2]).toBeGreaterThan(sent[1]);
    for (const request of receiver.requests) expect(request.headers['x-jit-signature-256']).toBe(expectedSignature(request.body, WEBHOOK_SECRET));
    expect(attemptsOf(audit, 'pager').map((a) => [a.attempt, a.outcome, a.status])).toEqual([
      [1, 'failed', 500],
      [2, 'failed', 500],
      [3, 'delivered', 200],
    ]);
    expect(attemptsOf(audit, 'pager')[0].error).toBe('the webhook answered HTTP 500: receiver is down');
    expect(failuresOf(audit, 'pager')).toEqual([]);
    // Backoff: the retries were spaced out, not fired back to back.
    expect(receiver.requests[1].at - receiver.requests[0].at).toBeGreaterThanOrEqual(FAST_RETRY.minDelayMs - 5);
  });

  test('a reminder still being retried when its request is decided is given up, not sent after the decision', async () => {
    const receiver = await http(() => 500);
    const { dispatcher, audit } = dispatcherFor(`notifiers:\n  pager:\n    type: webhook\n    url: ${receiver.url}\n    secret: ${WEBHOOK_SECRET}\n`, {}, {
      // The request is decided while the first attempt fails.
      stillCurrent: async () => receiver.requests.length === 0,
    });

    dispatcher.dispatch({ ...requestedEvent(), kind: 'reminder' }, ['pager']);
    await dispatcher.idle();

    expect(receiver.requests).toHaveLength(1);
    expect(failuresOf(audit, 'pager')).toEqual([
      expect.objectContaining({ event: 'reminder', attempts: 1, reason: 'request_decided', error: 'the request was decided before this reminder notification was delivered' }),
    ]);
  });

  test('a notifier that stays down exhausts its attempts and is audited as failed, while the others are delivered without waiting for it', async () => {
    const dead = await http(() => 'hang');
    const alive = await http();
    const mail = await smtp();
    const { dispatcher, audit } = dispatcherFor(
      [
        'notifiers:',
        '  dead:',
        '    type: webhook',
        `    url: ${dead.url}`,
        `    secret: ${WEBHOOK_SECRET}`,
        '  alive:',
        '    type: slack',
        `    url: ${alive.url}/slack`,
        '  mail:',
        '    type: email',
        '    host: 127.0.0.1',
        `    port: ${mail.port}`,
        `    auth: { user: ${SMTP_LOGIN.user}, pass: ${SMTP_LOGIN.pass} }`,
        '    from: jit@example.com',
        '    to: [oncall@example.com]',
      ].join('\n'),
      {},
      { timeoutMs: 300 },
    );

    expect(dispatcher.dispatch(requestedEvent(), ['dead', 'alive', 'mail'])).toBeUndefined();

    await Promise.all([alive.received(1), mail.received(1)]);
    // The dead notifier's first attempt is still hanging: nothing of it has been recorded yet.
    expect(dead.requests).toHaveLength(1);
    expect(attemptsOf(audit, 'dead')).toEqual([]);

    await dispatcher.idle();
    expect(dead.requests).toHaveLength(3);
    expect(attemptsOf(audit, 'dead').map((a) => [a.attempt, a.outcome, a.error])).toEqual([
      [1, 'failed', 'the webhook could not be reached: no answer in time'],
      [2, 'failed', 'the webhook could not be reached: no answer in time'],
      [3, 'failed', 'the webhook could not be reached: no answer in time'],
    ]);
    expect(failuresOf(audit, 'dead')).toEqual([expect.objectContaining({ attempts: 3, reason: 'attempts_exhausted', event: 'requested' })]);
    expect(attemptsOf(audit, 'alive').map((a) => a.outcome)).toEqual(['delivered']);
    expect(attemptsOf(audit, 'mail').map((a) => a.outcome)).toEqual(['delivered']);
    // Every record names the request, so the App can file it under it.
    expect(new Set(audit.map((r) => r.requestId))).toEqual(new Set(['req-7f3a']));
  });

  test('a client error is not retried: the configuration is wrong, and retrying cannot fix it', async () => {
    const receiver = await http(() => 404);
    const { dispatcher, audit } = dispatcherFor(`notifiers:\n  pager:\n    type: webhook\n    url: ${receiver.url}\n    secret: ${WEBHOOK_SECRET}\n`, {});
    dispatcher.dispatch(requestedEvent(), ['pager']);
    await dispatcher.idle();
    expect(receiver.requests).toHaveLength(1);
    expect(failuresOf(audit, 'pager')).toEqual([expect.objectContaining({ attempts: 1, reason: 'permanent_error', error: 'the webhook answered HTTP 404: receiver is down' })]);
  });

  test('a redirect is not retried, from a Slack hook as from a webhook: a moved endpoint is a configuration change', async () => {
    const receiver = await http(() => 302);
    const { dispatcher, audit } = dispatcherFor(`notifiers:\n  s:\n    type: slack\n    url: ${receiver.url}\n  pager:\n    type: webhook\n    url: ${receiver.url}\n    secret: ${WEBHOOK_SECRET}\n`, {});
    dispatcher.dispatch(requestedEvent(), ['s', 'pager']);
    await dispatcher.idle();
    // Neither follows it to the address it names.
    expect(receiver.requests.map((r) => r.path)).toEqual(['/', '/']);
    expect(failuresOf(audit, 's')).toEqual([expect.objectContaining({ attempts: 1, reason: 'permanent_error' })]);
    expect(failuresOf(audit, 'pager')).toEqual([expect.objectContaining({ attempts: 1, reason: 'permanent_error' })]);
  });

  test('waits as the docs say: 2 s doubling to 256 s, each wait times a random 1 to 2, 8.5 to 17 minutes in all', async () => {
    jest.useFakeTimers();
    try {
      for (const [random, minutes] of [[0, 8.5], [0.999999, 17]]) {
        const spy = jest.spyOn(Math, 'random').mockReturnValue(random);
        const sentAt: number[] = [];
        const down: Notifier = {
          name: 'pager',
          type: 'webhook',
          send: async () => {
            sentAt.push(Date.now());
            throw new DeliveryError('the webhook answered HTTP 503', { status: 503, permanent: false });
          },
        };
        const dispatcher = new NotificationDispatcher({ notifiers: new Map([['pager', down]]), audit: async () => {} });
        dispatcher.dispatch(requestedEvent(), ['pager']);
        const idle = dispatcher.idle();
        await jest.runAllTimersAsync();
        await idle;
        spy.mockRestore();
        const waits = sentAt.slice(1).map((at, i) => (at - sentAt[i]!) / 1000);
        expect(waits).toEqual([2, 4, 8, 16, 32, 64, 128, 256].map((s) => Math.round(s * 1000 * (1 + random)) / 1000));
        expect((sentAt.at(-1)! - sentAt[0]!) / 60_000).toBeCloseTo(minutes, 1);
      }
    } finally {
      jest.useRealTimers();
    }
  });

  test('a rate limit (429) is retried', async () => {
    const receiver = await http((index) => (index === 0 ? 429 : 200));
    const { dispatcher, audit } = dispatcherFor(`notifiers:\n  s:\n    type: slack\n    url: ${receiver.url}\n`, {});
    dispatcher.dispatch(requestedEvent(), ['s']);
    await dispatcher.idle();
    expect(attemptsOf(audit, 's').map((a) => [a.outcome, a.status])).toEqual([
      ['failed', 429],
      ['delivered', 200],
    ]);
  });
});

describe('credentials in a notifier URL', () => {
  test('are refused when the file is read: a delivery would fail with an error quoting them, and errors go into the audit trail that readers of a repository export', async () => {
    const receiver = await http();
    const password = 'receiver-password-0451';
    const parsed = parseNotifiersConfig(`notifiers:\n  pager:\n    type: webhook\n    url: \${PAGER_URL}\n    secret: ${WEBHOOK_SECRET}\n`, 'notifiers.yml', {
      PAGER_URL: `https://jit:${password}@${new URL(receiver.url).host}/hook`,
    });
    const audit: AuditRecord[] = [];
    const dispatcher = new NotificationDispatcher({
      notifiers: parsed.ok ? createNotifiers(parsed.config) : new Map(),
      audit: async (record) => void audit.push(record),
      retry: { ...FAST_RETRY, attempts: 1 },
    });
    dispatcher.dispatch(requestedEvent(), ['pager']);
    await dispatcher.idle();
    expect(JSON.stringify(audit)).not.toContain(password);
    expect(parsed.ok ? 'accepted' : parsed.diagnostics.map(formatConfigDiagnostic)).toEqual([
      'notifiers.yml:4:10: notifiers.pager.url: expected a URL without a user name or password, which the audit trail would show when a delivery fails',
    ]);
    expect(receiver.requests).toEqual([]);
  });
});

describe('dispatch', () => {
  test('an unknown notifier name is audited as a failure, never thrown, and the known ones are still delivered once each', async () => {
    const receiver = await http();
    const { dispatcher, audit } = dispatcherFor(`notifiers:\n  s:\n    type: slack\n    url: ${receiver.url}\n`, {});
    expect(() => dispatcher.dispatch(requestedEvent(), ['pagr', 's', 's'])).not.toThrow();
    await dispatcher.idle();
    expect(receiver.requests).toHaveLength(1);
    expect(failuresOf(audit, 'pagr')).toEqual([
      expect.objectContaining({ attempts: 0, reason: 'unknown_notifier', error: 'no notifier named "pagr" is configured (configured: s)' }),
    ]);
  });

  test('a failing audit write is logged and does not stop the delivery', async () => {
    const receiver = await http();
    const parsed = parseNotifiersConfig(`notifiers:\n  s:\n    type: slack\n    url: ${receiver.url}\n`, 'n.yml', {});
    if (!parsed.ok) throw new Error('bad test config');
    const warn = jest.fn();
    const dispatcher = new NotificationDispatcher({
      notifiers: createNotifiers(parsed.config),
      audit: () => Promise.reject(new Error('database is down')),
      retry: FAST_RETRY,
      log: { warn },
    });
    dispatcher.dispatch(requestedEvent(), ['s']);
    await dispatcher.idle();
    expect(receiver.requests).toHaveLength(1);
    expect(warn).toHaveBeenCalledWith(expect.objectContaining({ err: expect.objectContaining({ message: 'database is down' }) }), 'could not record a notification audit event');
  });

  test('idle() resolves at once when nothing is outstanding', async () => {
    const { dispatcher } = dispatcherFor('notifiers: {}\n', {});
    await expect(dispatcher.idle()).resolves.toBeUndefined();
  });
});
