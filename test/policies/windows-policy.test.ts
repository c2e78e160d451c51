/**
 * Freezes and deploy windows in a policy file: validation at file:line:col, warnings, `_extends`, and
 * the decision at a given instant (the clock is always passed in).
 */
import { describe, expect, test } from '@jest/globals';
import { checkEligibility, overrideWithoutReason, tallyVotes, type Voter } from '../../policies/approval.js';
import { evaluate } from '../../policies/evaluate.js';
import { formatDiagnostic, loadPolicy } from '../../policies/loader.js';
import type { Policy, RequestFacts } from '../../policies/types.js';

const FILE = '.github/jit-approval.yml';

function load(text: string, base?: string): Policy {
  const result = loadPolicy(text, FILE, base ? { base: { file: 'acme/.github:.github/jit-approval.yml', text: base } } : {});
  if (!result.ok) throw new Error(result.diagnostics.map(formatDiagnostic).join('\n'));
  return result.policy;
}

function problems(text: string, base?: string): string[] {
  const result = loadPolicy(text, FILE, base ? { base: { file: 'org.yml', text: base } } : {});
  return result.ok ? [] : result.diagnostics.map(formatDiagnostic);
}

function warnings(text: string): string[] {
  const result = loadPolicy(text, FILE);
  if (!result.ok) throw new Error(result.diagnostics.map(formatDiagnostic).join('\n'));
  return result.warnings.map(formatDiagnostic);
}

const facts = (f: Partial<RequestFacts> = {}): RequestFacts => ({ action: 'deploy', environment: 'production', actor: 'mallory', changedFiles: ['src/app.ts'], ...f });
const at = (iso: string) => ({ now: Date.parse(iso) });

const POLICY = `version: 1
rules:
  - name: production
    if: { environment: production }
    require: { approvals: 1, approvers: [alice] }
  - name: docs
    if: { action: publish-docs }
    auto_approve: true
freezes:
  - name: end-of-year
    time_zone: Europe/Berlin
    start: 2026-12-21T00:00
    end: 2027-01-04T08:00
    if: { environment: production }
    message: End-of-year freeze; outages only, with an override.
    mode: require
    override: { approvers: [carol, dave] }
  - name: weekend
    time_zone: Europe/Berlin
    cron: { start: "0 17 * * 5", end: "0 8 * * 1" }
    message: No deploys over the weekend.
  - name: launch-day
    time_zone: America/New_York
    start: 2026-12-10
    end: 2026-12-11
    if: { action: deploy }
    mode: reject
    message: Launch day; nothing ships.
`;

