/**
 * Starts the App from its environment (Probot's variable names, plus APP_URL, OIDC_ISSUER,
 * OIDC_AUDIENCE, DATABASE_URL, DATA_DIR and the admission limits). `npm start` runs this file.
 */
import { getPrivateKey } from '@probot/get-private-key';
import { levels as pinoLevels, type DestinationStream } from 'pino';
import { Probot, Server } from 'probot';
import { createPrivateKey } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseEnv } from 'node:util';
import { admissionSettingsFromEnv, type AdmissionSettings } from './api/admission.js';
import { jitApp, type JitApp } from './index.js';
import { HttpError, sendError } from './api/http.js';
import { sendMetrics } from './api/routes.js';
import { octokitRegistrar } from './github/manifest-conversion.js';
import { readAppYml, startSetup } from './setup/setup.js';
import { isLoopbackHost, loadNotifiersConfig, type NotifiersConfig, type RetryPolicy } from './notify/index.js';
import { AppOctokit } from './github/octokit.js';
import { createAppLogger, type LogLevel } from './ops/log.js';
import { DEFAULT_DATA_DIR, openStore, SchemaRefused, type Store } from './store/index.js';
import { verifyAppCredentials } from './github/app-credentials.js';
import { withWebhookBodyLimit } from './webhooks/body-limit.js';
import { parseDuration } from '../policies/duration.js';

const SHUTDOWN_GRACE_MS = 5000;

/** Where the App listens without HOST: Probot's default. */
const DEFAULT_HOST = 'localhost';

export const GITHUB_OIDC_ISSUER = 'https://token.actions.githubusercontent.com';

export interface AppSettings {
  appId: number;
  privateKey: string;
  webhookSecret: string;
  port: number;
  host?: string;
  /** REST base URL: `https://api.github.com`, or `<GHE_PROTOCOL>://<GHE_HOST>/api/v3`. */
  githubApiUrl: string;
  appUrl: string;
  oidcIssuer: string;
  oidcAudience?: string;
  databaseUrl?: string;
  /** A PostgreSQL schema for the App's tables (default `public`): how several test Apps share one database. */
  databaseSchema?: string;
  dataDir?: string;
  logLevel?: LogLevel;
  /** Where the JSON log lines go (stdout by default); credentials are censored before they get there. */
  logDestination?: DestinationStream;
  timerPollMs?: number;
  /** Tests: how long evaluation is retried through GitHub outages (default 10 minutes). */
  evaluationBudgetMs?: number;
  /** Tests: how many replies one person's commands that do not count get on a thread (default COMMAND_REPLIES). */
  commandReplies?: { perPerson: number; windowMs: number };
  /** `RECONCILE_INTERVAL`: how often the reconciler looks for what GitHub never sent (default 2 minutes). */
  reconcileIntervalMs?: number;
  /** How long the reconciler trusts GitHub's comment lists to lag behind (default a minute). */
  reconcileListingLagMs?: number;
  notifiers?: NotifiersConfig;
  notificationRetry?: Partial<RetryPolicy>;
  /** `EXTENDS_REPOSITORIES`: `owner/name` list of repositories besides each owner's `.github` that policies may `_extends`. */
  extendsRepositories?: string[];
  admission?: AdmissionSettings;
  /** `METRICS_TOKEN`: the bearer token `GET /metrics` needs; unset, /metrics is open to anyone who reaches the App. */
  metricsToken?: string;
  /** `METRICS_PORT`: serve /metrics on this port only (0: any free one), not on the App's. */
  metricsPort?: number;
  /** `METRICS_HOST`: the address of the metrics port (default: HOST). */
  metricsHost?: string;
  /** Tests: the App's clock (milliseconds since the epoch), for the store, timers and windows alike. Default: Date.now. */
  clock?: () => number;
  /** `GITHUB_CLIENT_ID` and `GITHUB_CLIENT_SECRET`: the GitHub App's OAuth credentials, which the dashboard signs people in with. */
  oauth?: { clientId: string; clientSecret: string };
  /** Tests: how long a dashboard session lasts (default 8 hours). */
  sessionTtlMs?: number;
}

/**
 * Every setting is checked before the App starts: one error lists each problem with the form expected,
 * so a deployment is fixed in one pass rather than one restart per mistake.
 */
