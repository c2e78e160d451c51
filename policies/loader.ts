/**
 * The policy loader: `.github/jit-approval.yml` text in, a validated, normalised Policy out, or
 * located diagnostics (`file:line:col: message`). Pure and total: no I/O, never throws, and never
 * returns a policy when anything is wrong.
 *
 * `_extends` precedence (also in docs/POLICY.md). The repository's file is layered over the org's
 * (base) file, one level only:
 * - `severities`, `unmatched` and each key of `defaults`: the repository's value wins, except that a
 *   repository cannot loosen what the org file sets explicitly: `unmatched: require`, a higher
 *   `min_permission` and `allow_bots: false` stay (a warning says the repository's value is ignored).
 * - `rules`: the org's rules come first and are always kept; the repository's are appended. A
 *   repository rule with an org rule's name is an error. Org rules are sealed with the org's own
 *   defaults (approvals, approvers, timeout, self-approval), so a repository's `defaults` cannot
 *   weaken them (see `sealed`).
 * - `freezes` and `deploy_windows` likewise: the org's are always kept and a repository window with
 *   an org window's name is an error. A repository's deploy windows never widen the org's: each
 *   file's deploy windows must let a request through (see policies/windows.ts).
 */
import { DEFAULT_SEVERITIES } from './schema.js';
import { checkSchema, describeValue, readablePath, type SchemaProblem } from './schema-check.js';
import { checkDefaultSeverity, checkPolicyFile, checkSeverityCondition } from './policy-checks.js';
import { parseExtendsRef, type ExtendsRef } from './extends-ref.js';
import { approverRefs, autoApproves, rule as normaliseRule, seconds, timeWindow, WINDOW_LISTS, type RawConditions, type RawDefaults, type RawPolicy, type RawRule, type RawWindow } from './normalise.js';
import { lintDefaultSeverity, lintFile, lintNarrowedGates, lintSeverityGaps, lintShadowedRules, lintWidenedWindows, lintWindowSeverityGaps, lintWindows } from './policy-lint.js';
import { parseYamlSource, type YamlSource } from './yaml-source.js';
import type { Conditions, Escalation, PermissionLevel, Policy, PolicyDefaults, PolicyDiagnostic, RequirementSpec, Rule, SourceLocation, TimeWindow } from './types.js';

export { DEFAULT_POLICY_PATH, parseExtendsRef, type ExtendsRef } from './extends-ref.js';
export { parseApproverRef } from './approver-ref.js';

export interface PolicySource {
  file: string;
  text: string | Uint8Array;
}

export interface LoadOptions {
  /** Notifier names configured on the App; when given, any other name in `notify` is an error. */
  knownNotifiers?: Iterable<string>;
  /** The org policy named by the file's `_extends`, fetched by the caller (see readExtends). */
  base?: PolicySource;
  /**
   * A file with `_extends` but no `base` is an error by default: evaluating it alone would drop the
   * org's rules. `warn` is for checking one file on its own (`mercurial-jit validate`).
   */
  unresolvedExtends?: 'error' | 'warn';
  /**
   * False skips the lint (policy-lint.ts) for a caller that never shows warnings (`mercurial-jit
   * explain`): lint only warns, it never refuses a file, and on a 500-rule policy it is a tenth of a
   * one-shot explain. Every check that can refuse a file still runs. True unless given.
   */
  lint?: boolean;
}

export type LoadResult =
  | { ok: true; policy: Policy; warnings: PolicyDiagnostic[] }
  | { ok: false; diagnostics: PolicyDiagnostic[] };

export type ReadExtendsResult =
  | { ok: true; ref?: ExtendsRef & { location: SourceLocation } }
  | { ok: false; diagnostics: PolicyDiagnostic[] };

export const BUILT_IN_DEFAULTS: Readonly<PolicyDefaults> = Object.freeze({
  approvals: 1,
  approvers: [{ kind: 'codeowners' } as const],
  timeoutSeconds: 3600,
  allowSelfApproval: false,
  allowBots: false,
  minPermission: 'write',
});

const PERMISSION_ORDER: PermissionLevel[] = ['read', 'triage', 'write', 'maintain', 'admin'];

