/**
 * Approval arithmetic for the App: who may vote on a decision, and whether the votes so far approve,
 * reject, or leave it pending. Pure: the App expands teams and permissions into `Voter` facts first,
 * and passes in how long the request has been pending (for time escalations).
 */
import { describeApprovers, isTeamOwner, mergeApproverSets } from './approvers.js';
import type { Decision, Requirement } from './decision.js';
import type { PermissionLevel } from './types.js';

/** A person (or bot) who voted, as the App found them at vote time. */
export interface Voter {
  login: string;
  isBot: boolean;
  /** Their permission on the repository; `none` when they have no access. */
  permission: PermissionLevel | 'none';
  /** Teams they belong to, as `org/slug`. */
  teams: readonly string[];
}

export interface ApprovalOptions {
  /** The request's actor (from the OIDC token). */
  requester: string;
  /** How long the request has been pending: time escalations at or below it apply. */
  elapsedSeconds?: number;
}

export type ApprovalSubject = Pick<Decision, 'outcome' | 'requirements' | 'eligibility'>;

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
}

export interface RequirementTally {
  rule: string | null;
  approvals: number;
  /** Eligible distinct approvers, in the order they voted. */
  approvedBy: string[];
  /** How many more approvals this requirement needs. */
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

const PERMISSION_RANK: Record<PermissionLevel | 'none', number> = { none: 0, read: 1, triage: 2, write: 3, maintain: 4, admin: 5 };

const sameLogin = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

/** The requirements with every time escalation due by `elapsedSeconds` applied. */
export function activeRequirements(requirements: readonly Requirement[], elapsedSeconds = 0): Requirement[] {
  return requirements.map((requirement) => {
    const due = requirement.scheduled.filter((e) => e.afterSeconds <= elapsedSeconds);
    if (due.length === 0) return requirement;
    return {
      ...requirement,
      approvals: Math.max(requirement.approvals, ...due.map((e) => e.approvals ?? 0)),
      approvers: due.reduce((set, e) => mergeApproverSets(set, e.approvers), requirement.approvers),
    };
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
  const verdicts = requirements.map((r) => requirementEligibility(r, voter, options.requester));
  const eligibleFor = verdicts.flatMap((v, i) => (v === null ? [i] : []));
  if (eligibleFor.length > 0) {
    const rules = eligibleFor.map((i) => ruleName(requirements[i]));
    return { eligible: true, reason: `${who} may approve for ${rules.join(', ')}`, requirements: eligibleFor };
  }
  if (requirements.length === 0) return { eligible: false, reason: 'nothing needs approval', requirements: [] };
  const distinct = [...new Set(verdicts)];
  const reason =
    distinct.length === 1 ? distinct[0] : verdicts.map((v, i) => `${ruleName(requirements[i])}: ${v}`).join('; ');
  return { eligible: false, reason: reason ?? '', requirements: [] };
}

/** Null when the voter counts towards the requirement, else why not. */
function requirementEligibility(requirement: Requirement, voter: Voter, requester: string): string | null {
  const who = `@${voter.login}`;
  if (sameLogin(voter.login, requester) && !requirement.allowSelfApproval) {
    return `${who} is the requester and self-approval is not allowed`;
  }
  const { owners, teams, users, roles } = requirement.approvers;
  const inTeam = (team: string): boolean => voter.teams.some((t) => sameLogin(`@${t}`, team));
  const listed =
    users.some((u) => sameLogin(u, voter.login)) ||
    teams.some(inTeam) ||
    owners.some((o) => (isTeamOwner(o) ? inTeam(o) : sameLogin(o, who))) ||
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

const ruleName = (r: Requirement): string => (r.rule === null ? 'the default requirement' : `rule \`${r.rule}\``);

/**
 * Votes in the order they were cast. The first eligible reject rejects; otherwise the request is
 * approved by the first vote after which every requirement has its quorum of distinct eligible
 * approvers. Later votes do not change a final result.
 */
export function tallyVotes(decision: ApprovalSubject, votes: readonly Vote[], options: ApprovalOptions): Tally {
  const requirements = activeRequirements(decision.requirements, options.elapsedSeconds);
  const approvedBy: string[][] = requirements.map(() => []);
  const ignored: Tally['ignored'] = [];
  const summary = (): RequirementTally[] =>
    requirements.map((r, i) => ({
      rule: r.rule,
      approvals: r.approvals,
      approvedBy: approvedBy[i],
      awaiting: Math.max(0, r.approvals - approvedBy[i].length),
      awaitingFrom: describeApprovers(r.approvers),
    }));

  if (decision.outcome === 'blocked') {
    return { status: 'blocked', reason: 'the decision is blocked, so no vote can approve it', requirements: summary(), rejectedBy: null, ignored };
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
      if (!approvedBy[i].some((login) => sameLogin(login, vote.voter.login))) approvedBy[i].push(vote.voter.login);
    }
    if (requirements.every((r, i) => approvedBy[i].length >= r.approvals)) {
      const everyone = [...new Set(approvedBy.flat().map((l) => `@${l}`))];
      return { status: 'approved', reason: `approved by ${everyone.join(', ')}`, requirements: summary(), rejectedBy: null, ignored };
    }
  }
  const tallies = summary();
  const waiting = tallies
    .filter((t) => t.awaiting > 0)
    .map((t) => `${t.awaiting} more from ${t.awaitingFrom}`);
  return { status: 'pending', reason: `waiting for ${waiting.join('; ')}`, requirements: tallies, rejectedBy: null, ignored };
}
