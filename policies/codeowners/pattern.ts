/**
 * One CODEOWNERS pattern, compiled. GitHub's dialect of gitignore patterns:
 *   - a leading `/`, or a `/` in the middle, anchors the pattern at the repository root; a pattern
 *     with no slash (other than a trailing one) matches at any depth;
 *   - a trailing `/` matches everything inside that directory, at any depth;
 *   - a pattern that does not end in `/` matches the path itself and, when it names a directory,
 *     everything inside it, except that a last segment of exactly `*` matches one level only
 *     (GitHub's docs: `docs/*` owns `docs/getting-started.md`, not `docs/build-app/troubleshooting.md`);
 *   - `*` is any run of characters other than `/`, `?` one such character, a whole segment `**` any
 *     number of directories (a leading `**` any leading ones, a trailing `**` everything inside);
 *   - `\` makes the next character literal (`my\ file`, `\*`); matching is case-sensitive;
 *   - `!` negation, `[ ]` character ranges and a leading `\#` are not supported (GitHub's docs list
 *     them as exceptions), and neither is `***`: such patterns are errors, never approximations.
 * Parsed by hand rather than through picomatch or `ignore`: both implement other dialects (ranges,
 * braces, negation, gitignore's "a matched directory hides everything below it"). Matched by the
 * glob engine that policy globs use (policies/glob-engine), which never backtracks: CODEOWNERS
 * patterns are matched against paths that whoever pushes chooses.
 */
import { Automaton } from '../glob-engine/automaton.js';
import { ANY, many, NOT_SLASH, one, optional, text, type GlobNode } from '../glob-engine/nodes.js';

/**
 * Where the rule index files a pattern: every path the pattern matches starts with `prefix` and, when
 * given, has a later segment equal to `segment`, or else one ending with `extension` (from its last
 * `.`, dot included). Each literal segment of a pattern matches exactly one segment of the path.
 */
export interface IndexKey {
  prefix: string[];
  segment?: string;
  extension?: string;
}

export interface CompiledPattern {
  /** Whether a repository-relative path (no leading slash) matches. */
  matches: (path: string) => boolean;
  key: IndexKey;
}

export type PatternResult =
  | { ok: true; pattern: CompiledPattern }
  /** `offset` is 0-based within the pattern text. */
  | { ok: false; offset: number; message: string; suggestion: string | null };

/** `double`: written as "**"; a segment that is exactly "**" means any directories, elsewhere it is "*". */
type Piece = { kind: 'text'; text: string } | { kind: 'star'; double: boolean } | { kind: 'one' };
const GLOBSTAR = 'globstar';
type Segment = Piece[] | typeof GLOBSTAR;

interface Lexed {
  segments: Piece[][];
  /** Each segment's 0-based start offset in the pattern text. */
  offsets: number[];
}

type Failure = Extract<PatternResult, { ok: false }>;

function fail(offset: number, message: string, suggestion: string | null = null): Failure {
  return { ok: false, offset, message, suggestion };
}

const SPECIAL = /[\\!*?[\]]/;
/** The characters the lexer treats specially after the first one (`!` is special only first). */
const RUN_END = '\\/*?[]';