export function formatDiagnostic(d: PolicyDiagnostic): string {
  return `${d.file}:${d.line}:${d.col}: ${d.message}`;
}

/** The `_extends` reference of a policy file, if any, so the caller can fetch the base file. */
export function readExtends(text: string | Uint8Array, file: string): ReadExtendsResult {
  const source = parseYamlSource(text, file);
  if (source.diagnostics.length > 0) return { ok: false, diagnostics: source.diagnostics };
  const value = source.value as Record<string, unknown> | null;
  if (typeof value !== 'object' || value === null || !('_extends' in value)) return { ok: true };
  const located = (message: string): ReadExtendsResult => ({
    ok: false,
    diagnostics: [{ ...source.locate('/_extends'), pointer: '/_extends', message: `_extends: ${message}` }],
  });
  if (typeof value._extends !== 'string') return located(`expected a string, got ${describeValue(value._extends)}`);
  const ref = parseExtendsRef(value._extends);
  if (!ref.ok) return located(ref.message);
  return { ok: true, ref: { ...ref.ref, location: source.locate('/_extends') } };
}

export function loadPolicy(text: string | Uint8Array, file: string, options: LoadOptions = {}): LoadResult {
  try {
    return load(text, file, options);
  } catch (err) {
    // Unreachable by design; kept so that a bug fails closed with a located message, never a throw.
    return { ok: false, diagnostics: [{ file, line: 1, col: 1, pointer: '', message: `internal error while loading the policy: ${(err as Error).message}` }] };
  }
}

interface CheckedFile {
  source: YamlSource;
  raw: RawPolicy | undefined;
  diagnostics: PolicyDiagnostic[];
}

