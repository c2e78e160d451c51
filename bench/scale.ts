/**
 * The App at scale, on PostgreSQL (a server of the bench's own), on the demo's stage: the GitHub double,
 * the fake OIDC issuer and the compiled App as its own process (`npm run build` first).
 *
 * (a) STEPS steps long-poll at once. Each is emulated in this process by an HTTP client doing what the
 *     Action does: open with `POST /api/v1/requests` (Bearer OIDC), then `GET /api/v1/requests/{id}?wait=25`
 *     again and again until the status is final; here over keep-alive connections, one per step. The App's
 *     RSS (VmRSS, and VmHWM since its start) is read while all of them wait, through one full re-poll, and
 *     after. Then carol (the code owner) approves all of them at once, each vote its own concurrent
 *     request, and each step's latency is the time from its vote being answered to its long poll
 *     answering with the decision.
 *     Votes go through the dashboard's vote form, which takes the gate's vote path as a comment or a
 *     button does: a comment needs the approval issue and a button the check run, and the App creates
 *     those through Probot's per-installation pacing of GitHub writes (1 s, 3 s for issues), so 1,000 of
 *     them would take about an hour to exist in one installation.
 * (b) PENDING pending requests in the store, copied in SQL from a request the API opened (the API would
 *     take minutes and a GitHub write backlog of as long; the figures below all go through the API).
 *     With those waiting: BATCH requests opened through the API, CONCURRENCY at a time (tokens minted
 *     beforehand, as runners mint their own), then decided through the dashboard's vote form; and the
 *     dashboard's list pages timed one at a time.
 */
import { Agent, request as httpRequest } from 'node:http';
import { availableParallelism, loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { PrivatePostgres } from '../test/chaos/private-postgres.js';
import { processMemoryMb } from '../test/process-usage.js';
import { REPOSITORY, Stage, until } from '../test/demo/stage.js';
import { type BenchReport, percentile } from './report.js';
import { appProfileArgs } from './profile.js';

const STEPS = Number(process.env.BENCH_STEPS ?? 1000);
const PENDING = Number(process.env.BENCH_PENDING ?? 10_000);
const BATCH = Number(process.env.BENCH_BATCH ?? 400);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 200);
const PAGE_LOADS = Number(process.env.BENCH_PAGE_LOADS ?? 20);
/** What the Action asks of each long poll. */
const POLL_WAIT_S = 25;
/** BENCH_PG_STATEMENTS=1: report PostgreSQL's time per statement (pg_stat_statements) for the opens and the votes. */
const STATEMENT_STATISTICS = process.env.BENCH_PG_STATEMENTS === '1';
/** Long enough for each waiting step to re-poll once. */
const WAIT_WINDOW_MS = Number(process.env.BENCH_WAIT_WINDOW_MS ?? (POLL_WAIT_S + 5) * 1000);

interface Step {
  id: string;
  token: string;
}

interface Answer {
  status: number;
  text: string;
  headers: Record<string, string | string[] | undefined>;
}

/** Long polls: one keep-alive connection per waiting step, re-used at once for its next poll. */
const pollAgent = new Agent({ keepAlive: true, maxSockets: Infinity });
/**
 * Everything else a connection of its own, as the Action opens one per call: a kept connection left idle
 * past the App's keep-alive timeout may be closed by it just as it is re-used.
 */
const plainAgent = new Agent({ keepAlive: false, maxSockets: Infinity });

