/**
 * What a policy change does, before it merges: the decisions of the old and the new policy side by
 * side for the situations that matter (each action × environment × severity the policies name, and
 * requests recorded with their facts), each classed as stricter, looser, blocked, unblocked,
 * changed or the same; and the freezes and deploy windows added, removed or changed, whatever the
 * time (decisions are judged at one instant, where a freeze that is not on changes nothing, and with
 * the windows set aside where one is on).
 * Pure: the caller passes both policies, every situation and the instant.
 */
import { activeRequirements, PERMISSION_RANK } from './approval.js';
import { describeApprovers, isTeamOwner, requirementName } from './approvers.js';
import type { ApproverSet, Decision, Requirement } from './decision.js';
import { formatDuration } from './duration.js';
import { evaluate, type OwnersLookup } from './evaluate.js';
import { hasWildcard } from './glob.js';
import { codeSpan, tableCell } from './markdown.js';
import { autoApproves } from './normalise.js';
import type { ApproverRef, Conditions, PermissionLevel, Policy, RequestFacts, Rule, TimeWindow } from './types.js';

export interface PolicyVersion {
  policy: Policy;
  codeowners?: OwnersLookup;
}

export interface Situation {
  /** How people recognise it: "deploy to production, severity high" or "request 1b2c… (run 42)". */
  label: string;
  facts: RequestFacts;
  /** `named`: built from what the policies name; `recorded`: a request the App recorded, replayed. */
  source: 'named' | 'recorded';
}

export type Change = 'same' | 'stricter' | 'looser' | 'blocked' | 'unblocked' | 'changed';

export interface DecisionSummary {
  outcome: Decision['outcome'];
  /** One line: "no approval needed", "1 from @acme/leads (rule `production`); 2 from …", "blocked: …". */
  text: string;
  /** Distinct approvals asked for across requirements. */
  approvals: number;
}

export interface Comparison {
  situation: Situation;
  /** Null when there was no valid policy before. */
  before: DecisionSummary | null;
  after: DecisionSummary;
  change: Change;
}

/**
 * How a description quotes a value the policy's author wrote (a window's scope or message, a problem, a
 * decision's summary naming them): as written, for a terminal, or as code, for Markdown GitHub renders.
 */
export type Quote = (text: string) => string;
export const AS_WRITTEN: Quote = (text) => text;

/** Facts a named situation has no value for: an unknown change set stands for "any change". */
const ANY_CHANGE = 'any change: the situation names no files, so path conditions are judged as for an unknown change set';
/** A table people read on a check run: past this many situations, the named ones are cut. */
export const MAX_NAMED_SITUATIONS = 60;

/**
 * Each action × environment × severity the policies name with a literal value (globs name no one
 * value), and for each action × environment a step that states no severity: it gets
 * `defaults.severity`, so a change to that default (a low one loosens every severity condition for
 * such steps) shows only there.
 */
export function namedSituations(policies: readonly Policy[]): Situation[] {
  const actions = literals(policies, (c) => c.action);
  const environments = literals(policies, (c) => c.environment);
  const severities = [...new Set(policies.flatMap((p) => p.severities)), undefined];
  const out: Situation[] = [];
  for (const action of actions.length > 0 ? actions : ['deploy']) {
    for (const environment of [...environments, undefined]) {
      for (const severity of severities) {
        if (out.length >= MAX_NAMED_SITUATIONS) return out;
        out.push({
          label: `${action}${environment ? ` to ${environment}` : ' (no environment)'}, severity ${severity ?? 'not stated'}`,
          facts: { action, environment, severity, changedFiles: [], unknownChanges: ANY_CHANGE },
          source: 'named',
        });
      }
    }
  }
  return out;
}

function literals(policies: readonly Policy[], pick: (c: Conditions) => string[] | undefined): string[] {
  const found = new Set<string>();
  for (const policy of policies) {
    // An `unless` and a window's scope name actions and environments too: `unless: { environment:
    // production }` added to a rule that requires approval changes production's decision only.
    const scopes = [
      ...policy.rules.flatMap((rule) => [rule.if, ...(rule.unless ? [rule.unless] : []), ...rule.escalate.flatMap((e) => (e.if ? [e.if] : []))]),
      ...(policy.windows ?? []).map((w) => w.if),
    ];
    for (const conditions of scopes) {
      for (const value of pick(conditions) ?? []) if (!hasWildcard(value)) found.add(value);
    }
  }
  return [...found].sort();
}

