/**
 * The App's own HTTP routes, added to Probot's server next to its webhook route:
 * the request API for the Action (Bearer OIDC), health and metrics. The check run's details link
 * leads to the dashboard (`app/dashboard/`).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'probot';
import type { Gate } from '../gate/gate.js';
import { ConflictError, InputError } from '../gate/gate.js';
import { isRequestOfJob, type GateRequest } from '../gate/request.js';
import { AppNotInstalledError } from '../github/installations.js';
import { OidcError, type OidcVerifier, type RunIdentity } from '../oidc.js';
import type { Metrics } from '../ops/metrics.js';
import { PendingLimitError, type ApprovalRequest, type Store } from '../store/store.js';
import type { Admission } from './admission.js';
import { API_BODY_LIMIT_BYTES, readJson, refuseDeclaredOverLimit } from './body.js';
import { HttpError, sendError, sendJson } from './http.js';
import { parseCancelBody, parseOpenBody } from './request-body.js';
import { requestView } from './view.js';

export const MAX_WAIT_SECONDS = 60;

export interface ApiOptions {
  gate: Gate;
  store: Store;
  /** The check run's details link for a request. */
  detailsUrl: (requestId: string) => string;
  verifier: OidcVerifier;
  metrics: Metrics;
  log: Logger;
  /** The GitHub App's id, reported with each request. */
  appId: number;
  admission: Admission;
  /** `METRICS_TOKEN`: when set, `GET /metrics` needs it as a bearer token. */
  metricsToken?: string;
  /** `METRICS_PORT`: /metrics is served on its own port, and not here. */
  metricsElsewhere?: boolean;
  /** Aborted when the App shuts down: open long polls answer at once so the Action re-polls elsewhere. */
  shutdown: AbortSignal;
}

const REQUEST_PATH = /^\/api\/v1\/requests\/([^/]+)$/;
const CANCEL_PATH = /^\/api\/v1\/requests\/([^/]+)\/cancel$/;

/** A Probot server handler: answers the App's routes and returns false for anything else. */
export function createApiHandler(options: ApiOptions) {
  const showing = new ShowingPerInstallation();
  return async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const url = new URL(req.url ?? '/', 'http://app.invalid');
    const path = url.pathname;
    try {
      if (path === '/healthz' && req.method === 'GET') return await health(options, res);
      if (path === '/metrics' && req.method === 'GET' && !options.metricsElsewhere) {
        await sendMetrics(options.metrics, options.metricsToken, req, res);
        return true;
      }
      if (!path.startsWith('/api/v1/')) return false;
      // Refused before the token is verified: an oversized body is not worth a network call.
      if (req.method === 'POST') refuseDeclaredOverLimit(req, API_BODY_LIMIT_BYTES);

      if (path === '/api/v1/requests') {
        allow(req, 'POST');
        const arrived = Date.now();
        const run = await authenticate(options, req);
        const input = parseOpenBody(await readJson(req));
        const existing = await options.admission.checkPendingQuota(run, input);
        const request = await shownOnGitHub(options, await openRequest(options, run, input, existing), req, showing, arrived + PUBLICATION_WAIT_MS);
        sendJson(res, 200, requestView(request, options.detailsUrl(request.id), options.appId));
        return true;
      }
      const cancel = CANCEL_PATH.exec(path);
      if (cancel) {
        allow(req, 'POST');
        const run = await authenticate(options, req);
        await ownRequest(options, run, cancel[1]);
        const reason = parseCancelBody(await readJson(req));
        const request = (await options.gate.cancel(cancel[1], reason, run.actor))!;
        sendJson(res, 200, requestView(request, options.detailsUrl(request.id), options.appId));
        return true;
      }
      const single = REQUEST_PATH.exec(path);
      if (single) {
        allow(req, 'GET');
        const run = await authenticate(options, req);
        const seconds = waitSeconds(url);
        const answer = seconds === 0 || options.shutdown.aborted ? await ownRequest(options, run, single[1]) : await waitForChange(options, run, single[1], seconds, req);
        sendJson(res, 200, requestView(answer, options.detailsUrl(answer.id), options.appId));
        return true;
      }
      throw new HttpError(404, 'not_found', `no route ${req.method} ${path}`);
    } catch (err) {
      if (err instanceof HttpError) sendError(res, err);
      else {
        options.log.error({ err, path }, 'request failed');
        sendError(res, new HttpError(500, 'internal', 'the App could not answer; nothing was approved'));
      }
      return true;
    }
  };
}