function call(url: string, method: 'GET' | 'POST', headers: Record<string, string>, body?: string, agent = plainAgent): Promise<Answer> {
  return new Promise((resolveCall, reject) => {
    const req = httpRequest(url, { method, agent, headers: { ...headers, ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolveCall({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The dashboard as carol's browser: her session cookie and CSRF token. */
class Browser {
  private readonly cookies = new Map<string, string>();
  csrf = '';

  constructor(private readonly stage: Stage) {}

  private keep(headers: Answer['headers']): void {
    for (const line of [headers['set-cookie'] ?? []].flat()) {
      const [pair] = line.split(';');
      const at = pair!.indexOf('=');
      this.cookies.set(pair!.slice(0, at), pair!.slice(at + 1));
    }
  }

  async request(method: 'GET' | 'POST', path: string, form?: Record<string, string>): Promise<Answer> {
    const url = path.startsWith('http') ? path : `${this.stage.appUrl}${path}`;
    const cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    const answer = await call(url, method, { cookie, ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) }, form ? new URLSearchParams(form).toString() : undefined);
    this.keep(answer.headers);
    return answer;
  }

  /** Through the double's OAuth consent form, as test/dashboard signs in. */
  async signIn(login: string): Promise<void> {
    const start = await this.request('GET', '/dashboard/auth/start?return_to=%2Fdashboard%2F');
    const authorize = new URL(String(start.headers.location));
    const consent = await fetch(`${authorize.origin}${authorize.pathname}`, {
      method: 'POST', redirect: 'manual', body: new URLSearchParams({ ...Object.fromEntries(authorize.searchParams), login }),
    });
    const callback = await this.request('GET', consent.headers.get('location')!);
    if (callback.status !== 303) throw new Error(`sign-in as ${login} failed: ${callback.status} ${callback.text.slice(0, 500)}`);
    const page = await this.request('GET', '/dashboard/explain');
    this.csrf = /name="csrf" value="([^"]+)"/.exec(page.text)?.[1] ?? '';
    if (!this.csrf) throw new Error(`no CSRF token on the dashboard (${page.status})`);
  }

  async approve(requestId: string): Promise<void> {
    let answer: Answer | undefined;
    let retried = false;
    // A vote whose connection failed is sent again, as a person would; the App counts each person once.
    for (let attempt = 1; !answer; attempt++) {
      try {
        answer = await this.request('POST', `/dashboard/requests/${requestId}/vote`, { csrf: this.csrf, choice: 'approve', note: '' });
      } catch (err) {
        if (attempt >= 3) throw err;
        retried = true;
        retriedVotes++;
      }
    }
    const counted = answer.text.includes('Your approval was recorded') || (retried && /already voted|already approved/.test(answer.text));
    if (answer.status !== 200 || !counted) {
      throw new Error(`approving ${requestId} answered ${answer.status}: ${answer.text.replace(/\s+/g, ' ').slice(0, 800)}`);
    }
  }
}

/** A token for a new run of alice's deploy job, good for the whole bench (the Action would mint one per call). */
async function newStep(stage: Stage): Promise<string> {
  const job = await stage.control.registerJob({ repository: REPOSITORY, actor: 'alice', event_name: 'push', environment: 'production' });
  return (await stage.control.mintIdToken({ claims: job.claims, audience: stage.appUrl, lifetimeSeconds: 3600 })).token;
}

async function open(stage: Stage, token: string): Promise<Step> {
  const answer = await call(`${stage.appUrl}/api/v1/requests`, 'POST', { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json' },
    JSON.stringify({ action: 'deploy', environment: 'production', timeout_seconds: 3600 }));
  const view = JSON.parse(answer.text) as { id?: string; status?: string };
  if (answer.status !== 200 || !view.id) throw new Error(`opening a request answered ${answer.status}: ${answer.text.slice(0, 500)}`);
  if (view.status !== 'pending') throw new Error(`request ${view.id} opened ${view.status}, not pending`);
  return { id: view.id, token };
}

/** Runs `work` over `items`, at most `limit` at a time. */
async function pooled<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]!);
    }
  }));
  return results;
}

let retriedPolls = 0;
let retriedVotes = 0;

interface Poller {
  /** `at` on performance.now()'s clock, `wallAt` on Date.now()'s (the App's and the store's clock too). */
  done: Promise<{ at: number; wallAt: number; status: string; polls: number }>;
}

