/**
 * CODEOWNERS with GitHub's semantics: where the file lives, what its lines mean, who owns a path.
 * Pattern semantics are in codeowners/pattern.ts, the line syntax in codeowners/parse.ts.
 * Pure: the caller reads the file (from the default branch) and passes its text in.
 */
import { codeownersError, parseLines, type CodeownersError, type CodeownersRule } from './codeowners/parse.js';
import { RuleIndex } from './codeowners/rule-index.js';

export type { CodeownersError, CodeownersErrorKind, CodeownersRule } from './codeowners/parse.js';

/** Where GitHub looks for the file, in the order it looks: the first one that exists is used. */
export const CODEOWNERS_LOCATIONS = ['.github/CODEOWNERS', 'CODEOWNERS', 'docs/CODEOWNERS'] as const;

/**
 * GitHub does not load a CODEOWNERS file of 3 MB or more ("must be under 3 MB"), so nothing is owned.
 * Counted in UTF-8 bytes, as the file is stored.
 */
export const CODEOWNERS_MAX_BYTES = 3 * 1024 * 1024;

export interface OwnersMatch {
  /** Empty when no rule matches or the last matching rule has no owners. */
  owners: readonly string[];
  /** The last matching rule, which decides; null when none matches. */
  rule: CodeownersRule | null;
}

export interface Codeowners {
  /** The file's path in the repository, as passed to `parseCodeowners`. */
  readonly path: string;
  /** The valid rules, in file order. */
  readonly rules: readonly CodeownersRule[];
  /** Lines that were skipped, and why. */
  readonly errors: readonly CodeownersError[];
  /** Owners of a repository-relative path (no leading slash), case-sensitively. */
  ownersOf(file: string): OwnersMatch;
  /**
   * The last rule that owns every path (`*`, `**`, `/**`): the repository's default owners, who
   * stand for all files when nobody can say which files a change touches. Null when there is none.
   */
  catchAllOwners(): { owners: readonly string[]; rule: CodeownersRule } | null;
}

/** Patterns that match every path. */
const CATCH_ALL_PATTERNS = new Set(['*', '**', '/**', '**/*', '/**/*']);

export function chooseCodeownersPath(exists: (path: string) => boolean): string | undefined {
  return CODEOWNERS_LOCATIONS.find((location) => exists(location));
}

const UNOWNED: OwnersMatch = Object.freeze({ owners: Object.freeze([]), rule: null });

export function parseCodeowners(text: string, path: string = 'CODEOWNERS'): Codeowners {
  // Every UTF-16 code unit takes 1 to 3 bytes, so most files need no encoding to be measured.
  const size = text.length * 3 < CODEOWNERS_MAX_BYTES ? 0 : new TextEncoder().encode(text).length;
  if (text.startsWith('\uFEFF')) text = text.slice(1);
  if (size >= CODEOWNERS_MAX_BYTES) {
    const firstLine = text.slice(0, text.search(/\r?\n|$/)).slice(0, 200);
    const tooLarge = codeownersError({
      path,
      line: 1,
      column: 1,
      kind: 'File too large',
      source: firstLine,
      reason: `the file is ${size} bytes; GitHub ignores a CODEOWNERS file of ${CODEOWNERS_MAX_BYTES} bytes (3 MB) or more, so nothing is owned`,
      suggestion: 'Shorten the file, for example with directory patterns instead of one line per file.',
    });
    return { path, rules: [], errors: [tooLarge], ownersOf: () => UNOWNED, catchAllOwners: () => null };
  }
  const { rules, patterns, errors } = parseLines(text, path);
  const index = new RuleIndex(patterns);
  // One frozen answer per rule, made when first needed: a lookup then allocates nothing of its own.
  const answers: OwnersMatch[] = [];
  return {
    path,
    rules,
    errors,
    ownersOf(file: string): OwnersMatch {
      const last = index.lastMatch(file);
      if (last < 0) return UNOWNED;
      return (answers[last] ??= Object.freeze({ owners: rules[last].owners, rule: rules[last] }));
    },
    catchAllOwners() {
      const rule = rules.findLast((r) => CATCH_ALL_PATTERNS.has(r.pattern));
      return rule ? { owners: rule.owners, rule } : null;
    },
  };
}