export function settingsFromEnv(env: NodeJS.ProcessEnv = process.env): AppSettings {
  const problems = new SettingProblems();
  const check = <T>(read: () => T) => problems.check(read);
  for (const name of ['APP_ID', 'WEBHOOK_SECRET', 'APP_URL'] as const) {
    if (!env[name]) problems.add(`${name}: missing; expected ${EXPECTED[name]}`);
  }
  for (const name of QUOTABLE_SETTINGS) {
    if (/^(["']).*\1$/s.test(env[name] ?? '')) problems.add(`${name}: the value is wrapped in quotes, which \`docker run --env-file\` keeps as part of it; remove them`);
  }
  const appId = check(() => positiveIntegerFromEnv(env, 'APP_ID'));
  const privateKey = check(() => privateKeyFromEnv(env));
  const appUrl = check(() => urlFromEnv(env, 'APP_URL'));
  const port = check(() => portFromEnv(env, 'PORT')) ?? 3000;
  const github = check(() => githubFromEnv(env));
  const oidcIssuer = check(() => urlFromEnv(env, 'OIDC_ISSUER'));
  // The keys that sign job tokens are fetched from the issuer: over http, anyone on the way could swap them and sign tokens for any repository.
  if (oidcIssuer?.startsWith('http:') && !isLoopbackHost(new URL(oidcIssuer).hostname) && github && !github.githubUrl.startsWith('http:')) {
    problems.add(`OIDC_ISSUER: expected an https URL (the keys that sign job tokens are fetched from it, and over http anyone on the way could replace them); http only to a loopback address, or with GHE_PROTOCOL=http; got "${oidcIssuer}"`);
  }
  const databaseUrl = check(() => databaseUrlFromEnv(env, 'DATABASE_URL'));
  const logLevel = check(() => oneOfFromEnv(env, 'LOG_LEVEL', LOG_LEVELS));
  const extendsRepositories = check(() => repositoriesFromEnv(env, 'EXTENDS_REPOSITORIES'));
  const reconcileIntervalMs = check(() => reconcileIntervalFromEnv(env));
  const admission = check(() => admissionSettingsFromEnv(env));
  const metricsToken = check(() => metricsTokenFromEnv(env, 'METRICS_TOKEN'));
  const metricsPort = check(() => portFromEnv(env, 'METRICS_PORT'));
  const oauth = check(() => oauthFromEnv(env));
  if (raw(env, 'METRICS_HOST') !== undefined && metricsPort === undefined && raw(env, 'METRICS_PORT') === undefined) {
    problems.add('METRICS_HOST: set without METRICS_PORT; expected METRICS_PORT too, or neither to serve /metrics on the App\'s port');
  }
  if (metricsPort !== undefined && metricsPort !== 0 && metricsPort === port) problems.add(`METRICS_PORT: expected a port other than the App's (PORT ${port}), got "${metricsPort}"`);
  problems.throwIfAny();
  return {
    appId: appId!,
    privateKey: privateKey!,
    webhookSecret: env.WEBHOOK_SECRET!,
    port,
    host: env.HOST || undefined,
    githubApiUrl: github!.githubApiUrl,
    appUrl: appUrl!,
    oidcIssuer: oidcIssuer ?? oidcIssuerOf(github!.githubUrl),
    oidcAudience: env.OIDC_AUDIENCE || undefined,
    databaseUrl,
    dataDir: env.DATA_DIR || undefined,
    logLevel: logLevel as LogLevel | undefined,
    extendsRepositories,
    reconcileIntervalMs,
    admission,
    metricsToken,
    metricsPort,
    metricsHost: env.METRICS_HOST || undefined,
    oauth,
  };
}

export interface SetupSettings {
  port: number;
  host?: string;
  appUrl: string;
  /** GitHub's web base, where Apps are registered: `https://github.com`, or `<GHE_PROTOCOL>://<GHE_HOST>`. */
  githubUrl: string;
  githubApiUrl: string;
}

/** No credentials at all (not even a `.pem` in the working directory): the App has yet to be registered. */
export function needsRegistration(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): boolean {
  if (['APP_ID', 'WEBHOOK_SECRET', 'PRIVATE_KEY', 'PRIVATE_KEY_PATH'].some((name) => raw(env, name) !== undefined)) return false;
  return !readdirSync(cwd).some((name) => name.endsWith('.pem'));
}

/** What the setup page needs (APP_URL, where to listen, which GitHub), checked as strictly as the App's settings. */
export function setupSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): SetupSettings {
  const problems = new SettingProblems();
  const check = <T>(read: () => T) => problems.check(read);
  if (!env.APP_URL) problems.add(`APP_URL: missing; expected ${EXPECTED.APP_URL} (with it alone the App serves its setup page, APP_URL/setup, to register the GitHub App; README.md, "Set up for real", lists every variable)`);
  const appUrl = check(() => urlFromEnv(env, 'APP_URL'));
  const port = check(() => portFromEnv(env, 'PORT')) ?? 3000;
  const github = check(() => githubFromEnv(env));
  problems.throwIfAny();
  return { port, host: env.HOST || undefined, appUrl: appUrl!, ...github! };
}

/** The problems found in the environment, each `NAME: what is wrong; expected …`, thrown together as one error. */
class SettingProblems {
  private readonly problems: string[] = [];

  add(problem: string): void {
    this.problems.push(problem);
  }

  /** Runs one variable's reader; what it throws becomes a problem, and the value undefined. */
  check<T>(read: () => T): T | undefined {
    try {
      return read();
    } catch (err) {
      this.problems.push(...(err instanceof SettingsError ? err.problems : [(err as Error).message]));
      return undefined;
    }
  }

  throwIfAny(): void {
    if (this.problems.length > 0) throw new SettingsError(this.problems);
  }
}

class SettingsError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
  }
}

