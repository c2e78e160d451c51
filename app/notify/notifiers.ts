/**
 * The three notifier kinds, each one attempt at delivering one event. Retrying is the
 * dispatcher's job; a notifier only says whether a failure may succeed on a later attempt.
 * Error messages never contain a notifier's URL or credentials: they go into the audit trail.
 */
import { sign } from '@octokit/webhooks-methods';
import type { FetchFunction, IncomingWebhook } from '@slack/webhook';
import type { Transporter } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import type { EmailNotifierConfig, NotifierConfig, NotifiersConfig, SlackNotifierConfig, WebhookNotifierConfig } from './config.js';
import type { NotificationEvent } from './event.js';
import { renderEmail } from './render-email.js';
import { renderSlack } from './render-slack.js';
import { renderWebhook } from './render-webhook.js';

export const SIGNATURE_HEADER = 'X-Jit-Signature-256';
export const EVENT_HEADER = 'X-Jit-Event';
export const DELIVERY_HEADER = 'X-Jit-Delivery';
export const USER_AGENT = 'mercurial-jit-notifier';

/** One delivery of one event to one notifier; its id is the same on every attempt, so receivers can drop repeats. */
export interface Delivery {
  id: string;
}

/** What the far end answered, for the audit trail. */
export interface DeliveryReceipt {
  status?: number;
  response?: string;
}

export interface Notifier {
  readonly name: string;
  readonly type: NotifierConfig['type'];
  send(event: NotificationEvent, delivery: Delivery): Promise<DeliveryReceipt>;
}

/** A failed attempt. `permanent` ones (a 404, a rejected mailbox) are not retried: they cannot get better. */
export class DeliveryError extends Error {
  readonly permanent: boolean;
  readonly status?: number;

