/**
 * Starts the App from its environment (Probot's variable names, plus APP_URL, OIDC_ISSUER,
 * OIDC_AUDIENCE, DATABASE_URL, DATA_DIR and the admission limits). `npm start` runs this file.
 */
import { getPrivateKey } from '@probot/get-private-key';
import type { DestinationStream } from 'pino';
import { Probot, Server } from 'probot';
import { pathToFileURL } from 'node:url';
import { admissionSettingsFromEnv, type AdmissionSettings } from './api/admission.js';
import { jitApp } from './index.js';
import { loadNotifiersConfig, type NotifiersConfig, type RetryPolicy } from './notify/index.js';
import { AppOctokit } from './github/octokit.js';
import { createAppLogger, type LogLevel } from './ops/log.js';
import { openStore, type Store } from './store/index.js';
import { withWebhookBodyLimit } from './webhooks/body-limit.js';
import { parseDuration } from '../policies/duration.js';

const SHUTDOWN_GRACE_MS = 5000;

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
  /** `RECONCILE_INTERVAL`: how often the reconciler looks for what GitHub never sent (default 2 minutes). */
  reconcileIntervalMs?: number;
  /** How long the reconciler trusts GitHub's comment lists to lag behind (default a minute). */
  reconcileListingLagMs?: number;
  notifiers?: NotifiersConfig;
  notificationRetry?: Partial<RetryPolicy>;
  /** `EXTENDS_REPOSITORIES`: `owner/name` list of repositories besides each owner's `.github` that policies may `_extends`. */
  extendsRepositories?: string[];
  admission?: AdmissionSettings;
  /** Tests: the App's clock (milliseconds since the epoch), for the store, timers and windows alike. Default: Date.now. */
  clock?: () => number;
}

export function settingsFromEnv(env: NodeJS.ProcessEnv = process.env): AppSettings {
  const missing = ['APP_ID', 'WEBHOOK_SECRET', 'APP_URL'].filter((name) => !env[name]);
  const privateKey = getPrivateKey({ env });
  if (!privateKey) missing.push('PRIVATE_KEY or PRIVATE_KEY_PATH');
  if (missing.length > 0) throw new Error(`missing configuration: ${missing.join(', ')}`);
  return {
    appId: Number(env.APP_ID),
    privateKey: privateKey!,
    webhookSecret: env.WEBHOOK_SECRET!,
    port: Number(env.PORT ?? 3000),
    host: env.HOST,
    githubApiUrl: env.GHE_HOST ? `${env.GHE_PROTOCOL || 'https'}://${env.GHE_HOST}/api/v3` : 'https://api.github.com',
    appUrl: env.APP_URL!,
    oidcIssuer: env.OIDC_ISSUER || GITHUB_OIDC_ISSUER,
    oidcAudience: env.OIDC_AUDIENCE || undefined,
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir: env.DATA_DIR || undefined,
    logLevel: env.LOG_LEVEL as AppSettings['logLevel'],
    extendsRepositories: repositoriesFromEnv(env, 'EXTENDS_REPOSITORIES'),
    reconcileIntervalMs: durationFromEnv(env, 'RECONCILE_INTERVAL'),
    admission: admissionSettingsFromEnv(env),
  };
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

function durationFromEnv(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const parsed = parseDuration(raw);
  if (!parsed.ok) throw new Error(`${name}: ${parsed.message}`);
  return parsed.seconds * 1000;
}

export interface RunningApp {
  url: string;
  port: number;
  /** The App's store, for whoever runs the App in-process (tests, tools) to read its audit trail. */
  store: Store;
  stop(): Promise<void>;
}

export async function startApp(settings: AppSettings): Promise<RunningApp> {
  const clock = settings.clock ?? Date.now;
  const store = await openStore({ databaseUrl: settings.databaseUrl, dataDir: settings.dataDir, schema: settings.databaseSchema, clock: () => new Date(clock()) });
  const app = jitApp({
    store,
    appId: settings.appId,
    appUrl: settings.appUrl,
    oidcIssuer: settings.oidcIssuer,
    oidcAudience: settings.oidcAudience,
    timerPollMs: settings.timerPollMs,
    evaluationBudgetMs: settings.evaluationBudgetMs,
    reconcileIntervalMs: settings.reconcileIntervalMs,
    reconcileListingLagMs: settings.reconcileListingLagMs,
    notifiers: settings.notifiers,
    notificationRetry: settings.notificationRetry,
    extendsRepositories: settings.extendsRepositories,
    admission: settings.admission,
    clock,
  });
  const log = createAppLogger({ level: settings.logLevel, destination: settings.logDestination, secrets: [settings.webhookSecret, settings.privateKey] });
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
    host: settings.host,
    enableStaticFiles: false,
  });
  let httpServer: Awaited<ReturnType<Server['start']>>;
  try {
    await server.load(app.appFn);
    httpServer = await server.start();
  } catch (err) {
    await app.stop();
    await store.close();
    throw err;
  }
  return {
    url: `http://${server.host}:${server.port}`,
    port: server.port,
    store,
    async stop() {
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

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  let running: RunningApp;
  try {
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
