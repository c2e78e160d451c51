/**
 * `npm run chaos`: whole approval flows under crashes, database restarts, GitHub faults and lost,
 * duplicated and reordered webhooks (see chaos.ts). `CHAOS_FLOWS` (default 100) and `CHAOS_SEED` set the run;
 * the same seed replays the same plans, faults and delivery losses (crash moments still vary with timing).
 */
import { formatChaosReport, runChaos } from './chaos.js';

const flows = Number(process.env.CHAOS_FLOWS ?? 100);
const seed = Number(process.env.CHAOS_SEED ?? Date.now() % 100_000);
process.stdout.write(`chaos: ${flows} flows, seed ${seed} (CHAOS_SEED=${seed} replays it)\n`);
const report = await runChaos({ flows, seed, postgresEvery: 5, log: (line) => process.stdout.write(`${line}\n`) });
process.stdout.write(`${formatChaosReport(report)}\n`);
process.exitCode = report.problems.length === 0 ? 0 : 1;
