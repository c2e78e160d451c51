/**
 * Checks the JSON Schema cannot express: globs, durations, approvers, notifier names, escalation
 * shape, severities against the file's own list, duplicate rule names. They walk the raw value
 * defensively (it may also violate the schema) so that one run reports every problem.
 */
import { parseApproverRef } from './approver-ref.js';
import { parseDuration } from './duration.js';
import { parseExtendsRef } from './extends-ref.js';
import { ACTOR_GLOB, compileGlob, IGNORES_CASE } from './glob.js';
import { WINDOW_LISTS } from './normalise.js';
import { policySchema } from './schema.js';
import { misspeltAs, readablePath, suggestion, type SchemaProblem } from './schema-check.js';
import { compileCron, isValidTimeZone, knownTimeZones, localInstant, zonesDescribedAs } from './windows.js';
import { joinPointer } from './yaml-source.js';

/** A year: anything longer is a typo, and keeps every duration a safe integer. */
export const MAX_DURATION_SECONDS = 365 * 86400;

const GLOB_CONDITIONS = ['action', 'environment', 'branch', 'target_branch', 'paths', 'only_paths', 'event', 'actor', 'labels'];
const CONDITION_KEYS = [...GLOB_CONDITIONS, 'severity'];
const WINDOW_KEYS = Object.keys(policySchema.$defs.window.properties);

type Report = (pointer: string, message: string) => void;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const entries = (v: unknown): [number, unknown][] => (Array.isArray(v) ? [...v.entries()] : []);

/** Problems within one file, before any merge. */
export function checkPolicyFile(value: unknown, knownNotifiers: ReadonlySet<string> | undefined): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  const report: Report = (pointer, message) => problems.push({ pointer, target: 'value', message: `${readablePath(pointer)}: ${message}` });
  const reportKey: Report = (pointer, message) => problems.push({ pointer, target: 'key', message: `${readablePath(pointer)}: ${message}` });
  if (!isRecord(value)) return problems;

  if (typeof value._extends === 'string') {
    const ref = parseExtendsRef(value._extends);
    if (!ref.ok) report('/_extends', ref.message);
  }
  if (isRecord(value.defaults)) {
    checkDuration(value.defaults.timeout, '/defaults/timeout', report);
    checkDuration(value.defaults.reminder, '/defaults/reminder', report);
    checkApprovers(value.defaults.approvers, '/defaults/approvers', report);
  }
  for (const [i, rule] of entries(value.rules)) {
    if (!isRecord(rule)) continue;
    const at = `/rules/${i}`;
    for (const key of Object.keys(rule)) {
      if (CONDITION_KEYS.includes(key)) reportKey(`${at}/${key}`, `"${key}" is a condition: put it under "if:" (if: { ${key}: … })`);
    }
    checkConditions(rule.if, `${at}/if`, report);
    checkConditions(rule.unless, `${at}/unless`, report);
    if (isRecord(rule.require)) checkApprovers(rule.require.approvers, `${at}/require/approvers`, report);
    if (rule.auto_approve === true && rule.require !== undefined) {
      report(`${at}/auto_approve`, 'a rule cannot both auto_approve and require approval; split it into two rules');
    }
    checkDuration(rule.timeout, `${at}/timeout`, report);
    checkNotify(rule.notify, `${at}/notify`, knownNotifiers, report);
    for (const [j, escalation] of entries(rule.escalate)) {
      if (!isRecord(escalation)) continue;
      const here = `${at}/escalate/${j}`;
      const timed = escalation.after !== undefined;
      if (escalation.if === undefined && !timed) {
        report(here, 'an escalation needs "if" (a condition) or "after" (a duration), or both');
      }
      if (escalation.approvers !== undefined) {
        reportKey(
          `${here}/approvers`,
          'an escalation has no "approvers": write "require: { approvers: [...] }" (with "if") for people who must approve as well, or "also_eligible: [...]" (with "after") for people who may also approve once it fires',
        );
      } else if (escalation.require === undefined && escalation.also_eligible === undefined && escalation.notify === undefined) {
        report(here, 'an escalation needs "require", "also_eligible" or "notify": otherwise it changes nothing');
      }
      if (timed && escalation.require !== undefined) {
        report(
          `${here}/require`,
          'a time escalation cannot add a requirement (the request would get harder to approve the longer it waits); use "also_eligible" to let more people approve, or move "require" to an escalation with "if"',
        );
      }
      if (escalation.allow_self_approval !== undefined && escalation.require === undefined) {
        report(
          `${here}/allow_self_approval`,
          '"allow_self_approval" on an escalation says whether the requesters count towards the requirement it adds, so it needs "require" (with "if")',
        );
      }
      if (!timed && escalation.also_eligible !== undefined) {
        report(
          `${here}/also_eligible`,
          '"also_eligible" lets more people approve once a request has waited, so it needs "after"; to require more when a condition holds, use "require"',
        );
      }
      checkConditions(escalation.if, `${here}/if`, report);
      checkDuration(escalation.after, `${here}/after`, report);
      if (isRecord(escalation.require)) checkApprovers(escalation.require.approvers, `${here}/require/approvers`, report);
      checkApprovers(escalation.also_eligible, `${here}/also_eligible`, report);
      // Plain `codeowners` means one owner per group; widening a requirement cannot say that, only "any owner".
      for (const [k, approver] of entries(escalation.also_eligible)) {
        if (approver === 'codeowners') {
          report(
            `${here}/also_eligible/${k}`,
            'in also_eligible, write "codeowners:any" if any code owner of any changed file may approve for the whole requirement once it has waited (a docs owner for a payments change, say), or name the teams that may; "codeowners" (an owner for each group of files) can only be required, in "approvers"',
          );
        }
      }
      checkNotify(escalation.notify, `${here}/notify`, knownNotifiers, report);
    }
  }
  for (const [list] of WINDOW_LISTS) {
    for (const [i, window] of entries(value[list])) {
      if (isRecord(window)) checkWindow(window, `/${list}/${i}`, report, reportKey);
    }
  }
  return problems;
}

