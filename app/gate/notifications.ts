/**
 * Tells the policy's notifiers (configured on the App, named by rules) about a request's moments:
 * requested, reminder, escalated, decided. Sending never holds up or fails the gate: the dispatcher
 * retries on its own and records every attempt in the audit trail.
 */
import { emptyApproverSet, mergeApproverSets, unionIgnoringCase } from '../../policies/approvers.js';
import type { NotificationDispatcher, NotificationEvent, NotificationOverride } from '../notify/index.js';
import { approverStrings } from '../notify/index.js';
import type { FinalStatus } from '../store/store.js';
import type { ApproverSet, Requirement } from '../../policies/decision.js';
import { currentRequirements, requirementProgress, type RequirementProgress } from './progress.js';
import type { GateRequest } from './request.js';
import { branchOfRef } from './run-context.js';

export class RequestNotifications {
  constructor(
    private readonly dispatcher: NotificationDispatcher,
    /** The App's clock, for when each event happened. */
    private readonly clock: () => number = Date.now,
  ) {}

  private base(request: GateRequest): EventBase {
    return base(request, this.clock());
  }

  requested(request: GateRequest): void {
    if (!needsPeople(request) || request.status !== 'pending') return;
    this.dispatcher.dispatch({ ...this.base(request), kind: 'requested' }, request.decision!.notify);
  }

  /** A window that held the request has opened: whoever the rules notify hears that it goes ahead, and whether it needs them. */
  released(request: GateRequest, windows: string[]): void {
    if (!request.decision) return;
    this.dispatcher.dispatch({ ...this.base(request), kind: 'released', releasedFrom: windows }, request.decision.notify);
  }

  /** Still pending at a reminder interval (`defaults.reminder`): the same notifiers as the request. */
  reminder(request: GateRequest): void {
    if (!needsPeople(request) || request.status !== 'pending') return;
    this.dispatcher.dispatch({ ...this.base(request), kind: 'reminder' }, request.decision!.notify);
  }

  escalated(request: GateRequest, addedApprovers: string[], notifierNames: string[]): void {
    if (!needsPeople(request)) return;
    this.dispatcher.dispatch({ ...this.base(request), kind: 'escalated', addedApprovers }, [...request.decision!.notify, ...notifierNames]);
  }

  decided(request: GateRequest): void {
    // Told of the request (or of its release), people hear how it ended, a window's rejection included.
    if (request.status === 'pending' || !request.decision || !(needsPeople(request) || request.announced)) return;
    const decision = { status: request.status as FinalStatus, by: request.completedBy, reason: request.reason };
    this.dispatcher.dispatch({ ...this.base(request), kind: 'decided', decision }, request.decision.notify);
  }
}

/** Auto-approvals and policy errors concern nobody but the workflow: they are on the check run. */
function needsPeople(request: GateRequest): boolean {
  return request.decision?.outcome === 'approval_required';
}

/** Windows that need an override now (pending), or were overridden by the approvals (decided). */
function overrideOf(request: GateRequest): NotificationOverride | undefined {
  const by = request.votes.flatMap((v) => (v.override && v.choice === 'approve' ? [{ login: v.login, reason: v.override.reason }] : []));
  const needed = request.status === 'pending' ? (request.decision?.requirements ?? []).flatMap((r) => (r.override ? [r.override] : [])) : [];
  const names = new Set([...needed.map((o) => `${o.kind === 'freeze' ? 'freeze' : 'deploy window'} ${o.window}`), ...request.votes.flatMap((v) => v.override?.windows.map((w) => windowLabel(request, w)) ?? [])]);
  if (names.size === 0) return undefined;
  const messages = [...new Set(needed.flatMap((o) => (o.message ? [o.message] : [])))];
  return { windows: [...names], messages, by };
}

function windowLabel(request: GateRequest, name: string): string {
  const known = request.decision?.windows?.windows.find((w) => w.name === name);
  return `${known?.kind === 'deploy_window' ? 'deploy window' : 'freeze'} ${name}`;
}

