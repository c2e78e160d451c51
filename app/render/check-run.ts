/** Check run `jit: <action>`: buttons while pending, the decision record once decided. */
import type { CheckRunButton, CheckRunConclusion, CheckRunContent } from '../github/github.js';
import type { GateRequest, RequestStatus } from '../gate/request.js';
import { decisionRecordText } from './decision-record.js';
import { fitDocument, LIMITS, shorten } from './limits.js';
import { headline, PLAIN, requirementBlocks, voteBlocks, windowBlocks } from './text.js';
import { codeBlock } from './untrusted.js';

/** GitHub caps labels and identifiers at 20 characters and descriptions at 40. */
export const APPROVE_BUTTON: CheckRunButton = { label: 'Approve', description: 'Approve this gated step', identifier: 'jit-approve' };
export const REJECT_BUTTON: CheckRunButton = { label: 'Reject', description: 'Reject this gated step', identifier: 'jit-reject' };

/** Policy errors beyond this many characters are cut; the check run must stay within its own limit. */
const PROBLEMS_MAX = 16_000;

export const CONCLUSIONS: Record<RequestStatus, CheckRunConclusion> = {
  pending: 'action_required',
  approved: 'success',
  rejected: 'failure',
  failed: 'failure',
  timed_out: 'timed_out',
  cancelled: 'cancelled',
};

/**
 * `jit: deploy`, and for a pull request's run `jit: deploy (into main)`: a branch's rules require the
 * check of requests into that branch, and GitHub counts the newest check of a name on the pull
 * request's head. Named for the action alone, a request about the same head commit and other facts
 * (another pull request of that branch into `dev`, a push run of it) would answer for this one.
 */
export function checkRunName(request: Pick<GateRequest, 'action' | 'pullNumber' | 'evaluated'>): string {
  const into = request.pullNumber !== undefined ? request.evaluated?.targetBranch : undefined;
  return into === undefined ? `jit: ${request.action}` : `jit: ${request.action} (into ${into})`;
}

export function checkRunContent(request: GateRequest, detailsUrl: string): CheckRunContent {
  const pending = request.status === 'pending';
  const summary = fitDocument({
    head: [[headline(request), '']],
    middle: [
      ...(request.problems.length > 0 ? [['**Policy errors**', '', ...codeBlock(request.problems.join('\n'), PROBLEMS_MAX), '']] : []),
      ...windowBlocks(request),
      ...requirementBlocks(request),
      ...voteBlocks(request),
    ],
    tail: pending
      ? [['', `Approve with the **Approve** button above or a \`/approve\` comment; reject with **Reject** or \`/reject <reason>\`. Deadline: ${request.deadline ?? 'none'}.`]]
      : [],
  }, LIMITS.checkRunOutput);
  return {
    name: checkRunName(request),
    headSha: request.headSha,
    externalId: request.id,
    detailsUrl,
    conclusion: CONCLUSIONS[request.status],
    title: shorten(headline(request, PLAIN), LIMITS.checkRunTitle.max, LIMITS.checkRunTitle.measure),
    summary,
    text: decisionRecordText(request, LIMITS.checkRunOutput),
    buttons: pending ? [APPROVE_BUTTON, REJECT_BUTTON] : [],
  };
}