export function summarise(decision: Decision, quote: Quote = AS_WRITTEN): DecisionSummary {
  if (decision.outcome === 'blocked') return { outcome: 'blocked', text: `blocked: ${quote(decision.problems[0] ?? decision.summary)}`, approvals: Infinity };
  // Held or rejected by a window: as strict as blocked while it lasts, so a change to it is never read as looser.
  if (decision.outcome === 'held' || decision.outcome === 'rejected') return { outcome: decision.outcome, text: quote(decision.summary), approvals: Infinity };
  if (decision.outcome === 'auto_approve') return { outcome: 'auto_approve', text: 'no approval needed', approvals: 0 };
  // Who may vote is part of the decision: a change to it alone is a change a reviewer must see.
  const parts = decision.requirements.map((r) => {
    const widened = r.scheduled.filter((s) => describeApprovers(s.approvers) !== 'nobody').map((s) => `, after ${formatDuration(s.afterSeconds)} also ${describeApprovers(s.approvers)}`);
    return `${r.approvals} from ${describeApprovers(r.approvers)} (${requirementName(r)})${widened.join('')}${r.allowSelfApproval ? ', the requesters may approve' : ''}`;
  });
  const { minPermission, allowBots } = decision.eligibility;
  if (minPermission !== 'write') parts.push(`approvers need ${minPermission} permission`);
  if (allowBots) parts.push('bots may approve');
  return { outcome: 'approval_required', text: parts.join('; '), approvals: decision.requirements.reduce((sum, r) => sum + r.approvals, 0) };
}

/**
 * How one situation's decision changed. Between two decisions that both ask for approval, the new
 * one is stricter when every set of votes that meets it also met the old one, and not the other way
 * round (looser, the reverse): more approvals from the same people, as many from fewer, or two from
 * alice or bob where one from alice was enough. When neither holds (two approvals from anyone with
 * write permission instead of one from security) the change is only `changed`.
 */
export function classify(before: Decision | null, after: Decision): Change {
  const now = summarise(after);
  if (!before) return now.outcome === 'blocked' ? 'blocked' : 'changed';
  if (summarise(before).text === now.text) return 'same';
  if (after.outcome === 'blocked') return 'blocked';
  if (before.outcome === 'blocked') return 'unblocked';
  // Held or rejected by a window is as strict as blocked while it lasts.
  if (stoppedByWindow(after) && !stoppedByWindow(before)) return 'stricter';
  if (stoppedByWindow(before) && !stoppedByWindow(after)) return 'looser';
  if (before.outcome === 'auto_approve') return 'stricter';
  if (after.outcome === 'auto_approve') return 'looser';
  const stricter = atLeastAsStrict(after, before);
  const looser = atLeastAsStrict(before, after);
  if (stricter !== looser) return stricter ? 'stricter' : 'looser';
  return 'changed';
}

/**
 * Whether votes that meet `a` always meet `b`: at every moment (time escalations widen who may
 * approve), each requirement of `b` is implied by one of `a`'s, and `a` lets no one vote whom `b`
 * would refuse.
 */
function atLeastAsStrict(a: Decision, b: Decision): boolean {
  const floor = a.eligibility.minPermission;
  if (PERMISSION_RANK[floor] < PERMISSION_RANK[b.eligibility.minPermission]) return false;
  if (a.eligibility.allowBots && !b.eligibility.allowBots) return false;
  const moments = new Set([0, ...[...a.requirements, ...b.requirements].flatMap((r) => r.scheduled.map((s) => s.afterSeconds))]);
  return [...moments].every((t) => {
    const [aNow, bNow] = [activeRequirements(a.requirements, t), activeRequirements(b.requirements, t)];
    return bNow.every((rb) => aNow.some((ra) => implies(ra, rb, floor)));
  });
}

/**
 * Whatever `a`'s approvers are, enough of them count for `b`: `a`'s approvals less those who may be
 * outsiders to `b` reach `b`'s, and covering `a`'s code-owner groups covers `b`'s.
 */
function implies(a: Requirement, b: Requirement, floor: PermissionLevel): boolean {
  if (!coversGroups(a.approvers, b.approvers)) return false;
  // The requester may be one of `a`'s approvers where `b` refuses them.
  const requester = a.allowSelfApproval && !b.allowSelfApproval ? 1 : 0;
  return a.approvals - outsiders(a.approvers, b.approvers, floor) - requester >= b.approvals;
}

