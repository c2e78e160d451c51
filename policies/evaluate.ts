/**
 * Policy + request facts (+ CODEOWNERS) → Decision. Pure: the caller passes every input.
 *
 * Every matching rule's requirement must be met; a requirement wins over another rule's
 * auto-approval. Condition escalations raise a requirement (the larger approval count, the union of
 * approvers); time escalations are handed to the App in `scheduled`. Anything that cannot be judged,
 * or a requirement nobody could meet, blocks the request: it is never approved by default.
 */
import { approverSetFrom, describeApprovers, isTeamOwner, mergeApproverSets, unionIgnoringCase } from './approvers.js';
import type {
  ApproverSet,
  CodeownersSummary,
  Decision,
  EscalationEvaluation,
  OwnerGroup,
  Requirement,
  RuleEvaluation,
  ScheduledEscalation,
} from './decision.js';
import { closest, distance } from 'fastest-levenshtein';
import { formatDuration } from './duration.js';
import { evaluateConditions, PredicateContext, type ConditionResult } from './predicates.js';
import type { ApproverRef, Escalation, Policy, RequestFacts, RequirementSpec, Rule } from './types.js';

/** What the evaluator needs from a parsed CODEOWNERS file. */
export interface OwnersLookup {
  ownersOf(file: string): { owners: readonly string[]; rule: { pattern: string; line: number } | null };
}

export interface EvaluateOptions {
  /** The default branch's CODEOWNERS; absent means there is none. */
  codeowners?: OwnersLookup;
}

/** A requirement before `codeowners` is resolved to names. */
interface PendingRequirement {
  rule: Rule | null;
  approvals: number;
  approvers: ApproverRef[];
  escalatedBy: { location: Escalation['location']; reason: string }[];
  scheduled: Escalation[];
}

