/**
 * The evaluator's output: what `mercurial-jit explain` prints and what the App stores with a request.
 * Plain JSON (no class instances, no Maps, no undefined-vs-missing subtleties the App depends on).
 */
import type { ConditionResult } from './predicates.js';
import type { PermissionLevel, RequestFacts, SourceLocation, WindowMode } from './types.js';

export type Role = 'admin' | 'maintain' | 'write';

/**
 * Changed files that share their code owners, as one requirement needs them covered: an approval from
 * one of `owners` (GitHub's code-owner review).
 */
export interface OwnerGroupRequirement {
  owners: string[];
  /** The CODEOWNERS patterns that own these files, for people to recognise the group. */
  patterns: string[];
  fileCount: number;
}

/** Who may approve, before team and role expansion. */
export interface ApproverSet {
  /**
   * How the requirement lists code owners: `each_group` (`codeowners`: every owned group of changed
   * files needs one of its owners), `any` (`codeowners:any`, or code owners made eligible by a time
   * escalation: any owner of any changed file counts), or false when it does not list them.
   */
  codeowners: false | 'each_group' | 'any';
  /** CODEOWNERS owners of the changed files as written there: `@user`, `@org/team` or an e-mail. */
  owners: string[];
  /** With `each_group`: the groups that must each be covered. */
  ownerGroups: OwnerGroupRequirement[];
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
  /** People who may also approve once it fired (`also_eligible`); they widen who counts, the count stays. */
  approvers: ApproverSet;
}

export interface Requirement {
  /** The rule this comes from; null for the defaults applied when no rule matched (`unmatched: require`). */
  rule: string | null;
  location: SourceLocation | null;
  /**
   * Set when a condition escalation of the rule added this requirement: it must be met as well as the
   * rule's own. `reason` says why the escalation applied.
   */
  escalation: { location: SourceLocation; reason: string } | null;
  /** Distinct eligible people who must approve. */
  approvals: number;
  approvers: ApproverSet;
  allowSelfApproval: boolean;
  scheduled: ScheduledEscalation[];
  /** Set when nobody listed could ever meet this requirement: the request is blocked, never approved. */
  unsatisfiable: string | null;
  /**
   * Set when a closed window with `mode: require` asks for this requirement: an override, which must
   * be met as well as the rules' requirements, and whose approvals need a reason.
   */
  override?: WindowOverride;
  /** Set on the org policy's defaults, which its `unmatched: require` asks for when no org rule matched. */
  org?: true;
  /** Set on defaults asked for although a rule matched, when it matched only on the worst case (an unknown change set, a re-run). */
  worstCase?: true;
}

/** The window an override requirement lifts. */
export interface WindowOverride {
  window: string;
  kind: 'freeze' | 'deploy_window';
  location: SourceLocation;
  message: string | null;
}

/** One freeze or deploy window, as it stands for this request at the instant judged. */
export interface WindowEvaluation {
  name: string;
  kind: 'freeze' | 'deploy_window';
  layer: 'org' | 'repository';
  location: SourceLocation;
  mode: WindowMode;
  timeZone: string;
  message: string | null;
  /** Whether the request is in the window's scope (its `if`), and why. */
  applies: boolean;
  conditions: ConditionResult[];
  /** A freeze: in force now. A deploy window: open now. */
  inForce: boolean;
  /** The period in force now, else the next one (ISO 8601 instants; `end` null when it never ends); null when there is none within a year. */
  period: { start: string; end: string | null } | null;
  /** `period` as people in the window's zone read it. */
  periodLocal: { start: string; end: string | null } | null;
}

/** The freezes and deploy windows of the policy, judged for one request at one instant. */
export interface WindowsDecision {
  /** The instant judged (ISO 8601). */
  at: string;
  windows: WindowEvaluation[];
  /** Whether the windows in scope let the request go ahead now. */
  open: boolean;
  /** The windows that hold it now: freezes in force, or a file's deploy windows when none of them is open. */
  closedBy: string[];
  /** What the closing windows do: the strictest of their modes (reject, then wait, then require); null when open. */
  mode: WindowMode | null;
  /** The closing windows' messages, for people. */
  messages: string[];
  /**
   * When the request may next go ahead: `at` when open now; for a held request, when nothing holds it
   * any more (it may need an override then, see `overridesThen`); null when not within a year.
   */
  opensAt: string | null;
  /** For a held request: the windows that will ask for an override when it is released. */
  overridesThen?: string[];
  /** When the request must be judged again because a window in scope changes: a freeze starts or ends, a deploy window opens or closes. Null: none within a year. */
  recheckAt: string | null;
  /** When closed: the last instant at or before `at` at which a window in scope started or ended, since when it has been closed at least. */
  closedSince?: string;
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
  /** The rule's `unless` conditions, when it has them: all holding means the rule does not apply. */
  unless?: ConditionResult[];
  /** What the rule contributes: nothing (not matched), auto-approval, or a requirement. */
  effect: 'none' | 'auto_approve' | 'require';
  /** For a rule that requires approval: its timeout (its own, else the defaults'). The shortest of them applies. */
  timeoutSeconds?: number;
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
  /**
   * Set when the change set is unknown: then nobody can say which files change, and the owners of
   * the catch-all rule (`*`) stand for all of them (`groups` holds that one group, if there is one).
   */
  unknownChanges?: string;
  /** Set when the request changes no file (a redeploy): the catch-all rule's owners stand for it, likewise. */
  nothingChanged?: true;
}

/**
 * `held`: a closed window with `mode: wait` holds the request until it opens (the requirements say
 * what it will need then); `rejected`: a closed window with `mode: reject` ends it now.
 */
export type Outcome = 'auto_approve' | 'approval_required' | 'blocked' | 'held' | 'rejected';

/** The facts the decision was taken on, as recorded with it (the changed files are counted, not listed). */
export type DecisionFacts = Omit<RequestFacts, 'changedFiles'> & {
  changedFileCount: number;
  /**
   * True when the request stated no severity: `severity` is then `defaults.severity`, or absent when the
   * policy sets none, and every severity condition that tightens the gate held and none that loosens it.
   */
  severityAssumed?: boolean;
};

export interface Decision {
  outcome: Outcome;
  /** One line for a check-run title or a job log. */
  summary: string;
  /** Why the decision is blocked; empty unless `outcome` is `blocked`. */
  problems: string[];
  facts: DecisionFacts;
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
  /** The policy's freezes and deploy windows for this request; null when the policy has none. */
  windows?: WindowsDecision | null;
}