function githubFromEnv(env: NodeJS.ProcessEnv): { githubUrl: string; githubApiUrl: string } {
  const problems = new SettingProblems();
  const protocol = problems.check(() => oneOfFromEnv(env, 'GHE_PROTOCOL', ['http', 'https']));
  const host = problems.check(() => hostFromEnv(env, 'GHE_HOST'));
  if (protocol && raw(env, 'GHE_HOST') === undefined) problems.add('GHE_PROTOCOL: set without GHE_HOST; expected GHE_HOST too, or neither for github.com');
  problems.throwIfAny();
  if (!host) return { githubUrl: 'https://github.com', githubApiUrl: 'https://api.github.com' };
  const web = `${protocol ?? 'https'}://${host}`;
  return { githubUrl: web, githubApiUrl: `${web}/api/v3` };
}

/**
 * The issuer of the jobs' tokens on this GitHub: a GitHub Enterprise Server issues its own, at `/_services/token`.
 * github.com's there would let a github.com workflow of a repository named like one on the server speak for it.
 */
function oidcIssuerOf(githubUrl: string): string {
  return githubUrl === 'https://github.com' ? GITHUB_OIDC_ISSUER : `${githubUrl}/_services/token`;
}

const LOG_LEVELS = [...Object.keys(pinoLevels.values), 'silent'];

/** Settings a `.env` file writes in quotes: given through `docker run --env-file`, the quotes stay in the value (a webhook secret would then fail every delivery). */
const QUOTABLE_SETTINGS = ['APP_ID', 'WEBHOOK_SECRET', 'APP_URL', 'PRIVATE_KEY', 'PRIVATE_KEY_PATH', 'GITHUB_CLIENT_ID', 'GITHUB_CLIENT_SECRET', 'DATABASE_URL', 'DATA_DIR', 'METRICS_TOKEN'];

const EXPECTED = {
  APP_ID: "the App's numeric id from its settings page, e.g. 123456",
  WEBHOOK_SECRET: 'the webhook secret set when the App was registered',
  APP_URL: 'the public base URL of the App, e.g. https://jit.example.com',
};

