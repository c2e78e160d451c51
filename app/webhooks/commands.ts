/**
 * Slash commands in issue and PR comments, read as GitHub renders the comment (CommonMark with
 * GitHub's extensions). A command counts only as the first line of a plain paragraph that opens
 * the comment: never in code (fenced or indented), a block quote, an HTML comment or other HTML
 * block such as `<details>`, a table, a list or a heading, and never further down, so quoting a
 * command in a reply never votes.
 */
import { closest, distance } from 'fastest-levenshtein';
import { fromMarkdown } from 'mdast-util-from-markdown';
import { gfmFromMarkdown } from 'mdast-util-gfm';
import { gfm } from 'micromark-extension-gfm';

export type Command =
  | { kind: 'approve'; note: string }
  | { kind: 'reject'; reason: string }
  /**
   * Looks like a command meant for us but is not one we accept; `choice` is the vote it looks meant
   * to be (it is still on record), `suggestion` the command it likely meant.
   */
  | { kind: 'invalid'; choice: (typeof KNOWN)[number]; problem: string; suggestion?: string };

const KNOWN = ['approve', 'reject'] as const;

type Block = ReturnType<typeof fromMarkdown>['children'][number];
type Paragraph = Extract<Block, { type: 'paragraph' }>;
type Inline = Paragraph['children'][number];

/** The line endings of Markdown; a lone `\r` ends a line too. */
const LINE_ENDING = /\r\n|\r|\n/;
/** The command word, which must be plain text at the very start of the paragraph. */
const COMMAND_WORD = /^\/[A-Za-z]/;

/**
 * A command's paragraph opens with a `/`, written as itself, escaped (`\/`) or as a character
 * reference (`&#47;`): a body whose first visible character is none of these is no command, and
 * most comments are turned away here without parsing Markdown.
 */
const MAY_OPEN_COMMAND = /^[\s\uFEFF]*[/\\&]/;

/**
 * The longest opening paragraph read as Markdown for a command, in UTF-16 units. Reading Markdown's
 * inline syntax takes time that grows faster than its length (a paragraph of 65,536 characters,
 * GitHub's limit, of `*[` pairs or `<!--` openers takes tens of seconds, in which the App answers
 * nothing): a longer one is read only when it holds no such syntax (a long note in plain words), and
 * otherwise a command at its start is answered, never counted.
 */
const COMMAND_PARAGRAPH_MAX = 2_048;

/** A blank line: a line ending, then only spaces and tabs up to the next line ending or the end. */
const BLANK_LINE = /(?:\r\n|\r(?!\n)|\n)[ \t]*(?=\r|\n|$)/g;

/** The command in a comment body, or undefined when the comment is not a slash command at all. */
export function parseCommand(body: string): Command | undefined {
  if (!MAY_OPEN_COMMAND.test(body)) return undefined;
  const opening = openingBlock(body);
  if (opening.length <= COMMAND_PARAGRAPH_MAX) return readCommand(opening);
  const plain = plainFirstLine(opening);
  if (plain !== undefined) return commandIn(plain);
  const command = readCommand(opening.slice(0, COMMAND_PARAGRAPH_MAX));
  if (!command) return undefined;
  return {
    kind: 'invalid',
    choice: command.kind === 'invalid' ? command.choice : command.kind,
    problem: `the paragraph that opens the comment is longer than ${COMMAND_PARAGRAPH_MAX.toLocaleString('en-US')} characters, too long to read as a command; write the command on a line of its own, followed by a blank line`,
  };
}

/**
 * The comment up to the end of its first block, or up to the first blank line within it: a paragraph
 * ends there, and a block that goes on past one (code, a list, a quote, an HTML block) is that kind of
 * block already. What follows is not read, so a link reference in the command's paragraph whose
 * definition comes further down reads as written, brackets and all.
 */
function openingBlock(body: string): string {
  // Markdown drops a byte order mark that opens the text: blank lines after it are still leading ones.
  const bom = body.startsWith('\uFEFF') ? 1 : 0;
  const start = body.slice(bom).search(/[^ \t\r\n]/);
  if (start < 0) return body;
  BLANK_LINE.lastIndex = bom + start;
  const blank = BLANK_LINE.exec(body);
  return blank ? body.slice(0, blank.index) : body;
}

