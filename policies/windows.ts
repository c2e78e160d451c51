/**
 * Freezes and deploy windows in time: when each is in force, and when a request in their scope may
 * go ahead. Pure: the instant to judge at is always passed in. Recurrences are read by croner and
 * zones by luxon, never by hand.
 *
 * Times are wall-clock times in the window's zone. A boundary falls at the first instant at which the
 * zone's clock reaches the time written: a time the clocks skip (spring forward) falls at the jump,
 * and a time they show twice (fall back) counts at its first occurrence. Explicit date-times are read
 * by the same cron engine as recurrences (a one-date pattern), so both follow that one rule.
 *
 * A recurrence is in force at `t` when its latest start at or before `t` is later than its latest end
 * at or before `t` (as GitLab's deploy freezes): from a start until the next end, so a window may
 * cross midnight or a weekend, and a start and an end at the same instant make an empty period.
 */
import { Cron } from 'croner';
import { DateTime, IANAZone } from 'luxon';
import type { WindowSchedule } from './types.js';

/** How far ahead openings and closings are looked for. */
export const WINDOW_HORIZON_MS = 366 * 86_400_000;
/** Bounds every walk over occurrences, so no pattern can make a judgement slow. */
const MAX_STEPS = 2_000;

/** A period in force: `start` ≤ t < `end`; `end` is Infinity when it never ends. */
export interface Period {
  start: number;
  end: number;
}

/** One window's schedule, compiled. */
export interface WindowClock {
  /** The period in force at `t`, if any. */
  at(t: number): Period | null;
  /** The start of the first non-empty period after `t`, up to `until`, looking at no more than `maxSteps` starts. */
  nextStart(t: number, until: number, maxSteps?: number): number | null;
  /** The first instant after `t` (up to `until`) at which this window may change state: a start or an end. */
  nextBoundary(t: number, until: number): number | null;
  /** The last instant at or before `t` at which this window started or ended, if any. */
  lastBoundary(t: number): number | null;
}

export type Compiled<T> = { ok: true; value: T } | { ok: false; message: string };

export function isValidTimeZone(zone: string): boolean {
  return IANAZone.isValidZone(zone);
}

/**
 * What an abbreviation the time zone database still takes stands for here, when `zone` is one:
 * `BST` is Asia/Dhaka (not British Summer Time), `IST` India, `CST` Chicago; `EST`, `MST` and `HST`
 * never change for daylight saving time. Offsets are given for January and July (of a fixed year, so
 * the answer never depends on today's date), in minutes east of UTC.
 */
export function abbreviatedZone(zone: string): { readAs: string; january: number; july: number } | undefined {
  // The database takes names in any case: `est` is EST.
  const upper = zone.toUpperCase();
  if (!/^[A-Z]{3,5}$/.test(upper) || ['UTC', 'GMT', 'UCT', 'PRC', 'ROC', 'ROK'].includes(upper) || !isValidTimeZone(zone)) return undefined;
  const readAs = new Intl.DateTimeFormat('en', { timeZone: zone }).resolvedOptions().timeZone;
  const offsets = IANAZone.create(zone);
  return { readAs, january: offsets.offset(Date.UTC(2026, 0, 15)), july: offsets.offset(Date.UTC(2026, 6, 15)) };
}

/** IANA names, for suggesting one in place of a misspelt zone. */
export function knownTimeZones(): string[] {
  return [...Intl.supportedValuesOf('timeZone'), 'UTC'];
}

let zoneDescriptions: Map<string, Set<string>> | undefined;

/**
 * The zones English describes as `description` ("Pacific Time", "Central European Summer Time"),
 * ignoring case: what people write for a zone they know only by that name.
 */