/** Who may approve now, as the notifiers name them. */
export function approversOf(request: GateRequest): string[] {
  return approverStrings(currentRequirements(request).map((r) => r.approvers).reduce(mergeApproverSets, emptyApproverSet()));
}

/**
 * While the request waits: who it still waits for, and how many more approvals it needs. The
 * requirements already met are left out, and so is anyone whose approval already counts for a
 * requirement (they cannot add to it); teams and roles stay, since another member may approve.
 * A requirement that lacks only code owners' approvals waits only for those owners.
 */
function awaitedOf(request: GateRequest, requirements: readonly Requirement[], now: Date): { approvers: string[]; approvalsRequired: number } | undefined {
  if (request.status !== 'pending') return undefined;
  const progress = requirementProgress(request, now);
  if (progress.length !== requirements.length) return undefined;
  const waiting = requirements.flatMap((requirement, i) => (progress[i].awaiting > 0 ? [{ requirement, tally: progress[i] }] : []));
  if (waiting.length === 0) return undefined;
  const sets = waiting.map(({ requirement, tally }) => withoutApproved(whoCanMeet(requirement.approvers, tally), tally.approvedBy));
  return {
    approvers: approverStrings(sets.reduce(mergeApproverSets, emptyApproverSet())),
    approvalsRequired: waiting.reduce((most, { tally }) => Math.max(most, tally.awaiting), 0),
  };
}

/**
 * Who can still meet a requirement: with at most one approval short of its count and groups of
 * changed files still lacking an approval from one of their owners (`codeowners`), just those
 * groups' owners (anyone else's approval would leave it waiting).
 */
function whoCanMeet(set: ApproverSet, tally: RequirementProgress): ApproverSet {
  if (tally.approvedBy.length + 1 < tally.approvals) return set;
  const owners = unionIgnoringCase([], tally.groups.filter((group) => group.coveredBy === null).flatMap((group) => group.owners));
  return owners.length === 0 ? set : { ...set, owners, teams: [], users: [], roles: [] };
}

function withoutApproved(set: ApproverSet, approvedBy: readonly string[]): ApproverSet {
  const approved = new Set(approvedBy.map((login) => login.toLowerCase()));
  return {
    ...set,
    users: set.users.filter((login) => !approved.has(login.toLowerCase())),
    owners: set.owners.filter((owner) => !(owner.startsWith('@') && !owner.includes('/') && approved.has(owner.slice(1).toLowerCase()))),
  };
}

type EventBase = Omit<Extract<NotificationEvent, { kind: 'requested' | 'reminder' }>, 'kind'>;

function base(request: GateRequest, now: number): EventBase {
  const requirements = currentRequirements(request, new Date(now));
  const awaited = awaitedOf(request, requirements, new Date(now));
  const override = overrideOf(request);
  return {
    requestId: request.id,
    repository: `${request.owner}/${request.repo}`,
    action: request.action,
    requester: request.requester,
    branch: branchOfRef(request.ref),
    sha: request.headSha,
    environment: request.environment,
    severity: request.severity,
    summary: request.summary,
    matchedRules: (request.decision?.rules ?? []).filter((rule) => rule.matched).map((rule) => rule.name),
    approvers: awaited?.approvers ?? approverStrings(requirements.map((r) => r.approvers).reduce(mergeApproverSets, emptyApproverSet())),
    approvalsRequired: awaited?.approvalsRequired ?? requirements.reduce((most, r) => Math.max(most, r.approvals), 0),
    links: {
      checkRun: request.checkRun?.url,
      pullRequest: request.pullNumber !== undefined ? request.comment?.url?.replace(/#.*$/, '') : undefined,
      issue: request.issue?.url,
    },
    requestedAt: request.createdAt,
    occurredAt: new Date(now).toISOString(),
    ...(override ? { override } : {}),
  };
}
