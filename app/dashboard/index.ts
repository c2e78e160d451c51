/**
 * The dashboard, served by the App under /dashboard: sign in with GitHub, see what waits for you,
 * approve or reject, search and export the audit trail, and ask what a policy would decide.
 *
 * Everything shown about a request is shown only to a signed-in user whom GitHub lets read its
 * repository (asked with their own token, cached briefly); to anyone else the request does not exist.
 * Votes go through the gate's vote path, under the same rules as a comment. Its one door into
 * `app/gate/` is `gate.ts` (the Gate); the gate knows nothing of the dashboard.
 */
import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { stringify } from 'csv-stringify/sync';
import type { Logger } from 'probot';
import type { Voter } from '../../policies/approval.js';
import type { Gate, RequestRead, StoredRequest } from '../gate/gate.js';
import { readBody } from '../api/body.js';
import { ACTION_NAME_PATTERN } from '../api/request-body-schema.js';
import { HttpError } from '../api/http.js';
import { isSuspended } from '../github/transient.js';
import { GitHubUserAccess, type OAuthCredentials, type ReadableRepository } from '../github/user-access.js';
import { FINAL_STATUSES, isRequestId, type AuditEvent, type AuditSearch, type DashboardSession, type RequestSearch, type RequestStatus, type Store } from '../store/store.js';
import { unstorableText } from '../store/storable-text.js';
import { DASHBOARD_CALLBACK_PATH, DASHBOARD_PATH } from './paths.js';
import { Sessions } from './sessions.js';
import { DASHBOARD_CSS } from './style.js';
import { dashboardTemplates } from './templates.js';
import { auditEventView, auditRowProblem, damagedRequestFields, isTime, requestRow, requestView, requirementViews } from './views.js';


export interface DashboardOptions {
  gate: Gate;
  store: Store;
  /** Public base URL of the App: the OAuth callback is under it, and forms must come from it. */
  appUrl: string;
  /** GitHub's REST base URL; its web base (sign-in, links) is derived from it as Octokit does. */
  githubApiUrl: string;
  /** The GitHub App's OAuth credentials (GITHUB_CLIENT_ID, GITHUB_CLIENT_SECRET); absent, nobody can sign in. */
  oauth?: OAuthCredentials;
  log: Logger;
  clock?: () => number;
  /** How long a session lasts (default 8 hours). */
  sessionTtlMs?: number;
}

const PAGE_SIZE = 50;
const AUDIT_PAGE_SIZE = 100;
/** Events of a request's timeline shown at once. */
const TIMELINE_PAGE_SIZE = 500;
const EXPORT_BATCH = 1000;
/** "Waiting for me" checks eligibility for at most this many pending requests, oldest first. */
const WAITING_LIMIT = 100;
const ELIGIBILITY_BATCH = 8;
const FORM_LIMIT_BYTES = 64 * 1024;
const VERIFICATION_TTL_MS = 30_000;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** No script at all, styles only from the App's own stylesheet, no framing, forms only back to the App. */
const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'same-origin',
  'cache-control': 'no-store',
};

class PageError extends Error {
  constructor(readonly status: number, readonly heading: string, message: string) {
    super(message);
  }
}

/** Why nothing can be checked while the App's installation on `owner` is suspended, and who can change that. */
const suspendedText = (owner: string) => `The GitHub App's installation on ${owner} is suspended, so GitHub refuses it access; nobody's vote can be checked until an owner of ${owner} unsuspends it`;

const notFound = () => new PageError(404, 'Not found', 'There is no such page or request, or you cannot read its repository on GitHub.');

/** GitHub's web base for its REST base, as Octokit's OAuth methods derive it. */
export function githubWebUrl(apiUrl: string): string {
  const trimmed = apiUrl.replace(/\/+$/, '');
  if (/^https:\/\/api\.github\.com$/.test(trimmed)) return 'https://github.com';
  if (/^https:\/\/api\..*\.ghe\.com$/.test(trimmed)) return trimmed.replace('api.', '');
  return trimmed.replace(/\/api\/v3$/, '');
}

interface Viewer {
  session: DashboardSession;
  /** Repositories with requests that GitHub lets this user read: the names requests have, and the ids they lead to now. */
  readable: ReadableRepository[];
  /** Their names, for the filters and Explain. */
  names: string[];
}

