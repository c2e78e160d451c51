/**
 * A full `explain` in-process: load a generated 500-rule policy from YAML, parse the generated
 * 5,000-rule CODEOWNERS (the owners benchmark's input), and evaluate 10,000 changed paths.
 */
import { parseCodeowners } from '../policies/codeowners.js';
import { evaluate } from '../policies/evaluate.js';
import { formatDiagnostic, loadPolicy } from '../policies/loader.js';
import type { RequestFacts } from '../policies/types.js';
import { generateMonorepo } from './generate.js';
import { generatePolicyYaml } from './generate-policy.js';
import type { BenchReport } from './report.js';

const RUNS = 10;
const TARGET_MS = 250;

export interface ExplainFigures {
  loadMs: number;
  parseCodeownersMs: number;
  evaluateMs: number;
  /** CPU time of each phase: steadier than wall time when other work shares the machine. */
  loadCpuMs: number;
  parseCodeownersCpuMs: number;
  evaluateCpuMs: number;
  /** The three together, median of RUNS runs after one warm-up. */
  totalMs: number;
  /** CPU time of the same runs (median): steadier than wall time on a machine shared with other work. */
  totalCpuMs: number;
  /** The first run, before the JIT has warmed up: what a one-shot CLI call pays. */
  coldMs: number;
  matchedRules: number;
  requirements: number;
}

export interface ExplainReport extends BenchReport {
  figures: ExplainFigures;
}

function cpuMs(from: NodeJS.CpuUsage, to: NodeJS.CpuUsage): number {
  return (to.user - from.user + to.system - from.system) / 1000;
}

export async function measureExplain(): Promise<ExplainReport> {
  const monorepo = generateMonorepo({ rules: 5000, paths: 10000 });
  const policyYaml = generatePolicyYaml(monorepo, 500);
  const facts: RequestFacts = {
    action: 'deploy',
    environment: 'production',
    branch: 'main',
    targetBranch: 'main',
    severity: 'critical',
    event: 'push',
    actor: 'requester',
    changedFiles: monorepo.paths,
  };

  const runs: ExplainFigures[] = [];
  for (let run = 0; run <= RUNS; run++) {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const loaded = loadPolicy(policyYaml, '.github/jit-approval.yml');
    const t1 = performance.now();
    const cpu1 = process.cpuUsage();
    if (!loaded.ok) throw new Error(`the generated policy is invalid:\n${loaded.diagnostics.map(formatDiagnostic).join('\n')}`);
    const codeowners = parseCodeowners(monorepo.codeowners, '.github/CODEOWNERS');
    const t2 = performance.now();
    const cpu2 = process.cpuUsage();
    const decision = evaluate(loaded.policy, facts, { codeowners });
    const t3 = performance.now();
    const cpu3 = process.cpuUsage();
    if (loaded.policy.rules.length !== 500 || codeowners.rules.length !== 5000) throw new Error('the generated inputs have the wrong size');
    runs.push({
      loadMs: t1 - t0,
      parseCodeownersMs: t2 - t1,
      evaluateMs: t3 - t2,
      loadCpuMs: cpuMs(cpu0, cpu1),
      parseCodeownersCpuMs: cpuMs(cpu1, cpu2),
      evaluateCpuMs: cpuMs(cpu2, cpu3),
      totalMs: t3 - t0,
      totalCpuMs: cpuMs(cpu0, cpu3),
      coldMs: 0,
      matchedRules: decision.rules.filter((r) => r.matched).length,
      requirements: decision.requirements.length,
    });
  }
  const [cold, ...warm] = runs;
  const median = (pick: (f: ExplainFigures) => number) => warm.map(pick).sort((a, b) => a - b)[Math.floor(warm.length / 2)];
  const figures: ExplainFigures = {
    loadMs: median((f) => f.loadMs),
    parseCodeownersMs: median((f) => f.parseCodeownersMs),
    evaluateMs: median((f) => f.evaluateMs),
    loadCpuMs: median((f) => f.loadCpuMs),
    parseCodeownersCpuMs: median((f) => f.parseCodeownersCpuMs),
    evaluateCpuMs: median((f) => f.evaluateCpuMs),
    totalMs: median((f) => f.totalMs),
    totalCpuMs: median((f) => f.totalCpuMs),
    coldMs: cold.totalMs,
    matchedRules: cold.matchedRules,
    requirements: cold.requirements,
  };
  const ms = (n: number) => n.toFixed(1);
  return {
    title: 'explain: 500-rule policy, 5,000-rule CODEOWNERS, 10,000 changed paths (in-process)',
    columns: ['', 'load policy ms', 'parse CODEOWNERS ms', 'evaluate ms', 'total ms', 'first run ms', 'target ms', 'matched rules', 'requirements'],
    rows: [
      ['wall', ms(figures.loadMs), ms(figures.parseCodeownersMs), ms(figures.evaluateMs), ms(figures.totalMs), ms(figures.coldMs), String(TARGET_MS), String(figures.matchedRules), String(figures.requirements)],
      ['CPU', ms(figures.loadCpuMs), ms(figures.parseCodeownersCpuMs), ms(figures.evaluateCpuMs), ms(figures.totalCpuMs), '', '', '', ''],
    ],
    notes: [
      `Each column is the median of ${RUNS} runs after a first run, shown separately (wall) because it includes JIT warm-up.`,
      'CPU time is the whole process\'s (process.cpuUsage), so it includes V8\'s garbage-collection and compiler threads: it can exceed wall time.',
      'Facts: action deploy, environment production, branch and target main, severity critical, event push; every path changed.',
    ],
    figures,
  };
}
