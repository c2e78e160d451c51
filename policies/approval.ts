/**
 * Approval arithmetic for the App: who may vote on a decision, and whether the votes so far approve,
 * reject, or leave it pending. Pure: the App expands teams and permissions into `Voter` facts first,
 * and passes in how long the request has been pending (for time escalations).
 */
import { describeApprovers, describeOwnerGroup, isTeamOwner, mergeApproverSets, requirementName } from './approvers.js';
import type { Decision, OwnerGroupRequirement, Requirement } from './decision.js';
import type { PermissionLevel } from './types.js';

/** A person (or bot) who voted, as the App found them at vote time. */
export interface Voter {
  login: string;
  /** GitHub's account id: logins can be renamed and then reused by someone else, ids cannot. */
  id?: string;
  isBot: boolean;
  /** Their permission on the repository; `none` when they have no access. */
  permission: PermissionLevel | 'none';
  /** Teams they belong to, as `org/slug`. */
  teams: readonly string[];
}

/**
 * Someone the request is for: who started the run, and for a run tied to a pull request its author.
 * Nobody approves their own request unless the policy allows self-approval.
 */
export interface Requester {
  login: string;
  /** Compared first when both sides have one: a renamed account is still the same person. */
  id?: string;
  /** How they relate to the request, for the reason a vote is refused. */
  role: 'started the run' | 're-ran the run' | 'opened the pull request' | 'opened a pull request the run ships';
}

export interface ApprovalOptions {
  requesters: readonly Requester[];
  /** How long the request has been pending: time escalations at or below it apply. */
  elapsedSeconds?: number;
}

export type ApprovalSubject = Pick<Decision, 'outcome' | 'requirements' | 'eligibility'>;

/**
 * An approval that would count towards an override of a closed window needs a reason: the override
 * is on record with why it was made. Returns why the vote cannot count as cast, or null.
 */
export function overrideWithoutReason(decision: ApprovalSubject, eligibility: Eligibility, verdict: Verdict, note: string): string | null {
  if (verdict !== 'approve' || note.trim() !== '') return null;
  const overrides = eligibility.requirements.map((i) => decision.requirements[i]?.override).filter((o) => o !== undefined);
  if (overrides.length === 0) return null;
  const names = overrides.map((o) => `${o.kind === 'freeze' ? 'freeze' : 'deploy window'} \`${o.window}\``).join(' and ');
  return `this approval would override ${names}, and an override needs a reason: comment \`/approve <reason>\` (the button cannot give one)`;
}

export interface Eligibility {
  eligible: boolean;
  reason: string;
  /** Indices into the decision's requirements this voter counts towards. */
  requirements: number[];
}

export type Verdict = 'approve' | 'reject';

export interface Vote {
  voter: Voter;
  verdict: Verdict;
  /**
   * The closed windows this approval overrode, with a reason, as it was cast. An approval counts
   * towards a window's override only when it was cast as one: an approval given before a freeze
   * started (or without its reason) is the rules' only.
   */
  overrides?: readonly string[];
}

/** An owner group of a requirement and who covered it, if anyone has. */
export interface GroupTally {
  owners: string[];
  patterns: string[];
  coveredBy: string | null;
}

export interface RequirementTally {
  rule: string | null;
  /** Set when the requirement was added by a condition escalation. */
  escalation: Requirement['escalation'];
  /** Set when a closed window asks for this requirement: an override, given with a reason. */
  override?: Requirement['override'];
  approvals: number;
  /** Eligible distinct approvers, in the order they voted. */
  approvedBy: string[];
  /** With `codeowners`: each owned group of changed files and who covered it. */
  groups: GroupTally[];
  /** How many more approvals this requirement needs (at least one while a group is uncovered). */
  awaiting: number;
  awaitingFrom: string;
}

export interface Tally {
  status: 'pending' | 'approved' | 'rejected' | 'blocked';
  reason: string;
  requirements: RequirementTally[];
  rejectedBy: string | null;
  /** Votes that did not count, and why. */
  ignored: { login: string; verdict: Verdict; reason: string }[];
}

export const PERMISSION_RANK: Record<PermissionLevel | 'none', number> = { none: 0, read: 1, triage: 2, write: 3, maintain: 4, admin: 5 };

export const sameLogin = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

