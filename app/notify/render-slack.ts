/**
 * Slack Block Kit message for an incoming webhook. Pure. Text from the event is escaped for Slack's
 * mrkdwn (`&`, `<`, `>`), so a branch name cannot forge a link or an `<!channel>` ping; text the App
 * did not write (the summary, the workflow's claims, a branch name, reasons) is shown as code, where
 * Slack formats nothing, after the App's own lines; and every mrkdwn text is `verbatim`, so Slack
 * turns no bare URL into a link and parses no mention in it. Long text is cut between whole
 * characters, never inside an emoji.
 */
import type { IncomingWebhookSendArguments } from '@slack/webhook';
import { shorten } from '../render/limits.js';
import { oneLine, textLines } from '../render/untrusted.js';
import type { NotificationEvent } from './event.js';
import { factRows, headline, labelledLinks, SUMMARY_LABEL } from './render-text.js';

export type SlackMessage = Required<Pick<IncomingWebhookSendArguments, 'text' | 'blocks'>>;
type Block = SlackMessage['blocks'][number];

// Block Kit limits: https://api.slack.com/reference/block-kit/blocks
const HEADER_MAX = 150;
const FIELD_MAX = 2000;
const FIELDS_PER_SECTION = 10;
const BUTTON_TEXT_MAX = 75;
const SECTION_TEXT_MAX = 3000;
/** Caller text in a fact is cut to this many characters, so that a field cut to its limit never leaves a code span open. */
const INLINE_CODE_MAX = 300;
/** Slack has no escape for a backtick in code: this look-alike (U+02CB) stands in for it, so caller text cannot close its code. */
const BACKTICK_LOOKALIKE = 'ˋ';

export function renderSlack(event: NotificationEvent): SlackMessage {
  const title = headline(event);
  const blocks: Block[] = [{ type: 'header', text: { type: 'plain_text', text: shorten(title, HEADER_MAX), emoji: true } }];
  const fields = factRows(event, inlineCode).map(([label, value]) => mrkdwn(shorten(`*${label}*\n${escapeMrkdwn(value)}`, FIELD_MAX)));
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
  const summary = textLines(event.summary ?? '');
  if (summary.length > 0) blocks.push({ type: 'section', text: mrkdwn(summaryText(summary)) });
  blocks.push({ type: 'context', elements: [mrkdwn(`Request ${escapeMrkdwn(event.requestId)} · requested ${escapeMrkdwn(event.requestedAt)}`)] });
  // `text` is what Slack shows in notifications and where blocks cannot be displayed; Slack reads it as mrkdwn.
  return { text: escapeMrkdwn(title), blocks };
}

function mrkdwn(text: string) {
  return { type: 'mrkdwn' as const, text, verbatim: true };
}

/** The summary, labelled, as a code block that its own text cannot close. */
function summaryText(lines: string[]): string {
  const label = `*${SUMMARY_LABEL}*\n`;
  const fence = '```';
  const code = shorten(escapeMrkdwn(lines.join('\n').replace(/`/g, BACKTICK_LOOKALIKE)), SECTION_TEXT_MAX - label.length - 2 * (fence.length + 1));
  return `${label}${fence}\n${code}\n${fence}`;
}

/** Caller text in a fact, as inline code on one line; escaped with the rest of its field. */
function inlineCode(text: string): string {
  const line = shorten(oneLine(text), INLINE_CODE_MAX).replace(/`/g, BACKTICK_LOOKALIKE);
  return line ? `\`${line}\`` : '';
}

/** Slack's own rule: only these three characters need escaping in message text. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
