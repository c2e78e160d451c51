/**
 * GitHub's size limits for what the App writes, and cutting text to them. GitHub refuses an
 * over-long text outright (HTTP 422), and a refused update would leave a decided request showing
 * as pending, so every text is cut to fit before it is sent.
 *
 * Cuts fall between grapheme clusters: never inside a surrogate pair, a multi-byte character, or an
 * emoji sequence such as 👩‍👩‍👧‍👦.
 */

/** How a limit is counted. */
export type Measure = (text: string) => number;

/**
 * Issue and comment bodies: "Body is too long (maximum is 65536 characters)". GitHub counts
 * characters (code points); counting UTF-16 code units, which are never fewer, stays within it.
 */
export const utf16Units: Measure = (text) => text.length;
/** Check-run output: "summary exceeds a maximum bytesize of 65535", i.e. UTF-8 bytes, whatever the docs' "characters" say. */
export const utf8Bytes: Measure = (text) => Buffer.byteLength(text, 'utf8');

export interface Limit {
  max: number;
  measure: Measure;
  /** For the marker that says a text was cut. */
  unit: string;
}

export const LIMITS = {
  /** An issue's or a comment's body. */
  body: { max: 65_536, measure: utf16Units, unit: 'characters' },
  issueTitle: { max: 256, measure: utf16Units, unit: 'characters' },
  checkRunOutput: { max: 65_535, measure: utf8Bytes, unit: 'bytes' },
  /**
   * GitHub documents no figure for a check run's title; 255 is its documented limit for the other
   * check-run title (an annotation's), and counting bytes keeps within it whatever GitHub counts.
   */
  checkRunTitle: { max: 255, measure: utf8Bytes, unit: 'bytes' },
} as const satisfies Record<string, Limit>;

export const ELLIPSIS = '…';

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

export interface Cut {
  text: string;
  /** Characters (code points) left out; 0 when the text fit. */
  omitted: number;
}

/** The longest prefix of `text` that measures at most `max`, cut between grapheme clusters. */
export function cutTo(text: string, max: number, measure: Measure = utf16Units): Cut {
  if (measure(text) <= max) return { text, omitted: 0 };
  let size = 0;
  let end = 0;
  for (const character of text) {
    size += measure(character);
    if (size > max) break;
    end += character.length;
  }
  // Back to the start of the grapheme cluster the cut falls in (looking up one cluster is cheap; walking them all is not).
  end = graphemes.segment(text).containing(end)?.index ?? end;
  return { text: text.slice(0, end), omitted: countCodePoints(text.slice(end)) };
}

/** `text` within `max`, ending in `…` when it had to be cut. */
export function shorten(text: string, max: number, measure: Measure = utf16Units): string {
  if (measure(text) <= max) return text;
  return `${cutTo(text, max - measure(ELLIPSIS), measure).text}${ELLIPSIS}`;
}

function countCodePoints(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

/**
 * A Markdown document in three parts, joined by line breaks. Each part is a list of blocks (lines
 * that belong together, such as a whole fenced code block), so a cut never leaves a code fence or
 * a code span open: whole blocks of `middle` are left out from the end until the document fits.
 * `head` (the decision line) and `tail` are always kept; they must be small.
 */
export interface Document {
  head: string[][];
  middle: string[][];
  tail: string[][];
}

export function fitDocument(document: Document, limit: Limit): string {
  // Both measures add up over concatenation, so each block is measured once; each line counts its line break.
  const size = (blocks: string[][]) => blocks.flat().reduce((total, line) => total + limit.measure(line) + 1, 0);
  const fixed = size(document.head) + size(document.tail) - 1;
  const middle = document.middle.map((block) => size([block]));
  let kept = middle.length;
  let total = fixed + middle.reduce((sum, n) => sum + n, 0);
  let marker: string[] = [];
  while (total + size([marker]) > limit.max) {
    if (kept === 0) throw new Error(`the fixed parts of this text are larger than GitHub's limit of ${limitText(limit)}`);
    total -= middle[--kept];
    marker = omissionMarker(middle.length - kept, limit);
  }
  return [...document.head, ...document.middle.slice(0, kept), marker, ...document.tail].flat().join('\n');
}

function omissionMarker(omitted: number, limit: Limit): string[] {
  const entries = omitted === 1 ? '1 more entry is' : `${omitted} more entries are`;
  // The blank line first keeps the marker out of a list item above it.
  return ['', `*Shortened to fit GitHub's limit of ${limitText(limit)}: ${entries} not shown.*`, ''];
}

/** `65,535 bytes`. */
export function limitText(limit: Limit): string {
  return `${limit.max.toLocaleString('en')} ${limit.unit}`;
}
