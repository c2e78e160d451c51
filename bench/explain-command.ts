/**
 * `mercurial-jit explain` as a one-shot command: a fresh `node bin/mercurial-jit.js explain …` process
 * per run, on the inputs of bench/explain.ts written to a temporary directory, its answer written to a
 * file there (as `> out.json` would). 1 warm-up run (it fills the page cache), then RUNS runs.
 *
 * Wall time is measured here around spawnSync. CPU time is the child's own user + system time (all its
 * threads, GC and compiler included) as the kernel reports it to its parent on exit (wait4's rusage),
 * read through GNU time (`/usr/bin/time -f`): Node gives no per-child resource usage, and
 * process.resourceUsage() is this process's. Without /usr/bin/time the CPU columns say n/a.
 *
 * BENCH_BASELINE=<another checkout, built>: the same runs from that tree too, alternating run by run
 * with this one (as bench/startup.ts does), and each tree's answer is checked to be byte for byte the same.
 *
 * BENCH_NODE=<node binary>[,<node binary>…]: the command runs with each of these Node binaries, again
 * alternating run by run, instead of the bench's own. The CLI needs Node 22 or later; a machine whose
 * `node` is older measures a supported one, side by side with its own, this way.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateMonorepo } from './generate.js';
import { generatePolicyYaml } from './generate-policy.js';
import { type BenchReport, percentile } from './report.js';

const RUNS = Number(process.env.BENCH_EXPLAIN_RUNS ?? 10);
const TARGET_MS = 400;
const HERE = resolve(fileURLToPath(import.meta.url), '..', '..');
const GNU_TIME = '/usr/bin/time';

interface Run {
  wallMs: number;
  cpuMs: number | undefined;
  userMs: number | undefined;
  systemMs: number | undefined;
}

interface Variant {
  label: string;
  root: string;
  node: string;
}

export async function measureExplainCommand(): Promise<BenchReport> {
  const trees = [{ label: 'this tree', root: HERE }];
  if (process.env.BENCH_BASELINE) trees.unshift({ label: 'baseline', root: resolve(process.env.BENCH_BASELINE) });
  for (const { root } of trees) {
    if (!existsSync(join(root, 'build/app/cli/main.js'))) throw new Error(`${root}/build/app/cli/main.js is missing: run 'npm run build' there`);
  }
  const nodes = (process.env.BENCH_NODE ?? '').split(',').filter((n) => n.trim() !== '').map((n) => resolve(n.trim()));
  const versions = (nodes.length > 0 ? nodes : [process.execPath]).map((node) => ({ node, version: nodeVersion(node) }));
  const variants: Variant[] = trees.flatMap((tree) =>
    versions.map(({ node, version }) => ({ label: versions.length > 1 ? `${tree.label}, Node ${version}` : tree.label, root: tree.root, node })),
  );
  const dir = mkdtempSync(join(tmpdir(), 'jit-explain-'));
  const withTime = existsSync(GNU_TIME);
  const results = new Map<string, Run[]>();
  try {
    const monorepo = generateMonorepo({ rules: 5000, paths: 10000 });
    writeFileSync(join(dir, 'policy.yml'), generatePolicyYaml(monorepo, 500));
    writeFileSync(join(dir, 'CODEOWNERS'), monorepo.codeowners);
    writeFileSync(join(dir, 'paths.txt'), monorepo.paths.join('\n'));
    const args = (format: string) => [
      'explain', '--policy', 'policy.yml', '--codeowners', 'CODEOWNERS', '--files-from', 'paths.txt',
      '--action', 'deploy', '--environment', 'production', '--branch', 'main', '--severity', 'critical', '--event', 'push',
      // A fixed instant: answers from both trees must agree byte for byte.
      '--at', '2026-12-02T12:00:00Z', '--format', format,
    ];
    for (const format of ['json', 'text']) {
      const answers = new Map<string, Buffer>();
      for (let run = 0; run <= RUNS; run++) {
        for (const [index, { label, root, node }] of variants.entries()) {
          const out = join(dir, `out-${format}-${index}`);
          const measured = runOnce(node, root, dir, args(format), out, withTime);
          if (run === 0) {
            answers.set(label, readFileSync(out));
            continue; // the warm-up
          }
          results.set(`${label}|${format}`, [...(results.get(`${label}|${format}`) ?? []), measured]);
        }
      }
      const [first, ...others] = [...answers.values()];
      if (others.some((answer) => !answer.equals(first))) throw new Error(`the --format ${format} answers of ${variants.map((v) => v.label).join(', ')} differ`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const rows: string[][] = [];
  for (const [key, runs] of results) {
    const [label, format] = key.split('|');
    const wall = runs.map((r) => r.wallMs).sort((a, b) => a - b);
    const cpu = runs.flatMap((r) => (r.cpuMs === undefined ? [] : [r.cpuMs])).sort((a, b) => a - b);
    const user = runs.flatMap((r) => (r.userMs === undefined ? [] : [r.userMs])).sort((a, b) => a - b);
    const system = runs.flatMap((r) => (r.systemMs === undefined ? [] : [r.systemMs])).sort((a, b) => a - b);
    const cpuCell = (sorted: number[], p: number) => (sorted.length > 0 ? fmt(percentile(sorted, p)) : 'n/a');
    rows.push([label, format, fmt(percentile(wall, 50)), fmt(percentile(wall, 90)), `${fmt(wall[0])} to ${fmt(wall.at(-1)!)}`, cpuCell(cpu, 50), cpuCell(cpu, 90), cpuCell(user, 50), cpuCell(system, 50), String(TARGET_MS)]);
  }
  return {
    title: `explain as a one-shot command: node bin/mercurial-jit.js explain (500 rules, 5,000 CODEOWNERS rules, 10,000 paths; ${RUNS} runs each; Node ${versions.map((v) => v.version).join(' and ')})`,
    columns: ['tree', 'format', 'wall p50 ms', 'wall p90 ms', 'range', 'CPU p50 ms', 'CPU p90 ms', 'user p50', 'system p50', 'target ms'],
    rows,
    notes: [
      'Wall: spawnSync of the command to its exit, answer written to a file; CPU: the child\'s user + system time from wait4 (GNU time), all threads, 10 ms resolution.',
      `After 1 warm-up run per tree and format (not counted); ${trees.length > 1 ? `baseline: ${trees[0].root}, alternating run by run with this tree; answers byte for byte the same` : 'BENCH_BASELINE=<built checkout> compares another tree side by side'}.`,
      versions.length > 1 ? `Each Node in turn, run by run: ${versions.map((v) => `${v.version} (${v.node})`).join(', ')}.` : 'BENCH_NODE=<node>,<node> runs the command with other Node binaries side by side.',
    ],
  };
}

function runOnce(node: string, root: string, cwd: string, args: string[], outFile: string, withTime: boolean): Run {
  const timeFile = join(cwd, 'time.txt');
  const command = [join(root, 'bin/mercurial-jit.js'), ...args];
  const out = openSync(outFile, 'w');
  let child;
  const began = performance.now();
  try {
    child = withTime
      ? spawnSync(GNU_TIME, ['-o', timeFile, '-f', '%U %S', node, ...command], { cwd, stdio: ['ignore', out, 'pipe'] })
      : spawnSync(node, command, { cwd, stdio: ['ignore', out, 'pipe'] });
  } finally {
    closeSync(out);
  }
  const wallMs = performance.now() - began;
  if (child.status !== 0) throw new Error(`explain from ${root} on ${node} exited ${child.status ?? child.signal}:\n${child.stderr?.toString()}`);
  if (!withTime) return { wallMs, cpuMs: undefined, userMs: undefined, systemMs: undefined };
  const [user, system] = readFileSync(timeFile, 'utf8').trim().split('\n').at(-1)!.split(' ').map((s) => Number(s) * 1000);
  return { wallMs, cpuMs: user + system, userMs: user, systemMs: system };
}

function nodeVersion(node: string): string {
  const answer = spawnSync(node, ['--version'], { encoding: 'utf8' });
  if (answer.status !== 0) throw new Error(`${node} does not run: ${answer.error?.message ?? answer.stderr}`);
  return answer.stdout.trim().replace(/^v/, '');
}

function fmt(value: number): string {
  return Math.round(value).toLocaleString('en');
}