export function zonesDescribedAs(description: string): string[] {
  if (!zoneDescriptions) {
    zoneDescriptions = new Map();
    // Winter and summer, for both standard and daylight names; fixed days, as no clock is read here.
    const days = [Date.UTC(2026, 0, 15), Date.UTC(2026, 6, 15)];
    for (const zone of knownTimeZones()) {
      const names = new Set<string>();
      for (const timeZoneName of ['longGeneric', 'long'] as const) {
        const format = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName });
        for (const day of days) {
          const name = format.formatToParts(day).find((part) => part.type === 'timeZoneName')?.value;
          // Zones English has no name for are written as offsets ("GMT+03:00"): no description.
          if (name && !/^GMT[+-]/.test(name)) names.add(name.toLowerCase());
        }
      }
      zoneDescriptions.set(zone, names);
    }
  }
  const wanted = description.trim().replace(/\s+/g, ' ').toLowerCase();
  return [...zoneDescriptions].filter(([, names]) => names.has(wanted)).map(([zone]) => zone);
}

const LOCAL_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2}))?)?$/;

/** `2026-12-24`, `2026-12-24T18:00` or `2026-12-24T18:00:30`: a wall-clock time, without an offset. */
export function parseLocalDateTime(text: string): Compiled<{ year: number; month: number; day: number; hour: number; minute: number; second: number }> {
  const match = LOCAL_DATE_TIME.exec(text);
  if (!match) {
    const offset = /(?:Z|[+-]\d{2}:?\d{2})$/.test(text) && /^\d{4}-/.test(text);
    return {
      ok: false,
      message: offset
        ? `"${text}" has a UTC offset: write the wall-clock time in the window's time_zone without one, for example 2026-12-24T18:00`
        : `"${text}" is not a date-time: write YYYY-MM-DD or YYYY-MM-DDTHH:MM (wall-clock time in the window's time_zone), for example 2026-12-24T18:00`,
    };
  }
  const [year, month, day, hour = 0, minute = 0, second = 0] = match.slice(1).map((part) => (part === undefined ? undefined : Number(part))) as number[];
  const checked = DateTime.fromObject({ year, month, day, hour, minute, second }, { zone: 'UTC' });
  if (!checked.isValid) return { ok: false, message: `"${text}" is not a real date and time: ${checked.invalidExplanation ?? checked.invalidReason}` };
  return { ok: true, value: { year, month, day, hour, minute, second } };
}

/** A cron expression as croner reads it, in `zone`. */
export function compileCron(pattern: string, zone: string): Compiled<Cron> {
  try {
    // Lists and ranges of hours (`2,14`, `9-17`) keep the daylight saving rule single hours follow:
    // a skipped time falls at the jump, a repeated one counts once.
    const cron = new Cron(pattern, { timezone: zone, paused: true, fixedTimeRule: 'no-wildcard' });
    return { ok: true, value: cron };
  } catch (err) {
    return { ok: false, message: `invalid cron expression "${pattern}": ${cronProblem((err as Error).message.replace(/^CronPattern: /, ''))}` };
  }
}

/**
 * croner counts days of the month and months from 0 and says so ("Invalid value for month: 12" of a
 * 13): a value out of range is told as written, with the field's range.
 */
const CRON_FIELDS: Record<string, { name: string; offset: number; range: string }> = {
  minute: { name: 'minute', offset: 0, range: '0-59' },
  hour: { name: 'hour', offset: 0, range: '0-23' },
  day: { name: 'day of the month', offset: 1, range: '1-31' },
  nearestWeekdays: { name: 'day of the month', offset: 1, range: '1-31' },
  month: { name: 'month', offset: 1, range: '1-12' },
  dayOfWeek: { name: 'day of the week', offset: 0, range: '0-7' },
};

function cronProblem(message: string): string {
  const outOfRange = /^Invalid value for (\w+): (-?\d+)$/.exec(message);
  const field = outOfRange && Object.hasOwn(CRON_FIELDS, outOfRange[1]) ? CRON_FIELDS[outOfRange[1]] : undefined;
  if (!outOfRange || !field) return message;
  return `${field.name} ${Number(outOfRange[2]) + field.offset} is out of range (${field.range})`;
}

