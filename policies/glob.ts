/**
 * Glob patterns for policy conditions (branch, environment, paths, …).
 *
 * Semantics, matched against the whole value (a full repository-relative path for `paths`):
 *   `*` any characters except `/`   ·   `**` any characters including `/` (whole segments)
 *   `?` one character except `/`    ·   `{a,b}` either alternative   ·   `[abc]` one of the characters
 *   (except in `actor`, where brackets are literal: see ACTOR_GLOB)
 * Dotfiles match like any other file. There is no negation: a leading `!` is an error, because
 * "everything except" in a gate is better said with a separate rule.
 *
 * In detail:
 *   - `**` stands for whole segments only when it is a whole segment, and then for any number of
 *     them, none included: a leading `**` (of the pattern, or of an alternative that starts a
 *     segment) or one between slashes may match no directory at all, and a trailing one makes the
 *     pattern match the directory itself too (see toNodes for the exact rule). Anywhere else (`a**`)
 *     it is `*`.
 *   - `[a-z]` is a range; `[^a]` is one character other than those listed (and other than `/`).
 *     `[!a]` is an error: in other glob dialects it means "not a", and here it never did. A bracket
 *     of plain characters also matches itself written out, so `app/[id]/**` matches the directory
 *     `app/[id]` as well as `app/i` and `app/d`.
 *   - `{a,b}` alternatives may hold any of the above and nest (32 deep at most); `{a}`, without a
 *     comma, is literal. Ranges (`{1..3}`) are an error: write the alternatives.
 *   - `\` makes the next character literal. A leading `./` is ignored. Every other character is
 *     literal, parentheses included; `|` inside parentheses is an error (`{a,b}` is the way to say it).
 *   - A pattern without `*`, `?`, `[` or `{` matches only itself, character for character.
 *
 * Matching never backtracks (policies/glob-engine): at worst its cost grows with the value's length
 * times the pattern's, whatever either holds. It has to: the paths matched come from whoever pushes.
 */
import { Automaton } from './glob-engine/automaton.js';
import { ANY, either, many, NOT_SLASH, one, optional, text, type GlobNode } from './glob-engine/nodes.js';

export type GlobMatcher = (value: string) => boolean;
export type GlobResult = { ok: true; match: GlobMatcher } | { ok: false; message: string };

export interface GlobOptions {
  /** `[` and `]` stand for themselves instead of a character class. */
  literalBrackets?: boolean;
}

/**
 * For `actor`: a bot's login ends in `[bot]` (`dependabot[bot]`), and as a class that suffix would
 * also match `dependabotb` or `dependabott`, other accounts anyone may register.
 */
export const ACTOR_GLOB: Readonly<GlobOptions> = Object.freeze({ literalBrackets: true });

/** Conditions matched as GitHub compares their facts, ignoring case: pattern and value are lowercased first. */
export const IGNORES_CASE: ReadonlySet<string> = new Set(['action', 'environment', 'actor', 'labels']);

/** Whether a pattern has a wildcard, brackets or braces; without them it names one value. */
export const hasWildcard = (pattern: string): boolean => /[*?[{]/.test(pattern);

export function compileGlob(pattern: string, options: Readonly<GlobOptions> = {}): GlobResult {
  const problem = globProblem(pattern, options);
  if (problem) return { ok: false, message: `invalid glob "${pattern}": ${problem}` };
  if (!hasWildcard(pattern)) {
    // A leading `./` is ignored here as in patterns with wildcards: `./Dockerfile` is `Dockerfile`.
    const literal = pattern.replace(/^(?:\.\/)+/, '');
    return { ok: true, match: (value) => value === literal };
  }
  const parsed = parse(pattern, options);
  if (typeof parsed === 'string') return { ok: false, message: `invalid glob "${pattern}": ${parsed}` };
  const automaton = new Automaton(parsed);
  return { ok: true, match: (value) => automaton.matches(value) };
}

function globProblem(pattern: string, options: Readonly<GlobOptions>): string | undefined {
  if (pattern.length === 0) return 'a pattern cannot be empty';
  if (pattern !== pattern.trim()) return 'leading or trailing whitespace';
  if (pattern.startsWith('!')) return 'negation with "!" is not supported; write a separate rule instead';
  if (pattern.includes('***')) return '"***" is not a valid wildcard; use "**"';
  let brackets = 0;
  let braces = 0;
  let parentheses = 0;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      i++;
      continue;
    }
    // Here, not in parse, so that a pattern without wildcards (compared as written) is refused too:
    // `(production|staging)` would otherwise be a name that never matches.
    if (brackets === 0 && c === '(') parentheses++;
    else if (brackets === 0 && c === ')') parentheses = Math.max(0, parentheses - 1);
    else if (brackets === 0 && c === '|' && parentheses > 0) return '"|" inside parentheses is not an alternative in a glob; write "{a,b}" for "a" or "b"';
    if (options.literalBrackets && (c === '[' || c === ']')) continue;
    if (c === '[') brackets++;
    else if (c === ']') brackets = Math.max(0, brackets - 1);
    else if (c === '{') braces++;
    else if (c === '}') {
      if (braces === 0) return 'unmatched "}"';
      braces--;
    }
  }
  if (brackets > 0) return 'unclosed "["';
  if (braces > 0) return 'unclosed "{"';
  return undefined;
}

