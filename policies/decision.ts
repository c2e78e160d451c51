/**
 * The evaluator's output: what `mercurial-jit explain` prints and what the App stores with a request.
 * Plain JSON (no class instances, no Maps, no undefined-vs-missing subtleties the App depends on).
 */
import type { ConditionResult } from './predicates.js';
import type { PermissionLevel, RequestFacts, SourceLocation } from './types.js';

export type Role = 'admin' | 'maintain' | 'write';

/** Who may approve, before team and role expansion. */
export interface ApproverSet {
  /** The requirement lists `codeowners`: the owners below are those of the changed files. */
  codeowners: boolean;
  /** CODEOWNERS owners of the changed files as written there: `@user`, `@org/team` or an e-mail. */
  owners: string[];
  /** `@org/slug`. */
  teams: string[];
  /** Logins, without `@`. */
  users: string[];
  roles: Role[];
}

/** A time-based escalation for the App to fire if the request is still pending after `afterSeconds`. */
export interface ScheduledEscalation {
  location: SourceLocation;
  afterSeconds: number;
  notify: string[];
  /** Raised approval count once fired, when the escalation's `require` sets one. */
  approvals?: number;
  /** Approvers who become eligible once fired. */
  approvers: ApproverSet;
}

export interface Requirement {
  /** The rule this comes from; null for the defaults applied when no rule matched (`unmatched: require`). */
  rule: string | null;
  location: SourceLocation | null;
  /** Distinct eligible people who must approve. */
  approvals: number;
  approvers: ApproverSet;
  allowSelfApproval: boolean;
  /** Condition-based escalations that raised this requirement, with the reason they applied. */
  escalatedBy: { location: SourceLocation; reason: string }[];
  scheduled: ScheduledEscalation[];
  /** Set when nobody listed could ever meet this requirement: the request is blocked, never approved. */
  unsatisfiable: string | null;
}

export interface EscalationEvaluation {
  location: SourceLocation;
  kind: 'condition' | 'time';
  /** Condition escalations: applied now. Time escalations: scheduled for the App. */
  applied: boolean;
  conditions: ConditionResult[];
  reason: string;
}

export interface RuleEvaluation {
  name: string;
  location: SourceLocation;
  matched: boolean;
  conditions: ConditionResult[];
  /** What the rule contributes: nothing (not matched), auto-approval, or a requirement. */
  effect: 'none' | 'auto_approve' | 'require';
  escalations: EscalationEvaluation[];
}

/** Changed files grouped by the set of CODEOWNERS owners they have. */
export interface OwnerGroup {
  owners: string[];
  /** The CODEOWNERS lines that assigned these owners (last match wins, so one per file). */
  rules: { pattern: string; line: number }[];
  files: string[];
}

export interface CodeownersSummary {
  /** False when no CODEOWNERS file was given: then every changed file counts as unowned. */
  available: boolean;
  groups: OwnerGroup[];
  unowned: string[];
}

export type Outcome = 'auto_approve' | 'approval_required' | 'blocked';

export interface Decision {
  outcome: Outcome;
  /** One line for a check-run title or a job log. */
  summary: string;
  /** Why the decision is blocked; empty unless `outcome` is `blocked`. */
  problems: string[];
  facts: Omit<RequestFacts, 'changedFiles'> & { changedFileCount: number };
  rules: RuleEvaluation[];
  requirements: Requirement[];
  /** Present when a requirement lists `codeowners`. */
  codeowners: CodeownersSummary | null;
  timeoutSeconds: number;
  /**
   * Re-notify at this interval while the request waits (`defaults.reminder`); null when the policy
   * sets no reminder or nobody needs to approve.
   */
  reminderSeconds: number | null;
  notify: string[];
  eligibility: { minPermission: PermissionLevel; allowBots: boolean };
}
