/**
 * The App's HTTP API as the Action sees it. Every call carries a fresh OIDC token (they live about
 * five minutes), and network errors, 5xx and 429 are retried with exponential backoff and full jitter.
 */
import * as core from '@actions/core';
import { HttpClient } from '@actions/http-client';
import { setTimeout as sleep } from 'node:timers/promises';
import { answerMismatch, jobEnvironmentOf, type StepIdentity } from './step-identity.js';

export type RequestStatus = 'pending' | 'approved' | 'rejected' | 'timed_out' | 'cancelled' | 'failed';
const STATUSES: readonly RequestStatus[] = ['pending', 'approved', 'rejected', 'timed_out', 'cancelled', 'failed'];

/** One approval request as the App reports it. */
export interface RequestView {
  id: string;
  status: RequestStatus;
  /** Whose request it is: `owner/name` (as the repository is called now), its id, run id, attempt, action and environment. */
  repository: string;
  repositoryId?: string;
  runId: string;
  runAttempt: string;
  action: string;
  environment?: string;
  /** Why it is in its status: `auto`, `quorum`, the reject reason, the policy error, … */
  reason: string;
  matchedRules: string[];
  approvalsRequired?: number;
  /** Who may approve: logins and `@org/team` names. */
  eligibleApprovers: string[];
  approvedBy: string[];
  /** Who is still awaited, worded by the App: "1 more from @acme/leads". */
  awaiting: string[];
  /** `file:line:col: message` lines when the policy could not be loaded. */
  problems: string[];
  checkRunId?: number;
  checkRunUrl?: string;
  /** The GitHub App the App runs as: only a check run made by it may stand in for the App. */
  appId?: number;
  /** On the runner's clock (see `onRunnerClock`), so the step can compare it with its own `Date.now()`. */
  deadline?: Date;
}

export interface OpenRequest {
  action: string;
  environment?: string;
  severity?: string;
  summary?: string;
  timeoutSeconds?: number;
}

/** The App answered with a 4xx, or with a success it did not mean: retrying cannot help, and the message says what to fix. */
export class AppApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
    this.name = 'AppApiError';
  }
}

/** Every attempt failed with a network error, a 5xx or a 429. */
export class AppUnreachableError extends Error {
  /** `answered`: the HTTP status of the last attempt, when the App answered it (a 5xx or 429): then it was reached, and failed. */
  constructor(message: string, readonly answered?: number) {
    super(message);
    this.name = 'AppUnreachableError';
  }
}

export class MissingIdTokenPermissionError extends Error {
  constructor() {
    super(
      'This job cannot request an OIDC token, so it cannot prove to the App which run it is. ' +
        'Add `permissions: id-token: write` to the job (or the workflow) that uses this Action.',
    );
    this.name = 'MissingIdTokenPermissionError';
  }
}

export class IdTokenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IdTokenError';
  }
}

export interface BackoffPolicy {
  /** Attempts per call, the first included. */
  attempts: number;
  baseMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { attempts: 4, baseMs: 500, maxMs: 8000 };

/** "Full jitter": uniform in [0, min(max, base·2^retry)), so retrying runners do not stampede together. */
export function backoffDelayMs(retry: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  return Math.floor(random() * Math.min(policy.maxMs, policy.baseMs * 2 ** retry));
}

/** Capped so a bad Retry-After cannot stall the step. */
const RETRY_AFTER_CAP_MS = 60_000;

/** Seconds form of Retry-After only; the App never sends a date. */
function retryAfterMs(header: string | string[] | undefined): number {
  const seconds = Number(Array.isArray(header) ? header[0] : header);
  return Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds * 1000, RETRY_AFTER_CAP_MS) : 0;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new AppApiError(200, 'bad_response', `The App answered with something that is not JSON: ${text.slice(0, 300)}`);
  }
}

const strings = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];

const OWNER_FIELDS = ['repository', 'run_id', 'run_attempt', 'action'] as const;

/**
 * Checks what the decision rests on (id, status, and whose request it is) strictly; an answer without
 * them is an error, never a pass.
 */
