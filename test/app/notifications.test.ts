/**
 * Notifications and time escalation through the real App: durable timers across a restart, two
 * App replicas on one PostgreSQL database, and a notifier that is down. Notifications go to real
 * local HTTP receivers that check each signature; GitHub is the double.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { EVENT_HEADER, parseNotifiersConfig, SIGNATURE_HEADER, type NotifiersConfig } from '../../app/notify/index.js';
import { startApp, type AppSettings, type RunningApp } from '../../app/server.js';
import { generateAppKeyPair, startGitHubDouble, type RunnerJob, type RunningGitHubDouble } from '../github-double/index.js';
import { startHttpReceiver, type HttpReceiver } from '../notify/receivers.js';
import { dropSchema, POSTGRES_URL, randomSchema } from '../store/harness.js';
import { freePort } from '../free-port.js';
import { APP_ID, APP_URL, eventually, job, REPO, seed, WEBHOOK_SECRET, type ApiAnswer, type IssueJson } from './harness.js';

const OPS_REPO = 'acme/ops';
const NOTIFIER_SECRET = 'test-notifier-secret-0123';
const ESCALATE_AFTER_MS = 3000;
const REMIND_EVERY_MS = 2000;

/** acme/web: an escalation to the `@acme/sre` team and the pager after 3 s, no reminders. */
const WEB_POLICY = `version: 1
rules:
  - name: production
    if: { environment: [production] }
    require: { approvals: 1, approvers: [bob] }
    notify: [hook]
    escalate:
      - after: 3s
        notify: [pager]
        also_eligible: ["@acme/sre"]
`;

/** acme/ops: reminders every 2 s, and an escalation after 2 s. */
const OPS_POLICY = `version: 1
defaults: { reminder: 2s }
rules:
  - name: everything
    if: {}
    require: { approvals: 1, approvers: [bob] }
    notify: [hook]
    escalate:
      - after: 2s
        notify: [pager]
        also_eligible: ["@acme/sre"]
`;

/** acme/infra: two approvals among three people, reminders every 2 s. */
const INFRA_REPO = 'acme/infra';
const INFRA_POLICY = `version: 1
defaults: { reminder: 2s }
rules:
  - name: everything
    if: {}
    require: { approvals: 2, approvers: [bob, carol, mallory] }
    notify: [hook]
`;

const keys = generateAppKeyPair();

interface Received {
  event: string;
  ok: boolean;
  body: { event: string; request: { id: string; approvers: string[]; approvals_required: number }; added_approvers: string[] | null; decision: { status: string } | null };
}

/** An HTTP receiver that answers 503 while `down`, and checks every signature it gets. */
class Receiver {
  private constructor(
    private readonly http: HttpReceiver,
    private readonly state: { down: boolean; answered: Map<number, boolean> },
  ) {}

  static async start(): Promise<Receiver> {
    const state = { down: false, answered: new Map<number, boolean>() };
    const http = await startHttpReceiver((index) => {
      state.answered.set(index, !state.down);
      return state.down ? 503 : 200;
    });
    return new Receiver(http, state);
  }

  set down(down: boolean) {
    this.state.down = down;
  }

  get url(): string {
    return this.http.url;
  }

  /** Every post so far, signature checked; `ok` says whether it was answered with a 2xx. */
  posts(requestId?: string): Received[] {
    return this.http.requests
      .map((request, index) => {
        const expected = `sha256=${createHmac('sha256', NOTIFIER_SECRET).update(request.body).digest('hex')}`;
        expect(request.headers[SIGNATURE_HEADER.toLowerCase()]).toBe(expected);
        const body = JSON.parse(request.body) as Received['body'];
        expect(request.headers[EVENT_HEADER.toLowerCase()]).toBe(body.event);
        return { event: body.event, ok: this.state.answered.get(index) ?? false, body };
      })
      .filter((post) => requestId === undefined || post.body.request.id === requestId);
  }

  delivered(requestId: string, event: string): Received[] {
    return this.posts(requestId).filter((post) => post.ok && post.event === event);
  }

  close(): Promise<void> {
    return this.http.close();
  }
}

type Database = { dataDir: string } | { schema: string };