/** Unset or empty: the default applies. */
function raw(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

function positiveIntegerFromEnv(env: NodeJS.ProcessEnv, name: 'APP_ID'): number | undefined {
  const value = raw(env, name);
  if (value === undefined) return undefined;
  if (!/^[1-9]\d*$/.test(value) || !Number.isSafeInteger(Number(value))) throw new Error(`${name}: expected ${EXPECTED[name]}, got "${value}"`);
  return Number(value);
}

function urlFromEnv(env: NodeJS.ProcessEnv, name: 'APP_URL' | 'OIDC_ISSUER'): string | undefined {
  const value = raw(env, name);
  if (value === undefined) return undefined;
  const expected = name === 'APP_URL' ? EXPECTED.APP_URL : `an absolute http(s) URL, e.g. ${GITHUB_OIDC_ISSUER}`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`${name}: expected ${expected}, got "${value}"`);
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.username || url.password || url.search || url.hash) {
    throw new Error(`${name}: expected ${expected} (no credentials, query or fragment), got "${value}"`);
  }
  // Tokens are taken only when their `iss` is this very string, and GitHub's never ends in a slash.
  if (name === 'OIDC_ISSUER' && value.endsWith('/')) {
    throw new Error(`${name}: expected ${expected} (without a trailing slash: a token's issuer must match it exactly), got "${value}"`);
  }
  return value;
}

/** PORT goes to Probot, which takes 0 for its default, 3000, rather than for any free port: it starts at 1. */
function portFromEnv(env: NodeJS.ProcessEnv, name: 'PORT' | 'METRICS_PORT'): number | undefined {
  const value = raw(env, name);
  if (value === undefined) return undefined;
  const expected = name === 'PORT' ? 'a port number from 1 to 65535' : 'a port number from 0 to 65535 (0: any free port)';
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535 || (name === 'PORT' && Number(value) === 0)) throw new Error(`${name}: expected ${expected}, got "${value}"`);
  return Number(value);
}

function oneOfFromEnv(env: NodeJS.ProcessEnv, name: string, allowed: readonly string[]): string | undefined {
  const value = raw(env, name);
  if (value === undefined) return undefined;
  if (!allowed.includes(value)) throw new Error(`${name}: expected one of ${allowed.join(', ')}, got "${value}"`);
  return value;
}

/** A host name with an optional port: what goes between `https://` and `/api/v3`. */
function hostFromEnv(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = raw(env, name);
  if (value === undefined) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(`https://${value}`);
  } catch {
    url = undefined;
  }
  if (!url || url.host !== value.toLowerCase() || url.pathname !== '/') {
    throw new Error(`${name}: expected a host name without scheme or path, e.g. ghe.example.com, got "${value}"`);
  }
  return value;
}

/** Both or neither: the dashboard signs people in with the GitHub App's client id and secret. */
function oauthFromEnv(env: NodeJS.ProcessEnv): { clientId: string; clientSecret: string } | undefined {
  const clientId = raw(env, 'GITHUB_CLIENT_ID');
  const clientSecret = raw(env, 'GITHUB_CLIENT_SECRET');
  if (clientId === undefined && clientSecret === undefined) return undefined;
  // The secret is never echoed.
  if (clientId === undefined) throw new Error('GITHUB_CLIENT_ID: missing while GITHUB_CLIENT_SECRET is set; expected the GitHub App\'s client id (e.g. Iv23li…), or neither to leave the dashboard off');
  if (clientSecret === undefined) throw new Error('GITHUB_CLIENT_SECRET: missing while GITHUB_CLIENT_ID is set; expected a client secret generated on the GitHub App\'s settings page, or neither to leave the dashboard off');
  return { clientId, clientSecret };
}

const MIN_METRICS_TOKEN_LENGTH = 16;

function metricsTokenFromEnv(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = raw(env, name);
  if (value === undefined) return undefined;
  // Never echoed: it is a credential.
  if (value.length < MIN_METRICS_TOKEN_LENGTH || /\s/.test(value)) {
    throw new Error(`${name}: expected a random token of at least ${MIN_METRICS_TOKEN_LENGTH} characters without spaces, e.g. from \`openssl rand -hex 32\``);
  }
  return value;
}

function databaseUrlFromEnv(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = raw(env, name);
  if (value === undefined) return undefined;
  let protocol: string | undefined;
  try {
    protocol = new URL(value).protocol;
  } catch {
    protocol = undefined;
  }
  // Never echo the value: it usually holds a password.
  if (protocol !== 'postgres:' && protocol !== 'postgresql:') throw new Error(`${name}: expected a postgres://user:password@host:5432/database URL`);
  return value;
}

