/**
 * Policy + request facts (+ CODEOWNERS) → Decision. Pure: the caller passes every input.
 *
 * Every matching rule's requirement must be met; a requirement wins over another rule's
 * auto-approval. A condition escalation that holds adds a requirement of its own, which must be met
 * as well (critical needs security *and* the code owner); time escalations are handed to the App in
 * `scheduled` of the rule's own requirement, and only ever widen who may approve for that one.
 * Anything that cannot be judged, or a requirement nobody could meet, blocks the request: it is
 * never approved by default.
 */
import { approverSetFrom, describeApprovers, describeOwnerGroup, isTeamOwner, mergeApproverSets, NO_OWNERS, defaultsReason, requirementName, unionIgnoringCase, type ChangedFileOwners } from './approvers.js';
import type {
  ApproverSet,
  CodeownersSummary,
  Decision,
  EscalationEvaluation,
  OwnerGroup,
  Requirement,
  RuleEvaluation,
  ScheduledEscalation,
  WindowOverride,
  WindowsDecision,
} from './decision.js';
import { closest, distance } from 'fastest-levenshtein';
import { formatDuration } from './duration.js';
import { codeSpan } from './markdown.js';
import { autoApproves } from './normalise.js';
import { evaluateConditions, PredicateContext, type ConditionPurpose, type ConditionResult } from './predicates.js';
import type { ApproverRef, Escalation, Policy, RequestFacts, Rule, SourceLocation } from './types.js';
import { judgeWindows, untilText, windowNoun } from './window-judgement.js';

/** What the evaluator needs from a parsed CODEOWNERS file. */
export interface OwnersLookup {
  ownersOf(file: string): { owners: readonly string[]; rule: { pattern: string; line: number } | null };
  /** The owners of the last catch-all rule (`*`, `/*`… that owns every file), if any: who owns "everything". */
  catchAllOwners?(): { owners: readonly string[]; rule: { pattern: string; line: number } } | null;
}

export interface EvaluateOptions {
  /** The default branch's CODEOWNERS; absent means there is none. */
  codeowners?: OwnersLookup;
  /**
   * The instant to judge freezes and deploy windows at (milliseconds since the epoch, or a Date). A
   * policy with windows and no instant is blocked: time is never read here.
   */
  now?: number | Date;
}

/** A requirement before `codeowners` is resolved to names. */
interface PendingRequirement {
  rule: Rule | null;
  escalation: { location: SourceLocation; reason: string } | null;
  approvals: number;
  approvers: ApproverRef[];
  allowSelfApproval: boolean;
  scheduled: Escalation[];
  override?: WindowOverride;
  org?: true;
  worstCase?: true;
}