/** `GET /metrics`, on the App's port or on its own (`METRICS_PORT`); behind the token when one is set. */
export async function sendMetrics(metrics: Metrics, token: string | undefined, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (token !== undefined) checkMetricsToken(req, token);
  res.writeHead(200, { 'content-type': metrics.registry.contentType });
  res.end(await metrics.registry.metrics());
}

/**
 * Metrics name repositories' activity; on a public APP_URL they are for the scraper only. Compared by
 * digest, in constant time, so the answer's timing says nothing of the token.
 */
function checkMetricsToken(req: IncomingMessage, token: string): void {
  const match = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  const digest = (text: string) => createHash('sha256').update(text).digest();
  if (!match || !timingSafeEqual(digest(match[1]!), digest(token))) {
    throw new HttpError(401, 'unauthenticated', 'send the METRICS_TOKEN as "Authorization: Bearer <token>"');
  }
}

function allow(req: IncomingMessage, method: string): void {
  if (req.method !== method) throw new HttpError(405, 'method_not_allowed', `use ${method}`);
}

async function authenticate(options: ApiOptions, req: IncomingMessage): Promise<RunIdentity> {
  const header = req.headers.authorization ?? '';
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match) throw new HttpError(401, 'unauthenticated', 'send the job\'s GitHub Actions OIDC token as "Authorization: Bearer <token>"');
  let run: RunIdentity;
  try {
    run = await options.verifier.verify(match[1]);
  } catch (err) {
    if (err instanceof OidcError) {
      if (err.reason === 'discovery') throw new HttpError(503, 'oidc_unavailable', err.message);
      throw new HttpError(401, `token_${err.reason}`, err.message);
    }
    throw err;
  }
  options.admission.checkOwner(run);
  return run;
}

/**
 * A token only ever sees requests of its own job of its own repository, run and run attempt; anything
 * else does not exist for it. A re-run is another attempt: it opens its own requests and cannot answer
 * for earlier ones. Another job of the run (one that builds unreviewed code, say) can neither read a
 * job's request nor cancel it.
 */
async function ownRequest(options: ApiOptions, run: RunIdentity, id: string): Promise<GateRequest> {
  const read = await options.gate.read(id);
  const request = read?.request;
  if (!read || !request || request.repositoryId !== run.repositoryId || request.runId !== run.runId || request.runAttempt !== run.runAttempt || !isRequestOfJob(read.row.jobKey, run)) {
    throw new HttpError(404, 'not_found', `no request ${id} for this job`);
  }
  return request;
}

async function openRequest(options: ApiOptions, run: RunIdentity, input: ReturnType<typeof parseOpenBody>, existing: ApprovalRequest | null): Promise<GateRequest> {
  try {
    return await options.gate.open(run, input, { limits: options.admission.limits, existing });
  } catch (err) {
    if (err instanceof PendingLimitError) throw options.admission.refusal(run, err);
    if (err instanceof InputError) throw new HttpError(422, 'invalid_request', err.message);
    if (err instanceof ConflictError) throw new HttpError(409, 'request_conflict', err.message);
    if (err instanceof AppNotInstalledError) throw new HttpError(422, 'app_not_installed', err.message);
    throw err;
  }
}

/**
 * The outbox usually shows a new request within a moment: the answer waits until that long after the
 * step asked, so it can name its check run. Counted from the step's call, not from the end of the open:
 * a request that took that long to open (a burst, a slow GitHub) is answered at once.
 */
const PUBLICATION_WAIT_MS = 1000;

/**
 * New requests waiting for their check run, per installation. The outbox creates an installation's
 * check runs a second or more apart (GitHub's pacing of writes), so of requests opened together only
 * the first can be shown within the wait: the others answer at once, and their steps learn of the
 * check run from their long poll.
 */
class ShowingPerInstallation {
  readonly #waiting = new Set<number>();

