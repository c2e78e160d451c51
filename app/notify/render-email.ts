/**
 * E-mail for a notification: subject, a plain-text part and an HTML part. Pure; all text in the HTML
 * is escaped. The workflow's summary comes after the App's own lines, labelled and with every line
 * quoted, so that no line of it can pass for one of the App's rows or links.
 */
import escapeHtml from 'escape-html';
import { blockQuote, textLines } from '../render/untrusted.js';
import type { NotificationEvent } from './event.js';
import { factRows, headline, labelledLinks, SUMMARY_LABEL } from './render-text.js';

export interface EmailMessage {
  subject: string;
  text: string;
  html: string;
}

export function renderEmail(event: NotificationEvent, subjectPrefix: string): EmailMessage {
  const title = headline(event);
  const rows = factRows(event);
  const links = labelledLinks(event.links, event.kind !== 'decided');
  const summary = textLines(event.summary ?? '');
  const footer = `Request ${event.requestId}, requested ${event.requestedAt}.`;

  const labelWidth = Math.max(...rows.map(([label]) => label.length)) + 1;
  const text = [
    title,
    '',
    ...rows.map(([label, value]) => `${`${label}:`.padEnd(labelWidth)} ${value}`),
    '',
    ...links.map((link) => `${link.label}: ${link.url}`),
    ...(links.length > 0 ? [''] : []),
    ...(summary.length > 0 ? [SUMMARY_LABEL, ...blockQuote(summary), ''] : []),
    footer,
    '',
  ].join('\n');

  const html = [
    '<!DOCTYPE html>',
    '<html><body style="font-family: sans-serif">',
    `<h2>${escapeHtml(title)}</h2>`,
    '<table cellpadding="4">',
    ...rows.map(([label, value]) => `<tr><th align="left">${escapeHtml(label)}</th><td>${escapeHtml(value)}</td></tr>`),
    '</table>',
    ...(links.length > 0 ? [`<p>${links.map((link) => `<a href="${escapeHtml(link.url)}">${escapeHtml(link.label)}</a>`).join(' · ')}</p>`] : []),
    ...(summary.length > 0
      ? [`<p>${escapeHtml(SUMMARY_LABEL)}</p>`, `<blockquote><pre style="white-space: pre-wrap">${escapeHtml(summary.join('\n'))}</pre></blockquote>`]
      : []),
    `<p style="color: #666">${escapeHtml(footer)}</p>`,
    '</body></html>',
    '',
  ].join('\n');

  // One line: a subject with a line break would end the header early.
  return { subject: `${subjectPrefix} ${title}`.replace(/\s+/g, ' ').trim(), text, html };
}
