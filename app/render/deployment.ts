/**
 * What a job gated by the deployment protection rule shows on its run page: status reports while it
 * waits (who is still needed, who approved) and the comment with the answer. GitHub shows them as
 * plain text, at most 1,024 characters each.
 */
import { requirementProgress } from '../gate/progress.js';
import type { GateRequest } from '../gate/request.js';
import { shorten } from './limits.js';
import { headline, logins, PLAIN } from './text.js';

export const DEPLOYMENT_COMMENT_MAX = 1024;

/** Where to vote, for people reading the run page. */
function where(request: GateRequest): string {
  const thread = request.pullNumber !== undefined ? `pull request #${request.pullNumber}` : request.issue ? `issue #${request.issue.number}` : undefined;
  // No thread where GitHub takes no approval issue (issues off): the buttons alone.
  const links = [thread && `comment /approve or /reject on ${thread}`, request.checkRun?.url && `use the buttons on ${request.checkRun.url}`].filter(Boolean);
  return links.length > 0 ? ` To vote, ${links.join(' or ')}.` : '';
}

/** A status report for a request still waiting; undefined when there is nothing to say yet. */
export function statusReport(request: GateRequest, now: Date): string | undefined {
  if (request.status !== 'pending' || !request.decision) return undefined;
  const awaiting = requirementProgress(request, now)
    .filter((r) => r.awaiting > 0)
    .map((r) => `${r.awaiting} more from ${r.awaitingFrom}`);
  const approved = request.votes.filter((v) => v.choice === 'approve');
  const parts = [
    headline(request, PLAIN) + '.',
    awaiting.length > 0 ? `Needs ${awaiting.join('; ')}.` : '',
    approved.length > 0 ? `Approved so far by ${logins(approved, 10)}.` : '',
  ].filter(Boolean);
  return shorten(parts.join(' ') + where(request), DEPLOYMENT_COMMENT_MAX);
}

/** The comment sent with the answer. */
export function answerComment(request: GateRequest): string {
  return shorten(`${headline(request, PLAIN)}. Request ${request.id}.`, DEPLOYMENT_COMMENT_MAX);
}
