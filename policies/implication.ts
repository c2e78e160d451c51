/**
 * Whether one set of rule conditions implies another: every request the first matches, the second
 * matches too. Deliberately incomplete: it says true only when that is certain from how the
 * conditions are written (the same globs, narrower severities), never by reasoning about what globs
 * could match.
 */
import { hasWildcard, IGNORES_CASE } from './glob.js';
import type { Conditions, SeverityCondition } from './types.js';

type GlobKey = 'action' | 'environment' | 'branch' | 'targetBranch' | 'event' | 'actor' | 'labels';
const GLOB_KEYS: readonly GlobKey[] = ['action', 'environment', 'branch', 'targetBranch', 'event', 'actor', 'labels'];

export function conditionsImply(a: Conditions, b: Conditions, severities: readonly string[] = []): boolean {
  for (const key of GLOB_KEYS) {
    const wanted = b[key];
    if (!wanted) continue;
    const have = a[key];
    // A condition on a fact the request lacks does not hold, so `a` must name the fact too.
    if (!have || !subset(have, wanted, IGNORES_CASE.has(key))) return false;
  }
  if (b.severity && !(a.severity && severityImplies(a.severity, b.severity, severities))) return false;
  if (b.paths) {
    // Some changed file matches one of b's globs: certain when a's own any-or-every file globs are among them.
    const have = a.onlyPaths ?? a.paths;
    if (!have || !subset(have, b.paths, false)) return false;
  }
  if (b.onlyPaths && !(a.onlyPaths && subset(a.onlyPaths, b.onlyPaths, false))) return false;
  return true;
}

/**
 * Whether no request can match both: some fact both name with literal values only (no globs) that
 * share none, or severities that share none. Otherwise they may overlap.
 */
export function conditionsContradict(a: Conditions, b: Conditions, severities: readonly string[] = []): boolean {
  for (const key of GLOB_KEYS) {
    const x = a[key];
    const y = b[key];
    if (!x || !y || [...x, ...y].some(hasWildcard)) continue;
    const norm = (s: string) => (IGNORES_CASE.has(key) ? s.toLowerCase() : s);
    const ys = new Set(y.map(norm));
    if (!x.some((value) => ys.has(norm(value)))) return true;
  }
  if (a.severity && b.severity) {
    const bs = allowedSeverities(b.severity, severities);
    if (![...allowedSeverities(a.severity, severities)].some((s) => bs.has(s))) return true;
  }
  return false;
}

function subset(have: readonly string[], wanted: readonly string[], ignoreCase: boolean): boolean {
  const norm = (s: string) => (ignoreCase ? s.toLowerCase() : s);
  const allowed = new Set(wanted.map(norm));
  return allowed.has('**') || have.every((pattern) => allowed.has(norm(pattern)));
}

function allowedSeverities(condition: SeverityCondition, severities: readonly string[]): Set<string> {
  if ('anyOf' in condition) return new Set(condition.anyOf);
  const from = severities.indexOf(condition.atLeast);
  return new Set(from < 0 ? [condition.atLeast] : severities.slice(from));
}

function severityImplies(a: SeverityCondition, b: SeverityCondition, severities: readonly string[]): boolean {
  const allowed = allowedSeverities(b, severities);
  return [...allowedSeverities(a, severities)].every((s) => allowed.has(s));
}