function load(text: string | Uint8Array, file: string, options: LoadOptions): LoadResult {
  const known = options.knownNotifiers ? new Set(options.knownNotifiers) : undefined;
  const repo = checkFile(text, file, known);
  const base = options.base ? checkFile(options.base.text, options.base.file, known) : undefined;
  const diagnostics = [...(base?.diagnostics ?? []), ...repo.diagnostics];
  const warnings: PolicyDiagnostic[] = [];

  if (base?.raw?._extends !== undefined) {
    diagnostics.push(at(base.source, '/_extends', '_extends: the org policy cannot itself use _extends; only one level of _extends is supported'));
  }
  if (repo.raw?._extends !== undefined && !base) {
    const problem = at(repo.source, '/_extends', `_extends "${repo.raw._extends}" is not resolved: this file was checked without the org policy it names; give that file with --extends ORG_FILE to check the two together`);
    (options.unresolvedExtends === 'warn' ? warnings : diagnostics).push(problem);
  }
  if (diagnostics.length > 0 || !repo.raw || (base && !base.raw)) return failed(diagnostics);

  const merged = mergeLayers(base?.raw && { ...base, raw: base.raw }, { ...repo, raw: repo.raw }, warnings);
  const crossFile = checkAcrossFiles(merged);
  if (crossFile.length > 0) return failed(crossFile);
  if (options.lint === false) return { ok: true, policy: merged.policy, warnings: sortByPosition(warnings) };
  for (const layer of merged.layers) {
    for (const { pointer, message } of lintFile(layer.raw)) warnings.push(at(layer.source, pointer, message));
  }
  const { rules, severities } = merged.policy;
  const windows = merged.policy.windows ?? [];
  // The checks that compare rules (and windows) with each other grow with their count squared times
  // the severities: past a bound, a file of a few hundred kilobytes would take minutes, and the
  // App reads the file of any pull request for its preview. Lint only warns, so they are left out.
  const compared = crossChecksFor(merged.policy);
  const compares = compared <= MAX_CROSS_CHECKS;
  if (!compares) {
    const layer = merged.layers[merged.layers.length - 1];
    warnings.push(
      at(
        layer.source,
        '/rules',
        `the policy has ${rules.length} rules and ${severities.length} severities${windows.length > 0 ? ` and ${windows.length} windows` : ''}: too many to check against each other (${Math.round(compared)} comparisons; at most ${MAX_CROSS_CHECKS}), so shadowed rules, severity gaps and narrowed gates are not checked; split it, or use fewer severities and shorter lists of names`,
        'key',
      ),
    );
  }
  const narrowed = compares && merged.policy.unmatched === 'approve' ? lintNarrowedGates(rules, severities) : [];
  const severityGaps = compares ? lintSeverityGaps(rules, severities) : [];
  const ruleWarnings: { rule: Rule; message: string; pointer?: string }[] = [...(compares ? lintShadowedRules(rules, severities) : []), ...narrowed, ...severityGaps];
  for (const { rule, message, pointer } of ruleWarnings) {
    // Names are unique within a file, so the rule's place in its own file's list is found by name.
    const layer = merged.layers.find((l) => l.source.file === rule.location.file);
    const index = layer?.raw.rules?.findIndex((r) => r.name === rule.name) ?? -1;
    // A warning about a value within the rule (`pointer`) is placed at that value.
    if (layer && index >= 0 && pointer) warnings.push(at(layer.source, `/rules/${index}${pointer}`, message));
    else warnings.push({ ...rule.location, pointer: index >= 0 ? `/rules/${index}` : '', message });
  }
  const { org } = merged;
  if (org && merged.policy.orgUnmatched) {
    for (const entry of merged.rules) {
      if (entry.fromBase || entry.raw.auto_approve !== true || entry.raw.require) continue;
      warnings.push(
        at(
          entry.layer.source,
          `/rules/${entry.index}/auto_approve`,
          `rule "${entry.raw.name}" lets nothing through: the org policy (${where(org, '/unmatched')}) sets unmatched: require, which asks for the org's default approval of every request no org rule matches, whatever this file's rules say`,
        ),
      );
    }
  }
  for (const layer of merged.layers) {
    for (const { pointer, message } of lintWindows(layer.raw)) warnings.push(at(layer.source, pointer, message));
  }
  const defaultSeverity = lintDefaultSeverity(merged.policy);
  // The repository's value wins over the org's: the warning points at the one in force.
  const setBy = [...merged.layers].reverse().find((l) => l.raw.defaults?.severity !== undefined);
  if (defaultSeverity && setBy) warnings.push(at(setBy.source, '/defaults/severity', defaultSeverity));
  for (const { window, message } of compares ? lintWidenedWindows(windows, severities) : []) {
    const entry = merged.windows.find((w) => w.raw.name === window.name)!;
    warnings.push(at(entry.layer.source, entry.pointer, message));
  }
  for (const { window, message } of compares ? lintWindowSeverityGaps(windows, severities) : []) {
    const entry = merged.windows.find((w) => w.raw.name === window.name)!;
    warnings.push(at(entry.layer.source, `${entry.pointer}/if/severity`, message));
  }
  return { ok: true, policy: merged.policy, warnings: sortByPosition(warnings) };
}

/**
 * The lint compares rules and windows with each other only when crossChecksFor is at most this: it
 * then makes at most twice as many comparisons. A 1,000-rule policy with the four built-in severities is within it.
 */
const MAX_CROSS_CHECKS = 6_000_000;

/**
 * About how many comparisons the lints between rules and windows make (never more than twice this):
 * each pair of rules, of escalations of one rule and of windows, once for each severity and twice more.
 * A comparison takes time with the names its conditions list: where they list more than
 * NAMES_PER_COMPARISON on average, each counts for that many more.
 */
function crossChecksFor(policy: Policy): number {
  const escalations = policy.rules.reduce((sum, rule) => sum + rule.escalate.length ** 2, 0);
  const windows = policy.windows ?? [];
  const comparisons = (policy.rules.length ** 2 + escalations + windows.length ** 2) * (policy.severities.length + 2);
  const conditions = [...policy.rules.flatMap((rule) => [rule.if, rule.unless, ...rule.escalate.map((e) => e.if)]), ...windows.map((w) => w.if)].filter((c) => c !== undefined);
  const names = conditions.reduce((sum, condition) => sum + namesIn(condition, policy.severities.length), 0);
  return comparisons * Math.max(1, names / Math.max(1, conditions.length) / NAMES_PER_COMPARISON);
}

/** How many names, on average, a condition may list before its comparisons count for more. */
const NAMES_PER_COMPARISON = 8;