/** A Probot server handler: answers /dashboard and the old details links, and returns false for anything else. */
export function createDashboardHandler(options: DashboardOptions) {
  const { store, gate, log } = options;
  const clock = options.clock ?? Date.now;
  const appUrl = options.appUrl.replace(/\/+$/, '');
  // Where the browser finds the dashboard: under APP_URL's path, when a proxy serves the App there (and strips it before the App).
  const prefix = new URL(appUrl).pathname.replace(/\/+$/, '');
  const base = `${prefix}${DASHBOARD_PATH}`;
  // Where the App receives its requests.
  const route = DASHBOARD_PATH;
  const appOrigin = new URL(appUrl).origin;
  const callbackUrl = `${appUrl}${DASHBOARD_CALLBACK_PATH}`;
  const webUrl = githubWebUrl(options.githubApiUrl);
  const eta = dashboardTemplates();
  const sessions = new Sessions(store, appUrl, base, clock, options.sessionTtlMs);
  const github = options.oauth ? new GitHubUserAccess(options.oauth, options.githubApiUrl, clock) : undefined;
  let verification: { at: number; text: string; ok: boolean } | undefined;

  const render = (res: ServerResponse, status: number, page: string, data: Record<string, unknown>, chrome: { title: string; section?: string; session?: DashboardSession }) => {
    const body = eta.render(page, { base, ...data });
    const html = eta.render('@layout', { base, body, title: chrome.title, section: chrome.section, user: chrome.session?.login, csrf: chrome.session?.csrfToken });
    res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', ...SECURITY_HEADERS });
    res.end(html);
    return true;
  };
  const redirect = (res: ServerResponse, location: string, status = 303) => {
    res.writeHead(status, { location, ...SECURITY_HEADERS });
    res.end();
    return true;
  };

  /** The signed-in viewer and what they can read; without a session, GET pages send them to sign in. */
  const viewer = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<Viewer | undefined> => {
    const session = await sessions.current(req);
    if (!session) {
      if (req.method === 'GET') redirect(res, `${base}/sign-in?return_to=${encodeURIComponent(prefix + url.pathname + url.search)}`);
      else throw new PageError(403, 'Not signed in', 'Your session has ended; sign in again. Nothing was recorded.');
      return undefined;
    }
    try {
      const readable = await github!.readableOf(session.accessToken, await store.listRequestRepositories());
      return { session, readable, names: readable.map((r) => r.name) };
    } catch (err) {
      // GitHub no longer takes the token (revoked, the App's authorization removed): the session is over.
      if ((err as { status?: number }).status === 401) {
        await sessions.end(req, res);
        redirect(res, `${base}/sign-in`);
        return undefined;
      }
      throw err;
    }
  };

  const readForm = async (req: IncomingMessage, session: DashboardSession): Promise<URLSearchParams> => {
    const origin = req.headers.origin;
    let body: Buffer;
    try {
      body = await readBody(req, FORM_LIMIT_BYTES);
    } catch (err) {
      // Said as a page, not a server error: the form was too large, or the browser went away mid-way.
      if (err instanceof HttpError) throw new PageError(err.status, 'Refused', `This form was not read: ${err.message}; nothing was recorded.`);
      throw err;
    }
    const form = new URLSearchParams(body.toString('utf8'));
    if ((origin !== undefined && origin !== appOrigin) || !sessions.checkCsrf(session, form.get('csrf') ?? undefined)) {
      throw new PageError(403, 'Refused', 'This form was not sent from this dashboard (its CSRF token is missing or wrong); nothing was recorded.');
    }
    return form;
  };

  /**
   * A request the viewer may see: it exists and GitHub lets them read its repository, which its name
   * still leads to (a renamed repository's old name may since be another's, whose readers see nothing of it).
   */
  const visibleRequest = async (id: string, view: Viewer): Promise<RequestRead> => {
    if (!isRequestId(id)) throw notFound();
    // A request whose records were changed outside the App to hold what it never writes cannot be
    // read as one; whatever failed, only its repository's readers learn that it exists.
    let failure: { err: unknown } | undefined;
    const read = await gate.read(id).catch(async (err: unknown) => {
      failure = { err };
      const row = await store.getRequest(id);
      return row && { row, request: undefined, votes: [] };
    });
    if (!read) throw notFound();
    // Its repository by the name the store keeps for it, and that name must still lead to its id.
    const repository = await github!.readableAt(view.session.accessToken, read.row.repository);
    if (repository?.id !== read.row.repositoryId) throw notFound();
    const damaged = damagedRequestFields(read.row);
    if (damaged.length > 0) {
      throw new PageError(500, 'Damaged request', `Request ${id} of ${read.row.repository} cannot be shown: its stored record holds what the App never writes (${damaged.join('; ')}), so it was changed outside the App. Its events are on the Audit page.`);
    }
    if (failure) throw failure.err;
    return read as RequestRead;
  };

  /** Whether the viewer may vote, by the gate's own checks; when GitHub cannot be asked, no buttons and the reason. */
  const eligibilityOf = async (request: string | StoredRequest, session: DashboardSession, shared?: Map<string, Promise<Voter>>) => {
    try {
      return await gate.eligibility(request, { login: session.login, id: session.userId }, shared);
    } catch (err) {
      if (isSuspended(err) && typeof request !== 'string') return { eligible: false, reason: `${suspendedText(request.row.repository.split('/')[0]!)}.` };
      log.warn({ err, requestId: typeof request === 'string' ? request : request.row.id }, 'dashboard could not check who may approve');
      return { eligible: false, reason: 'GitHub could not be asked whether you may approve this request; try again in a moment.' };
    }
  };

  /** `eventsAfter`: the timeline goes on after that event (a request with more events than a page shows them a page at a time). */
  const requestPage = async (res: ServerResponse, view: Viewer, { request, ...stored }: RequestRead, result?: { counted: boolean; text: string }, eventsAfter = 0) => {
    const events = await store.listAudit({ requestId: request.id, afterSeq: eventsAfter, limit: TIMELINE_PAGE_SIZE + 1 });
    const shown = events.slice(0, TIMELINE_PAGE_SIZE);
    const eligibility = await eligibilityOf(stored, view.session);
    const pageUrl = `${base}/requests/${request.id}`;
    return render(res, 200, '@request', {
      ...requestView(request, shown, webUrl, clock()),
      laterEventsUrl: events.length > shown.length ? `${pageUrl}?events_after=${shown.at(-1)!.seq}#timeline` : undefined,
      firstEventsUrl: eventsAfter > 0 ? `${pageUrl}#timeline` : undefined,
      eligibility,
      result,
      csrf: view.session.csrfToken,
      voteUrl: `${base}/requests/${request.id}/vote`,
    }, { title: `${request.action} · ${request.owner}/${request.repo}`, session: view.session });
  };

  const routes = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> => {
    const path = url.pathname.replace(/\/+$/, '') || route;
    const method = req.method ?? 'GET';
    if (path === `${route}/static/dashboard.css` && method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/css; charset=utf-8', 'cache-control': 'public, max-age=3600', 'x-content-type-options': 'nosniff' });
      res.end(DASHBOARD_CSS);
      return true;
    }
    if (!github) return render(res, 200, '@not-configured', { callbackUrl }, { title: 'Dashboard not enabled' });

    if (path === `${route}/sign-in` && method === 'GET') {
      const returnTo = url.searchParams.get('return_to') ?? `${base}/`;
      // No text from the link: a crafted one would put its words (a phishing address) on the App's own page.
      return render(res, 200, '@sign-in', { startUrl: `${base}/auth/start?return_to=${encodeURIComponent(returnTo)}` }, { title: 'Sign in' });
    }
    if (path === `${route}/auth/start` && method === 'GET') {
      const state = sessions.beginSignIn(res, url.searchParams.get('return_to') ?? `${base}/`);
      return redirect(res, github.authorizationUrl(callbackUrl, state), 302);
    }
    if (path === `${route}/auth/callback` && method === 'GET') {
      const returnTo = sessions.finishSignIn(req, url.searchParams.get('state'));
      if (returnTo === undefined) throw new PageError(400, 'Sign-in not completed', 'This sign-in did not start here, or took longer than ten minutes. Sign in again.');
      const code = url.searchParams.get('code');
      if (!code) throw new PageError(400, 'Sign-in not completed', `GitHub did not sign you in: ${url.searchParams.get('error_description') ?? url.searchParams.get('error') ?? 'no code'}.`);
      const user = await github.signIn(code, callbackUrl);
      const previous = await sessions.current(req);
      if (previous) github.forget(previous.accessToken);
      await sessions.start(req, res, user);
      return redirect(res, returnTo);
    }
    if (path === `${route}/sign-out` && method === 'POST') {
      const session = await sessions.current(req);
      if (session) {
        await readForm(req, session);
        github.forget(session.accessToken);
      }
      await sessions.end(req, res);
      return redirect(res, `${base}/sign-in`);
    }

    const view = await viewer(req, res, url);
    if (!view) return true;
    const chrome = (title: string, section?: string) => ({ title, section, session: view.session });

    if (path === route && method === 'GET') {
      const pending = await store.searchRequests({ repositoryIds: view.readable.map((r) => r.id), status: 'pending', oldestFirst: true, limit: WAITING_LIMIT });
      // A few at a time: each asks GitHub about the viewer (conditional requests, mostly free of rate limit).
      const mine: typeof pending = [];
      // The viewer's permission and teams are asked of GitHub once per repository for the whole page.
      const shared = new Map<string, Promise<Voter>>();
      for (let i = 0; i < pending.length; i += ELIGIBILITY_BATCH) {
        const batch = pending.slice(i, i + ELIGIBILITY_BATCH);
        const answers = await Promise.all(batch.map((request) => eligibilityOf(request.id, view.session, shared)));
        mine.push(...batch.filter((_, j) => answers[j]!.eligible));
      }
      return render(res, 200, '@waiting', { rows: mine.map((r) => requestRow(r, base, clock())), truncated: pending.length === WAITING_LIMIT, checked: WAITING_LIMIT }, chrome('Waiting for me', 'waiting'));
    }
    if (path === `${route}/requests` && method === 'GET') {
      const filters = requestFilters(url);
      const search = requestSearch(filters, view.readable);
      const after = afterCursor(url.searchParams.get('after'));
      const rows = await store.searchRequests({ ...search, ...(after ? { after } : {}), limit: PAGE_SIZE + 1 });
      const page = rows.slice(0, PAGE_SIZE);
      // The next page starts after the page's last row with a valid time: one changed outside the App to
      // hold none (NULL, infinite) cannot be a cursor, and is shown again at the next page's start.
      const cursor = page.findLast((r) => isTime(r.createdAt));
      const next = new URLSearchParams(url.searchParams);
      if (cursor) next.set('after', `${cursor.createdAt.toISOString()}_${cursor.id}`);
      return render(res, 200, '@requests', {
        rows: page.map((r) => requestRow(r, base, clock())), filters, repositories: view.names, statuses: ['pending', ...FINAL_STATUSES], withStatus: true,
        nextUrl: rows.length > PAGE_SIZE && cursor ? `${base}/requests?${next}` : undefined,
      }, chrome('All requests', 'requests'));
    }
    const single = /^\/dashboard\/requests\/([^/]+)$/.exec(path);
    if (single && method === 'GET') {
      const raw = url.searchParams.get('events_after');
      const eventsAfter = raw === null ? 0 : Number(raw);
      if (!Number.isSafeInteger(eventsAfter) || eventsAfter < 0) throw new PageError(400, 'Invalid page', 'events_after: not an event of this request');
      return requestPage(res, view, await visibleRequest(single[1]!, view), undefined, eventsAfter);
    }
    const vote = /^\/dashboard\/requests\/([^/]+)\/vote$/.exec(path);
    if (vote && method === 'POST') {
      const form = await readForm(req, view.session);
      const read = await visibleRequest(vote[1]!, view);
      const choice = form.get('choice');
      const note = (form.get('note') ?? '').trim();
      if (choice !== 'approve' && choice !== 'reject') throw new PageError(400, 'Refused', 'The form must say approve or reject.');
      if (choice === 'reject' && note === '') return requestPage(res, view, read, { counted: false, text: 'A reason is required to reject; nothing was recorded.' });
      const unstorable = unstorableText(note);
      if (unstorable) return requestPage(res, view, read, { counted: false, text: `The note ${unstorable}. Nothing was recorded.` });
      const outcome = await gate.vote({ requestId: read.row.id, read: read.row, readVotes: read.votes, login: view.session.login, senderId: view.session.userId, senderType: 'User', choice, note, via: 'dashboard' }).catch((err: unknown) => {
        if (isSuspended(err)) throw new PageError(503, 'Installation suspended', `${suspendedText(read.request.owner)}. Your vote was not counted; nothing was recorded.`);
        throw err;
      });
      const text = outcome.counted ? `Your ${choice === 'approve' ? 'approval' : 'rejection'} was recorded.` : `Your vote was not counted: ${outcome.why}.`;
      const after = outcome.counted ? { request: outcome.request, ...outcome.stored } : ((await gate.read(read.row.id)) ?? read);
      return requestPage(res, view, after, { counted: outcome.counted, text });
    }
    if (path === `${route}/audit` && method === 'GET') {
      const filters = auditFilters(url);
      const search = auditSearch(filters, view.readable);
      const afterSeq = seqCursor(url.searchParams.get('after_seq'));
      const events = await store.searchAudit({ ...search, afterSeq, limit: AUDIT_PAGE_SIZE + 1 });
      const page = events.slice(0, AUDIT_PAGE_SIZE);
      const next = new URLSearchParams(url.searchParams);
      if (page.length) next.set('after_seq', String(page.at(-1)!.seq));
      const exportQuery = new URLSearchParams(url.searchParams);
      exportQuery.delete('after_seq');
      return render(res, 200, '@audit', {
        rows: page.map((e) => ({ ...auditEventView(e), href: `${base}/requests/${e.requestId}`, requestLabel: (e.requestId ?? '').slice(0, 8) })),
        filters, repositories: view.names, withStatus: false, verification: await verifyChain(),
        csvUrl: `${base}/audit/export.csv?${exportQuery}`, jsonlUrl: `${base}/audit/export.jsonl?${exportQuery}`,
        nextUrl: events.length > AUDIT_PAGE_SIZE ? `${base}/audit?${next}` : undefined,
      }, chrome('Audit', 'audit'));
    }
    const exported = /^\/dashboard\/audit\/export\.(csv|jsonl)$/.exec(path);
    if (exported && method === 'GET') {
      await exportAudit(res, auditSearch(auditFilters(url), view.readable), exported[1] as 'csv' | 'jsonl');
      return true;
    }
    if (path === `${route}/explain` && (method === 'GET' || method === 'POST')) {
      const empty = { repository: view.names[0] ?? '', action: '', environment: '', branch: '', severity: '', event: '', files: '' };
      if (method === 'GET') return render(res, 200, '@explain', { form: empty, repositories: view.names, csrf: view.session.csrfToken }, chrome('Explain', 'explain'));
      const posted = await readForm(req, view.session);
      const form = Object.fromEntries(Object.keys(empty).map((k) => [k, (posted.get(k) ?? '').trim()])) as typeof empty;
      if (!view.names.includes(form.repository)) throw notFound();
      if (!form.action) throw new PageError(400, 'Refused', 'action: required, the action name a workflow step passes.');
      const optional = (value: string) => (value === '' ? undefined : value);
      const answer = await gate.explain(form.repository, {
        action: form.action, environment: optional(form.environment), branch: optional(form.branch), severity: optional(form.severity), event: optional(form.event),
        actor: view.session.login, changedFiles: form.files.split(/\r?\n/).map((f) => f.trim()).filter((f) => f !== ''),
      });
      return render(res, 200, '@explain', {
        form, repositories: view.names, csrf: view.session.csrfToken,
        ...(answer.ok ? { decision: answer.decision, defaultBranch: answer.defaultBranch, requirements: requirementViews(answer.decision) } : { problems: answer.problems }),
      }, chrome('Explain', 'explain'));
    }
    throw notFound();
  };

  /** The whole chain is recomputed at most every 30 seconds, however many people look. */
  const verifyChain = async () => {
    if (!verification || clock() - verification.at > VERIFICATION_TTL_MS) {
      const result = await store.verifyAudit();
      verification = result.ok
        ? { at: clock(), ok: true, text: `The audit trail's hash chain verifies: ${result.count} events, the last with hash ${result.headHash.slice(0, 16)}….` }
        : { at: clock(), ok: false, text: `The audit trail's hash chain does NOT verify: event #${result.seq}: ${result.reason}. It may have been tampered with.` };
    }
    return verification;
  };

  /** Streamed in batches: however many events match, only one batch is in memory at a time. */
  const exportAudit = async (res: ServerResponse, search: Omit<AuditSearch, 'limit'>, format: 'csv' | 'jsonl') => {
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/jsonl; charset=utf-8',
      'content-disposition': `attachment; filename="audit.${format}"`,
    });
    const columns = ['seq', 'at', 'type', 'actor', 'request_id', 'facts', 'prev_hash', 'hash', 'problem'];
    const write = async (text: string) => {
      if (!res.write(text)) await once(res, 'drain');
    };
    if (format === 'csv') await write(stringify([columns]));
    let afterSeq = 0;
    for (;;) {
      const batch = await store.searchAudit({ ...search, afterSeq, limit: EXPORT_BATCH });
      if (batch.length === 0 || res.destroyed) break;
      const records = batch.map(exportRecord);
      await write(format === 'csv'
        ? stringify(records.map((r) => [r.seq, r.at, r.type, r.actor, r.request_id, JSON.stringify(r.facts), r.prev_hash, r.hash, r.problem ?? '']))
        : records.map((r) => `${JSON.stringify(r)}\n`).join(''));
      afterSeq = batch.at(-1)!.seq;
    }
    res.end();
  };

  return async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const url = new URL(req.url ?? '/', 'http://app.invalid');
    // The check runs of earlier versions link here; the link now leads to the dashboard's page.
    const old = /^\/requests\/([^/]+)$/.exec(url.pathname);
    if (old && req.method === 'GET') return redirect(res, `${base}/requests/${encodeURIComponent(old[1]!)}`, 301);
    if (url.pathname !== route && !url.pathname.startsWith(`${route}/`)) return false;
    try {
      return await routes(req, res, url);
    } catch (err) {
      if (res.headersSent) {
        res.destroy(err as Error);
        return true;
      }
      if (err instanceof PageError) {
        const session = await sessions.current(req).catch(() => undefined);
        // The unread rest of an oversized form is not drained: the connection ends with the answer.
        if (err.status === 413) res.setHeader('connection', 'close');
        return render(res, err.status, '@error', { heading: err.heading, message: err.message }, { title: err.heading, session });
      }
      log.error({ err, path: url.pathname }, 'dashboard page failed');
      return render(res, 500, '@error', { heading: 'Something went wrong', message: 'The dashboard could not answer; nothing was recorded. Try again in a moment.' }, { title: 'Error' });
    }
  };
}

