/**
 * The approval path end to end, on the demo's stage: the GitHub double, the real App (own process,
 * embedded store) and the committed Action bundle as child processes, over loopback.
 *
 * (a) Latency from the approving comment (the double queues its webhook at once) to the Action
 *     process's exit, over ORGS × FLOWS_PER_ORG flows, each a fresh run. Each org is its own
 *     installation, so flows proceed in parallel: Probot spaces an installation's writes 1 s apart
 *     (GitHub's advice against secondary rate limits), and a flow makes five. Approvals are taken one
 *     at a time, each once the App has answered the previous webhook: the double delivers webhooks
 *     in order, one at a time, where GitHub would deliver them concurrently.
 * (b) GitHub API calls while steps wait: the double counts every request per route; WAITING_PER_ORG
 *     steps per org wait WAIT_WINDOW_S (longer than one 25 s long poll) before any approval.
 * Both are set beside a step that polls GitHub every 10 s (manual-approval style), computed: it sees
 * an approval at its next poll, uniformly 0–10 s later, and makes 360 calls an hour.
 */
import { killRunningSteps } from '../test/action/action-process.js';
import { Stage, type DeployStep } from '../test/demo/stage.js';
import { type BenchReport, percentile } from './report.js';

const ORGS = ['acme', 'globex', 'initech', 'umbrella', 'hooli'];
const FLOWS_PER_ORG = 10;
const WAITING_PER_ORG = 2;
const WAIT_WINDOW_S = 35;
const POLL_INTERVAL_S = 10;
const OIDC_TOKEN_ROUTE = /^GET \/_services\/token\/_apis\/idtoken\//;

interface Flow {
  step: DeployStep;
  issueNumber: number;
}

export interface ApprovalFigures {
  flows: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  maxMs: number;
  waitingSteps: number;
  windowS: number;
  restCallsWhileWaiting: number;
  restRoutesWhileWaiting: Record<string, number>;
  oidcTokensWhileWaiting: number;
  pollingCallsInWindow: number;
}

export async function measureApproval(): Promise<BenchReport[]> {
  const stage = await Stage.start({ orgs: ORGS });
  try {
    return reports(await measure(stage));
  } finally {
    killRunningSteps();
    await stage.stop();
  }
}

let changes = 0;
/** A new change to carol's file, then its deploy: each flow ships a change of its own (redeploying an approved commit changes nothing). */
async function openFlow(stage: Stage, repository: string): Promise<Flow> {
  await stage.pushChange(repository, `replicas = ${++changes}\n`);
  const step = await stage.startDeploy({ timeout: '10m' }, repository);
  const requestId = await stage.requestIdOf(step, 60_000);
  const issue = await stage.approvalIssueOf(requestId, repository, 60_000);
  return { step, issueNumber: issue.number };
}

async function approve(stage: Stage, flow: Flow): Promise<number> {
  const approvedAt = performance.now();
  await stage.comment(flow.issueNumber, 'carol', '/approve', flow.step.repository);
  const result = await flow.step.running.result;
  const latencyMs = performance.now() - approvedAt;
  if (result.exitCode !== 0 || result.outputs.decision !== 'approved') {
    throw new Error(`run ${flow.step.runId}: expected an approved step, got exit ${result.exitCode}, outputs ${JSON.stringify(result.outputs)}\n${result.stdout}`);
  }
  // The next approval waits until the App has answered this one's webhook.
  await stage.control.deliveriesIdle();
  return latencyMs;
}

/** One org's flows: approved in turn, with the org's next step opened (and waiting) meanwhile. */
async function orgFlows(stage: Stage, repository: string, waiting: Flow[], approveInTurn: (flow: Flow) => Promise<number>): Promise<number[]> {
  const timings: number[] = [];
  const queue = [...waiting];
  let opened = waiting.length;
  while (queue.length > 0) {
    const flow = queue.shift()!;
    const next = opened < FLOWS_PER_ORG ? (opened++, openFlow(stage, repository)) : undefined;
    timings.push(await approveInTurn(flow));
    if (next) queue.push(await next);
  }
  return timings;
}