/** The names a condition lists; `at_least` stands for every severity. */
function namesIn(condition: Conditions, severities: number): number {
  let names = 0;
  for (const value of Object.values(condition)) {
    if (Array.isArray(value)) names += value.length;
    else if (value && typeof value === 'object') names += 'anyOf' in value ? value.anyOf.length : severities;
  }
  return names;
}

function failed(diagnostics: PolicyDiagnostic[]): LoadResult {
  return { ok: false, diagnostics: sortByPosition(diagnostics) };
}

function sortByPosition(diagnostics: PolicyDiagnostic[]): PolicyDiagnostic[] {
  return [...diagnostics].sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.col - b.col);
}

function at(source: YamlSource, pointer: string, message: string, target: 'value' | 'key' = 'value'): PolicyDiagnostic {
  return { ...source.locate(pointer, target), pointer, message };
}

function checkFile(text: string | Uint8Array, file: string, known: ReadonlySet<string> | undefined): CheckedFile {
  const source = parseYamlSource(text, file);
  if (source.diagnostics.length > 0) return { source, raw: undefined, diagnostics: source.diagnostics };
  // The specific checks come first: where both flag one value (a bad duration also fails the
  // schema's pattern), their message is the clearer one and the schema's is dropped.
  const problems: SchemaProblem[] = [...checkPolicyFile(source.value, known), ...checkSchema(source.value)];
  const seen = new Set<string>();
  const diagnostics: PolicyDiagnostic[] = [];
  for (const problem of problems) {
    const key = `${problem.target}:${problem.pointer}`;
    if (seen.has(key)) continue;
    seen.add(key);
    diagnostics.push(at(source, problem.pointer, problem.message, problem.target));
  }
  return { source, raw: diagnostics.length === 0 ? (source.value as RawPolicy) : undefined, diagnostics };
}

interface Layer {
  source: YamlSource;
  raw: RawPolicy;
}

interface RuleEntry {
  layer: Layer;
  index: number;
  raw: RawRule;
  fromBase: boolean;
}

interface Merged {
  policy: Policy;
  /** The org's file (if any), then the repository's. */
  layers: Layer[];
  /** The org's file, when the repository's extends one. */
  org?: Layer;
  rules: RuleEntry[];
  windows: WindowEntry[];
  /** Where the severities in force were set (undefined: the built-in list). */
  severitiesFrom?: Layer;
}

