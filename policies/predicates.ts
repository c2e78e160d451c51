/**
 * One small pure predicate per `if` key. Each says whether the request's facts satisfy the condition
 * and why, in words a reviewer can check. A condition on a fact the request does not have never
 * matches. A condition that cannot be judged (bad glob, unknown severity) reports `error`, which the
 * evaluator turns into a blocked decision: fail closed.
 *
 * Conditions are judged for a `purpose`: whether holding them tightens the gate (a rule that
 * requires approval, an escalation that adds a requirement) or loosens it (an auto-approving rule, a
 * time escalation that lets more people approve). A fact the request cannot tell is judged as the
 * worst case: when the change set is unknown, the path conditions hold for what tightens and never
 * for what loosens, and so do the severity conditions when the request has no severity.
 */
import { ACTOR_GLOB, compileGlob, type GlobMatcher, type GlobOptions } from './glob.js';
import type { Conditions, RequestFacts, SeverityCondition } from './types.js';

export type ConditionKey = keyof Conditions;

/** What holding the conditions does to the gate; see the header. */
export type ConditionPurpose = 'tighten' | 'loosen';

export interface ConditionResult {
  key: ConditionKey;
  matched: boolean;
  reason: string;
  /** Set when the condition could not be judged; the decision is then blocked. */
  error?: true;
  /**
   * Set when the answer is the worst case rather than a fact (an unknown change set; no severity; a run
   * two people started, for whom it differs): a rule matched on it may stand in for nothing, so `unmatched: require` still applies.
   */
  assumed?: true;
}

/** Per-evaluation caches: globs compiled once, changed files indexed once, however many rules use them. */
export class PredicateContext {
  private readonly globs = new Map<string, ReturnType<typeof compileGlob>>();
  private readonly literalBracketGlobs = new Map<string, ReturnType<typeof compileGlob>>();
  private readonly firstMatchingFile = new Map<string, string | null>();
  /** The changed files without repeats, in first-seen order. */
  readonly uniqueFiles: readonly string[];
  private readonly sortedFiles: string[];

  /**
   * `facts.severity` is the severity in force: the evaluator fills in the policy's `defaults.severity`
   * for a request that states none, and leaves it out when the policy sets none either.
   */
  constructor(
    readonly facts: RequestFacts,
    readonly severities: readonly string[],
  ) {
    this.uniqueFiles = [...new Set(facts.changedFiles)];
    // The default sort orders strings by UTF-16 code units, as lowerBound's `<` does.
    this.sortedFiles = [...this.uniqueFiles].sort();
  }

  glob(pattern: string, options: Readonly<GlobOptions> = {}): ReturnType<typeof compileGlob> {
    const cache = options.literalBrackets ? this.literalBracketGlobs : this.globs;
    let compiled = cache.get(pattern);
    if (!compiled) {
      compiled = compileGlob(pattern, options);
      cache.set(pattern, compiled);
    }
    return compiled;
  }

  get changedFileCount(): number {
    return this.sortedFiles.length;
  }

  /** Every changed file, in code-unit order. */
  get sortedChangedFiles(): readonly string[] {
    return this.sortedFiles;
  }

  /**
   * The first changed file (in code-unit order) matching a valid pattern, or null. Only files that
   * start with the pattern's literal prefix can match, so a binary search skips the rest: a 500-rule
   * policy over 10,000 files stays fast.
   */
  firstFileMatching(pattern: string, match: GlobMatcher): string | null {
    const cached = this.firstMatchingFile.get(pattern);
    if (cached !== undefined) return cached;
    const prefix = literalPrefix(pattern);
    let found: string | null = null;
    for (let i = lowerBound(this.sortedFiles, prefix); i < this.sortedFiles.length; i++) {
      const file = this.sortedFiles[i];
      if (!file.startsWith(prefix)) break;
      if (match(file)) {
        found = file;
        break;
      }
    }
    this.firstMatchingFile.set(pattern, found);
    return found;
  }
}

/**
 * The characters before the first glob metacharacter (or escape): every match starts with them.
 * A trailing `/` is left out because `dir/**` also matches `dir` itself; and none is used for a
 * pattern starting with `./`, which the glob ignores (see glob.ts).
 */