/**
 * An event as exported. A row that does not verify on its own (it holds what the App never writes,
 * such as a time out of range, or its hash does not match what it holds) is exported as it reads,
 * its time null when it has none that can be written, with a `problem` saying what is wrong.
 */
function exportRecord(event: AuditEvent) {
  const at = isTime(event.at) ? event.at.toISOString() : null;
  const problem = auditRowProblem(event);
  return { seq: event.seq, at, type: event.type, actor: event.actor, request_id: event.requestId, facts: event.facts, prev_hash: event.prevHash, hash: event.hash, ...(problem ? { problem } : {}) };
}

interface Filters {
  repository: string;
  status: string;
  action: string;
  environment: string;
  requester: string;
  approver: string;
  type: string;
  actor: string;
  from: string;
  to: string;
}

/**
 * A refused filter's value, shown only when it is a short word: a filter is text from a link, and a
 * crafted link must not put its sentences (a phishing address) on the App's own page.
 */
function refusedValue(value: string): string {
  return /^[\w-]{1,32}$/.test(value) ? `got "${value}"` : 'got another text (not shown: it came with the link)';
}

const LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\[bot\])?$/;
/**
 * What each free-text filter can match: a value of another form matches nothing, and refusing it keeps
 * a crafted link's sentences out of the page's filter boxes. An environment is any name up to GitHub's
 * 255 characters, on one line.
 */