function mergeLayers(base: Layer | undefined, repo: Layer, warnings: PolicyDiagnostic[]): Merged {
  const orgDefaults = applyDefaults(BUILT_IN_DEFAULTS, base?.raw.defaults);
  const defaults = applyDefaults(orgDefaults, repo.raw.defaults);
  let unmatched = repo.raw.unmatched ?? base?.raw.unmatched ?? 'approve';

  if (base) {
    const floor = (key: string, pointer: string, why: string) =>
      warnings.push(at(repo.source, pointer, `${key} is ignored: ${why}; a repository can tighten the org policy, not loosen it`));
    const baseDefaults = base.raw.defaults ?? {};
    if (base.raw.unmatched === 'require' && unmatched === 'approve') {
      unmatched = 'require';
      floor('unmatched: approve', '/unmatched', `the org policy (${where(base, '/unmatched')}) sets unmatched: require`);
    }
    const orgMin = baseDefaults.min_permission;
    if (orgMin && PERMISSION_ORDER.indexOf(defaults.minPermission) < PERMISSION_ORDER.indexOf(orgMin)) {
      floor(`min_permission: ${defaults.minPermission}`, '/defaults/min_permission', `the org policy (${where(base, '/defaults/min_permission')}) requires ${orgMin}`);
      defaults.minPermission = orgMin;
    }
    if (baseDefaults.allow_bots === false && defaults.allowBots) {
      floor('allow_bots: true', '/defaults/allow_bots', `the org policy (${where(base, '/defaults/allow_bots')}) sets allow_bots: false`);
      defaults.allowBots = false;
    }
    // A request that states no severity must stay at least as severe as the org takes it. Without the
    // org's `defaults.severity` it has none, which any severity named would loosen.
    const severities: readonly string[] = repo.raw.severities ?? base.raw.severities ?? DEFAULT_SEVERITIES;
    const orgSeverity = baseDefaults.severity;
    const rank = (name: string) => severities.indexOf(name);
    const repoSeverity = repo.raw.defaults?.severity;
    if (repoSeverity !== undefined && orgSeverity === undefined) {
      floor(`severity: ${repoSeverity}`, '/defaults/severity', 'the org policy sets no `defaults.severity`, so a request that states none meets every severity condition that tightens the gate');
      delete defaults.severity;
    } else if (repoSeverity !== undefined && orgSeverity !== undefined && rank(repoSeverity) >= 0 && rank(orgSeverity) >= 0 && rank(repoSeverity) < rank(orgSeverity)) {
      floor(`severity: ${repoSeverity}`, '/defaults/severity', `the org policy assumes \`${orgSeverity}\` for a request that states no severity`);
      defaults.severity = orgSeverity;
    }
  }

  const entries: RuleEntry[] = [
    ...(base?.raw.rules ?? []).map((raw, index) => ({ layer: base as Layer, index, raw, fromBase: true })),
    ...(repo.raw.rules ?? []).map((raw, index) => ({ layer: repo, index, raw, fromBase: false })),
  ];
  const rules = entries.map((entry) => {
    const normalised = normaliseRule(entry.raw, `/rules/${entry.index}`, (pointer) => entry.layer.source.locate(pointer));
    return entry.fromBase ? sealed(normalised, orgDefaults) : normalised;
  });
  const severitiesFrom = repo.raw.severities ? repo : base?.raw.severities ? base : undefined;
  const windowEntries: WindowEntry[] = [
    ...(base ? windowsOf(base, true) : []),
    ...windowsOf(repo, false),
  ];
  const windows = windowEntries.map((entry) =>
    timeWindow(entry.raw, entry.kind, entry.fromBase ? 'org' : 'repository', entry.pointer, (pointer) => entry.layer.source.locate(pointer)),
  );
  return {
    policy: {
      version: 1,
      severities: [...(severitiesFrom?.raw.severities ?? DEFAULT_SEVERITIES)],
      defaults,
      unmatched,
      rules,
      ...(windows.length > 0 ? { windows } : {}),
      ...(base?.raw.unmatched === 'require'
        ? { orgUnmatched: { approvals: orgDefaults.approvals, approvers: [...orgDefaults.approvers], allowSelfApproval: orgDefaults.allowSelfApproval, timeoutSeconds: orgDefaults.timeoutSeconds } }
        : {}),
    },
    layers: base ? [base, repo] : [repo],
    ...(base ? { org: base } : {}),
    rules: entries,
    windows: windowEntries,
    severitiesFrom,
  };
}

interface WindowEntry {
  layer: Layer;
  pointer: string;
  kind: TimeWindow['kind'];
  raw: RawWindow;
  fromBase: boolean;
}

function windowsOf(layer: Layer, fromBase: boolean): WindowEntry[] {
  return WINDOW_LISTS.flatMap(([list, kind]) => (layer.raw[list] ?? []).map((raw, i) => ({ layer, pointer: `/${list}/${i}`, kind, raw, fromBase })));
}

function applyDefaults(under: Readonly<PolicyDefaults>, raw: RawDefaults | undefined): PolicyDefaults {
  const out: PolicyDefaults = { ...under, approvers: [...under.approvers] };
  if (!raw) return out;
  if (raw.approvals !== undefined) out.approvals = raw.approvals;
  if (raw.approvers !== undefined) out.approvers = approverRefs(raw.approvers);
  if (raw.timeout !== undefined) out.timeoutSeconds = seconds(raw.timeout);
  if (raw.allow_self_approval !== undefined) out.allowSelfApproval = raw.allow_self_approval;
  if (raw.allow_bots !== undefined) out.allowBots = raw.allow_bots;
  if (raw.min_permission !== undefined) out.minPermission = raw.min_permission;
  if (raw.reminder !== undefined) out.reminderSeconds = seconds(raw.reminder);
  if (raw.severity !== undefined) out.severity = raw.severity;
  return out;
}

