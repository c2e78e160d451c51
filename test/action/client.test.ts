import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as github from '@actions/github';
import { waitForDecision, DEFAULT_WAIT_SETTINGS } from '../../action/wait.js';
import {
  AppApiError, AppClient, AppUnreachableError, MissingIdTokenPermissionError, backoffDelayMs, parseRequestView, type BackoffPolicy,
} from '../../action/client.js';
import { CheckRunFallback } from '../../action/fallback.js';
import type { StepIdentity } from '../../action/step-identity.js';

/** The step every client here is for, and the fields of an App answer that say so. */
const STEP: StepIdentity = { action: 'deploy', environment: 'production', repository: 'acme/web', runId: '900', runAttempt: '2' };
const OWN = { repository: 'acme/web', run_id: '900', run_attempt: '2', action: 'deploy', environment: 'production' };

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
      id: 'r1', status: 'pending', reason: '', ...OWN, matched_rules: ['production'], approvals_required: 2,
      eligible_approvers: ['alice', '@acme/leads'], approved_by: ['alice'], awaiting: ['@acme/leads'],
      check_run_id: 7, check_run_url: 'https://github.test/o/r/runs/7', app_id: 5151, deadline: '2030-01-01T00:00:00Z',
    });
    expect(view).toMatchObject({
      id: 'r1', status: 'pending', repository: 'acme/web', runId: '900', runAttempt: '2', action: 'deploy', environment: 'production',
      matchedRules: ['production'], approvalsRequired: 2, approvedBy: ['alice'], checkRunId: 7, appId: 5151,
    });
    expect(view.deadline?.toISOString()).toBe('2030-01-01T00:00:00.000Z');
  });

  it.each([{ status: 'approved' }, { id: 'r1', status: 'ok' }, { id: 1, status: 'approved' }, null])('refuses %j rather than guess', (body) => {
    expect(() => parseRequestView(body)).toThrow(AppApiError);
  });

  it.each(['repository', 'run_id', 'run_attempt', 'action'])('refuses an answer that does not say its %s', (field) => {
    const body: Record<string, unknown> = { id: 'r1', status: 'approved', reason: 'auto', ...OWN };
    delete body[field];
    expect(() => parseRequestView(body)).toThrow(new RegExp(`without saying whose request it is \\(${field}\\)`));
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
/** When set, the runner's tokens carry this job `environment` claim (unsigned: only the App verifies them). */
let tokenEnvironment: string | undefined;
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
      const claims = Buffer.from(JSON.stringify({ environment: tokenEnvironment })).toString('base64url');
      const value = tokenEnvironment === undefined ? `token-${tokensIssued}` : `eyJhbGciOiJSUzI1NiJ9.${claims}.c2ln`;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ value }));
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
  tokenEnvironment = undefined;
  appRequests.length = 0;
  delete process.env.ACTIONS_ID_TOKEN_REQUEST_URL;
  delete process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
});

function client(backoff: BackoffPolicy = { attempts: 4, baseMs: 10, maxMs: 50 }, appUrl = base, step = STEP) {
  process.env.ACTIONS_ID_TOKEN_REQUEST_URL = `${base}/token?api-version=2.0`;
  process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN = 'runtime-token';
  const retries: string[] = [];
  return { retries, client: new AppClient({ appUrl, audience: 'https://jit.test', step, backoff, onRetry: (line) => retries.push(line) }) };
}

const pending = { id: 'r1', status: 'pending', reason: '', ...OWN };

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
    // A retried open that reattaches with other facts than the request it finds: retrying cannot help.
    { status: 409, code: 'request_conflict', message: 'this run already has a request for deploy to staging; this job asks for production' },
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

