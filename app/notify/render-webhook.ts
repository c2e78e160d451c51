/**
 * The JSON body of a signed webhook delivery. Pure. Keys are snake_case, as in GitHub's payloads;
 * absent facts are `null` so receivers see a stable shape. `version` changes only on a breaking change.
 * The delivery's id and the time of sending are in the body, which the signature covers, so that a
 * receiver can tell a replayed body from a new one: headers are not signed.
 */
import type { NotificationEvent } from './event.js';

export const WEBHOOK_PAYLOAD_VERSION = 1;

export interface WebhookPayload {
  version: typeof WEBHOOK_PAYLOAD_VERSION;
  event: NotificationEvent['kind'];
  /** The same on every attempt of one delivery: receivers drop repeats by it. */
  delivery_id: string;
  occurred_at: string;
  /** When this attempt was sent: receivers drop bodies sent too long ago. */
  sent_at: string;
  request: {
    id: string;
    repository: string;
    action: string;
    requester: string;
    branch: string | null;
    sha: string;
    environment: string | null;
    severity: string | null;
    summary: string | null;
    matched_rules: string[];
    approvers: string[];
    approvals_required: number;
    requested_at: string;
    status: 'pending' | NonNullable<WebhookPayload['decision']>['status'];
    links: { check_run: string | null; pull_request: string | null; issue: string | null };
  };
  /** Approvers an `escalated` event added; null for other events. */
  added_approvers: string[] | null;
  /** The windows whose opening a `released` event reports; null for other events. */
  released_from: string[] | null;
  /** Closed windows that need an override (pending) or were overridden (decided), with who overrode and why; null when none. */
  override: { windows: string[]; messages: string[]; by: { login: string; reason: string }[] } | null;
  /** Set on `decided` events only. */
  decision: { status: 'approved' | 'rejected' | 'timed_out' | 'cancelled' | 'failed'; by: string | null; reason: string | null } | null;
}

/** One attempt at one delivery: `sentAt` is ISO 8601. */
export interface WebhookAttempt {
  deliveryId: string;
  sentAt: string;
}

export function renderWebhook(event: NotificationEvent, attempt: WebhookAttempt): WebhookPayload {
  const decision = event.kind === 'decided' ? { status: event.decision.status, by: event.decision.by ?? null, reason: event.decision.reason ?? null } : null;
  return {
    version: WEBHOOK_PAYLOAD_VERSION,
    event: event.kind,
    delivery_id: attempt.deliveryId,
    occurred_at: event.occurredAt,
    sent_at: attempt.sentAt,
    request: {
      id: event.requestId,
      repository: event.repository,
      action: event.action,
      requester: event.requester,
      branch: event.branch ?? null,
      sha: event.sha,
      environment: event.environment ?? null,
      severity: event.severity ?? null,
      summary: event.summary ?? null,
      matched_rules: event.matchedRules,
      approvers: event.approvers,
      approvals_required: event.approvalsRequired,
      requested_at: event.requestedAt,
      status: decision?.status ?? 'pending',
      links: { check_run: event.links.checkRun ?? null, pull_request: event.links.pullRequest ?? null, issue: event.links.issue ?? null },
    },
    added_approvers: event.kind === 'escalated' ? event.addedApprovers : null,
    released_from: event.kind === 'released' ? event.releasedFrom : null,
    override: event.override ?? null,
    decision,
  };
}
