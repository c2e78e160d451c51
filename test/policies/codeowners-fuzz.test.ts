import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { parseCodeowners, type Codeowners } from '../../policies/codeowners.js';
import { compilePattern } from '../../policies/codeowners/pattern.js';

/** Every error points at a real line of the input and a column on that line. */
function expectLocatedErrors(text: string, codeowners: Codeowners): void {
  const lines = text.replace(/^\uFEFF/, '').split('\n').map((line) => line.replace(/\r$/, ''));
  for (const error of codeowners.errors) {
    expect(error.line).toBeGreaterThanOrEqual(1);
    expect(error.line).toBeLessThanOrEqual(lines.length);
    expect(error.source).toBe(lines[error.line - 1]);
    expect(error.column).toBeGreaterThanOrEqual(1);
    expect(error.column).toBeLessThanOrEqual(Math.max(1, error.source.length));
    expect(error.message).toContain(`on line ${error.line}`);
  }
}

/** What the index must never change: the last rule, of all of them, whose pattern matches. */
function lastMatchingRuleByScan(codeowners: Codeowners, path: string): number | null {
  for (let i = codeowners.rules.length - 1; i >= 0; i--) {
    const compiled = compilePattern(codeowners.rules[i].pattern);
    if (!compiled.ok) throw new Error(`a kept rule does not compile: ${codeowners.rules[i].pattern}`);
    if (compiled.pattern.matches(path)) return codeowners.rules[i].line;
  }
  return null;
}

const anyCodeUnit = fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code));
const randomPath = fc.oneof(fc.string({ unit: anyCodeUnit, maxLength: 60 }), fc.string({ unit: 'binary', maxLength: 60 }));

// A small vocabulary, so that random patterns and random paths actually meet.
const NAMES = ['a', 'b', 'src', 'docs', 'logs', 'x.js', 'y.ts', '.github', 'a.b.c', 'é', '#h', 'sp ace'];
const segment = fc.oneof(
  fc.constantFrom(...NAMES),
  fc.constantFrom('*', '**', '?', '*.js', 'a*', '*b*', 'x?js', '\\#h', 'sp\\ ace', '\\*', '{a,b}', '!a', '[ab]', '***', ''),
);
const pattern = fc
  .tuple(fc.boolean(), fc.array(segment, { minLength: 1, maxLength: 4 }), fc.boolean())
  .map(([leading, segments, trailing]) => `${leading ? '/' : ''}${segments.join('/')}${trailing ? '/' : ''}`);
const owner = fc.constantFrom('@a', '@org/team', 'me@example.com', 'user', '@bad!', '#comment', '@o/', '');
const ownedLine = fc
  .tuple(pattern, fc.array(owner, { maxLength: 3 }), fc.constantFrom(' ', '\t', '  '))
  .map(([p, owners, gap]) => [p, ...owners].join(gap));
const line = fc.oneof({ weight: 6, arbitrary: ownedLine }, fc.constantFrom('', '# comment', '   ', '\\', '/', '* @all'));
const codeownersText = fc.array(line, { maxLength: 25 }).chain((lines) =>
  fc.constantFrom('\n', '\r\n').map((eol) => lines.join(eol)),
);
const vocabularyPath = fc.array(fc.constantFrom(...NAMES, '*', '{a,b}', 'sp', 'ace'), { minLength: 1, maxLength: 5 }).map((s) => s.join('/'));

describe('CODEOWNERS parser and matcher under random input', () => {
  test('random bytes: never throws, every error is located', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.constantFrom('utf-8', 'latin1'), (bytes, encoding) => {
        const text = new TextDecoder(encoding).decode(bytes);
        const codeowners = parseCodeowners(text);
        expectLocatedErrors(text, codeowners);
      }),
      { numRuns: 500 },
    );
  });

  test('random text: never throws, every error is located', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (text) => {
        expectLocatedErrors(text, parseCodeowners(text));
      }),
      { numRuns: 300 },
    );
  });

  test('CODEOWNERS-like text: each line is a rule, errors, or nothing, and never silently dropped', () => {
    fc.assert(
      fc.property(codeownersText, (text) => {
        const codeowners = parseCodeowners(text);
        expectLocatedErrors(text, codeowners);
        const ruleLines = new Set(codeowners.rules.map((r) => r.line));
        const errorLines = new Set(codeowners.errors.map((e) => e.line));
        text.split('\n').forEach((source, i) => {
          const meaningful = !/^[ \t\r]*(#.*)?$/s.test(source);
          const n = i + 1;
          // A line with an error is never also a rule, and a line with content is one or the other.
          expect(ruleLines.has(n) && errorLines.has(n)).toBe(false);
          expect(ruleLines.has(n) || errorLines.has(n)).toBe(meaningful);
        });
      }),
      { numRuns: 400 },
    );
  });

  test('the matcher never throws on random paths and always returns the winning rule', () => {
    fc.assert(
      fc.property(codeownersText, fc.array(fc.oneof(randomPath, vocabularyPath), { maxLength: 10 }), (text, paths) => {
        const codeowners = parseCodeowners(text);
        for (const path of paths) {
          const match = codeowners.ownersOf(path);
          expect(match.owners).toEqual(match.rule ? match.rule.owners : []);
        }
      }),
      { numRuns: 400 },
    );
  });

  test('the rule index never changes a result: same winner as scanning every rule from the last', () => {
    fc.assert(
      fc.property(codeownersText, fc.array(vocabularyPath, { minLength: 1, maxLength: 15 }), (text, paths) => {
        const codeowners = parseCodeowners(text);
        for (const path of paths) {
          expect(codeowners.ownersOf(path).rule?.line ?? null).toBe(lastMatchingRuleByScan(codeowners, path));
        }
      }),
      { numRuns: 600 },
    );
  });
});