/**
 * An org rule means what the org file says: what it leaves out comes from the org's defaults, never
 * the repository's. A condition escalation's requirement takes what it leaves out from the rule's
 * own (sealed here), except on an auto-approving rule: there it comes from the defaults, which must
 * then be the org's.
 */
function sealed(rule: Rule, orgDefaults: PolicyDefaults): Rule {
  const complete = (spec: RequirementSpec | undefined): RequirementSpec => ({
    approvals: spec?.approvals ?? orgDefaults.approvals,
    approvers: spec?.approvers ?? [...orgDefaults.approvers],
  });
  const letsThrough = autoApproves(rule);
  const sealEscalation = (e: Escalation): Escalation => (e.require !== undefined ? { ...e, require: complete(e.require) } : e);
  return {
    ...rule,
    fromOrg: true,
    require: letsThrough ? undefined : complete(rule.require),
    timeoutSeconds: rule.timeoutSeconds ?? orgDefaults.timeoutSeconds,
    allowSelfApproval: rule.allowSelfApproval ?? orgDefaults.allowSelfApproval,
    escalate: letsThrough ? rule.escalate.map(sealEscalation) : rule.escalate,
  };
}

/**
 * The severities an org policy's rules, windows and defaults name keep their meaning in a repository's
 * own list: in the org's order, with none above the org's highest (an org rule on `critical` must
 * still see the most severe requests).
 */
function severitiesOrderProblem(orgLayer: Layer, repoSeverities: readonly string[]): string | undefined {
  const org = orgLayer.raw;
  const orgOrder: readonly string[] = org.severities ?? DEFAULT_SEVERITIES;
  const named = new Set<string>(org.severities ?? []);
  /** The org's conditions that list severities by name, where they are. */
  const lists: { names: readonly string[]; pointer: string }[] = [];
  const add = (condition: RawConditions['severity'], pointer: string) => {
    if (condition === undefined) return;
    for (const name of typeof condition === 'string' ? [condition] : Array.isArray(condition) ? condition : [condition.at_least]) named.add(name);
    if (Array.isArray(condition) && condition.length > 1) lists.push({ names: condition, pointer });
  };
  if (org.defaults?.severity !== undefined) named.add(org.defaults.severity);
  (org.rules ?? []).forEach((rule, i) => {
    add(rule.if?.severity, `/rules/${i}/if/severity`);
    add(rule.unless?.severity, `/rules/${i}/unless/severity`);
    (rule.escalate ?? []).forEach((escalation, j) => add(escalation.if?.severity, `/rules/${i}/escalate/${j}/if/severity`));
  });
  for (const [list] of WINDOW_LISTS) (org[list] ?? []).forEach((window, i) => add(window.if?.severity, `/${list}/${i}/if/severity`));
  const used = orgOrder.filter((name) => named.has(name));
  if (used.length === 0) return undefined;
  if (used.some((name) => !repoSeverities.includes(name))) return undefined; // an unknown name is reported where the org uses it
  const outOfOrder = (names: string[]) => names.some((name, i) => i > 0 && repoSeverities.indexOf(name) < repoSeverities.indexOf(names[i - 1]!));
  if (outOfOrder(used)) return `the org's ${used.join(' < ')} must keep that order here`;
  // An org rule's `at_least: medium` also means every name the org ranks above medium (`high`, in the
  // built-in order), though it names none of them: each of the org's names kept here keeps its rank.
  const kept = orgOrder.filter((name) => repoSeverities.includes(name));
  if (outOfOrder(kept)) return `the org's ${kept.join(' < ')} must keep that order here`;
  const highest = orgOrder.at(-1)!;
  const top = repoSeverities.indexOf(highest);
  if (top < 0) return `the org's highest severity, \`${highest}\`, must stay the highest here`;
  const above = repoSeverities.slice(top + 1);
  if (above.length > 0) return `${above.map((name) => `\`${name}\``).join(', ')} would rank above \`${highest}\`, the org's highest severity`;
  // `[high, critical]` is, in the org's order, every severity from high up: a name of the repository's
  // own ranked between two names one condition lists would be neither, and slip out of it.
  for (const { names, pointer } of lists) {
    const ranks = names.map((name) => repoSeverities.indexOf(name));
    const low = Math.min(...ranks);
    const high = Math.max(...ranks);
    const between = repoSeverities.find((name, rank) => rank > low && rank < high && !orgOrder.includes(name));
    if (between === undefined) continue;
    const below = repoSeverities.slice(0, repoSeverities.indexOf(between)).findLast((name) => names.includes(name))!;
    const above = repoSeverities.slice(repoSeverities.indexOf(between) + 1).find((name) => names.includes(name))!;
    return `\`${between}\` would rank between \`${below}\` and \`${above}\`, which a condition of the org policy lists by name (${where(orgLayer, pointer)}): a request that states it would meet that condition under neither name; rank it below them, or have the org write { at_least }`;
  }
  return undefined;
}