/** Probot's rules (PRIVATE_KEY, PRIVATE_KEY_PATH, or the one `.pem` in the working directory), then a parse, so a truncated key stops the start rather than the first GitHub call. */
function privateKeyFromEnv(env: NodeJS.ProcessEnv): string | undefined {
  let key: string | null;
  try {
    key = getPrivateKey({ env });
  } catch (err) {
    if (!env.PRIVATE_KEY && (err as NodeJS.ErrnoException).code === 'EISDIR') throw new Error(`PRIVATE_KEY_PATH: ${env.PRIVATE_KEY_PATH} is a directory; expected the path of the App's .pem file`);
    if (!env.PRIVATE_KEY && /does not exists? at path/.test((err as Error).message)) throw new Error(`PRIVATE_KEY_PATH: no such file: ${env.PRIVATE_KEY_PATH}`);
    const from = env.PRIVATE_KEY ? 'PRIVATE_KEY' : 'PRIVATE_KEY_PATH';
    throw new Error(`${from}: ${(err as Error).message.replace(/^\[@probot\/get-private-key\] /, '')}`);
  }
  if (!key) throw new Error("PRIVATE_KEY or PRIVATE_KEY_PATH: missing; expected the App's private key as PEM text, or the path of its .pem file");
  const from = env.PRIVATE_KEY ? 'PRIVATE_KEY' : env.PRIVATE_KEY_PATH ? `PRIVATE_KEY_PATH (${env.PRIVATE_KEY_PATH})` : 'the .pem file in the working directory';
  let type: string | undefined;
  try {
    type = createPrivateKey(key).asymmetricKeyType;
  } catch {
    throw new Error(`${from}: expected a PEM private key (-----BEGIN RSA PRIVATE KEY----- …), but it does not parse as one`);
  }
  // GitHub signs nothing else for an App: another key would only be refused at GitHub.
  if (type !== 'rsa') throw new Error(`${from}: expected the GitHub App's RSA private key, got an ${type} key`);
  return key;
}

/** GitHub's account names, and its repository names (`.` and `..` are not names). */
const REPOSITORY = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}\/(?!\.\.?$)[A-Za-z0-9._-]{1,100}$/;

/** A comma- or space-separated list of `owner/name`; anything else is an error naming the variable, not an entry silently never matched. */
function repositoriesFromEnv(env: NodeJS.ProcessEnv, name: string): string[] {
  const entries = (env[name] ?? '').split(/[\s,]+/).filter((entry) => entry !== '');
  const bad = entries.filter((entry) => !REPOSITORY.test(entry));
  if (bad.length > 0) throw new Error(`${name}: expected owner/name repositories (e.g. acme/policies), got: ${bad.join(', ')}`);
  return entries;
}

/** Longest RECONCILE_INTERVAL: longer, a lost approval would go unseen for more than a day (and past a few centuries, the next round's date is no date at all). */
const MAX_RECONCILE_INTERVAL = { text: '1d', seconds: 86_400 };

function reconcileIntervalFromEnv(env: NodeJS.ProcessEnv): number | undefined {
  const raw = env.RECONCILE_INTERVAL;
  if (raw === undefined || raw === '') return undefined;
  const parsed = parseDuration(raw);
  if (!parsed.ok) throw new Error(`RECONCILE_INTERVAL: ${parsed.message}`);
  if (parsed.seconds > MAX_RECONCILE_INTERVAL.seconds) throw new Error(`RECONCILE_INTERVAL: expected at most ${MAX_RECONCILE_INTERVAL.text}, got "${raw}"`);
  return parsed.seconds * 1000;
}

export interface RunningApp {
  url: string;
  port: number;
  /** `METRICS_PORT`'s server, when /metrics has a port of its own. */
  metricsUrl?: string;
  /** The App's store, for whoever runs the App in-process (tests, tools) to read its audit trail. */
  store: Store;
  stop(): Promise<void>;
}

/** Why the store would not open, naming the setting to fix: the driver's own words name neither. */
function storeOpenFailed(settings: Pick<AppSettings, 'databaseUrl' | 'dataDir'>, err: Error): string {
  if (settings.databaseUrl) {
    const url = new URL(settings.databaseUrl);
    // Reached and read: the connection settings are not what to check.
    if (err instanceof SchemaRefused) return `DATABASE_URL: the database ${url.host}${url.pathname} cannot be used: ${err.message}`;
    return `DATABASE_URL: cannot open the database ${url.host}${url.pathname}: ${err.message}; check the host, port, user, password and database name, and that the server is up`;
  }
  const dir = resolve(settings.dataDir ?? DEFAULT_DATA_DIR);
  const access = /EACCES|EPERM|EROFS/.test(err.message)
    ? "; point DATA_DIR at a directory the App's user may write (in Docker: a named volume, or a bind mount owned by the node user, uid 1000)"
    : '';
  return `DATA_DIR: cannot open the embedded database in ${dir}: ${err.message}${access}`;
}

