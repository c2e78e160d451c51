/**
 * GitHub REST calls per approval flow, App side, as the GitHub double counts them per route: FLOWS flows
 * in one installation, one after another, each a new commit on the default branch (as each deploy of a
 * change is), its step opening a request, carol approving it with `/approve`, and the App publishing the
 * decision from its outbox. The counts are read once the App has been quiet for QUIET_MS (its writes are
 * paced a second apart, so a publication is done well within that). The runner's OIDC token service is
 * not a REST API and is left out; the Action calls no GitHub route while the App answers it.
 * Then SAME_COMMIT requests are opened at once on one new commit: the policy and CODEOWNERS are read
 * once for all of them.
 */
import { killRunningSteps } from '../test/action/action-process.js';
import { Stage } from '../test/demo/stage.js';
import type { BenchReport } from './report.js';

const FLOWS = Number(process.env.BENCH_FLOWS ?? 5);
const SAME_COMMIT = Number(process.env.BENCH_SAME_COMMIT ?? 5);
const QUIET_MS = 4_000;
const CONTENTS = 'GET /repos/{owner}/{repo}/contents/{path}';
const HEAD = 'GET /repos/{owner}/{repo}/commits';
const REPOSITORY = 'acme/payments';

export async function measureCalls(): Promise<BenchReport> {
  const stage = await Stage.start();
  const perFlow: Record<string, number>[] = [];
  let sameCommit: Record<string, number> = {};
  try {
    for (let flow = 0; flow < FLOWS; flow++) {
      await settle(stage);
      await stage.control.resetRequestCounts();
      await stage.pushChange(REPOSITORY, `replicas = ${10 + flow}\n`);
      const step = await stage.startDeploy({ timeout: '10m' }, REPOSITORY);
      const requestId = await stage.requestIdOf(step, 60_000);
      const issue = await stage.approvalIssueOf(requestId, REPOSITORY, 60_000);
      await stage.comment(issue.number, 'carol', '/approve', REPOSITORY);
      const result = await step.running.result;
      if (result.outputs.decision !== 'approved') throw new Error(`flow ${flow}: expected approved, got ${JSON.stringify(result.outputs)}\n${result.stdout}`);
      perFlow.push(await settle(stage));
    }
    await stage.control.resetRequestCounts();
    await stage.pushChange(REPOSITORY, 'replicas = 99\n');
    await Promise.all(Array.from({ length: SAME_COMMIT }, (_, i) => stage.openRequest(REPOSITORY, { action: `migrate-${i}`, environment: 'production' })));
    sameCommit = await settle(stage);
  } finally {
    killRunningSteps();
    await stage.stop();
  }
  const routes = [...new Set(perFlow.flatMap((counts) => Object.keys(counts)))].sort();
  const total = (counts: Record<string, number>) => Object.values(counts).reduce((sum, n) => sum + n, 0);
  const later = perFlow.slice(1);
  const meanLater = (route: string) => (later.length ? later.reduce((sum, counts) => sum + (counts[route] ?? 0), 0) / later.length : NaN);
  return {
    title: `GitHub REST calls per approval flow, App side (${FLOWS} flows in one installation)`,
    columns: ['route', 'first flow', `later flows, mean of ${later.length}`],
    rows: [
      ...routes.map((route) => [route, String(perFlow[0][route] ?? 0), meanLater(route).toFixed(1)]),
      ['total', String(total(perFlow[0])), (later.reduce((sum, counts) => sum + total(counts), 0) / later.length).toFixed(1)],
    ],
    notes: [
      'The first flow also pays what the App caches (its installation token, the installation of the repository, its bot login).',
      'Each flow deploys a new commit of the default branch, so the policy and CODEOWNERS are read at a commit not seen before.',
      `${SAME_COMMIT} requests opened at once on one new commit: ${sameCommit[HEAD] ?? 0} reads of the default branch's head, ${sameCommit[CONTENTS] ?? 0} file reads (policy and CODEOWNERS, read once for the commit).`,
    ],
  };
}

/** Waits until the double has counted no new request for QUIET_MS, and answers the counts (REST routes only). */
async function settle(stage: Stage): Promise<Record<string, number>> {
  await stage.control.deliveriesIdle();
  let last = JSON.stringify(await stage.control.requestCounts());
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, QUIET_MS));
    const now = await stage.control.requestCounts();
    if (JSON.stringify(now) === last) return Object.fromEntries(Object.entries(now).filter(([route]) => !route.includes('/_services/token/')));
    last = JSON.stringify(now);
  }
}