/** The same account: by id when both are known (renames keep ids), else by login. */
export function samePerson(a: { login: string; id?: string }, b: { login: string; id?: string }): boolean {
  if (a.id !== undefined && b.id !== undefined) return a.id === b.id;
  return sameLogin(a.login, b.login);
}

/**
 * The requirements with every time escalation due by `elapsedSeconds` applied: more people may
 * approve for a rule's own requirement. One a condition escalation added is never widened, whatever
 * timers a stored decision carries on it: security must sign a critical change however long it waits.
 */
export function activeRequirements(requirements: readonly Requirement[], elapsedSeconds = 0): Requirement[] {
  return requirements.map((requirement) => {
    if (requirement.escalation !== null) return requirement;
    const due = requirement.scheduled.filter((e) => e.afterSeconds <= elapsedSeconds);
    if (due.length === 0) return requirement;
    return { ...requirement, approvers: due.reduce((set, e) => mergeApproverSets(set, e.approvers), requirement.approvers) };
  });
}

export function checkEligibility(decision: ApprovalSubject, voter: Voter, options: ApprovalOptions): Eligibility {
  const who = `@${voter.login}`;
  const { allowBots, minPermission } = decision.eligibility;
  if ((voter.isBot || voter.login.endsWith('[bot]')) && !allowBots) {
    return { eligible: false, reason: `${who} is a bot and the policy does not let bots approve`, requirements: [] };
  }
  if (PERMISSION_RANK[voter.permission] < PERMISSION_RANK[minPermission]) {
    const has = voter.permission === 'none' ? 'has no access to the repository' : `has ${voter.permission} permission`;
    return { eligible: false, reason: `${who} ${has}; ${minPermission} is required`, requirements: [] };
  }
  const requirements = activeRequirements(decision.requirements, options.elapsedSeconds);
  const verdicts = requirements.map((r) => requirementEligibility(r, voter, options.requesters));
  const eligibleFor = verdicts.flatMap((v, i) => (v === null ? [i] : []));
  if (eligibleFor.length > 0) {
    const names = eligibleFor.map((i) => requirementName(requirements[i]));
    return { eligible: true, reason: `${who} may approve for ${names.join(', ')}`, requirements: eligibleFor };
  }
  if (requirements.length === 0) return { eligible: false, reason: 'nothing needs approval', requirements: [] };
  const distinct = [...new Set(verdicts)];
  const reason =
    distinct.length === 1 ? distinct[0] : verdicts.map((v, i) => `${requirementName(requirements[i])}: ${v}`).join('; ');
  return { eligible: false, reason: reason ?? '', requirements: [] };
}

function inTeam(voter: Voter, team: string): boolean {
  return voter.teams.some((t) => sameLogin(`@${t}`, team));
}

/** Whether the voter is one of these CODEOWNERS owners (a person by login, or a member of a team owner). */
function isOwner(voter: Voter, owners: readonly string[]): boolean {
  return owners.some((o) => (isTeamOwner(o) ? inTeam(voter, o) : sameLogin(o, `@${voter.login}`)));
}

/** Null when the voter counts towards the requirement, else why not. */
function requirementEligibility(requirement: Requirement, voter: Voter, requesters: readonly Requester[]): string | null {
  const who = `@${voter.login}`;
  const self = requesters.find((r) => samePerson(voter, r));
  if (self && !requirement.allowSelfApproval) {
    return `${who} ${self.role} and may not approve it (self-approval is not allowed)`;
  }
  const { owners, teams, users, roles } = requirement.approvers;
  const listed =
    users.some((u) => sameLogin(u, voter.login)) ||
    teams.some((team) => inTeam(voter, team)) ||
    isOwner(voter, owners) ||
    roles.some((role) => PERMISSION_RANK[voter.permission] >= PERMISSION_RANK[role]);
  if (listed) return null;
  return `${who} is not ${notListed(requirement)}`;
}

function notListed(requirement: Requirement): string {
  const { codeowners, teams, users, roles } = requirement.approvers;
  const parts: string[] = [];
  if (codeowners) parts.push('a code owner of the changed files');
  if (teams.length > 0) parts.push(`in ${teams.join(' or ')}`);
  if (users.length > 0) parts.push(users.map((u) => `@${u}`).join(' or '));
  if (roles.length > 0) parts.push(`someone with ${roles.join(' or ')} permission`);
  return parts.length > 0 ? parts.join(' nor ') : 'listed by any approver';
}

