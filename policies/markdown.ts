/**
 * Names and values a policy's author wrote (rule and window names, patterns), shown as Markdown code
 * spans, where GitHub turns nothing into a mention, a link, an image or HTML. Such text may come from
 * a pull request that changes the policy, whose author must not be able to write the App's lines.
 *
 * A span's fence is longer than any run of backticks in the text, so the text cannot close it; line
 * breaks of every kind become spaces (a lone `\r` ends a line in Markdown too), and control and
 * bidirectional-override characters are dropped: they can make text read differently from what it is.
 */

/** Every line break a Markdown renderer or a browser may honour. */
export const LINE_BREAKS = /\r\n|[\n\r\v\f\x85\u2028\u2029]/g;
/** C0 and C1 controls other than tab and line breaks, and the bidirectional controls. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
export const HIDDEN = /[\0-\x08\x0e-\x1f\x7f-\x84\x86-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** One line of plain text: no controls, every run of whitespace (line breaks included) one space. */
export function oneLine(text: string): string {
  return text.replace(LINE_BREAKS, ' ').replace(HIDDEN, '').replace(/\s+/g, ' ').trim();
}

/** Text, on one line, as an inline code span sized to its backtick runs; `(empty)` in code for text that is empty then. */
export function codeSpan(text: string): string {
  return fencedSpan(oneLine(text) || '(empty)');
}

/** One line as a code span: a fence longer than any backtick run, padded where the text starts or ends with a backtick. */
export function fencedSpan(line: string): string {
  const fence = '`'.repeat(longestBacktickRun(line) + 1);
  // A span's content may not start or end with a backtick next to the fence; one space on each side is stripped again.
  const pad = line.startsWith('`') || line.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${line}${pad}${fence}`;
}

export function longestBacktickRun(text: string): number {
  let longest = 0;
  for (const run of text.matchAll(/`+/g)) longest = Math.max(longest, run[0].length);
  return longest;
}

/**
 * Text in a GitHub Markdown table cell, code spans included: a `|` ends the cell even inside code
 * unless escaped, and a backslash before it would escape the escape; a line break would end the row.
 */
export function tableCell(text: string): string {
  return text.replace(LINE_BREAKS, ' ').replace(/(\\*)\|/g, (_, slashes: string) => `${slashes}${slashes}\\|`);
}
