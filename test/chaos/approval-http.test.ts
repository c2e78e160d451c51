/**
 * The in-process driver of `approval-chaos.test.ts` leaves out HTTP, webhook signatures and
 * delivery ids, Octokit and the outbox. Here generated scenarios (without time passing) run through
 * all of that — the real App over HTTP, signed webhooks from the GitHub double — and through the
 * in-process driver, and both must do exactly the same, and what the model expects.
 *
 * One thing is changed: Octokit's pacing of GitHub writes (a write a second, a comment every three,
 * as GitHub asks of Apps) is lifted, or each scenario would take seconds per vote. It decides when
 * the outbox shows a decision on GitHub, never what is decided.
 *
 * `ADVERSARIAL_HTTP_SEQUENCES` sets how many (50 by default); `CHAOS_SEED` and `CHAOS_PATH` replay.
 */
import { afterAll, beforeAll, expect, jest, test } from '@jest/globals';
import fc from 'fast-check';
import { expectedTrace } from './approval-model.js';
import { firstDisagreement, report } from './compare.js';
import { FastWorld } from './fast-world.js';
import { scenario } from './generate.js';
import { describeScenario, type Scenario, type Trace } from './scenario.js';

const throttling = await import('@octokit/plugin-throttling');
const unpaced = { key: () => ({ schedule: async <T>(_options: unknown, task: (...args: unknown[]) => T | Promise<T>, ...args: unknown[]) => task(...args) }) };
jest.unstable_mockModule('@octokit/plugin-throttling', () => ({
  ...throttling,
  throttling: (octokit: unknown, options: { throttle?: object }) =>
    throttling.throttling(octokit as never, { ...options, throttle: { ...options.throttle, write: unpaced, notifications: unpaced } } as never),
}));
// Imported after the mock, so that the App's Octokit is built with it.
const { HttpWorld } = await import('./http-world.js');

const SEQUENCES = Number(process.env.ADVERSARIAL_HTTP_SEQUENCES ?? 50);
const SEED = process.env.CHAOS_SEED !== undefined ? Number(process.env.CHAOS_SEED) : (Date.now() ^ (Math.random() * 0x7fffffff)) | 0;
const PATH = process.env.CHAOS_PATH;

let http: Awaited<ReturnType<typeof HttpWorld.start>>;
let fast: FastWorld;
beforeAll(async () => {
  [http, fast] = await Promise.all([HttpWorld.start(), FastWorld.start()]);
}, 120_000);
afterAll(async () => Promise.all([http?.stop(), fast?.stop()]));

/** Both drivers' traces, as JSON with the same key order, for an exact comparison. */
const canonical = (trace: Trace) => JSON.stringify({ opened: trace.opened, steps: trace.steps, final: trace.final }, (_key, value: unknown) => (typeof value === 'string' ? value.toLowerCase() : value));

test(`${SEQUENCES} generated vote sequences through HTTP and signed webhooks: the same as in-process, and as the model`, async () => {
  if (!Number.isInteger(SEQUENCES) || SEQUENCES < 1) throw new Error(`ADVERSARIAL_HTTP_SEQUENCES must be a positive integer, not "${process.env.ADVERSARIAL_HTTP_SEQUENCES}"`);
  if (!Number.isInteger(SEED)) throw new Error(`CHAOS_SEED must be an integer, not "${process.env.CHAOS_SEED}"`);
  console.log(`approval chaos over HTTP: ${SEQUENCES} sequences, seed ${SEED}${PATH ? `, path ${PATH}` : ''} (replay with CHAOS_SEED=${SEED})`);
  let lastFailure = '';
  let decided = 0;
  const started = Date.now();
  const property = fc.asyncProperty(scenario({ clock: false, maxEvents: 8 }), async (s: Scenario) => {
    const expected = expectedTrace(s);
    const overHttp = await http.play(s);
    const inProcess = await fast.play(s);
    if (canonical(overHttp) !== canonical(inProcess)) {
      lastFailure = `over HTTP and in-process the App did different things\n${describeScenario(s, inProcess, overHttp)}\n(model: in-process; App: over HTTP)`;
      throw new Error('the drivers differ');
    }
    const disagreement = firstDisagreement(s, expected, overHttp);
    if (disagreement) {
      lastFailure = report(s, expected, overHttp, disagreement);
      throw new Error(`${disagreement.kind} ${disagreement.at}`);
    }
    if (overHttp.final.status !== 'pending') decided += 1;
  });
  const result = await fc.check(property, { seed: SEED, numRuns: SEQUENCES, ...(PATH ? { path: PATH } : {}) });
  if (result.failed) {
    throw new Error(
      `disagreement (seed ${result.seed}, after ${result.numShrinks} shrinks).\n` +
        `Replay: CHAOS_SEED=${result.seed} CHAOS_PATH=${result.counterexamplePath} ADVERSARIAL_HTTP_SEQUENCES=1 npm test -- test/chaos/approval-http.test.ts\n\n` +
        (lastFailure || String(result.errorInstance)),
    );
  }
  console.log(`approval chaos over HTTP: ${result.numRuns} sequences agreed in ${((Date.now() - started) / 1000).toFixed(1)} s; ${decided} decided`);
  expect(result.numRuns).toBe(PATH ? 1 : SEQUENCES);
  if (SEQUENCES >= 30 && !PATH) expect(decided).toBeGreaterThan(SEQUENCES / 5);
}, 3_600_000);