export function evaluate(policy: Policy, facts: RequestFacts, options: EvaluateOptions = {}): Decision {
  const problems: string[] = [];
  const severityInForce = severityOf(policy, facts, problems);
  // An unknown severity is reported once, above, not again by every rule that reads it.
  const reportErrors = (where: string, conditions: readonly ConditionResult[]) =>
    reportConditionErrors(where, severityInForce.unknown ? conditions.filter((c) => c.key !== 'severity') : conditions, problems);
  const ctx = new PredicateContext({ ...facts, severity: severityInForce.severity }, policy.severities);
  const notify: string[] = [];
  const pending: PendingRequirement[] = [];
  const rules: RuleEvaluation[] = [];
  const matchedRules: Rule[] = [];
  /** Matched on facts alone: a rule matched only on the worst case may not be the one a known request would match. */
  const certainlyMatched: Rule[] = [];
  /** Of what requires approval (matching rules that do, defaults that apply): an auto-approving rule has nothing to wait for. */
  const timeouts: number[] = [];

  for (const rule of policy.rules) {
    const purpose: ConditionPurpose = autoApproves(rule) ? 'loosen' : 'tighten';
    const conditions = evaluateConditions(rule.if, ctx, purpose);
    // `unless` holding takes the rule away: the opposite of what the rule itself does to the gate.
    const unless = rule.unless ? evaluateConditions(rule.unless, ctx, purpose === 'tighten' ? 'loosen' : 'tighten') : undefined;
    reportErrors(`rule \`${rule.name}\``, [...conditions, ...(unless ?? [])]);
    const excepted = unless !== undefined && unless.length > 0 && unless.every((c) => c.matched);
    const matched = conditions.every((c) => c.matched) && !excepted;
    if (!matched) {
      rules.push({ name: rule.name, location: rule.location, matched, conditions, ...(unless ? { unless } : {}), effect: 'none', escalations: [] });
      continue;
    }
    matchedRules.push(rule);
    const unlessSurelyFails = !unless || unless.length === 0 || unless.some((c) => !c.matched && !c.assumed);
    if (!conditions.some((c) => c.assumed) && unlessSurelyFails) certainlyMatched.push(rule);
    addAll(notify, rule.notify);
    const { requirements, escalations } = applyRule(rule, policy, ctx, reportErrors, notify);
    const timeoutSeconds = rule.timeoutSeconds ?? policy.defaults.timeoutSeconds;
    if (requirements.length > 0) {
      pending.push(...requirements);
      timeouts.push(timeoutSeconds);
    }
    rules.push({
      name: rule.name,
      location: rule.location,
      matched,
      conditions,
      ...(unless ? { unless } : {}),
      effect: requirements.length > 0 ? 'require' : 'auto_approve',
      ...(requirements.length > 0 ? { timeoutSeconds } : {}),
      escalations,
    });
  }

  problems.push(...nearMissProblems(policy, matchedRules, facts));

  // What no rule matches for certain is unmatched: a rule matched only on the worst case (an unknown
  // change set, a run someone else re-ran) stands beside the defaults, never in for them.
  const fallback = { approvals: policy.defaults.approvals, approvers: policy.defaults.approvers, allowSelfApproval: policy.defaults.allowSelfApproval };
  const fellBack = certainlyMatched.length === 0 && policy.unmatched === 'require';
  const worstCase = matchedRules.length > certainlyMatched.length ? { worstCase: true as const } : {};
  if (fellBack) {
    pending.push({ rule: null, escalation: null, ...fallback, scheduled: [], ...worstCase });
    timeouts.push(policy.defaults.timeoutSeconds);
  }
  // The org's `unmatched: require` covers what no org rule matched, whatever the repository's rules did.
  const org = policy.orgUnmatched;
  if (org && !certainlyMatched.some((rule) => rule.fromOrg) && !(fellBack && sameRequirement(org, fallback))) {
    const { timeoutSeconds, ...terms } = org;
    pending.push({ rule: null, escalation: null, ...terms, scheduled: [], org: true, ...(matchedRules.some((rule) => rule.fromOrg) ? { worstCase: true as const } : {}) });
    timeouts.push(timeoutSeconds);
  }

  const windows = judgeWindowsIn(policy, ctx, options.now, reportErrors, problems);
  if (windows && !windows.decision.open && windows.decision.mode === 'require') {
    // An override is an additional requirement per window that holds the request; nobody approves their own override.
    for (const window of windows.closing) {
      pending.push({
        rule: null,
        escalation: null,
        approvals: window.override?.approvals ?? 1,
        approvers: window.override?.approvers ?? [],
        allowSelfApproval: false,
        scheduled: [],
        override: { window: window.name, kind: window.kind, location: window.location, message: window.message ?? null },
      });
    }
  }

  const needsCodeowners = pending.some((r) => r.approvers.some(isCodeowners) || r.scheduled.some((e) => (e.alsoEligible ?? []).some(isCodeowners)));
  const codeowners = needsCodeowners ? summariseCodeowners(ctx, options.codeowners) : null;
  const owned = codeowners ? changedFileOwners(codeowners) : NO_OWNERS;
  const requirements = pending.map((r) => resolveRequirement(r, owned, codeowners, facts.actor));
  for (const r of requirements) {
    if (r.unsatisfiable) problems.push(`${requirementName(r)}: ${r.unsatisfiable}`);
  }

  const closed = windows && !windows.decision.open ? windows.decision : null;
  const outcome: Decision['outcome'] =
    problems.length > 0 ? 'blocked' : closed?.mode === 'reject' ? 'rejected' : closed?.mode === 'wait' ? 'held' : requirements.length > 0 ? 'approval_required' : 'auto_approve';
  const { changedFiles: _listed, ...otherFacts } = facts;
  return {
    outcome,
    summary: summarise(outcome, rules, requirements, problems, policy.unmatched, windows?.decision ?? null),
    problems,
    facts: {
      ...otherFacts,
      ...(severityInForce.severity !== undefined ? { severity: severityInForce.severity } : {}),
      ...(severityInForce.assumed ? { severityAssumed: true } : {}),
      changedFileCount: ctx.changedFileCount,
    },
    rules,
    requirements,
    codeowners,
    timeoutSeconds: timeouts.length > 0 ? Math.min(...timeouts) : policy.defaults.timeoutSeconds,
    // Only a request that waits for people has anyone to remind.
    reminderSeconds: outcome === 'approval_required' ? (policy.defaults.reminderSeconds ?? null) : null,
    notify,
    eligibility: { minPermission: policy.defaults.minPermission, allowBots: policy.defaults.allowBots },
    windows: windows?.decision ?? null,
  };
}

