/**
 * Text the App did not write, shown in GitHub Markdown: the workflow's `summary`, `environment` and
 * `severity`, a branch name, `/approve` notes and `/reject` reasons. Such text is always shown as
 * code, where GitHub turns nothing into a mention, an issue reference, a link, an image or HTML, so
 * it cannot ping people, pose as the App's own lines or leave its place in the document.
 *
 * A code span or fence is sized to be longer than any run of backticks in the text, so the text
 * cannot close it; line breaks of every kind are normalised first, since a lone `\r` ends a line
 * in Markdown too. Control and bidirectional-override characters are dropped: they can make text
 * read differently from what it is.
 */
import { cutTo, ELLIPSIS, type Measure, utf16Units } from './limits.js';

/** Every line break a Markdown renderer or a browser may honour. */
const LINE_BREAKS = /\r\n|[\n\r\v\f\x85\u2028\u2029]/g;
/** C0 and C1 controls other than tab and line breaks, and the bidirectional controls. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const HIDDEN = /[\0-\x08\x0e-\x1f\x7f-\x84\x86-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** Shown for text that is empty once hidden characters are dropped. */
const NOTHING = '*(empty)*';

/** One line of plain text: no controls, every run of whitespace (line breaks included) one space. */
export function oneLine(text: string): string {
  return text.replace(LINE_BREAKS, ' ').replace(HIDDEN, '').replace(/\s+/g, ' ').trim();
}

/** Text as an inline code span, cut to `max` (measured by `measure`) with the cut marked. */
export function inlineCode(text: string, max: number, measure: Measure = utf16Units): string {
  const line = oneLine(text);
  if (!line) return NOTHING;
  const { text: shown, omitted } = cutTo(line, max, measure);
  const content = omitted ? `${shown}${ELLIPSIS}` : shown;
  const fence = '`'.repeat(longestBacktickRun(content) + 1);
  // A span's content may not start or end with a backtick next to the fence; one space on each side is stripped again.
  const pad = content.startsWith('`') || content.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${content}${pad}${fence}${omitted ? ` ${omittedNote(omitted)}` : ''}`;
}

/** Text as the lines of a fenced code block, cut to `max` with the cut marked below the block. */
export function codeBlock(text: string, max: number, measure: Measure = utf16Units): string[] {
  const clean = cleanLines(text);
  if (!clean) return [NOTHING];
  const { text: shown, omitted } = cutTo(clean, max, measure);
  const fence = '`'.repeat(Math.max(3, longestBacktickRun(shown) + 1));
  return [`${fence}text`, ...`${shown}${omitted ? ELLIPSIS : ''}`.split('\n'), fence, ...(omitted ? [omittedNote(omitted)] : [])];
}

/** Text's lines, as a code block holds them (see `codeBlock`); none for text that is empty once hidden characters are dropped. */
export function textLines(text: string): string[] {
  const clean = cleanLines(text);
  return clean ? clean.split('\n') : [];
}

/** Line breaks of every kind as `\n`, hidden characters dropped, no leading blank lines or trailing whitespace. */
function cleanLines(text: string): string {
  return text.replace(HIDDEN, '').replace(LINE_BREAKS, '\n').replace(/^\n+|\s+$/g, '');
}

/** Lines as a block quote; a quoted code block keeps its lines inside the quote. */
export function blockQuote(lines: readonly string[]): string[] {
  return lines.map((line) => (line ? `> ${line}` : '>'));
}

function omittedNote(omitted: number): string {
  return `*(${omitted.toLocaleString('en')} more ${omitted === 1 ? 'character' : 'characters'} not shown)*`;
}

function longestBacktickRun(text: string): number {
  let longest = 0;
  for (const run of text.matchAll(/`+/g)) longest = Math.max(longest, run[0].length);
  return longest;
}
