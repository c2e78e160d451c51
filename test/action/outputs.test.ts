/**
 * The step's outputs on every way it ends: the committed bundle as a child process, its OIDC tokens
 * from the GitHub double, and a scripted App on loopback, so each failure can be had on purpose.
 * A later `if: failure()` step reads `status` and `reason` (and `request-id` once there is one).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { freePort } from '../free-port.js';
import { generateAppKeyPair, startGitHubDouble, type RunningGitHubDouble } from '../github-double/index.js';
import { eventually, killRunningSteps, startStep, type StepResult } from './action-process.js';

const REPOSITORY = 'acme/web';
const APP_ID = 4343;
const SECRET_PASSWORD = 'hunter2-app-url-password';

let github: RunningGitHubDouble;
let app: Server;
let appUrl: string;

/** What the scripted App answers: status and JSON body, by method and path. */
type Answer = { status: number; body: unknown };
let answer: (method: string, path: string) => Answer = () => ({ status: 500, body: {} });

beforeAll(async () => {
  github = await startGitHubDouble({
    seed: {
      users: [{ login: 'dev' }],
      repos: [{ owner: 'acme', name: 'web', branches: { main: { 'README.md': '# web\n' } }, collaborators: { dev: 'write' } }],
      apps: [{ id: APP_ID, slug: 'mercurial-jit', publicKey: generateAppKeyPair().publicKey }],
      installations: [{ appId: APP_ID, account: 'acme' }],
    },
  });
  app = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const { status, body } = answer(req.method ?? '', req.url ?? '');
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
  appUrl = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;
});

afterEach(killRunningSteps);

afterAll(async () => {
  await new Promise((resolve) => app?.close(resolve));
  await github?.close();
});

interface Claims {
  repository_id: string;
  sha: string;
  ref: string;
  run_id: string;
  run_attempt: string;
}

/** The App's view of this step's request. */
function view(claims: Claims, fields: Record<string, unknown>): Answer {
  return {
    status: 200,
    body: { id: 'req-7', repository: REPOSITORY, run_id: claims.run_id, run_attempt: claims.run_attempt, action: 'deploy', reason: '', ...fields },
  };
}

const refused = (status: number, code: string, message: string): Answer => ({ status, body: { error: { code, message } } });

interface Row {
  name: string;
  inputs?: Record<string, string>;
  /** Changes to the runner's environment: undefined removes a variable. */
  env?: (env: Record<string, string>) => void;
  app?: (claims: Claims) => (method: string, path: string) => Answer;
  /** The job is cancelled once the request is open. */
  cancel?: boolean;
  exitCode: number;
  outputs: { status: string; decision: string; reason: RegExp; 'request-id': string };
}

const pendingThen = (claims: Claims, poll: Answer) => (method: string, path: string) => {
  if (method === 'POST' && path === '/api/v1/requests') return view(claims, { status: 'pending' });
  if (path.endsWith('/cancel')) return view(claims, { status: 'cancelled', reason: 'job_cancelled' });
  return poll;
};