describe('what a closed window does to a request', () => {
  const policy = load(POLICY);
  const rows: [string, string, Partial<RequestFacts>, string, string][] = [
    ['an ordinary Wednesday: the rules decide', '2026-12-02T10:00:00Z', {}, 'approval_required', 'Approval required: 1 approval from @alice (rule `production`)'],
    ['a weekend freeze holds the request (wait is the default)', '2026-12-05T12:00:00Z', {}, 'held', 'Held until 2026-12-07 08:00 Europe/Berlin by freeze `weekend`: No deploys over the weekend.'],
    ['a held request that would auto-approve still waits', '2026-12-05T12:00:00Z', { action: 'publish-docs', environment: undefined }, 'held', 'then no approval needed'],
    ['launch day rejects at once with its message', '2026-12-10T15:00:00Z', {}, 'rejected', 'Launch day; nothing ships.'],
    ['launch day is a New York day: 04:59Z is still 9 December there', '2026-12-10T04:59:00Z', {}, 'approval_required', 'rule `production`'],
    ['the end-of-year freeze asks for an override as well as the rule', '2026-12-22T10:00:00Z', {}, 'approval_required', '1 approval from @carol or @dave (the override of freeze `end-of-year`), each with a reason'],
    ['out of its scope, the end-of-year freeze does nothing', '2026-12-22T10:00:00Z', { environment: 'staging' }, 'auto_approve', 'No approval needed'],
    ['a weekend inside the end-of-year freeze: waiting is stricter than an override', '2026-12-26T12:00:00Z', {}, 'held', 'freeze `end-of-year`, freeze `weekend`'],
  ];
  test.each(rows)('%s', (_case, instant, f, outcome, summary) => {
    const decision = evaluate(policy, facts(f), at(instant));
    expect(decision.outcome).toBe(outcome);
    expect(decision.summary).toContain(summary);
  });

  test('held until the window opens, and judged again when any window in scope changes', () => {
    const decision = evaluate(policy, facts(), at('2026-12-05T12:00:00Z'));
    expect(decision.windows).toMatchObject({ open: false, closedBy: ['weekend'], mode: 'wait', opensAt: '2026-12-07T07:00:00.000Z', recheckAt: '2026-12-07T07:00:00.000Z' });
    // What it will need once released is already known.
    expect(decision.requirements.map((r) => r.rule)).toEqual(['production']);
    const open = evaluate(policy, facts(), at('2026-12-02T10:00:00Z'));
    expect(open.windows).toMatchObject({ open: true, closedBy: [], mode: null, opensAt: '2026-12-02T10:00:00.000Z', recheckAt: '2026-12-04T16:00:00.000Z' });
  });

  test('the held weekend ends into the end-of-year freeze: released then, needing its override', () => {
    const decision = evaluate(policy, facts(), at('2026-12-19T12:00:00Z'));
    // The weekend ends Monday 21 December 08:00, when the end-of-year freeze is already on: it needs an override from then on.
    expect(decision.windows?.recheckAt).toBe('2026-12-20T23:00:00.000Z');
    expect(decision.windows?.opensAt).toBe('2026-12-21T07:00:00.000Z');
    expect(decision.windows?.overridesThen).toEqual(['end-of-year']);
    expect(decision.summary).toMatch(/^Held until 2026-12-21 08:00 Europe\/Berlin by freeze `weekend`: .*, and an override of freeze `end-of-year`, each with a reason\)$/);
    // Held by the weekend alone, with nothing asking for an override when it ends.
    const december = evaluate(policy, facts(), at('2026-12-05T12:00:00Z'));
    expect(december.windows?.overridesThen).toBeUndefined();
    expect(december.summary).not.toContain('override');
  });

  test('each window says whether it applies and why', () => {
    const decision = evaluate(policy, facts({ environment: 'staging' }), at('2026-12-22T10:00:00Z'));
    const endOfYear = decision.windows?.windows.find((w) => w.name === 'end-of-year');
    expect(endOfYear).toMatchObject({ applies: false, inForce: true, periodLocal: { start: '2026-12-21 00:00 Europe/Berlin', end: '2027-01-04 08:00 Europe/Berlin' } });
    expect(endOfYear?.conditions[0].reason).toContain('`staging` matches none of `production`');
  });

  test('a policy with windows and no instant is blocked, never judged as open', () => {
    const decision = evaluate(policy, facts());
    expect(decision.outcome).toBe('blocked');
    expect(decision.problems).toEqual(['the policy has freezes or deploy windows, but no time was given to judge them at']);
  });

  test('an unknown change set puts a request in scope of a path condition', () => {
    const scoped = load(`version: 1
freezes:
  - name: infra
    time_zone: UTC
    start: 2026-12-01
    end: 2027-01-01
    if: { paths: ["infra/**"] }
    mode: reject
`);
    expect(evaluate(scoped, facts({ changedFiles: ['src/a.ts'] }), at('2026-12-24T00:00:00Z')).outcome).toBe('auto_approve');
    expect(evaluate(scoped, facts({ changedFiles: ['infra/a.tf'] }), at('2026-12-24T00:00:00Z')).outcome).toBe('rejected');
    expect(evaluate(scoped, facts({ changedFiles: [], unknownChanges: 'first deploy' }), at('2026-12-24T00:00:00Z')).outcome).toBe('rejected');
  });

  test('a step that states no severity is in scope of a window on any severity: rejected, held, closed out', () => {
    const scoped = (kind: string, mode: string) =>
      load(`version: 1
${kind}:
  - name: risky
    time_zone: UTC
    start: 2026-12-01
    end: 2027-01-01
    if: { severity: [high] }
    mode: ${mode}
`);
    const december = at('2026-12-24T00:00:00Z');
    const november = at('2026-11-24T00:00:00Z');
    expect(evaluate(scoped('freezes', 'reject'), facts(), december).outcome).toBe('rejected');
    expect(evaluate(scoped('freezes', 'wait'), facts(), december).outcome).toBe('held');
    expect(evaluate(scoped('deploy_windows', 'wait'), facts(), november).outcome).toBe('held');
    // Stated severities are judged as stated.
    expect(evaluate(scoped('freezes', 'reject'), facts({ severity: 'high' }), december).outcome).toBe('rejected');
    expect(evaluate(scoped('freezes', 'reject'), facts({ severity: 'critical' }), december).outcome).toBe('auto_approve');
    expect(evaluate(scoped('deploy_windows', 'wait'), facts({ severity: 'low' }), november).outcome).toBe('auto_approve');
  });

  describe('an always-open deploy window the request is in scope of only as the worst case does not release it', () => {
    const scoped = (scope: string) =>
      load(`version: 1
deploy_windows:
  - name: office-hours
    time_zone: UTC
    cron: { start: "0 9 * * 1-5", end: "0 17 * * 1-5" }
  - name: any-time
    time_zone: UTC
    cron: { start: "0 0 * * *", end: "59 23 * * *" }
    if: ${scope}
`);
    // A Saturday evening: only `any-time` could let the request through.
    const saturday = at('2026-12-05T20:00:00Z');
    const rows: [string, string, Partial<RequestFacts>, Partial<RequestFacts>][] = [
      ['no severity stated', '{ severity: low }', {}, { severity: 'low' }],
      ['a pull request whose base ships unapproved changes', '{ branch: "hotfix/*" }', { branch: 'hotfix/x', unapprovedBase: 'evil' }, { branch: 'hotfix/x' }],
      ['an unknown change set', '{ only_paths: ["docs/**"] }', { changedFiles: [], unknownChanges: 'force push' }, { changedFiles: ['docs/a.md'] }],
      ['a re-run by someone else', '{ actor: release-bot }', { actor: 'release-bot', rerunBy: ['mallory'] }, { actor: 'release-bot' }],
    ];
    test.each(rows)('%s: held until office hours; the fact stated, it goes ahead', (_case, scope, unknown, stated) => {
      const policy = scoped(scope);
      const held = evaluate(policy, facts(unknown), saturday);
      expect(held.outcome).toBe('held');
      expect(held.windows).toMatchObject({ open: false, mode: 'wait', opensAt: '2026-12-07T09:00:00.000Z' });
      expect(held.windows?.messages).toContain('deploy window `any-time` is open, but lets through only requests known to be in its scope');
      expect(evaluate(policy, facts(stated), saturday).outcome).toBe('auto_approve');
    });
  });

  test('an override only the requester could give is blocked', () => {
    const self = load(POLICY.replace('override: { approvers: [carol, dave] }', 'override: { approvers: [mallory] }'));
    const decision = evaluate(self, facts(), at('2026-12-22T10:00:00Z'));
    expect(decision.outcome).toBe('blocked');
    expect(decision.problems[0]).toContain('the override of freeze `end-of-year`');
  });
});

