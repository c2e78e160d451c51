/** Rows as either driver returns them → the Store's types. int8 arrives as a string from `pg`. */
import type { ApprovalRequest, AuditEvent, ClaimedTimer, DashboardSession, RequestStatus, Timer, Vote } from './store.js';

type Row = Record<string, unknown>;

export function toVote(row: Row): Vote {
  return {
    requestId: String(row.request_id),
    login: String(row.login),
    choice: row.choice as Vote['choice'],
    note: String(row.note),
    via: String(row.via),
    at: row.at as Date,
    commentId: optionalNumber(row.comment_id),
    withdrawnAt: (row.withdrawn_at ?? null) as Date | null,
    facts: row.facts as Record<string, unknown>,
  };
}

function optionalNumber(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}

function optionalString(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value);
}

export function toRequest(row: Row): ApprovalRequest {
  return {
    id: String(row.id),
    repositoryId: String(row.repository_id),
    runId: String(row.run_id),
    runAttempt: String(row.run_attempt),
    action: String(row.action),
    jobKey: String(row.job_key ?? ''),
    repository: String(row.repository),
    requester: String(row.requester),
    environmentKey: String(row.environment_key ?? ''),
    commitSha: optionalString(row.commit_sha),
    status: row.status as RequestStatus,
    reason: optionalString(row.reason),
    completedBy: optionalString(row.completed_by),
    facts: row.facts as Record<string, unknown>,
    decision: (row.decision ?? null) as Record<string, unknown> | null,
    prNumber: optionalNumber(row.pr_number),
    checkRunId: optionalNumber(row.check_run_id),
    checkRunUrl: optionalString(row.check_run_url),
    otherCheckRunIds: Array.isArray(row.other_check_run_ids) ? row.other_check_run_ids.map(Number) : [],
    commentId: optionalNumber(row.comment_id),
    commentUrl: optionalString(row.comment_url),
    issueNumber: optionalNumber(row.issue_number),
    issueUrl: optionalString(row.issue_url),
    deadline: (row.deadline ?? null) as Date | null,
    createdAt: row.created_at as Date,
    updatedAt: row.updated_at as Date,
    completedAt: (row.completed_at ?? null) as Date | null,
  };
}

export function toTimer(row: Row): Timer {
  return {
    id: Number(row.id),
    kind: String(row.kind),
    requestId: optionalString(row.request_id),
    key: optionalString(row.key),
    dueAt: row.due_at as Date,
    payload: row.payload as Record<string, unknown>,
    attempts: Number(row.attempts),
    createdAt: row.created_at as Date,
  };
}

export function toClaimedTimer(row: Row): ClaimedTimer {
  return { ...toTimer(row), claimToken: String(row.claim_token), leaseUntil: row.lease_until as Date };
}

export function toAuditEvent(row: Row): AuditEvent {
  return {
    seq: Number(row.seq),
    requestId: optionalString(row.request_id),
    type: String(row.type),
    actor: String(row.actor),
    at: row.at as Date,
    facts: row.facts as Record<string, unknown>,
    prevHash: String(row.prev_hash),
    hash: String(row.hash),
  };
}

export function toSession(row: Row): DashboardSession {
  return {
    idHash: String(row.id_hash),
    login: String(row.login),
    userId: String(row.user_id),
    accessToken: String(row.access_token),
    csrfToken: String(row.csrf_token),
    createdAt: row.created_at as Date,
    expiresAt: row.expires_at as Date,
  };
}