/** Splits the pattern into segments of pieces, applying escapes; rejects what GitHub does not support. */
function lex(raw: string): Lexed | Failure {
  if (!SPECIAL.test(raw)) {
    // Most real patterns are plain paths.
    let offset = 0;
    const offsets: number[] = [];
    const segments = raw.split('/').map((text) => {
      offsets.push(offset);
      offset += text.length + 1;
      return text ? [{ kind: 'text' as const, text }] : [];
    });
    return { segments, offsets };
  }
  const segments: Piece[][] = [[]];
  const offsets = [0];
  let current = segments[0];
  const pushText = (text: string) => {
    const last = current[current.length - 1];
    if (last?.kind === 'text') last.text += text;
    else current.push({ kind: 'text', text });
  };
  for (let i = 0; i < raw.length; i++) {
    let c = raw[i];
    if (c === '\\') {
      if (i + 1 >= raw.length) return fail(i, 'a trailing "\\" escapes nothing');
      // GitHub's docs list this escape among those CODEOWNERS does not support: such a line must not
      // own "#…" files that GitHub gives to an earlier line's owners.
      if (i === 0 && raw[1] === '#') {
        return fail(0, 'escaping a leading "#" with "\\" is not supported in CODEOWNERS', 'Anchor the pattern instead: `/#file` at the root, `**/#file` in any directory.');
      }
      c = raw[++i];
      // An escaped "/" is still a separator: a path segment can never contain one.
      if (c !== '/') {
        pushText(c);
        continue;
      }
    }
    if (c === '/') {
      current = [];
      segments.push(current);
      offsets.push(i + 1);
    } else if (c === '!' && i === 0) {
      return fail(i, 'negation with "!" is not supported in CODEOWNERS', 'Write a later rule with no owners to un-own paths instead.');
    } else if (c === '[' || c === ']') {
      return fail(i, 'character ranges with "[ ]" are not supported in CODEOWNERS', 'Escape the bracket as "\\[" to match it literally.');
    } else if (c === '*') {
      let run = 1;
      while (raw[i + run] === '*') run++;
      if (run > 2) return fail(i, `"${'*'.repeat(run)}" is not a valid wildcard; use "*" or "**"`);
      current.push({ kind: 'star', double: run === 2 });
      i += run - 1;
    } else if (c === '?') {
      current.push({ kind: 'one' });
    } else {
      // A run of ordinary characters as one string, not one string per character.
      let end = i + 1;
      while (end < raw.length && !RUN_END.includes(raw[end])) end++;
      pushText(raw.slice(i, end));
      i = end - 1;
    }
  }
  return { segments, offsets };
}

function isGlobstar(pieces: Piece[]): boolean {
  const [only] = pieces;
  return pieces.length === 1 && only.kind === 'star' && only.double;
}

export function compilePattern(raw: string): PatternResult {
  if (raw.length === 0) return fail(0, 'the pattern is empty');
  const lexed = lex(raw);
  if ('ok' in lexed) return lexed;
  const { offsets } = lexed;
  let pieces = lexed.segments;
  if (pieces.length === 2 && pieces[0].length === 0 && pieces[1].length === 0) {
    return fail(0, 'the pattern "/" matches nothing', 'The pattern `/` will never match anything, did you mean `*` instead?');
  }
  const rooted = pieces[0].length === 0;
  const start = rooted ? 1 : 0;
  const directoryOnly = pieces.length > 1 && pieces[pieces.length - 1].length === 0;
  const end = directoryOnly ? pieces.length - 1 : pieces.length;
  for (let i = start; i < end; i++) {
    if (pieces[i].length === 0) return fail(Math.max(0, offsets[i] - 1), 'empty path segment ("//") matches nothing');
  }
  pieces = pieces.slice(start, end);
  const anchored = rooted || pieces.length > 1;

  const segments: Segment[] = [];
  const push = (segment: Segment) => {
    if (segment === GLOBSTAR && segments[segments.length - 1] === GLOBSTAR) return;
    segments.push(segment);
  };
  if (!anchored) push(GLOBSTAR);
  for (const p of pieces) push(isGlobstar(p) ? GLOBSTAR : p);
  if (directoryOnly) push(GLOBSTAR);

  return { ok: true, pattern: { matches: lazyMatcher(segments), key: indexKey(segments) } };
}

/** Built on first use: thanks to the rule index, most rules of a large file are never tested. */
function lazyMatcher(segments: Segment[]): (path: string) => boolean {
  let match: ((path: string) => boolean) | undefined;
  return (path) => (match ??= matcherFor(segments))(path);
}

