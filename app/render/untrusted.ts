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
import { fencedSpan, HIDDEN, LINE_BREAKS, longestBacktickRun, oneLine } from '../../policies/markdown.js';
import { cutTo, ELLIPSIS, type Measure, utf16Units } from './limits.js';

export { oneLine };

/** Shown for text that is empty once hidden characters are dropped. */
const NOTHING = '*(empty)*';

/** Text as an inline code span, cut to `max` (measured by `measure`) with the cut marked. */
export function inlineCode(text: string, max: number, measure: Measure = utf16Units): string {
  const line = oneLine(text);
  if (!line) return NOTHING;
  const { text: shown, omitted } = cutTo(line, max, measure);
  const content = omitted ? `${shown}${ELLIPSIS}` : shown;
  return `${fencedSpan(content)}${omitted ? ` ${omittedNote(omitted)}` : ''}`;
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
