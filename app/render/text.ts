/** Wording shared by the check run, the PR comment and the approval issue. */
import { describeApprovers, describeOwnerGroup } from '../../policies/approvers.js';
import { codeSpan } from '../../policies/markdown.js';
import { untilText } from '../../policies/window-judgement.js';
import { currentRequirements, requirementProgress } from '../gate/progress.js';
import type { GateRequest, Vote } from '../gate/request.js';
import { inlineCode, oneLine } from './untrusted.js';

/** Caller text in the decision line is cut to this many characters; the votes below show more of it. */
const HEADLINE_TEXT_MAX = 200;
/** An `/approve` note or `/reject` reason in the list of votes is cut to this many characters. */
const NOTE_MAX = 1_000;
/** The decision line names this many approvers, then says how many more. */
const HEADLINE_APPROVERS_MAX = 10;

/** How the decision line shows names (action, environment) and sentences (a reason) it did not write. */
export interface HeadlineStyle {
  name(text: string): string;
  sentence(text: string): string;
}

/** For Markdown: everything not the App's own wording as code, which GitHub renders literally. */
export const MARKDOWN: HeadlineStyle = {
  name: (text) => inlineCode(text, HEADLINE_TEXT_MAX),
  sentence: (text) => inlineCode(text, HEADLINE_TEXT_MAX),
};

/** For plain-text fields such as a check run's title: one line, cut by the field's own limit. */
export const PLAIN: HeadlineStyle = {
  name: (text) => `\`${oneLine(text)}\``,
  sentence: oneLine,
};

/** The decision line: what is being approved and where it stands. */
export function headline(request: GateRequest, style: HeadlineStyle = MARKDOWN): string {
  const subject = `${style.name(request.action)}${request.environment ? ` to ${style.name(request.environment)}` : ''}`;
  const windows = request.decision?.windows;
  const overrides = overrideVotes(request);
  switch (request.status) {
    case 'pending':
      if (request.decision?.outcome === 'held' && windows) {
        return `${heldWord(request)} ${untilText(windows)}: ${subject} waits (${windows.messages.map((m) => style.sentence(m)).join(' ')})`;
      }
      if (overrideNeeded(request).length > 0) {
        return `⚠️ ${heldWord(request)}: ${subject} needs an override of ${overrideNeeded(request).join(', ')}, with a reason: ${progress(request)}`;
      }
      return `Waiting for approval of ${subject}: ${progress(request)}`;
    case 'approved':
      if (request.reason === 'auto') return `${subject} approved automatically: ${oneLine(request.decision?.summary ?? 'no rule requires approval')}`;
      if (overrides.length > 0) {
        const windowsOverridden = [...new Set(overrides.flatMap((v) => v.override?.windows ?? []))].map(codeSpan).join(', ');
        return `⚠️ OVERRIDE: ${subject} approved despite ${windowsOverridden} by ${logins(request.votes.filter((v) => v.choice === 'approve'), HEADLINE_APPROVERS_MAX)}; reason: ${style.sentence(overrides[0].override?.reason ?? '')}`;
      }
      return `${subject} approved by ${logins(request.votes.filter((v) => v.choice === 'approve'), HEADLINE_APPROVERS_MAX)}`;
    case 'rejected': {
      const rejection = request.votes.find((v) => v.choice === 'reject');
      return `${subject} rejected${rejection ? ` by @${rejection.login}: ${style.sentence(rejection.note)}` : `: ${style.sentence(request.reason)}`}`;
    }
    case 'timed_out':
      return `${subject} timed out without a decision`;
    case 'cancelled':
      return `${subject} cancelled: ${style.sentence(request.reason)}`;
    case 'failed':
      return `${subject} cannot be approved: ${style.sentence(request.reason)}`;
  }
}

/** "1 of 2 approvals" per requirement. */
export function progress(request: GateRequest): string {
  const requirements = requirementProgress(request);
  if (requirements.length === 0) return 'no approvals needed';
  return requirements
    .map((r) => `${Math.min(r.approvedBy.length, r.approvals)} of ${r.approvals} ${r.override ? 'override' : 'approval'}${r.approvals === 1 ? '' : 's'}${r.override ? ` (${r.override.window})` : r.rule ? ` (${r.rule})` : ''}`)
    .join(', ');
}

/** "Frozen" when a freeze holds the request, else "Outside the deploy window". */
function heldWord(request: GateRequest): string {
  const windows = request.decision?.windows;
  const closing = windows?.windows.filter((w) => windows.closedBy.includes(w.name)) ?? [];
  return closing.some((w) => w.kind === 'freeze') ? 'Frozen' : 'Outside the deploy window';
}

