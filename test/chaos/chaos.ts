/**
 * The chaos run: whole approval flows (the real App in its own process over PostgreSQL, the GitHub double,
 * the committed Action bundle) while the App is killed with SIGKILL at random moments and restarted,
 * PostgreSQL crashes and restarts, GitHub answers a share of calls with 502 (some after doing what was
 * asked) and bursts of secondary rate limits, and webhook deliveries are dropped, duplicated and reordered.
 *
 * Each flow must end with exactly one decision, which the Action ends with; GitHub must show it (one check
 * run per request, completed; the approval issue closed; no comment twice), and the audit trail must verify.
 */
import { CONCLUSIONS } from '../../app/render/check-run.js';
import { openStore, type RequestStatus } from '../../app/store/index.js';
import { auditCommand } from '../../app/cli/audit.js';
import { seededRandom } from '../seeded-random.js';
import { killRunningSteps, type StepResult } from '../action/action-process.js';
import { Stage, until, type DeployStep } from '../demo/stage.js';
import { PrivatePostgres } from './private-postgres.js';

const ORGS = ['acme', 'globex', 'initech', 'umbrella'];
const FINAL_AUDIT_TYPES = new Set(['approved', 'auto_approved', 'rejected', 'timed_out', 'cancelled', 'failed']);

export interface ChaosOptions {
  flows: number;
  seed: number;
  /** Share of GitHub calls answered 502 (half of them after the call took effect). */
  faultRate?: number;
  /** Share of webhook deliveries dropped, and duplicated. */
  dropRate?: number;
  duplicateRate?: number;
  /** Restart PostgreSQL in every Nth round (0: never). */
  postgresEvery?: number;
  /** The App's `RECONCILE_INTERVAL`. */
  reconcileInterval?: string;
  log?: (line: string) => void;
}

type Plan = 'approve' | 'reject' | 'refused-then-approve' | 'timeout';
const EXPECTED: Record<Plan, RequestStatus> = { approve: 'approved', reject: 'rejected', 'refused-then-approve': 'approved', timeout: 'timed_out' };
const TIMEOUT_FLOW_SECONDS = 20;

interface Flow {
  plan: Plan;
  step: DeployStep;
  requestId: string;
  issueNumber: number;
  result?: StepResult;
  openedAt: number;
  endedAt?: number;
}

