/**
 * Opens the request and long-polls it to a final status. While the App is unreachable, the check run
 * it named as its own is read instead; an App never reached approves nothing. On the Action's own
 * deadline the request is cancelled.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { formatDuration } from '../policies/duration.js';
import { AppClient, AppUnreachableError, type BackoffPolicy, type OpenRequest, type RequestStatus, type RequestView } from './client.js';
import type { AppsCheckRun, CheckRunFallback, CheckRunReading } from './fallback.js';

export type Decision = 'approved' | 'rejected' | 'timed_out' | 'cancelled' | 'auto_approved';

export interface Outcome {
  status: Exclude<RequestStatus, 'pending'>;
  /** Undefined for `failed` (the policy could not be evaluated): that is an error, not a decision. */
  decision?: Decision;
  reason: string;
  approvedBy: string[];
  matchedRules: string[];
  problems: string[];
  requestId?: string;
  checkRunUrl?: string;
  /** Where the outcome was read: the App, or its check run while the App was unreachable. */
  source: 'app' | 'check-run';
  waitedSeconds: number;
}

export interface WaitSettings {
  /** The `wait` asked of each long poll; the App answers sooner when the request changes. */
  pollWaitSeconds: number;
  progressIntervalMs: number;
  /** Pause between check run reads while the App is unreachable. */
  fallbackIntervalMs: number;
  /** Used only while the App has never answered and no `timeout` input is set: the policy's default. */
  unknownTimeoutSeconds: number;
  /** Extra time given to the App past its own deadline, so its `timed_out` arrives before ours. */
  deadlineGraceMs: number;
}

export const DEFAULT_WAIT_SETTINGS: WaitSettings = {
  pollWaitSeconds: 25,
  // Equal to the poll's wait, so every idle poll prints one line: about every 30 s with the round trip.
  progressIntervalMs: 25_000,
  fallbackIntervalMs: 5_000,
  unknownTimeoutSeconds: 3600,
  deadlineGraceMs: 30_000,
};

/** One try per call while degraded: the fallback interval already spaces the attempts. */
const SINGLE_ATTEMPT: BackoffPolicy = { attempts: 1, baseMs: 0, maxMs: 0 };
/** Cancelling must finish before the runner kills the process (SIGINT, then SIGTERM 7.5 s later and a kill 2.5 s after that). */
const CANCEL_BACKOFF: BackoffPolicy = { attempts: 2, baseMs: 500, maxMs: 1000 };
/** No retry of a cancel starts later than this after the first (an App's Retry-After can ask for a minute). */
const CANCEL_WITHIN_MS = 5_000;

export interface WaitDependencies {
  client: AppClient;
  /** Absent when no GitHub token was given. */
  fallback?: CheckRunFallback;
  log: (line: string) => void;
  warn: (line: string) => void;
  /** Told the request id as soon as it is known, so a cancelled job can cancel the request. */
  onRequest?: (view: RequestView) => void;
  /** Told of each attempt to open the request as it starts: a job cancelled meanwhile cancels what it opens. */
  onOpening?: (opening: Promise<RequestView>) => void;
  now?: () => number;
}

export function decisionOf(status: RequestStatus, reason: string): Decision | undefined {
  if (status === 'approved') return reason === 'auto' ? 'auto_approved' : 'approved';
  if (status === 'pending' || status === 'failed') return undefined;
  return status;
}

const mention = (login: string) => (login.startsWith('@') ? login : `@${login}`);
const list = (names: string[]) => names.join(', ');

/** The line printed about every 30 s while waiting. */
export function progressLine(view: RequestView, msLeft: number): string {
  const parts: string[] = [];
  if (view.matchedRules.length > 0) parts.push(`rules: ${list(view.matchedRules)}`);
  if (view.approvalsRequired !== undefined) parts.push(`${view.approvedBy.length} of ${view.approvalsRequired} approvals`);
  const head = `Waiting for approval${parts.length > 0 ? ` (${parts.join('; ')})` : ''}`;
  const approved = view.approvedBy.length > 0 ? `approved by ${list(view.approvedBy.map(mention))}` : 'no approvals yet';
  // The App words these itself ("1 more from @acme/leads"), so they are printed as given.
  const awaited = view.awaiting.length > 0 ? `awaiting ${list(view.awaiting)}` : '';
  const left = `${formatDuration(Math.ceil(msLeft / 1000))} left`;
  return `${head}: ${[approved, awaited, left].filter(Boolean).join('; ')}${view.checkRunUrl ? ` — ${view.checkRunUrl}` : ''}`;
}

/** Why the step ends without a request: the App out of reach, or answering with errors (whose cause its log holds). */
function neverOpened(appUrl: string, answered: number | undefined, lastFailure: string): string {
  if (answered === undefined || answered === 429) return `The App at ${appUrl} was never reached; nothing was approved. ${lastFailure}`;
  return `The App at ${appUrl} answered HTTP ${answered} each time it was asked to open the request; nothing was approved. Its log says why (GitHub refusing the App's credentials, or its database, say). ${lastFailure}`;
}

