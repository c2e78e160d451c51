/**
 * The stage shared by `npm run demo` and the approval benchmarks: the GitHub double (seeded with
 * acme/payments), the real App as its own process started from its environment as `npm start` does
 * (embedded store in a temp dir), and steps run from the committed Action bundle with a runner's
 * environment. Everything talks over loopback.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { freePort } from '../free-port.js';
import { processCpuMs, processRssMb } from '../process-usage.js';
import { untilTheSecondAfter } from '../whole-seconds.js';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { BUNDLE, startStep, type RunningStep } from '../action/action-process.js';
import { generateAppKeyPair, oauthCredentials, startGitHubDouble, type RunningGitHubDouble, type Seed } from '../github-double/index.js';

export const REPOSITORY = 'acme/payments';
export const APP_ID = 4242;
export const APP_BOT = 'mercurial-jit[bot]';
export const WEBHOOK_SECRET = 'demo-webhook-secret';
const APP_ENTRY = resolve(import.meta.dirname, '../../app/server.ts');
/** What `npm start` runs: the start bundle `npm run build` makes. */
export const BUILT_APP_ENTRY = resolve(import.meta.dirname, '../../build/app/server.js');
const APP_MANIFEST = resolve(import.meta.dirname, '../../app.yml');

/** The App is registered as app.yml says: the double refuses calls and withholds events it does not grant. */
function registeredAs(): { permissions: Record<string, 'read' | 'write'>; events: string[] } {
  const manifest = parse(readFileSync(APP_MANIFEST, 'utf8')) as { default_permissions: Record<string, 'read' | 'write'>; default_events: string[] };
  return { permissions: manifest.default_permissions, events: manifest.default_events };
}

export const POLICY = `version: 1
unmatched: approve
rules:
  - name: production-deploy
    if: { action: deploy, environment: production }
    require: { approvals: 1, approvers: [codeowners] }
  - name: production-jobs
    if: { action: deployment, environment: production }
    require: { approvals: 1, approvers: [carol] }
`;

export const CODEOWNERS = `# Everything is alice's; production infrastructure is carol's.
*         @alice
/infra/   @carol
`;

/** The file the deploy under approval changed: owned by carol alone. */
export const CHANGED_FILE = 'infra/production.tf';

/** The seeded people: their access to each `payments` repository, and the part each plays. */
export const PEOPLE: ReadonlyArray<{ login: string; name: string; permission: 'write' | 'maintain'; role: string }> = [
  { login: 'alice', name: 'Alice (requester)', permission: 'write', role: 'runs the workflow; owns everything but /infra/' },
  { login: 'bob', name: 'Bob', permission: 'write', role: 'owns nothing' },
  { login: 'carol', name: 'Carol (code owner)', permission: 'maintain', role: 'code owner of /infra/' },
  { login: 'dave', name: 'Dave (release engineer)', permission: 'write', role: 'ran the earlier, approved deploy' },
];

/** `<org>/payments` in each org, each org its own installation of the App (the demo uses acme only). */
function seed(publicKey: string, orgs: string[], appUrl: string): Seed {
  return {
    users: PEOPLE.map(({ login, name }) => ({ login, name })),
    repos: orgs.map((org) => ({
      owner: org,
      name: 'payments',
      defaultBranch: 'main',
      branches: {
        main: {
          '.github/jit-approval.yml': POLICY,
          '.github/CODEOWNERS': CODEOWNERS,
          [CHANGED_FILE]: 'replicas = 3\n',
          'src/charge.ts': 'export const charge = () => 0;\n',
        },
      },
      collaborators: Object.fromEntries(PEOPLE.map(({ login, permission }) => [login, permission])),
    })),
    apps: [{ id: APP_ID, slug: 'mercurial-jit', name: 'Mercurial JIT', publicKey, ...registeredAs(), callbackUrls: [`${appUrl}/dashboard/auth/callback`] }],
    installations: orgs.map((org) => ({ appId: APP_ID, account: org })),
  };
}

export interface StageOptions {
  /** Forward the App's JSON logs (at LOG_LEVEL, default `info`) to stderr instead of keeping them for a failure report. */
  verbose?: boolean;
  /** Orgs to seed with a `payments` repository; default `acme` only. */
  orgs?: string[];
  /** The App's PostgreSQL server; default: the embedded store in a temporary directory. */
  databaseUrl?: string;
  /** More of the App's environment (say, `RECONCILE_INTERVAL`). */
  appEnv?: Record<string, string>;
  /** Options for the App's `node` (say, `--cpu-prof`, which NODE_OPTIONS may not carry). */
  nodeArgs?: string[];
  /** Run the built App, as `npm start` does, instead of its sources. */
  built?: boolean;
}