function judgeWindowsIn(
  policy: Policy,
  ctx: PredicateContext,
  now: EvaluateOptions['now'],
  reportErrors: (where: string, conditions: readonly ConditionResult[]) => void,
  problems: string[],
): ReturnType<typeof judgeWindows> | null {
  if (!policy.windows || policy.windows.length === 0) return null;
  const instant = now instanceof Date ? now.getTime() : now;
  if (instant === undefined || !Number.isFinite(instant)) {
    problems.push('the policy has freezes or deploy windows, but no time was given to judge them at');
    return null;
  }
  return judgeWindows(policy.windows, ctx, instant, reportErrors, problems);
}
/**
 * A request that states no severity has `defaults.severity`; without one it has none, and every
 * severity condition is judged as the worst case (see matchSeverity): leaving the input out must never
 * dodge a severity rule. A severity the policy does not list blocks the request, whether or not a rule
 * reads it, since it is most likely a typo.
 */
function severityOf(policy: Policy, facts: RequestFacts, problems: string[]): { severity: string | undefined; assumed: boolean; unknown: boolean } {
  if (facts.severity !== undefined && facts.severity !== '') {
    const unknown = !policy.severities.includes(facts.severity);
    if (unknown) problems.push(`severity \`${facts.severity}\` is not one of the policy's severities (${policy.severities.join(' < ')})`);
    return { severity: facts.severity, assumed: false, unknown };
  }
  return { severity: policy.defaults.severity, assumed: true, unknown: false };
}


function applyRule(
  rule: Rule,
  policy: Policy,
  ctx: PredicateContext,
  reportErrors: (where: string, conditions: readonly ConditionResult[]) => void,
  notify: string[],
): { requirements: PendingRequirement[]; escalations: EscalationEvaluation[] } {
  const own = autoApproves(rule)
    ? null
    : {
        approvals: rule.require?.approvals ?? policy.defaults.approvals,
        approvers: rule.require?.approvers ?? policy.defaults.approvers,
      };
  const allowSelfApproval = rule.allowSelfApproval ?? policy.defaults.allowSelfApproval;
  const added: PendingRequirement[] = [];
  const escalations: EscalationEvaluation[] = [];
  const timed: Escalation[] = [];

  for (const escalation of rule.escalate) {
    const kind = escalation.afterSeconds === undefined ? 'condition' : 'time';
    // A time escalation lets more people approve (it loosens); a condition escalation adds a requirement.
    const purpose: ConditionPurpose = kind === 'time' ? 'loosen' : 'tighten';
    const conditions = escalation.if ? evaluateConditions(escalation.if, ctx, purpose) : [];
    reportErrors(`rule \`${rule.name}\` escalation at line ${escalation.location.line}`, conditions);
    const holds = conditions.every((c) => c.matched);
    const because = conditions.map((c) => c.reason).join('; ');
    if (!holds) {
      escalations.push({ location: escalation.location, kind, applied: false, conditions, reason: `not applied: ${because}` });
    } else if (kind === 'time') {
      timed.push(escalation);
      escalations.push({ location: escalation.location, kind, applied: true, conditions, reason: `scheduled after ${formatDuration(escalation.afterSeconds ?? 0)}${because ? `: ${because}` : ''}` });
    } else {
      addAll(notify, escalation.notify);
      const reason = because || 'unconditional';
      if (escalation.require) {
        // What the escalation leaves out is the rule's own (the defaults', on an auto-approving rule).
        const base = own ?? { approvals: policy.defaults.approvals, approvers: policy.defaults.approvers };
        added.push({
          rule,
          escalation: { location: escalation.location, reason },
          approvals: escalation.require.approvals ?? base.approvals,
          approvers: escalation.require.approvers ?? base.approvers,
          // Someone else's scrutiny unless the escalation itself says otherwise, whatever the rule allows.
          allowSelfApproval: escalation.allowSelfApproval ?? false,
          scheduled: [],
        });
      }
      escalations.push({ location: escalation.location, kind, applied: true, conditions, reason: `applied: ${reason}` });
    }
  }

  const requirements: PendingRequirement[] = [];
  if (own) requirements.push({ rule, escalation: null, ...own, allowSelfApproval, scheduled: [] });
  requirements.push(...added);
  const timedEvaluations = escalations.filter((e) => e.kind === 'time' && e.applied);
  if (requirements.length === 0) {
    for (const e of timedEvaluations) {
      e.applied = false;
      e.reason = 'not scheduled: the rule auto-approves, so nothing is pending';
    }
  } else if (own) {
    // Only the rule's own requirement widens: what a condition escalation added (security for a
    // critical change) is met by the people it names however long the request waits. One
    // requirement carries the timers, so each fires once.
    requirements[0].scheduled = timed;
  } else {
    // An auto-approving rule has no requirement of its own to widen: its timers can only notify.
    requirements[0].scheduled = timed.filter((e) => e.notify.length > 0).map(({ alsoEligible: _widensNothing, ...e }) => e);
    for (const [i, e] of timedEvaluations.entries()) {
      const why = 'also_eligible widens only the rule\'s own requirement, and this rule auto-approves, so it has none';
      if (timed[i].notify.length === 0) {
        e.applied = false;
        e.reason = `not scheduled: ${why}`;
      } else if (timed[i].alsoEligible !== undefined) {
        e.reason = `${e.reason} (to notify only: ${why})`;
      }
    }
  }
  return { requirements, escalations };
}