describe('overrides', () => {
  const policy = load(POLICY);
  const decision = evaluate(policy, facts(), at('2026-12-22T10:00:00Z'));
  const voter = (login: string): Voter => ({ login, isBot: false, permission: 'write', teams: [] });
  const options = { requesters: [{ login: 'mallory', role: 'started the run' as const }] };

  test('an approval towards an override needs a reason; one towards the rule alone does not', () => {
    const carol = checkEligibility(decision, voter('carol'), options);
    expect(overrideWithoutReason(decision, carol, 'approve', '')).toContain('an override needs a reason');
    expect(overrideWithoutReason(decision, carol, 'approve', '   ')).toContain('an override needs a reason');
    expect(overrideWithoutReason(decision, carol, 'approve', 'payment outage, fix is one line')).toBeNull();
    expect(overrideWithoutReason(decision, carol, 'reject', '')).toBeNull();
    const alice = checkEligibility(decision, voter('alice'), options);
    expect(overrideWithoutReason(decision, alice, 'approve', '')).toBeNull();
  });

  test('the rule and the override must both be met', () => {
    // The override's approvers override with a reason; the vote says which windows it overrode.
    const cast = (login: string) => ({ voter: voter(login), verdict: 'approve' as const, ...(login === 'carol' ? { overrides: ['end-of-year'] } : {}) });
    const tally = (logins: string[]) => tallyVotes(decision, logins.map(cast), options).status;
    expect(tally(['alice'])).toBe('pending');
    expect(tally(['carol'])).toBe('pending');
    expect(tally(['alice', 'carol'])).toBe('approved');
  });

  test('an approval not cast as an override (given before the freeze started) counts for the rule, not the override', () => {
    const notOverriding = tallyVotes(decision, [{ voter: voter('carol'), verdict: 'approve' }, { voter: voter('alice'), verdict: 'approve' }], options);
    expect(notOverriding.status).toBe('pending');
    expect(notOverriding.requirements.find((r) => r.override)).toMatchObject({ approvedBy: [], awaiting: 1 });
    const anotherWindow = tallyVotes(decision, [{ voter: voter('carol'), verdict: 'approve', overrides: ['weekend'] }, { voter: voter('alice'), verdict: 'approve' }], options);
    expect(anotherWindow.status).toBe('pending');
  });

  test('no vote approves a held request', () => {
    const held = evaluate(policy, facts(), at('2026-12-05T12:00:00Z'));
    expect(tallyVotes(held, [{ voter: voter('alice'), verdict: 'approve' }], options)).toMatchObject({ status: 'blocked', reason: expect.stringContaining('holds the request') });
  });
});