export interface DeployStep {
  running: RunningStep;
  runId: string;
  repository: string;
}

export class Stage {
  private appLog = '';
  private app: ChildProcess | undefined;

  private constructor(
    readonly github: RunningGitHubDouble,
    private readonly appEnv: Record<string, string>,
    readonly appUrl: string,
    private readonly dataDir: string,
    private readonly verbose: boolean,
    private readonly nodeArgs: readonly string[] = [],
    private readonly built = false,
  ) {}

  static async start(options: StageOptions = {}): Promise<Stage> {
    if (!existsSync(BUNDLE)) throw new Error(`the Action bundle ${BUNDLE} is missing: run 'npm run build:action'`);
    if (options.built && !existsSync(BUILT_APP_ENTRY)) throw new Error(`the built App ${BUILT_APP_ENTRY} is missing: run 'npm run build'`);
    const keys = generateAppKeyPair();
    const orgs = options.orgs ?? ['acme'];
    const port = await freePort();
    const appUrl = `http://127.0.0.1:${port}`;
    const github = await startGitHubDouble({ seed: seed(keys.publicKey, orgs, appUrl) });
    const dataDir = mkdtempSync(join(tmpdir(), 'jit-demo-'));
    const oauth = oauthCredentials(APP_ID, keys.publicKey);
    let stage: Stage | undefined;
    try {
      const { host } = new URL(github.url);
      // The App's own environment, exactly as README documents it for a real deployment.
      const env: Record<string, string> = {
        PATH: process.env.PATH ?? '',
        APP_ID: String(APP_ID),
        PRIVATE_KEY: keys.privateKey,
        WEBHOOK_SECRET,
        PORT: String(port),
        HOST: '127.0.0.1',
        GHE_HOST: host,
        GHE_PROTOCOL: 'http',
        APP_URL: appUrl,
        OIDC_ISSUER: github.oidcIssuer,
        // The dashboard: people sign in through the double's OAuth page as any seeded user.
        GITHUB_CLIENT_ID: oauth.clientId,
        GITHUB_CLIENT_SECRET: oauth.clientSecret,
        ...(options.databaseUrl ? { DATABASE_URL: options.databaseUrl } : { DATA_DIR: join(dataDir, 'store') }),
        LOG_LEVEL: options.verbose ? (process.env.LOG_LEVEL ?? 'info') : 'warn',
        ...options.appEnv,
      };
      stage = new Stage(github, env, appUrl, dataDir, options.verbose ?? false, options.nodeArgs, options.built);
      await stage.startApp();
      await github.control.setWebhook(APP_ID, { url: `${appUrl}/api/github/webhooks`, secret: WEBHOOK_SECRET });
      // What production runs: an earlier deploy, approved. What a deploy changes is measured from there.
      // Each org is an installation of its own, paced on its own by GitHub (and the App): side by side.
      const started = stage;
      await Promise.all(orgs.map((org) => started.deployBaseline(`${org}/payments`)));
      // The deploy under approval ships this commit: it changes carol's file only.
      for (const org of orgs) await stage.pushChange(`${org}/payments`, 'replicas = 5\n');
      return stage;
    } catch (err) {
      stage?.app?.kill('SIGKILL');
      await github.close();
      rmSync(dataDir, { recursive: true, force: true });
      throw err;
    }
  }