/** Whether an approval from an owner of each of `inner`'s groups is one from an owner of each of `outer`'s. */
function coversGroups(inner: ApproverSet, outer: ApproverSet): boolean {
  return outer.ownerGroups.every((group) => inner.ownerGroups.some((mine) => mine.owners.every((owner) => includes(group.owners, owner))));
}

/**
 * How many people `inner` lists that `outer` does not (of those with at least `floor` permission,
 * as every voter must have): a count of named people, or Infinity when a team or role is left out.
 */
function outsiders(inner: ApproverSet, outer: ApproverSet, floor: PermissionLevel): number {
  // A role at or below the permission every voter needs lists everyone who may vote at all.
  if (outer.roles.some((role) => PERMISSION_RANK[role] <= PERMISSION_RANK[floor])) return 0;
  const listsTeam = (team: string) => includes(outer.teams, team) || includes(outer.owners, team);
  const listsUser = (login: string) => includes(outer.users, login) || includes(outer.owners, `@${login}`);
  const groups = [
    ...inner.roles.filter((role) => !outer.roles.some((wider) => PERMISSION_RANK[wider] <= PERMISSION_RANK[role])),
    ...inner.teams.filter((team) => !listsTeam(team)),
    ...inner.owners.filter((owner) => isTeamOwner(owner) && !listsTeam(owner)),
  ];
  if (groups.length > 0) return Infinity;
  // An e-mail owner never votes: only owners that are accounts matter.
  const people = [...inner.users, ...inner.owners.filter((owner) => owner.startsWith('@') && !isTeamOwner(owner)).map((owner) => owner.slice(1))];
  return new Set(people.filter((login) => !listsUser(login)).map((login) => login.toLowerCase())).size;
}

const includes = (list: readonly string[], item: string): boolean => list.some((x) => x.toLowerCase() === item.toLowerCase());

const stoppedByWindow = (decision: Decision) => decision.outcome === 'held' || decision.outcome === 'rejected';

/**
 * `at`: the instant freezes and deploy windows are judged at, for both versions. Where a window holds
 * or rejects a situation at that instant, the window's verdict hides what its rules ask for the rest of
 * the time: a weakened rule would read "same" during a freeze both versions have, or "stricter" when
 * the change also adds a freeze. So such a situation is compared a second time with the windows set
 * aside, and that comparison is listed too when it tells something else. `quote`: how the decisions'
 * texts quote what the policies say (see `Quote`).
 */
export function comparePolicies(before: PolicyVersion | null, after: PolicyVersion, situations: readonly Situation[], at?: number, quote: Quote = AS_WRITTEN): Comparison[] {
  const decide = (version: PolicyVersion | null, facts: RequestFacts, windows: boolean) =>
    version && evaluate(windows ? version.policy : { ...version.policy, windows: [] }, facts, { codeowners: version.codeowners, now: at });
  return situations.flatMap((situation) => {
    const [was, now] = [decide(before, situation.facts, true), decide(after, situation.facts, true)!];
    const change = classify(was, now);
    const atInstant: Comparison = { situation, before: was ? summarise(was, quote) : null, after: summarise(now, quote), change };
    if (!stoppedByWindow(now) && !(was && stoppedByWindow(was))) return [atInstant];
    const [wasByRules, nowByRules] = [decide(before, situation.facts, false), decide(after, situation.facts, false)!];
    const byRules = classify(wasByRules, nowByRules);
    if (byRules === 'same' || byRules === change) return [atInstant];
    const label = `${situation.label}, freezes and deploy windows set aside`;
    return [atInstant, { situation: { ...situation, label }, before: wasByRules ? summarise(wasByRules, quote) : null, after: summarise(nowByRules, quote), change: byRules }];
  });
}

/**
 * Facts a named situation leaves out: it has no branch, event, actor or labels, and its changed paths,
 * judged as any change, hide only a path condition that loosens the gate (an auto-approving rule's `if`,
 * an `unless`).
 */
const LEFT_OUT: readonly [keyof Conditions, string][] = [['branch', 'branch'], ['targetBranch', 'target_branch'], ['event', 'event'], ['actor', 'actor'], ['labels', 'labels']];
const PATHS: readonly [keyof Conditions, string][] = [['paths', 'paths'], ['onlyPaths', 'only_paths']];
/** Named situations take an action or environment only as a rule spells it out: a glob (`prod*`) names none. */
const GLOBBED: readonly [keyof Conditions, string][] = [['action', 'action'], ['environment', 'environment']];

