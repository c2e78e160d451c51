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
const COMMAND_WORD = /^\/[A-Za-z][\w-]*(?=\s|$)/;

/**
 * A command's paragraph opens with a `/`, written as itself, escaped (`\/`) or as a character
 * reference (`&#47;`): a body whose first visible character is none of these is no command, and
 * most comments are turned away here without parsing Markdown.
 */
const MAY_OPEN_COMMAND = /^[\s\uFEFF]*[/\\&]/;

/** The command in a comment body, or undefined when the comment is not a slash command at all. */
export function parseCommand(body: string): Command | undefined {
  if (!MAY_OPEN_COMMAND.test(body)) return undefined;
  const line = commandLine(body);
  const match = line?.match(/^\/([A-Za-z][\w-]*)(?:\s+([\s\S]*))?$/);
  if (!match) return undefined;
  const name = match[1].toLowerCase();
  const rest = (match[2] ?? '').trim();
  if (name === 'approve') return { kind: 'approve', note: rest };
  if (name === 'reject') {
    if (rest.length === 0) return { kind: 'invalid', choice: 'reject', problem: '`/reject` needs a reason, for example `/reject migration is not reversible`' };
    return { kind: 'reject', reason: rest };
  }
  const nearest = closest(name, [...KNOWN]) as (typeof KNOWN)[number];
  if (distance(name, nearest) <= 2 || name.startsWith(nearest)) {
    return { kind: 'invalid', choice: nearest, problem: `unknown command \`/${name}\``, suggestion: `/${nearest}` };
  }
  // Other bots' commands (`/label`, `/cc`) are none of our business.
  return undefined;
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
