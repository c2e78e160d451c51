/**
 * `npm run bench`: runs each measurement in a fresh process of its own and prints its table. A fresh
 * process per measurement keeps one from paying for another's heap (the codeowners npm package leaves
 * hundreds of MB of garbage behind); comparisons within a measurement still run side by side.
 * `npm run bench -- NAME` runs one measurement in this process.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { formatReport, type BenchReport } from './report.js';

const measurements: Record<string, () => Promise<BenchReport | BenchReport[]>> = {
  owners: async () => (await import('./owners.js')).measureOwners(),
  explain: async () => [await (await import('./explain.js')).measureExplain(), await (await import('./explain-command.js')).measureExplainCommand()],
  globs: async () => (await import('./globs.js')).measureGlobs(),
  approval: async () => (await import('./approval.js')).measureApproval(),
  webhooks: async () => (await import('./webhooks.js')).measureWebhooks(),
  deliveries: async () => (await import('./deliveries.js')).measureDeliveries(),
  startup: async () => (await import('./startup.js')).measureStartup(),
  calls: async () => (await import('./calls.js')).measureCalls(),
  burst: async () => (await import('./burst.js')).measureBurst(),
  scale: async () => (await import('./scale.js')).measureScale(),
  votes: async () => (await import('./votes.js')).measureVotes(),
  housekeeping: async () => (await import('./housekeeping.js')).measureHousekeeping(),
};

const [name] = process.argv.slice(2);
if (name === undefined) {
  for (const each of Object.keys(measurements)) {
    const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), each], { stdio: 'inherit' });
    if (child.status !== 0) {
      process.stderr.write(`bench: ${each} failed (exit ${child.status ?? child.signal})\n`);
      process.exitCode = 1;
    }
  }
} else {
  const measure = measurements[name];
  if (!measure) {
    process.stderr.write(`bench: unknown measurement "${name}"; one of ${Object.keys(measurements).join(', ')}\n`);
    process.exit(2);
  }
  for (const report of [await measure()].flat()) process.stdout.write(`${formatReport(report)}\n`);
}