export async function startApp(settings: AppSettings): Promise<RunningApp> {
  const clock = settings.clock ?? Date.now;
  const store = await openStore({ databaseUrl: settings.databaseUrl, dataDir: settings.dataDir, schema: settings.databaseSchema, clock: () => new Date(clock()) }).catch((err: unknown) => {
    throw new Error(storeOpenFailed(settings, err as Error));
  });
  const app = jitApp({
    store,
    appId: settings.appId,
    appUrl: settings.appUrl,
    githubApiUrl: settings.githubApiUrl,
    oauth: settings.oauth,
    sessionTtlMs: settings.sessionTtlMs,
    oidcIssuer: settings.oidcIssuer,
    oidcAudience: settings.oidcAudience,
    timerPollMs: settings.timerPollMs,
    evaluationBudgetMs: settings.evaluationBudgetMs,
    commandReplies: settings.commandReplies,
    reconcileIntervalMs: settings.reconcileIntervalMs,
    reconcileListingLagMs: settings.reconcileListingLagMs,
    notifiers: settings.notifiers,
    notificationRetry: settings.notificationRetry,
    extendsRepositories: settings.extendsRepositories,
    admission: settings.admission,
    metricsToken: settings.metricsToken,
    metricsElsewhere: settings.metricsPort !== undefined,
    clock,
  });
  const log = createAppLogger({ level: settings.logLevel, destination: settings.logDestination, secrets: [settings.webhookSecret, settings.privateKey, ...(settings.metricsToken ? [settings.metricsToken] : []), ...(settings.oauth ? [settings.oauth.clientSecret] : [])] });
  // Checked while the App loads; awaited before it listens. A rejection is handled there (or dropped, when loading fails first).
  const credentials = verifyAppCredentials(settings, (message) => log.warn(message));
  credentials.catch(() => undefined);
  // HOST's default is Probot's, localhost: unset, the metrics port must not listen on every address when the App's port does not.
  const host = settings.host ?? DEFAULT_HOST;
  const metricsHost = settings.metricsHost ?? host;
  const server = new Server({
    Probot: withWebhookBodyLimit(Probot.defaults({
      appId: settings.appId,
      privateKey: settings.privateKey,
      secret: settings.webhookSecret,
      baseUrl: settings.githubApiUrl,
      log,
      Octokit: AppOctokit,
    })),
    log,
    port: settings.port,
    host,
    enableStaticFiles: false,
  });
  let httpServer: Awaited<ReturnType<Server['start']>>;
  let metricsServer: HttpServer | undefined;
  try {
    await server.load(app.appFn);
    await credentials;
    if (settings.metricsPort !== undefined) {
      const where = { host: metricsHost, port: settings.metricsPort, hostSetting: settings.metricsHost === undefined ? 'HOST' : 'METRICS_HOST', portSetting: 'METRICS_PORT' };
      metricsServer = await startMetricsServer(app.metrics, settings.metricsToken, settings.metricsPort, metricsHost).catch((err: unknown) => {
        throw listenFailure(err, where);
      });
    }
    httpServer = await server.start().catch((err: unknown) => {
      throw listenFailure(err, { host, port: settings.port, hostSetting: 'HOST', portSetting: 'PORT' });
    });
  } catch (err) {
    if (metricsServer) await closeServer(metricsServer);
    await app.stop();
    await store.close();
    throw err;
  }
  const metricsAddress = metricsServer?.address() as AddressInfo | undefined;
  return {
    url: `http://${server.host}:${server.port}`,
    port: server.port,
    metricsUrl: metricsAddress ? `http://${metricsHost}:${metricsAddress.port}` : undefined,
    store,
    async stop() {
      if (metricsServer) await closeServer(metricsServer);
      await app.stop();
      const closed = server.stop();
      httpServer.closeIdleConnections();
      // Requests in flight (webhooks being handled) get a moment to finish before the store closes.
      const grace = setTimeout(() => httpServer.closeAllConnections(), SHUTDOWN_GRACE_MS);
      await closed.finally(() => clearTimeout(grace));
      await store.close();
    },
  };
}

