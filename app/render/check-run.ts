/** Check run `jit: <action>`: buttons while pending, the decision record once decided. */
import type { CheckRunButton, CheckRunConclusion, CheckRunContent } from '../github/github.js';
import type { GateRequest, RequestStatus } from '../gate/request.js';
import { decisionRecord, headline, requirementLines, votesLines } from './text.js';

/** GitHub caps labels and identifiers at 20 characters and descriptions at 40. */
export const APPROVE_BUTTON: CheckRunButton = { label: 'Approve', description: 'Approve this gated step', identifier: 'jit-approve' };
export const REJECT_BUTTON: CheckRunButton = { label: 'Reject', description: 'Reject this gated step', identifier: 'jit-reject' };

/** GitHub rejects check run output text over 65,535 characters. */
const OUTPUT_LIMIT = 65_000;

const CONCLUSIONS: Record<RequestStatus, CheckRunConclusion> = {
  pending: 'action_required',
  approved: 'success',
  rejected: 'failure',
  failed: 'failure',
  timed_out: 'timed_out',
  cancelled: 'cancelled',
};

export function checkRunName(action: string): string {
  return `jit: ${action}`;
}

export function checkRunContent(request: GateRequest, detailsUrl: string): CheckRunContent {
  const pending = request.status === 'pending';
  const summary = [
    headline(request),
    '',
    ...(request.problems.length > 0 ? ['**Policy errors**', '', '```', ...request.problems, '```', ''] : []),
    ...requirementLines(request),
    ...votesLines(request),
    ...(pending
      ? ['', `Approve with the **Approve** button above or a \`/approve\` comment; reject with **Reject** or \`/reject <reason>\`. Deadline: ${request.deadline ?? 'none'}.`]
      : []),
  ].join('\n');
  const text = ['## Decision record', '', '```json', JSON.stringify(decisionRecord(request), null, 2), '```'].join('\n');
  return {
    name: checkRunName(request.action),
    headSha: request.headSha,
    externalId: request.id,
    detailsUrl,
    conclusion: CONCLUSIONS[request.status],
    title: headline(request).slice(0, 1000),
    summary: summary.slice(0, OUTPUT_LIMIT),
    text: text.length > OUTPUT_LIMIT ? `${text.slice(0, OUTPUT_LIMIT)}\n… (truncated)` : text,
    buttons: pending ? [APPROVE_BUTTON, REJECT_BUTTON] : [],
  };
}