describe('validation', () => {
  const window = (body: string, list = 'freezes') => `version: 1\n${list}:\n  - name: w\n${body}`;
  test.each([
    ['an unknown zone, with a suggestion', window('    time_zone: Europe/Berln\n    cron: { start: "0 17 * * 5", end: "0 8 * * 1" }\n'), `${FILE}:4:16: freezes[0].time_zone: unknown time zone "Europe/Berln"; did you mean "Europe/Berlin"?`],
    ['a city for a zone, with the zone named after it', window('    time_zone: Berlin\n    cron: { start: "0 17 * * 5", end: "0 8 * * 1" }\n'), `${FILE}:4:16: freezes[0].time_zone: unknown time zone "Berlin"; did you mean "Europe/Berlin"?`],
    ['a city in words', window('    time_zone: new york\n    cron: { start: "0 17 * * 5", end: "0 8 * * 1" }\n'), `${FILE}:4:16: freezes[0].time_zone: unknown time zone "new york"; did you mean "America/New_York"?`],
    ['one cron expression where the pair is wanted', window('    time_zone: UTC\n    cron: "0 17 * * 5"\n'), `${FILE}:5:11: freezes[0].cron: expected a mapping, got "0 17 * * 5"; write a mapping: { start: …, end: … }`],
    ['an offset for a zone, with no suggestion an hour away', window('    time_zone: UTC+1\n    cron: { start: "0 17 * * 5", end: "0 8 * * 1" }\n'), `${FILE}:4:16: freezes[0].time_zone: unknown time zone "UTC+1": a time zone here is an IANA name, not an offset (an offset would ignore daylight saving time). Write an IANA name such as Europe/Berlin`],
    // Spelt nearest to Pacific/Niue, three hours away: English's name for a zone gets places in it.
    ['an English description of a zone, with places in it', window('    time_zone: Pacific Time\n    cron: { start: "0 17 * * 5", end: "0 8 * * 1" }\n'), `${FILE}:4:16: freezes[0].time_zone: unknown time zone "Pacific Time": that describes a zone rather than naming one; places in it include America/Los_Angeles`],
    ['a standard-time description of a zone, in any case', window('    time_zone: central european standard time\n    cron: { start: "0 17 * * 5", end: "0 8 * * 1" }\n'), `${FILE}:4:16: freezes[0].time_zone: unknown time zone "central european standard time": that describes a zone rather than naming one; places in it include Africa/`],
    // As offsets are printed (this file's own warnings say UTC−01:00): a suggestion of UTC would be five hours away.
    ['an offset written with a minus sign, with no suggestion hours away', window('    time_zone: UTC−5\n    cron: { start: "0 17 * * 5", end: "0 8 * * 1" }\n'), `${FILE}:4:16: freezes[0].time_zone: unknown time zone "UTC−5": a time zone here is an IANA name, not an offset`],
    ['an offset written with a dash, with no suggestion hours away', window('    time_zone: UTC–5\n    cron: { start: "0 17 * * 5", end: "0 8 * * 1" }\n'), `${FILE}:4:16: freezes[0].time_zone: unknown time zone "UTC–5": a time zone here is an IANA name, not an offset`],
    ['six cron fields, which would be read with seconds first', window('    time_zone: UTC\n    cron: { start: "17 * * 5 * *", end: "0 8 * * 1" }\n'), `${FILE}:5:20: freezes[0].cron.start: invalid cron expression "17 * * 5 * *": write five fields, minute hour day-of-month month day-of-week (as crontab and GitLab's deploy freezes do), not 6`],
    ['seven cron fields', window('    time_zone: UTC\n    cron: { start: "0 17 * * 5", end: "0 0 8 * * 1 2027" }\n'), `${FILE}:5:39: freezes[0].cron.end: invalid cron expression "0 0 8 * * 1 2027": write five fields`],
    ['a cron nickname', window('    time_zone: UTC\n    cron: { start: "@weekly", end: "0 8 * * 1" }\n'), `${FILE}:5:20: freezes[0].cron.start: invalid cron expression "@weekly": write five fields`],
    ['a bad cron field', window('    time_zone: UTC\n    cron: { start: "0 17 * * 8", end: "0 8 * * 1" }\n'), `${FILE}:5:20: freezes[0].cron.start: invalid cron expression "0 17 * * 8"`],
    // The cron library counts months and days of the month from 0, and says so: "Invalid value for month: 12" of a 13.
    ['a month out of range, named as written', window('    time_zone: UTC\n    cron: { start: "0 17 * 13 *", end: "0 8 * * 1" }\n'), `${FILE}:5:20: freezes[0].cron.start: invalid cron expression "0 17 * 13 *": month 13 is out of range (1-12)`],
    ['a day of the month out of range, named as written', window('    time_zone: UTC\n    cron: { start: "0 17 * * 5", end: "0 8 0 * *" }\n'), `${FILE}:5:39: freezes[0].cron.end: invalid cron expression "0 8 0 * *": day of the month 0 is out of range (1-31)`],
    ['a date that does not exist', window('    time_zone: UTC\n    start: 2026-02-30\n    end: 2026-03-02\n'), `${FILE}:5:12: freezes[0].start: "2026-02-30" is not a real date and time`],
    ['an end before the start', window('    time_zone: Europe/Berlin\n    start: 2026-12-24T18:00\n    end: 2026-12-24T09:00\n'), `${FILE}:6:10: freezes[0].end: end 2026-12-24T09:00 is not after start 2026-12-24T18:00 in Europe/Berlin`],
    ['an offset', window('    time_zone: UTC\n    start: 2026-12-24T18:00Z\n    end: 2026-12-25\n'), `${FILE}:5:12: freezes[0].start: "2026-12-24T18:00Z" has a UTC offset`],
    ['both kinds of times', window('    time_zone: UTC\n    cron: { start: "0 17 * * 5", end: "0 8 * * 1" }\n    start: 2026-12-24\n    end: 2026-12-25\n'), `${FILE}:5:11: freezes[0].cron: give either cron`],
    ['no times', window('    time_zone: UTC\n'), `${FILE}:3:5: freezes[0]: a window needs its times`],
    ['a start without an end', window('    time_zone: UTC\n    start: 2026-12-24\n'), `${FILE}:3:5: freezes[0]: a window with "start" needs "end" as well`],
    ['require without override', window('    time_zone: UTC\n    start: 2026-12-24\n    end: 2026-12-25\n    mode: require\n'), `${FILE}:7:11: freezes[0].mode: mode: require needs "override`],
    ['override without require', window('    time_zone: UTC\n    start: 2026-12-24\n    end: 2026-12-25\n    override: { approvers: [alice] }\n'), `${FILE}:7:15: freezes[0].override: "override" only applies with mode: require`],
    ['a condition beside if', window('    time_zone: UTC\n    start: 2026-12-24\n    end: 2026-12-25\n    environment: production\n', 'deploy_windows'), `${FILE}:7:5: deploy_windows[0].environment: "environment" is a condition: put it under "if:"`],
    ['an unknown mode', window('    time_zone: UTC\n    start: 2026-12-24\n    end: 2026-12-25\n    mode: hold\n'), `${FILE}:7:11: freezes[0].mode: expected one of: wait, reject, require; got "hold"`],
    ['a duplicate name across freezes and deploy windows', `version: 1\nfreezes:\n  - { name: w, time_zone: UTC, start: 2026-12-24, end: 2026-12-25 }\ndeploy_windows:\n  - { name: w, time_zone: UTC, start: 2026-12-24, end: 2026-12-25 }\n`, `${FILE}:5:13: deploy_windows[0].name: duplicate window name "w": already used at ${FILE}:3:13`],
    ['an unknown severity in scope', window('    time_zone: UTC\n    start: 2026-12-24\n    end: 2026-12-25\n    if: { severity: urgent }\n'), `${FILE}:7:21: freezes[0].if.severity: unknown severity "urgent"`],
  ])('%s', (_case, text, expected) => {
    expect(problems(text).join('\n')).toContain(expected);
  });

  test.each([
    ['start', window('    time_zone: UTC\n    strat: 2026-12-24\n    end: 2026-12-25\n'), [`${FILE}:5:5: freezes[0].strat: unknown key "strat"; did you mean "start"?`]],
    ['end', window('    time_zone: UTC\n    start: 2026-12-24\n    edn: 2026-12-25\n'), [`${FILE}:6:5: freezes[0].edn: unknown key "edn"; did you mean "end"?`]],
    ['cron', window('    time_zone: UTC\n    crno: { start: "0 17 * * 5", end: "0 8 * * 1" }\n'), [`${FILE}:5:5: freezes[0].crno: unknown key "crno"; did you mean "cron"?`]],
    ['time_zone (as tz, which is no misspelling: both are said)', window('    tz: UTC\n    start: 2026-12-24\n    end: 2026-12-25\n'), [`${FILE}:3:5: freezes[0]: missing required key "time_zone"`, `${FILE}:4:5: freezes[0].tz: unknown key "tz".`]],
    ['time_zone, misspelt', window('    time_zone_: UTC\n    start: 2026-12-24\n    end: 2026-12-25\n'), [`${FILE}:4:5: freezes[0].time_zone_: unknown key "time_zone_"; did you mean "time_zone"?`]],
  ])('a misspelt %s is one problem, said at the misspelling', (_key, text, expected) => {
    expect(problems(text).map((p) => p.replace(/ Expected one of: .*$/, ''))).toEqual(expected);
  });

  test('a deploy window that can never open and a freeze that never ends are warned about', () => {
    expect(
      warnings(`version: 1
deploy_windows:
  - name: never
    time_zone: UTC
    cron: { start: "0 9 * * *", end: "0 9 * * *" }
freezes:
  - name: forever
    time_zone: UTC
    cron: { start: "0 17 * * 5", end: "0 0 30 2 *" }
  - name: fine
    time_zone: UTC
    cron: { start: "0 17 * * 5", end: "0 8 * * 1" }
`),
    ).toEqual([
      `${FILE}:5:20: deploy window "never" can never open: its start never comes, or always meets its end at the same moment; requests in its scope could never go ahead`,
      `${FILE}:9:39: freeze "forever" never ends once it starts: "0 0 30 2 *" never comes, so requests in its scope could never go ahead again`,
    ]);
  });

  test('a time zone written as an abbreviation is warned about, with what it is read as', () => {
    const zones = ['BST', 'EST', 'PST', 'IST', 'UTC', 'GMT', 'Europe/London', 'US/Pacific', 'est', 'Cet', 'utc'];
    const text = `version: 1\nfreezes:\n${zones.map((zone, i) => `  - { name: f${i}, time_zone: ${zone}, cron: { start: "0 17 * * 5", end: "0 8 * * 1" } }\n`).join('')}`;
    const advice = 'abbreviations name different zones to different people: write the IANA name you mean, such as Europe/London or America/New_York';
    expect(warnings(text)).toEqual([
      // Not British Summer Time: a UK freeze written so would start five hours early all summer.
      `${FILE}:3:28: time zone "BST" is an abbreviation, read here as Asia/Dhaka, UTC+06:00 all year; ${advice}`,
      // Never on daylight time: an hour off New York's clocks all summer.
      `${FILE}:4:28: time zone "EST" is an abbreviation, read here as America/Panama, UTC−05:00 all year; ${advice}`,
      `${FILE}:5:28: time zone "PST" is an abbreviation, read here as America/Los_Angeles, UTC−08:00 in January and UTC−07:00 in July; ${advice}`,
      `${FILE}:6:28: time zone "IST" is an abbreviation, read here as Asia/Calcutta, UTC+05:30 all year; ${advice}`,
      // The database takes any case.
      `${FILE}:11:28: time zone "est" is an abbreviation, read here as America/Panama, UTC−05:00 all year; ${advice}`,
      `${FILE}:12:28: time zone "Cet" is an abbreviation, read here as Europe/Brussels, UTC+01:00 in January and UTC+02:00 in July; ${advice}`,
    ]);
  });
});

