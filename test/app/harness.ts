/**
 * One world for the App's integration tests: the GitHub double (REST, webhooks, OIDC issuer) and
 * the real Probot server of the App, talking over loopback with signed webhooks and real tokens.
 */
import { afterEach } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { freePort } from '../free-port.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { parseNotifiersConfig } from '../../app/notify/index.js';
import { startApp, type AppSettings, type RunningApp } from '../../app/server.js';
import { OUTBOX_KINDS } from '../../app/store/store.js';
import { generateAppKeyPair, oauthCredentials, startGitHubDouble, type RunnerJob, type RunningGitHubDouble, type Seed } from '../github-double/index.js';
import { untilTheSecondAfter } from '../whole-seconds.js';

export const APP_ID = 5151;
export const INSTALLATION_ID = 8181;
export const WEBHOOK_SECRET = 'test-webhook-secret';
export const APP_URL = 'https://jit.example.test';
export const REPO = 'acme/web';
export const OTHER_REPO = 'acme/api';

export const POLICY = `version: 1
rules:
  - name: production
    if: { environment: [production] }
    require: { approvals: 1, approvers: [codeowners] }
    notify: [ops-hook]
  - name: database
    if: { environment: [prod-db] }
    require: { approvals: 2, approvers: [codeowners] }
  - name: docs
    if: { action: [publish-docs] }
    auto_approve: true
  - name: staging
    if: { environment: [staging] }
    require: { approvals: 1, approvers: [bob] }
    escalate:
      - after: 6s
        also_eligible: [carol]
`;

/** `approvals: zero` is on line 5, column 25. */
export const BROKEN_POLICY = `version: 1
rules:
  - name: production
    if: { environment: [production] }
    require: { approvals: zero }
`;

const keys = generateAppKeyPair();
/** The App's private key, for tests that check it never leaks. */
export const APP_PRIVATE_KEY = keys.privateKey;

export function seed(options: { callbackUrls?: string[] } = {}): Seed {
  return {
    users: [{ login: 'alice' }, { login: 'bob' }, { login: 'carol' }, { login: 'mallory' }, { login: 'deploy-bot[bot]', type: 'Bot' }],
    repos: [
      {
        owner: 'acme',
        name: 'web',
        defaultBranch: 'main',
        branches: {
          main: { '.github/jit-approval.yml': POLICY, '.github/CODEOWNERS': '* @alice @bob\n', 'src/app.ts': 'export {};\n' },
          feature: { 'src/app.ts': 'export const x = 1;\n' },
        },
        collaborators: { alice: 'admin', bob: 'write', carol: 'write', mallory: 'write', 'deploy-bot[bot]': 'write' },
        pulls: [{ number: 7, title: 'Feature', head: 'feature', user: 'mallory' }],
      },
      {
        owner: 'acme',
        name: 'api',
        defaultBranch: 'main',
        branches: { main: { '.github/jit-approval.yml': 'version: 1\nrules:\n  - name: all\n    if: {}\n    require: { approvals: 1, approvers: [alice] }\n' } },
        collaborators: { alice: 'admin', mallory: 'write' },
      },
      {
        owner: 'acme',
        name: 'broken',
        defaultBranch: 'main',
        branches: { main: { '.github/jit-approval.yml': BROKEN_POLICY } },
        collaborators: { alice: 'admin', mallory: 'write' },
      },
    ],
    apps: [{ id: APP_ID, slug: 'mercurial-jit', name: 'Mercurial JIT', publicKey: keys.publicKey, callbackUrls: options.callbackUrls }],
    installations: [{ id: INSTALLATION_ID, appId: APP_ID, account: 'acme' }],
  };
}


export interface CheckRunJson {
  id: number;
  name: string;
  head_sha: string;
  external_id: string;
  status: string;
  conclusion: string;
  details_url: string;
  output: { title: string; summary: string; text: string };
  actions: { identifier: string }[];
}

export interface IssueJson {
  number: number;
  title: string;
  body: string | null;
  state: string;
}

export interface ApiAnswer {
  status: number;
  headers: Headers;
  body: Record<string, unknown> & { error?: { code: string; message: string } };
}

/** A receiver for the `ops-hook` webhook notifier the test policy names. */
export interface Notification {
  event: string;
  request: { id: string; approvers: string[]; matched_rules: string[] };
  decision: { status: string; by: string | null; reason: string | null } | null;
}

export class World {
  app!: RunningApp;
  readonly notifications: Notification[] = [];
  private port = 0;
  private receiver?: HttpServer;

  private constructor(readonly github: RunningGitHubDouble, readonly dataDir: string, private readonly settings: Partial<AppSettings>) {}

