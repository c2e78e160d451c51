/**
 * Patterns written to make a backtracking matcher take exponential or high-polynomial time, against
 * paths up to 4 KB, in both dialects. A policy is written by repository admins and CODEOWNERS by
 * anyone who can get a change merged, but the paths come from whoever pushes: no pattern and path
 * may block the event loop. Two checks: the work of every match, counted by the engine, stays
 * within a small multiple of |path| × |pattern| (deterministic), and the whole batch stays far under
 * a wall-clock budget loose enough for a loaded machine. Paths grow from 16 characters, so a
 * backtracking matcher fails on the budget at a few hundred characters instead of hanging the run.
 */
import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { compilePattern } from '../../policies/codeowners/pattern.js';
import { matchingSteps } from '../../policies/glob-engine/automaton.js';
import { compileGlob } from '../../policies/glob.js';

const SIZES = [16, 32, 64, 128, 256, 512, 1024, 2048, 4096];
const BUDGET_MS = 2000;
/** Per character of the path and of the pattern (plus the few states every pattern has). */
const STEPS_PER_CELL = 8;

/** A path of exactly `size` characters, repeating `unit`. */
const repeat = (unit: string, size: number): string => unit.repeat(Math.ceil(size / unit.length)).slice(0, size);

/** Deterministic noise over a small alphabet: the characters the patterns are made of. */
function noise(size: number, alphabet: string, seed: number): string {
  let state = seed;
  let out = '';
  for (let i = 0; i < size; i++) {
    state = (state * 1103515245 + 12345) % 2147483648;
    out += alphabet[(state >>> 16) % alphabet.length];
  }
  return out;
}

/**
 * Paths of about `size` characters. Each also comes ending in the pattern's literal ending (`tail`),
 * or in `/` and that ending, so that it gets past the comparison of that ending and is rejected, or
 * matched, only by the automaton, after reading everything.
 */
const PATH_SHAPES: ((size: number, tail: string) => string)[] = [
  (size) => repeat('a', size),
  (size, tail) => repeat('a', size) + tail,
  (size, tail) => repeat('a', size) + '/' + tail,
  (size, tail) => repeat('a/', size) + tail,
  (size, tail) => repeat('ab-', size) + '/' + tail,
  (size, tail) => noise(size, 'aab-/', size) + tail,
];

/** The literal characters a pattern ends with (a rough cut: enough to build paths that reach the automaton). */
const literalEnding = (pattern: string): string => /[^*?\]}/]*$/.exec(pattern)?.[0] ?? '';

const POLICY_PATTERNS = [
  '*a*a*a*a*b',
  '**/*-*-*-*.tf',
  '{*a,*b}*{*a,*b}*c',
  '**/a/**/a/**/a/**/b',
  '*?*?*?*?*?*?x',
  'a*a*a*a*a*a*a*c',
  '*a??????????????',
  '{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}c',
  '{{{{*a,*b},*-},**/a},{a,*}*}*{x,y}',
  '[ab]*[ab]*[ab]*[ab]*[^a]*c',
  '**/{a,b}*/**/{a,-}*/**/*b-x',
];
const CODEOWNERS_PATTERNS = ['*a*a*a*a*b', '**/a*a*a*a*b/**', 'a/**/a/**/a/**/b', '?*?*?*?*?*x', '/*a*/*-*/**/*b*'];

type Matcher = (path: string) => boolean;

function compiled(dialect: 'policy' | 'codeowners', pattern: string): Matcher {
  if (dialect === 'policy') {
    const glob = compileGlob(pattern);
    if (!glob.ok) throw new Error(glob.message);
    return glob.match;
  }
  const result = compilePattern(pattern);
  if (!result.ok) throw new Error(`${pattern}: ${result.message}`);
  return result.pattern.matches;
}

/** Matches once, checking the work against the bound; returns the wall time in ms. */
function timedMatch(match: Matcher, pattern: string, path: string): number {
  const before = matchingSteps();
  const start = performance.now();
  match(path);
  const elapsed = performance.now() - start;
  const steps = matchingSteps() - before;
  const bound = STEPS_PER_CELL * (path.length + 1) * (pattern.length + 8);
  expect({ pattern, size: path.length, steps: Math.min(steps, bound + 1) }).toEqual({ pattern, size: path.length, steps: Math.min(steps, bound) });
  return elapsed;
}

/** The step count is live (a CODEOWNERS pattern may rule a path out before the engine runs). */
function expectStepsCounted(run: () => void): void {
  const before = matchingSteps();
  run();
  expect(matchingSteps()).toBeGreaterThan(before);
}

describe('adversarial patterns against paths up to 4 KB', () => {
  test('every match within the step bound, the whole batch within the time budget', () => {
    const matchers = [
      ...POLICY_PATTERNS.map((pattern) => ({ pattern, match: compiled('policy', pattern) })),
      ...CODEOWNERS_PATTERNS.map((pattern) => ({ pattern, match: compiled('codeowners', pattern) })),
    ];
    let total = 0;
    let matches = 0;
    for (const size of SIZES) {
      for (const { pattern, match } of matchers) {
        for (const shape of PATH_SHAPES) {
          total += timedMatch(match, pattern, shape(size, literalEnding(pattern)));
          matches++;
          if (total > BUDGET_MS) throw new Error(`${matches} matches took ${total.toFixed(0)} ms, over the ${BUDGET_MS} ms budget (at ${pattern} against ${size} characters)`);
        }
      }
    }
    expect(matches).toBe(SIZES.length * matchers.length * PATH_SHAPES.length);
    expectStepsCounted(() => matchers[0].match(repeat('a', 64)));
  });

  test('random patterns of wildcards and alternatives, in both dialects, against random 4 KB paths', () => {
    const token = fc.constantFrom('*', '**', '?', 'a', 'b', '-', '/', '{a,*a}', '{*,?b}', '[ab]', '{**/a,b*}');
    const policyPattern = fc
      .array(token, { minLength: 4, maxLength: 40 })
      .map((tokens) => tokens.join(''))
      .filter((pattern) => compileGlob(pattern).ok);
    const codeownersToken = fc.constantFrom('*', '?', 'a', 'b', '-', '/', '**/');
    const codeownersPattern = fc
      .array(codeownersToken, { minLength: 4, maxLength: 40 })
      .map((tokens) => tokens.join(''))
      .filter((pattern) => compilePattern(pattern).ok);
    const path = fc.tuple(fc.constantFrom('ab', 'a/', 'ab-/', 'a-b'), fc.nat()).map(([alphabet, seed]) => noise(4096, alphabet, seed));
    let total = 0;
    fc.assert(
      fc.property(policyPattern, codeownersPattern, path, (policy, codeowners, value) => {
        total += timedMatch(compiled('policy', policy), policy, value + literalEnding(policy));
        total += timedMatch(compiled('codeowners', codeowners), codeowners, value);
      }),
      { numRuns: 150 },
    );
    expect(total).toBeLessThan(BUDGET_MS);
    expectStepsCounted(() => compiled('codeowners', '*a*a*b')(repeat('ab', 64)));
  });
});
