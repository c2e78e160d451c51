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
  /**
   * `codeowners`: each group of changed files that has code owners needs an approval from one of that
   * group's owners (GitHub's code-owner review). `codeowners:any`: any owner of any changed file.
   */
  | { kind: 'codeowners'; any?: true }
  | { kind: 'team'; org: string; slug: string }
  | { kind: 'user'; login: string }
  | { kind: 'role'; role: 'admin' | 'maintain' | 'write' };

/**
 * A requirement as written. On a rule, what is left out comes from `defaults`. On a condition
 * escalation it is an additional requirement that must be met as well as the rule's; what it leaves
 * out comes from the rule's own requirement (from `defaults` on an auto-approving rule).
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
  /** Holds when any changed file matches. */
  paths?: string[];
  /** Holds when there is at least one changed file and every changed file matches. */
  onlyPaths?: string[];
  event?: string[];
  actor?: string[];
  labels?: string[];
}

export interface Escalation {
  location: SourceLocation;
  /** The condition: alone, the escalation applies when it holds; with `afterSeconds`, it limits when the timer is set. */
  if?: Conditions;
  /** Time-based escalation: fired by the App while the request is still pending. */
  afterSeconds?: number;
  /** Condition escalations only: an additional requirement that must also be met. */
  require?: RequirementSpec;
  /** Time escalations only: people who may also approve once it fires (they widen, never add). */
  alsoEligible?: ApproverRef[];
  /** Condition escalations only: whether the requesters count towards `require` (default false, whatever the rule says). */
  allowSelfApproval?: boolean;
  notify: string[];
}

export interface Rule {
  name: string;
  location: SourceLocation;
  if: Conditions;
  /**
   * The rule does not apply when every key here holds: how a requiring rule carves out what needs no
   * approval (`unless: { only_paths: [docs/**] }`), since a requirement always wins over auto_approve.
   */
  unless?: Conditions;
  require?: RequirementSpec;
  autoApprove: boolean;
  escalate: Escalation[];
  notify: string[];
  timeoutSeconds?: number;
  allowSelfApproval?: boolean;
  /** A rule of the org policy a repository's file extends. */
  fromOrg?: true;
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
  /**
   * The severity of a request that states none; undefined means it has none, and meets every severity
   * condition that tightens the gate and none that loosens it.
   */
  severity?: string;
}

export interface Policy {
  version: 1;
  /** Ordered from lowest to highest. */
  severities: string[];
  defaults: PolicyDefaults;
  /** What happens when no rule matches: `approve` (no approval needed) or `require` (defaults apply). */
  unmatched: 'approve' | 'require';
  /**
   * The org policy's `unmatched: require`, with the org's defaults: it applies to every request that
   * no org rule matches, whatever the repository's rules do, so they can add to it but never replace it.
   */
  orgUnmatched?: { approvals: number; approvers: ApproverRef[]; allowSelfApproval: boolean; timeoutSeconds: number };
  rules: Rule[];
  /** Freezes and deploy windows, the org's first; none when absent. */
  windows?: TimeWindow[];
}

/**
 * What a closed window does to a request in its scope: `wait` holds it until the window opens (then it
 * is decided again), `reject` ends it at once with the message, `require` lets named people override it
 * with a reason, as an additional requirement.
 */
export type WindowMode = 'wait' | 'reject' | 'require';

/** When a window is in force: a recurrence (cron start and end) or one explicit period, both wall-clock times in `timeZone`. */
export type WindowSchedule = { kind: 'cron'; start: string; end: string } | { kind: 'once'; start: string; end: string };

/**
 * A freeze (no change while it is on) or a deploy window (changes only while it is open). Deploy windows
 * of one file combine as "any of them is open"; the org's and the repository's must both be open.
 */
export interface TimeWindow {
  kind: 'freeze' | 'deploy_window';
  name: string;
  location: SourceLocation;
  /** `org` when it comes from the file named by `_extends`: the repository can neither remove nor loosen it. */
  layer: 'org' | 'repository';
  /** An IANA time zone name. */
  timeZone: string;
  schedule: WindowSchedule;
  /** The requests it applies to, as a rule's `if`; empty: every request. */
  if: Conditions;
  message?: string;
  mode: WindowMode;
  /** With `mode: require`: who may override, and how many of them. */
  override?: { approvals: number; approvers: ApproverRef[] };
}

/** Facts about one request. Everything the evaluator looks at is passed in here. */
export interface RequestFacts {
  action: string;
  environment?: string;
  /** The run's branch (for a pull request: its head branch). */
  branch?: string;
  /** For a pull request: its base branch; for a merge queue entry, the branch it merges into. */
  targetBranch?: string;
  /**
   * For a pull request whose merge also ships changes of its base branch that no approved request
   * covered (or that cannot be told): that base branch. The run ships its code as well as the head
   * branch's, so a `branch` condition that loosens the gate must hold for it too.
   */
  unapprovedBase?: string;
  severity?: string;
  event?: string;
  /** Who started the run. */
  actor?: string;
  /** Who re-ran it, where that is someone else: an `actor` condition that loosens the gate must hold for them too. */
  rerunBy?: string[];
  labels?: string[];
  /** The changed files; empty when `unknownChanges` is set. */
  changedFiles: string[];
  /**
   * Set when what the request changes cannot be established (no approved base to compare with, a
   * force push, an event whose target is unknown), saying why. An unknown change set never satisfies
   * a condition that loosens the gate and always satisfies one that tightens it.
   */
  unknownChanges?: string;
}