/** A parsed piece of one alternative; `/` and `**` stay apart until `toNodes` joins them. */
type Token = GlobNode | typeof SLASH | typeof GLOBSTAR;
const SLASH = 'slash';
const GLOBSTAR = 'globstar';

/** Far more than any real pattern needs, and it keeps compiling a pattern linear in its length. */
const MAX_BRACE_DEPTH = 32;

interface Braces {
  /** The alternative the `{` was in. */
  outer: Token[];
  branches: Token[][];
  /** Offset of the `{`. */
  start: number;
  /** Whether the `{` starts a segment (the pattern's start, or after a `/`): its alternatives then start one too. */
  startsSegment: boolean;
}

/** The pattern's nodes, or what is wrong with it. */
function parse(pattern: string, options: Readonly<GlobOptions>): GlobNode[] | string {
  let i = 0;
  while (pattern.startsWith('./', i)) i += 2;
  const root: Token[] = [];
  let current = root;
  const open: Braces[] = [];

  /** Whether a `**` ending just before `end` is a whole segment. */
  const wholeSegment = (end: number): boolean => {
    const before = current[current.length - 1];
    if (before !== undefined && before !== SLASH) return false;
    const after = pattern[end];
    if (after === undefined || after === '/' || (after === '\\' && pattern[end + 1] === '/')) return true;
    return open.length > 0 && (after === ',' || after === '}');
  };

  while (i < pattern.length) {
    const c = pattern[i];
    if (c === '\\') {
      const escaped = pattern.codePointAt(i + 1);
      if (escaped === undefined) {
        pushText(current, '\\');
        i++;
        continue;
      }
      const char = String.fromCodePoint(escaped);
      // An escaped "/" still separates segments: no segment can contain one.
      if (char === '/') current.push(SLASH);
      else pushText(current, char);
      i += 1 + char.length;
    } else if (c === '*') {
      const double = pattern[i + 1] === '*';
      const end = i + (double ? 2 : 1);
      current.push(double && wholeSegment(end) ? GLOBSTAR : many(NOT_SLASH));
      i = end;
    } else if (c === '?') {
      current.push(one(NOT_SLASH));
      i++;
    } else if (c === '/') {
      current.push(SLASH);
      i++;
    } else if (c === '[' && !options.literalBrackets) {
      const bracket = parseBracket(pattern, i);
      if (typeof bracket === 'string') return bracket;
      current.push(bracket.node);
      i = bracket.end;
    } else if (c === ']' && !options.literalBrackets) {
      return 'unmatched "]"; write "\\]" to match it literally';
    } else if (c === '{') {
      if (open.length === MAX_BRACE_DEPTH) return `braces nested more than ${MAX_BRACE_DEPTH} deep`;
      const outer = current;
      const before = outer[outer.length - 1];
      const startsSegment = before === undefined ? (open[open.length - 1]?.startsSegment ?? true) : before === SLASH;
      current = [];
      open.push({ outer, branches: [current], start: i, startsSegment });
      i++;
    } else if (c === ',' && open.length > 0) {
      current = [];
      open[open.length - 1].branches.push(current);
      i++;
    } else if (c === '}') {
      const braces = open.pop();
      if (!braces) return 'unmatched "}"';
      current = braces.outer;
      if (braces.branches.length > 1) {
        current.push(either(braces.branches.map((branch) => toNodes(branch, false, braces.startsSegment))));
      } else if (pattern.slice(braces.start, i).includes('..')) {
        return 'ranges such as "{1..3}" are not supported; write the alternatives, as in "{1,2,3}"';
      } else {
        current.push(text('{'), ...braces.branches[0], text('}'));
      }
      i++;
    } else {
      const char = String.fromCodePoint(pattern.codePointAt(i) as number);
      pushText(current, char);
      i += char.length;
    }
  }
  if (open.length > 0) return 'unclosed "{"';
  return toNodes(root, true);
}

