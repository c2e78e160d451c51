/**
 * Bursts on the demo's stage (the GitHub double, the real App in its own process with the embedded store,
 * the committed Action bundle as child processes), over loopback.
 *
 * (a) Resume under a burst of approvals: FLOWS Action processes wait at once over ORGS installations; carol's
 *     `/approve` comments then come in bursts of BURST_SIZE, all of a burst posted at once and delivered
 *     concurrently, as GitHub delivers webhooks (the double's default is one at a time, in order). Each
 *     flow's time runs from the control call that posts its comment to its step process's exit.
 * (b) Requests opened at once in one installation: OPENED requests of one repository posted to the App's API
 *     at the same moment (tokens minted beforehand); each answer's time. Then, while the outbox still has
 *     most of the burst to publish, approvals of the first requests GitHub shows, each timed from its
 *     comment to the answer of the long poll waiting on it; then how long until every approval issue and
 *     check run is on GitHub, and how the App paced its writes (the double's log of every request).
 */
import { spawn } from 'node:child_process';
import pg from 'pg';
import { killRunningSteps } from '../test/action/action-process.js';
import { PrivatePostgres } from '../test/chaos/private-postgres.js';
import { Stage, until, type DeployStep } from '../test/demo/stage.js';
import { type BenchReport, percentile } from './report.js';
import { appProfileArgs } from './profile.js';

const ORGS = Array.from({ length: Number(process.env.BENCH_BURST_ORGS ?? 20) }, (_, i) => `org${String(i + 1).padStart(2, '0')}`);
const FLOWS = Number(process.env.BENCH_BURST_FLOWS ?? 200);
const BURST_SIZE = Number(process.env.BENCH_BURST_SIZE ?? 50);
const OPENED = Number(process.env.BENCH_BURST_OPENED ?? 200);
const EARLY_APPROVALS = 10;
/** `postgres`: the App on a PostgreSQL server of its own instead of the embedded store. */
const STORE = process.env.BENCH_BURST_STORE === 'postgres' ? 'postgres' : 'embedded';
/** `0`: stop once the early approvals are answered, without waiting for the whole burst's publication. */
const DRAIN = process.env.BENCH_DRAIN !== '0';
/** Steps started at a time while the flows are set up, so 200 Node processes do not start on 2 cores at once. */
const START_BATCH = 20;
const WRITE = /^(POST|PATCH|PUT|DELETE)$/;
/** Octokit's throttling marks these as notifying: GitHub asks for more room between them. */
const NOTIFYING = /^POST \/repos\/\{owner\}\/\{repo\}\/(issues|issues\/\{issue_number\}\/comments|pulls\/\{pull_number\}\/(comments|reviews))$/;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A stage on the chosen store; the PostgreSQL server, if any, stops with it. */
async function startStage(orgs: string[], appEnv: Record<string, string> = {}): Promise<{ stage: Stage; stop: () => Promise<void>; databaseUrl?: string }> {
  const postgres = STORE === 'postgres' ? await PrivatePostgres.start() : undefined;
  try {
    const stage = await Stage.start({ orgs, nodeArgs: appProfileArgs(), appEnv, databaseUrl: postgres?.url });
    return { stage, databaseUrl: postgres?.url, stop: async () => {
      await stage.stop();
      await postgres?.stop();
    } };
  } catch (err) {
    await postgres?.stop();
    throw err;
  }
}

interface Usage {
  cpuMs: number;
  /** This process's: the GitHub double and the bench's clients. */
  benchCpuMs: number;
  wallMs: number;
  maxRssMb: number;
}

/** The App's CPU time and its largest resident size while `work` runs, sampled every 100 ms. */
async function usageDuring<T>(stage: Stage, work: () => Promise<T>): Promise<{ result: T; usage: Usage }> {
  const cpuBefore = stage.appCpuMs();
  const benchBefore = process.cpuUsage();
  const started = performance.now();
  let maxRssMb = stage.appRssMb();
  const sampler = setInterval(() => (maxRssMb = Math.max(maxRssMb, stage.appRssMb())), 100);
  try {
    const result = await work();
    const bench = process.cpuUsage(benchBefore);
    return { result, usage: { cpuMs: stage.appCpuMs() - cpuBefore, benchCpuMs: (bench.user + bench.system) / 1000, wallMs: performance.now() - started, maxRssMb: Math.max(maxRssMb, stage.appRssMb()) } };
  } finally {
    clearInterval(sampler);
  }
}