/** The first instant at which `zone`'s clock reads the local date-time `text`. */
export function localInstant(text: string, zone: string): Compiled<number> {
  const parsed = parseLocalDateTime(text);
  if (!parsed.ok) return parsed;
  const { year, month, day, hour, minute, second } = parsed.value;
  // A one-date pattern, so that an explicit time meets a skipped or repeated hour as a recurrence does.
  const cron = compileCron(`${second} ${minute} ${hour} ${day} ${month} *`, zone);
  if (!cron.ok) return cron;
  // Two days before the date in UTC is before it in every zone; the next run is then on that date.
  const run = cron.value.nextRun(new Date(Date.UTC(year, month - 1, day) - 2 * 86_400_000));
  if (!run) return { ok: false, message: `"${text}" could not be placed in time zone ${zone}` };
  return { ok: true, value: run.getTime() };
}

/** A window's schedule in `zone`, ready to be asked about instants. */
export function compileSchedule(schedule: WindowSchedule, zone: string): Compiled<WindowClock> {
  if (!isValidTimeZone(zone)) return { ok: false, message: `unknown time zone "${zone}"` };
  if (schedule.kind === 'once') {
    const start = localInstant(schedule.start, zone);
    if (!start.ok) return start;
    const end = localInstant(schedule.end, zone);
    if (!end.ok) return end;
    return { ok: true, value: oncePeriod(start.value, end.value) };
  }
  const starts = compileCron(schedule.start, zone);
  if (!starts.ok) return starts;
  const ends = compileCron(schedule.end, zone);
  if (!ends.ok) return ends;
  return { ok: true, value: recurrence(starts.value, ends.value) };
}

function oncePeriod(start: number, end: number): WindowClock {
  return {
    at: (t) => (start <= t && t < end ? { start, end } : null),
    nextStart: (t, until) => (start > t && start < end && start <= until ? start : null),
    nextBoundary: (t, until) => [start, end].find((b) => b > t && b <= until) ?? null,
    lastBoundary: (t) => (end <= t ? end : start <= t ? start : null),
  };
}

function recurrence(starts: Cron, ends: Cron): WindowClock {
  /** The latest occurrence at or before `t` (croner's previous runs are strictly before the date given). */
  const latest = (cron: Cron, t: number): number | null => cron.previousRuns(1, new Date(t + 1))[0]?.getTime() ?? null;
  const next = (cron: Cron, t: number): number | null => cron.nextRun(new Date(t))?.getTime() ?? null;
  const at = (t: number): Period | null => {
    const start = latest(starts, t);
    if (start === null) return null;
    const lastEnd = latest(ends, t);
    if (lastEnd !== null && lastEnd >= start) return null;
    return { start, end: next(ends, t) ?? Infinity };
  };
  return {
    at,
    nextStart(t, until, maxSteps = MAX_STEPS) {
      let from = t;
      for (let step = 0; step < maxSteps; step++) {
        const start = next(starts, from);
        if (start === null || start > until) return null;
        // A start with an end at the same instant opens nothing.
        if (at(start)) return start;
        from = start;
      }
      return null;
    },
    lastBoundary(t) {
      const candidates = [latest(starts, t), latest(ends, t)].filter((b): b is number => b !== null);
      return candidates.length > 0 ? Math.max(...candidates) : null;
    },
    nextBoundary(t, until) {
      const candidates = [next(starts, t), next(ends, t)].filter((b): b is number => b !== null && b <= until);
      return candidates.length > 0 ? Math.min(...candidates) : null;
    },
  };
}

/** One window for judging: whether it is a freeze, and which file it comes from (deploy windows of one file combine). */
export interface TimedWindow {
  kind: 'freeze' | 'deploy_window';
  layer: string;
  clock: WindowClock;
  /**
   * A deploy window: false when the request is in its scope only as the worst case (a fact the
   * request cannot tell), so that it holds the request like its file's other windows, but never lets
   * it through while one of them is closed. Unset means true.
   */
  opens?: boolean;
}