function matcherFor(segments: Segment[]): (path: string) => boolean {
  const literal = literalPath(segments);
  if (literal !== undefined) {
    if (literal.contentsOnly) {
      const prefix = `${literal.path}/`;
      return (path) => path.length > prefix.length && path.startsWith(prefix);
    }
    const { path: exact } = literal;
    const prefix = `${exact}/`;
    return (path) => path === exact || path.startsWith(prefix);
  }
  // A match contains every literal piece of the pattern: checking them (longest first) is much
  // cheaper than the automaton and rules most candidates out. All of them, because the
  // index already guarantees one (the ".ts" of "*fleet*.ts"), which then rules nothing out.
  const required = segments
    .flatMap((segment) => (segment === GLOBSTAR ? [] : segment))
    .flatMap((piece) => (piece.kind === 'text' ? [piece.text] : []))
    .sort((a, b) => b.length - a.length);
  // Built once a path gets past those checks: for many patterns none ever does.
  let automaton: Automaton | undefined;
  return (path) => {
    for (const piece of required) if (!path.includes(piece)) return false;
    return (automaton ??= new Automaton(toNodes(segments))).matches(path);
  };
}

/** Patterns without wildcards (by far the most common) are matched with string comparisons. */
function literalPath(segments: Segment[]): { path: string; contentsOnly: boolean } | undefined {
  const last = segments.length - 1;
  const contentsOnly = last > 0 && segments[last] === GLOBSTAR;
  const texts = (contentsOnly ? segments.slice(0, last) : segments).map(literalText);
  if (texts.includes(undefined)) return undefined;
  return { path: texts.join('/'), contentsOnly };
}

/** The pattern as the glob engine's nodes, matched against the whole path. */
function toNodes(segments: Segment[]): GlobNode[] {
  const last = segments.length - 1;
  const anything = [one(ANY), many(ANY)];
  const nodes: GlobNode[] = [];
  segments.forEach((segment, i) => {
    if (segment === GLOBSTAR) {
      if (last === 0) nodes.push(...anything);
      else if (i === 0) nodes.push(optional([many(ANY), text('/')]));
      else if (i === last) nodes.push(text('/'), ...anything);
      else nodes.push(text('/'), optional([...anything, text('/')]));
      return;
    }
    if (i > 0 && segments[i - 1] !== GLOBSTAR) nodes.push(text('/'));
    for (const piece of segment) {
      if (piece.kind === 'star') nodes.push(many(NOT_SLASH));
      else if (piece.kind === 'one') nodes.push(one(NOT_SLASH));
      else nodes.push(text(piece.text));
    }
    // The path itself, or (unless the last segment is exactly "*") anything inside it.
    if (i === last && !(segment.length === 1 && segment[0].kind === 'star')) nodes.push(optional([text('/'), many(ANY)]));
  });
  return nodes;
}

/** The text of a segment without wildcards, else undefined. */
function literalText(segment: Segment): string | undefined {
  if (segment === GLOBSTAR || segment.length !== 1 || segment[0].kind !== 'text') return undefined;
  return segment[0].text;
}

function indexKey(segments: Segment[]): IndexKey {
  const texts = segments.map(literalText);
  const firstWild = texts.indexOf(undefined);
  const end = firstWild < 0 ? texts.length : firstWild;
  const prefix = texts.slice(0, end) as string[];
  const rest = segments.slice(end);
  // The last literal segment tends to be the most specific one (".meta" in "**/scout_*/*/.meta/**").
  const literal = texts.slice(end).findLast((text) => text !== undefined);
  if (literal !== undefined) return { prefix, segment: literal };
  for (const segment of rest.toReversed()) {
    if (segment === GLOBSTAR) continue;
    const tail = segment[segment.length - 1];
    const dot = tail.kind === 'text' ? tail.text.lastIndexOf('.') : -1;
    if (tail.kind === 'text' && dot >= 0) return { prefix, extension: tail.text.slice(dot) };
  }
  return { prefix };
}