async function measure(stage: Stage): Promise<ApprovalFigures> {
  const repositories = ORGS.map((org) => `${org}/payments`);
  const waiting = await Promise.all(repositories.map((repository) => Promise.all(Array.from({ length: WAITING_PER_ORG }, () => openFlow(stage, repository)))));
  await stage.control.deliveriesIdle();
  await stage.control.resetRequestCounts();
  await new Promise((resolve) => setTimeout(resolve, WAIT_WINDOW_S * 1000));
  const window = splitCounts(await stage.control.requestCounts());

  let turn = Promise.resolve();
  const approveInTurn = (flow: Flow) => {
    const timing = turn.then(() => approve(stage, flow));
    turn = timing.then(() => undefined, () => undefined);
    return timing;
  };
  const timings = (await Promise.all(repositories.map((repository, i) => orgFlows(stage, repository, waiting[i], approveInTurn)))).flat();

  const latencies = [...timings].sort((a, b) => a - b);
  const waitingSteps = ORGS.length * WAITING_PER_ORG;
  return {
    flows: timings.length,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    meanMs: mean(latencies),
    maxMs: latencies[latencies.length - 1],
    waitingSteps,
    windowS: WAIT_WINDOW_S,
    ...window,
    pollingCallsInWindow: waitingSteps * Math.floor(WAIT_WINDOW_S / POLL_INTERVAL_S),
  };
}

/** GitHub's REST API apart from the runner's OIDC token service, which is not a REST API call. */
function splitCounts(counts: Record<string, number>) {
  const rest: Record<string, number> = {};
  let oidcTokens = 0;
  for (const [route, count] of Object.entries(counts)) {
    if (OIDC_TOKEN_ROUTE.test(route)) oidcTokens += count;
    else if (!route.startsWith('GET /_services/token/')) rest[route] = count;
  }
  return {
    restCallsWhileWaiting: Object.values(rest).reduce((sum, count) => sum + count, 0),
    restRoutesWhileWaiting: rest,
    oidcTokensWhileWaiting: oidcTokens,
  };
}

/** Nearest rank: with 50 samples, p99 is the largest. */

function mean(values: number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

const ms = (value: number) => `${Math.round(value)} ms`;

function reports(f: ApprovalFigures): BenchReport[] {
  const perHour = (calls: number) => ((calls / f.waitingSteps / f.windowS) * 3600).toFixed(0);
  const routes = Object.entries(f.restRoutesWhileWaiting).map(([route, count]) => `${route} ×${count}`).join(', ');
  return [
    {
      title: 'approval latency: approving comment → Action process exit',
      columns: ['approach', 'flows', 'p50', 'p99', 'mean', 'max'],
      rows: [
        ['this Action (measured)', String(f.flows), ms(f.p50Ms), ms(f.p99Ms), ms(f.meanMs), ms(f.maxMs)],
        [`${POLL_INTERVAL_S} s polling (computed, added wait)`, '—', ms(POLL_INTERVAL_S * 500), ms(POLL_INTERVAL_S * 990), ms(POLL_INTERVAL_S * 500), ms(POLL_INTERVAL_S * 1000)],
      ],
      notes: [
        `Real App (own process, embedded PGlite store), GitHub double and the dist/ bundle as child processes, over loopback; ${ORGS.length} installations × ${FLOWS_PER_ORG} runs, each approved by a "/approve" comment while other steps wait and others start. Time runs from the control call that posts the comment (the double sends the webhook at once) to the step process's exit. Approvals are one at a time, each after the App answered the previous webhook (the double delivers in order; the App answers a vote's webhook only after its ~2 s of throttled writes). Nearest-rank percentiles${f.flows < 100 ? `: with ${f.flows} samples p99 is the largest` : ''}.`,
        `The polling row is computed, not run: a step polling GitHub every ${POLL_INTERVAL_S} s sees an approval at its next poll, uniformly 0–${POLL_INTERVAL_S} s later. That wait comes on top of its own processing.`,
      ],
    },
    {
      title: `GitHub API calls while ${f.waitingSteps} steps wait ${f.windowS} s`,
      columns: ['approach', 'REST calls in window', 'per waiting step per hour'],
      rows: [
        ['this Action (measured)', String(f.restCallsWhileWaiting), perHour(f.restCallsWhileWaiting)],
        [`${POLL_INTERVAL_S} s polling (computed)`, String(f.pollingCallsInWindow), String(3600 / POLL_INTERVAL_S)],
      ],
      notes: [
        `Measured: every REST request the double served in the window, by anyone (the App's included), so an upper bound on the Action's${routes ? `: ${routes}` : ''}. The steps long-poll the App instead (25 s per poll).`,
        `Not REST calls, so not counted above: ${f.oidcTokensWhileWaiting} OIDC token requests to the runner's token service in the window (one per long poll, as tokens live 5 minutes).`,
      ],
    },
  ];
}
