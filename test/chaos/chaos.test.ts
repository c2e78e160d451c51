/**
 * A short chaos run inside `npm test` (`npm run chaos` runs 100 flows): four flows, with the App killed
 * with SIGKILL and PostgreSQL restarted while they wait, a fifth of GitHub's answers 502, and webhooks
 * dropped, duplicated and reordered. Each flow must still end once, as decided, and show once on GitHub.
 */
import { expect, it } from '@jest/globals';
import { formatChaosReport, runChaos } from './chaos.js';

it('every flow ends with exactly one decision through crashes, a database restart, GitHub faults and lost webhooks', async () => {
  const report = await runChaos({ flows: 4, seed: 2026, postgresEvery: 1 });
  process.stdout.write(`${formatChaosReport(report)}\n`);
  expect(report.problems).toEqual([]);
  expect(report).toMatchObject({ flows: 4 });
  expect(report.appKills).toBeGreaterThanOrEqual(1);
  expect(report.postgresRestarts).toBe(1);
}, 600_000);
