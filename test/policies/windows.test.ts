/**
 * Freezes and deploy windows in time (pure: every instant is passed in). Wall-clock times in their
 * zone, across the spring-forward gap and the fall-back repeat, across midnight, merged when they
 * overlap, and combined across the org's and the repository's files.
 */
import { describe, expect, test } from '@jest/globals';
import type { WindowSchedule } from '../../policies/types.js';
import { allowedAt, compileSchedule, everInForce, localInstant, nextAllowed, nextChange, parseLocalDateTime, wallClock, type TimedWindow, type WindowClock } from '../../policies/windows.js';

const t = (iso: string) => Date.parse(iso);
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function clock(schedule: WindowSchedule, zone: string): WindowClock {
  const compiled = compileSchedule(schedule, zone);
  if (!compiled.ok) throw new Error(compiled.message);
  return compiled.value;
}
const cron = (start: string, end: string, zone = 'UTC') => clock({ kind: 'cron', start, end }, zone);
const once = (start: string, end: string, zone = 'UTC') => clock({ kind: 'once', start, end }, zone);
const freeze = (c: WindowClock, layer = 'repository'): TimedWindow => ({ kind: 'freeze', layer, clock: c });
const deploy = (c: WindowClock, layer = 'repository'): TimedWindow => ({ kind: 'deploy_window', layer, clock: c });

describe('wall-clock times across daylight saving changes', () => {
  const NY = 'America/New_York';
  // 2026-03-08: at 02:00 EST (07:00Z) New York's clocks jump to 03:00 EDT; 02:00–02:59 never happens.
  test('spring forward: a time the clocks skip falls at the jump, for a recurrence and for a date-time alike', () => {
    expect(iso(localInstant('2026-03-08T02:30', NY).ok ? (localInstant('2026-03-08T02:30', NY) as { value: number }).value : null)).toBe('2026-03-08T07:00:00.000Z');
    const nightly = cron('30 2 * * *', '0 4 * * *', NY);
    expect(nightly.at(t('2026-03-08T06:59:59Z'))).toBeNull();
    expect(nightly.at(t('2026-03-08T07:00:00Z'))).toEqual({ start: t('2026-03-08T07:00:00Z'), end: t('2026-03-08T08:00:00Z') });
    // Either side of the change the window is 02:30–04:00 local: EST the day before, EDT the day after.
    expect(nightly.at(t('2026-03-07T07:30:00Z'))?.start).toBe(t('2026-03-07T07:30:00Z'));
    expect(nightly.at(t('2026-03-09T06:30:00Z'))?.start).toBe(t('2026-03-09T06:30:00Z'));
    const period = once('2026-03-08T02:30', '2026-03-08T03:30', NY);
    expect(period.at(t('2026-03-08T07:00:00Z'))).toEqual({ start: t('2026-03-08T07:00:00Z'), end: t('2026-03-08T07:30:00Z') });
  });

  // 2026-11-01: at 02:00 EDT (06:00Z) the clocks go back to 01:00 EST; 01:00–01:59 happens twice.
  test('fall back: a repeated time counts at its first occurrence, and a window over the repeat lasts both', () => {
    const first = localInstant('2026-11-01T01:30', NY);
    expect(first).toEqual({ ok: true, value: t('2026-11-01T05:30:00Z') });
    const overRepeat = once('2026-11-01T01:00', '2026-11-01T02:00', NY);
    expect(overRepeat.at(t('2026-11-01T05:30:00Z'))).not.toBeNull(); // 01:30 EDT
    expect(overRepeat.at(t('2026-11-01T06:30:00Z'))).not.toBeNull(); // 01:30 EST, the repeat
    expect(overRepeat.at(t('2026-11-01T07:00:00Z'))).toBeNull(); // 02:00 EST
    expect(overRepeat.at(t('2026-11-01T05:30:00Z'))).toEqual({ start: t('2026-11-01T05:00:00Z'), end: t('2026-11-01T07:00:00Z') });
    const nightly = cron('0 1 * * *', '0 2 * * *', NY);
    expect(nightly.at(t('2026-11-01T06:30:00Z'))).toEqual({ start: t('2026-11-01T05:00:00Z'), end: t('2026-11-01T07:00:00Z') });
    expect(nightly.at(t('2026-11-02T06:30:00Z'))).toEqual({ start: t('2026-11-02T06:00:00Z'), end: t('2026-11-02T07:00:00Z') });
  });

  test('a list of hours follows the same rule as a single hour, in spring and in autumn', () => {
    const batches = cron('30 2,14 * * *', '0 4,16 * * *', NY);
    expect(batches.at(t('2026-03-08T07:10:00Z'))).toEqual({ start: t('2026-03-08T07:00:00Z'), end: t('2026-03-08T08:00:00Z') });
    const twice = cron('0 1,13 * * *', '30 1,13 * * *', NY);
    expect(twice.at(t('2026-11-01T05:10:00Z'))).toEqual({ start: t('2026-11-01T05:00:00Z'), end: t('2026-11-01T05:30:00Z') });
    // 01:10 EST, the repeat of the hour: the window opened once, at its first occurrence, and is over.
    expect(twice.at(t('2026-11-01T06:10:00Z'))).toBeNull();
  });

  test('a window in another zone follows that zone: Berlin changes a week before New York', () => {
    // 2026-03-29 Europe/Berlin: 02:00 CET → 03:00 CEST. Nine to five is 08:00–16:00Z before, 07:00–15:00Z after.
    const office = cron('0 9 * * 1-5', '0 17 * * 1-5', 'Europe/Berlin');
    expect(office.at(t('2026-03-27T08:30:00Z'))).toEqual({ start: t('2026-03-27T08:00:00Z'), end: t('2026-03-27T16:00:00Z') });
    expect(office.at(t('2026-03-30T07:30:00Z'))).toEqual({ start: t('2026-03-30T07:00:00Z'), end: t('2026-03-30T15:00:00Z') });
    expect(office.at(t('2026-03-30T15:30:00Z'))).toBeNull();
    expect(wallClock(t('2026-03-30T15:00:00Z'), 'Europe/Berlin')).toBe('2026-03-30 17:00 Europe/Berlin');
  });
});

