/** Wording shared by the check run, the PR comment and the approval issue. */
import { describeApprovers } from '../../policies/approvers.js';
import { currentRequirements, requirementProgress } from '../gate/progress.js';
import type { GateRequest, Vote } from '../gate/request.js';

export function headline(request: GateRequest): string {
  const subject = `\`${request.action}\`${request.environment ? ` to \`${request.environment}\`` : ''}`;
  switch (request.status) {
    case 'pending':
      return `Waiting for approval of ${subject}: ${progress(request)}`;
    case 'approved':
      return request.reason === 'auto'
        ? `${subject} approved automatically: ${request.decision?.summary ?? 'no rule requires approval'}`
        : `${subject} approved by ${logins(request.votes.filter((v) => v.choice === 'approve'))}`;
    case 'rejected': {
      const rejection = request.votes.find((v) => v.choice === 'reject');
      return `${subject} rejected${rejection ? ` by @${rejection.login}: ${rejection.note}` : `: ${request.reason}`}`;
    }
    case 'timed_out':
      return `${subject} timed out without a decision`;
    case 'cancelled':
      return `${subject} cancelled: ${request.reason}`;
    case 'failed':
      return `${subject} cannot be approved: ${request.reason}`;
  }
}

/** "1 of 2 approvals" per requirement. */
export function progress(request: GateRequest): string {
  const requirements = requirementProgress(request);
  if (requirements.length === 0) return 'no approvals needed';
  return requirements
    .map((r) => `${Math.min(r.approvedBy.length, r.approvals)} of ${r.approvals} approval${r.approvals === 1 ? '' : 's'}${r.rule ? ` (${r.rule})` : ''}`)
    .join(', ');
}

export function requirementLines(request: GateRequest): string[] {
  const requirements = currentRequirements(request);
  if (requirements.length === 0) return [];
  return [
    '**Who may approve**',
    '',
    ...requirements.map((requirement) => {
      const where = requirement.rule ? `rule \`${requirement.rule}\`` : 'policy defaults';
      const self = requirement.allowSelfApproval ? '' : `; not @${request.requester}, who started the run`;
      return `- ${where}: ${requirement.approvals} × ${describeApprovers(requirement.approvers)}${self}`;
    }),
    '',
  ];
}

export function votesLines(request: GateRequest): string[] {
  if (request.votes.length === 0) return [];
  return [
    '**Votes**',
    '',
    ...request.votes.map((vote) => `- @${vote.login} ${vote.choice === 'approve' ? 'approved' : 'rejected'} via ${vote.via}${vote.note ? `: ${vote.note}` : ''} (${vote.at})`),
    '',
  ];
}

export function logins(votes: readonly Vote[]): string {
  return votes.map((v) => `@${v.login}`).join(', ') || 'nobody';
}

/** The record kept on the check run: enough to audit the decision without the App's database. */
export function decisionRecord(request: GateRequest) {
  return {
    request: request.id,
    repository: `${request.owner}/${request.repo}`,
    run: { id: request.runId, attempt: request.runAttempt, event: request.eventName, ref: request.ref, sha: request.headSha },
    action: request.action,
    environment: request.environment ?? null,
    severity: request.severity ?? null,
    requester: request.requester,
    status: request.status,
    reason: request.reason,
    created_at: request.createdAt,
    deadline: request.deadline,
    completed_at: request.completedAt ?? null,
    votes: request.votes,
    problems: request.problems,
    decision: request.decision ?? null,
  };
}