export function evaluate(policy: Policy, facts: RequestFacts, options: EvaluateOptions = {}): Decision {
  const ctx = new PredicateContext(facts, policy.severities);
  const problems: string[] = [];
  const notify: string[] = [];
  const pending: PendingRequirement[] = [];
  const rules: RuleEvaluation[] = [];
  const matchedRules: Rule[] = [];
  /** Of the rules that require approval: an auto-approving rule has nothing to wait for. */
  const timeouts: number[] = [];

  for (const rule of policy.rules) {
    const conditions = evaluateConditions(rule.if, ctx);
    reportErrors(`rule \`${rule.name}\``, conditions, problems);
    const matched = conditions.every((c) => c.matched);
    if (!matched) {
      rules.push({ name: rule.name, location: rule.location, matched, conditions, effect: 'none', escalations: [] });
      continue;
    }
    matchedRules.push(rule);
    addAll(notify, rule.notify);
    const { requirement, escalations } = applyRule(rule, policy, ctx, problems, notify);
    if (requirement) {
      pending.push(requirement);
      timeouts.push(rule.timeoutSeconds ?? policy.defaults.timeoutSeconds);
    }
    rules.push({
      name: rule.name,
      location: rule.location,
      matched,
      conditions,
      effect: requirement ? 'require' : 'auto_approve',
      escalations,
    });
  }

  const unknownAction = unknownActionProblem(policy, matchedRules, facts.action);
  if (unknownAction) problems.push(unknownAction);

  if (matchedRules.length === 0 && policy.unmatched === 'require') {
    pending.push({ rule: null, approvals: policy.defaults.approvals, approvers: policy.defaults.approvers, escalatedBy: [], scheduled: [] });
  }

  const needsCodeowners = pending.some(
    (r) => r.approvers.some(isCodeowners) || r.scheduled.some((e) => refsOf(e).some(isCodeowners)),
  );
  const codeowners = needsCodeowners ? summariseCodeowners(ctx.uniqueFiles, options.codeowners) : null;
  const owners = codeowners ? unionIgnoringCase([], codeowners.groups.flatMap((g) => g.owners)) : [];
  const requirements = pending.map((r) => resolveRequirement(r, policy, owners, codeowners, facts.actor));
  for (const r of requirements) {
    if (r.unsatisfiable) problems.push(`${r.rule === null ? 'default requirement' : `rule \`${r.rule}\``}: ${r.unsatisfiable}`);
  }

  const outcome = problems.length > 0 ? 'blocked' : requirements.length > 0 ? 'approval_required' : 'auto_approve';
  const { changedFiles, ...otherFacts } = facts;
  return {
    outcome,
    summary: summarise(outcome, rules, requirements, problems, policy.unmatched),
    problems,
    facts: { ...otherFacts, changedFileCount: changedFiles.length },
    rules,
    requirements,
    codeowners,
    timeoutSeconds: timeouts.length > 0 ? Math.min(...timeouts) : policy.defaults.timeoutSeconds,
    // Only a request that waits for people has anyone to remind.
    reminderSeconds: outcome === 'approval_required' ? (policy.defaults.reminderSeconds ?? null) : null,
    notify,
    eligibility: { minPermission: policy.defaults.minPermission, allowBots: policy.defaults.allowBots },
  };
}

function applyRule(
  rule: Rule,
  policy: Policy,
  ctx: PredicateContext,
  problems: string[],
  notify: string[],
): { requirement: PendingRequirement | null; escalations: EscalationEvaluation[] } {
  let requirement: PendingRequirement | null =
    rule.require || !rule.autoApprove ? { rule, ...withDefaults(rule.require, policy), escalatedBy: [], scheduled: [] } : null;
  const escalations: EscalationEvaluation[] = [];
  const timed: Escalation[] = [];

  for (const escalation of rule.escalate) {
    const conditions = escalation.if ? evaluateConditions(escalation.if, ctx) : [];
    reportErrors(`rule \`${rule.name}\` escalation at line ${escalation.location.line}`, conditions, problems);
    const holds = conditions.every((c) => c.matched);
    const kind = escalation.afterSeconds === undefined ? 'condition' : 'time';
    const because = conditions.map((c) => c.reason).join('; ');
    if (!holds) {
      escalations.push({ location: escalation.location, kind, applied: false, conditions, reason: `not applied: ${because}` });
    } else if (kind === 'time') {
      timed.push(escalation);
      escalations.push({ location: escalation.location, kind, applied: true, conditions, reason: `scheduled after ${formatDuration(escalation.afterSeconds ?? 0)}${because ? `: ${because}` : ''}` });
    } else {
      addAll(notify, escalation.notify);
      const raises = escalation.require || (escalation.approvers && escalation.approvers.length > 0);
      if (raises) {
        requirement = requirement ? raise(requirement, escalation) : fromEscalation(rule, escalation, policy);
        requirement.escalatedBy.push({ location: escalation.location, reason: because || 'unconditional' });
      }
      escalations.push({ location: escalation.location, kind, applied: true, conditions, reason: `applied: ${because || 'unconditional'}` });
    }
  }

  if (requirement) {
    requirement.scheduled = timed;
  } else {
    for (const e of escalations) {
      if (e.kind === 'time' && e.applied) {
        e.applied = false;
        e.reason = 'not scheduled: the rule auto-approves, so nothing is pending';
      }
    }
  }
  return { requirement, escalations };
}

function withDefaults(spec: RequirementSpec | undefined, policy: Policy): { approvals: number; approvers: ApproverRef[] } {
  return { approvals: spec?.approvals ?? policy.defaults.approvals, approvers: spec?.approvers ?? policy.defaults.approvers };
}

function raise(base: PendingRequirement, escalation: Escalation): PendingRequirement {
  return {
    ...base,
    approvals: Math.max(base.approvals, escalation.require?.approvals ?? 0),
    approvers: [...base.approvers, ...refsOf(escalation)],
    escalatedBy: [...base.escalatedBy],
  };
}

/** An escalation on an auto-approving rule: its approvers alone, else the defaults'. */
function fromEscalation(rule: Rule, escalation: Escalation, policy: Policy): PendingRequirement {
  const approvers = refsOf(escalation);
  return {
    rule,
    approvals: escalation.require?.approvals ?? policy.defaults.approvals,
    approvers: approvers.length > 0 ? approvers : policy.defaults.approvers,
    escalatedBy: [],
    scheduled: [],
  };
}

function refsOf(escalation: Escalation): ApproverRef[] {
  return [...(escalation.require?.approvers ?? []), ...(escalation.approvers ?? [])];
}

const isCodeowners = (ref: ApproverRef): boolean => ref.kind === 'codeowners';