const isCodeowners = (ref: ApproverRef): boolean => ref.kind === 'codeowners';

/** Frozen: every requirement's `approvers.ownerGroups` is this one array (see approverSetFrom). */
function changedFileOwners(summary: CodeownersSummary): ChangedFileOwners {
  return {
    owners: unionIgnoringCase([], summary.groups.flatMap((g) => g.owners)),
    groups: Object.freeze(
      summary.groups.map((g) =>
        Object.freeze({
          owners: Object.freeze([...g.owners]) as string[],
          patterns: Object.freeze(g.rules.map((r) => r.pattern)) as string[],
          fileCount: summary.unknownChanges !== undefined ? 0 : g.files.length,
        }),
      ),
    ),
  };
}

function resolveRequirement(
  pending: PendingRequirement,
  owned: ChangedFileOwners,
  codeowners: CodeownersSummary | null,
  requester: string | undefined,
): Requirement {
  const approvers = approverSetFrom(pending.approvers, owned);
  const scheduled: ScheduledEscalation[] = pending.scheduled.map((e) => ({
    location: e.location,
    afterSeconds: e.afterSeconds ?? 0,
    notify: e.notify,
    approvers: approverSetFrom(e.alsoEligible ?? [], owned),
  }));
  // A zero count would approve with no votes; auto_approve is how a policy says "no approval".
  const approvals = Math.max(1, pending.approvals);
  const everyone = scheduled.reduce((set, e) => mergeApproverSets(set, e.approvers), approvers);
  return {
    rule: pending.rule?.name ?? null,
    location: pending.rule?.location ?? null,
    escalation: pending.escalation,
    approvals,
    approvers,
    allowSelfApproval: pending.allowSelfApproval,
    scheduled,
    unsatisfiable: unsatisfiableReason(everyone, approvals, pending.allowSelfApproval, requester, codeowners),
    ...(pending.override ? { override: pending.override } : {}),
    ...(pending.org ? { org: true as const } : {}),
    ...(pending.worstCase ? { worstCase: true as const } : {}),
  };
}

/**
 * Only what is certain before expansion: a team or a role may hold anyone, but a list of named
 * people (users and personal code owners) holds exactly those people. An owner group that must be
 * covered needs at least one owner who may approve.
 */