  /**
   * `settings` override the App's test settings (log level and destination, admission limits, …).
   * `dashboard`: the App is served at its own loopback address (APP_URL is where a browser reaches it)
   * with the GitHub App's OAuth credentials, so people can sign in; tokens keep the usual audience.
   * `path`: APP_URL has that path, as when a proxy serves the App under it (and strips it before the App).
   */
  static async start(settings: Partial<AppSettings> = {}, options: { dashboard?: boolean; path?: string } = {}): Promise<World> {
    const port = await freePort();
    const local = `http://127.0.0.1:${port}${options.path ?? ''}`;
    const github = await startGitHubDouble({ seed: seed(options.dashboard ? { callbackUrls: [`${local}/dashboard/auth/callback`] } : {}) });
    const dashboard: Partial<AppSettings> = options.dashboard ? { appUrl: local, oidcAudience: APP_URL, oauth: oauthCredentials(APP_ID, keys.publicKey) } : {};
    const world = new World(github, mkdtempSync(join(tmpdir(), 'jit-app-')), { ...dashboard, ...settings });
    world.port = port;
    await world.startReceiver();
    await world.startApp();
    return world;
  }

  private async startReceiver(): Promise<void> {
    this.receiver = createHttpServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        this.notifications.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Notification);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => this.receiver!.listen(0, '127.0.0.1', resolve));
  }

  private notifiersConfig() {
    const { port } = this.receiver!.address() as { port: number };
    // acme's own: another account the App is installed on cannot send its requests there.
    const text = `notifiers:\n  ops-hook:\n    type: webhook\n    url: http://127.0.0.1:${port}/hook\n    secret: test-notifier-secret-0123\n    owners: [acme]\n`;
    const parsed = parseNotifiersConfig(text, 'notifiers.yml', {});
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.diagnostics));
    return parsed.config;
  }

  get control() {
    return this.github.control;
  }

  /** Starts (or restarts) the App on the same port and the same data directory. */
  async startApp(): Promise<void> {
    const app = await startApp({
      appId: APP_ID,
      privateKey: keys.privateKey,
      webhookSecret: WEBHOOK_SECRET,
      port: this.port,
      host: '127.0.0.1',
      githubApiUrl: this.github.apiUrl,
      appUrl: APP_URL,
      oidcIssuer: this.github.oidcIssuer,
      dataDir: this.dataDir,
      logLevel: (process.env.LOG_LEVEL as AppSettings['logLevel']) ?? 'silent',
      timerPollMs: 200,
      notifiers: this.notifiersConfig(),
      ...this.settings,
    });
    // A test may stop the App to simulate an outage; settle() then has no outbox to wait for.
    this.appRunning = true;
    this.app = { ...app, stop: async () => {
      this.appRunning = false;
      await app.stop();
    } };
    await this.control.setWebhook(APP_ID, { url: `${this.app.url}/api/github/webhooks`, secret: WEBHOOK_SECRET });
  }

  private appRunning = false;

  /** What happens in `during` sends GitHub's webhooks nowhere (the App never hears of it), as in an outage. */
  async withoutWebhooks<T>(during: () => Promise<T>): Promise<T> {
    await this.control.deliveriesIdle();
    await this.control.setWebhook(APP_ID, { url: `http://127.0.0.1:${await freePort()}/nobody-listens`, secret: WEBHOOK_SECRET });
    try {
      const result = await during();
      await this.control.deliveriesIdle();
      return result;
    } finally {
      await this.control.setWebhook(APP_ID, { url: `${this.app.url}/api/github/webhooks`, secret: WEBHOOK_SECRET });
    }
  }

  async stop(): Promise<void> {
    await this.app?.stop();
    await new Promise((resolve) => this.receiver?.close(resolve));
    await this.github.close();
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  /** A job's OIDC token from the double's issuer, for the App's audience unless told otherwise. */
  async token(job: RunnerJob, options: { audience?: string; lifetimeSeconds?: number; issuedAtOffsetSeconds?: number } = {}): Promise<string> {
    const { token } = await this.control.mintIdToken({ job, audience: options.audience ?? APP_URL, ...options });
    return token;
  }

  async api(method: 'GET' | 'POST', path: string, token: string | undefined, body?: unknown): Promise<ApiAnswer> {
    const response = await fetch(`${this.app.url}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, headers: response.headers, body: (await response.json()) as ApiAnswer['body'] };
  }

  /**
   * Opens a request as the Action does. The App answers at once and shows the request on GitHub from
   * its outbox; like a step's later polls, this waits (briefly) until the answer names the check run.
   */
  async open(job: RunnerJob, body: Record<string, unknown>): Promise<ApiAnswer> {
    const opened = await this.api('POST', '/api/v1/requests', await this.token(job), body);
    if (opened.status !== 200) return opened;
    await this.settle();
    if (opened.body.check_run_id !== null) return opened;
    return eventually(() => this.poll(job, opened.body.id as string), (answer) => answer.body.check_run_id !== null, 15_000);
  }

  /** Opens a request and answers exactly what the App answered, without waiting for its check run. */
  async openAsIs(job: RunnerJob, body: Record<string, unknown>): Promise<ApiAnswer> {
    return this.api('POST', '/api/v1/requests', await this.token(job), body);
  }

  async poll(job: RunnerJob, id: string, wait = 0): Promise<ApiAnswer> {
    return this.api('GET', `/api/v1/requests/${id}?wait=${wait}`, await this.token(job));
  }

  /**
   * Waits until every webhook the double queued has been answered by the App, and the App's outbox
   * has shown on GitHub what it committed (which may queue more webhooks): what GitHub would show
   * once things calm down. Gives up after `timeoutMs` (an outbox job waiting out a fault's backoff).
   */
  async settle(timeoutMs = 20_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      await this.control.deliveriesIdle();
      if (!this.appRunning) return;
      const queued = await this.app.store.nextTimerDue({ only: OUTBOX_KINDS });
      if (queued === undefined) {
        await this.control.deliveriesIdle();
        if ((await this.app.store.nextTimerDue({ only: OUTBOX_KINDS })) === undefined) return;
      }
      if (Date.now() > until) return;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  /** A check run as GitHub shows it once the App's outbox has caught up. */
  async checkRun(id: number, repository = REPO): Promise<CheckRunJson> {
    await this.settle();
    const runs = (await this.control.checkRuns(repository)) as unknown as CheckRunJson[];
    return runs.find((run) => run.id === id)!;
  }

  async checkRunOf(requestId: string, repository = REPO): Promise<CheckRunJson | undefined> {
    await this.settle();
    const runs = (await this.control.checkRuns(repository)) as unknown as CheckRunJson[];
    return runs.find((run) => run.external_id === requestId);
  }

  /** The approval issue of a request (issues and PRs without a body have `body: null`). */
  async issueOf(requestId: string, repository = REPO): Promise<IssueJson | undefined> {
    const issues = (await this.control.issues(repository)) as unknown as IssueJson[];
    return issues.find((issue) => issue.body?.includes(`mercurial-jit request ${requestId} -->`));
  }

  /** `user` comments as a person would: not within the second a pending request opened (see untilTheSecondAfter). */
  async comment(issueNumber: number, user: string, body: string, repository = REPO) {
    if (this.appRunning) {
      const pending = await this.app.store.listRequests({ status: 'pending', limit: 10_000 });
      if (pending.length > 0) await untilTheSecondAfter(Math.max(...pending.map((request) => request.createdAt.getTime())));
    }
    const result = await this.control.comment({ repository, issue_number: issueNumber, user, body });
    await this.settle();
    return result;
  }

  /** The audit events of one request, in order: every vote received leaves one, counted or not. */
  async audit(requestId: string) {
    return this.app.store.listAudit({ requestId });
  }
}

let runIds = 70_000;
/** A push job on main unless told otherwise; each call is a new run. */
export function job(overrides: Partial<RunnerJob> = {}): RunnerJob {
  return { repository: REPO, actor: 'mallory', run_id: ++runIds, ...overrides };
}

/** A `pull_request` run of pull request `number`, from `feature` into `main`, as the seeded pull request 7 is. */
export function pullRequestJob(number: number, overrides: Partial<RunnerJob> = {}): RunnerJob {
  return job({ ref: `refs/pull/${number}/merge`, event_name: 'pull_request', head_ref: 'feature', base_ref: 'main', ...overrides });
}

/** Retries `read` until `accept` holds or `timeoutMs` passes; returns the last value read. */
export async function eventually<T>(read: () => Promise<T>, accept: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  let value = await read();
  while (!accept(value) && Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    value = await read();
  }
  return value;
}

/**
 * Where a test file lists the requests its tests open: each is cancelled after its test, so the next
 * test starts with nothing pending (a command on a thread need not name its request).
 */
export function cancelledAfterEach(world: () => World): Array<{ run: RunnerJob; id: string }> {
  const opened: Array<{ run: RunnerJob; id: string }> = [];
  afterEach(async () => {
    for (const { run, id } of opened.splice(0)) {
      await world().api('POST', `/api/v1/requests/${id}/cancel`, await world().token(run), { reason: 'job_cancelled' });
    }
  });
  return opened;
}
