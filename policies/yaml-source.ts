/**
 * YAML text → plain value plus a way to locate any JSON pointer in it, using the `yaml` package's
 * Document API and a LineCounter. Never throws: every problem becomes a located diagnostic. Used
 * for policy files and (through its options) for the App's notifier configuration.
 */
import { Alias, isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseAllDocuments, type Document, type Node, type Pair, type Scalar } from 'yaml';
import type { PolicyDiagnostic, SourceLocation } from './types.js';

/** A policy is a few kilobytes; anything near this is a mistake or an attack. */
export const MAX_POLICY_CHARS = 1024 * 1024;
/** Bounds alias expansion (the "billion laughs" attack); the yaml package throws beyond it. */
const MAX_ALIAS_COUNT = 100;
const MAX_YAML_PROBLEMS = 10;

export interface YamlSource {
  file: string;
  /** The document's value as plain JSON-like data; undefined when the text has errors. */
  value: unknown;
  diagnostics: PolicyDiagnostic[];
  /** Where the node at `pointer` starts; with `key`, where its key starts (for unknown keys). */
  locate(pointer: string, target?: 'value' | 'key'): SourceLocation;
}

export interface YamlSourceOptions {
  /** The longest text accepted, in characters; MAX_POLICY_CHARS unless given. */
  maxChars?: number;
  /** What the file holds, as messages name it; "policy" unless given. */
  subject?: string;
  /** The message for a file with nothing in it. */
  emptyMessage?: string;
  /** Report a duplicate key in the yaml package's own words ("YAML syntax error: Map keys must be unique…"). */
  yamlDuplicateKeyMessage?: boolean;
  /**
   * Runs on the parsed document before it becomes a value, once it has no syntax errors and is not
   * empty; it may change scalars. Each problem it returns is reported at its offset in the text,
   * and then there is no value.
   */
  prepare?: (doc: Document) => { offset: number; message: string }[];
}

export function parseYamlSource(input: string | Uint8Array, file: string, options: YamlSourceOptions = {}): YamlSource {
  const { maxChars = MAX_POLICY_CHARS, subject = 'policy', prepare } = options;
  const emptyMessage = options.emptyMessage ?? 'the policy file is empty: expected a mapping starting with "version: 1"';
  const text = typeof input === 'string' ? input : decodeUtf8(input);
  const lineCounter = new LineCounter();
  const parsed: { doc?: Document } = {};
  const source: YamlSource = {
    file,
    value: undefined,
    diagnostics: [],
    locate: (pointer, target = 'value') => locateNode(file, lineCounter, parsed.doc, pointer, target),
  };
  const fail = (offset: number, message: string): YamlSource => {
    const { line, col } = offset === 0 ? { line: 1, col: 1 } : lineCounter.linePos(offset);
    source.diagnostics.push({ file, line, col, pointer: '', message });
    return source;
  };

  if (text === undefined) return fail(0, NOT_UTF8);
  if (text.length > maxChars) return fail(0, `the file is too large (${text.length} characters; at most ${maxChars})`);

  // Counted here rather than by the parser, which skips newlines inside multi-line quoted scalars.
  lineCounter.addNewLine(0);
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) lineCounter.addNewLine(i + 1);
  let docs: Document[];
  try {
    docs = parseAllDocuments(text, { prettyErrors: false, uniqueKeys: true, stringKeys: true, logLevel: 'silent' }) as Document[];
  } catch (err) {
    // The parser recurses per nesting level; absurd nesting exhausts the stack.
    return fail(0, `the YAML could not be parsed: ${(err as Error).message}`);
  }
  if (docs.length > 1) {
    const second = docs[1].range?.[0] ?? 0;
    return fail(second, `expected a single YAML document, found a second one ("---"); put the whole ${subject} in one document`);
  }
  const doc = docs[0];
  parsed.doc = doc;
  if (!doc) return fail(0, emptyMessage);
  const seen = new Set<string>();
  const syntaxErrorLines = new Set<number>();
  for (const problem of [...doc.errors, ...doc.warnings]) {
    const reported = lineCounter.linePos(problem.pos[0]);
    const indentation = indentationProblem(text, lineCounter, problem.code, reported.line);
    const { line, col } = indentation ?? reported;
    const message = describeYamlProblem(doc, problem.code, problem.message, problem.pos[0], subject, options.yamlDuplicateKeyMessage ?? false) + (indentation?.hint ?? '');
    // One mistake (an unclosed bracket) can cascade into hundreds of reports; the first few say it,
    // and the parser's first complaint about a line (a mis-indented one, say) is the one that helps.
    if (seen.has(message) || seen.size >= MAX_YAML_PROBLEMS) continue;
    if (problem.code !== 'DUPLICATE_KEY') {
      if (syntaxErrorLines.has(line) || syntaxErrorLines.has(reported.line)) continue;
      syntaxErrorLines.add(line);
      syntaxErrorLines.add(reported.line);
    }
    seen.add(message);
    source.diagnostics.push({ file, line, col, pointer: '', message });
  }
  if (source.diagnostics.length > 0) return source;
  if (doc.contents === null) return fail(0, emptyMessage);
  if (prepare) {
    for (const { offset, message } of prepare(doc)) fail(offset, message);
    if (source.diagnostics.length > 0) return source;
  }
  try {
    source.value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    const message = (err as Error).message;
    if (!/alias/i.test(message)) return fail(0, `the YAML could not be read: ${message}`);
    return fail(startOf(findNode(doc, isAlias)) ?? 0, `the YAML could not be expanded: ${message} (at most ${MAX_ALIAS_COUNT} alias uses)${quotingHint(message)}`);
  }
  return source;
}