describe('windows written so that they mean something else than they seem to', () => {
  test('an Etc zone, whose sign is inverted and which ignores daylight saving time, is warned about', () => {
    const zones = ['Etc/GMT+1', 'Etc/GMT-10', 'Etc/GMT+0', 'Etc/UTC'];
    const text = `version: 1\nfreezes:\n${zones.map((zone, i) => `  - { name: f${i}, time_zone: ${zone}, cron: { start: "0 17 * * 5", end: "0 8 * * 1" } }\n`).join('')}`;
    const advice = 'in the Etc zones the sign is inverted, and they never follow daylight saving time; write the IANA name of the place you mean, such as Europe/Berlin or America/New_York';
    expect(warnings(text)).toEqual([`${FILE}:3:28: time zone "Etc/GMT+1" is UTC−01:00 all year: ${advice}`, `${FILE}:4:28: time zone "Etc/GMT-10" is UTC+10:00 all year: ${advice}`]);
  });

  test('a cron day of the month beside a day of the week, which cron takes as either, is warned about', () => {
    const text = `version: 1
deploy_windows:
  - name: first-monday
    time_zone: Europe/Berlin
    cron: { start: "0 9 1-7 * 1", end: "0 17 1-7 * 1" }
  - name: both-on-purpose
    time_zone: Europe/Berlin
    cron: { start: "0 9 1-7 * +1", end: "0 17 * * 1#1" }
`;
    const either = (pattern: string) =>
      `"${pattern}" restricts both the day of the month (1-7) and the day of the week (1), and cron then takes either of them, not both; to require both, put "+" before the day of the week (+1); for the nth weekday of a month write it as weekday#n (1#1 is the first Monday) and leave the day of the month "*"`;
    expect(warnings(text)).toEqual([`${FILE}:5:20: ${either('0 9 1-7 * 1')}`, `${FILE}:5:40: ${either('0 17 1-7 * 1')}`]);
    // As warned: the window opens on Thursday the 3rd, and "+" keeps it to the first Monday.
    const heldAt = (cron: string, iso: string) =>
      evaluate(load(`version: 1\ndeploy_windows:\n  - { name: w, time_zone: Europe/Berlin, cron: ${cron} }\n`), facts(), at(iso)).outcome === 'held';
    expect(heldAt('{ start: "0 9 1-7 * 1", end: "0 17 1-7 * 1" }', '2026-12-03T10:00:00Z')).toBe(false);
    expect(heldAt('{ start: "0 9 1-7 * +1", end: "0 17 * * 1#1" }', '2026-12-03T10:00:00Z')).toBe(true);
    expect(heldAt('{ start: "0 9 1-7 * +1", end: "0 17 * * 1#1" }', '2026-12-07T10:00:00Z')).toBe(false);
  });

  test('a deploy window that a wider one beside it opens too is warned about', () => {
    const text = `version: 1
deploy_windows:
  - name: office-hours
    time_zone: Europe/Berlin
    cron: { start: "0 9 * * 1-5", end: "0 17 * * 1-5" }
    if: { environment: production }
  - name: maintenance
    time_zone: Europe/Berlin
    cron: { start: "0 22 * * 6", end: "0 6 * * 0" }
  - name: staging-nights
    time_zone: Europe/Berlin
    cron: { start: "0 20 * * *", end: "0 23 * * *" }
    if: { environment: staging }
`;
    expect(warnings(text).filter((w) => w.includes('add up'))).toEqual([
      `${FILE}:3:5: deploy window "office-hours" is not all its requests get: they also go ahead while "maintenance" (${FILE}:7) is open, as deploy windows of one file add up (any open lets a request through); to keep them to "office-hours", give "maintenance" an \`if\` that leaves them out`,
      `${FILE}:10:5: deploy window "staging-nights" is not all its requests get: they also go ahead while "maintenance" (${FILE}:7) is open, as deploy windows of one file add up (any open lets a request through); to keep them to "staging-nights", give "maintenance" an \`if\` that leaves them out`,
    ]);
    // As warned: production goes ahead on Saturday night, though not on Saturday afternoon.
    expect(evaluate(load(text), facts(), at('2026-12-05T22:30:00Z')).outcome).not.toBe('held');
    expect(evaluate(load(text), facts(), at('2026-12-05T14:00:00Z')).outcome).toBe('held');
  });

  test('a date alone as the end, which ends as that day begins, is warned about', () => {
    const text = `version: 1
freezes:
  - { name: christmas, time_zone: Europe/Berlin, start: 2026-12-24, end: 2026-12-26 }
  - { name: launch, time_zone: Europe/Berlin, start: 2026-11-17, end: 2026-11-18T00:00 }
  - { name: year-end, time_zone: Europe/Berlin, start: 2026-12-28, end: 2026-12-31T18:00 }
`;
    expect(warnings(text)).toEqual([`${FILE}:3:74: freeze "christmas" ends as 2026-12-26 begins (00:00), so 2026-12-26 itself is not part of it; to include that day write 2026-12-27, or write 2026-12-26T00:00 if it should end as the day begins`]);
  });
});