/** Nearest rank. */

function summary(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  return { n: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted[sorted.length - 1] };
}

const ms = (value: number) => `${Math.round(value)} ms`;

/** Issues of each repository, by the request id their body names, read once per round for all waiting ids. */
async function issuesOf(stage: Stage, wanted: Array<{ repository: string; requestId: string }>, timeoutMs: number): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  const repositories = [...new Set(wanted.map((w) => w.repository))];
  await until(`${wanted.length} approval issues`, async () => {
    for (const repository of repositories) {
      const issues = (await stage.control.issues(repository)) as unknown as Array<{ number: number; body: string | null }>;
      for (const w of wanted) {
        if (w.repository !== repository || found.has(w.requestId)) continue;
        const issue = issues.find((candidate) => candidate.body?.includes(w.requestId));
        if (issue) found.set(w.requestId, issue.number);
      }
    }
    return found.size === wanted.length;
  }, timeoutMs);
  return found;
}

// ── (a) resume under a burst of approvals ─────────────────────────────────────────────────────────

interface Flow {
  step: DeployStep;
  requestId: string;
  issueNumber: number;
  exitedAt: Promise<number>;
}

interface ResumeFigures {
  latencies: ReturnType<typeof summary>;
  mean: number;
  bursts: Array<{ size: number; p50: number; max: number; usage: Usage; answerP50: number; answerMax: number; committedP50?: number; toAnswerP50?: number; afterCommitP50?: number }>;
  setupS: number;
  usage: Usage;
}

