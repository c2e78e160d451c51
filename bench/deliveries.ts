/**
 * Webhook throughput for what most deliveries are: comments that are not commands. The App (its own
 * process, embedded store, on the demo's stage) and a Probot app that does nothing (bench/noop-probot.ts)
 * are each sent signed `issue_comment.created` deliveries with unique delivery ids from CONNECTIONS
 * connections for SECONDS, taking turns, ROUNDS times; the figure is the App's rate over the no-op's.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { freePort } from '../test/free-port.js';
import { generateAppKeyPair } from '../test/github-double/index.js';
import { APP_ID, Stage, until, WEBHOOK_SECRET } from '../test/demo/stage.js';
import { processCpuMs, processRssMb } from '../test/process-usage.js';
import { appProfileArgs } from './profile.js';
import type { BenchReport } from './report.js';

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 20);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const ORDINARY = 'Thanks! The numbers look right to me; let us ship this after lunch.';

interface Load {
  perSecond: number;
  p50: number;
  p99: number;
  failed: number;
  cpuMsPerDelivery: number;
}

export async function measureDeliveries(): Promise<BenchReport> {
  const stage = await Stage.start({ orgs: ['acme'], nodeArgs: appProfileArgs() });
  let noop: ChildProcess | undefined;
  try {
    const body = await ordinaryCommentDelivery(stage);
    const port = await freePort();
    noop = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./noop-probot.ts', import.meta.url))], {
      env: { PATH: process.env.PATH ?? '', PORT: String(port), APP_ID: String(APP_ID), PRIVATE_KEY: generateAppKeyPair().privateKey, WEBHOOK_SECRET },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    const noopUrl = `http://127.0.0.1:${port}/api/github/webhooks`;
    await until('the no-op Probot app to listen', async () => (await send(noopUrl, body).catch(() => 0)) === 200, 60_000);
    const appUrl = `${stage.appUrl}/api/github/webhooks`;

    const rounds: Array<{ noop: Load; app: Load }> = [];
    for (let round = 0; round < ROUNDS; round++) {
      rounds.push({ noop: await load(noopUrl, body, noop.pid!), app: await load(appUrl, body, stage.appPid()) });
    }
    const rssApp = stage.appRssMb();
    const rssNoop = processRssMb(noop.pid!);
    const rows = rounds.flatMap(({ noop: n, app: a }, i) => [
      [`round ${i + 1}: deliveries/s`, n.perSecond.toFixed(0), a.perSecond.toFixed(0), (a.perSecond / n.perSecond).toFixed(2)],
      [`round ${i + 1}: answer p50 / p99 (ms)`, `${n.p50.toFixed(1)} / ${n.p99.toFixed(1)}`, `${a.p50.toFixed(1)} / ${a.p99.toFixed(1)}`, ''],
      [`round ${i + 1}: CPU per delivery (ms)`, n.cpuMsPerDelivery.toFixed(2), a.cpuMsPerDelivery.toFixed(2), (a.cpuMsPerDelivery / n.cpuMsPerDelivery).toFixed(2)],
      [`round ${i + 1}: not answered 200`, String(n.failed), String(a.failed), ''],
    ]);
    return {
      title: `Deliveries of ordinary comments, ${CONNECTIONS} connections, ${SECONDS} s per turn`,
      columns: ['measure', 'no-op Probot app', 'the App', 'App / no-op'],
      rows: [...rows, ['resident memory after (MB)', rssNoop.toFixed(0), rssApp.toFixed(0), (rssApp / rssNoop).toFixed(2)]],
      notes: [
        'Each delivery is a signed issue_comment.created with a unique delivery id and a comment that is not a command, as GitHub sends them.',
        'The load comes from the bench process on the same machine; the two servers take turns, so each has the same share of it.',
        'BENCH_CONNECTIONS, BENCH_SECONDS and BENCH_ROUNDS change the load.',
      ],
    };
  } finally {
    noop?.kill('SIGTERM');
    await stage.stop();
  }
}

/** Posts an ordinary comment through the double and returns the body GitHub delivered for it. */
async function ordinaryCommentDelivery(stage: Stage): Promise<string> {
  const issue = await stage.approvalIssueOf(await stage.openRequest());
  await stage.comment(issue.number, 'alice', ORDINARY);
  await stage.control.deliveriesIdle();
  const delivered = (await stage.control.deliveries({ event: 'issue_comment' })).find(
    (d) => (d.payload as { comment?: { body?: string } }).comment?.body === ORDINARY,
  );
  if (!delivered) throw new Error('the double delivered no issue_comment for the ordinary comment');
  return JSON.stringify(delivered.payload);
}

const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });

function send(url: string, body: string): Promise<number> {
  const signature = `sha256=${createHmac('sha256', WEBHOOK_SECRET).update(body).digest('hex')}`;
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: 'POST',
      agent,
      headers: {
        'content-type': 'application/json',
        'x-github-event': 'issue_comment',
        'x-github-delivery': randomUUID(),
        'x-hub-signature-256': signature,
        'user-agent': 'GitHub-Hookshot/bench',
      },
    }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function load(url: string, body: string, pid: number): Promise<Load> {
  const durations: number[] = [];
  let failed = 0;
  const cpuBefore = processCpuMs(pid);
  const started = performance.now();
  const end = started + SECONDS * 1000;
  await Promise.all(Array.from({ length: CONNECTIONS }, async () => {
    while (performance.now() < end) {
      const at = performance.now();
      const status = await send(url, body).catch(() => 0);
      durations.push(performance.now() - at);
      if (status !== 200) failed++;
    }
  }));
  const elapsedS = (performance.now() - started) / 1000;
  const cpuMs = processCpuMs(pid) - cpuBefore;
  durations.sort((a, b) => a - b);
  const at = (p: number) => durations[Math.min(durations.length - 1, Math.ceil((p / 100) * durations.length) - 1)];
  return { perSecond: durations.length / elapsedS, p50: at(50), p99: at(99), failed, cpuMsPerDelivery: cpuMs / durations.length };
}