const ROWS: Row[] = [
  {
    name: 'approved',
    app: (claims) => pendingThen(claims, view(claims, { status: 'approved', reason: 'quorum', approved_by: ['alice'] })),
    exitCode: 0,
    outputs: { status: 'approved', decision: 'approved', reason: /^quorum$/, 'request-id': 'req-7' },
  },
  {
    name: 'approved automatically',
    app: (claims) => () => view(claims, { status: 'approved', reason: 'auto' }),
    exitCode: 0,
    outputs: { status: 'approved', decision: 'auto_approved', reason: /^auto$/, 'request-id': 'req-7' },
  },
  {
    name: 'rejected',
    app: (claims) => pendingThen(claims, view(claims, { status: 'rejected', reason: 'not on a Friday' })),
    exitCode: 1,
    outputs: { status: 'rejected', decision: 'rejected', reason: /^not on a Friday$/, 'request-id': 'req-7' },
  },
  {
    name: 'timed out at the App',
    app: (claims) => pendingThen(claims, view(claims, { status: 'timed_out', reason: 'deadline' })),
    exitCode: 1,
    outputs: { status: 'timed_out', decision: 'timed_out', reason: /^deadline$/, 'request-id': 'req-7' },
  },
  {
    name: "timed out on the step's own timeout, the App gone after opening",
    inputs: { timeout: '2s' },
    app: (claims) => (method, path) => (method === 'POST' && path === '/api/v1/requests' ? view(claims, { status: 'pending' }) : refused(503, 'down', 'down')),
    exitCode: 1,
    outputs: { status: 'timed_out', decision: 'timed_out', reason: /^no decision within .*; request req-7 cancelled$/, 'request-id': 'req-7' },
  },
  {
    name: 'cancelled with the job',
    inputs: { timeout: '2m' },
    cancel: true,
    app: (claims) => pendingThen(claims, view(claims, { status: 'pending' })),
    exitCode: 1,
    outputs: { status: 'cancelled', decision: 'cancelled', reason: /^the job was cancelled$/, 'request-id': 'req-7' },
  },
  {
    name: 'failed at the App (the policy cannot be evaluated)',
    app: (claims) => () => view(claims, { status: 'failed', reason: 'the approval policy is invalid', problems: ['.github/jit-approval.yml:3:1: bad'] }),
    exitCode: 1,
    outputs: { status: 'failed', decision: '', reason: /^the approval policy is invalid$/, 'request-id': 'req-7' },
  },
  {
    name: 'inputs invalid',
    inputs: { timeout: 'soon', 'fail-on-reject': 'maybe' },
    exitCode: 1,
    outputs: { status: 'error', decision: '', reason: /^Invalid inputs:\n {2}- timeout: .*\n {2}- fail-on-reject must be true or false/, 'request-id': '' },
  },
  {
    name: 'app-url with a password in it',
    inputs: { 'app-url': `https://deployer:${SECRET_PASSWORD}@jit.example.com` },
    exitCode: 1,
    outputs: { status: 'error', decision: '', reason: /^Invalid inputs:\n {2}- app-url .*must not contain credentials/, 'request-id': '' },
  },
  {
    name: 'app-url with a password in it, written without //',
    inputs: { 'app-url': `https:deployer:${SECRET_PASSWORD}@jit.example.com` },
    exitCode: 1,
    outputs: { status: 'error', decision: '', reason: /^Invalid inputs:\n {2}- app-url .*must not contain credentials/, 'request-id': '' },
  },
  {
    name: 'the runner does not say which run this is',
    env: (env) => delete env.GITHUB_RUN_ATTEMPT,
    exitCode: 1,
    outputs: { status: 'error', decision: '', reason: /^GITHUB_RUN_ATTEMPT not set/, 'request-id': '' },
  },
  {
    name: 'no `id-token: write` permission',
    env: (env) => {
      delete env.ACTIONS_ID_TOKEN_REQUEST_URL;
      delete env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
    },
    exitCode: 1,
    outputs: { status: 'error', decision: '', reason: /Add `permissions: id-token: write`/, 'request-id': '' },
  },
  {
    name: "the runner's token service refusing",
    env: (env) => (env.ACTIONS_ID_TOKEN_REQUEST_URL = `${appUrl}/token?api-version=2.0`),
    app: () => () => refused(403, 'forbidden', 'no token for you'),
    exitCode: 1,
    outputs: { status: 'error', decision: '', reason: /^Could not get an OIDC token from the runner/, 'request-id': '' },
  },
  {
    name: 'the App never reached',
    inputs: { timeout: '2s' },
    exitCode: 1,
    outputs: { status: 'error', decision: '', reason: /^The App at http:\/\/127\.0\.0\.1:\d+ was never reached; nothing was approved\./, 'request-id': '' },
  },
  {
    name: 'the App refusing to open the request (4xx)',
    app: () => () => refused(403, 'repository_not_installed', 'the App is not installed on acme/web'),
    exitCode: 1,
    outputs: { status: 'error', decision: '', reason: /^The App refused POST \/api\/v1\/requests \(403 repository_not_installed\): the App is not installed on acme\/web$/, 'request-id': '' },
  },
  {
    name: 'the App refusing a poll once the request is open (4xx)',
    app: (claims) => pendingThen(claims, refused(404, 'not_found', 'no such request')),
    exitCode: 1,
    outputs: { status: 'error', decision: '', reason: /^The App refused GET \/api\/v1\/requests\/req-7\?wait=\d+ \(404 not_found\): no such request$/, 'request-id': 'req-7' },
  },
  {
    name: 'the App answering about another run',
    app: (claims) => () => view({ ...claims, run_id: '1' }, { status: 'approved', reason: 'auto' }),
    exitCode: 1,
    outputs: { status: 'error', decision: '', reason: /^The App answered with the request for run 1, not this step's run \d+ \(request req-7\); nothing was approved\.$/, 'request-id': '' },
  },
];

async function run(row: Row): Promise<StepResult> {
  const job = await github.control.registerJob({ repository: REPOSITORY, actor: 'dev' });
  const claims = job.claims as unknown as Claims;
  const env: Record<string, string> = {
    GITHUB_REPOSITORY: REPOSITORY, GITHUB_REPOSITORY_OWNER: 'acme', GITHUB_REPOSITORY_ID: claims.repository_id, GITHUB_SHA: claims.sha,
    GITHUB_REF: claims.ref, GITHUB_EVENT_NAME: 'push', GITHUB_ACTOR: 'dev', GITHUB_RUN_ID: claims.run_id, GITHUB_RUN_ATTEMPT: claims.run_attempt,
    GITHUB_API_URL: github.apiUrl, GITHUB_SERVER_URL: github.url,
    ACTIONS_ID_TOKEN_REQUEST_URL: job.requestUrl, ACTIONS_ID_TOKEN_REQUEST_TOKEN: job.requestToken,
  };
  row.env?.(env);
  answer = row.app?.(claims) ?? (() => ({ status: 500, body: {} }));
  // Nothing listens on a fresh free port: the App out of reach.
  const url = row.app ? appUrl : `http://127.0.0.1:${await freePort()}`;
  const step = startStep({ inputs: { action: 'deploy', 'app-url': url, ...row.inputs }, env });
  if (row.cancel) {
    await eventually('the request to be opened', () => step.stdout().includes('Approval request req-7 opened'));
    step.child.kill('SIGINT');
  }
  const result = await step.result;
  // Neither the runner's request token nor a password given in app-url is ever repeated.
  for (const secret of [job.requestToken, SECRET_PASSWORD]) {
    expect(result.stdout).not.toContain(secret);
    expect(JSON.stringify(result.outputs)).not.toContain(secret);
  }
  return result;
}

describe("the step's outputs on every way it ends", () => {
  it.each(ROWS)('$name: status, reason and request-id are set', async (row) => {
    const result = await run(row);
    expect({ exitCode: result.exitCode, status: result.outputs.status, decision: result.outputs.decision, 'request-id': result.outputs['request-id'] })
      .toEqual({ exitCode: row.exitCode, status: row.outputs.status, decision: row.outputs.decision, 'request-id': row.outputs['request-id'] });
    expect(result.outputs.reason).toMatch(row.outputs.reason);
    // Every output is set, whichever way the step ended.
    expect(Object.keys(result.outputs).sort()).toEqual(['approved-by', 'check-run-url', 'decision', 'reason', 'request-id', 'status']);
    if (row.exitCode === 1) expect(result.stdout).toContain('::error::');
  }, 60_000);
});