export interface ChaosReport {
  seed: number;
  faultRate: number;
  flows: number;
  plans: Record<Plan, number>;
  appKills: number;
  postgresRestarts: number;
  secondaryBursts: number;
  deliveries: { sent: number; dropped: number; duplicated: number };
  githubCalls: number;
  /** Flow time from the first vote (or, for a timeout, the deadline) to the step's exit. */
  decisionToExitMs: { p50: number; p99: number; max: number };
  elapsedS: number;
  problems: string[];
}

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const started = Date.now();
  const log = options.log ?? (() => {});
  const random = seededRandom(options.seed);
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)];
  const postgres = await PrivatePostgres.start();
  const report: ChaosReport = {
    seed: options.seed, faultRate: options.faultRate ?? 0.2, flows: 0, plans: { approve: 0, reject: 0, 'refused-then-approve': 0, timeout: 0 }, appKills: 0, postgresRestarts: 0,
    secondaryBursts: 0, deliveries: { sent: 0, dropped: 0, duplicated: 0 }, githubCalls: 0, decisionToExitMs: { p50: 0, p99: 0, max: 0 }, elapsedS: 0, problems: [],
  };
  let stage: Stage | undefined;
  const flows: Flow[] = [];
  const latencies: number[] = [];
  try {
    stage = await Stage.start({ orgs: ORGS, databaseUrl: postgres.url, appEnv: { RECONCILE_INTERVAL: options.reconcileInterval ?? '5s' } });
    const { faultRate } = report;
    await stage.control.fault({ route: '*', status: 502, rate: faultRate / 2, seed: options.seed });
    await stage.control.fault({ route: '*', status: 502, rate: faultRate / 2, seed: options.seed + 1, after: true });
    await stage.control.setDeliveryMode({ mode: 'concurrent', max_jitter_ms: 200, seed: options.seed });
    await stage.control.setDeliveryLoss({ drop_rate: options.dropRate ?? 0.1, duplicate_rate: options.duplicateRate ?? 0.1, seed: options.seed });
    await stage.control.resetRequestCounts();
    const firstSeq = Math.max(0, ...(await stage.control.deliveries()).map((d) => d.seq as number));

    const rounds = Math.ceil(options.flows / ORGS.length);
    for (let round = 0; round < rounds; round++) {
      const orgs = ORGS.slice(0, Math.min(ORGS.length, options.flows - round * ORGS.length));
      const plans = orgs.map(() => pick<Plan>(['approve', 'approve', 'reject', 'refused-then-approve', 'timeout']));
      const opened = await Promise.all(orgs.map((org, i) => openFlow(stage!, `${org}/payments`, plans[i], round)));
      flows.push(...opened);
      for (const flow of opened) report.plans[flow.plan] += 1;
      const chaos: Array<Promise<void>> = [];
      // One crash at a random moment around the votes: before one, between a vote and its commit, inside the outbox.
      chaos.push(later(random() * 3000, async () => {
        await stage!.killApp();
        report.appKills += 1;
        await stage!.startApp();
      }));
      if (opened.some((flow) => flow.plan === 'timeout')) {
        // Another as the deadline timer fires.
        chaos.push(later(TIMEOUT_FLOW_SECONDS * 1000 - (Date.now() - opened[0].openedAt) + (random() - 0.5) * 1000, async () => {
          await stage!.killApp();
          report.appKills += 1;
          await stage!.startApp();
        }));
      }
      if (options.postgresEvery && round % options.postgresEvery === options.postgresEvery - 1) {
        chaos.push(later(random() * 3000, async () => {
          await postgres.restart();
          report.postgresRestarts += 1;
        }));
      }
      if (random() < 0.3) {
        chaos.push(later(random() * 2000, async () => {
          await stage!.control.rateLimit({ secondary: { times: 5, retryAfterSeconds: 1 } });
          report.secondaryBursts += 1;
        }));
      }
      const votesAt = Date.now();
      const votes = opened.map((flow) => later(random() * 1500, () => vote(stage!, flow)));
      await Promise.all([...chaos, ...votes]);
      for (const flow of opened) {
        flow.result = await flow.step.running.result;
        latencies.push(flow.endedAt! - (flow.plan === 'timeout' ? flow.openedAt + TIMEOUT_FLOW_SECONDS * 1000 : votesAt));
        const expected = EXPECTED[flow.plan];
        if (flow.result.outputs.decision !== expected || (flow.result.exitCode === 0) !== (expected === 'approved')) {
          report.problems.push(`${flow.requestId} (${flow.plan}): the step ended with exit ${flow.result.exitCode}, decision "${flow.result.outputs.decision}"; expected ${expected}\n${flow.result.stdout.slice(-1500)}`);
        }
      }
      log(`round ${round + 1}/${rounds}: ${opened.map((f) => `${f.plan}→${f.result?.outputs.decision}`).join(', ')}; kills so far ${report.appKills}, PostgreSQL restarts ${report.postgresRestarts}`);
    }
    report.flows = flows.length;

    // GitHub calms down; what was left to publish must now reach it.
    await stage.control.clearFaults();
    await stage.control.setDeliveryLoss({});
    const deliveries = (await stage.control.deliveries()).filter((d) => (d.seq as number) > firstSeq);
    report.deliveries = {
      sent: deliveries.length,
      dropped: deliveries.filter((d) => d.error?.includes('simulated loss')).length,
      duplicated: deliveries.filter((d) => d.attempts > 1).length,
    };
    report.githubCalls = Object.values(await stage.control.requestCounts()).reduce((sum, n) => sum + n, 0);
    report.problems.push(...await checkGitHub(stage, flows));
    report.problems.push(...await checkStore(postgres.url, flows));
  } finally {
    killRunningSteps();
    if (stage && report.problems.length > 0) report.problems.push(`the App's last output:\n${stage.appOutput().slice(-4000)}`);
    await stage?.stop();
    await postgres.stop();
  }
  const sorted = latencies.sort((a, b) => a - b);
  const at = (p: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0);
  report.decisionToExitMs = { p50: at(50), p99: at(99), max: Math.round(sorted[sorted.length - 1] ?? 0) };
  report.elapsedS = Math.round((Date.now() - started) / 1000);
  return report;
}

async function openFlow(stage: Stage, repository: string, plan: Plan, round: number): Promise<Flow> {
  await stage.pushChange(repository, `replicas = ${round + 10}\n`);
  const step = await stage.startDeploy(plan === 'timeout' ? { timeout: `${TIMEOUT_FLOW_SECONDS}s` } : {}, repository);
  const openedAt = Date.now();
  // Opening rides out the same faults (the Action and the App retry), so it may take a while.
  const requestId = await stage.requestIdOf(step, 120_000);
  const issue = await stage.approvalIssueOf(requestId, repository, 120_000);
  const flow: Flow = { plan, step, requestId, issueNumber: issue.number, openedAt };
  void step.running.result.then(() => { flow.endedAt = Date.now(); });
  return flow;
}

async function vote(stage: Stage, flow: Flow): Promise<void> {
  const { repository } = flow.step;
  switch (flow.plan) {
    case 'approve':
      return stage.comment(flow.issueNumber, 'carol', '/approve', repository);
    case 'reject':
      return stage.comment(flow.issueNumber, 'carol', '/reject not during chaos', repository);
    case 'refused-then-approve':
      // alice started the deploy and bob owns nothing it changes: neither may approve it.
      await stage.comment(flow.issueNumber, 'alice', '/approve', repository);
      await stage.comment(flow.issueNumber, 'bob', '/approve', repository);
      return stage.comment(flow.issueNumber, 'carol', '/approve', repository);
    case 'timeout':
      return undefined;
  }
}