/** `Berlin` or `new york`: the one zone named after that city; else the nearest spelling. An offset gets none. */
export function zoneSuggestion(zone: string): string {
  // "UTC+1" is nearest to "UTC", an hour away from what was meant. Offsets are often printed with a
  // minus sign or a dash (UTC−05:00, as our own warnings write them), not a hyphen.
  if (/^(?:UTC|GMT)\s*[+\-\u2212\u2013]\s*\d/i.test(zone)) return ': a time zone here is an IANA name, not an offset (an offset would ignore daylight saving time).';
  // "Pacific Time" is spelt nearest to Pacific/Niue, three hours away from what was meant.
  const described = zonesDescribedAs(zone);
  if (described.length > 0) {
    const some = described.length > 3 ? `${described.slice(0, 3).join(', ')} (${described.length} in all)` : described.join(', ');
    return `: that describes a zone rather than naming one; places in it include ${some}.`;
  }
  const city = zone.trim().toLowerCase().replace(/ /g, '_');
  const zones = knownTimeZones();
  const named = zones.filter((known) => known.split('/').pop()!.toLowerCase() === city);
  return named.length === 1 ? `; did you mean "${named[0]}"?` : suggestion(zone, zones);
}

/** A freeze or deploy window: its zone, its times (cron or one period, in order), its mode and override. */
function checkWindow(window: Record<string, unknown>, at: string, report: Report, reportKey: Report): void {
  for (const key of Object.keys(window)) {
    if (CONDITION_KEYS.includes(key)) reportKey(`${at}/${key}`, `"${key}" is a condition: put it under "if:" (if: { ${key}: … })`);
  }
  const zone = typeof window.time_zone === 'string' && window.time_zone !== '' ? window.time_zone : undefined;
  const zoneOk = zone !== undefined && isValidTimeZone(zone);
  if (zone !== undefined && !zoneOk) {
    report(`${at}/time_zone`, `unknown time zone "${zone}"${zoneSuggestion(zone)} Write an IANA name such as Europe/Berlin, America/New_York or UTC`);
  }
  // Cron and date-time syntax do not depend on the zone: with a bad zone they are still checked, in UTC.
  const checkZone = zoneOk ? zone : 'UTC';
  const once = window.start !== undefined || window.end !== undefined;
  if (window.cron !== undefined && once) {
    report(`${at}/cron`, 'give either cron: { start, end } (a recurrence) or start and end (one period), not both');
  } else if (window.cron === undefined && !once && !['cron', 'start', 'end'].some((key) => misspeltAs(window, key, WINDOW_KEYS))) {
    report(at, 'a window needs its times: cron: { start, end } for a recurrence, or start and end for one period');
  }
  if (isRecord(window.cron)) {
    for (const key of ['start', 'end'] as const) {
      const pattern = window.cron[key];
      if (typeof pattern !== 'string' || pattern === '') continue;
      const fields = pattern.trim().split(/\s+/).length;
      if (fields !== 5) {
        // The cron library would read six fields with seconds first and a seventh as the year: "17 * * 5 * *" is not Fridays at 17:00.
        report(`${at}/cron/${key}`, `invalid cron expression "${pattern}": write five fields, minute hour day-of-month month day-of-week (as crontab and GitLab's deploy freezes do), not ${fields}; for example "0 17 * * 5" is Fridays at 17:00`);
        continue;
      }
      const compiled = compileCron(pattern, checkZone);
      if (!compiled.ok) report(`${at}/cron/${key}`, compiled.message);
    }
  }
  if (window.cron === undefined && once) {
    // A misspelt `strat:` is reported at its key with "did you mean "start"?"; saying here that start is missing would repeat it.
    if (window.start === undefined && !misspeltAs(window, 'start', WINDOW_KEYS)) report(at, 'a window with "end" needs "start" as well');
    if (window.end === undefined && !misspeltAs(window, 'end', WINDOW_KEYS)) report(at, 'a window with "start" needs "end" as well');
    const instants: Record<string, number> = {};
    for (const key of ['start', 'end'] as const) {
      const text = window[key];
      if (typeof text !== 'string') continue;
      const instant = localInstant(text, checkZone);
      if (instant.ok) instants[key] = instant.value;
      else report(`${at}/${key}`, instant.message);
    }
    if (zoneOk && instants.start !== undefined && instants.end !== undefined && instants.end <= instants.start) {
      report(`${at}/end`, `end ${String(window.end)} is not after start ${String(window.start)} in ${zone}: the period would be empty`);
    }
  }
  const mode = window.mode ?? 'wait';
  if (mode === 'require' && window.override === undefined) {
    report(`${at}/mode`, 'mode: require needs "override: { approvers: [...] }": who may override, with a reason');
  }
  if (mode !== 'require' && window.override !== undefined) {
    report(`${at}/override`, `"override" only applies with mode: require (this window's mode is ${String(mode)})`);
  }
  if (isRecord(window.override)) checkApprovers(window.override.approvers, `${at}/override/approvers`, report);
  checkConditions(window.if, `${at}/if`, report);
}