/** Appends literal characters, to the text before them if there is one. */
function pushText(tokens: Token[], chars: string): void {
  const last = tokens[tokens.length - 1];
  if (typeof last === 'object' && last.kind === 'text') tokens[tokens.length - 1] = text(last.text + chars);
  else tokens.push(text(chars));
}

// Joins each `**` that is a whole segment with a `/` beside it, so that it can stand for no segment
// at all: `a/**/b` also matches `a/b`, and a leading `**/b` also matches `b`, as does an alternative
// that starts a segment (`{**/b,c}`, `a/{**/b,c}`). A trailing `a/**` also matches `a`, but only at
// the end of the whole pattern and not after a `*` (`src/*/**` is what is inside the directories of
// `src`, not its files). `**/**` is `**`.
function toNodes(tokens: readonly Token[], wholePattern: boolean, startsSegment = wholePattern): GlobNode[] {
  const kept: Token[] = [];
  for (let k = 0; k < tokens.length; k++) {
    const repeated = tokens[k] === SLASH && tokens[k + 1] === GLOBSTAR && kept[kept.length - 1] === GLOBSTAR;
    if (repeated && (k + 2 === tokens.length || tokens[k + 2] === SLASH)) k++;
    else kept.push(tokens[k]);
  }
  const nodes: GlobNode[] = [];
  for (let k = 0; k < kept.length; k++) {
    const token = kept[k];
    if (token === SLASH) nodes.push(text('/'));
    else if (token !== GLOBSTAR) nodes.push(token);
    else if (takesSlashBefore(kept, k, wholePattern)) {
      nodes.pop();
      nodes.push(optional([text('/'), many(ANY)]));
    } else if (startsSegment && k === 0 && kept[1] === SLASH) {
      nodes.push(optional([many(ANY), text('/')]));
      k++;
    } else {
      nodes.push(many(ANY));
    }
  }
  return nodes;
}

/** Whether the `**` at `k` joins the `/` before it: between slashes, or last and not after a `*`. */
function takesSlashBefore(tokens: readonly Token[], k: number, wholePattern: boolean): boolean {
  if (k < 2 || tokens[k - 1] !== SLASH) return false;
  if (tokens[k + 1] === SLASH) return true;
  const before = tokens[k - 2];
  const afterStar = before === GLOBSTAR || (typeof before === 'object' && before.kind === 'many');
  return wholePattern && k === tokens.length - 1 && !afterStar;
}

const SLASH_CODE = 0x2f;
/** Characters that, inside brackets, keep them from also matching themselves written out. */
const NOT_PLAIN = /[-*+?.^${}(|)[\]\\]/;

/** `[…]` starting at `start`: the node and the offset after the `]`, or what is wrong with it. */
function parseBracket(pattern: string, start: number): { node: GlobNode; end: number } | string {
  let i = start + 1;
  if (pattern[i] === '!') {
    return '"[!" is ambiguous: write "[^…]" for one character other than those listed, or put "!" later to match it';
  }
  const negated = pattern[i] === '^';
  if (negated) i++;
  const bodyStart = i;
  const ranges: number[] = [];
  /** The character at `at` (after a `\`, the next one) and the offset after it; undefined at the end. */
  const charAt = (at: number): [codePoint: number, next: number] | undefined => {
    const escaped = pattern[at] === '\\';
    const codePoint = pattern.codePointAt(escaped ? at + 1 : at);
    if (codePoint === undefined) return undefined;
    return [codePoint, at + (escaped ? 1 : 0) + (codePoint > 0xffff ? 2 : 1)];
  };
  // A "]" first is one of the characters, not the end.
  for (let first = true; first || pattern[i] !== ']'; first = false) {
    if (pattern[i] === '[' && pattern[i + 1] === ':') {
      return 'character classes such as "[:alpha:]" are not supported; write a range such as "[a-zA-Z]"';
    }
    const lowStart = i;
    const low = charAt(i);
    if (!low) return 'unclosed "["';
    i = low[1];
    if (pattern[i] === '-' && i + 1 < pattern.length && pattern[i + 1] !== ']') {
      const high = charAt(i + 1);
      if (!high) return 'unclosed "["';
      if (high[0] < low[0]) return `range "${pattern.slice(lowStart, high[1])}" is out of order`;
      ranges.push(low[0], high[0]);
      i = high[1];
    } else {
      ranges.push(low[0], low[0]);
    }
    if (i >= pattern.length) return 'unclosed "["';
  }
  const body = pattern.slice(bodyStart, i);
  const set = negated ? { ranges: [...ranges, SLASH_CODE, SLASH_CODE], negated: true } : { ranges, negated: false };
  const node = one(set);
  const end = i + 1;
  return { node: negated || NOT_PLAIN.test(body) ? node : either([[node], [text(`[${body}]`)]]), end };
}