  /** Whether a request of this installation may wait now; if so, `done` must be called after. */
  begin(installationId: number): boolean {
    if (this.#waiting.has(installationId)) return false;
    this.#waiting.add(installationId);
    return true;
  }

  done(installationId: number): void {
    this.#waiting.delete(installationId);
  }
}

/** The request once its check run exists, or as it is at `deadline`: it never waits on publication for long. */
async function shownOnGitHub(options: ApiOptions, request: GateRequest, req: IncomingMessage, showing: ShowingPerInstallation, deadline: number): Promise<GateRequest> {
  if (request.checkRun || options.shutdown.aborted || Date.now() >= deadline || !showing.begin(request.installationId)) return request;
  try {
    return await awaitCheckRun(options, request, req, deadline);
  } finally {
    showing.done(request.installationId);
  }
}

async function awaitCheckRun(options: ApiOptions, request: GateRequest, req: IncomingMessage, deadline: number): Promise<GateRequest> {
  let wake: () => void = () => undefined;
  const unsubscribe = await options.store.subscribe(request.id, () => wake());
  try {
    for (;;) {
      // Armed before reading, so a change between the read and the wait is not missed.
      const changed = new Promise<void>((resolve) => (wake = resolve));
      const latest = (await options.gate.view(request.id)) ?? request;
      const left = deadline - Date.now();
      if (latest.checkRun || left <= 0 || req.socket.destroyed) return latest;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([changed, new Promise<void>((resolve) => (timer = setTimeout(resolve, left)))]);
      clearTimeout(timer);
    }
  } finally {
    await unsubscribe();
  }
}

function waitSeconds(url: URL): number {
  const raw = url.searchParams.get('wait');
  if (raw === null) return 0;
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds < 0) throw new HttpError(400, 'invalid_wait', 'wait must be a number of seconds ≥ 0');
  return Math.min(seconds, MAX_WAIT_SECONDS);
}

/**
 * Long poll: answers as soon as the request changes (a vote or a final status), or when `seconds` pass.
 * Subscribed before the one read that checks ownership and takes the state to compare with, so a change
 * in between is not missed; a poll thus costs one read of the request, not two.
 */
async function waitForChange(options: ApiOptions, run: RunIdentity, id: string, seconds: number, req: IncomingMessage): Promise<GateRequest> {
  let wake!: () => void;
  let changed = new Promise<void>((resolve) => (wake = resolve));
  let timedOut = false;
  let request: GateRequest | undefined;
  let awaitingCheckRun = false;
  // Progress (a vote) and decisions wake the poll; so does the first sight of the check run, which the
  // outbox creates after the request opened and the Action needs for reading it while the App is away.
  // Other bookkeeping (a stored comment id) does not. Before the first read anything wakes it: that read
  // may have missed the change, and the re-read tells.
  const unsubscribe = await options.store.subscribe(id, (event) => {
    if (!request || event.change === 'vote' || ('status' in event && event.status !== request.status) || (awaitingCheckRun && event.change === 'updated')) wake();
  });
  let timer: NodeJS.Timeout | undefined;
  // `wake` is replaced while an update shows nothing new; these reach the current one.
  const poke = () => wake();
  try {
    const first = await ownRequest(options, run, id);
    if (first.status !== 'pending' || options.shutdown.aborted) return first;
    request = first;
    awaitingCheckRun = first.checkRun === undefined;
    timer = setTimeout(() => {
      timedOut = true;
      wake();
    }, seconds * 1000);
    req.socket.once('close', poke);
    options.shutdown.addEventListener('abort', poke);
    const news = (now: GateRequest) => now.status !== first.status || now.votes.length !== first.votes.length || (awaitingCheckRun && now.checkRun !== undefined);
    for (;;) {
      await changed;
      const now = (await options.gate.view(id)) ?? first;
      // An update that showed nothing new (a comment id) keeps the poll waiting.
      if (news(now) || timedOut || req.socket.destroyed || options.shutdown.aborted) return now;
      changed = new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    clearTimeout(timer);
    req.socket.off('close', poke);
    options.shutdown.removeEventListener('abort', poke);
    await unsubscribe();
  }
}

async function health(options: ApiOptions, res: ServerResponse): Promise<boolean> {
  try {
    // Open to anyone: one trivial query, not a count over every request the store holds.
    await options.store.ping();
    sendJson(res, 200, { status: 'ok' });
  } catch (err) {
    // The store's error can name its host, user or database: it goes to the log, not to whoever asks.
    options.log.error({ err }, 'health check: the store did not answer');
    sendJson(res, 503, { status: 'unavailable', error: { code: 'store_unavailable', message: 'the store did not answer; the App log says why' } });
  }
  return true;
}