async function measureResume(): Promise<ResumeFigures> {
  const { stage, stop, databaseUrl } = await startStage(ORGS);
  // On PostgreSQL the bench reads when each decision was committed (completed_at, the App's clock: this host's).
  const database = databaseUrl ? new pg.Client({ connectionString: databaseUrl }) : undefined;
  await database?.connect();
  try {
    const setupStarted = performance.now();
    const flows: Flow[] = [];
    const perOrg = Math.ceil(FLOWS / ORGS.length);
    const plan = Array.from({ length: FLOWS }, (_, i) => `${ORGS[i % ORGS.length]}/payments`);
    for (let i = 0; i < plan.length; i += START_BATCH) {
      const batch = await Promise.all(plan.slice(i, i + START_BATCH).map(async (repository) => {
        const step = await stage.startDeploy({ timeout: '30m' }, repository);
        const exitedAt = new Promise<number>((resolve) => step.running.child.once('exit', () => resolve(performance.now())));
        return { step, requestId: await stage.requestIdOf(step, 300_000), exitedAt };
      }));
      const issues = await issuesOf(stage, batch.map((b) => ({ repository: b.step.repository, requestId: b.requestId })), 600_000);
      for (const b of batch) flows.push({ ...b, issueNumber: issues.get(b.requestId)! });
    }
    // Every approval issue and check run is out, so the bursts measure the answer path, not publication.
    await outboxQuiet(stage);
    await stage.control.setDeliveryMode({ mode: 'concurrent', max_jitter_ms: 0 });
    const setupS = (performance.now() - setupStarted) / 1000;

    // Bursts take flows round-robin across installations: each burst touches every one.
    const order = Array.from({ length: perOrg }, (_, k) => flows.filter((_, i) => Math.floor(i / ORGS.length) === k)).flat();
    const latencies: number[] = [];
    const bursts: ResumeFigures['bursts'] = [];
    const { usage } = await usageDuring(stage, async () => {
      for (let i = 0; i < order.length; i += BURST_SIZE) {
        const burst = order.slice(i, i + BURST_SIZE);
        const firstSeq = Math.max(0, ...(await stage.control.deliveries()).map((d) => d.seq));
        const sentAt = new Map<string, number>();
        const exitAt = new Map<string, number>();
        const answeredAt = new Map<string, number>();
        const { result, usage: burstUsage } = await usageDuring(stage, () => Promise.all(burst.map(async (flow) => {
          const approvedAt = performance.now();
          sentAt.set(flow.requestId, Date.now());
          // The step prints this line as soon as its long poll has the decision.
          flow.step.running.child.stdout?.on('data', (chunk: Buffer) => {
            if (!answeredAt.has(flow.requestId) && chunk.toString().includes('Approved by')) answeredAt.set(flow.requestId, Date.now());
          });
          await stage.comment(flow.issueNumber, 'carol', '/approve', flow.step.repository);
          const exitedAt = await flow.exitedAt;
          exitAt.set(flow.requestId, Date.now() - (performance.now() - exitedAt));
          const result = await flow.step.running.result;
          if (result.exitCode !== 0 || result.outputs.decision !== 'approved') {
            throw new Error(`run ${flow.step.runId}: expected an approved step, got exit ${result.exitCode}, outputs ${JSON.stringify(result.outputs)}\n${result.stdout}${result.stderr}`);
          }
          return exitedAt - approvedAt;
        })));
        latencies.push(...result);
        const s = summary(result);
        await stage.control.deliveriesIdle();
        // The App answers a vote's delivery once the vote is committed, which is also when the long poll wakes.
        const answers = (await stage.control.deliveries({ event: 'issue_comment', after: firstSeq }))
          .filter((d) => (d.payload as { action?: string; sender?: { login?: string } }).action === 'created' && (d.payload as { sender: { login: string } }).sender.login === 'carol');
        const answered = summary(answers.map((d) => d.duration_ms ?? Number.POSITIVE_INFINITY));
        let split: { committedP50?: number; toAnswerP50?: number; afterCommitP50?: number } = {};
        if (database) {
          const { rows } = await database.query<{ id: string; completed_at: Date }>('SELECT id, completed_at FROM requests WHERE id = ANY($1::uuid[])', [burst.map((f) => f.requestId)]);
          split = {
            committedP50: summary(rows.map((r) => r.completed_at.getTime() - sentAt.get(r.id)!)).p50,
            toAnswerP50: summary(rows.map((r) => (answeredAt.get(r.id) ?? Number.NaN) - r.completed_at.getTime())).p50,
            afterCommitP50: summary(rows.map((r) => exitAt.get(r.id)! - r.completed_at.getTime())).p50,
          };
        }
        bursts.push({ size: burst.length, p50: s.p50, max: s.max, usage: burstUsage, answerP50: answered.p50, answerMax: answered.max, ...split });
        await sleep(2000);
      }
    });
    return { latencies: summary(latencies), mean: latencies.reduce((a, b) => a + b, 0) / latencies.length, bursts, setupS, usage };
  } finally {
    killRunningSteps();
    await database?.end();
    await stop();
  }
}

/**
 * What ending costs the step processes themselves on this machine, apart from the App: `count` idle Node
 * processes told at once to exit, from the word to each one's exit. A Node process's exit takes the
 * kernel some milliseconds of CPU (its memory given back), and here every step shares the App's cores.
 */
async function nodeExitFloor(count: number): Promise<ReturnType<typeof summary>> {
  const children = Array.from({ length: count }, () =>
    spawn(process.execPath, ['-e', "process.stdin.once('data', () => process.exit(0))"], { stdio: ['pipe', 'ignore', 'ignore'] }));
  await sleep(3000);
  const told = performance.now();
  const exits = children.map((child) => new Promise<number>((resolve) => {
    if (child.exitCode !== null) resolve(0);
    else child.once('exit', () => resolve(performance.now() - told));
  }));
  for (const child of children) child.stdin.end('go\n');
  return summary(await Promise.all(exits));
}

/** Waits until the App has made no GitHub write for 5 s. */
async function outboxQuiet(stage: Stage): Promise<void> {
  const exchanges = stage.github.double.exchanges;
  await until('the outbox to go quiet', () => {
    const last = exchanges.findLast((e) => WRITE.test(e.method));
    return last === undefined || Date.now() - last.at > 5000;
  }, 900_000);
}

// ── (b) requests opened at once in one installation ──────────────────────────────────────────────