const FILTER_SHAPES = {
  action: [new RegExp(ACTION_NAME_PATTERN), 'an action name, such as deploy'],
  environment: [/^[^\p{Cc}]{1,255}$/u, 'an environment name of at most 255 characters on one line'],
  requester: [LOGIN, 'a GitHub login'],
  approver: [LOGIN, 'a GitHub login'],
  actor: [LOGIN, 'a GitHub login, or app'],
  type: [/^[a-z_]{1,64}$/, 'an event type, such as vote'],
} as const;

function readFilters(url: URL): Filters {
  const get = (name: string) => (url.searchParams.get(name) ?? '').trim();
  const filters: Filters = {
    repository: get('repository'), status: get('status'), action: get('action'), environment: get('environment'), requester: get('requester'),
    approver: get('approver'), type: get('type'), actor: get('actor'), from: get('from'), to: get('to'),
  };
  for (const [name, [shape, expected]] of Object.entries(FILTER_SHAPES) as Array<[keyof typeof FILTER_SHAPES, [RegExp, string]]>) {
    if (filters[name] !== '' && !shape.test(filters[name])) throw new PageError(400, 'Invalid filter', `${name}: expected ${expected}, ${refusedValue(filters[name])}`);
  }
  for (const name of ['from', 'to'] as const) {
    // A day that exists: Date.parse reads 2026-02-31 as March 3rd, which would widen the filter unseen.
    if (filters[name] !== '' && (!DATE.test(filters[name]) || Number.isNaN(Date.parse(filters[name])) || new Date(filters[name]).toISOString().slice(0, 10) !== filters[name])) {
      throw new PageError(400, 'Invalid filter', `${name}: expected a date as YYYY-MM-DD, ${refusedValue(filters[name])}`);
    }
  }
  return filters;
}

