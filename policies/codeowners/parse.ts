/**
 * CODEOWNERS text → rules and errors, line by line. A line is a pattern followed by owners,
 * separated by spaces or tabs; a word starting with an unescaped `#` starts a comment (a whole-line
 * comment, or GitHub's inline ` # …`). A line with any error is skipped as a whole and reported,
 * as GitHub does, so it can neither own nor un-own anything.
 */
import { compilePattern, type CompiledPattern, type PatternResult } from './pattern.js';

export type CodeownersErrorKind = 'Invalid pattern' | 'Invalid owner' | 'File too large';

/** Shaped like an entry of GitHub's `GET /repos/{owner}/{repo}/codeowners/errors`. */
export interface CodeownersError {
  /** 1-based. */
  line: number;
  /** 1-based, in UTF-16 code units of `source`. */
  column: number;
  kind: CodeownersErrorKind;
  /** The line as written. */
  source: string;
  suggestion: string | null;
  /** Kind, location, reason and the line with a caret under the column, for a monospaced display. */
  message: string;
  /** The CODEOWNERS file's path in the repository. */
  path: string;
}

export interface CodeownersRule {
  /** 1-based line of the rule in the file. */
  line: number;
  /** The pattern as written, escapes included. */
  pattern: string;
  /** Empty: the pattern un-owns what it matches. */
  owners: readonly string[];
}

export interface ParsedLines {
  rules: CodeownersRule[];
  patterns: CompiledPattern[];
  errors: CodeownersError[];
}

interface Word {
  text: string;
  /** 0-based offset in the line. */
  offset: number;
}

const USER = /^@[A-Za-z0-9][A-Za-z0-9_-]*$/;
const TEAM = /^@[A-Za-z0-9][A-Za-z0-9_-]*\/[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const LOGIN_WITHOUT_AT = /^[A-Za-z0-9][A-Za-z0-9_-]*(?:\/[A-Za-z0-9][A-Za-z0-9_.-]*)?$/;

export function parseLines(text: string, path: string): ParsedLines {
  const parsed: ParsedLines = { rules: [], patterns: [], errors: [] };
  // Files repeat patterns (a `*.ts` per team): one compiled pattern per distinct text, which also
  // lets the rule index see that only the last of the repeats can ever decide.
  const compiledByText = new Map<string, PatternResult>();
  const lines = text.split('\n');
  lines.forEach((source, index) => {
    const line = index + 1;
    if (source.endsWith('\r')) source = source.slice(0, -1);
    const words = splitWords(source);
    if (words.length === 0) return;
    const [patternWord, ...ownerWords] = words;
    const errorsBefore = parsed.errors.length;
    const report = (offset: number, kind: CodeownersErrorKind, reason: string, suggestion: string | null) =>
      parsed.errors.push(codeownersError({ path, line, column: offset + 1, kind, source, reason, suggestion }));

    let compiled = compiledByText.get(patternWord.text);
    if (!compiled) compiledByText.set(patternWord.text, (compiled = compilePattern(patternWord.text)));
    if (!compiled.ok) report(patternWord.offset + compiled.offset, 'Invalid pattern', compiled.message, compiled.suggestion);
    for (const owner of ownerWords) {
      const problem = ownerProblem(owner.text);
      if (problem) report(owner.offset, 'Invalid owner', problem.reason, problem.suggestion);
    }
    if (parsed.errors.length > errorsBefore || !compiled.ok) return;
    parsed.rules.push({ line, pattern: patternWord.text, owners: Object.freeze(ownerWords.map((w) => w.text)) });
    parsed.patterns.push(compiled.pattern);
  });
  return parsed;
}

/** Words separated by unescaped spaces or tabs, up to a word that starts a comment. */
function splitWords(source: string): Word[] {
  const words: Word[] = [];
  let i = 0;
  while (i < source.length) {
    while (i < source.length && isBlank(source[i])) i++;
    if (i >= source.length || source[i] === '#') break;
    const offset = i;
    while (i < source.length && !isBlank(source[i])) i += source[i] === '\\' ? 2 : 1;
    words.push({ text: source.slice(offset, Math.min(i, source.length)), offset });
  }
  return words;
}

function isBlank(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\r';
}

function ownerProblem(owner: string): { reason: string; suggestion: string | null } | undefined {
  if (owner.startsWith('@')) {
    if (USER.test(owner) || TEAM.test(owner)) return undefined;
    return { reason: `"${owner}" is neither @user nor @org/team`, suggestion: null };
  }
  if (EMAIL.test(owner)) return undefined;
  return {
    reason: `"${owner}" is not an @user, @org/team or e-mail address`,
    suggestion: LOGIN_WITHOUT_AT.test(owner) ? `Did you mean \`@${owner}\`?` : null,
  };
}

export function codeownersError(fields: {
  path: string;
  line: number;
  column: number;
  kind: CodeownersErrorKind;
  source: string;
  reason: string;
  suggestion: string | null;
}): CodeownersError {
  const { path, line, column, kind, source, reason, suggestion } = fields;
  const message = `${kind} on line ${line}: ${reason}\n\n  ${source}\n  ${' '.repeat(column - 1)}^`;
  return { line, column, kind, source, suggestion, message, path };
}