function tallyGroups(groups: readonly OwnerGroupRequirement[], approvers: readonly Voter[]): GroupTally[] {
  return groups.map((group) => ({
    owners: group.owners,
    patterns: group.patterns,
    coveredBy: approvers.find((voter) => isOwner(voter, group.owners))?.login ?? null,
  }));
}

function requirementTally(requirement: Requirement, approvers: readonly Voter[]): RequirementTally {
  const groups = tallyGroups(requirement.approvers.ownerGroups, approvers);
  const uncovered = requirement.approvers.ownerGroups.filter((_, i) => groups[i].coveredBy === null);
  const short = Math.max(0, requirement.approvals - approvers.length);
  return {
    rule: requirement.rule,
    escalation: requirement.escalation,
    ...(requirement.override ? { override: requirement.override } : {}),
    approvals: requirement.approvals,
    approvedBy: approvers.map((v) => v.login),
    groups,
    awaiting: Math.max(short, uncovered.length > 0 ? 1 : 0),
    awaitingFrom:
      uncovered.length > 0
        ? uncovered.map((g) => `an owner of ${describeOwnerGroup(g)}`).join(' and ')
        : describeApprovers(requirement.approvers),
  };
}

const isMet = (t: RequirementTally): boolean => t.awaiting === 0;

/** Whether the vote counts towards the requirement: an override's only when it was cast overriding that window. */
function castAsOverride(requirement: Requirement, vote: Vote): boolean {
  return requirement.override === undefined || (vote.overrides?.includes(requirement.override.window) ?? false);
}

/**
 * Votes in the order they were cast. The first eligible reject rejects; otherwise the request is
 * approved by the first vote after which every requirement has its quorum of distinct eligible
 * approvers (distinct accounts: a rename between two votes does not make two people) and, where it
 * lists `codeowners`, each owned group of changed files has an approval from one of its owners.
 * Later votes do not change a final result.
 */
export function tallyVotes(decision: ApprovalSubject, votes: readonly Vote[], options: ApprovalOptions): Tally {
  const requirements = activeRequirements(decision.requirements, options.elapsedSeconds);
  const approvedBy: Voter[][] = requirements.map(() => []);
  const ignored: Tally['ignored'] = [];
  const summary = (): RequirementTally[] => requirements.map((r, i) => requirementTally(r, approvedBy[i]));

  if (decision.outcome === 'blocked') {
    return { status: 'blocked', reason: 'the decision is blocked, so no vote can approve it', requirements: summary(), rejectedBy: null, ignored };
  }
  if (decision.outcome === 'held' || decision.outcome === 'rejected') {
    const why = decision.outcome === 'held' ? 'a closed window holds the request until it opens' : 'a closed window rejects the request';
    return { status: 'blocked', reason: `${why}, so no vote can approve it`, requirements: summary(), rejectedBy: null, ignored };
  }
  if (decision.outcome === 'auto_approve') {
    return { status: 'approved', reason: 'no approval needed', requirements: [], rejectedBy: null, ignored };
  }

  for (const vote of votes) {
    const eligibility = checkEligibility(decision, vote.voter, options);
    if (!eligibility.eligible) {
      ignored.push({ login: vote.voter.login, verdict: vote.verdict, reason: eligibility.reason });
      continue;
    }
    if (vote.verdict === 'reject') {
      return { status: 'rejected', reason: `rejected by @${vote.voter.login}`, requirements: summary(), rejectedBy: vote.voter.login, ignored };
    }
    for (const i of eligibility.requirements) {
      if (!castAsOverride(requirements[i], vote)) continue;
      // By account: someone who renamed between two votes is still one person.
      if (!approvedBy[i].some((voter) => samePerson(voter, vote.voter))) approvedBy[i].push(vote.voter);
    }
    const tallies = summary();
    if (tallies.every(isMet)) {
      const everyone = [...new Set(approvedBy.flat().map((v) => `@${v.login}`))];
      return { status: 'approved', reason: `approved by ${everyone.join(', ')}`, requirements: tallies, rejectedBy: null, ignored };
    }
  }
  const tallies = summary();
  const waiting = tallies.filter((t) => !isMet(t)).map((t) => `${t.awaiting} more from ${t.awaitingFrom}`);
  return { status: 'pending', reason: `waiting for ${waiting.join('; ')}`, requirements: tallies, rejectedBy: null, ignored };
}
