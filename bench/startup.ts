/**
 * How long the built App takes from `node build/app/server.js` to its first 200 on `/healthz`, and how
 * much memory it then holds idle: RUNS starts on a fresh embedded store (a new data directory each time),
 * then RUNS on a PostgreSQL server of the bench's own (the first of those applies the migrations). The App
 * talks to a GitHub double (its one installation is listed by the reconciler at start), as in production.
 *
 * BENCH_BASELINE=<another checkout, built>: the same starts from that tree too, alternating with this one,
 * so that a change is measured side by side on the same (shared, noisy) machine.
 * BENCH_PROFILE_DIR: each start's CPU profile is written there.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { PrivatePostgres } from '../test/chaos/private-postgres.js';
import { freePort } from '../test/free-port.js';
import { processCpuMs, processMemoryMb } from '../test/process-usage.js';
import { startGitHubDouble } from '../test/github-double/index.js';
import { generateAppKeyPair } from '../test/github-double/keys.js';
import type { BenchReport } from './report.js';
import { appProfileArgs } from './profile.js';

const RUNS = Number(process.env.BENCH_STARTS ?? 5);
/** How long the App sits idle after answering `/healthz` before its memory is read. */
const IDLE_MS = Number(process.env.BENCH_IDLE_MS ?? 10_000);
const APP_ID = 4242;
const HERE = resolve(fileURLToPath(import.meta.url), '..', '..');

interface Start {
  healthyMs: number;
  /** CPU time (user + system, all threads) the process had used when it first answered: less moved by a busy machine than wall time. */
  healthyCpuMs: number;
  idleRssMb: number;
  peakRssMb: number;
}

export async function measureStartup(): Promise<BenchReport> {
  const trees = [{ label: 'this tree', root: HERE }];
  if (process.env.BENCH_BASELINE) trees.unshift({ label: 'baseline', root: resolve(process.env.BENCH_BASELINE) });
  for (const { root } of trees) {
    if (!existsSync(join(root, 'build/app/server.js'))) throw new Error(`${root}/build/app/server.js is missing: run 'npm run build' there`);
  }
  const keys = generateAppKeyPair();
  const github = await startGitHubDouble({
    seed: {
      apps: [{ id: APP_ID, slug: 'mercurial-jit', name: 'Mercurial JIT', publicKey: keys.publicKey }],
      installations: [{ appId: APP_ID, account: 'acme' }],
    },
  });
  const postgres = await PrivatePostgres.start();
  const results = new Map<string, Start[]>();
  const record = (key: string, start: Start) => results.set(key, [...(results.get(key) ?? []), start]);
  try {
    const env = { APP_ID: String(APP_ID), PRIVATE_KEY: keys.privateKey, WEBHOOK_SECRET: 'bench-secret', GHE_HOST: github.host, GHE_PROTOCOL: 'http', OIDC_ISSUER: github.oidcIssuer, LOG_LEVEL: 'warn' };
    for (let run = 0; run < RUNS; run++) {
      for (const { label, root } of trees) {
        const dataDir = mkdtempSync(join(tmpdir(), 'jit-startup-'));
        try {
          record(`${label}|PGlite`, await startOnce(root, { ...env, DATA_DIR: join(dataDir, 'store') }));
        } finally {
          rmSync(dataDir, { recursive: true, force: true });
        }
      }
    }
    for (let run = 0; run < RUNS; run++) {
      for (const { label, root } of trees) record(`${label}|PostgreSQL`, await startOnce(root, { ...env, DATABASE_URL: postgres.url }));
    }
  } finally {
    await postgres.stop();
    await github.close();
  }
  const rows: string[][] = [];
  for (const [key, starts] of results) {
    const [label, store] = key.split('|');
    const healthy = starts.map((s) => s.healthyMs).sort((a, b) => a - b);
    const cpu = starts.map((s) => s.healthyCpuMs).sort((a, b) => a - b);
    const idle = starts.map((s) => s.idleRssMb).sort((a, b) => a - b);
    const peak = starts.map((s) => s.peakRssMb).sort((a, b) => a - b);
    rows.push([label, store, fmt(median(healthy)), `${fmt(healthy[0])} to ${fmt(healthy.at(-1)!)}`, fmt(median(cpu)), fmt(median(idle)), `${fmt(idle[0])} to ${fmt(idle.at(-1)!)}`, fmt(median(peak))]);
  }
  return {
    title: `App start to a healthy /healthz, and idle memory (${RUNS} starts each)`,
    columns: ['tree', 'store', 'healthy p50 ms', 'range', 'CPU ms to healthy, p50', `RSS after ${IDLE_MS / 1000} s idle, p50 MB`, 'range', 'peak RSS p50 MB'],
    rows,
    notes: [
      'Each PGlite start has a new, empty data directory. The PostgreSQL starts share one fresh server: the first applies the migrations.',
      'Time from spawning `node build/app/server.js` to the first 200 on /healthz (polled every 20 ms); RSS and peak are VmRSS and VmHWM from /proc.',
      ...(trees.length > 1 ? [`baseline: ${trees[0].root}, alternating start by start with this tree`] : []),
    ],
  };
}

async function startOnce(root: string, env: Record<string, string>): Promise<Start> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const began = performance.now();
  const app = spawn(process.execPath, [...appProfileArgs(), join(root, 'build/app/server.js')], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', ...env, PORT: String(port), HOST: '127.0.0.1', APP_URL: url },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  app.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-5_000)));
  const exited = new Promise((resolveExit) => app.once('exit', resolveExit));
  try {
    const healthyMs = await untilHealthy(url, began, () => app.exitCode !== null, () => stderr);
    const healthyCpuMs = processCpuMs(app.pid!);
    await sleep(IDLE_MS);
    const { rssMb, hwmMb } = processMemoryMb(app.pid!);
    return { healthyMs, healthyCpuMs, idleRssMb: rssMb, peakRssMb: hwmMb };
  } finally {
    app.kill('SIGTERM');
    await exited;
  }
}

async function untilHealthy(url: string, began: number, gone: () => boolean, log: () => string): Promise<number> {
  while (performance.now() - began < 120_000) {
    if (gone()) throw new Error(`the App exited at start:\n${log()}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) return performance.now() - began;
    } catch {
      // not listening yet
    }
    await sleep(20);
  }
  throw new Error(`the App did not answer ${url}/healthz within 120 s:\n${log()}`);
}

function median(sorted: number[]): number {
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function fmt(value: number): string {
  return Math.round(value).toLocaleString('en');
}
