/**
 * Policy globs (policies/glob.ts, the glob engine) side by side with picomatch, which compiled them
 * to regular expressions before: ordinary patterns over the generated monorepo's paths, then
 * adversarial ones over growing paths. picomatch backtracks, so each adversarial pattern grows its
 * path by half again only while one match stays under PICOMATCH_STOP_MS, and the engine is timed on
 * the same path and on a 4 KB one.
 */
import picomatch from 'picomatch';
import { compileGlob, type GlobMatcher } from '../policies/glob.js';
import { generateMonorepo } from './generate.js';
import type { BenchReport } from './report.js';

const PICOMATCH_OPTIONS: picomatch.PicomatchOptions = { dot: true, nonegate: true, noextglob: true, strictBrackets: true };
const RUNS = 5;
const PICOMATCH_STOP_MS = 50;
const LONG_PATH = 4096;

const ORDINARY = [
  'apps/**',
  'apps/*/src/**',
  '**/migrations/**',
  '**/*.ts',
  '**/*.{ts,tsx}',
  '{apps,packages}/**/*.proto',
  'x-pack/**/docs/**',
  'src/plugins/*/**/*.test.ts',
  '**/*.md',
  'packages/auth-*/**',
  '**/?*.[jt]s',
  'services/**/api/*.yml',
];

/**
 * Patterns that make a backtracking matcher slow, with the path that does it: `unit` repeated, then
 * `tail`, the pattern's literal ending after a `/` that no `*` may cross, so that the path fails
 * only at its end (and the engine cannot rule it out by its ending alone).
 */
const ADVERSARIAL: [pattern: string, unit: string, tail: string][] = [
  ['*a*a*a*a*b', 'a', '/b'],
  ['**/*-*-*-*.tf', '-', '/.tf'],
  ['{*a,*b}*{*a,*b}*c', 'ab', '/c'],
  ['*?*?*?*?*?*?x', 'a', '/x'],
  ['a*a*a*a*a*a*a*c', 'a', '/c'],
];

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

function ours(pattern: string): GlobMatcher {
  const compiled = compileGlob(pattern);
  if (!compiled.ok) throw new Error(compiled.message);
  return compiled.match;
}

function theirs(pattern: string): GlobMatcher {
  const re = picomatch.makeRe(pattern, PICOMATCH_OPTIONS);
  return (value) => re.test(value);
}

/** Median wall time in ms of matching every path, after one warm-up run; and how many matched. */
function timeAll(match: GlobMatcher, paths: readonly string[]): { ms: number; matched: number } {
  let matched = 0;
  for (const path of paths) if (match(path)) matched++;
  const times: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const start = performance.now();
    for (const path of paths) match(path);
    times.push(performance.now() - start);
  }
  return { ms: median(times), matched };
}

/** Median wall time in ms to compile every pattern, fresh each run. */
function timeCompile(compile: (pattern: string) => GlobMatcher): number {
  const times: number[] = [];
  for (let run = 0; run < RUNS + 1; run++) {
    const start = performance.now();
    for (const pattern of ORDINARY) compile(pattern);
    times.push(performance.now() - start);
  }
  return median(times.slice(1));
}

function measureOrdinary(): BenchReport {
  const { paths } = generateMonorepo({ rules: 5000, paths: 10000 });
  const rows = ORDINARY.map((pattern) => {
    const a = timeAll(ours(pattern), paths);
    const b = timeAll(theirs(pattern), paths);
    if (a.matched !== b.matched) throw new Error(`${pattern}: ${a.matched} matches, picomatch ${b.matched}`);
    const perMatch = (ms: number) => ((ms * 1e6) / paths.length).toFixed(0);
    return [pattern, String(a.matched), perMatch(a.ms), perMatch(b.ms), `${(a.ms / b.ms).toFixed(2)}x`];
  });
  const compileOurs = timeCompile(ours);
  const compileTheirs = timeCompile(theirs);
  const perPattern = (ms: number) => ((ms * 1000) / ORDINARY.length).toFixed(1);
  rows.push(['(compile, µs per pattern)', '', perPattern(compileOurs), perPattern(compileTheirs), `${(compileOurs / compileTheirs).toFixed(2)}x`]);
  return {
    title: 'globs: ordinary policy patterns, the glob engine vs picomatch',
    columns: ['pattern', 'matches', 'ours ns/match', 'picomatch ns/match', 'ours / picomatch'],
    rows,
    notes: [
      `Each pattern against the ${paths.length} generated paths: one warm-up run, then the median of ${RUNS}. Both find the same matches (checked).`,
      'Matching only: in an evaluation the policy compiles each pattern once and searches the sorted paths from its literal prefix (policies/predicates.ts).',
      'Compile: all patterns compiled again each run; ours then reuses the DFAs it built before (shared between patterns and compilations), as a long-running App does.',
    ],
  };
}

/** The wall time in ms of one match, and for ours the median of RUNS after a warm-up. */
function timeOne(match: GlobMatcher, path: string, runs = 1): number {
  const times: number[] = [];
  for (let run = 0; run < runs; run++) {
    const start = performance.now();
    match(path);
    times.push(performance.now() - start);
  }
  return median(times);
}

function measureAdversarial(): BenchReport {
  const rows = ADVERSARIAL.map(([pattern, unit, tail]) => {
    const pathOf = (size: number) => unit.repeat(Math.ceil((size - tail.length) / unit.length)) + tail;
    const slow = theirs(pattern);
    let path = pathOf(16);
    let ms = timeOne(slow, path);
    while (ms < PICOMATCH_STOP_MS && path.length < LONG_PATH) {
      path = pathOf(Math.min(LONG_PATH, Math.ceil(path.length * 1.5)));
      ms = timeOne(slow, path);
    }
    const fast = ours(pattern);
    const long = pathOf(LONG_PATH);
    if (fast(path) !== slow(path)) throw new Error(`${pattern}: the engine and picomatch disagree on ${path}`);
    fast(long);
    const usAtSize = timeOne(fast, path, RUNS) * 1000;
    const usLong = timeOne(fast, long, RUNS) * 1000;
    return [pattern, JSON.stringify(`${unit}…${tail}`), String(path.length), ms.toFixed(1), usAtSize.toFixed(1), usLong.toFixed(1)];
  });
  return {
    title: 'globs: adversarial patterns, the glob engine vs picomatch',
    columns: ['pattern', 'path', 'chars', 'picomatch ms', 'ours µs', `ours µs at ${LONG_PATH} chars`],
    rows,
    notes: [
      `picomatch: one match per size, the path growing by half again from 16 characters until one match takes ${PICOMATCH_STOP_MS} ms (the row shows that last size). Each step multiplies its time: it grows as a power of the path's length.`,
      `Ours: the median of ${RUNS} matches on that path and on a ${LONG_PATH}-character one, after a warm-up.`,
    ],
  };
}

export function measureGlobs(): BenchReport[] {
  return [measureOrdinary(), measureAdversarial()];
}