/** One GitHub double, two notification receivers (`hook` and `pager`), and any number of Apps. */
class NotifyWorld {
  readonly apps: RunningApp[] = [];
  private webhookUrl?: string;

  private constructor(readonly github: RunningGitHubDouble, readonly hook: Receiver, readonly pager: Receiver) {}

  static async start(): Promise<NotifyWorld> {
    const world = seed();
    world.repos![0].branches!.main!['.github/jit-approval.yml'] = WEB_POLICY;
    for (const [name, policy] of [['ops', OPS_POLICY], ['infra', INFRA_POLICY]]) {
      world.repos!.push({
        owner: 'acme',
        name,
        defaultBranch: 'main',
        branches: { main: { '.github/jit-approval.yml': policy } },
        collaborators: { alice: 'admin', bob: 'write', carol: 'write', mallory: 'write' },
      });
    }
    world.teams = [{ org: 'acme', slug: 'sre', members: ['carol'], repos: { web: 'write', ops: 'write' } }];
    world.apps![0].publicKey = keys.publicKey;
    const [github, hook, pager] = await Promise.all([startGitHubDouble({ seed: world }), Receiver.start(), Receiver.start()]);
    return new NotifyWorld(github, hook, pager);
  }

  private notifiers(): NotifiersConfig {
    const text = [
      'notifiers:',
      ...[['hook', this.hook], ['pager', this.pager]].flatMap(([name, receiver]) => [
        `  ${name as string}:`,
        '    type: webhook',
        `    url: ${(receiver as Receiver).url}/${name as string}`,
        `    secret: ${NOTIFIER_SECRET}`,
      ]),
    ].join('\n');
    const parsed = parseNotifiersConfig(text, 'notifiers.yml', {});
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.diagnostics));
    return parsed.config;
  }

  /** Starts an App replica on `database`; the first one started (or one on the same port) gets GitHub's webhooks. */
  async startApp(database: Database, port?: number): Promise<RunningApp> {
    const app = await startApp({
      appId: APP_ID,
      privateKey: keys.privateKey,
      webhookSecret: WEBHOOK_SECRET,
      port: port ?? (await freePort()),
      host: '127.0.0.1',
      githubApiUrl: this.github.apiUrl,
      appUrl: APP_URL,
      oidcIssuer: this.github.oidcIssuer,
      ...('dataDir' in database ? { dataDir: database.dataDir } : { databaseUrl: POSTGRES_URL, databaseSchema: database.schema }),
      logLevel: (process.env.LOG_LEVEL as AppSettings['logLevel']) ?? 'silent',
      timerPollMs: 100,
      notifiers: this.notifiers(),
      // Quick retries, so a notifier that comes back is heard from within the test.
      notificationRetry: { minDelayMs: 250, maxDelayMs: 2000 },
    });
    this.apps.push(app);
    const url = `${app.url}/api/github/webhooks`;
    if (this.webhookUrl === undefined || this.webhookUrl === url) {
      this.webhookUrl = url;
      await this.github.control.setWebhook(APP_ID, { url, secret: WEBHOOK_SECRET });
    }
    return app;
  }

  async stopApp(app: RunningApp): Promise<void> {
    this.apps.splice(this.apps.indexOf(app), 1);
    await app.stop();
  }

  async close(): Promise<void> {
    await Promise.all(this.apps.splice(0).map((app) => app.stop()));
    await Promise.all([this.hook.close(), this.pager.close(), this.github.close()]);
  }

  async api(app: RunningApp, method: 'GET' | 'POST', path: string, run: RunnerJob, body?: unknown): Promise<ApiAnswer> {
    const { token } = await this.github.control.mintIdToken({ job: run, audience: APP_URL });
    const response = await fetch(`${app.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, headers: response.headers, body: (await response.json()) as ApiAnswer['body'] };
  }

  async issueOf(requestId: string, repository: string): Promise<IssueJson | undefined> {
    const issues = (await this.github.control.issues(repository)) as unknown as IssueJson[];
    return issues.find((issue) => issue.body?.includes(`request ${requestId}`));
  }

  async vote(repository: string, requestId: string, user: string, body: string): Promise<void> {
    const issue = (await eventually(() => this.issueOf(requestId, repository), (found) => found !== undefined))!;
    await this.github.control.comment({ repository, issue_number: issue.number, user, body });
    await this.github.control.deliveriesIdle();
  }
}

/** A manually started run on main: its changed files are those of its commit. */
const dispatched = (overrides: Partial<RunnerJob> = {}) => job({ event_name: 'workflow_dispatch', ...overrides });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

let world: NotifyWorld | undefined;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await world?.close();
  world = undefined;
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

function tempDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'jit-notify-'));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('a time escalation across an App restart', () => {
  it('fires once, after it is due, when the App was down at its time', async () => {
    world = await NotifyWorld.start();
    const database = { dataDir: tempDataDir() };
    const port = await freePort();
    let app = await world.startApp(database, port);
    const run = dispatched({ environment: 'production' });
    const { body } = await world.api(app, 'POST', '/api/v1/requests', run, { action: 'deploy' });
    expect(body).toMatchObject({ status: 'pending', eligible_approvers: ['@bob'] });
    const id = body.id as string;
    const dueAt = Date.parse(body.created_at as string) + ESCALATE_AFTER_MS;
    // The approval issue is published from the outbox just after the request is answered.
    expect((await eventually(() => world!.issueOf(id, REPO), (found) => found !== undefined))?.body).toContain('Approvers: @bob\n');

    await world.stopApp(app);
    // The App went down before the escalation was due, so only the restarted App can fire it.
    expect(Date.now()).toBeLessThan(dueAt);
    expect(world.pager.posts(id)).toEqual([]);
    await sleep(dueAt + 500 - Date.now());
    expect(world.pager.posts(id)).toEqual([]);

    app = await world.startApp(database, port);
    const escalations = await eventually(async () => world!.pager.delivered(id, 'escalated'), (posts) => posts.length > 0);
    expect(escalations).toHaveLength(1);
    expect(escalations[0].body).toMatchObject({ added_approvers: ['@acme/sre'], request: { approvers: ['@acme/sre', '@bob'] } });
    // The rule's own notifier hears of it too; the team is mentioned as a team, before the users.
    expect(world.hook.delivered(id, 'escalated')).toHaveLength(1);
    const issue = await eventually(() => world!.issueOf(id, REPO), (found) => found?.body?.includes('Approvers: @acme/sre, @bob') ?? false);
    expect(issue?.body).toContain('Approvers: @acme/sre, @bob');

    // Once: the fired timer is gone, and nothing fires it again.
    await sleep(1500);
    expect(world.pager.posts(id).filter((post) => post.event === 'escalated')).toHaveLength(1);
    expect(world.hook.posts(id).filter((post) => post.event === 'escalated')).toHaveLength(1);

    // The widened set counts: a member of @acme/sre approves.
    await world.vote(REPO, id, 'carol', '/approve');
    expect((await world.api(app, 'GET', `/api/v1/requests/${id}`, run)).body).toMatchObject({ status: 'approved', approved_by: ['carol'] });
  }, 60_000);
});

describe('two App replicas on one PostgreSQL database', () => {
  it('fire each escalation and each reminder exactly once', async () => {
    const schema = randomSchema();
    cleanups.push(async () => {
      const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 1 });
      await dropSchema(pool, schema).finally(() => pool.end());
    });
    world = await NotifyWorld.start();
    // One after the other: the first creates the schema and applies the migrations.
    const a = await world.startApp({ schema });
    const b = await world.startApp({ schema });

    const run = dispatched({ repository: OPS_REPO });
    const { body } = await world.api(b, 'POST', '/api/v1/requests', run, { action: 'deploy' });
    expect(body).toMatchObject({ status: 'pending' });
    const id = body.id as string;
    const createdAt = Date.parse(body.created_at as string);

    await eventually(async () => world!.pager.delivered(id, 'escalated'), (posts) => posts.length > 0);
    await eventually(async () => world!.hook.delivered(id, 'reminder'), (posts) => posts.length >= 2, 15_000);
    await world.vote(OPS_REPO, id, 'bob', '/approve');
    const decided = (await world.api(a, 'GET', `/api/v1/requests/${id}`, run)).body;
    expect(decided).toMatchObject({ status: 'approved', approved_by: ['bob'] });
    // A timer fired twice would post within a poll interval or two of the first: give it time.
    await sleep(1500);

    expect(world.pager.posts(id).map((post) => post.event)).toEqual(['escalated']);
    expect(world.hook.posts(id).filter((post) => post.event === 'escalated')).toHaveLength(1);
    // Reminder n is due n intervals after the request: no more than that many can have been sent by the decision.
    const reminders = world.hook.posts(id).filter((post) => post.event === 'reminder');
    const due = Math.floor((Date.parse(decided.completed_at as string) - createdAt) / REMIND_EVERY_MS);
    expect(reminders.length).toBeGreaterThanOrEqual(2);
    expect(reminders.length).toBeLessThanOrEqual(due);
    expect(reminders.every((post) => post.ok)).toBe(true);
    // Completing the request ended its reminders.
    await eventually(async () => world!.hook.delivered(id, 'decided'), (posts) => posts.length > 0);
    const after = world.hook.posts(id).length;
    await sleep(REMIND_EVERY_MS + 500);
    expect(world.hook.posts(id)).toHaveLength(after);
    expect(world.hook.delivered(id, 'decided')).toHaveLength(1);
  }, 60_000);
});

describe('a reminder after some have approved', () => {
  it('names only who is still awaited, and how many approvals are still needed', async () => {
    world = await NotifyWorld.start();
    const app = await world.startApp({ dataDir: tempDataDir() });
    const run = dispatched({ repository: INFRA_REPO });
    const { body } = await world.api(app, 'POST', '/api/v1/requests', run, { action: 'deploy' });
    expect(body).toMatchObject({ status: 'pending' });
    const id = body.id as string;
    const requested = await eventually(async () => world!.hook.delivered(id, 'requested'), (posts) => posts.length > 0);
    expect(requested[0].body.request).toMatchObject({ approvers: ['@bob', '@carol', '@mallory'], approvals_required: 2 });

    await world.vote(INFRA_REPO, id, 'bob', '/approve');
    expect((await world.api(app, 'GET', `/api/v1/requests/${id}`, run)).body).toMatchObject({ status: 'pending' });
    const before = world.hook.posts(id).filter((post) => post.event === 'reminder').length;
    // A reminder sent after bob's approval was counted.
    const reminders = await eventually(async () => world!.hook.delivered(id, 'reminder'), (posts) => posts.length > before + 1, 15_000);
    expect(reminders[reminders.length - 1].body.request).toMatchObject({ approvers: ['@carol', '@mallory'], approvals_required: 1 });
  }, 60_000);
});

describe('a notifier that is down', () => {
  it('does not delay the decision, and gets the request and the decision once it recovers', async () => {
    world = await NotifyWorld.start();
    const app = await world.startApp({ dataDir: tempDataDir() });
    world.hook.down = true;
    const run = dispatched({ environment: 'production' });
    const { body } = await world.api(app, 'POST', '/api/v1/requests', run, { action: 'deploy' });
    expect(body).toMatchObject({ status: 'pending' });
    const id = body.id as string;
    await eventually(async () => world!.hook.posts(id), (posts) => posts.length > 0);

    const voting = Date.now();
    await world.vote(REPO, id, 'bob', '/approve');
    const decided = (await world.api(app, 'GET', `/api/v1/requests/${id}`, run)).body;
    expect(decided).toMatchObject({ status: 'approved', approved_by: ['bob'] });
    // Decided as soon as the vote arrived (showing it on GitHub afterwards takes longer: Probot paces writes).
    expect(Date.parse(decided.completed_at as string) - voting).toBeLessThan(1500);
    // Decided while every delivery so far has failed: they are still being retried.
    expect(world.hook.posts(id).length).toBeGreaterThan(0);
    expect(world.hook.posts(id).filter((post) => post.ok)).toEqual([]);

    world.hook.down = false;
    const delivered = await eventually(
      async () => world!.hook.posts(id).filter((post) => post.ok).map((post) => post.event),
      (events) => events.includes('requested') && events.includes('decided'),
      20_000,
    );
    expect(delivered.sort()).toEqual(['decided', 'requested']);
    expect(world.hook.delivered(id, 'decided')[0].body.decision).toMatchObject({ status: 'approved' });
  }, 60_000);
});
