/**
 * Slack Block Kit message for an incoming webhook. Pure. Text from the event is escaped for Slack's
 * mrkdwn (`&`, `<`, `>`), so a branch name cannot forge a link or an `<!channel>` ping; long text is
 * cut between whole characters, never inside an emoji.
 */
import type { IncomingWebhookSendArguments } from '@slack/webhook';
import { shorten } from '../render/limits.js';
import type { NotificationEvent } from './event.js';
import { factRows, headline, labelledLinks } from './render-text.js';

export type SlackMessage = Required<Pick<IncomingWebhookSendArguments, 'text' | 'blocks'>>;
type Block = SlackMessage['blocks'][number];

// Block Kit limits: https://api.slack.com/reference/block-kit/blocks
const HEADER_MAX = 150;
const FIELD_MAX = 2000;
const FIELDS_PER_SECTION = 10;
const BUTTON_TEXT_MAX = 75;
const SECTION_TEXT_MAX = 3000;

export function renderSlack(event: NotificationEvent): SlackMessage {
  const title = headline(event);
  const blocks: Block[] = [{ type: 'header', text: { type: 'plain_text', text: shorten(title, HEADER_MAX), emoji: true } }];
  if (event.summary) blocks.push(section(escapeMrkdwn(event.summary)));
  const fields = factRows(event).map(([label, value]) => ({ type: 'mrkdwn' as const, text: shorten(`*${label}*\n${escapeMrkdwn(value)}`, FIELD_MAX) }));
  for (let i = 0; i < fields.length; i += FIELDS_PER_SECTION) blocks.push({ type: 'section', fields: fields.slice(i, i + FIELDS_PER_SECTION) });
  const pending = event.kind !== 'decided';
  const links = labelledLinks(event.links, pending);
  if (links.length > 0) {
    blocks.push({
      type: 'actions',
      elements: links.map((link, i) => ({
        type: 'button',
        text: { type: 'plain_text', text: shorten(link.label, BUTTON_TEXT_MAX) },
        url: link.url,
        ...(pending && i === 0 && event.links.checkRun ? { style: 'primary' as const } : {}),
      })),
    });
  }
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `Request ${escapeMrkdwn(event.requestId)} · requested ${escapeMrkdwn(event.requestedAt)}` }] });
  // `text` is what Slack shows in notifications and where blocks cannot be displayed; Slack reads it as mrkdwn.
  return { text: escapeMrkdwn(title), blocks };
}

function section(text: string): Block {
  return { type: 'section', text: { type: 'mrkdwn', text: shorten(text, SECTION_TEXT_MAX) } };
}

/** Slack's own rule: only these three characters need escaping in message text. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