function checkConditions(conditions: unknown, at: string, report: Report): void {
  if (!isRecord(conditions)) return;
  for (const key of GLOB_CONDITIONS) {
    const value = conditions[key];
    const items: [string, unknown][] = Array.isArray(value)
      ? value.map((item, k) => [joinPointer(`${at}/${key}`, k), item])
      : [[`${at}/${key}`, value]];
    for (const [pointer, pattern] of items) {
      if (typeof pattern !== 'string' || pattern === '') continue;
      const options = key === 'actor' ? ACTOR_GLOB : {};
      const glob = compileGlob(pattern, options);
      if (!glob.ok) {
        report(pointer, glob.message);
        continue;
      }
      // A range between letters of different case (`[Y-b]`) reads differently once lowercased.
      const lowered = IGNORES_CASE.has(key) ? compileGlob(pattern.toLowerCase(), options) : glob;
      if (!lowered.ok) report(pointer, `${key} ignores case, so \`${pattern}\` is matched lowercased: ${lowered.message}; write the pattern in one case`);
      const list = commaList(key, pattern);
      if (list?.error) report(pointer, list.message);
    }
  }
}

/** What the values of each condition are, and what none of them can hold: for a list written as one string, an error rather than a warning. */
const LIST_FACTS: Record<string, { values: string; never?: 'comma' | 'space' }> = {
  // The App takes action names of letters, digits and `_.:/-`; GitHub's event names and logins have no comma either.
  action: { values: 'action names', never: 'comma' },
  event: { values: 'event names', never: 'comma' },
  actor: { values: 'logins', never: 'comma' },
  // Git allows a comma in a branch's name, but no space.
  branch: { values: 'branch names', never: 'space' },
  target_branch: { values: 'branch names', never: 'space' },
  // GitHub forbids a comma in neither an environment's name nor a label's.
  environment: { values: 'environment names' },
  labels: { values: 'labels' },
  paths: { values: 'file paths' },
  only_paths: { values: 'file paths' },
};