interface OpenFigures {
  answers: ReturnType<typeof summary>;
  statuses: string;
  allAnsweredMs: number;
  openUsage: Usage;
  earlyResume: ReturnType<typeof summary>;
  earlyQueuedWrites: number;
  issuesPublishedS: number;
  checkRunsPublishedS: number;
  writes: number;
  notifyingWrites: number;
  maxWritesInAnySecond: number;
  minWriteGapMs: number;
  minNotifyingGapMs: number;
  reads: Record<string, number>;
  rssAfterMb: number;
}

async function measureOpen(): Promise<OpenFigures> {
  // One repository holds the whole burst; the App's default cap is 100 pending requests a repository.
  const { stage, stop } = await startStage(['acme'], { MAX_PENDING_PER_REPOSITORY: String(OPENED + 50) });
  const repository = 'acme/payments';
  try {
    const jobs = await Promise.all(Array.from({ length: OPENED }, async () => {
      const job = await stage.control.registerJob({ repository, actor: 'alice', event_name: 'push', environment: 'production' });
      const { token } = await stage.control.mintIdToken({ claims: job.claims, audience: stage.appUrl });
      return token;
    }));
    await outboxQuiet(stage);
    await stage.control.setDeliveryMode({ mode: 'concurrent', max_jitter_ms: 0 });
    const exchanges = stage.github.double.exchanges;
    const started = performance.now();
    const startedAt = Date.now();
    // By time, not index: the double keeps its last 5,000 exchanges only.
    const sinceStart = () => exchanges.filter((e) => e.at >= startedAt);
    const { result: opened, usage: openUsage } = await usageDuring(stage, () => Promise.all(jobs.map(async (token) => {
      const response = await fetch(`${stage.appUrl}/api/v1/requests`, {
        method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ action: 'deploy', environment: 'production' }),
      });
      const answer = (await response.json()) as { id?: string; status?: string };
      return { token, status: response.status, id: answer.id, ms: performance.now() - started };
    })));
    const allAnsweredMs = performance.now() - started;
    const statuses = new Map<number, number>();
    for (const o of opened) statuses.set(o.status, (statuses.get(o.status) ?? 0) + 1);
    const ok = opened.filter((o) => o.status === 200 && o.id);
    if (ok.length !== OPENED) throw new Error(`only ${ok.length} of ${OPENED} requests opened: ${[...statuses].map(([s, n]) => `${s}×${n}`).join(' ')}\n${stage.appOutput()}`);

    // The first requests GitHub shows are approved while the rest of the burst waits in the outbox.
    const first = await firstIssues(stage, repository, ok.map((o) => o.id!), EARLY_APPROVALS);
    const writesSoFar = sinceStart().filter((e) => WRITE.test(e.method)).length;
    const earlyQueuedWrites = 2 * OPENED - writesSoFar;
    const early = await Promise.all(first.map(async ({ id, issueNumber }) => {
      const token = ok.find((o) => o.id === id)!.token;
      const controller = new AbortController();
      const polling = fetch(`${stage.appUrl}/api/v1/requests/${id}?wait=25`, { headers: { authorization: `Bearer ${token}` }, signal: controller.signal });
      await sleep(300); // the long poll is waiting before the vote comes
      const approvedAt = performance.now();
      await stage.comment(issueNumber, 'carol', '/approve', repository);
      const answer = (await (await polling).json()) as { status?: string };
      const took = performance.now() - approvedAt;
      if (answer.status !== 'approved') throw new Error(`request ${id}: the long poll answered ${JSON.stringify(answer)}`);
      return took;
    }));

    // Publication of the whole burst.
    let issuesPublishedAt = 0;
    let checkRunsPublishedAt = 0;
    if (DRAIN) await until('every approval issue and check run on GitHub', () => {
      const since = sinceStart();
      const created = (route: string) => since.filter((e) => e.method === 'POST' && e.route === route && e.status < 300);
      const issues = created('/repos/{owner}/{repo}/issues');
      const checkRuns = created('/repos/{owner}/{repo}/check-runs');
      if (issues.length >= OPENED && !issuesPublishedAt) issuesPublishedAt = issues[OPENED - 1].at;
      if (checkRuns.length >= OPENED && !checkRunsPublishedAt) checkRunsPublishedAt = checkRuns[OPENED - 1].at;
      return issuesPublishedAt > 0 && checkRunsPublishedAt > 0;
    }, 1_800_000);

    const since = sinceStart();
    const writes = since.filter((e) => WRITE.test(e.method));
    const notifying = writes.filter((e) => NOTIFYING.test(`${e.method} ${e.route}`));
    const reads: Record<string, number> = {};
    for (const e of since.filter((x) => !WRITE.test(x.method))) reads[`${e.method} ${e.route}`] = (reads[`${e.method} ${e.route}`] ?? 0) + 1;
    return {
      answers: summary(opened.map((o) => o.ms)),
      statuses: [...statuses].map(([s, n]) => `${s}×${n}`).join(' '),
      allAnsweredMs,
      openUsage,
      earlyResume: summary(early),
      earlyQueuedWrites,
      issuesPublishedS: (issuesPublishedAt - startedAt) / 1000,
      checkRunsPublishedS: (checkRunsPublishedAt - startedAt) / 1000,
      writes: writes.length,
      notifyingWrites: notifying.length,
      maxWritesInAnySecond: maxInWindow(writes.map((e) => e.at), 1000),
      minWriteGapMs: minGap(writes.map((e) => e.at)),
      minNotifyingGapMs: minGap(notifying.map((e) => e.at)),
      reads,
      rssAfterMb: stage.appRssMb(),
    };
  } finally {
    await stop();
  }
}