/** The line printed about every 30 s while the App is unreachable. */
export function unreachableProgressLine(appUrl: string, view: RequestView | undefined, reading: CheckRunReading | undefined, msLeft: number): string {
  const left = `${formatDuration(Math.ceil(msLeft / 1000))} left`;
  if (!view) return `The App at ${appUrl} has not opened the request yet, and nothing is approved without it; retrying; ${left}`;
  if (!reading) return `The App is unreachable; retrying; ${left}`;
  return `The App is unreachable; its check run is still pending (${reading.checkRunUrl}); retrying; ${left}`;
}

/** The check run may stand in for the App only once the App itself named it and the GitHub App that makes it. */
function appsCheckRun(view: RequestView | undefined): AppsCheckRun | undefined {
  if (view?.checkRunId === undefined || view.appId === undefined) return undefined;
  return { checkRunId: view.checkRunId, requestId: view.id, appId: view.appId };
}

function whileUnreachable(deps: WaitDependencies, view: RequestView | undefined): string {
  if (!view) return 'The App has not answered yet, so nothing can be read in its place; retrying until it answers or the step times out.';
  if (!deps.fallback) return 'Retrying until the App answers again.';
  if (!appsCheckRun(view)) return 'The App named no check run of its own for this request, so none is read in its place; retrying until the App answers again.';
  return 'Reading the approval check run with GITHUB_TOKEN until the App answers again.';
}

function outcomeFromView(view: RequestView, waitedSeconds: number): Outcome {
  return {
    status: view.status as Outcome['status'],
    decision: decisionOf(view.status, view.reason),
    reason: view.reason,
    approvedBy: view.approvedBy,
    matchedRules: view.matchedRules,
    problems: view.problems,
    requestId: view.id,
    checkRunUrl: view.checkRunUrl,
    source: 'app',
    waitedSeconds,
  };
}

export async function waitForDecision(
  request: OpenRequest,
  deps: WaitDependencies,
  settings: WaitSettings = DEFAULT_WAIT_SETTINGS,
): Promise<Outcome> {
  const now = deps.now ?? Date.now;
  const startedAt = now();
  const waited = () => Math.round((now() - startedAt) / 1000);
  const ownDeadline = request.timeoutSeconds !== undefined ? startedAt + request.timeoutSeconds * 1000 : undefined;
  let view: RequestView | undefined;
  let degraded = false;
  let checkRunShown = false;
  let lastFailure = '';
  let lastAnswered: number | undefined;
  let lastFallbackProblem = '';
  let lastProgress = { at: 0, state: '' };

  const deadline = () => {
    const appDeadline = view?.deadline ? view.deadline.getTime() + settings.deadlineGraceMs : undefined;
    if (ownDeadline !== undefined && appDeadline !== undefined) return Math.min(ownDeadline, appDeadline);
    return ownDeadline ?? appDeadline ?? startedAt + settings.unknownTimeoutSeconds * 1000;
  };
  /** Prints at once when `state` changed (a vote, say), else at most once per interval. */
  const progress = (state: string, text: string) => {
    if (state !== lastProgress.state || now() - lastProgress.at >= settings.progressIntervalMs) {
      deps.log(text);
      lastProgress = { at: now(), state };
    }
  };

  for (;;) {
    const msLeft = deadline() - now();
    if (msLeft <= 0) {
      if (!view) throw new AppUnreachableError(neverOpened(deps.client.appUrl, lastAnswered, lastFailure));
      return timeOut(view, deps, waited());
    }
    const backoff = degraded ? SINGLE_ATTEMPT : undefined;
    // On Date.now(), the clock the client compares it with (`deps.now` may be a test's).
    const until = Date.now() + msLeft;
    try {
      const wasOpen = view !== undefined;
      if (view) {
        view = await deps.client.get(view.id, Math.max(1, Math.min(settings.pollWaitSeconds, Math.ceil(msLeft / 1000))), backoff, until);
      } else {
        const opening = deps.client.open(request, backoff, until);
        deps.onOpening?.(opening);
        view = await opening;
      }
      if (!wasOpen) {
        deps.onRequest?.(view);
        deps.log(`Approval request ${view.id} opened${view.checkRunUrl ? `: ${view.checkRunUrl}` : ''}`);
      } else if (view.checkRunUrl && !checkRunShown) {
        // Published after the open answered: where to vote, and what the step reads while the App is away.
        deps.log(`Approval check run: ${view.checkRunUrl}`);
      }
      checkRunShown ||= view.checkRunUrl !== undefined;
      if (degraded) deps.log('The App is reachable again.');
      degraded = false;
      if (view.status !== 'pending') return outcomeFromView(view, waited());
      progress(JSON.stringify([view.approvedBy, view.awaiting]), progressLine(view, deadline() - now()));
    } catch (err) {
      if (!(err instanceof AppUnreachableError)) throw err;
      lastFailure = `Last error: ${err.message}.`;
      lastAnswered = err.answered;
      if (!degraded) deps.warn(`${err.message}. ${whileUnreachable(deps, view)}`);
      degraded = true;
      const { reading, problem = '' } = await readFallback(deps, view);
      // Said once, not on every read: the same problem recurs until the App is back.
      if (problem && problem !== lastFallbackProblem) deps.warn(`Reading the check run failed too: ${problem}`);
      lastFallbackProblem = problem;
      if (reading && reading.status !== 'pending') {
        deps.log(`Decision read from the check run ${reading.checkRunUrl}: ${reading.status}`);
        return {
          status: reading.status,
          decision: decisionOf(reading.status, reading.reason),
          reason: reading.reason,
          approvedBy: reading.approvedBy,
          matchedRules: view?.matchedRules ?? [],
          problems: [],
          requestId: view?.id,
          checkRunUrl: reading.checkRunUrl,
          source: 'check-run',
          waitedSeconds: waited(),
        };
      }
      progress(`unreachable ${reading?.checkRunId}`, unreachableProgressLine(deps.client.appUrl, view, reading, deadline() - now()));
      await sleep(Math.max(0, Math.min(settings.fallbackIntervalMs, deadline() - now())));
    }
  }
}