/** The windows a pending request needs an override of, as `freeze \`name\``. */
function overrideNeeded(request: GateRequest): string[] {
  if (request.decision?.outcome !== 'approval_required') return [];
  return (request.decision.requirements ?? []).flatMap((r) => (r.override ? [`${r.override.kind === 'freeze' ? 'freeze' : 'deploy window'} ${codeSpan(r.override.window)}`] : []));
}

function overrideVotes(request: GateRequest): Vote[] {
  return request.votes.filter((v) => v.choice === 'approve' && v.override);
}

/**
 * What freezes and deploy windows do to the request, loudly: why it is held and until when, the
 * override it needs and how to give one, or the overrides given and their reasons.
 */
export function windowBlocks(request: GateRequest): string[][] {
  const windows = request.decision?.windows;
  const given = overrideVotes(request);
  const blocks: string[][] = [];
  if (request.status === 'pending' && windows && !windows.open) {
    const closing = windows.windows.filter((w) => windows.closedBy.includes(w.name));
    const lines = [`> [!WARNING]`, `> **${heldWord(request)} ${untilText(windows)}** (${windows.opensAt ?? 'no opening within a year'})`];
    for (const w of closing) lines.push(`> - ${w.kind === 'freeze' ? 'freeze' : 'deploy window'} ${inlineCode(w.name, HEADLINE_TEXT_MAX)}${w.message ? `: ${inlineCode(w.message, NOTE_MAX)}` : ''}`);
    if (request.decision?.outcome === 'held') lines.push('>', '> The request is decided again when it opens; votes count from then on.');
    else lines.push('>', '> Approving overrides it: an eligible approver comments `/approve <reason>`. The override and its reason are recorded in the audit trail.');
    blocks.push(lines, ['']);
  }
  if (given.length > 0) {
    blocks.push([
      '> [!CAUTION]',
      `> **Override** of ${[...new Set(given.flatMap((v) => v.override?.windows ?? []))].map((w) => inlineCode(w, HEADLINE_TEXT_MAX)).join(', ')}`,
      ...given.map((v) => `> - @${v.login}: ${inlineCode(v.override?.reason ?? '', NOTE_MAX)}`),
    ], ['']);
  }
  return blocks;
}

/**
 * Who may approve, as blocks of lines: a heading, then one block per requirement, so a text cut to
 * GitHub's limit leaves out whole entries. Approvers are named as code, not @-mentioned: the
 * thread's Approvers line mentions them, within GitHub's limit of mentions per comment.
 */
export function requirementBlocks(request: GateRequest): string[][] {
  const requirements = currentRequirements(request);
  if (requirements.length === 0) return [];
  const progress = requirementProgress(request);
  const requesters = request.requesters ?? [{ login: request.requester, role: 'started the run' }];
  const notSelf = `; not ${requesters.map((r) => `@${r.login}, who ${r.role}`).join(', nor ')}`;
  return [
    ['**Who may approve**', ''],
    ...requirements.map((requirement, i) => {
      const escalation = requirement.escalation ? ` (escalation at line ${requirement.escalation.location.line})` : '';
      const where = requirement.rule ? `rule ${inlineCode(requirement.rule, HEADLINE_TEXT_MAX)}${escalation}` : 'policy defaults';
      const added = requirement.escalation ? ` (added because ${inlineCode(requirement.escalation.reason, HEADLINE_TEXT_MAX)})` : '';
      const self = requirement.allowSelfApproval ? '' : notSelf;
      const groups = (progress[i]?.groups ?? []).map(
        (group) => `  - ${group.coveredBy ? `✅ covered by @${group.coveredBy}` : '⏳ waiting'}: an owner of ${describeOwnerGroup({ ...group, fileCount: 0 }, codeSpan)}`,
      );
      return [`- ${where}${added}: ${requirement.approvals} × ${describeApprovers(requirement.approvers, codeSpan)}${self}`, ...groups];
    }),
    [''],
  ];
}

/** The votes, as blocks of lines like `requirementBlocks`. Notes and reasons are shown as code. */
export function voteBlocks(request: GateRequest): string[][] {
  if (request.votes.length === 0) return [];
  return [
    ['**Votes**', ''],
    ...request.votes.map((vote) => [`- @${vote.login} ${vote.choice === 'approve' ? 'approved' : 'rejected'} via ${vote.via}${vote.note ? `: ${inlineCode(vote.note, NOTE_MAX)}` : ''} (${vote.at})`]),
    [''],
  ];
}

/** `@bob, @alice`; past `max`, `@bob, @alice and 3 more`. */
export function logins(votes: readonly Vote[], max = Infinity): string {
  const named = votes.slice(0, max).map((v) => `@${v.login}`).join(', ');
  if (!named) return 'nobody';
  return votes.length > max ? `${named} and ${votes.length - max} more` : named;
}
