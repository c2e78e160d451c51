/** The job summary: the decision record, readable on the run's page without opening the App. */
import * as core from '@actions/core';
import { formatDuration } from '../policies/duration.js';
import { codeSpan, HIDDEN, LINE_BREAKS, longestBacktickRun, tableCell } from '../policies/markdown.js';
import type { Outcome } from './wait.js';

const HEADINGS: Record<Outcome['status'], string> = {
  approved: '✅ Approved',
  rejected: '❌ Rejected',
  timed_out: '⏱️ Timed out',
  cancelled: '🚫 Cancelled',
  failed: '⚠️ Cannot be approved',
};

export interface SummarySubject {
  action: string;
  environment?: string;
}

/**
 * Lines as a fenced code block whose fence no line can close (longer than any backtick run in them),
 * line breaks of every kind normalised and hidden characters dropped, as the App shows such text.
 */
function codeBlock(lines: readonly string[]): string[] {
  const text = lines.join('\n').replace(HIDDEN, '').replace(LINE_BREAKS, '\n');
  const fence = '`'.repeat(Math.max(3, longestBacktickRun(text) + 1));
  return [fence, ...text.split('\n'), fence];
}

/**
 * The step's inputs and the App's reason and problems can carry text someone else wrote (a `/reject`
 * reason, a severity passed on from a `workflow_dispatch` input): it is shown as code, so it cannot
 * write the summary's own lines (a heading saying "Approved", a link of its own).
 */
export function summaryMarkdown(outcome: Outcome, subject: SummarySubject): string {
  const heading = outcome.decision === 'auto_approved' ? '✅ Approved automatically' : HEADINGS[outcome.status];
  const target = `${codeSpan(subject.action)}${subject.environment ? ` to ${codeSpan(subject.environment)}` : ''}`;
  const rows: [string, string][] = [
    ['Decision', outcome.decision ?? 'none (error)'],
    ['Approved by', outcome.approvedBy.map((login) => (login.startsWith('@') ? login : `@${login}`)).join(', ') || '—'],
    ['Reason', outcome.reason ? codeSpan(outcome.reason) : '—'],
    ['Matched rules', outcome.matchedRules.join(', ') || '—'],
    ['Request', outcome.requestId ? `\`${outcome.requestId}\`` : '—'],
    ['Check run', outcome.checkRunUrl ? `[${outcome.checkRunUrl}](${outcome.checkRunUrl})` : '—'],
    ['Waited', formatDuration(outcome.waitedSeconds)],
  ];
  if (outcome.source === 'check-run') rows.push(['Read from', 'the check run (the App was unreachable)']);
  const lines = [
    `## ${heading}: ${target}`,
    '',
    '| | |',
    '|---|---|',
    ...rows.map(([name, value]) => `| ${name} | ${tableCell(value)} |`),
  ];
  if (outcome.problems.length > 0) lines.push('', '**Policy errors**', '', ...codeBlock(outcome.problems));
  return `${lines.join('\n')}\n`;
}

/** Writes nothing outside a runner (no GITHUB_STEP_SUMMARY), where core.summary would throw. */
export async function writeSummary(outcome: Outcome, subject: SummarySubject): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) return;
  await core.summary.addRaw(summaryMarkdown(outcome, subject)).write();
}