export interface RuleBeyondSituations {
  rule: string;
  change: 'added' | 'removed' | 'changed';
  /** The facts its conditions read (as the policy spells them) that the named situations leave out. */
  reads: string[];
}

/**
 * The rules a change adds, removes or rewrites whose conditions (`if`, `unless`, an escalation's `if`)
 * read facts the named situations leave out: what such a change does, the situations cannot show.
 * `unless: { actor: "*" }` added to a requiring rule changes no decision for a situation without an
 * actor, and a rule for `branch: main` never applies to one; a reviewer must read these rules.
 */
export function rulesBeyondSituations(before: Policy | null, after: Policy): RuleBeyondSituations[] {
  if (!before) return [];
  const old = new Map(before.rules.map((rule) => [rule.name, rule]));
  const now = new Map(after.rules.map((rule) => [rule.name, rule]));
  const found: RuleBeyondSituations[] = [];
  for (const name of new Set([...old.keys(), ...now.keys()])) {
    const [was, is] = [old.get(name), now.get(name)];
    if (was && is && ruleText(was, before) === ruleText(is, after)) continue;
    const parts = [was, is].flatMap((rule) => (rule ? conditionParts(rule) : []));
    const reads = [...GLOBBED, ...LEFT_OUT, ...PATHS]
      .filter(([key]) =>
        parts.some(({ conditions, loosens }) => {
          const patterns = conditions[key];
          if (!Array.isArray(patterns)) return false;
          if (GLOBBED.some(([globbed]) => globbed === key)) return patterns.some(hasWildcard);
          return loosens || !PATHS.some(([path]) => path === key);
        }),
      )
      .map(([, spelt]) => spelt);
    if (reads.length > 0) found.push({ rule: name, change: !was ? 'added' : !is ? 'removed' : 'changed', reads });
  }
  return found;
}

const conditionParts = (rule: Rule): { conditions: Conditions; loosens: boolean }[] => [
  { conditions: rule.if, loosens: autoApproves(rule) },
  ...(rule.unless ? [{ conditions: rule.unless, loosens: true }] : []),
  ...rule.escalate.flatMap((e) => (e.if ? [{ conditions: e.if, loosens: false }] : [])),
];

/**
 * A rule as it decides: where it is written in the file is no part of it, and the defaults are (what a
 * requirement leaves out, who may vote, timeouts).
 */
const ruleText = (rule: Rule, policy: Policy): string =>
  stableJson({ ...rule, location: undefined, escalate: rule.escalate.map((e) => ({ ...e, location: undefined })), defaults: autoApproves(rule) ? undefined : policy.defaults });