/**
 * The files whose deploy windows let the request through at `t`: one that may (see `opens`) is
 * open, or all of them are.
 */
export function openLayers(windows: readonly TimedWindow[], t: number): Set<string> {
  const layers = new Map<string, { any: boolean; all: boolean }>();
  for (const w of windows) {
    if (w.kind !== 'deploy_window') continue;
    const open = w.clock.at(t) !== null;
    const layer = layers.get(w.layer) ?? { any: false, all: true };
    layers.set(w.layer, { any: layer.any || (open && w.opens !== false), all: layer.all && open });
  }
  return new Set([...layers].filter(([, { any, all }]) => any || all).map(([layer]) => layer));
}

/**
 * Whether a request under these windows may go ahead at `t`: no freeze in force, and for each file
 * that has deploy windows, its windows letting it through (see `openLayers`).
 */
export function allowedAt(windows: readonly TimedWindow[], t: number): boolean {
  if (windows.some((w) => w.kind === 'freeze' && w.clock.at(t))) return false;
  const open = openLayers(windows, t);
  return windows.every((w) => w.kind !== 'deploy_window' || open.has(w.layer));
}

/**
 * The first instant at or after `t` at which the request may go ahead, or null when not within the
 * horizon. Overlapping and back-to-back freezes are passed as one: the walk jumps to the latest end
 * of those in force, then looks again.
 */
export function nextAllowed(windows: readonly TimedWindow[], t: number, horizonMs = WINDOW_HORIZON_MS): number | null {
  const until = t + horizonMs;
  let at = t;
  for (let step = 0; step < MAX_STEPS && at <= until; step++) {
    const frozenUntil = Math.max(-Infinity, ...windows.filter((w) => w.kind === 'freeze').map((w) => w.clock.at(at)?.end ?? -Infinity));
    if (frozenUntil > at) {
      if (frozenUntil === Infinity) return null;
      at = frozenUntil;
      continue;
    }
    if (allowedAt(windows, at)) return at;
    // Some file's deploy windows do not let the request through: the earliest of them to open next.
    const open = openLayers(windows, at);
    const openings = windows
      .filter((w) => w.kind === 'deploy_window' && !open.has(w.layer))
      .map((w) => w.clock.nextStart(at, until))
      .filter((s): s is number => s !== null);
    if (openings.length === 0) return null;
    at = Math.min(...openings);
  }
  return null;
}

/** The first instant after `t` at which any of the windows may change state, or null when none does within the horizon. */
export function nextChange(windows: readonly TimedWindow[], t: number, horizonMs = WINDOW_HORIZON_MS): number | null {
  const boundaries = windows.map((w) => w.clock.nextBoundary(t, t + horizonMs)).filter((b): b is number => b !== null);
  return boundaries.length > 0 ? Math.min(...boundaries) : null;
}

/**
 * Whether a window could ever be in force, judged over a sample of its periods from a fixed instant
 * (not the clock, so the answer never changes): a start that never fires, or one that always meets
 * an end at the same instant, opens nothing.
 */
export function everInForce(clock: WindowClock, schedule: WindowSchedule): boolean {
  if (schedule.kind === 'once') return clock.nextStart(-Infinity, Infinity) !== null;
  return clock.nextStart(SAMPLE_FROM, SAMPLE_FROM + 30 * WINDOW_HORIZON_MS, SAMPLE_STARTS) !== null;
}

const SAMPLE_FROM = Date.UTC(2024, 0, 1);
/** Starts sampled: a pattern whose first hundred starts all meet an end is taken to always meet one. */
const SAMPLE_STARTS = 100;

/** An instant as people in the window's zone read it: `2026-12-24 18:00 Europe/Berlin`. */
export function wallClock(t: number, zone: string): string {
  const local = DateTime.fromMillis(t, { zone });
  return `${local.toFormat(local.second === 0 ? 'yyyy-MM-dd HH:mm' : 'yyyy-MM-dd HH:mm:ss')} ${zone}`;
}