/** The Action's wait loop: re-polls at once while pending. */
function poll(stage: Stage, step: Step, inFlight: { count: number }): Poller {
  const done = (async () => {
    for (let polls = 1; ; polls++) {
      inFlight.count++;
      let answer: Answer | undefined;
      try {
        // The Action retries a poll that failed on the way (a connection reset, say).
        for (let attempt = 1; !answer; attempt++) {
          try {
            answer = await call(`${stage.appUrl}/api/v1/requests/${step.id}?wait=${POLL_WAIT_S}`, 'GET', { authorization: `Bearer ${step.token}`, accept: 'application/json' }, undefined, pollAgent);
          } catch (err) {
            if (attempt >= 3) throw err;
            retriedPolls++;
          }
        }
      } finally {
        inFlight.count--;
      }
      if (answer.status !== 200) throw new Error(`polling ${step.id} answered ${answer.status}: ${answer.text.slice(0, 300)}`);
      const { status } = JSON.parse(answer.text) as { status: string };
      if (status !== 'pending') return { at: performance.now(), wallAt: Date.now(), status, polls };
    }
  })();
  return { done };
}

/** The App's V8 heap in use, in MB, from its own /metrics (prom-client's default Node metrics). */
async function heapUsedMb(stage: Stage): Promise<number> {
  const text = await (await fetch(`${stage.appUrl}/metrics`)).text();
  return Number(/^nodejs_heap_size_used_bytes (\S+)/m.exec(text)?.[1] ?? NaN) / 1024 / 1024;
}


const ms = (value: number) => Math.round(value).toLocaleString('en');
const mb = (value: number) => value.toFixed(0);

export async function measureScale(): Promise<BenchReport[]> {
  const postgres = await PrivatePostgres.start({ statementStatistics: STATEMENT_STATISTICS });
  const stage = await Stage.start({
    built: true,
    databaseUrl: postgres.url,
    nodeArgs: appProfileArgs(),
    // One repository holds every request here; the caps would refuse the 101st.
    appEnv: { MAX_PENDING_PER_REPOSITORY: String(10 * (STEPS + PENDING + BATCH)) },
  });
  const db = new pg.Client({ connectionString: postgres.url });
  await db.connect();
  const phase = (text: string) => process.stderr.write(`scale: ${new Date().toISOString()} ${text}\n`);
  try {
    const carol = new Browser(stage);
    await carol.signIn('carol');
    phase('long polls');
    const polls = await measurePolls(stage, carol, db);
    phase('pending requests');
    const statements: BenchReport[] = [];
    const scale = await measurePending(stage, carol, db, postgres, statements);
    const load = loadavg().map((l) => l.toFixed(2)).join(', ');
    polls.notes.push(`load average at the end: ${load}`);
    scale.notes.push(`load average at the end: ${load}`);
    return [polls, scale, ...statements];
  } catch (err) {
    process.stderr.write(`scale: failed; the App's last output:\n${stage.appOutput()}\n`);
    throw err;
  } finally {
    await db.end();
    await stage.stop();
    await postgres.stop();
    pollAgent.destroy();
    plainAgent.destroy();
  }
}