/** A Markdown table of the rules the situations cannot judge; empty when there are none. */
export function beyondSituationsTable(rules: readonly RuleBeyondSituations[]): string {
  if (rules.length === 0) return '';
  const rows = rules.map((r) => `| ${tableCell(codeSpan(r.rule))} ${r.change} | ${r.reads.map((fact) => `\`${fact}\``).join(', ')} |`);
  return [
    'Rules changed in ways the situations cannot show, as they read facts the situations leave out: read these yourself.',
    '',
    '| Rule | Reads |',
    '|---|---|',
    ...rows,
  ].join('\n');
}

export interface WindowChange {
  kind: 'freeze' | 'deploy window';
  name: string;
  /** `org`: from the file named by `_extends`. */
  layer: 'org' | 'repository';
  change: 'added' | 'removed' | 'changed';
  /** For the requests in its scope, at the times it covers: stricter, looser, or changed when it depends on when. */
  effect: 'stricter' | 'looser' | 'changed';
  /** The window as the policy defines it; null where it is not there. */
  before: string | null;
  after: string | null;
}

/**
 * The freezes and deploy windows one version has and the other lacks or defines differently, matched
 * by name. A freeze added is stricter, one removed looser. A file's deploy windows combine as "any of
 * them is open": one added beside others is looser, the first one stricter; one removed beside others
 * stricter, the last one looser. A changed window may be either, depending on when. `quote`: how the
 * descriptions quote a window's scope and message (see `Quote`).
 */
export function compareWindows(before: Policy | null, after: Policy, quote: Quote = AS_WRITTEN): WindowChange[] {
  const keyOf = (w: TimeWindow) => `${w.layer} ${w.kind} ${w.name}`;
  const old = new Map((before?.windows ?? []).map((w) => [keyOf(w), w]));
  const now = new Map((after.windows ?? []).map((w) => [keyOf(w), w]));
  const deployWindows = (policy: Policy | null, layer: TimeWindow['layer']) => (policy?.windows ?? []).filter((w) => w.kind === 'deploy_window' && w.layer === layer).length;
  const changes: WindowChange[] = [];
  for (const key of new Set([...old.keys(), ...now.keys()])) {
    const [was, is] = [old.get(key), now.get(key)];
    const window = (is ?? was)!;
    const [textBefore, textAfter] = [was ? describeWindow(was, quote) : null, is ? describeWindow(is, quote) : null];
    if (textBefore === textAfter) continue;
    const change = !was ? 'added' : !is ? 'removed' : 'changed';
    let effect: WindowChange['effect'] = 'changed';
    if (window.kind === 'freeze' && change !== 'changed') effect = change === 'added' ? 'stricter' : 'looser';
    if (window.kind === 'deploy_window' && change === 'added') effect = deployWindows(before, window.layer) === 0 ? 'stricter' : 'looser';
    if (window.kind === 'deploy_window' && change === 'removed') effect = deployWindows(after, window.layer) === 0 ? 'looser' : 'stricter';
    changes.push({ kind: window.kind === 'freeze' ? 'freeze' : 'deploy window', name: window.name, layer: window.layer, change, effect, before: textBefore, after: textAfter });
  }
  return changes;
}

/** Everything that decides what a window does, in one line: two windows that read the same act the same. */
function describeWindow(w: TimeWindow, quote: Quote): string {
  const when = w.schedule.kind === 'cron' ? `from cron ${codeSpan(w.schedule.start)} to cron ${codeSpan(w.schedule.end)}` : `from ${w.schedule.start} to ${w.schedule.end}`;
  const scope = Object.keys(w.if).length > 0 ? `, if ${quote(stableJson(w.if))}` : '';
  const override = w.override ? ` (${w.override.approvals} from ${w.override.approvers.map(approverText).join(', ')})` : '';
  const message = w.message !== undefined ? `, message ${quote(JSON.stringify(w.message))}` : '';
  return `${when} ${w.timeZone}${scope}, mode ${w.mode}${override}${message}`;
}

/** An approver as a policy writes it. */
function approverText(ref: ApproverRef): string {
  if (ref.kind === 'codeowners') return ref.any ? 'codeowners:any' : 'codeowners';
  if (ref.kind === 'team') return `@${ref.org}/${ref.slug}`;
  if (ref.kind === 'user') return ref.login;
  return `role:${ref.role}`;
}

/** JSON with each object's keys sorted, so equal conditions written in another order read the same. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** A Markdown table of the freezes and deploy windows that changed; empty when none did. */
export function windowTable(changes: readonly WindowChange[]): string {
  if (changes.length === 0) return '';
  const rows = [...changes]
    .sort((a, b) => ORDER[a.effect] - ORDER[b.effect])
    .map((c) => `| ${c.effect} | ${c.kind} ${tableCell(codeSpan(c.name))}${c.layer === 'org' ? ' (org)' : ''} ${c.change} | ${tableCell(c.before ?? '—')} | ${tableCell(c.after ?? '—')} |`);
  return ['| Change | Freeze or deploy window | Before | After |', '|---|---|---|---|', ...rows].join('\n');
}

/** Stricter, looser and blocked first: what a reviewer of the change must look at. */
const ORDER: Record<Change, number> = { blocked: 0, looser: 1, stricter: 2, unblocked: 3, changed: 4, same: 5 };

/** A Markdown table of the comparisons, the changed ones first; `same` rows are counted, not listed. */
export function comparisonTable(comparisons: readonly Comparison[]): string {
  const changed = [...comparisons].filter((c) => c.change !== 'same').sort((a, b) => ORDER[a.change] - ORDER[b.change]);
  const same = comparisons.length - changed.length;
  if (changed.length === 0) return `No decision changes in the ${comparisons.length} situations compared.`;
  const rows = changed.map((c) => `| ${c.change} | ${tableCell(codeSpan(c.situation.label))} | ${tableCell(c.before?.text ?? '(no valid policy)')} | ${tableCell(c.after.text)} |`);
  return [
    '| Change | Situation | Before | After |',
    '|---|---|---|---|',
    ...rows,
    '',
    same > 0 ? `${same} other situation${same === 1 ? '' : 's'} decide${same === 1 ? 's' : ''} the same.` : '',
  ].join('\n');
}