  /** Starts the App's process and waits until it answers `/healthz`. */
  async startApp(): Promise<void> {
    const entry = this.built ? [BUILT_APP_ENTRY] : ['--import', 'tsx', APP_ENTRY];
    this.app = spawn(process.execPath, [...this.nodeArgs, ...entry], { env: this.appEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    this.captureAppOutput(this.app);
    await this.waitUntilHealthy(this.app);
  }

  /** CPU time the App's process has used so far, in milliseconds (Linux: from /proc). */
  appCpuMs(): number {
    return processCpuMs(this.appPid());
  }

  /** The App's resident memory now, in MB (Linux: from /proc). */
  appRssMb(): number {
    return processRssMb(this.appPid());
  }

  appPid(): number {
    const pid = this.app?.pid;
    if (pid === undefined) throw new Error('the App is not running');
    return pid;
  }

  /** Kills the App's process with SIGKILL, as a crash or an evicted container would, and waits until it is gone. */
  async killApp(): Promise<void> {
    const app = this.app;
    if (!app || app.exitCode !== null || app.signalCode !== null) return;
    const exited = new Promise((resolveExit) => app.once('exit', resolveExit));
    app.kill('SIGKILL');
    await exited;
  }

  get control() {
    return this.github.control;
  }

  /** What the App logged (warnings and errors unless verbose), for a failure report. */
  appOutput(): string {
    return this.appLog;
  }

  private captureAppOutput(app: ChildProcess): void {
    for (const stream of [app.stdout!, app.stderr!]) {
      stream.on('data', (chunk: Buffer) => {
        if (this.verbose) process.stderr.write(chunk);
        else this.appLog = (this.appLog + chunk.toString()).slice(-20_000);
      });
    }
  }

  private async waitUntilHealthy(app: ChildProcess, timeoutMs = 90_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      if (app.exitCode !== null) throw new Error(`the App exited with code ${app.exitCode} at start:\n${this.appLog}`);
      try {
        if ((await fetch(`${this.appUrl}/healthz`)).ok) return;
      } catch {
        // not listening yet
      }
      await sleep(100);
    }
    throw new Error(`the App did not answer ${this.appUrl}/healthz within ${timeoutMs / 1000} s:\n${this.appLog}`);
  }

  /**
   * dave deploys main as it is, and alice approves: nothing was approved before, so the App cannot tell
   * what that deploy changes and asks the catch-all owner. Later deploys are measured from this one.
   */
  async deployBaseline(repository: string): Promise<void> {
    const step = await this.startDeploy({}, repository, 'dave');
    const issue = await this.approvalIssueOf(await this.requestIdOf(step), repository);
    await this.comment(issue.number, 'alice', '/approve baseline', repository);
    const done = await step.running.result;
    if (done.exitCode !== 0) throw new Error(`the baseline deploy of ${repository} was not approved:\n${done.stdout}${done.stderr}`);
    await this.control.deliveriesIdle();
  }

  /** alice pushes a change to carol's file on main; the next deploy ships it. */
  async pushChange(repository: string, content: string): Promise<void> {
    await this.control.pushCommit(repository, { branch: 'main', files: { [CHANGED_FILE]: content }, message: 'Scale the payments API', author: 'alice' });
  }

  /**
   * Starts the Action bundle as `actor`'s `deploy` step on a push to main, to production unless
   * `inputs.environment` names another (the job targets the same one); each call is a new run.
   */
  async startDeploy(inputs: Record<string, string> = {}, repository = REPOSITORY, actor = 'alice'): Promise<DeployStep> {
    const environment = inputs.environment ?? 'production';
    const job = await this.control.registerJob({ repository, actor, event_name: 'push', environment });
    const claims = job.claims as Record<string, string>;
    const { token } = await this.control.repositoryToken(repository, { checks: 'read', metadata: 'read' });
    const running = startStep({
      inputs: { action: 'deploy', environment, 'app-url': this.appUrl, 'github-token': token, timeout: '10m', ...inputs },
      env: {
        GITHUB_REPOSITORY: repository, GITHUB_REPOSITORY_OWNER: repository.split('/')[0], GITHUB_REPOSITORY_ID: claims.repository_id, GITHUB_SHA: claims.sha, GITHUB_REF: claims.ref,
        GITHUB_EVENT_NAME: 'push', GITHUB_ACTOR: actor, GITHUB_RUN_ID: claims.run_id, GITHUB_RUN_ATTEMPT: claims.run_attempt,
        GITHUB_API_URL: this.github.apiUrl, GITHUB_SERVER_URL: this.github.url,
        ACTIONS_ID_TOKEN_REQUEST_URL: job.requestUrl, ACTIONS_ID_TOKEN_REQUEST_TOKEN: job.requestToken,
      },
    });
    return { running, runId: claims.run_id, repository };
  }

  /**
   * Opens a request as `actor`'s deploy job would, straight over the App's API with the job's OIDC token,
   * without an Action process (for loads larger than a process per step allows). Answers the request's id.
   */
  async openRequest(repository = REPOSITORY, body: Record<string, unknown> = { action: 'deploy', environment: 'production' }, actor = 'alice'): Promise<string> {
    const job = await this.control.registerJob({ repository, actor, event_name: 'push', environment: 'production' });
    const { token } = await this.control.mintIdToken({ claims: job.claims, audience: this.appUrl });
    const response = await fetch(`${this.appUrl}/api/v1/requests`, {
      method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
    });
    const answer = (await response.json()) as { id?: string };
    if (response.status !== 200 || !answer.id) throw new Error(`opening a request for ${repository} answered ${response.status}: ${JSON.stringify(answer)}`);
    return answer.id;
  }

  /** The request id the step printed once the App opened its request. */
  async requestIdOf(step: DeployStep, timeoutMs = 30_000): Promise<string> {
    let id = '';
    await until(`run ${step.runId} to open its request`, () => {
      id = /Approval request (\S+) opened/.exec(step.running.stdout())?.[1] ?? '';
      return id !== '';
    }, timeoutMs, () => step.running.child.exitCode !== null ? `the step exited early:\n${step.running.stdout()}` : undefined);
    return id;
  }

  /** The approval issue the App opened for a request (runs without a PR get one). */
  async approvalIssueOf(requestId: string, repository = REPOSITORY, timeoutMs = 30_000): Promise<{ number: number; title: string; body: string }> {
    let issue: { number: number; title: string; body: string } | undefined;
    await until(`the approval issue of request ${requestId}`, async () => {
      const issues = (await this.control.issues(repository)) as unknown as Array<{ number: number; title: string; body: string | null }>;
      const found = issues.find((candidate) => candidate.body?.includes(requestId));
      issue = found && { number: found.number, title: found.title, body: found.body ?? '' };
      return issue !== undefined;
    }, timeoutMs);
    return issue!;
  }

  /** The approval issue the App opened after issue `after` (a job-level gate names no request id to look for). */
  async approvalIssueAfter(after: number, repository = REPOSITORY, timeoutMs = 30_000): Promise<{ number: number; title: string; body: string }> {
    let issue: { number: number; title: string; body: string } | undefined;
    await until(`an approval issue after #${after}`, async () => {
      const issues = (await this.control.issues(repository)) as unknown as Array<{ number: number; title: string; body: string | null }>;
      const found = issues.filter((candidate) => candidate.number > after).sort((a, b) => a.number - b.number)[0];
      issue = found && { number: found.number, title: found.title, body: found.body ?? '' };
      return issue !== undefined;
    }, timeoutMs);
    return issue!;
  }

  /** `user` posts `body` on the issue; resolves once GitHub would have queued the webhook. */
  /** `user` comments as a person would: not within the second the App opened the issue (see untilTheSecondAfter). */
  async comment(issueNumber: number, user: string, body: string, repository = REPOSITORY): Promise<void> {
    const issues = (await this.control.issues(repository)) as unknown as Array<{ number: number; created_at: string }>;
    const issue = issues.find((candidate) => candidate.number === issueNumber);
    if (issue) await untilTheSecondAfter(Date.parse(issue.created_at));
    await this.control.comment({ repository, issue_number: issueNumber, user, body });
  }

  async appCommentsOn(issueNumber: number, repository = REPOSITORY): Promise<string[]> {
    const comments = (await this.control.comments(repository, issueNumber)) as unknown as Array<{ body: string; user: { login: string } }>;
    return comments.filter((comment) => comment.user.login === APP_BOT).map((comment) => comment.body);
  }

  /** Stops the App (gracefully, so the store closes cleanly), the double, and removes the temp dir. */
  async stop(): Promise<void> {
    const app = this.app;
    if (app && app.exitCode === null && app.signalCode === null) {
      const exited = new Promise((resolveExit) => app.once('exit', resolveExit));
      app.kill('SIGTERM');
      const killer = setTimeout(() => app.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    }
    await this.github.close();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

const sleep = (ms: number) => new Promise((resolveSleep) => setTimeout(resolveSleep, ms));

/** Polls `condition` every 20 ms; `giveUp` may name a reason to stop early (say, the process died). */
export async function until(
  what: string,
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  giveUp: () => string | undefined = () => undefined,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    const reason = giveUp();
    if (reason) throw new Error(`gave up waiting for ${what}: ${reason}`);
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(20);
  }
}