async function measurePolls(stage: Stage, carol: Browser, db: pg.Client): Promise<BenchReport> {
  const pid = stage.appPid();
  const idle = processMemoryMb(pid);
  await stage.pushChange(REPOSITORY, 'replicas = 7\n');
  const tokens = await pooled(Array.from({ length: STEPS }, () => undefined), 20, () => newStep(stage));
  const openedAt = performance.now();
  const steps = await pooled(tokens, 50, (token) => open(stage, token));
  const openMs = performance.now() - openedAt;
  const inFlight = { count: 0 };
  const pollers = steps.map((step) => poll(stage, step, inFlight));
  // A failed poll is reported where the outcomes are awaited, not as an unhandled rejection meanwhile.
  for (const poller of pollers) poller.done.catch(() => undefined);
  await until(`${STEPS} long polls in flight`, () => inFlight.count === STEPS, 60_000);
  const waitingFrom = performance.now();
  let waitingRss = 0;
  while (performance.now() - waitingFrom < WAIT_WINDOW_MS) {
    waitingRss = Math.max(waitingRss, processMemoryMb(pid).rssMb);
    await sleep(500);
  }
  const whileWaiting = processMemoryMb(pid);
  const heapWaiting = await heapUsedMb(stage);
  const cpuBefore = stage.appCpuMs();

  const sent = new Map<string, number>();
  const answered = new Map<string, number>();
  const burstFrom = performance.now();
  await Promise.all(steps.map(async (step) => {
    sent.set(step.id, performance.now());
    await carol.approve(step.id);
    answered.set(step.id, performance.now());
  }));
  const votesMs = performance.now() - burstFrom;
  const outcomes = await Promise.all(pollers.map((p) => p.done));
  const allResumedMs = performance.now() - burstFrom;
  const burstCpu = stage.appCpuMs() - cpuBefore;
  const notApproved = outcomes.filter((o) => o.status !== 'approved').length;
  if (notApproved > 0) throw new Error(`${notApproved} steps ended other than approved`);
  const completed = new Map((await db.query<{ id: string; completed_at: Date }>('SELECT id, completed_at FROM requests WHERE id = ANY($1::uuid[])', [steps.map((s) => s.id)])).rows.map((r) => [r.id, r.completed_at.getTime()]));
  const fromCompleted = steps.map((step, i) => outcomes[i]!.wallAt - completed.get(step.id)!).sort((a, b) => a - b);
  const fromAnswered = steps.map((step, i) => outcomes[i]!.at - answered.get(step.id)!).sort((a, b) => a - b);
  const fromSent = steps.map((step, i) => outcomes[i]!.at - sent.get(step.id)!).sort((a, b) => a - b);
  await sleep(5000);
  const after = processMemoryMb(pid);
  const heapAfter = await heapUsedMb(stage);
  const row = (label: string, values: number[]) => [label, ms(percentile(values, 50)), ms(percentile(values, 99)), ms(values.at(-1)!), ms(values[0]!)];
  return {
    title: `${STEPS} steps long-polling at once (PostgreSQL), then ${STEPS} approvals at once`,
    columns: ['figure', 'p50', 'p99', 'max', 'min'],
    rows: [
      row('ms from decision stored to its poll answered', fromCompleted),
      row('ms from vote answered to decision in poll', fromAnswered),
      row('ms from vote sent to decision in poll', fromSent),
      ['App RSS MB: idle / max while waiting / after', `${mb(idle.rssMb)} / ${mb(waitingRss)} / ${mb(after.rssMb)}`, '', '', ''],
      ['App peak RSS (VmHWM) MB: while waiting / after', `${mb(whileWaiting.hwmMb)} / ${mb(after.hwmMb)}`, '', '', ''],
      ['App V8 heap used MB: while waiting / after', `${mb(heapWaiting)} / ${mb(heapAfter)}`, '', '', ''],
    ],
    notes: [
      `${STEPS} requests opened through the API in ${ms(openMs)} ms (50 at a time); then ${STEPS} long polls (wait=${POLL_WAIT_S}) over keep-alive connections, each step re-polling at once while pending, held for ${WAIT_WINDOW_MS / 1000} s (every step re-polled once) before the votes.`,
      `Polls retried after a failed connection: ${retriedPolls}; votes: ${retriedVotes}.`,
      `Votes: ${STEPS} concurrent POSTs of carol's dashboard vote form (the gate's vote path); all answered ${ms(votesMs)} ms after the first was sent, every step resumed after ${ms(allResumedMs)} ms; App CPU during the burst ${ms(burstCpu)} ms.`,
      'Decision stored: the request\'s completed_at, written by the App as it commits the deciding vote (same host clock as the bench\'s). A negative time from the vote answered means the poll answered before the vote\'s own page did (the vote is answered after the request page is re-rendered).',
    ],
  };
}

