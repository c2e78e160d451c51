/**
 * What a notification says: one typed event per moment in a request's life. Renderers turn it into
 * a Slack message, an e-mail or a webhook body; nothing here does I/O.
 */
import type { ApproverSet } from '../../policies/decision.js';
import type { FinalStatus } from '../store/store.js';

export type NotificationKind = 'requested' | 'reminder' | 'escalated' | 'released' | 'decided';
export const NOTIFICATION_KINDS: readonly NotificationKind[] = ['requested', 'reminder', 'escalated', 'released', 'decided'];

/**
 * Closed windows that need an override (pending), or that were overridden (decided): said loudly by
 * every renderer, since it bypasses a freeze.
 */
export interface NotificationOverride {
  /** `freeze end-of-year`, `deploy window office-hours`. */
  windows: string[];
  /** The windows' messages. */
  messages: string[];
  /** Who overrode, and why; empty while the override is still needed. */
  by: { login: string; reason: string }[];
}

export interface NotificationLinks {
  /** The approval check run, where the Approve and Reject buttons are. */
  checkRun?: string;
  pullRequest?: string;
  /** The approval issue, for runs without a pull request. */
  issue?: string;
}

export interface NotificationDecision {
  status: FinalStatus;
  /** Who completed the request: an approver's login, the requester who cancelled, `app` for timeouts. */
  by?: string;
  reason?: string;
}

interface NotificationBase {
  requestId: string;
  /** `owner/name`. */
  repository: string;
  action: string;
  requester: string;
  branch?: string;
  sha: string;
  environment?: string;
  severity?: string;
  /** The workflow's own one-line description of the step, when it gave one. */
  summary?: string;
  matchedRules: string[];
  /** Who may approve, as plain strings: `@org/team`, `@user`, `role:write`, or an e-mail from CODEOWNERS. While pending: only who is still awaited (met requirements and counted approvers left out). */
  approvers: string[];
  /** While pending: how many more approvals are needed. */
  approvalsRequired: number;
  links: NotificationLinks;
  /** ISO 8601: when the request was made. */
  requestedAt: string;
  /** ISO 8601: when this event happened (a reminder's "pending for" is measured to it). */
  occurredAt: string;
  /** Set when closed windows need an override, or were overridden. */
  override?: NotificationOverride;
}

export type NotificationEvent =
  | (NotificationBase & { kind: 'requested' | 'reminder' })
  | (NotificationBase & { kind: 'escalated'; /** Approvers the escalation added; in `approvers` too while their approval could still meet their requirement (not one that lacks only code owners). */ addedApprovers: string[] })
  /** A freeze or deploy window held the request and has opened: it goes ahead (and may now need approval). */
  | (NotificationBase & { kind: 'released'; /** The windows that held it. */ releasedFrom: string[] })
  | (NotificationBase & { kind: 'decided'; decision: NotificationDecision });

/** Flattens the evaluator's approver set into the plain strings an event carries, without repeats. */
export function approverStrings(set: ApproverSet): string[] {
  const all = [...set.teams, ...set.owners, ...set.users.map((login) => `@${login}`), ...set.roles.map((role) => `role:${role}`)];
  return [...new Set(all)];
}