function unsatisfiableReason(
  set: ApproverSet,
  approvals: number,
  allowSelfApproval: boolean,
  requester: string | undefined,
  codeowners: CodeownersSummary | null,
): string | null {
  const self = requester?.toLowerCase();
  const mayApprove = (person: string) => allowSelfApproval || self === undefined || person.toLowerCase() !== self;
  // An e-mail owner cannot be matched to the GitHub account that votes, so it covers nothing.
  const ownerMayApprove = (owner: string) => isTeamOwner(owner) || (owner.startsWith('@') && mayApprove(owner.slice(1)));
  if (set.codeowners && set.owners.length === 0 && codeowners?.available && (codeowners.unknownChanges !== undefined || codeowners.nothingChanged)) {
    const why = codeowners.nothingChanged ? 'the request changes no file' : `the changed files are unknown (${codeowners.unknownChanges})`;
    return `it lists \`codeowners\`, but ${why} and CODEOWNERS has no catch-all rule (\`*\`) to say who owns everything`;
  }
  const uncovered = set.ownerGroups.find((group) => !group.owners.some(ownerMayApprove));
  if (uncovered) {
    return `the files owned by ${describeOwnerGroup(uncovered)} need an approval from one of their owners, and none of them can give it (an e-mail owner cannot be matched to a GitHub account, and the requester @${requester ?? '?'} may not approve their own request)`;
  }
  if (set.teams.length > 0 || set.roles.length > 0 || set.owners.some(isTeamOwner)) return null;
  const people = [...set.owners.map((o) => o.replace(/^@/, '')), ...set.users];
  const distinct = new Set(people.map((p) => p.toLowerCase()));
  const excludesRequester = !allowSelfApproval && self !== undefined && distinct.delete(self);
  if (distinct.size >= approvals) return null;

  const why: string[] = [];
  if (set.codeowners && set.owners.length === 0) {
    why.push(
      !codeowners?.available
        ? 'it lists `codeowners` but there is no CODEOWNERS file'
        : 'it lists `codeowners` but no changed file has a code owner',
    );
  }
  if (excludesRequester) why.push(`the requester @${requester} may not approve their own request`);
  const listed = describeApprovers(set);
  return `needs ${approvals} approval${approvals === 1 ? '' : 's'} but only ${distinct.size} eligible ${distinct.size === 1 ? 'person is' : 'people are'} listed (${listed})${why.length > 0 ? `: ${why.join('; ')}` : ''}`;
}

/**
 * Changed files grouped by their owners. With an unknown change set nobody can say which files
 * change, and with an empty one (a redeploy of what was approved) no file does: then the owners of
 * the catch-all rule stand for the deploy.
 */
function summariseCodeowners(ctx: PredicateContext, lookup: OwnersLookup | undefined): CodeownersSummary {
  const unknown = ctx.facts.unknownChanges;
  const standIn = unknown !== undefined ? { unknownChanges: unknown } : ctx.changedFileCount === 0 ? { nothingChanged: true as const } : undefined;
  if (!lookup) return { available: false, groups: [], unowned: [...ctx.uniqueFiles], ...standIn };
  if (standIn) {
    const catchAll = lookup.catchAllOwners?.() ?? null;
    const groups = catchAll && catchAll.owners.length > 0 ? [{ owners: [...catchAll.owners], rules: [{ ...catchAll.rule }], files: [] }] : [];
    return { available: true, groups, unowned: [], ...standIn };
  }
  const groupsByOwners = new Map<string, OwnerGroup>();
  // Many files share a CODEOWNERS line, so each line's group is found once.
  const groupsByLine = new Map<number, OwnerGroup>();
  const unowned: string[] = [];
  for (const file of ctx.uniqueFiles) {
    const { owners, rule } = lookup.ownersOf(file);
    if (owners.length === 0 || !rule) {
      unowned.push(file);
      continue;
    }
    let group = groupsByLine.get(rule.line);
    if (!group) {
      const key = owners.map((o) => o.toLowerCase()).sort().join(' ');
      group = groupsByOwners.get(key);
      if (!group) {
        group = { owners: [...owners], rules: [], files: [] };
        groupsByOwners.set(key, group);
      }
      group.rules.push({ pattern: rule.pattern, line: rule.line });
      groupsByLine.set(rule.line, group);
    }
    group.files.push(file);
  }
  return { available: true, groups: [...groupsByOwners.values()], unowned };
}

function reportConditionErrors(where: string, conditions: readonly ConditionResult[], problems: string[]): void {
  for (const c of conditions) if (c.error) problems.push(`${where}: ${c.reason}`);
}

function addAll(target: string[], items: readonly string[]): void {
  for (const item of items) if (!target.includes(item)) target.push(item);
}