async function measurePending(stage: Stage, carol: Browser, db: pg.Client, postgres: PrivatePostgres, statements: BenchReport[]): Promise<BenchReport> {
  const seedFrom = performance.now();
  const seeded = await seedPending(db, PENDING);
  const seedMs = performance.now() - seedFrom;
  const pendingNow = Number((await db.query("SELECT count(*) AS n FROM requests WHERE status = 'pending'")).rows[0].n);

  await stage.pushChange(REPOSITORY, 'replicas = 9\n');
  const tokens = await pooled(Array.from({ length: BATCH }, () => undefined), 20, () => newStep(stage));
  if (STATEMENT_STATISTICS) await db.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements; SELECT pg_stat_statements_reset()');
  const cpu = new CpuMeter(stage, postgres);
  const openFrom = performance.now();
  const openLatencies: number[] = [];
  const opened = await pooled(tokens, CONCURRENCY, async (token) => {
    const from = performance.now();
    const step = await open(stage, token);
    openLatencies.push(performance.now() - from);
    return step;
  });
  const openMs = performance.now() - openFrom;
  openLatencies.sort((a, b) => a - b);
  const openCpu = cpu.lap();
  if (STATEMENT_STATISTICS) statements.push(await statementReport(db, `PostgreSQL's statements while ${BATCH} requests were opened`, BATCH));
  const decideFrom = performance.now();
  await pooled(opened, CONCURRENCY, (step) => carol.approve(step.id));
  const decideMs = performance.now() - decideFrom;
  const decideCpu = cpu.lap();
  if (STATEMENT_STATISTICS) statements.push(await statementReport(db, `PostgreSQL's statements while ${BATCH} requests were decided`, BATCH));

  const pages: Array<[string, string]> = [
    ['dashboard: all requests, first page', '/dashboard/requests'],
    ['dashboard: pending requests, first page', '/dashboard/requests?status=pending'],
    ['dashboard: waiting for me (carol)', '/dashboard/'],
  ];
  const rows: string[][] = [
    ['open through the API, requests/s', (BATCH / (openMs / 1000)).toFixed(0), '', ''],
    ['open through the API, ms each', ms(percentile(openLatencies, 50)), ms(percentile(openLatencies, 95)), ms(openLatencies.at(-1)!)],
    ['decide (dashboard vote), requests/s', (BATCH / (decideMs / 1000)).toFixed(0), '', ''],
    ['open: CPU ms per request, App / PostgreSQL / bench and double', openCpu.perRequest(BATCH), '', ''],
    ['decide: CPU ms per request, App / PostgreSQL / bench and double', decideCpu.perRequest(BATCH), '', ''],
  ];
  for (const [label, path] of pages) {
    const times: number[] = [];
    let next: string | undefined;
    for (let i = 0; i < PAGE_LOADS; i++) {
      const from = performance.now();
      const answer = await carol.request('GET', path);
      times.push(performance.now() - from);
      if (answer.status !== 200) throw new Error(`${path} answered ${answer.status}`);
      next = /href="([^"]*after=[^"]*)"/.exec(answer.text)?.[1];
    }
    times.sort((a, b) => a - b);
    rows.push([`${label}, ms`, ms(percentile(times, 50)), ms(percentile(times, 95)), ms(times.at(-1)!)]);
    if (next && path.startsWith('/dashboard/requests')) {
      const later: number[] = [];
      for (let i = 0; i < PAGE_LOADS; i++) {
        const from = performance.now();
        const answer = await carol.request('GET', next.replaceAll('&amp;', '&'));
        later.push(performance.now() - from);
        if (answer.status !== 200) throw new Error(`${next} answered ${answer.status}`);
      }
      later.sort((a, b) => a - b);
      rows.push([`${label.replace('first', 'second')}, ms`, ms(percentile(later, 50)), ms(percentile(later, 95)), ms(later.at(-1)!)]);
    }
  }
  return {
    title: `${PENDING.toLocaleString('en')} pending requests in the store (PostgreSQL)`,
    columns: ['figure', 'value / p50', 'p95', 'max'],
    rows,
    notes: [
      `${seeded.toLocaleString('en')} pending requests copied in SQL in ${ms(seedMs)} ms from one the API opened (${pendingNow.toLocaleString('en')} pending in all, in one repository).`,
      `${BATCH} requests opened through the API, ${CONCURRENCY} at a time (each answered once its check run exists or after 1 s), then each approved by carol's dashboard vote, ${CONCURRENCY} at a time.`,
      `CPU: the App's process, the PostgreSQL server's (postmaster, backends, and backends that exited), and this process's (the clients, the GitHub double and the OIDC issuer); cores busy in all: open ${openCpu.cores(openMs)}, decide ${decideCpu.cores(decideMs)} (the machine has ${availableParallelism()}).`,
      `Pages loaded ${PAGE_LOADS} times each, one at a time, signed in as carol; the HTTP API has no list endpoint.`,
    ],
  };
}

