/**
 * Glob patterns for policy conditions (branch, environment, paths, …).
 *
 * Semantics, matched against the whole value (a full repository-relative path for `paths`):
 *   `*` any characters except `/`   ·   `**` any characters including `/` (whole segments)
 *   `?` one character except `/`    ·   `{a,b}` either alternative   ·   `[abc]` one of the characters
 *   (except in `actor`, where brackets are literal: see ACTOR_GLOB)
 * Dotfiles match like any other file. There is no negation: a leading `!` is an error, because
 * "everything except" in a gate is better said with a separate rule.
 */
import picomatch from 'picomatch';

export type GlobMatcher = (value: string) => boolean;
export type GlobResult = { ok: true; match: GlobMatcher } | { ok: false; message: string };

const OPTIONS: picomatch.PicomatchOptions = { dot: true, nonegate: true, noextglob: true, strictBrackets: true };

export interface GlobOptions {
  /** `[` and `]` stand for themselves instead of a character class. */
  literalBrackets?: boolean;
}

/**
 * For `actor`: a bot's login ends in `[bot]` (`dependabot[bot]`), and as a class that suffix would
 * also match `dependabotb` or `dependabott`, other accounts anyone may register.
 */
export const ACTOR_GLOB: Readonly<GlobOptions> = Object.freeze({ literalBrackets: true });

export function compileGlob(pattern: string, options: Readonly<GlobOptions> = {}): GlobResult {
  const problem = globProblem(pattern, options);
  if (problem) return { ok: false, message: `invalid glob "${pattern}": ${problem}` };
  // Escapes each bracket for picomatch; an already escaped character is kept as written.
  const glob = options.literalBrackets ? pattern.replace(/\\.|[[\]]/g, (c) => (c.length === 1 ? `\\${c}` : c)) : pattern;
  if (!/[*?[{]/.test(glob)) return { ok: true, match: (value) => value === pattern };
  try {
    const re = picomatch.makeRe(glob, OPTIONS);
    return { ok: true, match: (value) => re.test(value) };
  } catch (err) {
    return { ok: false, message: `invalid glob "${pattern}": ${(err as Error).message}` };
  }
}

function globProblem(pattern: string, options: Readonly<GlobOptions>): string | undefined {
  if (pattern.length === 0) return 'a pattern cannot be empty';
  if (pattern !== pattern.trim()) return 'leading or trailing whitespace';
  if (pattern.startsWith('!')) return 'negation with "!" is not supported; write a separate rule instead';
  if (pattern.includes('***')) return '"***" is not a valid wildcard; use "**"';
  let brackets = 0;
  let braces = 0;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      i++;
      continue;
    }
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