function literalPrefix(pattern: string): string {
  const special = pattern.search(/[*?[{\\]/);
  const prefix = special === -1 ? pattern : pattern.slice(0, special);
  if (prefix.startsWith('./')) return '';
  return prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
}

function lowerBound(sorted: readonly string[], value: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const code = (s: string): string => `\`${s}\``;
const codeList = (items: readonly string[]): string => items.map(code).join(', ');

function invalidGlobs(key: ConditionKey, patterns: readonly string[], ctx: PredicateContext, options?: Readonly<GlobOptions>): ConditionResult | null {
  for (const pattern of patterns) {
    const compiled = ctx.glob(pattern, options);
    if (!compiled.ok) return { key, matched: false, reason: `${key}: ${compiled.message}`, error: true };
  }
  return null;
}

/** A single-valued fact (branch, environment, …) against a list of globs: any of them. */
function matchScalar(
  key: ConditionKey,
  label: string,
  value: string | undefined,
  patterns: readonly string[],
  ctx: PredicateContext,
  normalise: (s: string) => string = (s) => s,
  options?: Readonly<GlobOptions>,
): ConditionResult {
  // Checked as matched: a pattern valid only before normalising must block, not quietly never match.
  const invalid = invalidGlobs(key, patterns.map(normalise), ctx, options);
  if (invalid) return invalid;
  if (value === undefined || value === '') {
    return { key, matched: false, reason: `${label}: the request has no ${label}, so ${label} ${codeList(patterns)} does not match` };
  }
  const subject = normalise(value);
  for (const pattern of patterns) {
    const compiled = ctx.glob(normalise(pattern), options);
    if (compiled.ok && compiled.match(subject)) {
      return { key, matched: true, reason: `${label} ${code(value)} matches ${code(pattern)}` };
    }
  }
  return { key, matched: false, reason: `${label} ${code(value)} matches none of ${codeList(patterns)}` };
}

/** Ignoring case: a step's `DEPLOY` is the `deploy` the policy gates, never an action no rule names. */
export const matchAction = (patterns: readonly string[], ctx: PredicateContext): ConditionResult =>
  matchScalar('action', 'action', ctx.facts.action, patterns, ctx, (s) => s.toLowerCase());

/** GitHub's environment names are case-insensitive: `Production` is `production`. */
export const matchEnvironment = (patterns: readonly string[], ctx: PredicateContext): ConditionResult =>
  matchScalar('environment', 'environment', ctx.facts.environment, patterns, ctx, (s) => s.toLowerCase());

/**
 * A pull request's run ships its head branch merged into its base. When the base brings changes no
 * approved request covered, the run is of both branches: a condition that loosens the gate holds
 * only when both match (a pull request from `main` into a branch of unreviewed commits is not a
 * deploy of `main`); one that tightens it goes by the head branch, as the name says, but where only
 * the head matches, a rule it makes match stands in for nothing (the defaults of `unmatched: require`
 * still apply beside a rule that asks less of `main`'s deploys).
 */
export function matchBranch(patterns: readonly string[], ctx: PredicateContext, purpose: ConditionPurpose = 'tighten'): ConditionResult {
  const head = matchScalar('branch', 'branch', ctx.facts.branch, patterns, ctx);
  const base = ctx.facts.unapprovedBase;
  if (head.error || !head.matched || base === undefined) return head;
  const shipped = `the run also ships changes no approved request covered from ${code(base)}`;
  if (matchScalar('branch', 'branch', base, patterns, ctx).matched) return { ...head, reason: `${head.reason}; ${shipped}, which matches too` };
  return purpose === 'loosen'
    ? { key: 'branch', matched: false, assumed: true, reason: `${head.reason}, but ${shipped}, which does not match: a condition that loosens the gate holds only when both match` }
    : { key: 'branch', matched: true, assumed: true, reason: `${head.reason}, but ${shipped}, which does not match: it holds for the head branch only, as the worst case` };
}

export const matchTargetBranch = (patterns: readonly string[], ctx: PredicateContext): ConditionResult =>
  matchScalar('targetBranch', 'target branch', ctx.facts.targetBranch, patterns, ctx);

export const matchEvent = (patterns: readonly string[], ctx: PredicateContext): ConditionResult =>
  matchScalar('event', 'event', ctx.facts.event, patterns, ctx);

/**
 * GitHub logins are case-insensitive, so `Alice` is the same person as `alice`; brackets are literal,
 * so `dependabot[bot]` names that bot and `*[bot]` any bot (see ACTOR_GLOB). A run someone else re-ran
 * was started by both: a condition that loosens the gate holds only when both match (a re-run of the
 * release bot's run is a person's deploy), one that tightens it when either does.
 */
export function matchActor(patterns: readonly string[], ctx: PredicateContext, purpose: ConditionPurpose = 'tighten'): ConditionResult {
  const match = (login: string | undefined) => matchScalar('actor', 'actor', login, patterns, ctx, (s) => s.toLowerCase(), ACTOR_GLOB);
  const started = match(ctx.facts.actor);
  const rerunBy = (ctx.facts.rerunBy ?? []).filter((login) => login.toLowerCase() !== ctx.facts.actor?.toLowerCase());
  if (started.error || rerunBy.length === 0) return started;
  const reruns = rerunBy.map((login) => ({ login, result: match(login) }));
  const matched = purpose === 'loosen' ? started.matched && reruns.every(({ result }) => result.matched) : started.matched || reruns.some(({ result }) => result.matched);
  const rule = purpose === 'loosen' ? 'it holds only when both match' : 'it holds when either matches';
  const rerunText = reruns.map(({ login, result }) => `re-run by ${code(login)}, who ${result.matched ? 'matches' : 'does not match'}`).join('; ');
  const split = reruns.some(({ result }) => result.matched !== started.matched);
  return { key: 'actor', matched, ...(split ? { assumed: true as const } : {}), reason: `${started.reason}; ${rerunText}: ${rule}` };
}

/**
 * A request without a severity (its step states none, and the policy sets no `defaults.severity`)
 * may be of any severity, so a severity condition holds exactly when holding it tightens the gate:
 * leaving the input out never dodges a rule on `[high]`, nor meets an `unless` on `[low]`.
 */
export function matchSeverity(condition: SeverityCondition, ctx: PredicateContext, purpose: ConditionPurpose = 'tighten'): ConditionResult {
  const key = 'severity';
  const order = ctx.severities;
  const known = (s: string): boolean => order.includes(s);
  const wanted = 'atLeast' in condition ? [condition.atLeast] : condition.anyOf;
  const unknownWanted = wanted.filter((s) => !known(s));
  if (unknownWanted.length > 0) {
    return { key, matched: false, error: true, reason: `severity: the condition names ${codeList(unknownWanted)}, which is not one of the policy's severities (${order.join(' < ')})` };
  }
  const severity = ctx.facts.severity;
  const describe = 'atLeast' in condition ? `at least ${code(condition.atLeast)}` : `one of ${codeList(condition.anyOf)}`;
  if (severity === undefined || severity === '') return worstCase(key, `severity ${describe}`, 'the step states no severity', 'an unstated severity', purpose);
  if (!known(severity)) {
    // A typo such as `Critical` must not slip past a gate written for `critical`.
    return { key, matched: false, error: true, reason: `severity ${code(severity)} is not one of the policy's severities (${order.join(' < ')})` };
  }
  const matched = severityMeets(condition, severity, order);
  if ('atLeast' in condition) {
    return { key, matched, reason: `severity ${code(severity)} is ${matched ? '' : 'not '}at least ${code(condition.atLeast)} (${order.join(' < ')})` };
  }
  return { key, matched, reason: `severity ${code(severity)} is ${matched ? '' : 'not '}one of ${codeList(condition.anyOf)}` };
}

/** Whether a known severity meets a severity condition, by the policy's order from least to most severe. */
export function severityMeets(condition: SeverityCondition, severity: string, order: readonly string[]): boolean {
  return 'atLeast' in condition ? order.indexOf(severity) >= order.indexOf(condition.atLeast) : condition.anyOf.includes(severity);
}

/**
 * A condition on a fact the request cannot tell (an unknown change set, no severity) holds exactly
 * when holding it tightens the gate.
 */
function worstCase(key: ConditionKey, condition: string, unknown: string, fact: string, purpose: ConditionPurpose): ConditionResult {
  const matched = purpose === 'tighten';
  const effect = matched
    ? `so it holds: ${fact} always satisfies a condition that requires approval`
    : `so it does not hold: ${fact} never satisfies a condition that loosens the gate`;
  return { key, matched, assumed: true, reason: `${condition}: ${unknown}, ${effect}` };
}

const unknownChangeSet = (key: ConditionKey, label: string, patterns: readonly string[], why: string, purpose: ConditionPurpose): ConditionResult =>
  worstCase(key, `${label} ${codeList(patterns)}`, `the changed files are unknown (${why})`, 'an unknown change set', purpose);

/** Any changed file matches one of the patterns. */
export function matchPaths(patterns: readonly string[], ctx: PredicateContext, purpose: ConditionPurpose = 'tighten'): ConditionResult {
  const key = 'paths';
  const invalid = invalidGlobs(key, patterns, ctx);
  if (invalid) return invalid;
  if (ctx.facts.unknownChanges !== undefined) return unknownChangeSet(key, 'paths', patterns, ctx.facts.unknownChanges, purpose);
  const count = ctx.changedFileCount;
  if (count === 0) {
    return { key, matched: false, reason: `paths: the request has no changed files, so paths ${codeList(patterns)} does not match` };
  }
  for (const pattern of patterns) {
    const compiled = ctx.glob(pattern);
    const file = compiled.ok ? ctx.firstFileMatching(pattern, compiled.match) : null;
    if (file !== null) return { key, matched: true, reason: `changed file ${code(file)} matches ${code(pattern)}` };
  }
  const files = count === 1 ? 'the 1 changed file' : `the ${count} changed files`;
  return { key, matched: false, reason: `none of ${files} matches ${codeList(patterns)}` };
}

/**
 * Every changed file matches one of the patterns, and there is at least one: "docs only". An empty
 * change set says nothing about what is deployed, so it does not count as docs only.
 */
export function matchOnlyPaths(patterns: readonly string[], ctx: PredicateContext, purpose: ConditionPurpose = 'loosen'): ConditionResult {
  const key = 'onlyPaths';
  const invalid = invalidGlobs(key, patterns, ctx);
  if (invalid) return invalid;
  if (ctx.facts.unknownChanges !== undefined) return unknownChangeSet(key, 'only_paths', patterns, ctx.facts.unknownChanges, purpose);
  const count = ctx.changedFileCount;
  if (count === 0) {
    return { key, matched: false, reason: `only_paths: the request has no changed files, so only_paths ${codeList(patterns)} does not hold` };
  }
  const matchers = patterns.map((pattern) => ctx.glob(pattern)).flatMap((compiled) => (compiled.ok ? [compiled.match] : []));
  const outside = ctx.sortedChangedFiles.find((file) => !matchers.some((match) => match(file)));
  if (outside !== undefined) return { key, matched: false, reason: `changed file ${code(outside)} matches none of ${codeList(patterns)}` };
  const files = count === 1 ? 'the 1 changed file matches' : `all ${count} changed files match`;
  return { key, matched: true, reason: `${files} ${codeList(patterns)}` };
}

export function matchLabels(patterns: readonly string[], ctx: PredicateContext): ConditionResult {
  const key = 'labels';
  const invalid = invalidGlobs(key, patterns.map((pattern) => pattern.toLowerCase()), ctx);
  if (invalid) return invalid;
  const labels = ctx.facts.labels ?? [];
  if (labels.length === 0) {
    return { key, matched: false, reason: `labels: the request has no labels, so labels ${codeList(patterns)} does not match` };
  }
  for (const pattern of patterns) {
    // GitHub's label names ignore case (a repository cannot have both `security` and `Security`).
    const compiled = ctx.glob(pattern.toLowerCase());
    const label = compiled.ok ? labels.find((l) => compiled.match(l.toLowerCase())) : undefined;
    if (label !== undefined) return { key, matched: true, reason: `label ${code(label)} matches ${code(pattern)}` };
  }
  return { key, matched: false, reason: `labels ${codeList(labels)} match none of ${codeList(patterns)}` };
}

/**
 * Every present key, in a fixed order (cheap facts first). All are evaluated, not just up to the
 * first miss, so an explanation shows every reason a rule did or did not apply.
 */
export function evaluateConditions(conditions: Conditions, ctx: PredicateContext, purpose: ConditionPurpose): ConditionResult[] {
  const results: ConditionResult[] = [];
  if (conditions.action) results.push(matchAction(conditions.action, ctx));
  if (conditions.environment) results.push(matchEnvironment(conditions.environment, ctx));
  if (conditions.branch) results.push(matchBranch(conditions.branch, ctx, purpose));
  if (conditions.targetBranch) results.push(matchTargetBranch(conditions.targetBranch, ctx));
  if (conditions.severity) results.push(matchSeverity(conditions.severity, ctx, purpose));
  if (conditions.event) results.push(matchEvent(conditions.event, ctx));
  if (conditions.actor) results.push(matchActor(conditions.actor, ctx, purpose));
  if (conditions.labels) results.push(matchLabels(conditions.labels, ctx));
  if (conditions.paths) results.push(matchPaths(conditions.paths, ctx, purpose));
  if (conditions.onlyPaths) results.push(matchOnlyPaths(conditions.onlyPaths, ctx, purpose));
  return results;
}