export function parseRequestView(body: unknown): RequestView {
  const json = (body ?? {}) as Record<string, unknown>;
  const status = json.status as RequestStatus;
  const excerpt = () => JSON.stringify(body).slice(0, 300);
  if (typeof json.id !== 'string' || !STATUSES.includes(status)) {
    throw new AppApiError(200, 'bad_response', `The App answered without a request id and a known status: ${excerpt()}`);
  }
  const missing = OWNER_FIELDS.filter((field) => typeof json[field] !== 'string');
  if (missing.length > 0) {
    throw new AppApiError(200, 'bad_response', `The App answered without saying whose request it is (${missing.join(', ')}): ${excerpt()}`);
  }
  const deadline = typeof json.deadline === 'string' ? new Date(json.deadline) : undefined;
  return {
    id: json.id,
    status,
    repository: json.repository as string,
    repositoryId: typeof json.repository_id === 'string' ? json.repository_id : undefined,
    runId: json.run_id as string,
    runAttempt: json.run_attempt as string,
    action: json.action as string,
    environment: typeof json.environment === 'string' ? json.environment : undefined,
    reason: typeof json.reason === 'string' ? json.reason : '',
    matchedRules: strings(json.matched_rules),
    approvalsRequired: typeof json.approvals_required === 'number' ? json.approvals_required : undefined,
    eligibleApprovers: strings(json.eligible_approvers),
    approvedBy: strings(json.approved_by),
    awaiting: strings(json.awaiting),
    problems: strings(json.problems),
    checkRunId: typeof json.check_run_id === 'number' ? json.check_run_id : undefined,
    checkRunUrl: typeof json.check_run_url === 'string' ? json.check_run_url : undefined,
    appId: Number.isSafeInteger(json.app_id) && (json.app_id as number) > 0 ? (json.app_id as number) : undefined,
    deadline: deadline && !Number.isNaN(deadline.getTime()) ? deadline : undefined,
  };
}

/**
 * The App states its deadline on its own clock; a runner whose clock runs ahead of it (a self-hosted
 * one off NTP) would otherwise give up, and cancel the request, while approvers still have time. The
 * answer's `Date` header tells the App's time when it answered: the deadline is moved by the difference.
 * Its whole seconds and the answer's time in transit only ever move it later, by about a second, and
 * the App ends the request at its own deadline anyway. Without a readable `Date`, it is taken as given.
 */
export function onRunnerClock(view: RequestView, dateHeader: string | undefined, receivedAt: number): RequestView {
  const appTime = dateHeader ? Date.parse(dateHeader) : NaN;
  if (!view.deadline || Number.isNaN(appTime)) return view;
  const deadline = new Date(view.deadline.getTime() + (receivedAt - appTime));
  return Number.isNaN(deadline.getTime()) ? view : { ...view, deadline };
}

export interface AppClientOptions {
  appUrl: string;
  audience: string;
  /** Every answer must be about this step; any other fails the call. */
  step: StepIdentity;
  backoff?: BackoffPolicy;
  /** Logged once per retry, so a flaky App is visible in the job log. */
  onRetry?: (message: string) => void;
}

interface CallOptions {
  body?: unknown;
  /** The request the call is about: the answer must be that one. */
  requestId?: string;
  /** Socket idle timeout; long polls need more than the wait they ask for. */
  timeoutMs: number;
  backoff?: BackoffPolicy;
  /** The step's deadline (`Date.now()` time): no attempt waits, and no retry starts, past it. */
  until?: number;
}

/** Past the step's deadline a socket still waits this long, for an answer the App sends just at its end. */
const DEADLINE_SOCKET_GRACE_MS = 5_000;

export class AppClient {
  private readonly backoff: BackoffPolicy;

  constructor(private readonly options: AppClientOptions) {
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
  }

  get appUrl(): string {
    return this.options.appUrl;
  }

  /** Idempotent at the App (per run, attempt and action), so a retried POST reattaches to the same request. */
  open(request: OpenRequest, backoff?: BackoffPolicy, until?: number): Promise<RequestView> {
    const body = {
      action: request.action,
      environment: request.environment,
      severity: request.severity,
      summary: request.summary,
      timeout_seconds: request.timeoutSeconds,
    };
    return this.call('POST', '/api/v1/requests', { body, timeoutMs: 30_000, backoff, until });
  }

  /** Long poll: the App answers when the request changes or after `waitSeconds`. */
  get(id: string, waitSeconds: number, backoff?: BackoffPolicy, until?: number): Promise<RequestView> {
    const path = `/api/v1/requests/${encodeURIComponent(id)}?wait=${waitSeconds}`;
    return this.call('GET', path, { requestId: id, timeoutMs: (waitSeconds + 15) * 1000, backoff, until });
  }