function resolveRequirement(
  pending: PendingRequirement,
  policy: Policy,
  owners: readonly string[],
  codeowners: CodeownersSummary | null,
  requester: string | undefined,
): Requirement {
  const approvers = approverSetFrom(pending.approvers, owners);
  const scheduled: ScheduledEscalation[] = pending.scheduled.map((e) => ({
    location: e.location,
    afterSeconds: e.afterSeconds ?? 0,
    notify: e.notify,
    ...(e.require?.approvals !== undefined ? { approvals: e.require.approvals } : {}),
    approvers: approverSetFrom(refsOf(e), owners),
  }));
  // A zero count would approve with no votes; auto_approve is how a policy says "no approval".
  const approvals = Math.max(1, pending.approvals);
  const allowSelfApproval = pending.rule?.allowSelfApproval ?? policy.defaults.allowSelfApproval;
  const everyone = scheduled.reduce((set, e) => mergeApproverSets(set, e.approvers), approvers);
  return {
    rule: pending.rule?.name ?? null,
    location: pending.rule?.location ?? null,
    approvals,
    approvers,
    allowSelfApproval,
    escalatedBy: pending.escalatedBy,
    scheduled,
    unsatisfiable: unsatisfiableReason(everyone, approvals, allowSelfApproval, requester, codeowners),
  };
}

/**
 * Only what is certain before expansion: a team or a role may hold anyone, but a list of named
 * people (users and personal code owners) holds exactly those people.
 */
function unsatisfiableReason(
  set: ApproverSet,
  approvals: number,
  allowSelfApproval: boolean,
  requester: string | undefined,
  codeowners: CodeownersSummary | null,
): string | null {
  if (set.teams.length > 0 || set.roles.length > 0 || set.owners.some(isTeamOwner)) return null;
  const people = [...set.owners.map((o) => o.replace(/^@/, '')), ...set.users];
  const distinct = new Set(people.map((p) => p.toLowerCase()));
  const self = requester?.toLowerCase();
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

/** `unique`: the changed files without repeats, in first-seen order. */
function summariseCodeowners(unique: readonly string[], lookup: OwnersLookup | undefined): CodeownersSummary {
  if (!lookup) return { available: false, groups: [], unowned: [...unique] };
  const groupsByOwners = new Map<string, OwnerGroup>();
  // Many files share a CODEOWNERS line, so each line's group is found once.
  const groupsByLine = new Map<number, OwnerGroup>();
  const unowned: string[] = [];
  for (const file of unique) {
    const { owners, rule } = lookup.ownersOf(file);
    if (owners.length === 0 || !rule) {
      unowned.push(file);
      continue;
    }
    let group = groupsByLine.get(rule.line);
    if (!group) {
      const key = owners.join(' ');
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

function reportErrors(where: string, conditions: readonly ConditionResult[], problems: string[]): void {
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
): string {
  const matched = rules.filter((r) => r.matched).map((r) => `\`${r.name}\``);
  if (outcome === 'blocked') return `Blocked: ${problems[0]}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''}`;
  if (outcome === 'auto_approve') {
    return matched.length === 0
      ? `No approval needed: no rule matched and the policy says \`unmatched: ${unmatched}\``
      : `No approval needed: ${matched.join(', ')} auto-approve${matched.length === 1 ? 's' : ''}`;
  }
  const needs = requirements.map(
    (r) => `${r.approvals} approval${r.approvals === 1 ? '' : 's'} from ${describeApprovers(r.approvers)}${r.rule === null ? ' (defaults: no rule matched)' : ` (rule \`${r.rule}\`)`}`,
  );
  return `Approval required: ${needs.join('; ')}`;
}

/**
 * An action that no rule matched and that is a near miss of one the policy names (`deploi` for
 * `deploy`) is a typo in the step: refuse it rather than let `unmatched: approve` wave it through.
 * Actions far from every named one are ordinary unmatched requests.
 */
function unknownActionProblem(policy: Policy, matchedRules: readonly Rule[], action: string): string | undefined {
  if (matchedRules.length > 0 || policy.unmatched !== 'approve') return undefined;
  const named = [...new Set(policy.rules.flatMap((rule) => rule.if.action ?? []))];
  if (named.length === 0 || named.includes(action)) return undefined;
  const nearest = closest(action, named);
  if (distance(action, nearest) > MAX_ACTION_TYPO_DISTANCE) return undefined;
  return `unknown action \`${action}\`: no rule matched it and it looks like a typo of \`${nearest}\`, which the policy names; fix the step's \`action\` input or add a rule for it`;
}

const MAX_ACTION_TYPO_DISTANCE = 2;