function where(layer: Layer, pointer: string): string {
  const { file, line, col } = layer.source.locate(pointer);
  return `${file}:${line}:${col}`;
}

/** Checks that need the merged view: severities in force, rule names unique across both files. */
function checkAcrossFiles(merged: Merged): PolicyDiagnostic[] {
  const diagnostics: PolicyDiagnostic[] = [];
  const { severities } = merged.policy;
  for (const layer of merged.layers) {
    checkDefaultSeverity(layer.raw.defaults?.severity, severities, (p, message) => diagnostics.push(at(layer.source, p, `${readablePath(p)}: ${message}`)));
  }
  const { org } = merged;
  const repo = merged.layers.at(-1)!;
  if (org && repo.raw.severities) {
    const problem = severitiesOrderProblem(org, repo.raw.severities);
    if (problem) diagnostics.push(at(repo.source, '/severities', `severities: ${problem} (the org policy, ${where(org, org.raw.severities ? '/severities' : '')}); a repository can tighten the org policy, not loosen it`));
  }
  const firstByName = new Map<string, RuleEntry>();
  for (const entry of merged.rules) {
    const pointer = `/rules/${entry.index}`;
    const report = (p: string, message: string) => diagnostics.push(at(entry.layer.source, p, `${readablePath(p)}: ${message}`));
    checkSeverityCondition(entry.raw.if?.severity, `${pointer}/if/severity`, severities, report);
    checkSeverityCondition(entry.raw.unless?.severity, `${pointer}/unless/severity`, severities, report);
    (entry.raw.escalate ?? []).forEach((e, j) =>
      checkSeverityCondition(e.if?.severity, `${pointer}/escalate/${j}/if/severity`, severities, report),
    );
    const first = firstByName.get(entry.raw.name);
    if (!first) {
      firstByName.set(entry.raw.name, entry);
      continue;
    }
    const previous = where(first.layer, `/rules/${first.index}/name`);
    report(
      `${pointer}/name`,
      first.fromBase && !entry.fromBase
        ? `rule name "${entry.raw.name}" is already used by the org policy at ${previous}; org rules cannot be overridden or removed, so choose another name`
        : `duplicate rule name "${entry.raw.name}": already used at ${previous}`,
    );
  }
  const firstWindow = new Map<string, WindowEntry>();
  for (const entry of merged.windows) {
    const report = (p: string, message: string) => diagnostics.push(at(entry.layer.source, p, `${readablePath(p)}: ${message}`));
    checkSeverityCondition(entry.raw.if?.severity, `${entry.pointer}/if/severity`, severities, report);
    const first = firstWindow.get(entry.raw.name);
    if (!first) {
      firstWindow.set(entry.raw.name, entry);
      continue;
    }
    const previous = where(first.layer, `${first.pointer}/name`);
    report(
      `${entry.pointer}/name`,
      first.fromBase && !entry.fromBase
        ? `window name "${entry.raw.name}" is already used by the org policy at ${previous}; org freezes and deploy windows cannot be overridden, loosened or removed, so choose another name`
        : `duplicate window name "${entry.raw.name}": already used at ${previous} (names are shared by freezes and deploy windows)`,
    );
  }
  if (merged.severitiesFrom && diagnostics.length > 0) {
    // Helps when an org rule names a severity the repository's own `severities` dropped.
    return diagnostics.map((d) =>
      d.message.includes('unknown severity') ? { ...d, message: `${d.message} (from ${where(merged.severitiesFrom as Layer, '/severities')})` } : d,
    );
  }
  return diagnostics;
}