describe('org freezes through _extends', () => {
  const ORG = `version: 1
freezes:
  - name: end-of-year
    time_zone: Europe/Berlin
    start: 2026-12-21
    end: 2027-01-04
    mode: reject
    message: Org-wide end-of-year freeze.
deploy_windows:
  - name: office-hours
    time_zone: Europe/Berlin
    cron: { start: "0 9 * * 1-5", end: "0 17 * * 1-5" }
    mode: reject
`;
  const REPO = `version: 1
_extends: .github
rules:
  - name: all
    require: { approvers: [alice] }
`;

  test('an org freeze applies to the repository', () => {
    const policy = load(REPO, ORG);
    expect(policy.windows?.map((w) => [w.name, w.layer])).toEqual([['end-of-year', 'org'], ['office-hours', 'org']]);
    expect(evaluate(policy, facts(), at('2026-12-22T10:00:00Z'))).toMatchObject({ outcome: 'rejected', summary: expect.stringContaining('Org-wide end-of-year freeze.') });
  });

  test('a repository cannot replace an org freeze by its name', () => {
    const loosened = `${REPO}freezes:\n  - { name: end-of-year, time_zone: UTC, start: 2030-01-01, end: 2030-01-02, mode: require, override: { approvers: [mallory] } }\n`;
    expect(problems(loosened, ORG)).toEqual([
      `${FILE}:7:13: freezes[0].name: window name "end-of-year" is already used by the org policy at org.yml:3:11; org freezes and deploy windows cannot be overridden, loosened or removed, so choose another name`,
    ]);
  });

  test('a repository deploy window does not widen the org\'s; its own freezes add to the org\'s', () => {
    const widened = `${REPO}deploy_windows:\n  - { name: any-time, time_zone: UTC, cron: { start: "0 0 * * *", end: "59 23 * * *" } }\nfreezes:\n  - { name: demo-day, time_zone: UTC, start: 2026-12-03, end: 2026-12-04, mode: reject }\n`;
    const policy = load(widened, ORG);
    // Wednesday 2 December 20:00 Berlin: the org's office hours are over, whatever the repository's window says.
    expect(evaluate(policy, facts(), at('2026-12-02T19:00:00Z')).outcome).toBe('rejected');
    expect(evaluate(policy, facts(), at('2026-12-02T10:00:00Z')).outcome).toBe('approval_required');
    expect(evaluate(policy, facts(), at('2026-12-03T10:00:00Z'))).toMatchObject({ outcome: 'rejected', windows: { closedBy: ['demo-day'] } });
  });
});