describe('answers about another step', () => {
  const approved = { ...pending, status: 'approved', reason: 'auto' };

  it.each([
    { name: "another job's environment", answer: { environment: 'staging' }, says: 'environment "staging", not this step\'s environment "production"' },
    { name: 'no environment', answer: { environment: null }, says: 'environment none, not this step\'s environment "production"' },
    { name: 'another action', answer: { action: 'migrate' }, says: 'action "migrate", not this step\'s action "deploy"' },
    { name: 'another repository', answer: { repository: 'acme/api' }, says: 'repository acme/api, not this step\'s repository acme/web' },
    { name: 'another run', answer: { run_id: '901' }, says: 'run 901, not this step\'s run 900' },
    { name: 'another attempt', answer: { run_attempt: '1' }, says: 'attempt 1, not this step\'s attempt 2' },
  ])('fails on an approval for $name, without retrying', async ({ answer, says }) => {
    script = [{ status: 200, body: { ...approved, ...answer } }];
    const error = await client().client.open({ action: 'deploy', environment: 'production' }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(AppApiError);
    expect((error as AppApiError).code).toBe('wrong_request');
    expect((error as Error).message).toBe(`The App answered with the request for ${says} (request r1); nothing was approved.`);
    expect(appRequests).toHaveLength(1);
  });

  it('compares environment, owner and repository names ignoring case, as GitHub does', async () => {
    script = [{ status: 200, body: { ...approved, environment: 'Production', repository: 'Acme/Web' } }];
    await expect(client().client.open({ action: 'deploy', environment: 'production' })).resolves.toMatchObject({ status: 'approved' });
  });

  it('goes by the repository id where both sides give it: a rename while the step waits is the same repository, a same-named other one is not', async () => {
    const withId = { ...STEP, repositoryId: '77' };
    script = [{ status: 200, body: { ...approved, repository: 'acme/web-renamed', repository_id: '77' } }];
    await expect(client(undefined, base, withId).client.open({ action: 'deploy', environment: 'production' })).resolves.toMatchObject({ status: 'approved' });

    script = [{ status: 200, body: { ...approved, repository_id: '78' } }];
    await expect(client(undefined, base, withId).client.open({ action: 'deploy', environment: 'production' })).rejects.toThrow(
      "The App answered with the request for repository acme/web (id 78), not this step's repository acme/web (id 77)",
    );
    // An App that does not say the id is judged by name.
    script = [{ status: 200, body: { ...approved, repository: 'acme/web-renamed' } }];
    await expect(client(undefined, base, withId).client.open({ action: 'deploy', environment: 'production' })).rejects.toThrow('repository acme/web-renamed, not this step\'s repository acme/web');
  });

  it("without an environment input, goes by the job's environment in its OIDC token", async () => {
    const withoutInput = { ...STEP, environment: undefined };
    script = [{ status: 200, body: { ...approved, environment: null } }];
    await expect(client(undefined, base, withoutInput).client.open({ action: 'deploy' })).resolves.toMatchObject({ status: 'approved' });

    tokenEnvironment = 'production';
    script = [{ status: 200, body: { ...approved, environment: 'staging' } }];
    await expect(client(undefined, base, withoutInput).client.open({ action: 'deploy' })).rejects.toThrow(
      'The App answered with the request for environment "staging", not this step\'s environment "production"',
    );
  });

  it("fails on an approval for an environment when neither the step nor its job names one: that is another job's", async () => {
    const withoutInput = { ...STEP, environment: undefined };
    script = [{ status: 200, body: { ...approved, environment: 'staging' } }];
    await expect(client(undefined, base, withoutInput).client.open({ action: 'deploy' })).rejects.toThrow(
      'The App answered with the request for environment "staging", not this step\'s environment none (request r1); nothing was approved.',
    );
  });

  it('fails when a poll or a cancel answers about another request', async () => {
    script = [{ status: 200, body: { ...approved, id: 'r2' } }, { status: 200, body: { ...pending, id: 'r2', status: 'cancelled' } }];
    const { client: app } = client();
    await expect(app.get('r1', 1)).rejects.toThrow('The App answered with the request for id r2, not this step\'s id r1 (request r2)');
    await expect(app.cancel('r1', 'timeout')).rejects.toThrow('id r2, not this step\'s id r1');
  });

  it("fails the wait when a poll hands over another job's decision", async () => {
    script = [{ status: 200, body: pending }, { status: 200, body: { ...approved, environment: 'staging' } }];
    const wait = waitForDecision({ action: 'deploy', environment: 'production', timeoutSeconds: 30 }, { client: client().client, log: () => {}, warn: () => {} });
    await expect(wait).rejects.toThrow(/the request for environment "staging", not this step's environment "production"/);
    expect(appRequests.map((r) => r.method)).toEqual(['POST', 'GET']);
  });

  it('ends the wait with the App\'s message on a 409, without retrying', async () => {
    const message = 'this run already has a request for deploy to staging; this job asks for production';
    script = [{ status: 409, body: { error: { code: 'request_conflict', message } } }];
    const wait = waitForDecision({ action: 'deploy', environment: 'production', timeoutSeconds: 30 }, { client: client().client, log: () => {}, warn: () => {} });
    await expect(wait).rejects.toThrow(`The App refused POST /api/v1/requests (409 request_conflict): ${message}`);
    expect(appRequests).toHaveLength(1);
  });
});

describe('the check run in place of an unreachable App', () => {
  /** This loopback server as the GitHub API, for the fallback's GITHUB_TOKEN reads. */
  const fallback = () => new CheckRunFallback(github.getOctokit('ghs_test', { baseUrl: base, retry: { enabled: false } }), STEP);
  const fast = { ...DEFAULT_WAIT_SETTINGS, pollWaitSeconds: 1, fallbackIntervalMs: 50 };
  const checkRunReads = () => appRequests.filter((r) => r.url.includes('/check-runs'));

  it('is never read for an App that was never reached, and the step fails at its deadline', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const deadUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise((resolve) => closed.close(resolve));

    const warnings: string[] = [];
    const wait = waitForDecision(
      { action: 'deploy', environment: 'production', timeoutSeconds: 1 },
      { client: client({ attempts: 2, baseMs: 10, maxMs: 20 }, deadUrl).client, fallback: fallback(), log: () => {}, warn: (line) => warnings.push(line) },
      fast,
    );
    await expect(wait).rejects.toThrow(new RegExp(`^The App at ${deadUrl} was never reached; nothing was approved\\. Last error: POST ${deadUrl}/api/v1/requests failed`));
    expect(checkRunReads()).toEqual([]);
    expect(warnings[0]).toContain('The App has not answered yet, so nothing can be read in its place');
  });

  it('says the App answered, and where to look, when it failed every attempt to open the request', async () => {
    unscripted = () => ({ status: 500, body: { error: { code: 'internal', message: 'internal error' } } });
    const wait = waitForDecision(
      { action: 'deploy', environment: 'production', timeoutSeconds: 1 },
      { client: client({ attempts: 2, baseMs: 10, maxMs: 20 }).client, fallback: fallback(), log: () => {}, warn: () => {} },
      fast,
    );
    await expect(wait).rejects.toThrow(/^The App at \S+ answered HTTP 500 each time it was asked to open the request; nothing was approved\. Its log says why/);
    expect(checkRunReads()).toEqual([]);
  });

  it("reads only the check run the App named, and only if the App's GitHub App made it", async () => {
    const view = { ...pending, check_run_id: 7, check_run_url: 'https://github.test/acme/web/runs/7', app_id: 5151, deadline: '2999-01-01T00:00:00Z' };
    const record = { request: 'r1', action: 'deploy', run: { id: '900', attempt: '2' }, status: 'approved', reason: 'quorum', votes: [] };
    const impostor = {
      id: 7, html_url: 'https://github.test/acme/web/runs/7', status: 'completed', conclusion: 'success', external_id: 'r1',
      app: { id: 6666, slug: 'impostor' }, output: { title: 'approved', text: `\`\`\`json\n${JSON.stringify(record)}\n\`\`\`` },
    };
    let opened = false;
    unscripted = (method, url) => {
      if (url.endsWith('/check-runs/7')) return { status: 200, body: impostor };
      if (url.endsWith('/cancel')) return { status: 503, body: {} };
      if (opened) return { status: 503, body: { error: { code: 'unavailable', message: 'gone' } } };
      opened = true;
      return { status: 200, body: view };
    };
    const warnings: string[] = [];
    const outcome = await waitForDecision(
      { action: 'deploy', environment: 'production', timeoutSeconds: 1 },
      { client: client({ attempts: 1, baseMs: 0, maxMs: 0 }).client, fallback: fallback(), log: () => {}, warn: (line) => warnings.push(line) },
      fast,
    );
    expect(outcome).toMatchObject({ status: 'timed_out', source: 'app' });
    expect(checkRunReads().length).toBeGreaterThan(0);
    expect(checkRunReads().every((r) => r.url === '/repos/acme/web/check-runs/7')).toBe(true);
    // Said once, however often the check run is read.
    expect(warnings.filter((line) => line.includes('check run 7 (made by impostor (id 6666)) is not the App\'s record of request r1'))).toHaveLength(1);
    expect(checkRunReads().length).toBeGreaterThan(1);
  });
});

describe('waitForDecision', () => {
  it('gives up at its own deadline when the App asks to be retried later than that', async () => {
    unscripted = () => ({ status: 503, body: { error: { code: 'unavailable', message: 'restarting' } }, headers: { 'retry-after': '60' } });
    const wait = waitForDecision(
      { action: 'deploy', environment: 'production', timeoutSeconds: 1 },
      { client: client().client, log: () => {}, warn: () => {} },
    );
    await expect(wait).rejects.toThrow(/answered HTTP 503 each time it was asked to open the request; nothing was approved\. .*failed after 1 attempt, and the step's deadline comes before another: HTTP 503/);
    expect(appRequests.map((r) => `${r.method} ${r.url}`)).toEqual(['POST /api/v1/requests']);
  });

  it('gives up on an App that never answers soon after its own deadline, not after every attempt has timed out', async () => {
    let connections = 0;
    const hung = createServer(() => void connections++);
    await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
    try {
      const wait = waitForDecision(
        { action: 'deploy', environment: 'production', timeoutSeconds: 1 },
        { client: client(undefined, `http://127.0.0.1:${(hung.address() as AddressInfo).port}`).client, log: () => {}, warn: () => {} },
      );
      // Four attempts of 30 s each would hold the step two minutes past its deadline, beyond this test's time.
      await expect(wait).rejects.toThrow(/was never reached; nothing was approved\. .*failed after 1 attempt, and the step's deadline comes before another/);
      expect(connections).toBe(1);
    } finally {
      hung.closeAllConnections();
      await new Promise((resolve) => hung.close(resolve));
    }
  }, 20_000);

  it('cancels the request on its own deadline and reports a timeout', async () => {
    unscripted = (method, url) => {
      if (url.endsWith('/cancel')) return { status: 200, body: { id: 'r1', status: 'timed_out', reason: 'cancelled: timeout', ...OWN } };
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

  it('does not wait past its deadline for an App that asks to be retried later before it takes the cancel', async () => {
    unscripted = (method, url) => {
      if (url.endsWith('/cancel')) return { status: 503, body: { error: { code: 'unavailable', message: 'restarting' } }, headers: { 'retry-after': '60' } };
      return { status: 200, body: { ...pending, deadline: '2999-01-01T00:00:00Z' }, delayMs: method === 'GET' ? 300 : 0 };
    };
    const { client: app, retries } = client();
    const warnings: string[] = [];
    const outcome = await waitForDecision(
      { action: 'deploy', timeoutSeconds: 1 },
      { client: app, log: () => {}, warn: (line) => warnings.push(line) },
      { ...DEFAULT_WAIT_SETTINGS, pollWaitSeconds: 1 },
    );

    expect(outcome).toMatchObject({ status: 'timed_out', requestId: 'r1' });
    // One try, no retry a minute later: the step is already past its timeout.
    expect(appRequests.filter((r) => r.url.endsWith('/cancel'))).toHaveLength(1);
    expect(retries.filter((line) => line.includes('/cancel'))).toEqual([]);
    expect(warnings.at(-1)).toMatch(/^Could not cancel request r1 at the App \(.*failed after 1 attempt.*HTTP 503\); it expires at its own deadline\.$/);
  }, 20_000);

  it("goes by the App's clock for the App's deadline: a runner clock running ahead does not cut the wait short", async () => {
    // The App's clock is 10 minutes behind the runner's; its request has 2 minutes left on its own clock.
    const appNow = () => new Date(Date.now() - 10 * 60_000);
    const headers = () => ({ date: appNow().toUTCString() });
    let polls = 0;
    unscripted = (method, url) => {
      if (url.endsWith('/cancel')) return { status: 200, body: { id: 'r1', status: 'cancelled', reason: 'cancelled: timeout', ...OWN }, headers: headers() };
      if (method === 'GET' && ++polls >= 2) return { status: 200, body: { id: 'r1', status: 'approved', reason: 'quorum', approved_by: ['alice'], ...OWN }, headers: headers() };
      return { status: 200, body: { ...pending, deadline: new Date(appNow().getTime() + 120_000).toISOString() }, headers: headers(), delayMs: method === 'GET' ? 100 : 0 };
    };
    const { client: app } = client();
    const outcome = await waitForDecision(
      { action: 'deploy' },
      { client: app, log: () => {}, warn: () => {} },
      { ...DEFAULT_WAIT_SETTINGS, pollWaitSeconds: 1 },
    );
    expect(appRequests.filter((r) => r.url.endsWith('/cancel'))).toEqual([]);
    expect(outcome).toMatchObject({ status: 'approved', decision: 'approved', approvedBy: ['alice'] });
  });

  it('takes a decision that lands just before the cancel', async () => {
    unscripted = (method, url) =>
      url.endsWith('/cancel')
        ? { status: 200, body: { id: 'r1', status: 'approved', reason: 'quorum', approved_by: ['alice'], ...OWN } }
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
