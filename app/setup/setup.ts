/**
 * First start without credentials: the App serves a page whose button registers a GitHub App from
 * `app.yml` (GitHub's manifest flow, on github.com or a GitHub Enterprise Server), receives the code
 * at its callback, exchanges it for the App's id, key and webhook secret, and saves them to `.env`.
 *
 * APP_URL is public (GitHub delivers webhooks to it), so the page and its callback answer only the
 * operator: whoever opens the link with the one-time token the App prints in its log, and then the
 * browser that holds the cookie that link sets. Anyone else could otherwise register an App of their
 * own, with the page's `state`, and have this one save its credentials and run as it.
 */
import { parse as parseCookies, serialize as serializeCookie } from 'cookie';
import escapeHtml from 'escape-html';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { constants } from 'node:fs';
import { access, chmod, readFile, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import { parse } from 'yaml';
import type { AppRegistrar, RegisteredApp } from '../github/github.js';
import { DASHBOARD_CALLBACK_PATH } from '../dashboard/paths.js';
import { saveCredentials } from './env-file.js';

export const SETUP_PATH = '/setup';
export const CALLBACK_PATH = '/setup/callback';
export const WEBHOOK_PATH = '/api/github/webhooks';
const HEALTH_PATH = '/healthz';

export interface SetupOptions {
  port: number;
  host?: string;
  /** The App's public base URL: GitHub sends the browser back to it, and will deliver webhooks to it. */
  appUrl: string;
  /** GitHub's web base: `https://github.com`, or the GitHub Enterprise Server's. */
  githubUrl: string;
  registrar: AppRegistrar;
  /** The manifest to register: `app.yml`'s text. */
  appYml: string;
  /** Where the credentials are saved (`.env` in the working directory). */
  envFile: string;
}

export interface RunningSetup {
  url: string;
  /** The operator's link to the setup page, with the one-time token: print it where only the operator reads it. */
  setupUrl: string;
  /** Settles once an App is registered and its credentials saved. */
  registered: Promise<RegisteredApp>;
  stop(): Promise<void>;
}

/** app.yml as GitHub's manifest, pointed at this deployment. Fails, naming the field, on a file that is not one. */
export function manifestFrom(appYml: string, appUrl: string): Record<string, unknown> {
  const manifest = parse(appYml) as unknown;
  if (!manifest || typeof manifest !== 'object' || Array.isArray(manifest)) throw new Error('app.yml: expected a mapping of manifest fields');
  const fields = manifest as Record<string, unknown>;
  if (typeof fields.name !== 'string' || fields.name === '') throw new Error('app.yml: name: expected the App\'s name');
  const base = appUrl.replace(/\/+$/, '');
  return {
    ...fields,
    url: base,
    hook_attributes: { ...(fields.hook_attributes as object | undefined), url: `${base}${WEBHOOK_PATH}`, active: true },
    redirect_url: `${base}${CALLBACK_PATH}`,
    // Where GitHub sends people back after signing in to the dashboard.
    callback_urls: [`${base}${DASHBOARD_CALLBACK_PATH}`],
  };
}

const ORGANIZATION = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/;
const TOKEN_COOKIE = 'jit_setup';

export async function startSetup(options: SetupOptions): Promise<RunningSetup> {
  // GitHub hands the credentials over once: a file that cannot be written would lose them after the App is registered.
  await mayWrite(options.envFile);
  const manifest = JSON.stringify(manifestFrom(options.appYml, options.appUrl));
  const base = options.appUrl.replace(/\/+$/, '');
  // Where the browser finds the page: under APP_URL's path, when a proxy serves the App there (and strips it before the App).
  const setupPath = `${new URL(base).pathname.replace(/\/+$/, '')}${SETUP_PATH}`;
  // Known only to whoever reads the App's log; valid until an App is registered.
  const token = randomBytes(32).toString('base64url');
  // Ties the callback to a page this process served; shown only to the token's holder, and checked with their cookie.
  const state = randomBytes(24).toString('hex');
  const tokenCookie = serializeCookie(TOKEN_COOKIE, token, { httpOnly: true, sameSite: 'lax', secure: new URL(base).protocol === 'https:', path: setupPath });
  const githubUrl = options.githubUrl.replace(/\/+$/, '');
  let resolveRegistered!: (app: RegisteredApp) => void;
  const registered = new Promise<RegisteredApp>((resolve) => (resolveRegistered = resolve));
  let done: RegisteredApp | undefined;
  // One code exchanged at a time: a second return from GitHub (a double click, another tab) must not save another App over the first.
  let exchanging = false;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://setup.invalid');
    if (req.method !== 'GET') return page(res, 405, 'Not allowed', '<p>Use GET.</p>');
    if (url.pathname === HEALTH_PATH) {
      // Alive, but gating nothing yet: a health check says why instead of a bare 404.
      const message = done ? 'registered; the App is starting' : `no credentials yet; register the GitHub App from the link ${base}${SETUP_PATH}?token=… that the App printed in its log`;
      res.writeHead(503, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify({ status: 'unavailable', error: { code: 'not_registered', message } }));
      return;
    }
    if (url.pathname === '/') return redirect(res, `${setupPath}${url.search}`);
    if (url.pathname !== SETUP_PATH && url.pathname !== CALLBACK_PATH) {
      return page(res, 404, 'Not found', '<p>The App has no credentials yet: register it from the setup link that the App printed in its log.</p>');
    }
    if (url.pathname === SETUP_PATH && url.searchParams.has('token')) {
      if (!sameSecret(url.searchParams.get('token')!, token)) return forbidden(res, base);
      // The token moves into a cookie, and out of the address bar (so out of history and Referer headers).
      return redirect(res, setupPath, tokenCookie);
    }
    // The page, and the return from GitHub, answer only the browser that holds the token's cookie.
    if (!sameSecret(parseCookies(req.headers.cookie ?? '')[TOKEN_COOKIE] ?? '', token)) return forbidden(res, base);
    if (done) return page(res, 200, 'Registered', registeredBody(done, options.envFile));
    if (url.pathname === SETUP_PATH) {
      const org = url.searchParams.get('org') ?? '';
      if (org !== '' && !ORGANIZATION.test(org)) return page(res, 400, 'Not an organization name', `<p>"${escapeHtml(org)}" is not a GitHub organization name. <a href="${escapeHtml(setupPath)}">Back</a></p>`);
      const target = org === '' ? `${githubUrl}/settings/apps/new` : `${githubUrl}/organizations/${encodeURIComponent(org)}/settings/apps/new`;
      return page(res, 200, 'Register the Mercurial JIT App', setupBody(target, state, manifest, org, githubUrl, setupPath));
    }
    // The callback: GitHub sends the browser back with the code and the page's state.
    const code = url.searchParams.get('code');
    if (!code || !sameSecret(url.searchParams.get('state') ?? '', state)) {
      return page(res, 400, 'Not this App\'s registration', `<p>The callback did not come from the page this App served (missing code, or another state). Start again from <a href="${escapeHtml(setupPath)}">the setup page</a>.</p>`);
    }
    if (exchanging) {
      return page(res, 409, 'Registration already under way', `<p>Another return from GitHub (a second click, or another tab) is already being completed; this one was not used, and nothing was saved from it. See which App was registered on <a href="${escapeHtml(setupPath)}">the setup page</a>. GitHub created an App each time its form was submitted: delete any other one under Settings → Developer settings → GitHub Apps.</p>`);
    }
    exchanging = true;
    try {
      let app: RegisteredApp;
      try {
        app = await options.registrar.convertManifest(code);
        if (!app.pem || !app.webhookSecret) throw new Error('GitHub sent no private key or webhook secret');
      } catch (err) {
        return page(res, 502, 'Registration not completed', `<p>GitHub did not hand over the new App's credentials: ${escapeHtml((err as Error).message)}. A code can be used once, within an hour; start again from <a href="${escapeHtml(setupPath)}">the setup page</a>.</p>`);
      }
      await saveCredentials(options.envFile, { APP_ID: String(app.id), PRIVATE_KEY: app.pem, WEBHOOK_SECRET: app.webhookSecret, GITHUB_CLIENT_ID: app.clientId, GITHUB_CLIENT_SECRET: app.clientSecret });
      done = app;
      resolveRegistered(app);
      return page(res, 200, 'Registered', registeredBody(app, options.envFile));
    } finally {
      exchanging = false;
    }
  };

  // HOST's default, as the App (Probot) takes it on the same port once registered: not every address.
  const host = options.host ?? 'localhost';
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) page(res, 500, 'Setup failed', `<p>${escapeHtml((err as Error).message)}</p>`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    setupUrl: `${base}${SETUP_PATH}?token=${token}`,
    registered,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Fails, naming the file, unless the credentials can be saved to it (an existing file it can read, write and make its owner's only, or a new one in its directory). */
async function mayWrite(envFile: string): Promise<void> {
  const cannot = (why: string) => new Error(`${envFile}: the setup page saves the new App's credentials there, but ${why}; start the App from a directory its user may write`);
  let existing;
  try {
    existing = await stat(envFile);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw cannot(`it cannot be read (${(err as Error).message})`);
  }
  if (existing && !existing.isFile()) throw cannot('it is not a file');
  // Saving reads the file first, to keep its other lines.
  if (existing) {
    try {
      await access(envFile, constants.R_OK);
    } catch (err) {
      throw cannot(`it cannot be read (${(err as Error).message})`);
    }
  }
  const target = existing ? envFile : dirname(envFile);
  try {
    await access(target, constants.W_OK);
  } catch (err) {
    throw cannot(`${existing ? 'it' : 'its directory'} cannot be written (${(err as Error).message})`);
  }
  // Saving then makes it readable by its owner only, which only its owner may do: another user's
  // file it may write (group- or world-writable) would get the private key and keep its mode.
  if (existing) {
    try {
      await chmod(envFile, existing.mode & 0o7777);
    } catch (err) {
      throw cannot(`it cannot be made readable by its owner only (${(err as Error).message})`);
    }
  }
}

/** `app.yml` next to the package, where the repository keeps it. */
export async function readAppYml(): Promise<string> {
  for (const candidate of ['../../app.yml', '../../../app.yml']) {
    try {
      return await readFile(new URL(candidate, import.meta.url), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  throw new Error('no credentials (APP_ID, PRIVATE_KEY or PRIVATE_KEY_PATH, WEBHOOK_SECRET), and no app.yml to register the App from: set them, or run the setup page from a checkout of the repository');
}

function setupBody(target: string, state: string, manifest: string, org: string, githubUrl: string, setupPath: string): string {
  const account = org === '' ? 'your personal account' : `the organization <strong>${escapeHtml(org)}</strong>`;
  return `<p>This App has no credentials yet. The button registers a GitHub App on ${escapeHtml(githubUrl)} for ${account},
with the permissions and events in <code>app.yml</code>. GitHub then sends you back here, and the App saves its id,
private key and webhook secret to <code>.env</code>.</p>
<form method="post" action="${escapeHtml(`${target}?state=${state}`)}">
<input type="hidden" name="manifest" value="${escapeHtml(manifest)}">
<button type="submit">Register a GitHub App</button>
</form>
<form method="get" action="${escapeHtml(setupPath)}">
<label>Register it for an organization instead: <input name="org" value="${escapeHtml(org)}" placeholder="acme"></label>
<button type="submit">Use this organization</button>
</form>`;
}

function registeredBody(app: RegisteredApp, envFile: string): string {
  return `<p>Registered <strong>${escapeHtml(app.name)}</strong> (App id ${app.id}), owned on GitHub by <strong>${escapeHtml(app.owner)}</strong> (check that this is you, or the organization you chose);
its credentials are saved in <code>${escapeHtml(envFile)}</code>. Keep that file secret. Next, <a href="${escapeHtml(`${app.htmlUrl}/installations/new`)}">install the App</a> on the repositories it should gate.</p>`;
}

function forbidden(res: ServerResponse, base: string): void {
  page(res, 403, 'Open the link from the App\'s log', `<p>This page answers only the App's operator. Open the link <code>${escapeHtml(base)}${SETUP_PATH}?token=…</code> that the App printed in its log when it started, in the browser you register the GitHub App with.</p>`);
}

function redirect(res: ServerResponse, location: string, cookie?: string): void {
  res.writeHead(303, { location, 'cache-control': 'no-store', ...(cookie ? { 'set-cookie': cookie } : {}) });
  res.end();
}

/** Compared by digest in constant time, so timing says nothing of the secret (nor of its length). */
function sameSecret(given: string, expected: string): boolean {
  return timingSafeEqual(createHash('sha256').update(given).digest(), createHash('sha256').update(expected).digest());
}

function page(res: ServerResponse, status: number, title: string, body: string): void {
  const html = `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>\n<body><h1>${escapeHtml(title)}</h1>\n${body}\n</body></html>\n`;
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'content-security-policy': "default-src 'none'; form-action *" });
  res.end(html);
}
