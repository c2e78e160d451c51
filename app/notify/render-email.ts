/** E-mail for a notification: subject, a plain-text part and an HTML part. Pure; all text in the HTML is escaped. */
import escapeHtml from 'escape-html';
import type { NotificationEvent } from './event.js';
import { factRows, headline, labelledLinks } from './render-text.js';

export interface EmailMessage {
  subject: string;
  text: string;
  html: string;
}

export function renderEmail(event: NotificationEvent, subjectPrefix: string): EmailMessage {
  const title = headline(event);
  const rows = factRows(event);
  const links = labelledLinks(event.links, event.kind !== 'decided');
  const footer = `Request ${event.requestId}, requested ${event.requestedAt}.`;

  const labelWidth = Math.max(...rows.map(([label]) => label.length)) + 1;
  const text = [
    title,
    '',
    ...(event.summary ? [event.summary, ''] : []),
    ...rows.map(([label, value]) => `${`${label}:`.padEnd(labelWidth)} ${value}`),
    '',
    ...links.map((link) => `${link.label}: ${link.url}`),
    ...(links.length > 0 ? [''] : []),
    footer,
    '',
  ].join('\n');

  const html = [
    '<!DOCTYPE html>',
    '<html><body style="font-family: sans-serif">',
    `<h2>${escapeHtml(title)}</h2>`,
    ...(event.summary ? [`<p>${escapeHtml(event.summary)}</p>`] : []),
    '<table cellpadding="4">',
    ...rows.map(([label, value]) => `<tr><th align="left">${escapeHtml(label)}</th><td>${escapeHtml(value)}</td></tr>`),
    '</table>',
    ...(links.length > 0 ? [`<p>${links.map((link) => `<a href="${escapeHtml(link.url)}">${escapeHtml(link.label)}</a>`).join(' · ')}</p>`] : []),
    `<p style="color: #666">${escapeHtml(footer)}</p>`,
    '</body></html>',
    '',
  ].join('\n');

  // One line: a subject with a line break would end the header early.
  return { subject: `${subjectPrefix} ${title}`.replace(/\s+/g, ' ').trim(), text, html };
}
