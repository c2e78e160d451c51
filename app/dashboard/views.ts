/** What the dashboard's templates show, made from the gate's requests and decisions and the audit trail. */
import type { GateRequest } from '../gate/gate.js';
import type { Decision, Requirement } from '../../policies/decision.js';
import type { ApprovalRequest, AuditEvent } from '../store/store.js';
import { auditHash, describeValue, neverWritten } from '../store/audit-chain.js';

const STATUS_TEXT: Record<string, string> = { pending: 'waiting', approved: 'approved', rejected: 'rejected', timed_out: 'timed out', cancelled: 'cancelled', failed: 'failed' };

export function statusText(status: string): string {
  return STATUS_TEXT[status] ?? status;
}

/** "3 minutes", "2 hours", "5 days": how long ago, roughly. */
export function ageText(from: Date, now: number): string {
  const seconds = Math.max(0, Math.round((now - from.getTime()) / 1000));
  const units: [number, string][] = [[86_400, 'day'], [3_600, 'hour'], [60, 'minute']];
  for (const [size, name] of units) {
    const n = Math.floor(seconds / size);
    if (n >= 1) return `${n} ${name}${n === 1 ? '' : 's'}`;
  }
  return `${seconds} second${seconds === 1 ? '' : 's'}`;
}

export function timeText(at: Date): string {
  return at.toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, ' UTC');
}

export interface RequestRow {
  href: string;
  action: string;
  repository: string;
  environment: string;
  severity: string;
  requester: string;
  status: string;
  statusText: string;
  createdAt: string;
  age: string;
  deadline?: string;
  deadlineText?: string;
}

export const isTime = (value: unknown): value is Date => value instanceof Date && !Number.isNaN(value.getTime());
const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * What a request's stored row holds that the App never writes, one line a field (none: nothing): a
 * time missing or out of range, facts or a decision of another shape. Such a row was changed outside
 * the App; the dashboard names it rather than failing on it.
 */
export function damagedRequestFields(row: ApprovalRequest): string[] {
  const damaged: string[] = [];
  const times: Array<[string, unknown, boolean]> = [['created_at', row.createdAt, false], ['updated_at', row.updatedAt, false], ['deadline', row.deadline, true], ['completed_at', row.completedAt, true]];
  for (const [name, value, optional] of times) {
    if (!(optional && value === null) && !isTime(value)) damaged.push(`${name} is ${describeValue(value)}`);
  }
  if (!isObject(row.facts) || typeof row.facts.owner !== 'string' || typeof row.facts.repo !== 'string') damaged.push(`facts is ${isObject(row.facts) ? 'an object without the repository\'s owner and name' : describeValue(row.facts)}`);
  const decision = row.decision;
  if (decision !== null && !(isObject(decision) && typeof decision.summary === 'string' && ['problems', 'rules', 'requirements'].every((key) => Array.isArray(decision[key])))) {
    damaged.push(`decision is ${describeValue(decision)}`);
  }
  return damaged;
}

export function requestRow(request: ApprovalRequest, base: string, now: number): RequestRow {
  const facts = (isObject(request.facts) ? request.facts : {}) as { environment?: string; severity?: string };
  const created = isTime(request.createdAt) ? request.createdAt : undefined;
  return {
    href: `${base}/requests/${request.id}`,
    action: request.action,
    repository: request.repository,
    environment: facts.environment ?? '—',
    severity: facts.severity ?? '—',
    requester: request.requester,
    status: request.status,
    statusText: statusText(request.status),
    createdAt: created ? created.toISOString() : '',
    age: created ? ageText(created, now) : `no valid time (created_at is ${describeValue(request.createdAt)})`,
    ...(isTime(request.deadline) && request.status === 'pending' ? { deadline: request.deadline.toISOString(), deadlineText: timeText(request.deadline) } : {}),
  };
}

/** Who may approve a requirement, in words: users, teams, roles and code owners. */
function whoText(requirement: Requirement): string {
  const { approvers } = requirement;
  const parts = [
    ...approvers.users.map((u) => `@${u}`),
    ...approvers.teams,
    ...approvers.roles.map((r) => `anyone with ${r} permission`),
    ...(approvers.codeowners === 'each_group' ? ['the code owners of each group of changed files'] : approvers.codeowners === 'any' ? [`any code owner of the changed files (${approvers.owners.join(', ') || 'none'})`] : []),
  ];
  const later = requirement.scheduled.flatMap((s) => [...s.approvers.users.map((u) => `@${u}`), ...s.approvers.teams].map((who) => `${who} after ${Math.round(s.afterSeconds / 60)} min`));
  return [...parts, ...later].join(', ') || 'nobody';
}

