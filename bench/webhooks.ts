/**
 * How fast the App answers a webhook while votes pour in: VOTES_PER_SECOND `issue_comment` deliveries a second
 * for SECONDS, spread over ORGS installations, on the demo's stage (the App in its own process with the
 * embedded store; the GitHub double delivers each webhook at once and concurrently, as GitHub does).
 *
 * Each request gets REFUSED_PER_REQUEST votes the policy refuses (the author's own, people who own nothing
 * the deploy changes), each of which the App must answer with a reply, then the approving vote. The App answers
 * every delivery once the vote is committed and leaves GitHub's writes to its outbox; the answer time is what
 * GitHub's hookshot measures (its timeout is 10 s). Beside it: how long the outbox takes to show every decision
 * on GitHub afterwards, paced per installation as GitHub asks (a comment every 3 s, other writes every 1 s).
 */
import { PrivatePostgres } from '../test/chaos/private-postgres.js';
import { Stage, until } from '../test/demo/stage.js';
import type { BenchReport } from './report.js';
import { appProfileArgs } from './profile.js';

const ORGS = ['acme', 'globex', 'initech', 'umbrella', 'hooli'];
const VOTES_PER_SECOND = Number(process.env.BENCH_VOTES_PER_SECOND ?? 50);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const REFUSED_PER_REQUEST = 9;
const REFUSING = ['alice', 'bob', 'dave'];
const DRAIN = process.env.BENCH_DRAIN !== '0';

interface Target {
  repository: string;
  requestId: string;
  issueNumber: number;
}

interface Figures {
  delivered: number;
  offeredRate: number;
  p50: number;
  p99: number;
  max: number;
  statuses: string;
  drainedS: number | undefined;
  cpuMsPerVote: number;
  requests: number;
}

/** The same load on each store the App can run on: the embedded one and a PostgreSQL server. */
export async function measureWebhooks(): Promise<BenchReport> {
  const embedded = await measureOn(undefined);
  const postgres = await PrivatePostgres.start();
  let server: Figures;
  try {
    server = await measureOn(postgres.url);
  } finally {
    await postgres.stop();
  }
  const both = (value: (f: Figures) => string) => [value(embedded), value(server)];
  return {
    title: `Webhook answers under ${VOTES_PER_SECOND} votes a second across ${ORGS.length} installations`,
    columns: ['measure', 'embedded store', 'PostgreSQL'],
    rows: [
      ['votes delivered', ...both((f) => String(f.delivered))],
      ['offered rate (votes/s)', ...both((f) => f.offeredRate.toFixed(1))],
      ['answer p50 (ms)', ...both((f) => f.p50.toFixed(1))],
      ['answer p99 (ms)', ...both((f) => f.p99.toFixed(1))],
      ['answer max (ms)', ...both((f) => f.max.toFixed(1))],
      ['answers by status (0: none in 10 s)', ...both((f) => f.statuses)],
      ["App's CPU time per vote (ms)", ...both((f) => f.cpuMsPerVote.toFixed(1))],
      ['every decision shown on GitHub after (s)', ...both((f) => f.drainedS?.toFixed(1) ?? 'not waited for')],
    ],
    notes: [
      `${embedded.requests} requests, each with ${REFUSED_PER_REQUEST} refused votes (each answered by a reply) and one approving vote.`,
      "Answer time is the double's measure of each delivery's HTTP exchange, as GitHub's hookshot times it; GitHub gives up after 10 s.",
      "Publishing (replies, check runs, closing issues) runs from the outbox, paced per installation as GitHub asks (Octokit's throttling: a comment or issue every 3 s, other writes every 1 s).",
      "CPU time is the App process's own (user and system) while the votes arrive and until every one is answered, divided by the votes.",
      "BENCH_VOTES_PER_SECOND and BENCH_SECONDS change the load; BENCH_DRAIN=0 skips waiting for GitHub to show every decision; BENCH_PROFILE_DIR saves the App's CPU profile.",
    ],
  };
}

async function measureOn(databaseUrl: string | undefined): Promise<Figures> {
  const stage = await Stage.start({ orgs: ORGS, databaseUrl, nodeArgs: appProfileArgs() });
  try {
    const votesPerRequest = REFUSED_PER_REQUEST + 1;
    const requestsPerOrg = Math.ceil((VOTES_PER_SECOND * SECONDS) / votesPerRequest / ORGS.length);
    const targets = (await Promise.all(ORGS.map(async (org) => {
      const repository = `${org}/payments`;
      const ids: string[] = [];
      for (let i = 0; i < requestsPerOrg; i++) ids.push(await stage.openRequest(repository));
      return Promise.all(ids.map(async (requestId) => ({ repository, requestId, issueNumber: (await stage.approvalIssueOf(requestId, repository, 300_000)).number })));
    }))).flat();
    await stage.control.deliveriesIdle();
    await stage.control.setDeliveryMode({ mode: 'concurrent', max_jitter_ms: 0 });
    const firstSeq = Math.max(0, ...(await stage.control.deliveries()).map((d) => d.seq));

    // Votes interleave across requests and installations: the k-th vote of every request, then the next.
    const votes: Array<{ target: Target; user: string; body: string }> = [];
    for (let k = 0; k < votesPerRequest; k++) {
      for (const target of targets) {
        votes.push(k < REFUSED_PER_REQUEST
          ? { target, user: REFUSING[k % REFUSING.length], body: '/approve' }
          : { target, user: 'carol', body: '/approve' });
      }
    }
    const cpuBefore = stage.appCpuMs();
    const started = performance.now();
    const posting: Array<Promise<unknown>> = [];
    for (const [i, vote] of votes.entries()) {
      const due = started + (i * 1000) / VOTES_PER_SECOND;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      posting.push(stage.comment(vote.target.issueNumber, vote.user, vote.body, vote.target.repository));
    }
    await Promise.all(posting);
    const postedS = (performance.now() - started) / 1000;
    await stage.control.deliveriesIdle();
    const cpuMsPerVote = (stage.appCpuMs() - cpuBefore) / votes.length;
    const answers = (await stage.control.deliveries({ event: 'issue_comment', after: firstSeq }))
      .filter((d) => (d.payload as { action?: string; sender?: { login?: string } }).action === 'created' && !(d.payload as { sender: { login: string } }).sender.login.endsWith('[bot]'));
    let drainedS: number | undefined;
    if (DRAIN) {
      await until('GitHub to show every decision', async () => {
        for (const org of ORGS) {
          const issues = (await stage.control.issues(`${org}/payments`)) as unknown as Array<{ number: number; state: string }>;
          if (targets.some((t) => t.repository === `${org}/payments` && issues.find((i) => i.number === t.issueNumber)?.state !== 'closed')) return false;
        }
        return true;
      }, 600_000);
      drainedS = (performance.now() - started) / 1000;
    }

    const statuses = new Map<number, number>();
    for (const d of answers) statuses.set(d.status ?? 0, (statuses.get(d.status ?? 0) ?? 0) + 1);
    const durations = answers.map((d) => d.duration_ms ?? Number.POSITIVE_INFINITY).sort((a, b) => a - b);
    const at = (p: number) => durations[Math.min(durations.length - 1, Math.ceil((p / 100) * durations.length) - 1)];
    return {
      delivered: answers.length, offeredRate: answers.length / postedS, p50: at(50), p99: at(99), max: durations[durations.length - 1],
      statuses: [...statuses].map(([status, n]) => `${status}×${n}`).join(' '), drainedS, cpuMsPerVote, requests: targets.length,
    };
  } finally {
    await stage.stop();
  }
}