  constructor(message: string, options: { permanent: boolean; status?: number; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.name = 'DeliveryError';
    this.permanent = options.permanent;
    this.status = options.status;
  }
}

export interface NotifierOptions {
  /** Longest wait for one attempt, connection included. */
  timeoutMs: number;
}

export const DEFAULT_NOTIFIER_OPTIONS: NotifierOptions = { timeoutMs: 10_000 };

export function createNotifiers(config: NotifiersConfig, options: NotifierOptions = DEFAULT_NOTIFIER_OPTIONS): Map<string, Notifier> {
  return new Map([...config.notifiers].map(([name, notifier]) => [name, createNotifier(notifier, options)]));
}

export function createNotifier(config: NotifierConfig, options: NotifierOptions = DEFAULT_NOTIFIER_OPTIONS): Notifier {
  switch (config.type) {
    case 'slack':
      return slackNotifier(config, options);
    case 'email':
      return emailNotifier(config, options);
    case 'webhook':
      return webhookNotifier(config, options);
  }
}

/** Rate limits (429) and request timeouts (408) pass; other client errors and redirects mean the configuration is wrong. */
function isPermanentStatus(status: number): boolean {
  return status < 500 && status !== 408 && status !== 429;
}

// The Slack and mail clients are loaded on a notifier's first delivery: most Apps use neither, and loading them costs every start.

/** Node's fetch, answering a redirect as it is (lib ES2023 types its Headers without `entries`, which Node's have). */
const fetchWithoutRedirects: FetchFunction = async (url, init) => (await fetch(url, { ...init, redirect: 'manual' })) as unknown as Awaited<ReturnType<FetchFunction>>;

function slackNotifier(config: SlackNotifierConfig, options: NotifierOptions): Notifier {
  let webhook: IncomingWebhook | undefined;
  return {
    name: config.name,
    type: 'slack',
    async send(event) {
      const { IncomingWebhook, IncomingWebhookHTTPError } = await import('@slack/webhook');
      // The client asks fetch to fail on a redirect, which would read as a network error and be retried: a moved hook is a configuration change, answered 3xx and not retried.
      webhook ??= new IncomingWebhook(config.url, { timeout: options.timeoutMs, fetch: fetchWithoutRedirects });
      try {
        const result = await webhook.send(renderSlack(event));
        return { status: 200, response: result.text };
      } catch (err) {
        if (err instanceof IncomingWebhookHTTPError) {
          throw new DeliveryError(`Slack answered HTTP ${err.statusCode}: ${err.body.slice(0, 200)}`, { status: err.statusCode, permanent: isPermanentStatus(err.statusCode), cause: err });
        }
        throw new DeliveryError(`Slack could not be reached: ${causeMessage(err)}`, { permanent: false, cause: err });
      }
    },
  };
}

function webhookNotifier(config: WebhookNotifierConfig, options: NotifierOptions): Notifier {
  return {
    name: config.name,
    type: 'webhook',
    async send(event, delivery) {
      // Signed afresh on every attempt: a retry keeps the delivery's id and says when it was sent, so receivers can drop stale bodies.
      const body = JSON.stringify(renderWebhook(event, { deliveryId: delivery.id, sentAt: new Date().toISOString() }));
      let response: Response;
      try {
        response = await fetch(config.url, {
          method: 'POST',
          headers: {
            'Content-Type': 'application/json',
            'User-Agent': USER_AGENT,
            [EVENT_HEADER]: event.kind,
            [DELIVERY_HEADER]: delivery.id,
            [SIGNATURE_HEADER]: await sign(config.secret, body),
          },
          body,
          // Following a redirect could hand the signed body to another host; a moved endpoint is a configuration change.
          redirect: 'manual',
          signal: AbortSignal.timeout(options.timeoutMs),
        });
      } catch (err) {
        throw new DeliveryError(`the webhook could not be reached: ${causeMessage(err)}`, { permanent: false, cause: err });
      }
      const text = (await response.text().catch(() => '')).slice(0, 200);
      if (!response.ok) {
        throw new DeliveryError(`the webhook answered HTTP ${response.status}${text ? `: ${text}` : ''}`, { status: response.status, permanent: isPermanentStatus(response.status) });
      }
      return { status: response.status, ...(text ? { response: text } : {}) };
    },
  };
}

function emailNotifier(config: EmailNotifierConfig, options: NotifierOptions): Notifier {
  let transport: Transporter<SMTPTransport.SentMessageInfo> | undefined;
  const smtp = async () => {
    transport ??= (await import('nodemailer')).default.createTransport({
      host: config.host,
      port: config.port,
      secure: config.secure,
      requireTLS: config.requireTls,
      ...(config.auth ? { auth: { user: config.auth.user, pass: config.auth.pass } } : {}),
      connectionTimeout: options.timeoutMs,
      greetingTimeout: options.timeoutMs,
      socketTimeout: options.timeoutMs,
    } satisfies SMTPTransport.Options);
    return transport;
  };
  const domain = /@([^\s<>@]+)>?\s*$/.exec(config.from)?.[1] ?? 'localhost';
  return {
    name: config.name,
    type: 'email',
    async send(event) {
      const message = renderEmail(event, config.subjectPrefix);
      // Every mail about one request joins the thread the first one started.
      const thread = `<jit-request-${event.requestId}@${domain}>`;
      try {
        const info = await (await smtp()).sendMail({
          from: config.from,
          to: config.to,
          subject: message.subject,
          text: message.text,
          html: message.html,
          headers: { [EVENT_HEADER]: event.kind, 'X-Jit-Request-Id': event.requestId },
          ...(event.kind === 'requested' ? { messageId: thread } : { inReplyTo: thread, references: [thread] }),
          // The transport's timeouts bound setting up and each silence, not the whole attempt: a server that trickles its replies would hold it.
          signal: AbortSignal.timeout(options.timeoutMs),
        });
        const rejected = info.rejected.map(String);
        return { response: rejected.length > 0 ? `${info.response}; rejected: ${rejected.join(', ')}` : info.response };
      } catch (err) {
        const responseCode = (err as { responseCode?: number }).responseCode;
        // SMTP 5xx replies are permanent by definition (RFC 5321 §4.2.1); anything else may pass later.
        const why = (err as Error).name === 'AbortError' ? causeMessage(err) : (err as Error).message;
        throw new DeliveryError(`the mail could not be sent: ${why}`, { permanent: responseCode !== undefined && responseCode >= 500, cause: err });
      }
    },
  };
}

/** The innermost cause's message. Checked by shape, not `instanceof`: fetch's errors may come from another realm. */
function causeMessage(err: unknown): string {
  const error = err as { name?: unknown; message?: unknown; cause?: unknown; original?: unknown } | null;
  if (error?.name === 'TimeoutError') return 'no answer in time';
  const cause = error?.cause ?? error?.original;
  if (cause && typeof cause === 'object') return causeMessage(cause);
  return typeof error?.message === 'string' ? error.message : String(err);
}