/** A line's key (after any `- `), and the column both start in; undefined for a blank, comment or keyless line. */
function keyOfLine(text: string, lineCounter: LineCounter, line: number): { key?: string; keyCol: number; indentCol: number } | undefined {
  const start = lineCounter.lineStarts[line - 1];
  if (start === undefined) return undefined;
  const end = text.indexOf('\n', start);
  const source = text.slice(start, end === -1 ? undefined : end).replace(/\r$/, '');
  const match = /^( *)((?:- +)*)([^\s#:'"[\]{},&*!|>%@`-][^:#]*)?/.exec(source);
  if (!match || source.trim() === '' || source.trimStart().startsWith('#')) return undefined;
  const indentCol = match[1]!.length + 1;
  const keyCol = indentCol + match[2]!.length;
  const isKey = match[3] !== undefined && source.slice(keyCol - 1 + match[3].length).startsWith(':');
  return { key: isKey ? match[3]!.trimEnd() : undefined, keyCol, indentCol };
}

/**
 * The parser's indentation errors name the start of a line, or a value above the line at fault: say
 * where the mis-indented key starts, and the key it should line up with.
 */
function indentationProblem(text: string, lineCounter: LineCounter, code: string, line: number): { line: number; col: number; hint: string } | undefined {
  if (code === 'BAD_INDENT') {
    const here = keyOfLine(text, lineCounter, line);
    if (!here?.key) return undefined;
    // The nearest key above, in the closest column to the right of this one, before the mapping that holds both.
    let sibling: { key: string; keyCol: number; line: number } | undefined;
    for (let above = line - 1; above >= 1; above--) {
      const other = keyOfLine(text, lineCounter, above);
      if (!other) continue;
      if (other.key && other.keyCol > here.keyCol && (!sibling || other.keyCol < sibling.keyCol)) sibling = { key: other.key, keyCol: other.keyCol, line: above };
      if (other.indentCol <= here.keyCol) break;
    }
    const hint = sibling
      ? `; \`${here.key}\` starts at column ${here.keyCol}, but \`${sibling.key}\` on line ${sibling.line} at column ${sibling.keyCol}: start the keys of one mapping in the same column`
      : '; start the keys of one mapping in the same column';
    return { line, col: here.keyCol, hint };
  }
  if (code === 'BLOCK_AS_IMPLICIT_KEY') {
    // `approvals: 2` then `approvers:` one space further in: YAML reads `2 approvers` as one value.
    const here = keyOfLine(text, lineCounter, line);
    let next = line + 1;
    while (next <= lineCounter.lineStarts.length && keyOfLine(text, lineCounter, next) === undefined) next++;
    const below = keyOfLine(text, lineCounter, next);
    if (!here?.key || !below?.key || below.indentCol <= here.keyCol) return undefined;
    const hint = `; line ${next} is indented further than \`${here.key}\` on line ${line}, so YAML reads it as the rest of that value: start \`${below.key}\` in column ${here.keyCol}, as \`${here.key}\``;
    return { line: next, col: below.keyCol, hint };
  }
  return undefined;
}

/** What a file whose bytes are not UTF-8 is refused with, wherever it is read. */
export const NOT_UTF8 = 'the file is not valid UTF-8 text';

/**
 * The text of UTF-8 bytes, or undefined when they are not UTF-8: never replacement characters, in
 * which a tightening rule's pattern would silently match nothing.
 */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

function describeYamlProblem(doc: Document, code: string, message: string, offset: number, subject: string, yamlDuplicateKeyMessage: boolean): string {
  if (code === 'DUPLICATE_KEY' && !yamlDuplicateKeyMessage) {
    const key = findNode(doc, (node) => isPair(node) && startOf(node.key) === offset) as Pair<Scalar> | undefined;
    return `duplicate key "${String(key?.key.value)}": each key may appear only once in a mapping`;
  }
  if (message.includes('call stack')) return 'the YAML is nested too deeply';
  if (code === 'TAG_RESOLVE_FAILED') return `${message}: ${subject} files use plain YAML without custom tags`;
  // The parser's own wording names its option; say what it means.
  if (message.startsWith('With stringKeys')) return 'YAML syntax error: a key must be plain text, not a list or a mapping (check the indentation and the "-" of list items)';
  return `YAML syntax error: ${message}${quotingHint(message)}`;
}

/**
 * Globs and logins start with characters YAML reads as syntax (`*` an alias, `[` a list, `@` reserved):
 * the usual cause of these errors in a policy, so say how to write the value instead.
 */
function quotingHint(message: string): string {
  if (/reserved character @/.test(message)) return '; quote a value that starts with "@", for example "@acme/leads"';
  if (/Alias cannot be an empty string|Unresolved alias/.test(message)) return '; a value starting with "*" is read as a YAML alias: quote globs, for example "*.md"';
  // `[abc]*.md`: the `*` after the closing bracket is read as an alias.
  if (/Unexpected (scalar|alias) at node end|Unexpected flow/.test(message)) return '; a value starting with "[" or "{" is read as a YAML list or mapping: quote a glob that starts with one, for example "[abc]*.md"';
  return '';
}

/** The first node in document order that satisfies the predicate (iterative: nesting may be deep). */
function findNode(doc: Document, predicate: (node: unknown) => boolean): unknown {
  const stack: unknown[] = [doc.contents];
  while (stack.length > 0) {
    const node = stack.pop();
    if (predicate(node)) return node;
    if (isMap(node) || isSeq(node)) stack.push(...[...node.items].reverse());
    else if (isPair(node)) stack.push(node.value, node.key);
  }
  return undefined;
}

/** Decodes a JSON pointer (RFC 6901) into its segments. */
export function pointerSegments(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

export function joinPointer(pointer: string, segment: string | number): string {
  return `${pointer}/${String(segment).replace(/~/g, '~0').replace(/\//g, '~1')}`;
}

/**
 * Walks the document along the pointer, following aliases, and returns where the deepest node that
 * exists starts: a missing key points at its parent mapping; an empty value (`key:`) at its key.
 */
function locateNode(
  file: string,
  lineCounter: LineCounter,
  doc: Document | undefined,
  pointer: string,
  target: 'value' | 'key',
): SourceLocation {
  let node: unknown = doc?.contents;
  let offset = startOf(node) ?? 0;
  const segments = pointerSegments(pointer);
  for (const [i, segment] of segments.entries()) {
    if (isAlias(node) && doc) node = (node as Alias).resolve(doc);
    const last = i === segments.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === segment);
      if (!pair) break;
      const keyStart = startOf(pair.key);
      const valueStart = isEmptyScalar(pair.value) ? undefined : startOf(pair.value);
      offset = (last && target === 'key' ? keyStart : (valueStart ?? keyStart)) ?? offset;
      node = pair.value;
    } else if (isSeq(node)) {
      const item: unknown = node.items[Number(segment)];
      if (item === undefined) break;
      offset = startOf(item) ?? offset;
      node = item;
    } else {
      break;
    }
  }
  const { line, col } = offset === 0 ? { line: 1, col: 1 } : lineCounter.linePos(offset);
  return { file, line, col };
}

function startOf(node: unknown): number | undefined {
  return (node as Node | null)?.range?.[0];
}

function isEmptyScalar(node: unknown): boolean {
  return node === null || (isScalar(node) && node.value === null && node.range?.[0] === node.range?.[1]);
}