export function requirementViews(decision: Decision | undefined) {
  return (decision?.requirements ?? []).map((requirement) => ({
    name: requirement.override ? `override of ${requirement.override.window}` : requirement.escalation ? `${requirement.rule ?? 'defaults'} (escalated: ${requirement.escalation.reason})` : (requirement.rule ?? (requirement.org ? 'org defaults' : 'defaults')),
    approvals: requirement.approvals,
    who: whoText(requirement),
    unsatisfiable: requirement.unsatisfiable,
    groups: requirement.approvers.codeowners === 'each_group' ? requirement.approvers.ownerGroups : [],
  }));
}

/** A short line of an audit event's facts worth reading (the note, reason or choice), never the whole record. */
export function auditDetail(event: AuditEvent): string {
  // Facts that are not an object were written outside the App: auditEventView says so.
  const f: Record<string, unknown> = event.facts !== null && typeof event.facts === 'object' ? event.facts : {};
  const parts: string[] = [];
  if (typeof f.choice === 'string') parts.push(f.choice);
  if (typeof f.via === 'string') parts.push(`via ${f.via}`);
  if (typeof f.reason === 'string' && f.reason) parts.push(f.reason);
  if (typeof f.note === 'string' && f.note) parts.push(`“${f.note}”`);
  if (typeof f.notifier === 'string') parts.push(`notifier ${f.notifier}`);
  return parts.join(' · ');
}

/**
 * Why an audit row does not verify on its own (without the rows before it), or undefined: it holds
 * what the App never writes, or its hash does not match what it holds.
 */
export function auditRowProblem(event: AuditEvent): string | undefined {
  const unwritten = neverWritten(event);
  if (unwritten) return `${unwritten}: it was changed outside the App`;
  return auditHash(event) === event.hash ? undefined : 'its hash does not match what it holds: it was changed outside the App';
}

/**
 * An audit event as a page shows it. A row holding what the App never writes (its time missing or out
 * of range, facts that are not a JSON object) is shown as it is, with what is wrong, and so is a row
 * whose hash does not match what it holds: neither is ever shown as verified, whatever the chain's
 * last verification said.
 */
export function auditEventView(event: AuditEvent) {
  const validAt = isTime(event.at);
  const problem = auditRowProblem(event);
  return {
    seq: event.seq,
    at: validAt ? event.at.toISOString() : '',
    atText: validAt ? timeText(event.at) : `no valid time (${event.at === null || event.at === undefined ? 'missing' : String(event.at).slice(0, 40)})`,
    type: event.type,
    actor: event.actor,
    detail: auditDetail(event),
    problem: problem && `This event does not verify: ${problem}.`,
  };
}

export function requestView(request: GateRequest, events: AuditEvent[], webUrl: string, now: number) {
  const repository = `${request.owner}/${request.repo}`;
  return {
    id: request.id,
    action: request.action,
    environment: request.environment,
    repository,
    requester: request.requester,
    status: request.status,
    statusText: statusText(request.status),
    reason: request.reason,
    summary: request.summary,
    createdAt: request.createdAt,
    createdAtText: `${timeText(new Date(request.createdAt))} (${ageText(new Date(request.createdAt), now)} ago)`,
    deadline: request.status === 'pending' ? request.deadline : undefined,
    deadlineText: request.deadline ? timeText(new Date(request.deadline)) : undefined,
    runId: request.runId,
    runUrl: `${webUrl}/${repository}/actions/runs/${request.runId}/attempts/${request.runAttempt}`,
    checkRunUrl: request.checkRun?.url,
    pullNumber: request.pullNumber,
    pullUrl: request.pullNumber ? `${webUrl}/${repository}/pull/${request.pullNumber}` : undefined,
    issueNumber: request.issue?.number,
    issueUrl: request.issue?.url,
    decision: request.decision,
    requirements: requirementViews(request.decision),
    votes: request.votes.map((v) => ({ ...v, atText: timeText(new Date(v.at)) })),
    timeline: events.map((e) => ({ ...auditEventView(e), type: e.type.replaceAll('_', ' ') })),
  };
}