async function readFallback(deps: WaitDependencies, view: RequestView | undefined): Promise<{ reading?: CheckRunReading; problem?: string }> {
  const known = appsCheckRun(view);
  if (!deps.fallback || !known) return {};
  try {
    return { reading: await deps.fallback.read(known) };
  } catch (err) {
    return { problem: err instanceof Error ? err.message : String(err) };
  }
}

async function timeOut(view: RequestView, deps: WaitDependencies, waitedSeconds: number): Promise<Outcome> {
  const reason = `no decision within ${formatDuration(waitedSeconds)}; request ${view.id} cancelled`;
  try {
    const cancelled = await deps.client.cancel(view.id, 'timeout', CANCEL_BACKOFF, Date.now() + CANCEL_WITHIN_MS);
    // A decision that landed just before the cancel is still the App's decision.
    if (cancelled.status !== 'pending' && cancelled.status !== 'timed_out' && cancelled.status !== 'cancelled') {
      return outcomeFromView(cancelled, waitedSeconds);
    }
  } catch (err) {
    deps.warn(`Could not cancel request ${view.id} at the App (${err instanceof Error ? err.message : String(err)}); it expires at its own deadline.`);
  }
  return endedOutcome('timed_out', reason, view, waitedSeconds);
}

/** The outcome when the step itself ended the wait (timeout, job cancelled), with what the App last said. */
export function endedOutcome(status: 'timed_out' | 'cancelled', reason: string, view: RequestView | undefined, waitedSeconds: number): Outcome {
  return {
    status,
    decision: status,
    reason,
    approvedBy: view?.approvedBy ?? [],
    matchedRules: view?.matchedRules ?? [],
    problems: [],
    requestId: view?.id,
    checkRunUrl: view?.checkRunUrl,
    source: 'app',
    waitedSeconds,
  };
}

/**
 * How long a cancelled job waits for an open under way to answer: the App may have stored the request
 * already, and only its answer names it. The runner kills the step 10 s after SIGINT (SIGTERM at
 * 7.5 s, which the handler ignores once cancelling): the rest is left for the cancel itself.
 */
export const OPENING_WAIT_MS = 6000;

/**
 * The step's request: the one the App named, else what an open under way answers within `waitMs`
 * (undefined when it fails or takes longer).
 */
export async function requestOfStep(current: RequestView | undefined, opening: Promise<RequestView> | undefined, waitMs = OPENING_WAIT_MS): Promise<RequestView | undefined> {
  if (current || !opening) return current;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      opening.catch(() => undefined),
      new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), waitMs))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * When the job is cancelled the runner sends SIGINT (then SIGTERM): cancel the request at the App so
 * approvers are not asked about a step that no longer waits, then let `onDone` end the process. A
 * request the App is still opening is waited for (see `requestOfStep`): left open, it would wait for
 * approvers until its deadline, and an approval given to it would stand as the branch's last approved
 * request.
 */
export function cancelOnTermination(
  client: AppClient,
  current: () => Promise<RequestView | undefined>,
  warn: (line: string) => void,
  onDone: (view?: RequestView) => void,
): () => void {
  let cancelling = false;
  const cancel = async (signal: NodeJS.Signals) => {
    const view = await current().catch(() => undefined);
    if (!view) return onDone();
    let last = view;
    try {
      last = await client.cancel(view.id, 'job_cancelled', CANCEL_BACKOFF, Date.now() + CANCEL_WITHIN_MS);
    } catch (err) {
      warn(`Received ${signal} but could not cancel request ${view.id}: ${err instanceof Error ? err.message : String(err)}`);
    }
    onDone(last);
  };
  const handler = (signal: NodeJS.Signals) => {
    if (cancelling) return;
    cancelling = true;
    void cancel(signal);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}
