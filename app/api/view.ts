/**
 * A request as the API answers it (snake_case, as the Action's client reads it). `app_id` is the
 * GitHub App the App runs as: the Action trusts a check run in the App's place only if that App made it.
 */
import { approversOf } from '../gate/notifications.js';
import { requirementProgress } from '../gate/progress.js';
import type { GateRequest } from '../gate/request.js';
import { untilText } from '../../policies/window-judgement.js';

function awaiting(request: GateRequest, progress: ReturnType<typeof requirementProgress>): string[] {
  const windows = request.decision?.windows;
  if (request.decision?.outcome === 'held' && windows) return [`the window to open: held ${untilText(windows)} by ${windows.closedBy.join(', ')} (${windows.messages.join(' ')})`];
  return progress
    .filter((r) => r.awaiting > 0)
    .map((r) => (r.override ? `${r.awaiting} more override${r.awaiting === 1 ? '' : 's'} of ${r.override.window}, with a reason, from ${r.awaitingFrom}` : `${r.awaiting} more from ${r.awaitingFrom}`));
}

function windowView(request: GateRequest) {
  const windows = request.decision?.windows;
  if (request.status !== 'pending' || !windows || windows.open) return null;
  return { held: request.decision?.outcome === 'held', closed_by: windows.closedBy, messages: windows.messages, opens_at: windows.opensAt };
}

export function requestView(request: GateRequest, detailsUrl: string, appId: number) {
  const progress = requirementProgress(request);
  return {
    id: request.id,
    status: request.status,
    reason: request.reason,
    repository: `${request.owner}/${request.repo}`,
    repository_id: request.repositoryId,
    run_id: request.runId,
    run_attempt: request.runAttempt,
    action: request.action,
    environment: request.environment ?? null,
    severity: request.severity ?? null,
    requester: request.requester,
    matched_rules: (request.decision?.rules ?? []).filter((rule) => rule.matched).map((rule) => rule.name),
    approvals_required: progress.reduce((most, r) => Math.max(most, r.approvals), 0),
    requirements: progress.map((r) => ({
      rule: r.rule,
      escalation_line: r.escalation?.location.line ?? null,
      approvals: r.approvals,
      approved_by: r.approvedBy,
      // With `codeowners`: each owned group of changed files, and who covered it (null: still waiting).
      owner_groups: r.groups.map((g) => ({ owners: g.owners, patterns: g.patterns, covered_by: g.coveredBy })),
      awaiting: r.awaiting,
      awaiting_from: r.awaitingFrom,
    })),
    eligible_approvers: approversOf(request),
    approved_by: [...new Set(progress.flatMap((r) => r.approvedBy))],
    rejected_by: request.votes.find((v) => v.choice === 'reject')?.login ?? null,
    awaiting: request.status === 'pending' ? awaiting(request, progress) : [],
    // Set while a freeze or a closed deploy window holds the request or asks for an override.
    window: windowView(request),
    problems: request.problems,
    check_run_id: request.checkRun?.id ?? null,
    check_run_url: request.checkRun?.url ?? null,
    app_id: appId,
    details_url: detailsUrl,
    created_at: request.createdAt,
    deadline: request.deadline ?? null,
    completed_at: request.completedAt ?? null,
  };
}
