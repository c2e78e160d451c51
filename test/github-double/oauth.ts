/**
 * GitHub's OAuth web flow for a GitHub App's users: `GET /login/oauth/authorize` (GitHub's sign-in and
 * consent page; the double's page asks only which seeded user to be), the form it posts back to the same
 * path, and `POST /login/oauth/access_token`, which exchanges the code for a user access token (`ghu_`).
 * As on GitHub: the code is good once and for ten minutes, only with the App's client secret and the same
 * `redirect_uri`; a `redirect_uri` outside the App's callback URLs is refused; exchange errors are
 * answered with 200 and an `error` field; the token reaches only what both the user and the App can.
 */
import { createHash, randomBytes } from 'node:crypto';
import escapeHtml from 'escape-html';
import type { Reply } from './http.js';
import type { DoubleState } from './state.js';
import type { App, TokenGrant } from './types.js';

/** GitHub: "The code will expire after 10 minutes." */
const CODE_LIFETIME_MS = 10 * 60_000;
/** Expiring user access tokens last eight hours (`expires_in: 28800`); refresh tokens six months. */
const USER_TOKEN_SECONDS = 28_800;
const REFRESH_TOKEN_SECONDS = 15_897_600;

export const AUTHORIZE_PATH = '/login/oauth/authorize';
export const ACCESS_TOKEN_PATH = '/login/oauth/access_token';

/** A seeded App's OAuth credentials: fixed by its id and key, so a reset double keeps them. */
export function oauthCredentials(appId: number, publicKey: string): { clientId: string; clientSecret: string } {
  return { clientId: `Iv1.double${appId}`, clientSecret: createHash('sha256').update(`client-secret:${appId}:${publicKey}`).digest('hex').slice(0, 40) };
}

interface PendingCode {
  appId: number;
  login: string;
  redirectUri: string;
  expiresAt: number;
}

const codesByState = new WeakMap<DoubleState, Map<string, PendingCode>>();

function codes(state: DoubleState): Map<string, PendingCode> {
  let pending = codesByState.get(state);
  if (!pending) codesByState.set(state, (pending = new Map()));
  return pending;
}

export function isOAuthPath(path: string): boolean {
  return path === AUTHORIZE_PATH || path === ACCESS_TOKEN_PATH;
}

export function handleOAuth(state: DoubleState, method: string, path: string, url: URL, raw: string, accept: string, now = Date.now()): Reply {
  if (path === AUTHORIZE_PATH && method === 'GET') return consentPage(state, url.searchParams);
  if (path === AUTHORIZE_PATH && method === 'POST') return authorize(state, new URLSearchParams(raw), now);
  if (path === ACCESS_TOKEN_PATH && method === 'POST') return exchange(state, parseParams(raw), accept, now);
  return html(404, '<h1>Not Found</h1>');
}

function html(status: number, body: string): Reply {
  return { status, headers: { 'content-type': 'text/html; charset=utf-8' }, body: `<!doctype html><meta charset="utf-8"><title>GitHub double</title>${body}` };
}

function appByClientId(state: DoubleState, clientId: string | null): App | undefined {
  return [...state.apps.values()].find((app) => app.clientId === clientId);
}

/** GitHub Apps: the redirect URL's host and port match a callback URL's exactly, and its path is that path or below it. */
function allowedRedirect(app: App, redirectUri: string | null): string | undefined {
  if (redirectUri === null || redirectUri === '') return app.callbackUrls[0];
  let wanted: URL;
  try {
    wanted = new URL(redirectUri);
  } catch {
    return undefined;
  }
  const fits = app.callbackUrls.some((callback) => {
    const registered = new URL(callback);
    const base = registered.pathname.replace(/\/$/, '');
    return registered.protocol === wanted.protocol && registered.host === wanted.host && (wanted.pathname === registered.pathname || wanted.pathname.startsWith(`${base}/`));
  });
  return fits ? redirectUri : undefined;
}

/** Where GitHub sends the user when the redirect URL is not the App's: to its registered callback, with the error. */
function mismatch(app: App, params: URLSearchParams): Reply {
  const callback = app.callbackUrls[0];
  if (!callback) return html(400, '<h1>The redirect_uri is not associated with this application.</h1>');
  const location = new URL(callback);
  location.searchParams.set('error', 'redirect_uri_mismatch');
  location.searchParams.set('error_description', 'The redirect_uri MUST match the registered callback URL for this application.');
  location.searchParams.set('error_uri', 'https://docs.github.com/apps/managing-oauth-apps/troubleshooting-authorization-request-errors/#redirect-uri-mismatch');
  const stateParam = params.get('state');
  if (stateParam !== null) location.searchParams.set('state', stateParam);
  return { status: 302, headers: { location: location.href } };
}