  cancel(id: string, reason: 'timeout' | 'job_cancelled', backoff?: BackoffPolicy, until?: number): Promise<RequestView> {
    const path = `/api/v1/requests/${encodeURIComponent(id)}/cancel`;
    return this.call('POST', path, { body: { reason }, requestId: id, timeoutMs: 10_000, backoff, until });
  }

  private async idToken(): Promise<string> {
    // Without `id-token: write` the runner does not set this, and core's own error does not say why.
    if (!process.env.ACTIONS_ID_TOKEN_REQUEST_URL) throw new MissingIdTokenPermissionError();
    try {
      return await core.getIDToken(this.options.audience);
    } catch (err) {
      // core already retried; the runner's token service is not the App, so this is no reason to fall back.
      throw new IdTokenError(`Could not get an OIDC token from the runner: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private async call(method: 'GET' | 'POST', path: string, options: CallOptions): Promise<RequestView> {
    const backoff = options.backoff ?? this.backoff;
    const url = `${this.options.appUrl}${path}`;
    const left = () => (options.until === undefined ? Infinity : options.until - Date.now());
    for (let attempt = 1; ; attempt++) {
      let failure: string;
      let answered: number | undefined;
      let waitAtLeastMs = 0;
      // A hung App, or one asking to be retried much later, must not hold the step past its own deadline.
      const socketTimeout = Math.max(1, Math.min(options.timeoutMs, left() + DEADLINE_SOCKET_GRACE_MS));
      const http = new HttpClient('mercurial-jit-action', [], { socketTimeout, allowRetries: false });
      try {
        const idToken = await this.idToken();
        const headers = { authorization: `Bearer ${idToken}`, accept: 'application/json' };
        const response =
          method === 'GET'
            ? await http.get(url, headers)
            : await http.post(url, JSON.stringify(options.body ?? {}), { ...headers, 'content-type': 'application/json' });
        const status = response.message.statusCode ?? 0;
        const text = await response.readBody();
        if (status >= 200 && status < 300) {
          const view = onRunnerClock(parseRequestView(parseJson(text)), response.message.headers.date, Date.now());
          return this.ownAnswer(view, idToken, options.requestId);
        }
        if (status !== 429 && status < 500) throw apiError(status, text, method, path);
        failure = `HTTP ${status}`;
        answered = status;
        waitAtLeastMs = retryAfterMs(response.message.headers['retry-after']);
      } catch (err) {
        if (err instanceof AppApiError || err instanceof MissingIdTokenPermissionError || err instanceof IdTokenError) throw err;
        failure = err instanceof Error ? err.message : String(err);
      } finally {
        http.dispose();
      }
      const attempts = `${attempt} attempt${attempt === 1 ? '' : 's'}`;
      if (attempt >= backoff.attempts) {
        throw new AppUnreachableError(`${method} ${url} failed after ${attempts}: ${failure}`, answered);
      }
      const delay = Math.max(waitAtLeastMs, backoffDelayMs(attempt - 1, backoff));
      if (delay >= left()) {
        throw new AppUnreachableError(`${method} ${url} failed after ${attempts}, and the step's deadline comes before another: ${failure}`, answered);
      }
      this.options.onRetry?.(`${method} ${path}: ${failure}; retrying in ${(delay / 1000).toFixed(1)}s (attempt ${attempt + 1}/${backoff.attempts})`);
      await sleep(delay);
    }
  }

  private ownAnswer(view: RequestView, idToken: string, requestId: string | undefined): RequestView {
    const mismatch = answerMismatch(view, this.options.step, { requestId, jobEnvironment: jobEnvironmentOf(idToken) });
    if (mismatch) throw new AppApiError(200, 'wrong_request', mismatch);
    return view;
  }
}

/** The App's errors are `{ error: { code, message } }`; its message is what the user needs to see. */
function apiError(status: number, text: string, method: string, path: string): AppApiError {
  let code = `http_${status}`;
  let message = text.slice(0, 500) || `HTTP ${status}`;
  try {
    const { error } = JSON.parse(text) as { error?: { code?: string; message?: string } };
    if (error?.code) code = error.code;
    if (error?.message) message = error.message;
  } catch {
    // Not JSON (a proxy's error page, say): the raw text is the best there is.
  }
  const hint =
    status === 401 ? ' (check that `audience` matches the App\'s APP_URL, and that the App trusts this OIDC issuer)' : '';
  return new AppApiError(status, code, `The App refused ${method} ${path} (${status} ${code}): ${message}${hint}`);
}
