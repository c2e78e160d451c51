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
 * `jit: deploy`, with the environment and severity the request states (`jit: deploy to production,
 * severity high`), for a pull request's run the base branch it was judged for (`… (into main)`), and
 * the event when it is not the run's usual one, a push or, for a pull request, `pull_request` (`…
 * (into main, on pull_request_review)`). A branch's rules require a check by name and GitHub counts
 * the newest check of that name on the head commit, so the name must tell apart the requests about
 * that commit that the policy may judge apart: without the environment, another job of the run (a
 * preview deploy the policy lets through) would answer for the production one; without the event, a
 * review's run of the same pull request; without the base, another pull request of the branch or a
 * push run of it. The stated texts are kept whole and exact (case included, quoted where need be),
 * since two that the name blurred together could be judged apart.
 */
export function checkRunName(request: Pick<GateRequest, 'action' | 'pullNumber' | 'evaluated' | 'environment' | 'severity' | 'eventName'>): string {
  const into = request.pullNumber !== undefined ? request.evaluated?.targetBranch : undefined;
  const stated = [
    ...(request.environment !== undefined ? [`to ${word(request.environment)}`] : []),
    ...(request.severity !== undefined ? [`severity ${word(request.severity)}`] : []),
  ];
  const usualEvent = request.pullNumber !== undefined ? 'pull_request' : 'push';
  const run = [
    ...(into !== undefined ? [`into ${word(into)}`] : []),
    ...(request.eventName !== usualEvent ? [`on ${word(request.eventName)}`] : []),
  ];
  return `jit: ${request.action}${stated.length > 0 ? ` ${stated.join(', ')}` : ''}${run.length > 0 ? ` (${run.join(', ')})` : ''}`;
}

/**
 * A stated text as one word of the name: as it is when it is a plain word, else quoted as JSON
 * writes strings, with hidden characters written out, so two different texts never read the same
 * and no text can pose as another part of the name.
 */
function word(text: string): string {
  if (/^[A-Za-z0-9_./-]+$/.test(text)) return text;
  return JSON.stringify(text).replace(/[\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
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
    // When the request opened, however often it is shown again: of the check runs of one name on a
    // commit GitHub counts the latest by `completed_at`, and an older request's, shown again after its
    // Re-run button was clicked, must never pass for the newest.
    at: request.createdAt,
  };
}
