import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { waitForDecision, DEFAULT_WAIT_SETTINGS } from '../../action/wait.js';
import {
  AppApiError, AppClient, AppUnreachableError, MissingIdTokenPermissionError, backoffDelayMs, parseRequestView, type BackoffPolicy,
} from '../../action/client.js';

describe('backoffDelayMs', () => {
  const policy: BackoffPolicy = { attempts: 6, baseMs: 500, maxMs: 8000 };

  it.each([
    { retry: 0, random: 0, expected: 0 },
    { retry: 0, random: 0.5, expected: 250 },
    { retry: 1, random: 0.5, expected: 500 },
    { retry: 3, random: 0.5, expected: 2000 },
    { retry: 4, random: 0.5, expected: 4000 },
    { retry: 5, random: 0.5, expected: 4000 }, // capped at maxMs
    { retry: 30, random: 0.999, expected: 7992 },
  ])('retry $retry with random $random → $expected ms', ({ retry, random, expected }) => {
    expect(backoffDelayMs(retry, policy, () => random)).toBe(expected);
  });

  it('stays within [0, min(max, base·2^retry)) for every draw', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 60 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (retry, random) => {
        const delay = backoffDelayMs(retry, policy, () => random);
        return delay >= 0 && delay < Math.min(policy.maxMs, policy.baseMs * 2 ** retry);
      }),
    );
  });
});

describe('parseRequestView', () => {
  it('reads the App answer', () => {
    const view = parseRequestView({
      id: 'r1', status: 'pending', reason: '', matched_rules: ['production'], approvals_required: 2,
      eligible_approvers: ['alice', '@acme/leads'], approved_by: ['alice'], awaiting: ['@acme/leads'],
      check_run_id: 7, check_run_url: 'https://github.test/o/r/runs/7', deadline: '2030-01-01T00:00:00Z',
    });
    expect(view).toMatchObject({ id: 'r1', status: 'pending', matchedRules: ['production'], approvalsRequired: 2, approvedBy: ['alice'], checkRunId: 7 });
    expect(view.deadline?.toISOString()).toBe('2030-01-01T00:00:00.000Z');
  });

  it.each([{ status: 'approved' }, { id: 'r1', status: 'ok' }, { id: 1, status: 'approved' }, null])('refuses %j rather than guess', (body) => {
    expect(() => parseRequestView(body)).toThrow(AppApiError);
  });
});

/** A real loopback server playing the runner's token service and, from a script, the App. */
interface Script {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  /** Answer this late, as a long poll does. */
  delayMs?: number;
}

let server: Server;
let base: string;
let script: Script[] = [];
/** Answers what the script does not; by default, a 500. */
let unscripted: (method: string, url: string) => Script = () => ({ status: 500, body: { error: { code: 'script_empty', message: 'no scripted answer' } } });
let tokensIssued = 0;
const appRequests: { method: string; url: string; authorization: string; body: string }[] = [];

