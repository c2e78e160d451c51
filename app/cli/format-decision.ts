/** A decision as text for people (`explain --format text`); the JSON form is the decision itself. */
import { defaultsReason, defaultsSource, describeApprovers, describeOwnerGroup, requirementName } from '../../policies/approvers.js';
import type { ApproverSet, Decision, WindowsDecision } from '../../policies/decision.js';
import { formatDuration } from '../../policies/duration.js';
import { closingZone } from '../../policies/window-judgement.js';
import { wallClock } from '../../policies/windows.js';
import type { SourceLocation } from '../../policies/types.js';

/** Long file lists are cut here; the JSON output always has them all. */
const FILES_SHOWN = 10;

const where = (l: SourceLocation): string => `${l.file}:${l.line}:${l.col}`;
const mark = (ok: boolean): string => (ok ? '✓' : '✗');

export function formatDecision(decision: Decision): string {
  const out: string[] = [decision.summary];
  // Conditions print the severity in force; say when the step left it out, or a reader takes it as stated.
  if (decision.facts.severityAssumed && readsSeverity(decision)) {
    out.push(
      decision.facts.severity === undefined
        ? 'The step states no severity, so every severity condition that tightens the gate holds, and none that loosens it.'
        : `The step states no severity, so it is taken as \`${decision.facts.severity}\`.`,
    );
  }
  out.push('');
  if (decision.problems.length > 0) {
    out.push('Blocked because:', ...decision.problems.map((p) => `  - ${p}`), '');
  }

  out.push('Rules:');
  if (decision.rules.length === 0) out.push('  (the policy has no rules)');
  for (const rule of decision.rules) {
    const effect = rule.effect === 'none' ? 'not matched' : rule.effect === 'auto_approve' ? 'auto-approves' : 'requires approval';
    out.push(`  ${mark(rule.matched)} ${rule.name} — ${effect} (${where(rule.location)})`);
    if (rule.conditions.length === 0) out.push('      no conditions: applies to every request');
    for (const c of rule.conditions) out.push(`      ${c.error ? '!' : mark(c.matched)} ${c.reason}`);
    if (rule.unless && rule.unless.length > 0) {
      const all = rule.unless.every((c) => c.matched);
      out.push(`      unless (${all ? 'all hold, so the rule does not apply' : 'not all hold, so the rule is not excepted'}):`);
      for (const c of rule.unless) out.push(`        ${c.error ? '!' : mark(c.matched)} ${c.reason}`);
    }
    for (const e of rule.escalations) out.push(`      ${e.applied ? '↑' : '·'} escalation (${where(e.location)}): ${e.reason}`);
  }

  if (decision.requirements.length > 0) {
    out.push('', 'Requirements (each must be met):');
    for (const r of decision.requirements) {
      const [which, why] = defaultsSource(r);
      const from = r.rule === null && !r.override ? `${which} (${why})` : requirementName(r).replace(/`/g, '');
      out.push(`  ${from}: ${r.approvals} approval${r.approvals === 1 ? '' : 's'} from ${describeApprovers(r.approvers)}`);
      if (r.escalation) out.push(`      added by the escalation at ${where(r.escalation.location)}: ${r.escalation.reason}`);
      out.push(...approverLines(r.approvers, '      '));
      out.push(`      self-approval ${r.allowSelfApproval ? 'allowed' : 'not allowed'}`);
      for (const s of r.scheduled) {
        const extra = describeApprovers(s.approvers);
        const parts = [
          ...(extra !== 'nobody' ? [`also eligible: ${extra}`] : []),
          ...(s.notify.length > 0 ? [`notify ${s.notify.join(', ')}`] : []),
        ];
        out.push(`      after ${formatDuration(s.afterSeconds)} still pending: ${parts.join('; ') || 'nothing'}`);
      }
      if (r.unsatisfiable) out.push(`      ✗ unsatisfiable: ${r.unsatisfiable}`);
    }
  }

  if (decision.codeowners) {
    const co = decision.codeowners;
    out.push('', co.available ? 'Code owners of the changed files:' : 'Code owners of the changed files: no CODEOWNERS file');
    if (co.unknownChanges !== undefined) out.push(`  the changed files are unknown (${co.unknownChanges}): the catch-all rule's owners stand for all of them`);
    if (co.nothingChanged) out.push("  the request changes no file: the catch-all rule's owners stand for it");
    for (const g of co.groups) {
      const lines = g.rules.map((r) => `${r.line} (${r.pattern})`).join(', ');
      out.push(`  ${g.owners.join(' ')} — CODEOWNERS line ${lines}:`, ...fileLines(g.files));
    }
    if (co.unowned.length > 0) out.push('  unowned:', ...fileLines(co.unowned));
  }

  if (decision.windows) out.push('', ...windowLines(decision.windows));

  out.push('', `Timeout: ${formatDuration(decision.timeoutSeconds)}${timeoutSource(decision)}`);
  if (decision.reminderSeconds) out.push(`Reminders: every ${formatDuration(decision.reminderSeconds)}`);
  if (decision.notify.length > 0) out.push(`Notify: ${decision.notify.join(', ')}`);
  out.push(`Approvers need ${decision.eligibility.minPermission} permission${decision.eligibility.allowBots ? '' : '; bots may not approve'}`);
  return `${out.join('\n')}\n`;
}

/** Which matching rule the timeout is from: " (rule production)", or every requiring rule's when several match. */
function timeoutSource(decision: Decision): string {
  const requiring = decision.rules.filter((rule) => rule.effect === 'require' && rule.timeoutSeconds !== undefined);
  if (requiring.length === 1) return ` (rule ${requiring[0]!.name})`;
  if (requiring.length > 1) return ` (the shortest of the matching rules': ${requiring.map((rule) => `${rule.name} ${formatDuration(rule.timeoutSeconds!)}`).join(', ')})`;
  const defaults = decision.requirements.find((r) => r.rule === null && !r.override);
  return defaults ? ` (${defaultsReason(defaults)})` : '';
}

function readsSeverity(decision: Decision): boolean {
  const conditions = [
    ...decision.rules.flatMap((rule) => [...rule.conditions, ...(rule.unless ?? []), ...rule.escalations.flatMap((e) => e.conditions)]),
    ...(decision.windows?.windows.flatMap((w) => w.conditions) ?? []),
  ];
  return conditions.some((c) => c.key === 'severity');
}

/** An instant as the windows' zone reads it, as the periods are shown, and in UTC: `2026-12-07 08:00 Europe/Berlin (2026-12-07T07:00:00Z)`. */
function moment(iso: string, zone: string): string {
  return `${wallClock(Date.parse(iso), zone)} (${iso.replace(/\.000Z$/, 'Z')})`;
}

function windowLines(w: WindowsDecision): string[] {
  const zone = closingZone(w);
  const lines = [`Freezes and deploy windows at ${moment(w.at, zone)}: ${w.open ? 'open' : `closed by ${w.closedBy.join(', ')} (${w.mode})`}`];
  for (const window of w.windows) {
    const kind = window.kind === 'freeze' ? 'freeze' : 'deploy window';
    const state = window.kind === 'freeze' ? (window.inForce ? 'in force' : 'not in force') : window.inForce ? 'open' : 'closed';
    const period = window.periodLocal ? `${window.inForce ? 'now' : 'next'}: ${window.periodLocal.start} – ${window.periodLocal.end ?? 'no end'}` : 'no period within a year';
    lines.push(`  ${window.applies ? mark(!window.inForce === (window.kind === 'freeze')) : '·'} ${kind} ${window.name} — ${window.applies ? state : 'does not apply'}; ${period} (${where(window.location)})`);
    for (const c of window.conditions) lines.push(`      ${c.error ? '!' : mark(c.matched)} ${c.reason}`);
    if (window.message && window.applies) lines.push(`      "${window.message}"`);
  }
  if (!w.open) lines.push(w.opensAt ? `  may go ahead from ${moment(w.opensAt, zone)}` : '  no opening within a year');
  if (w.recheckAt) lines.push(`  a window in scope next changes at ${moment(w.recheckAt, zone)}`);
  return lines;
}

function approverLines(set: ApproverSet, indent: string): string[] {
  const lines: string[] = [];
  if (set.codeowners === 'any') lines.push(`${indent}code owners (any of): ${set.owners.length > 0 ? set.owners.join(' ') : '(none)'}`);
  if (set.codeowners === 'each_group') {
    lines.push(`${indent}code owners, one approval for each group:${set.ownerGroups.length > 0 ? '' : ' (no changed file has a code owner)'}`);
    for (const group of set.ownerGroups) lines.push(`${indent}  ${describeOwnerGroup(group)}`);
  }
  if (set.teams.length > 0) lines.push(`${indent}teams: ${set.teams.join(' ')}`);
  if (set.users.length > 0) lines.push(`${indent}users: ${set.users.map((u) => `@${u}`).join(' ')}`);
  if (set.roles.length > 0) lines.push(`${indent}roles: ${set.roles.join(' ')}`);
  return lines;
}

function fileLines(files: readonly string[]): string[] {
  const shown = files.slice(0, FILES_SHOWN).map((f) => `      ${f}`);
  if (files.length > FILES_SHOWN) shown.push(`      … and ${files.length - FILES_SHOWN} more`);
  return shown;
}
