/**
 * The freezes and deploy windows of a policy, judged for one request at one instant: which apply
 * (their `if`, judged as conditions that tighten the gate; a deploy window's also as one that loosens
 * it, since an open one lets the request through), which hold the request now, what they
 * do to it, when it may go ahead and when it must be judged again. Pure: the instant is passed in.
 */
import type { WindowEvaluation, WindowsDecision } from './decision.js';
import { codeSpan } from './markdown.js';
import { evaluateConditions, type ConditionResult, type PredicateContext } from './predicates.js';
import type { TimeWindow, WindowMode } from './types.js';
import { allowedAt, compileSchedule, nextAllowed, nextChange, openLayers, wallClock, WINDOW_HORIZON_MS, type Period, type TimedWindow, type WindowClock } from './windows.js';

/** Reject is the strictest: it ends the request; then wait, which holds it; require lets people override. */
const STRICTNESS: Record<WindowMode, number> = { reject: 3, wait: 2, require: 1 };

export function windowNoun(window: Pick<TimeWindow, 'kind' | 'name'>): string {
  return `${window.kind === 'freeze' ? 'freeze' : 'deploy window'} ${codeSpan(window.name)}`;
}

const iso = (t: number): string => new Date(t).toISOString();

export function judgeWindows(
  windows: readonly TimeWindow[],
  ctx: PredicateContext,
  now: number,
  reportErrors: (where: string, conditions: readonly ConditionResult[]) => void,
  problems: string[],
): { decision: WindowsDecision; closing: TimeWindow[] } {
  const applying: Applying[] = [];
  const evaluations: WindowEvaluation[] = [];
  for (const window of windows) {
    // A window in scope holds requests back: an unknown change set puts a request in scope of a path condition.
    const conditions = evaluateConditions(window.if, ctx, 'tighten');
    reportErrors(windowNoun(window), conditions);
    const applies = conditions.every((c) => c.matched);
    // An open deploy window in scope lets the request through though its file's other windows are
    // closed, which loosens the gate: a window the request is in scope of only as the worst case holds
    // it like the others, but never lets it through while one of them is closed.
    const opens = window.kind === 'deploy_window' && applies && evaluateConditions(window.if, ctx, 'loosen').every((c) => c.matched);
    const compiled = compileSchedule(window.schedule, window.timeZone);
    if (!compiled.ok) {
      problems.push(`${windowNoun(window)}: ${compiled.message}`);
      continue;
    }
    const clock = compiled.value;
    if (applies) applying.push({ window, clock, opens });
    const current = clock.at(now);
    const nextStart = current ? null : clock.nextStart(now, now + WINDOW_HORIZON_MS);
    const period: Period | null = current ?? (nextStart === null ? null : clock.at(nextStart));
    evaluations.push({
      name: window.name,
      kind: window.kind,
      layer: window.layer,
      location: window.location,
      mode: window.mode,
      timeZone: window.timeZone,
      message: window.message ?? null,
      applies,
      conditions,
      inForce: current !== null,
      period: period && { start: iso(period.start), end: period.end === Infinity ? null : iso(period.end) },
      periodLocal: period && { start: wallClock(period.start, window.timeZone), end: period.end === Infinity ? null : wallClock(period.end, window.timeZone) },
    });
  }

  const timed: TimedWindow[] = applying.map(timedWindow);
  const open = allowedAt(timed, now);
  const closing = open ? [] : closingWindows(applying, now);
  const mode = closing.reduce<WindowMode | null>((strictest, w) => (strictest === null || STRICTNESS[w.mode] > STRICTNESS[strictest] ? w.mode : strictest), null);
  // A held request is released when no window that holds (wait) or ends (reject) closes it any more,
  // though a window that asks for an override (require) may still: then it needs that override.
  const opensAt = open ? now : mode === 'wait' ? releasedAt(applying, timed, now) : nextAllowed(timed, now);
  const overridesThen = mode === 'wait' && opensAt !== null && !allowedAt(timed, opensAt) ? closingWindows(applying, opensAt).map((w) => w.name) : [];
  const recheckAt = nextChange(timed, now);
  // An override must be written after the request was closed: a comment older than that approved something else.
  const lastChanges = open ? [] : applying.map(({ clock }) => clock.lastBoundary(now)).filter((b): b is number => b !== null);
  // Deploy windows open now that the request is in scope of only as the worst case.
  const unopened = new Set(applying.filter(({ window, clock, opens }) => window.kind === 'deploy_window' && !opens && clock.at(now)).map(({ window }) => window));
  return {
    decision: {
      at: iso(now),
      windows: evaluations,
      open,
      closedBy: closing.map((w) => w.name),
      mode,
      messages: closing.map((w) => w.message ?? `${windowNoun(w)} ${w.kind === 'freeze' ? 'is in force' : unopened.has(w) ? 'is open, but lets through only requests known to be in its scope' : 'is closed'}`),
      opensAt: opensAt === null ? null : iso(opensAt),
      ...(overridesThen.length > 0 ? { overridesThen } : {}),
      recheckAt: recheckAt === null ? null : iso(recheckAt),
      ...(lastChanges.length > 0 ? { closedSince: iso(Math.max(...lastChanges)) } : {}),
    },
    closing,
  };
}

/** A window the request is in scope of; `opens`: a deploy window that may let it through (see TimedWindow). */
interface Applying {
  window: TimeWindow;
  clock: WindowClock;
  opens: boolean;
}

const timedWindow = ({ window, clock, opens }: Applying): TimedWindow => ({ kind: window.kind, layer: window.layer, clock, opens });

/** Boundaries walked at most looking for a held request's release. */
const MAX_RELEASE_STEPS = 2_000;

/** The first instant at or after `now` at which no window in `wait` or `reject` mode closes the request; null when not within a year. */
function releasedAt(applying: readonly Applying[], timed: readonly TimedWindow[], now: number): number | null {
  const held = (t: number) => !allowedAt(timed, t) && closingWindows(applying, t).some((w) => w.mode !== 'require');
  let at = now;
  for (let step = 0; step < MAX_RELEASE_STEPS && at <= now + WINDOW_HORIZON_MS; step++) {
    if (!held(at)) return at;
    const next = nextChange(timed, at);
    if (next === null) return null;
    at = next;
  }
  return null;
}

/** What holds a request at `now`: the freezes in force, and each file's deploy windows when they do not let it through (see `openLayers`). */
function closingWindows(applying: readonly Applying[], now: number): TimeWindow[] {
  const freezes = applying.filter(({ window, clock }) => window.kind === 'freeze' && clock.at(now)).map(({ window }) => window);
  const open = openLayers(applying.map(timedWindow), now);
  return [...freezes, ...applying.filter(({ window }) => window.kind === 'deploy_window' && !open.has(window.layer)).map(({ window }) => window)];
}

/** "until 2027-01-04 08:00 Europe/Berlin", in the zone of the first window that holds the request. */
export function untilText(decision: WindowsDecision): string {
  if (decision.opensAt === null) return 'with no opening within a year';
  return `until ${wallClock(Date.parse(decision.opensAt), closingZone(decision))}`;
}

/** The zone of the first window that holds the request (of the first window when none does), in which its times are told. */
export function closingZone(decision: WindowsDecision): string {
  return (decision.windows.find((w) => w.name === decision.closedBy[0]) ?? decision.windows[0])?.timeZone ?? 'UTC';
}