describe('recurrences', () => {
  test('a window crossing midnight runs from its start to the next end', () => {
    const night = cron('0 22 * * *', '0 6 * * *', 'Europe/London');
    expect(night.at(t('2026-12-24T23:00:00Z'))).toEqual({ start: t('2026-12-24T22:00:00Z'), end: t('2026-12-25T06:00:00Z') });
    expect(night.at(t('2026-12-25T03:00:00Z'))).toEqual({ start: t('2026-12-24T22:00:00Z'), end: t('2026-12-25T06:00:00Z') });
    expect(night.at(t('2026-12-25T06:00:00Z'))).toBeNull();
    expect(nextAllowed([freeze(night)], t('2026-12-24T23:00:00Z'))).toBe(t('2026-12-25T06:00:00Z'));
  });

  test('a weekend freeze: Friday 17:00 to Monday 08:00', () => {
    const weekend = cron('0 17 * * 5', '0 8 * * 1', 'Europe/Berlin');
    expect(weekend.at(t('2026-12-04T15:59:00Z'))).toBeNull(); // Friday 16:59 CET
    expect(weekend.at(t('2026-12-05T12:00:00Z'))).toEqual({ start: t('2026-12-04T16:00:00Z'), end: t('2026-12-07T07:00:00Z') });
    expect(nextAllowed([freeze(weekend)], t('2026-12-05T12:00:00Z'))).toBe(t('2026-12-07T07:00:00Z'));
    expect(nextChange([freeze(weekend)], t('2026-12-03T12:00:00Z'))).toBe(t('2026-12-04T16:00:00Z'));
  });

  test('a start and an end at the same moment open nothing, and the validator can tell', () => {
    const empty = cron('0 9 * * *', '0 9 * * *');
    expect(empty.at(t('2026-12-24T09:00:00Z'))).toBeNull();
    expect(empty.at(t('2026-12-24T12:00:00Z'))).toBeNull();
    expect(empty.nextStart(t('2026-12-24T00:00:00Z'), t('2027-12-24T00:00:00Z'), 50)).toBeNull();
    expect(everInForce(empty, { kind: 'cron', start: '0 9 * * *', end: '0 9 * * *' })).toBe(false);
    expect(everInForce(cron('0 9 * * *', '0 17 * * *'), { kind: 'cron', start: '0 9 * * *', end: '0 17 * * *' })).toBe(true);
    // 30 February never comes.
    expect(everInForce(cron('0 0 30 2 *', '0 0 1 3 *'), { kind: 'cron', start: '0 0 30 2 *', end: '0 0 1 3 *' })).toBe(false);
  });

  test('a freeze whose end never comes never lets a request through', () => {
    const forever = cron('0 17 * * 5', '0 0 30 2 *');
    expect(forever.at(t('2026-12-05T12:00:00Z'))?.end).toBe(Infinity);
    expect(nextAllowed([freeze(forever)], t('2026-12-05T12:00:00Z'))).toBeNull();
  });
});

