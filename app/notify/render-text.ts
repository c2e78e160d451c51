/** Wording shared by the Slack and e-mail renderers. Pure. */
import { oneLine } from '../render/untrusted.js';
import type { NotificationDecision, NotificationEvent, NotificationLinks } from './event.js';

/** Said above the workflow's summary, which Slack and e-mail show after the App's own lines. */
export const SUMMARY_LABEL = "Workflow's summary (not checked by the App):";

const DECISION_WORDS: Record<NotificationDecision['status'], string> = {
  approved: 'Approved',
  rejected: 'Rejected',
  timed_out: 'Timed out',
  cancelled: 'Cancelled',
  failed: 'Failed',
};

/** One line saying what happened, for a subject, a Slack header or a notification preview. An override is said first, loudly. */
export function headline(event: NotificationEvent): string {
  const line = plainHeadline(event);
  if (!event.override) return line;
  const windows = event.override.windows.join(', ');
  return event.kind === 'decided' && event.override.by.length > 0 ? `⚠️ OVERRIDE of ${windows}: ${line}` : `⚠️ Needs an override of ${windows}: ${line}`;
}

function plainHeadline(event: NotificationEvent): string {
  const what = `${event.action} in ${event.repository}`;
  switch (event.kind) {
    case 'requested':
      return `Approval needed: ${what}`;
    case 'reminder':
      return `Reminder: ${what} still needs approval (pending ${formatDuration(pendingSeconds(event))})`;
    case 'escalated':
      return `Escalated: ${what} still needs approval after ${formatDuration(pendingSeconds(event))}`;
    case 'released':
      return `Released: ${what} may go ahead now that ${event.releasedFrom.join(', ')} ${event.releasedFrom.length === 1 ? 'has' : 'have'} opened${event.approvalsRequired > 0 ? '; it needs approval' : ''}`;
    case 'decided':
      return `${DECISION_WORDS[event.decision.status]}: ${what}`;
  }
}

/** `approved by alice: ship it`, `timed out`, … */
export function decisionSentence(decision: NotificationDecision, caller: CallerText = oneLine): string {
  const status = DECISION_WORDS[decision.status];
  const by = decision.by && decision.by !== 'app' ? ` by ${decision.by}` : '';
  const reason = decision.reason ? `: ${caller(decision.reason)}` : '';
  return `${status}${by}${reason}`;
}

export function pendingSeconds(event: NotificationEvent): number {
  return Math.max(0, Math.round((Date.parse(event.occurredAt) - Date.parse(event.requestedAt)) / 1000));
}

/** `45s`, `30m`, `2h 5m`, `3d 4h`: the two largest units, as people say it. */
export function formatDuration(totalSeconds: number): string {
  const units: [string, number][] = [
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ];
  const parts: string[] = [];
  let rest = Math.max(0, Math.floor(totalSeconds));
  for (const [unit, size] of units) {
    const count = Math.floor(rest / size);
    rest -= count * size;
    if (count > 0 || (unit === 's' && parts.length === 0)) parts.push(`${count}${unit}`);
    if (parts.length === 2) break;
  }
  // `2h 0m` reads worse than `2h`.
  return parts.filter((part, i) => i === 0 || !part.startsWith('0')).join(' ');
}

export function shortSha(sha: string): string {
  return sha.slice(0, 7);
}

/**
 * Shows text the App did not write (the workflow's claims, a branch name, a reason) in a renderer's
 * own way, so that it cannot pass for the App's wording. By default: one line, hidden characters
 * dropped, so it cannot start a row of its own.
 */
export type CallerText = (text: string) => string;

/** The facts people need to decide, as label/value pairs in reading order; absent ones are left out. */
export function factRows(event: NotificationEvent, caller: CallerText = oneLine): [string, string][] {
  const claim = (text: string | undefined) => (text === undefined ? undefined : caller(text));
  const rows: [string, string | undefined][] = [
    ['Repository', event.repository],
    ['Action', caller(event.action)],
    ['Requested by', event.requester],
    ['Branch', claim(event.branch)],
    ['Commit', shortSha(event.sha)],
    ['Environment', claim(event.environment)],
    ['Severity', claim(event.severity)],
    ['Matched rules', event.matchedRules.length > 0 ? event.matchedRules.join(', ') : undefined],
    ['Who may approve', approverSentence(event)],
  ];
  if (event.kind === 'escalated' && event.addedApprovers.length > 0) rows.push(['Added by escalation', event.addedApprovers.join(', ')]);
  if (event.kind === 'released') rows.push(['Released from', event.releasedFrom.join(', ')]);
  if (event.override) rows.push(['Override', overrideSentence(event.override, caller)]);
  if (event.kind === 'decided') rows.push(['Decision', decisionSentence(event.decision, caller)]);
  return rows.filter((row): row is [string, string] => row[1] !== undefined && row[1] !== '');
}

function overrideSentence(override: NonNullable<NotificationEvent['override']>, caller: CallerText): string {
  const said = override.messages.length > 0 ? ` (${override.messages.join(' ')})` : '';
  if (override.by.length === 0) return `${override.windows.join(', ')} ${override.windows.length === 1 ? 'is' : 'are'} closed${said}: approving overrides it, and needs a reason`;
  return `${override.windows.join(', ')} overridden by ${override.by.map((o) => `${o.login}: ${caller(o.reason)}`).join('; ')}`;
}

function approverSentence(event: NotificationEvent): string | undefined {
  if (event.approvers.length === 0) return undefined;
  const needed = event.approvalsRequired === 1 ? '1 approval' : `${event.approvalsRequired} approvals`;
  return `${event.approvers.join(', ')} (${needed} needed)`;
}

export interface LabelledLink {
  label: string;
  url: string;
}

/** Only http(s) links are ever rendered: a link is clickable in every renderer. */
export function labelledLinks(links: NotificationLinks, pending: boolean): LabelledLink[] {
  const all: [string, string | undefined][] = [
    [pending ? 'Review and approve' : 'View check run', links.checkRun],
    ['View pull request', links.pullRequest],
    ['View approval issue', links.issue],
  ];
  return all.filter((entry): entry is [string, string] => entry[1] !== undefined && /^https?:\/\//i.test(entry[1])).map(([label, url]) => ({ label, url }));
}