function summarise(
  outcome: Decision['outcome'],
  rules: readonly RuleEvaluation[],
  requirements: readonly Requirement[],
  problems: readonly string[],
  unmatched: Policy['unmatched'],
  windows: WindowsDecision | null,
): string {
  const matched = rules.filter((r) => r.matched).map((r) => codeSpan(r.name));
  if (outcome === 'blocked') return `Blocked: ${problems[0]}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''}`;
  if ((outcome === 'held' || outcome === 'rejected') && windows) {
    const holding = windows.windows.filter((w) => windows.closedBy.includes(w.name));
    const names = holding.map((w) => windowNoun(w)).join(', ');
    const said = windows.messages.join(' ');
    if (outcome === 'rejected') return `Rejected: ${names} ${holding.length === 1 ? 'holds' : 'hold'} this request ${untilText(windows)}: ${said}`;
    const then = requirements.length > 0 ? `then ${summarise('approval_required', rules, requirements, problems, unmatched, null).replace(/^Approval required/, 'approval required')}` : 'then no approval needed';
    const overrides = (windows.overridesThen ?? []).map((name) => windowNoun(windows.windows.find((w) => w.name === name) ?? { kind: 'freeze', name }));
    const override = overrides.length > 0 ? `, and an override of ${overrides.join(' and ')}, each with a reason` : '';
    return `Held ${untilText(windows)} by ${names}: ${said} (${then}${override})`;
  }
  if (outcome === 'auto_approve') {
    return matched.length === 0
      ? `No approval needed: no rule matched and the policy says \`unmatched: ${unmatched}\``
      : `No approval needed: ${matched.join(', ')} auto-approve${matched.length === 1 ? 's' : ''}`;
  }
  const needs = requirements.map(
    (r) => `${r.approvals} approval${r.approvals === 1 ? '' : 's'} from ${describeApprovers(r.approvers)}${r.rule === null && !r.override ? ` (${defaultsReason(r)})` : ` (${requirementName(r)})`}${r.override ? ', each with a reason' : ''}`,
  );
  return `Approval required: ${needs.join('; and ')}`;
}

/**
 * An action or environment that no rule matched and that is a near miss of one the policy names
 * (`deploi` for `deploy`, `prodution` for `production`) is a typo in the workflow: refuse it rather
 * than let `unmatched: approve` wave it through. Names far from every named one are ordinary
 * unmatched requests, and so is a name the policy names itself (its other conditions failed).
 */
function nearMissProblems(policy: Policy, matchedRules: readonly Rule[], facts: RequestFacts): string[] {
  if (matchedRules.length > 0 || policy.unmatched !== 'approve') return [];
  const named = (key: 'action' | 'environment') => [...new Set(policy.rules.flatMap((rule) => rule.if[key] ?? []))];
  const problems: string[] = [];
  const action = nearMiss(facts.action.toLowerCase(), named('action').map((name) => name.toLowerCase()), false);
  if (action) problems.push(`unknown action \`${facts.action}\`: no rule matched it and it looks like a typo of \`${action}\`, which the policy names; fix the step's \`action\` input or add a rule for it`);
  // Environments compare ignoring case, as GitHub names them; a pattern (`preview-*`) is no name to misspell.
  const environment = facts.environment === undefined ? undefined : nearMiss(facts.environment.toLowerCase(), named('environment').filter((name) => !/[*?[\]{}]/.test(name)).map((name) => name.toLowerCase()), true);
  if (environment) problems.push(`unknown environment \`${facts.environment}\`: no rule matched it and it looks like a typo of \`${environment}\`, which the policy names; fix the job's \`environment\` (or the step's \`environment\` input) or add a rule for it`);
  return problems;
}

/** The named value `value` is a typo of, if any: at most two edits away, and fewer for short names (`qa` is no typo of `uat`). */
function nearMiss(value: string, named: readonly string[], scaled: boolean): string | undefined {
  if (named.length === 0 || named.includes(value)) return undefined;
  const nearest = closest(value, named as string[]);
  const allowed = scaled ? Math.min(MAX_TYPO_DISTANCE, Math.floor(nearest.length / 3)) : MAX_TYPO_DISTANCE;
  return distance(value, nearest) <= allowed ? nearest : undefined;
}

const MAX_TYPO_DISTANCE = 2;

type RequirementTerms = Pick<PendingRequirement, 'approvals' | 'approvers' | 'allowSelfApproval'>;

/** Two requirements that ask the same people the same: one of them says it all. */
function sameRequirement(a: RequirementTerms, b: RequirementTerms): boolean {
  return a.approvals === b.approvals && a.allowSelfApproval === b.allowSelfApproval && JSON.stringify(a.approvers) === JSON.stringify(b.approvers);
}