describe('several windows', () => {
  test('overlapping freezes merge: the request waits for the last of them to end', () => {
    const a = once('2026-12-24T10:00', '2026-12-24T14:00');
    const b = once('2026-12-24T12:00', '2026-12-24T16:00');
    expect(nextAllowed([freeze(a), freeze(b)], t('2026-12-24T11:00:00Z'))).toBe(t('2026-12-24T16:00:00Z'));
    // Back to back is one freeze too.
    const c = once('2026-12-24T16:00', '2026-12-24T18:00');
    expect(nextAllowed([freeze(a), freeze(b), freeze(c)], t('2026-12-24T11:00:00Z'))).toBe(t('2026-12-24T18:00:00Z'));
    // A freeze that starts later does not hold a request now.
    expect(nextAllowed([freeze(b)], t('2026-12-24T11:00:00Z'))).toBe(t('2026-12-24T11:00:00Z'));
  });

  test('a freeze inside a deploy window: the request goes ahead once the freeze ends and the window is open', () => {
    const office = cron('0 9 * * 1-5', '0 17 * * 1-5');
    const lunch = cron('0 12 * * *', '0 13 * * *');
    expect(allowedAt([deploy(office), freeze(lunch)], t('2026-12-24T12:30:00Z'))).toBe(false);
    expect(nextAllowed([deploy(office), freeze(lunch)], t('2026-12-24T12:30:00Z'))).toBe(t('2026-12-24T13:00:00Z'));
    // Thursday 24 December after five: next morning, Friday 09:00.
    expect(nextAllowed([deploy(office), freeze(lunch)], t('2026-12-24T18:00:00Z'))).toBe(t('2026-12-25T09:00:00Z'));
  });

  test('deploy windows of one file add up; the org\'s and the repository\'s must both be open', () => {
    const morning = cron('0 9 * * *', '0 12 * * *');
    const afternoon = cron('0 14 * * *', '0 17 * * *');
    expect(allowedAt([deploy(morning), deploy(afternoon)], t('2026-12-24T15:00:00Z'))).toBe(true);
    expect(nextAllowed([deploy(morning), deploy(afternoon)], t('2026-12-24T12:30:00Z'))).toBe(t('2026-12-24T14:00:00Z'));
    // A repository's always-open window does not widen the org's.
    const always = cron('0 0 * * *', '59 23 * * *');
    expect(allowedAt([deploy(morning, 'org'), deploy(always, 'repository')], t('2026-12-24T13:00:00Z'))).toBe(false);
    expect(allowedAt([deploy(morning, 'org'), deploy(always, 'repository')], t('2026-12-24T10:00:00Z'))).toBe(true);
    expect(nextAllowed([deploy(morning, 'org'), deploy(afternoon, 'repository')], t('2026-12-24T10:00:00Z'))).toBeNull();
  });

  test('a deploy window that may not let the request through holds it like the others, and opens its file only with them', () => {
    const morning = cron('0 9 * * *', '0 12 * * *');
    const always: TimedWindow = { ...deploy(cron('0 0 * * *', '59 23 * * *')), opens: false };
    expect(allowedAt([deploy(morning), always], t('2026-12-24T13:00:00Z'))).toBe(false);
    expect(allowedAt([deploy(morning), always], t('2026-12-24T10:00:00Z'))).toBe(true);
    expect(nextAllowed([deploy(morning), always], t('2026-12-24T13:00:00Z'))).toBe(t('2026-12-25T09:00:00Z'));
    // When every window of the file is open, the request goes ahead whichever of them it is in scope of.
    expect(allowedAt([always], t('2026-12-24T13:00:00Z'))).toBe(true);
  });
});

describe('date-times', () => {
  test.each([
    ['2026-12-24', true],
    ['2026-12-24T18:00', true],
    ['2026-12-24T18:00:30', true],
    ['2026-02-29T10:00', false],
    ['2026-12-24T24:30', false],
    ['2026-12-24T18:00Z', false],
    ['2026-12-24T18:00+01:00', false],
    ['24.12.2026', false],
  ])('%s is accepted: %s', (text, ok) => {
    expect(parseLocalDateTime(text).ok).toBe(ok);
  });

  test('an offset is refused with the way to write it', () => {
    const parsed = parseLocalDateTime('2026-12-24T18:00Z');
    expect(parsed.ok ? '' : parsed.message).toContain('without one');
  });

  test('a period in the past has no next start', () => {
    const past = once('2025-12-24', '2025-12-27');
    expect(past.at(t('2026-12-24T12:00:00Z'))).toBeNull();
    expect(past.nextStart(t('2026-12-24T12:00:00Z'), Infinity)).toBeNull();
  });

  test('an unknown zone is an error, not UTC', () => {
    expect(compileSchedule({ kind: 'cron', start: '0 9 * * *', end: '0 17 * * *' }, 'Europe/Berln')).toEqual({ ok: false, message: 'unknown time zone "Europe/Berln"' });
  });
});
