/**
 * A vote in the store on PostgreSQL (a server of the bench's own), without the App around it: the CPU
 * the store and its driver spend per vote in this process, and votes a second, for a vote that leaves
 * its request waiting (the first of two approvals) and for the vote that decides it. The App's other
 * costs per vote (HTTP, GitHub look-ups, the page) are in the scale bench.
 *
 * BENCH_BASELINE=<another checkout>: its store (the TypeScript sources, run here by tsx) is measured
 * too, alternating round by round with this tree's, so the two are compared on the same machine load.
 * BENCH_VOTE_REQUESTS (400), BENCH_VOTE_CONCURRENCY (50), BENCH_VOTE_ROUNDS (4).
 */
import { randomInt } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { Store } from '../app/store/store.js';
import { PrivatePostgres } from '../test/chaos/private-postgres.js';
import { newRequest, quorum } from '../test/store/new-request.js';
import { type BenchReport, percentile } from './report.js';

const HERE = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const REQUESTS = Number(process.env.BENCH_VOTE_REQUESTS ?? 400);
const CONCURRENCY = Number(process.env.BENCH_VOTE_CONCURRENCY ?? 50);
const ROUNDS = Number(process.env.BENCH_VOTE_ROUNDS ?? 4);

type OpenStore = (options: { databaseUrl: string; schema: string }) => Promise<Store>;
interface Round { cpuMs: number; perSecond: number }

export async function measureVotes(): Promise<BenchReport> {
  const trees = [{ label: 'this tree', root: HERE }];
  if (process.env.BENCH_BASELINE) trees.unshift({ label: 'baseline', root: resolve(process.env.BENCH_BASELINE) });
  for (const { root } of trees) {
    if (!existsSync(join(root, 'app/store/index.ts'))) throw new Error(`${root}/app/store/index.ts is missing: BENCH_BASELINE names a checkout of this project`);
  }
  const postgres = await PrivatePostgres.start();
  const results = new Map<string, Round[]>();
  const record = (key: string, round: Round) => results.set(key, [...(results.get(key) ?? []), round]);
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const { label, root } of trees) {
        const { openStore } = (await import(join(root, 'app/store/index.ts'))) as { openStore: OpenStore };
        const schema = `bench_votes_${randomInt(1e9)}`;
        const store = await openStore({ databaseUrl: postgres.url, schema });
        try {
          const ids = await openRequests(store);
          record(`${label}\0waiting`, await castAll(store, ids, 'carol', 'pending'));
          record(`${label}\0deciding`, await castAll(store, ids, 'dave', 'approved'));
        } finally {
          await store.close();
          await dropSchema(postgres.url, schema);
        }
      }
    }
  } finally {
    await postgres.stop();
  }
  const rows = [...results].map(([key, rounds]) => {
    const [label, kind] = key.split('\0') as [string, string];
    const cpu = rounds.map((r) => r.cpuMs).sort((a, b) => a - b);
    const rate = rounds.map((r) => r.perSecond).sort((a, b) => a - b);
    return [label, kind === 'waiting' ? 'first of two approvals' : 'deciding vote', percentile(cpu, 50).toFixed(2), cpu.map((c) => c.toFixed(2)).join(', '), String(Math.round(percentile(rate, 50)))];
  });
  return {
    title: `A vote in the store on PostgreSQL: ${REQUESTS} requests, ${CONCURRENCY} votes at a time`,
    columns: ['tree', 'vote', 'CPU ms per vote, p50', 'each round', 'votes/s, p50'],
    rows,
    notes: [
      `CPU: this process's (the store and the pg driver; PostgreSQL's own is not counted), per vote, over ${ROUNDS} rounds${trees.length > 1 ? ', the trees alternating' : ''}; the first round includes warming up.`,
      'Each round opens its requests (with a deadline, so a deciding vote drops a timer) in a fresh schema, then casts the first of two approvals on each, then the second.',
    ],
  };
}

async function openRequests(store: Store): Promise<string[]> {
  const ids: string[] = [];
  const repositoryId = String(randomInt(1, 2 ** 40));
  for (let i = 0; i < REQUESTS; i += 20) {
    const made = await Promise.all(
      Array.from({ length: Math.min(20, REQUESTS - i) }, () => store.createRequest(newRequest({ repositoryId, deadline: new Date(Date.now() + 3_600_000) }))),
    );
    ids.push(...made.map((m) => m.request.id));
  }
  return ids;
}

async function castAll(store: Store, ids: readonly string[], login: string, expected: 'pending' | 'approved'): Promise<Round> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < ids.length) {
        const id = ids[next++]!;
        const result = await store.castVote({ requestId: id, login, choice: 'approve', via: 'dashboard', facts: { voter: { login } }, tally: quorum(2) });
        const status = result.outcome === 'recorded' ? result.request.status : result.outcome;
        if (status !== expected) throw new Error(`${login}'s vote on ${id}: ${status}, expected ${expected}`);
      }
    }),
  );
  const used = process.cpuUsage(cpu);
  return { cpuMs: (used.user + used.system) / 1000 / ids.length, perSecond: ids.length / ((performance.now() - started) / 1000) };
}

async function dropSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}