/**
 * A list written as one string (`environment: production, staging`, where YAML's list is
 * `[production, staging]`) is one pattern, which matches only a value holding that comma: an error
 * where no value can hold it, a warning elsewhere. A file name may well hold a comma, so in paths
 * only a comma followed by a space is taken for a list.
 */
export function commaList(key: string, pattern: string): { error: boolean; message: string } | undefined {
  const fact = LIST_FACTS[key];
  if (!fact) return undefined;
  const items: string[] = [];
  let spaced = false;
  let braces = 0;
  let from = 0;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') i++;
    else if (c === '{') braces++;
    else if (c === '}') braces = Math.max(0, braces - 1);
    else if (c === ',' && braces === 0) {
      const space = /\s/.test(pattern[i + 1] ?? '');
      if (!space && (key === 'paths' || key === 'only_paths')) continue;
      spaced ||= space;
      items.push(pattern.slice(from, i).trim());
      from = i + 1;
    }
  }
  if (items.length === 0) return undefined;
  items.push(pattern.slice(from).trim());
  // Quoted where YAML would read the item as something else (an alias, a mapping) or end it early.
  const yaml = (item: string) => (/^[-?:[\]{}#&*!|>'"%@`]|[,[\]{}]|: | #/.test(item) ? JSON.stringify(item) : item);
  const list = `[${items.filter((item) => item !== '').map(yaml).join(', ')}]`;
  const error = fact.never === 'comma' || (fact.never === 'space' && spaced);
  const why = error ? `and never matches: ${fact.values} hold no ${fact.never}` : `so it matches only ${fact.values} holding that comma`;
  return { error, message: `\`${pattern}\` is one pattern, not a list, ${why}; did you mean a list \`${list}\`?` };
}

function checkDuration(value: unknown, pointer: string, report: Report): void {
  if (typeof value === 'number') {
    report(pointer, `a duration needs a unit: write ${value}s, or ${value}m if you meant minutes (a bare number is not read as seconds)`);
    return;
  }
  if (typeof value !== 'string') return;
  const parsed = parseDuration(value);
  if (!parsed.ok) report(pointer, parsed.message);
  else if (parsed.seconds > MAX_DURATION_SECONDS) report(pointer, `duration "${value}" is longer than a year (365d)`);
}

function checkApprovers(value: unknown, at: string, report: Report): void {
  for (const [k, approver] of entries(value)) {
    if (typeof approver !== 'string') continue;
    const parsed = parseApproverRef(approver);
    if (!parsed.ok) report(`${at}/${k}`, parsed.message);
  }
}

function checkNotify(value: unknown, at: string, known: ReadonlySet<string> | undefined, report: Report): void {
  if (!known) return;
  for (const [k, name] of entries(value)) {
    if (typeof name !== 'string' || name === '' || known.has(name)) continue;
    const list = [...known].sort();
    const expected = list.length > 0 ? `The App knows: ${list.join(', ')}` : 'The App has no notifiers configured';
    report(`${at}/${k}`, `unknown notifier "${name}"${suggestion(name, list)} ${expected}`);
  }
}

/** An unknown `defaults.severity`, given the severities in force. */
export function checkDefaultSeverity(value: unknown, severities: readonly string[], report: Report): void {
  if (typeof value !== 'string' || value === '' || severities.includes(value)) return;
  report('/defaults/severity', `unknown severity "${value}"${suggestion(value, severities)} Severities are: ${severities.join(', ')}`);
}

/** Unknown severity names in a condition, given the severities in force. */
export function checkSeverityCondition(condition: unknown, at: string, severities: readonly string[], report: Report): void {
  const check = (name: unknown, pointer: string) => {
    if (typeof name !== 'string' || name === '' || severities.includes(name)) return;
    report(pointer, `unknown severity "${name}"${suggestion(name, severities)} Severities are: ${severities.join(', ')}`);
  };
  if (typeof condition === 'string') check(condition, at);
  else if (Array.isArray(condition)) condition.forEach((name, k) => check(name, `${at}/${k}`));
  else if (isRecord(condition)) check(condition.at_least, `${at}/at_least`);
}