/** The first `count` of `ids` whose approval issues GitHub shows. */
async function firstIssues(stage: Stage, repository: string, ids: string[], count: number): Promise<Array<{ id: string; issueNumber: number }>> {
  const found: Array<{ id: string; issueNumber: number }> = [];
  await until(`${count} approval issues`, async () => {
    const issues = (await stage.control.issues(repository)) as unknown as Array<{ number: number; body: string | null }>;
    for (const issue of issues) {
      const id = ids.find((candidate) => issue.body?.includes(candidate));
      if (id && !found.some((f) => f.id === id)) found.push({ id, issueNumber: issue.number });
    }
    return found.length >= count;
  }, 600_000);
  return found.slice(0, count);
}

function maxInWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i] - sorted[j] >= windowMs) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

function minGap(times: number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  let gap = Number.POSITIVE_INFINITY;
  for (let i = 1; i < sorted.length; i++) gap = Math.min(gap, sorted[i] - sorted[i - 1]);
  return gap;
}

export async function measureBurst(): Promise<BenchReport[]> {
  const reports: BenchReport[] = [];
  if (process.env.BENCH_BURST_PART !== 'open') {
    const a = await measureResume();
    const [alone, together] = [await nodeExitFloor(1), await nodeExitFloor(BURST_SIZE)];
    reports.push({
      title: `approval burst: approving comment → step process exit, ${FLOWS} flows over ${ORGS.length} installations`,
      columns: ['burst', 'flows', 'exit p50', 'exit max', 'webhook answer p50', 'webhook answer max', ...(STORE === 'postgres' ? ['committed p50', 'commit → step has it p50', 'commit → exit p50'] : []), "App's CPU", "bench's CPU", "App's max RSS"],
      rows: [
        ...a.bursts.map((b, i) => [`#${i + 1}`, String(b.size), ms(b.p50), ms(b.max), ms(b.answerP50), ms(b.answerMax), ...(STORE === 'postgres' ? [ms(b.committedP50 ?? NaN), ms(b.toAnswerP50 ?? NaN), ms(b.afterCommitP50 ?? NaN)] : []), `${Math.round(b.usage.cpuMs)} ms in ${Math.round(b.usage.wallMs)} ms`, `${Math.round(b.usage.benchCpuMs)} ms`, `${Math.round(b.usage.maxRssMb)} MB`]),
        ['all', String(a.latencies.n), ms(a.latencies.p50), ms(a.latencies.max), '', '', ...(STORE === 'postgres' ? ['', '', ''] : []), `${Math.round(a.usage.cpuMs)} ms in ${Math.round(a.usage.wallMs)} ms`, `${Math.round(a.usage.benchCpuMs)} ms`, `${Math.round(a.usage.maxRssMb)} MB`],
      ],
      notes: [
        `All flows: p50 ${ms(a.latencies.p50)}, p99 ${ms(a.latencies.p99)}, mean ${ms(a.mean)}, max ${ms(a.latencies.max)} (targets: p50 ≤ 100 ms, p99 ≤ 500 ms). Nearest-rank percentiles.`,
        `The steps' own ending on these cores, without the App: ${BURST_SIZE} idle Node processes told at once to exit took p50 ${ms(together.p50)}, max ${ms(together.max)} (one alone: ${ms(alone.max)}); a burst's steps end together on the App's cores, where on GitHub each runs on a runner of its own.`,
        `${FLOWS} Action processes (dist/index.js) wait at once, long-polling the App; carol's "/approve" comes in bursts of ${BURST_SIZE}, round-robin over the installations, every comment of a burst posted at once and delivered concurrently (the double's concurrent mode, no jitter), 2 s between bursts. Setup (steps started ${START_BATCH} at a time, every issue and check run published) took ${a.setupS.toFixed(0)} s.`,
        "Webhook answer: the double's time for each approving delivery's HTTP exchange; the App answers once the vote is committed, when the long poll also wakes. Committed: from the comment to the decision's completed_at in the store (PostgreSQL only); commit → step has it: to the step's printing the decision (its long poll answered); commit → exit: to the step's exit. CPU is the App process's own (user and system), and the bench's (the GitHub double and the clients, one process), over the burst, from the first comment to the last step's exit; RSS is sampled every 100 ms.",
        `Store: ${STORE === 'postgres' ? 'a PostgreSQL server of its own (BENCH_BURST_STORE=postgres)' : 'the embedded PGlite store, in the App\'s process'}.`,
      ],
    });
  }
  if (process.env.BENCH_BURST_PART !== 'resume') {
    const b = await measureOpen();
    const reads = Object.entries(b.reads).map(([route, n]) => `${route} ×${n}`).join(', ');
    reports.push({
      title: `${OPENED} requests opened at once in one installation`,
      columns: ['measure', 'value'],
      rows: [
        ['open answer p50 / p99 / max', `${ms(b.answers.p50)} / ${ms(b.answers.p99)} / ${ms(b.answers.max)}`],
        ['all answered after', ms(b.allAnsweredMs)],
        ['answers by status', b.statuses],
        ["App's CPU / max RSS while opening", `${Math.round(b.openUsage.cpuMs)} ms / ${Math.round(b.openUsage.maxRssMb)} MB`],
        ["bench's CPU while opening (the GitHub double, the clients)", `${Math.round(b.openUsage.benchCpuMs)} ms`],
        [`${EARLY_APPROVALS} early approvals: comment → long poll answers, p50 / max`, `${ms(b.earlyResume.p50)} / ${ms(b.earlyResume.max)}`],
        ['writes still to publish when those approvals came', String(b.earlyQueuedWrites)],
        [`all ${OPENED} approval issues on GitHub after`, DRAIN ? `${b.issuesPublishedS.toFixed(1)} s` : 'not waited for'],
        [`all ${OPENED} check runs on GitHub after`, DRAIN ? `${b.checkRunsPublishedS.toFixed(1)} s` : 'not waited for'],
        ['GitHub writes (notifying)', `${b.writes} (${b.notifyingWrites})`],
        ['most writes in any 1 s', String(b.maxWritesInAnySecond)],
        ['shortest gap between writes / notifying writes', `${ms(b.minWriteGapMs)} / ${ms(b.minNotifyingGapMs)}`],
      ],
      notes: [
        `Target: every request evaluated and answered within 2 s; publication paced within GitHub's secondary limits (a second between writes, no more than 100 concurrent requests); resume not waiting for publication. The App runs with MAX_PENDING_PER_REPOSITORY=${OPENED + 50}, as the default cap is 100 pending requests a repository.`,
        `GitHub reads during the burst: ${reads}.`,
        `Times run from the moment all ${OPENED} POSTs are sent (OIDC tokens minted before); publication times from the same moment, read from the double's log of requests.${DRAIN ? '' : ' BENCH_DRAIN=0: publication was not waited for, so its rows are partial.'}`,
        `Store: ${STORE === 'postgres' ? 'a PostgreSQL server of its own (BENCH_BURST_STORE=postgres)' : 'the embedded PGlite store, in the App\'s process'}.`,
      ],
    });
  }
  return reports;
}