function requestFilters(url: URL): Filters {
  const filters = readFilters(url);
  if (filters.status !== '' && filters.status !== 'pending' && !(FINAL_STATUSES as readonly string[]).includes(filters.status)) {
    throw new PageError(400, 'Invalid filter', `status: expected one of pending, ${FINAL_STATUSES.join(', ')}, ${refusedValue(filters.status)}`);
  }
  return filters;
}

const auditFilters = readFilters;

/**
 * The ids of the readable repositories, or of the one chosen by name (a repository the viewer cannot
 * read matches nothing): requests are matched by id, as a name may since lead to another repository.
 */
function scope(filters: Filters, readable: ReadableRepository[]): string[] {
  const chosen = filters.repository === '' ? readable : readable.filter((r) => r.name.toLowerCase() === filters.repository.toLowerCase());
  return chosen.map((r) => r.id);
}

const dayAfter = (date: string) => new Date(Date.parse(date) + 86_400_000);
const orUndefined = (value: string) => (value === '' ? undefined : value);

function requestSearch(filters: Filters, readable: ReadableRepository[]): Omit<RequestSearch, 'limit'> {
  return {
    repositoryIds: scope(filters, readable),
    status: orUndefined(filters.status) as RequestStatus | undefined,
    action: orUndefined(filters.action),
    environment: orUndefined(filters.environment),
    requester: orUndefined(filters.requester),
    approver: orUndefined(filters.approver),
    createdFrom: filters.from ? new Date(filters.from) : undefined,
    createdBefore: filters.to ? dayAfter(filters.to) : undefined,
  };
}

function auditSearch(filters: Filters, readable: ReadableRepository[]): Omit<AuditSearch, 'limit'> {
  return {
    repositoryIds: scope(filters, readable),
    type: orUndefined(filters.type),
    actor: orUndefined(filters.actor),
    action: orUndefined(filters.action),
    environment: orUndefined(filters.environment),
    from: filters.from ? new Date(filters.from) : undefined,
    before: filters.to ? dayAfter(filters.to) : undefined,
  };
}

/** The audit page's cursor: an event's number, or an error naming the field (never a database error, nor page one). */
function seqCursor(raw: string | null): number {
  if (raw === null || raw === '') return 0;
  const seq = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(seq)) throw new PageError(400, 'Invalid page', 'after_seq: not a page of the audit trail');
  return seq;
}

function afterCursor(raw: string | null): { createdAt: Date; id: string } | undefined {
  if (!raw) return undefined;
  const [at, id] = raw.split('_');
  if (!at || !id || !isRequestId(id) || Number.isNaN(Date.parse(at))) throw new PageError(400, 'Invalid page', 'after: not a page of this list');
  return { createdAt: new Date(at), id };
}