/** Characters that may start inline Markdown (escapes, code, emphasis, strikethrough, links, HTML, character references), a table's cells, or that Markdown replaces (NUL). */
const INLINE_SYNTAX = /[\\`*_~[\]<>&|\0]/;
/** A line that turns the paragraph above it into a heading. */
const SETEXT_UNDERLINE = /^ {0,3}(?:=+|-+)[ \t]*$/;
/** A line that, under a paragraph's first line, may make it a one-column table's header. */
const TABLE_DELIMITER = /^[ \t]*:?-+:?[ \t]*$/;

/**
 * The first line of an opening block of plain text that opens with a slash: read as Markdown, it is
 * its own text (none when the block is a heading). Undefined for any other block, which must be read
 * as Markdown.
 */
function plainFirstLine(opening: string): string | undefined {
  const start = opening.search(/[^ \t\r\n]/);
  const indent = opening.slice(0, start).split(LINE_ENDING).at(-1)!;
  if (opening[start] !== '/' || !/^ {0,3}$/.test(indent) || INLINE_SYNTAX.test(opening)) return undefined;
  const [first, second, ...further] = opening.slice(start).split(LINE_ENDING);
  // Underlined, the paragraph is a heading: no line of it is a command.
  if (second !== undefined && SETEXT_UNDERLINE.test(second)) return '';
  // A table, or an underline further down that may make the whole paragraph a heading, is read as Markdown.
  if (second !== undefined && TABLE_DELIMITER.test(second)) return undefined;
  if (further.some((line) => SETEXT_UNDERLINE.test(line))) return undefined;
  return first!.trim();
}

function readCommand(text: string): Command | undefined {
  return commandIn(commandLine(text));
}

/** The command a paragraph's first line, as rendered, states. */
function commandIn(line: string | undefined): Command | undefined {
  const match = line?.match(/^\/([A-Za-z][\w-]*)([\s\S]*)$/);
  if (!match) return undefined;
  const name = match[1].toLowerCase();
  if (match[2] !== '' && !/^\s/.test(match[2])) {
    // Run into what follows (`/approve.`, `/reject: not now`, `/approve?`, which asks): answered, never
    // counted, rather than passed over in silence as another bot's command.
    const meant = nearestKnown(name);
    return meant && { kind: 'invalid', choice: meant, problem: `\`/${name}\` must be followed by a space or the end of the line, as in \`/${meant} ${meant === 'reject' ? 'migration is not reversible' : 'looks good'}\`` };
  }
  const rest = match[2].trim();
  if (name === 'approve') return { kind: 'approve', note: rest };
  if (name === 'reject') {
    if (rest.length === 0) return { kind: 'invalid', choice: 'reject', problem: '`/reject` needs a reason, for example `/reject migration is not reversible`' };
    return { kind: 'reject', reason: rest };
  }
  const nearest = nearestKnown(name);
  if (nearest) return { kind: 'invalid', choice: nearest, problem: `unknown command \`/${name}\``, suggestion: `/${nearest}` };
  // Other bots' commands (`/label`, `/cc`) are none of our business.
  return undefined;
}

/** The command a command word looks meant to be, if any: a near miss or a longer word starting with it. */
function nearestKnown(name: string): (typeof KNOWN)[number] | undefined {
  const nearest = closest(name, [...KNOWN]) as (typeof KNOWN)[number];
  return distance(name, nearest) <= 2 || name.startsWith(nearest) ? nearest : undefined;
}

/** GitHub's Markdown, built once rather than for every comment. */
const GFM = { extensions: [gfm()], mdastExtensions: [gfmFromMarkdown()] };

/** The first line of the comment's first block, as rendered text, when that block is a paragraph opening with a command word. */
function commandLine(body: string): string | undefined {
  const first = fromMarkdown(body, GFM).children[0];
  if (first?.type !== 'paragraph') return undefined;
  const opening = first.children[0];
  if (opening?.type !== 'text' || !COMMAND_WORD.test(opening.value)) return undefined;
  return firstLine(first).trim();
}

function firstLine(paragraph: Paragraph): string {
  let line = '';
  for (const node of paragraph.children) {
    if (node.type === 'break') break;
    const text = renderedText(node);
    const end = text.search(LINE_ENDING);
    if (end >= 0) return line + text.slice(0, end);
    line += text;
  }
  return line;
}

/** The text a reader sees: HTML tags are not text, images show their alt text, code spans their content on one line. */
function renderedText(node: Inline): string {
  switch (node.type) {
    case 'html':
      return '';
    case 'inlineCode':
      return node.value.replace(/\r\n|\r|\n/g, ' ');
    case 'image':
      return node.alt ?? '';
    default:
      if ('value' in node) return node.value;
      return 'children' in node ? node.children.map((child) => renderedText(child)).join('') : '';
  }
}

/** When several requests wait on one thread, a command names the action it is for as its first word. */
export function targetAction(text: string, pendingActions: readonly string[]): { action: string; rest: string } | undefined {
  const [first = '', ...rest] = text.split(/\s+/);
  const action = pendingActions.find((name) => name.toLowerCase() === first.toLowerCase());
  return action ? { action, rest: rest.join(' ') } : undefined;
}
