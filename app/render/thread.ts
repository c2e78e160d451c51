/** The PR comment (edited in place) or, for runs without a PR, the approval issue. */
import type { GateRequest } from '../gate/request.js';
import { headline, requirementLines, votesLines } from './text.js';

/** Hidden marker so a human reading the thread's source can tell which request a comment tracks. */
export function requestMarker(requestId: string): string {
  return `<!-- mercurial-jit request ${requestId} -->`;
}

/** `approvers` is the mention line (teams first, capped at GitHub's 50 mentions). */
export function threadBody(request: GateRequest, links: { checkRunUrl?: string; approvers: string }): string {
  const lines = [
    requestMarker(request.id),
    `### ${headline(request)}`,
    '',
    `Requested by @${request.requester} in run ${request.runId} (attempt ${request.runAttempt}) on \`${request.ref}\`${request.severity ? `, severity \`${request.severity}\`` : ''}.`,
    ...(request.summary ? ['', `> ${request.summary.replace(/\n/g, '\n> ')}`] : []),
    '',
    ...requirementLines(request),
    ...votesLines(request),
  ];
  if (request.status === 'pending') {
    if (links.approvers) lines.push(`Approvers: ${links.approvers}`, '');
    lines.push(`Reply \`/approve [note]\` or \`/reject <reason>\`, or use the buttons on the check run${links.checkRunUrl ? ` (${links.checkRunUrl})` : ''}. Edited comments do not count. Deadline: ${request.deadline ?? 'none'}.`);
  } else if (links.checkRunUrl) {
    lines.push(`Decision record: ${links.checkRunUrl}`);
  }
  return lines.join('\n');
}

export function issueTitle(request: GateRequest): string {
  return `Approval needed: ${request.action}${request.environment ? ` to ${request.environment}` : ''} (run ${request.runId})`;
}