/** The double's sign-in and consent page: which user to be, then "Authorize" posts back here. */
function consentPage(state: DoubleState, params: URLSearchParams): Reply {
  const app = appByClientId(state, params.get('client_id'));
  if (!app) return html(404, '<h1>Not Found</h1>');
  if (allowedRedirect(app, params.get('redirect_uri')) === undefined) return mismatch(app, params);
  const hidden = ['client_id', 'redirect_uri', 'state']
    .filter((name) => params.get(name) !== null)
    .map((name) => `<input type="hidden" name="${name}" value="${escapeHtml(params.get(name)!)}">`).join('');
  return html(200, `<main><h1>Authorize ${escapeHtml(app.name)}</h1>
<form method="post" action="${AUTHORIZE_PATH}">${hidden}
<label for="login">Sign in as</label> <input id="login" name="login" autocomplete="username" value="${escapeHtml(params.get('login') ?? '')}">
<button type="submit">Authorize ${escapeHtml(app.name)}</button></form></main>`);
}

function authorize(state: DoubleState, form: URLSearchParams, now: number): Reply {
  const app = appByClientId(state, form.get('client_id'));
  if (!app) return html(404, '<h1>Not Found</h1>');
  const redirectUri = allowedRedirect(app, form.get('redirect_uri'));
  if (redirectUri === undefined) return mismatch(app, form);
  const user = state.user(form.get('login') ?? '');
  if (!user || user.type !== 'User') return html(401, '<h1>Incorrect username or password.</h1>');
  const code = randomBytes(10).toString('hex');
  codes(state).set(code, { appId: app.id, login: user.login, redirectUri, expiresAt: now + CODE_LIFETIME_MS });
  const location = new URL(redirectUri);
  location.searchParams.set('code', code);
  const stateParam = form.get('state');
  if (stateParam !== null) location.searchParams.set('state', stateParam);
  return { status: 302, headers: { location: location.href } };
}

/** Octokit sends JSON; curl and browsers send a form. */
function parseParams(raw: string): URLSearchParams {
  try {
    const parsed: unknown = JSON.parse(raw);
    if (parsed && typeof parsed === 'object') return new URLSearchParams(Object.entries(parsed as Record<string, unknown>).map(([k, v]): [string, string] => [k, String(v)]));
  } catch {
    // a form
  }
  return new URLSearchParams(raw);
}

const TROUBLESHOOTING = 'https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors';

function exchange(state: DoubleState, params: URLSearchParams, accept: string, now: number): Reply {
  const answer = (body: Record<string, string | number>): Reply => accept.includes('json')
    ? { status: 200, body }
    : { status: 200, headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }, body: new URLSearchParams(Object.entries(body).map(([k, v]): [string, string] => [k, String(v)])).toString() };
  const failure = (error: string, description: string, anchor: string) => answer({ error, error_description: description, error_uri: `${TROUBLESHOOTING}#${anchor}` });
  const app = appByClientId(state, params.get('client_id'));
  if (!app || params.get('client_secret') !== app.clientSecret) {
    return failure('incorrect_client_credentials', 'The client_id and/or client_secret passed are incorrect.', 'incorrect-client-credentials');
  }
  const code = params.get('code') ?? '';
  const pending = codes(state).get(code);
  if (!pending || pending.appId !== app.id || pending.expiresAt <= now) {
    return failure('bad_verification_code', 'The code passed is incorrect or expired.', 'bad-verification-code');
  }
  const redirectUri = params.get('redirect_uri');
  if (redirectUri !== null && redirectUri !== '' && redirectUri !== pending.redirectUri) {
    return failure('redirect_uri_mismatch', 'The redirect_uri MUST match the registered callback URL for this application.', 'redirect-uri-mismatch');
  }
  codes(state).delete(code);
  const serial = state.nextId('token');
  const token = (prefix: string) => `${prefix}_${createHash('sha256').update(`user:${app.id}:${pending.login}:${serial}`).update(prefix).digest('base64url').slice(0, 36)}`;
  const grant: TokenGrant = {
    token: token('ghu'), kind: 'user', installationId: null, appId: app.id, login: pending.login,
    // Narrowed per repository to what the user may do there (`grantCoversRepo`).
    repositoryIds: 'all', permissions: { ...app.permissions }, expiresAt: now + USER_TOKEN_SECONDS * 1000,
  };
  state.tokens.set(grant.token, grant);
  return answer({
    access_token: grant.token, expires_in: USER_TOKEN_SECONDS, refresh_token: token('ghr'), refresh_token_expires_in: REFRESH_TOKEN_SECONDS,
    scope: '', token_type: 'bearer',
  });
}
