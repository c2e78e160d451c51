/** The PR comment (edited in place) or, for runs without a PR, the approval issue. */
import type { GateRequest } from '../gate/request.js';
import { GITHUB_MENTION_LIMIT, mentionLine } from '../notify/mentions.js';
import { fitDocument, LIMITS, shorten } from './limits.js';
import { headline, requirementBlocks, voteBlocks, windowBlocks } from './text.js';
import { blockQuote, codeBlock, inlineCode, oneLine } from './untrusted.js';

/** The API takes summaries of at most 4,000 characters (code points); this many UTF-16 code units always holds them. */
const SUMMARY_MAX = 8_000;
/** A ref or a severity in the "Requested by" line is cut to this many characters. */
const NAME_MAX = 255;
/** The environment in an issue title is cut to this many characters, so the title keeps its run number. */
const TITLE_ENVIRONMENT_MAX = 100;

/** Hidden marker so a human reading the thread's source can tell which request a comment tracks. */
export function requestMarker(requestId: string): string {
  return `<!-- mercurial-jit request ${requestId} -->`;
}

/**
 * The Approvers line of the thread: `approvers` @-mentioned, teams first, within what GitHub
 * notifies of one comment (its first 50 distinct mentions) after the people the body mentions
 * above the line (who requested it, who voted); the rest are counted.
 */
export function approversLine(request: GateRequest, approvers: readonly string[]): string {
  const above = new Set([request.requester, ...(request.requesters ?? []).map((r) => r.login), ...request.votes.map((v) => v.login)].map((login) => login.toLowerCase()));
  return mentionLine(approvers, GITHUB_MENTION_LIMIT - above.size).line;
}

/** `approvers` is the Approvers line (see `approversLine`). */
export function threadBody(request: GateRequest, links: { checkRunUrl?: string; approvers: string }): string {
  const requested = `Requested by @${request.requester} in run ${request.runId}${request.runAttempt !== '0' ? ` (attempt ${request.runAttempt})` : ''} on ${inlineCode(request.ref, NAME_MAX)}${request.severity ? `, severity ${inlineCode(request.severity, NAME_MAX)}` : ''}.`;
  // The summary is the workflow's own text: a quoted code block, so it reads as quoted and renders literally.
  const summary = request.summary ? [blockQuote(codeBlock(request.summary, SUMMARY_MAX)), ['']] : [];
  const tail: string[] = [];
  if (request.status === 'pending') {
    if (links.approvers) tail.push(`Approvers: ${links.approvers}`, '');
    if (request.decision?.outcome === 'held') tail.push(`Votes count once a window lets the request go ahead. Deadline: ${request.deadline ?? 'none'}.`);
    else tail.push(`Reply \`/approve\` (a note may follow) or \`/reject <reason>\`, or use the buttons on the check run${links.checkRunUrl ? ` (${links.checkRunUrl})` : ''}. Edited comments do not count. Deadline: ${request.deadline ?? 'none'}.`);
  } else if (links.checkRunUrl) {
    tail.push(`Decision record: ${links.checkRunUrl}`);
  }
  return fitDocument({
    head: [[requestMarker(request.id), `### ${headline(request)}`, '', requested, ''], ...summary],
    middle: [...windowBlocks(request), ...requirementBlocks(request), ...voteBlocks(request)],
    tail: [tail],
  }, LIMITS.body);
}

export function issueTitle(request: GateRequest): string {
  const environment = request.environment ? ` to ${shorten(oneLine(request.environment), TITLE_ENVIRONMENT_MAX)}` : '';
  return shorten(`Approval needed: ${request.action}${environment} (run ${request.runId})`, LIMITS.issueTitle.max, LIMITS.issueTitle.measure);
}