/** The statements that took the most of PostgreSQL's time since the last report, per request; then starts counting again. */
async function statementReport(db: pg.Client, title: string, requests: number): Promise<BenchReport> {
  const { rows } = await db.query<{ calls: string; exec: number; plan: number; query: string }>(
    `SELECT calls, total_exec_time AS exec, total_plan_time AS plan, query FROM pg_stat_statements
     WHERE query NOT LIKE '%pg_stat_statements%' ORDER BY total_exec_time + total_plan_time DESC`,
  );
  await db.query('SELECT pg_stat_statements_reset()');
  const per = (value: number) => (value / requests).toFixed(3);
  const total = rows.reduce((sum, r) => ({ exec: sum.exec + r.exec, plan: sum.plan + r.plan, calls: sum.calls + Number(r.calls) }), { exec: 0, plan: 0, calls: 0 });
  return {
    title,
    columns: ['calls per request', 'execution ms per request', 'planning ms per request', 'statement'],
    rows: [
      [per(total.calls), per(total.exec), per(total.plan), '(all statements)'],
      ...rows.slice(0, 15).map((r) => [per(Number(r.calls)), per(r.exec), per(r.plan), r.query.replace(/\s+/g, ' ').slice(0, 110)]),
    ],
    notes: ['pg_stat_statements with track_planning; execution time includes waiting for locks; a function\'s own statements are counted in its call.'],
  };
}

/** CPU time used since the last lap by the App, the PostgreSQL server and this process. */
class CpuMeter {
  private last: { app: number; db: number; bench: number };

  constructor(private readonly stage: Stage, private readonly postgres: PrivatePostgres) {
    this.last = this.read();
  }

  private read(): { app: number; db: number; bench: number } {
    const { user, system } = process.cpuUsage();
    return { app: this.stage.appCpuMs(), db: this.postgres.cpuMs(), bench: (user + system) / 1000 };
  }

  lap(): { perRequest(count: number): string; cores(wallMs: number): string } {
    const now = this.read();
    const used = { app: now.app - this.last.app, db: now.db - this.last.db, bench: now.bench - this.last.bench };
    this.last = now;
    return {
      perRequest: (count) => [used.app, used.db, used.bench].map((value) => (value / count).toFixed(2)).join(' / '),
      cores: (wallMs) => ((used.app + used.db + used.bench) / wallMs).toFixed(2),
    };
  }
}

/** Copies the newest request PENDING times as pending requests of new runs, created over the last hour. */
async function seedPending(db: pg.Client, count: number): Promise<number> {
  const columns = (await db.query<{ column_name: string }>("SELECT column_name FROM information_schema.columns WHERE table_name = 'requests' ORDER BY ordinal_position")).rows.map((r) => r.column_name);
  const overrides: Record<string, string> = {
    id: 'gen_random_uuid()',
    run_id: 't.run_id + 1000000000 + g',
    status: "'pending'",
    reason: 'NULL',
    completed_by: 'NULL',
    completed_at: 'NULL',
    check_run_id: 'NULL',
    check_run_url: 'NULL',
    comment_id: 'NULL',
    comment_url: 'NULL',
    issue_number: 'NULL',
    issue_url: 'NULL',
    deadline: "now() + interval '1 day'",
    created_at: `now() - interval '1 hour' + g * interval '${(3600 / count).toFixed(6)} seconds'`,
    updated_at: 'now()',
  };
  const select = columns.map((column) => overrides[column] ?? `t.${column}`);
  const result = await db.query(
    `INSERT INTO requests (${columns.join(', ')})
     SELECT ${select.join(', ')} FROM (SELECT * FROM requests ORDER BY created_at DESC LIMIT 1) t, generate_series(1, $1) g`,
    [count],
  );
  // What autovacuum does within a minute or so of that many inserts: without it, every count of the
  // pending requests reads the table rather than the index alone, which a store holding them for
  // hours never does.
  await db.query('VACUUM ANALYZE requests');
  return result.rowCount ?? 0;
}
