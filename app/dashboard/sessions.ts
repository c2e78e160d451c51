/**
 * Dashboard sessions: a random id in an HttpOnly, SameSite=Lax cookie (Secure, and `__Host-` prefixed,
 * unless the App is served over plain http on a loopback address), kept in the store only as its
 * SHA-256; a CSRF token per session that every state-changing form carries.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseCookies, serialize as serializeCookie } from 'cookie';
import type { DashboardSession, Store } from '../store/store.js';

/** Sessions last as long as GitHub's expiring user tokens (8 hours), never longer than the token itself. */
export const SESSION_TTL_MS = 8 * 60 * 60_000;
/** The sign-in's `state` lives as long as GitHub's code does. */
const SIGN_IN_TTL_SECONDS = 10 * 60;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const randomToken = () => randomBytes(32).toString('base64url');

/** Plain http is allowed only on the machine itself (development, tests): there cookies cannot be Secure. */
export function cookiesMayBeInsecure(appUrl: string): boolean {
  const url = new URL(appUrl);
  return url.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
}

export class Sessions {
  readonly sessionCookie: string;
  readonly stateCookie: string;
  private readonly secure: boolean;

  constructor(private readonly store: Store, appUrl: string, private readonly basePath: string, private readonly clock: () => number, private readonly ttlMs = SESSION_TTL_MS) {
    this.secure = !cookiesMayBeInsecure(appUrl);
    // `__Host-`: the browser takes it only from a secure origin, for the whole host, set by that host alone.
    this.sessionCookie = this.secure ? '__Host-jit_session' : 'jit_session';
    this.stateCookie = this.secure ? '__Host-jit_sign_in' : 'jit_sign_in';
  }

  private cookie(name: string, value: string, maxAgeSeconds: number): string {
    return serializeCookie(name, value, { httpOnly: true, secure: this.secure, sameSite: 'lax', path: '/', maxAge: maxAgeSeconds });
  }

  private read(req: IncomingMessage, name: string): string | undefined {
    return parseCookies(req.headers.cookie ?? '')[name];
  }

  async current(req: IncomingMessage): Promise<DashboardSession | undefined> {
    const id = this.read(req, this.sessionCookie);
    if (!id) return undefined;
    return this.store.getSession(sha256(id), new Date(this.clock()));
  }

  /** Signs the browser in anew: the session it held before ends, so signing in again also shuts out a copy of the old cookie. */
  async start(req: IncomingMessage, res: ServerResponse, user: { login: string; id: string; accessToken: string; expiresAt?: Date }): Promise<void> {
    const previous = this.read(req, this.sessionCookie);
    if (previous) await this.store.deleteSession(sha256(previous));
    const id = randomToken();
    const now = this.clock();
    const expiresAt = new Date(Math.min(now + this.ttlMs, user.expiresAt?.getTime() ?? Infinity));
    await this.store.createSession({ idHash: sha256(id), login: user.login, userId: user.id, accessToken: user.accessToken, csrfToken: randomToken(), createdAt: new Date(now), expiresAt });
    res.appendHeader('set-cookie', this.cookie(this.sessionCookie, id, Math.floor((expiresAt.getTime() - now) / 1000)));
    res.appendHeader('set-cookie', this.cookie(this.stateCookie, '', 0));
  }

  async end(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const id = this.read(req, this.sessionCookie);
    if (id) await this.store.deleteSession(sha256(id));
    res.appendHeader('set-cookie', this.cookie(this.sessionCookie, '', 0));
  }

  /** A fresh `state` for GitHub's sign-in, remembered in a short-lived cookie with where to go afterwards. */
  beginSignIn(res: ServerResponse, returnTo: string): string {
    const state = randomToken();
    res.appendHeader('set-cookie', this.cookie(this.stateCookie, `${state}.${Buffer.from(returnTo).toString('base64url')}`, SIGN_IN_TTL_SECONDS));
    return state;
  }

  /** Where to go after signing in, when `state` is the one this browser was given; undefined otherwise (a forged or replayed callback). */
  finishSignIn(req: IncomingMessage, state: string | null): string | undefined {
    const [expected, returnTo] = (this.read(req, this.stateCookie) ?? '').split('.');
    if (!expected || state === null || !sameSecret(expected, state)) return undefined;
    return safeReturnPath(Buffer.from(returnTo ?? '', 'base64url').toString('utf8'), this.basePath);
  }

  /** The form's token is the session's own. */
  checkCsrf(session: DashboardSession, token: string | undefined): boolean {
    return token !== undefined && sameSecret(session.csrfToken, token);
  }
}

/** Compared by digest in constant time, so timing says nothing of the secret. */
function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

/** Only a path of the dashboard itself: never another site (`//evil`, `https:`), so sign-in cannot be turned into an open redirect. */
export function safeReturnPath(path: string, basePath: string): string {
  if (path.startsWith(`${basePath}/`) && !path.startsWith('//') && !/[\\\s]/.test(path)) return path;
  return `${basePath}/`;
}