/** What GitHub shows once the App has caught up: one completed check run per request, the issue closed, no comment twice. */
async function checkGitHub(stage: Stage, flows: Flow[]): Promise<string[]> {
  const problems: string[] = [];
  const byRepository = new Map<string, Flow[]>();
  for (const flow of flows) byRepository.set(flow.step.repository, [...(byRepository.get(flow.step.repository) ?? []), flow]);
  const shown = async () => {
    problems.length = 0;
    for (const [repository, mine] of byRepository) {
      const runs = (await stage.control.checkRuns(repository)) as unknown as Array<{ external_id: string; status: string; conclusion: string | null; app: { slug: string } }>;
      const issues = (await stage.control.issues(repository)) as unknown as Array<{ number: number; state: string }>;
      for (const flow of mine) {
        const expected = EXPECTED[flow.plan];
        const own = runs.filter((run) => run.external_id === flow.requestId);
        if (own.length !== 1) problems.push(`${flow.requestId}: ${own.length} check runs, expected one`);
        else if (own[0].status !== 'completed' || own[0].conclusion !== CONCLUSIONS[expected]) {
          problems.push(`${flow.requestId}: check run ${own[0].status}/${own[0].conclusion}, expected completed/${CONCLUSIONS[expected]}`);
        }
        const issue = issues.find((candidate) => candidate.number === flow.issueNumber);
        if (issue?.state !== 'closed') problems.push(`${flow.requestId}: approval issue #${flow.issueNumber} is ${issue?.state ?? 'missing'}`);
        const comments = await stage.appCommentsOn(flow.issueNumber, repository);
        const twice = comments.filter((body, i) => comments.indexOf(body) !== i);
        if (twice.length > 0) problems.push(`${flow.requestId}: the App posted the same comment twice on #${flow.issueNumber}: ${twice[0].slice(0, 200)}`);
      }
    }
    return problems.length === 0;
  };
  try {
    await until('GitHub to show every decision', shown, 180_000);
  } catch {
    // `problems` holds what was still wrong at the deadline.
  }
  return [...problems];
}

/** The store: each request decided once, as expected, and the audit trail intact. */
async function checkStore(databaseUrl: string, flows: Flow[]): Promise<string[]> {
  const problems: string[] = [];
  const store = await openStore({ databaseUrl });
  try {
    for (const flow of flows) {
      const request = await store.getRequest(flow.requestId);
      if (request?.status !== EXPECTED[flow.plan]) problems.push(`${flow.requestId}: stored as ${request?.status}, expected ${EXPECTED[flow.plan]}`);
      const finals = (await store.listAudit({ requestId: flow.requestId })).filter((event) => FINAL_AUDIT_TYPES.has(event.type));
      if (finals.length !== 1) problems.push(`${flow.requestId}: ${finals.length} decisions in the audit trail (${finals.map((e) => e.type).join(', ')}), expected one`);
    }
  } finally {
    await store.close();
  }
  let output = '';
  const code = await auditCommand(['verify', '--database-url', databaseUrl], { stdout: (text: string) => { output += text; }, stderr: (text: string) => { output += text; }, cwd: process.cwd() });
  if (code !== 0) problems.push(`audit verify exited ${code}: ${output}`);
  return problems;
}

function later(ms: number, act: () => Promise<void>): Promise<void> {
  return new Promise((resolve, reject) => setTimeout(() => act().then(resolve, reject), Math.max(0, ms)));
}

export function formatChaosReport(report: ChaosReport): string {
  return [
    `chaos run, seed ${report.seed}: ${report.flows} flows (${Object.entries(report.plans).map(([plan, n]) => `${n} ${plan}`).join(', ')}) in ${report.elapsedS} s`,
    `  App killed with SIGKILL ${report.appKills} times, PostgreSQL restarted ${report.postgresRestarts} times, ${report.secondaryBursts} bursts of secondary rate limits`,
    `  ${report.githubCalls} GitHub calls, ${Math.round(report.faultRate * 100)}% answered 502 (half after taking effect); ${report.deliveries.sent} webhook deliveries: ${report.deliveries.dropped} dropped, ${report.deliveries.duplicated} sent twice, all out of order`,
    `  vote (or deadline) to the step's exit: p50 ${report.decisionToExitMs.p50} ms, p99 ${report.decisionToExitMs.p99} ms, max ${report.decisionToExitMs.max} ms`,
    report.problems.length === 0 ? '  every flow: one decision, the step ended with it, GitHub shows it once, audit trail intact' : `  ${report.problems.length} PROBLEMS:\n${report.problems.map((p) => `  - ${p}`).join('\n')}`,
  ].join('\n');
}