async function body(req: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of req) text += chunk;
  return text;
}

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const text = await body(req);
    if (req.url?.startsWith('/token')) {
      tokensIssued++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ value: `token-${tokensIssued}` }));
      return;
    }
    appRequests.push({ method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization ?? '', body: text });
    const next = script.shift() ?? unscripted(req.method ?? '', req.url ?? '');
    if (next.delayMs) await new Promise((resolve) => setTimeout(resolve, next.delayMs));
    res.writeHead(next.status, { 'content-type': 'application/json', ...next.headers }).end(JSON.stringify(next.body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

const defaultUnscripted = unscripted;

afterEach(() => {
  script = [];
  unscripted = defaultUnscripted;
  tokensIssued = 0;
  appRequests.length = 0;
  delete process.env.ACTIONS_ID_TOKEN_REQUEST_URL;
  delete process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
});

function client(backoff: BackoffPolicy = { attempts: 4, baseMs: 10, maxMs: 50 }, appUrl = base) {
  process.env.ACTIONS_ID_TOKEN_REQUEST_URL = `${base}/token?api-version=2.0`;
  process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN = 'runtime-token';
  const retries: string[] = [];
  return { retries, client: new AppClient({ appUrl, audience: 'https://jit.test', backoff, onRetry: (line) => retries.push(line) }) };
}

const pending = { id: 'r1', status: 'pending', reason: '' };

describe('AppClient', () => {
  it('retries 5xx and 429 with a fresh OIDC token on every attempt', async () => {
    script = [
      { status: 503, body: { error: { code: 'unavailable', message: 'restarting' } } },
      { status: 429, body: { error: { code: 'slow_down', message: 'too many' } } },
      { status: 201, body: pending },
    ];
    const { client: app, retries } = client();
    const view = await app.open({ action: 'deploy', environment: 'production', timeoutSeconds: 600 });

    expect(view).toMatchObject({ id: 'r1', status: 'pending' });
    expect(appRequests.map((r) => r.authorization)).toEqual(['Bearer token-1', 'Bearer token-2', 'Bearer token-3']);
    expect(JSON.parse(appRequests[0].body)).toEqual({ action: 'deploy', environment: 'production', timeout_seconds: 600 });
    expect(retries).toHaveLength(2);
    expect(retries[0]).toMatch(/HTTP 503; retrying in .* \(attempt 2\/4\)/);
  });

  it('waits at least Retry-After on a 429', async () => {
    script = [{ status: 429, body: {}, headers: { 'retry-after': '1' } }, { status: 200, body: pending }];
    const started = Date.now();
    await client().client.get('r1', 5);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(appRequests[1].url).toBe('/api/v1/requests/r1?wait=5');
  });

  it.each([
    { status: 404, code: 'unknown_action', message: 'No rule mentions action "deploi"; known actions: deploy, migrate' },
    { status: 422, code: 'policy_invalid', message: '.github/jit-approval.yml:4:7: rules[0].require.approvals must be >= 1' },
  ])('surfaces a $status with the App message and does not retry', async ({ status, code, message }) => {
    script = [{ status, body: { error: { code, message } } }];
    const error = await client().client.open({ action: 'deploi' }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(AppApiError);
    expect((error as AppApiError).code).toBe(code);
    expect((error as Error).message).toContain(message);
    expect(appRequests).toHaveLength(1);
  });

  it('points at the audience when the App refuses the token', async () => {
    script = [{ status: 401, body: { error: { code: 'invalid_token', message: 'audience mismatch' } } }];
    await expect(client().client.get('r1', 1)).rejects.toThrow(/audience mismatch.*check that `audience` matches/);
  });

  it('treats a success without a status as an error, never as a decision', async () => {
    script = [{ status: 200, body: { id: 'r1', approved: true } }];
    await expect(client().client.get('r1', 1)).rejects.toThrow(/without a request id and a known status/);
  });

  it('gives up after the last attempt when nothing listens', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const deadUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise((resolve) => closed.close(resolve));

    const { client: app, retries } = client({ attempts: 3, baseMs: 10, maxMs: 20 }, deadUrl);
    await expect(app.cancel('r1', 'timeout')).rejects.toThrow(AppUnreachableError);
    expect(retries).toHaveLength(2);
    expect(tokensIssued).toBe(3);
  });

  it('says which permission is missing when the runner offers no OIDC token', async () => {
    const { client: app } = client();
    delete process.env.ACTIONS_ID_TOKEN_REQUEST_URL;
    const error = await app.open({ action: 'deploy' }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(MissingIdTokenPermissionError);
    expect((error as Error).message).toContain('permissions: id-token: write');
    expect(appRequests).toHaveLength(0);
  });
});

describe('waitForDecision', () => {
  it('cancels the request on its own deadline and reports a timeout', async () => {
    unscripted = (method, url) => {
      if (url.endsWith('/cancel')) return { status: 200, body: { id: 'r1', status: 'timed_out', reason: 'cancelled: timeout' } };
      // The App's deadline is later than the step's: the step's own timeout must fire.
      return { status: 200, body: { ...pending, deadline: '2999-01-01T00:00:00Z' }, delayMs: method === 'GET' ? 300 : 0 };
    };
    const { client: app } = client();
    const logs: string[] = [];
    const outcome = await waitForDecision(
      { action: 'deploy', timeoutSeconds: 1 },
      { client: app, log: (line) => logs.push(line), warn: (line) => logs.push(line) },
      { ...DEFAULT_WAIT_SETTINGS, pollWaitSeconds: 1 },
    );

    expect(outcome).toMatchObject({ status: 'timed_out', decision: 'timed_out', requestId: 'r1' });
    expect(outcome.reason).toMatch(/^no decision within 1s; request r1 cancelled$/);
    const cancel = appRequests.at(-1)!;
    expect(cancel).toMatchObject({ method: 'POST', url: '/api/v1/requests/r1/cancel' });
    expect(JSON.parse(cancel.body)).toEqual({ reason: 'timeout' });
    expect(appRequests.filter((r) => r.method === 'GET').every((r) => r.url === '/api/v1/requests/r1?wait=1')).toBe(true);
  });

  it('takes a decision that lands just before the cancel', async () => {
    unscripted = (method, url) =>
      url.endsWith('/cancel')
        ? { status: 200, body: { id: 'r1', status: 'approved', reason: 'quorum', approved_by: ['alice'] } }
        : { status: 200, body: pending, delayMs: method === 'GET' ? 300 : 0 };
    const { client: app } = client();
    const outcome = await waitForDecision(
      { action: 'deploy', timeoutSeconds: 1 },
      { client: app, log: () => {}, warn: () => {} },
      { ...DEFAULT_WAIT_SETTINGS, pollWaitSeconds: 1 },
    );
    expect(outcome).toMatchObject({ status: 'approved', decision: 'approved', approvedBy: ['alice'] });
  });
});
