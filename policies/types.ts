/**
 * The shapes shared by the loader (YAML → Policy) and the evaluator (Policy + facts → Decision).
 * YAML keys are snake_case (`allow_self_approval`); the normalised model here is camelCase.
 */

/** A position in a source file, 1-based, as editors and `file:line:col` messages use it. */
export interface SourceLocation {
  file: string;
  line: number;
  col: number;
}

/** One problem found in a policy file. `pointer` is the JSON pointer of the offending value. */
export interface PolicyDiagnostic extends SourceLocation {
  pointer: string;
  message: string;
}

export type PermissionLevel = 'read' | 'triage' | 'write' | 'maintain' | 'admin';

/**
 * Who may approve, as written in the policy, parsed:
 * `codeowners`, `@org/team`, `login` or `@login`, `role:admin|maintain|write`.
 */
export type ApproverRef =
  | { kind: 'codeowners' }
  | { kind: 'team'; org: string; slug: string }
  | { kind: 'user'; login: string }
  | { kind: 'role'; role: 'admin' | 'maintain' | 'write' };

/**
 * A requirement as written. On a rule, what is left out comes from `defaults`. On an escalation it
 * raises the rule's requirement and does not fall back to `defaults`: `approvals` counts only if
 * higher than the rule's, `approvers` are added to the rule's, and what is left out leaves the rule's
 * as it is (evaluate.ts `raise`; a time escalation's go to the App in `scheduled`, for when it
 * fires). The exception is a condition escalation on an auto-approving rule, which has nothing to
 * raise: what it leaves out comes from `defaults` (evaluate.ts `fromEscalation`).
 */
export interface RequirementSpec {
  approvals?: number;
  approvers?: ApproverRef[];
}

export type SeverityCondition = { anyOf: string[] } | { atLeast: string };

/** Every present key must hold; within a key, a list means "any of". Globs as in glob.ts. */
export interface Conditions {
  action?: string[];
  environment?: string[];
  branch?: string[];
  targetBranch?: string[];
  severity?: SeverityCondition;
  paths?: string[];
  event?: string[];
  actor?: string[];
  labels?: string[];
}

export interface Escalation {
  location: SourceLocation;
  /** Condition-based escalation: applied by the evaluator when the conditions hold. */
  if?: Conditions;
  /** Time-based escalation: fired by the App while the request is still pending. */
  afterSeconds?: number;
  require?: RequirementSpec;
  /** Extra approvers who become eligible when this escalation applies. */
  approvers?: ApproverRef[];
  notify: string[];
}

export interface Rule {
  name: string;
  location: SourceLocation;
  if: Conditions;
  require?: RequirementSpec;
  autoApprove: boolean;
  escalate: Escalation[];
  notify: string[];
  timeoutSeconds?: number;
  allowSelfApproval?: boolean;
}

export interface PolicyDefaults {
  approvals: number;
  approvers: ApproverRef[];
  timeoutSeconds: number;
  allowSelfApproval: boolean;
  allowBots: boolean;
  minPermission: PermissionLevel;
  /** Re-notify pending requests at this interval; undefined means no reminders. */
  reminderSeconds?: number;
}

export interface Policy {
  version: 1;
  /** Ordered from lowest to highest. */
  severities: string[];
  defaults: PolicyDefaults;
  /** What happens when no rule matches: `approve` (no approval needed) or `require` (defaults apply). */
  unmatched: 'approve' | 'require';
  rules: Rule[];
}

/** Facts about one request. Everything the evaluator looks at is passed in here. */
export interface RequestFacts {
  action: string;
  environment?: string;
  /** The run's branch (for a pull request: its head branch). */
  branch?: string;
  /** For a pull request: its base branch. */
  targetBranch?: string;
  severity?: string;
  event?: string;
  actor?: string;
  labels?: string[];
  changedFiles: string[];
}