/** `METRICS_PORT`: a server of its own that answers `GET /metrics` and nothing else, for a scraper on an internal network. */
async function startMetricsServer(metrics: JitApp['metrics'], token: string | undefined, port: number, host: string | undefined): Promise<HttpServer> {
  const server = createHttpServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://metrics.invalid').pathname;
    if (path !== '/metrics' || req.method !== 'GET') {
      sendError(res, new HttpError(404, 'not_found', 'this port serves GET /metrics only'));
      return;
    }
    sendMetrics(metrics, token, req, res).catch((err: unknown) => {
      if (err instanceof HttpError) sendError(res, err);
      else sendError(res, new HttpError(500, 'internal', 'metrics could not be collected'));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}

/** Why a server could not listen, naming the setting to change rather than Node's `getaddrinfo ENOTFOUND x`. */
function listenFailure(err: unknown, where: { host: string; port?: number; hostSetting: string; portSetting: string }): unknown {
  const { code, message } = err as NodeJS.ErrnoException;
  const host = `"${where.host}"`;
  const why: Record<string, string> = {
    ENOTFOUND: `${where.hostSetting}: cannot listen on ${host}: no such host name`,
    EAI_AGAIN: `${where.hostSetting}: cannot listen on ${host}: its name could not be looked up`,
    EADDRNOTAVAIL: `${where.hostSetting}: cannot listen on ${host}: no network interface of this machine has that address`,
    EADDRINUSE: `${where.portSetting}: port ${where.port} is already in use on ${host}; choose another`,
    EACCES: `${where.portSetting}: listening on port ${where.port} needs privileges this process lacks (ports below 1024); choose 1024 or above`,
  };
  return code !== undefined && why[code] ? new Error(`${why[code]} (${message})`, { cause: err }) : err;
}

async function closeServer(server: HttpServer): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** Where the setup page saves the credentials, and where each start reads them from. */
const ENV_FILE = '.env';

/**
 * The file's values, under the variables already set: those win, unless empty. An empty one counts as
 * unset, as for every setting (`docker compose` passes `WEBHOOK_SECRET=` for a variable the shell
 * leaves unset), so it does not hide the credentials the setup page saved.
 */
function loadEnvFile(file: string, env: NodeJS.ProcessEnv = process.env): void {
  for (const [name, value] of Object.entries(parseEnv(readFileSync(file, 'utf8')))) {
    if (raw(env, name) === undefined) env[name] = value;
  }
}

/**
 * Until the App is registered, serve the setup page; once it has saved the credentials, read them and
 * go on to start the App on the same port.
 */
async function registerIfNeeded(): Promise<void> {
  if (!needsRegistration()) return;
  const settings = setupSettingsFromEnv();
  const setup = await startSetup({ ...settings, registrar: octokitRegistrar(settings.githubApiUrl), appYml: await readAppYml(), envFile: ENV_FILE });
  // Only the operator reads this: the link's token is what lets a browser register the App.
  console.error(`mercurial-jit app: no credentials yet; open ${setup.setupUrl} to register the GitHub App (the link is yours alone: it works until the App is registered)`);
  const app = await setup.registered;
  // The browser gets its answer before the port is handed to the App.
  await new Promise((resolve) => setTimeout(resolve, 500));
  await setup.stop();
  loadEnvFile(ENV_FILE);
  console.error(`mercurial-jit app: registered ${app.name} (App id ${app.id}, owned by ${app.owner}); credentials saved in ${ENV_FILE}`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  let running: RunningApp;
  try {
    // Variables already set (and not empty) win over the file's.
    if (existsSync(ENV_FILE)) loadEnvFile(ENV_FILE);
    await registerIfNeeded();
    running = await startApp({ ...settingsFromEnv(), notifiers: await loadNotifiersConfig() });
  } catch (err) {
    console.error(`mercurial-jit app: ${(err as Error).message}`);
    process.exit(1);
  }
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      running.stop().then(
        () => process.exit(0),
        (err) => {
          console.error(err);
          process.exit(1);
        },
      );
    });
  }
}
