import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { APP_ID, APP_URL, eventually, job, POLICY, REPO, World } from './harness.js';

let world: World;
beforeAll(async () => {
  world = await World.start();
}, 60_000);
afterAll(async () => world?.stop());

describe('opening a request', () => {
  it('auto-approves when no rule requires approval, with a successful check run', async () => {
    const run = job();
    const { status, body } = await world.open(run, { action: 'lint' });
    expect(status).toBe(200);
    expect(body).toMatchObject({ status: 'approved', reason: 'auto', matched_rules: [] });
    const checkRun = await world.checkRun(body.check_run_id as number);
    expect(checkRun).toMatchObject({ name: 'jit: lint', status: 'completed', conclusion: 'success', external_id: body.id });
    expect(checkRun.actions).toEqual([]);
  });

  it("says whose request it is and which GitHub App makes its check run, in every answer", async () => {
    const run = job({ environment: 'production' });
    const own = { repository: REPO, run_id: String(run.run_id), run_attempt: '1', action: 'deploy', environment: 'production', app_id: APP_ID };
    const opened = await world.open(run, { action: 'deploy' });
    expect(opened.body).toMatchObject(own);
    expect((await world.control.checkRuns(REPO)).find((r) => r.id === opened.body.check_run_id)).toMatchObject({ app: { id: APP_ID } });
    expect((await world.poll(run, opened.body.id as string)).body).toMatchObject(own);
    const cancelled = await world.api('POST', `/api/v1/requests/${opened.body.id}/cancel`, await world.token(run), { reason: 'timeout' });
    expect(cancelled.body).toMatchObject(own);
  });

  it('of requests opened together in one installation, only one waits for its check run', async () => {
    // GitHub paces an installation's writes a second apart: the others' check runs cannot appear
    // within the wait, so their steps are answered at once and learn of them from their long polls.
    const runs = [job(), job(), job()];
    const tokens = await Promise.all(runs.map((run) => world.token(run)));
    await world.control.latency({ route: '/repos/{owner}/{repo}/check-runs', method: 'POST', ms: 3000, times: 3 });
    const ids: string[] = [];
    try {
      const sent = performance.now();
      const answers = await Promise.all(tokens.map(async (token) => {
        const answer = await world.api('POST', '/api/v1/requests', token, { action: 'deploy', environment: 'production' });
        return { ...answer, ms: performance.now() - sent };
      }));
      ids.push(...answers.map((answer) => answer.body.id as string));
      expect(answers.map((answer) => [answer.status, answer.body.status, answer.body.check_run_id])).toEqual(runs.map(() => [200, 'pending', null]));
      const [first, , last] = answers.map((answer) => answer.ms).sort((a, b) => a - b);
      // The one that waited answers the full second after the first that did not; had all waited, they
      // would have answered together.
      expect(last).toBeGreaterThan(1000);
      expect(last - first).toBeGreaterThan(500);
      for (const [i, run] of runs.entries()) {
        const shown = await eventually(() => world.poll(run, answers[i].body.id as string), (answer) => answer.body.check_run_id !== null, 20_000);
        expect(shown.body.check_run_id).toEqual(expect.any(Number));
      }
    } finally {
      await world.control.clearFaults();
      for (const [i, id] of ids.entries()) await world.api('POST', `/api/v1/requests/${id}/cancel`, tokens[i], { reason: 'timeout' });
    }
  });

  it('a request that took a second to open is answered at once, without waiting for its check run', async () => {
    // A slow open (a burst, a slow GitHub) has already used the moment the step is kept waiting for
    // its check run: waiting a further second would only delay the step.
    const run = job();
    const token = await world.token(run);
    const since = await world.control.exchangeMark();
    await world.control.latency({ route: '/repos/{owner}/{repo}/commits', method: 'GET', ms: 1200, times: 1 });
    await world.control.latency({ route: '/repos/{owner}/{repo}/check-runs', method: 'POST', ms: 3000, times: 1 });
    let id: string | undefined;
    try {
      const answer = await world.api('POST', '/api/v1/requests', token, { action: 'deploy', environment: 'production' });
      const answered = Date.now();
      id = answer.body.id as string;
      expect([answer.status, answer.body.status, answer.body.check_run_id]).toEqual([200, 'pending', null]);
      const slowRead = (await world.control.exchanges(since)).find((exchange) => exchange.method === 'GET' && exchange.route === '/repos/{owner}/{repo}/commits');
      // Answered once evaluated; a wait after the open would have held it a full second longer.
      expect(answered - slowRead!.at).toBeLessThan(1000);
    } finally {
      await world.control.clearFaults();
      if (id) await world.api('POST', `/api/v1/requests/${id}/cancel`, token, { reason: 'timeout' });
    }
  });

  it('is idempotent per run, attempt and action, also for concurrent retries', async () => {
    const run = job();
    const body = { action: 'deploy', environment: 'production' };
    const [first, concurrent] = await Promise.all([world.open(run, body), world.open(run, body)]);
    const again = await world.open(run, body);
    expect(concurrent.body.id).toBe(first.body.id);
    expect(again.body).toMatchObject({ id: first.body.id, status: 'pending' });
    expect((await world.control.checkRuns(REPO)).filter((r) => r.external_id === first.body.id)).toHaveLength(1);
    const nextAttempt = await world.open({ ...run, run_attempt: 2 }, body);
    expect(nextAttempt.body.id).not.toBe(first.body.id);
  });
});

describe('reading GitHub', () => {
  const reads = async (since: number, route: string) =>
    (await world.control.exchanges(since)).filter((exchange) => exchange.method === 'GET' && exchange.route === route);

  it('reads the policy and CODEOWNERS once per default-branch commit, and again once the branch moves; compares two commits once', async () => {
    await world.open(job(), { action: 'lint' });
    let before = await world.control.exchangeMark();
    await Promise.all([world.open(job(), { action: 'lint' }), world.open(job(), { action: 'lint' })]);
    expect(await reads(before, '/repos/{owner}/{repo}/contents/{path}')).toEqual([]);
    // Both are on one commit with one approved base: they share the comparison of the two.
    expect((await reads(before, '/repos/{owner}/{repo}/compare/{basehead}')).length).toBeLessThanOrEqual(1);
    // The head is asked for each time, revalidated: GitHub answers 304 without rate-limit cost.
    const heads = await reads(before, '/repos/{owner}/{repo}/commits');
    expect(heads.map((exchange) => exchange.status)).toEqual([304, 304]);

    // The next request is judged by a new commit on the default branch, which gates `lint` too.
    const gated = `${POLICY}  - name: lint\n    if: { action: [lint] }\n    require: { approvals: 1, approvers: [bob] }\n`;
    await world.control.pushCommit(REPO, { branch: 'main', files: { '.github/jit-approval.yml': gated } });
    try {
      before = await world.control.exchangeMark();
      const opened = await world.open(job(), { action: 'lint' });
      expect(opened.body).toMatchObject({ status: 'pending', matched_rules: ['lint'] });
      expect((await reads(before, '/repos/{owner}/{repo}/contents/{path}')).map((exchange) => exchange.status)).toContain(200);
    } finally {
      await world.control.pushCommit(REPO, { branch: 'main', files: { '.github/jit-approval.yml': POLICY } });
    }
  });
});

describe('reading GitHub under a burst', () => {
  it("requests evaluated while their repository's default branch is being read share the read that follows it", async () => {
    const before = await world.control.exchangeMark();
    await world.control.latency({ route: '/repos/{owner}/{repo}/commits', method: 'GET', ms: 800, times: 1 });
    try {
      const answers = await Promise.all(Array.from({ length: 5 }, () => world.open(job(), { action: 'lint' })));
      expect(answers.map((answer) => answer.body.status)).toEqual(['approved', 'approved', 'approved', 'approved', 'approved']);
    } finally {
      await world.control.clearFaults();
    }
    // The first request's read is slow; the four evaluated meanwhile do not take its answer (it may be
    // older than they are), and do not read once each either: they share the next read.
    const heads = (await world.control.exchanges(before)).filter((exchange) => exchange.method === 'GET' && exchange.route === '/repos/{owner}/{repo}/commits');
    expect(heads.length).toBeGreaterThanOrEqual(2);
    expect(heads.length).toBeLessThanOrEqual(3);
  });
});

describe('failing closed', () => {
  it('fails a request under an invalid policy, with file:line:col on the check run', async () => {
    const run = job({ repository: 'acme/broken' });
    const { status, body } = await world.open(run, { action: 'deploy', environment: 'production' });
    expect(status).toBe(200);
    expect(body.status).toBe('failed');
    expect(body.problems).toEqual([expect.stringMatching(/^\.github\/jit-approval\.yml:5:\d+: .*approvals/)]);
    const checkRun = (await world.checkRunOf(body.id as string, 'acme/broken'))!;
    expect(checkRun.conclusion).toBe('failure');
    expect(checkRun.output.summary).toContain('.github/jit-approval.yml:5:');
  });

  it("fails a request under a policy that names another account's notifier, without naming that account's others", async () => {
    // The App serves acme and globex; acme's ops-hook is acme's alone.
    await world.control.seed({
      installations: [{ appId: APP_ID, account: 'globex' }],
      repos: [{ owner: 'globex', name: 'shop', branches: { main: { '.github/jit-approval.yml': POLICY } }, collaborators: { alice: 'admin' } }],
    });
    const { body } = await world.open(job({ repository: 'globex/shop' }), { action: 'deploy', environment: 'production' });
    expect(body).toMatchObject({ status: 'failed', problems: [expect.stringMatching(/^\.github\/jit-approval\.yml:\d+:\d+: .*unknown notifier "ops-hook".*The App has no notifiers configured/)] });
    expect(world.notifications.filter((n) => n.request.id === body.id)).toEqual([]);
  });

  it('fails a request under a policy that is not UTF-8 text, rather than read a rule that then matches nothing', async () => {
    // Saved in Latin-1: "producción" holds the byte 0xF3. Decoded leniently, the rule would name
    // "*-producci\uFFFDn", which no environment matches, and the deploy would need no approval.
    const latin1 = 'version: 1\nunmatched: approve\nrules:\n  - name: prod\n    if: { environment: "*-producci\uDCF3n" }\n    require: { approvals: 1, approvers: [alice] }\n';
    await world.control.seed({ repos: [{ owner: 'acme', name: 'latin1', branches: { main: { '.github/jit-approval.yml': latin1 } }, collaborators: { alice: 'admin' } }] });
    const { body } = await world.open(job({ repository: 'acme/latin1' }), { action: 'deploy', environment: 'eu-producción' });
    expect(body).toMatchObject({ status: 'failed', problems: ['.github/jit-approval.yml:1:1: the file is not valid UTF-8 text'] });
  });
});

describe('a pull request that moved after its run started', () => {
  it('fails closed rather than put an approval of old code on the new head', async () => {
    const opened = await world.control.openPull({ repository: REPO, user: 'mallory', title: 'Sneaky', head: 'sneaky', files: { 'src/app.ts': 'export const safe = true;\n' } });
    await world.control.pushCommit(REPO, { branch: 'sneaky', files: { 'src/app.ts': 'export const safe = false;\n' } });
    const staleRun = job({ ref: `refs/pull/${opened.number}/merge`, sha: opened.merge_sha, event_name: 'pull_request' });
    const { body } = await world.open(staleRun, { action: 'deploy', environment: 'production' });
    expect(body).toMatchObject({ status: 'failed', reason: expect.stringContaining(`pull request #${opened.number} was updated after this run started`) });
  });
});

describe('authentication and scoping', () => {
  it('refuses a request without a token, with an expired token, or for another audience', async () => {
    const run = job();
    const missing = await world.api('POST', '/api/v1/requests', undefined, { action: 'deploy' });
    expect(missing.status).toBe(401);
    expect(missing.body.error?.code).toBe('unauthenticated');

    const expired = await world.token(run, { lifetimeSeconds: 60, issuedAtOffsetSeconds: -600 });
    const late = await world.api('POST', '/api/v1/requests', expired, { action: 'deploy' });
    expect(late.status).toBe(401);
    expect(late.body.error?.code).toBe('token_expired');

    const foreign = await world.token(run, { audience: 'https://someone-else.example' });
    const wrong = await world.api('POST', '/api/v1/requests', foreign, { action: 'deploy' });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error?.code).toBe('token_audience');
  });

  it('takes a token for APP_URL with a trailing slash as well', async () => {
    const slashed = await world.token(job(), { audience: `${APP_URL}/` });
    const answer = await world.api('POST', '/api/v1/requests', slashed, { action: 'lint' });
    expect(answer.status).toBe(200);
    expect(answer.body.details_url).toBe(`${APP_URL}/dashboard/requests/${answer.body.id}`);
  });

  it('hides a request from a token of another repository or another run (404, not 403)', async () => {
    const run = job({ environment: 'production' });
    const { body } = await world.open(run, { action: 'deploy', environment: 'production' });
    expect(body.status).toBe('pending');
    const id = body.id as string;

    for (const stranger of [job({ repository: 'acme/api' }), job()]) {
      const read = await world.poll(stranger, id);
      expect(read.status).toBe(404);
      expect(read.body.error?.code).toBe('not_found');
      const cancel = await world.api('POST', `/api/v1/requests/${id}/cancel`, await world.token(stranger), { reason: 'job_cancelled' });
      expect(cancel.status).toBe(404);
    }
    expect((await world.poll(run, id)).body.status).toBe('pending');
  });

  it('takes the environment from the token: the Action may not claim another one', async () => {
    const answer = await world.open(job({ environment: 'staging' }), { action: 'deploy', environment: 'production' });
    expect(answer.status).toBe(422);
    expect(answer.body.error).toEqual({ code: 'invalid_request', message: 'environment "production" does not match this job\'s environment "staging"' });
  });

  it('keeps the action names of the policy preview and the job-level gate for them', async () => {
    const preview = await world.open(job(), { action: 'policy' });
    expect(preview.status).toBe(422);
    expect(preview.body.error).toEqual({ code: 'invalid_request', message: expect.stringContaining("/action \"policy\" is reserved: the check run `jit: policy` is the policy preview's") });
    // Approved, a step named so would become the job gate's base: its next job's changes measured from there.
    const deployment = await world.open(job({ environment: 'production' }), { action: 'Deployment', severity: 'low' });
    expect(deployment.status).toBe(422);
    expect(deployment.body.error).toEqual({
      code: 'invalid_request',
      message: '/action "Deployment" is reserved: it names the job-level gate\'s requests (environments that ask this App before a job starts); name the gated step\'s action something else',
    });
  });

  it('rejects a body that does not follow the API, saying what is wrong', async () => {
    const answer = await world.open(job(), { action: 'deploy', timeout: 5 });
    expect(answer.status).toBe(422);
    expect(answer.body.error).toEqual({ code: 'invalid_request', message: expect.stringContaining('timeout') });
  });

  it('refuses text the store cannot keep (NUL, a lone surrogate) with a 422 naming the field, and opens nothing', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ summary: 'ship it\u0000' }, '/summary contains NUL (U+0000) at character 8, which cannot be stored; remove it'],
      [{ environment: 'prod\u0000uction' }, '/environment contains NUL (U+0000) at character 5, which cannot be stored; remove it'],
      [{ environment: 'production', severity: 'hi\u0000gh' }, '/severity contains NUL (U+0000) at character 3, which cannot be stored; remove it'],
      [{ summary: 'half an emoji \ud83d' }, '/summary contains a lone surrogate (U+D83D) at character 15, which is not Unicode text; send whole characters'],
      [{ environment: '\udc00production' }, '/environment contains a lone surrogate (U+DC00) at character 1, which is not Unicode text; send whole characters'],
    ];
    for (const [fields, message] of cases) {
      const run = job();
      const answer = await world.open(run, { action: 'deploy', ...fields });
      expect([answer.status, answer.body.error]).toEqual([422, { code: 'invalid_request', message }]);
      // Refused before anything was stored: the same step opens its request once its text is fixed.
      const fixed = await world.open(run, { action: 'deploy', environment: 'production' });
      expect([fixed.status, fixed.body.status]).toEqual([200, 'pending']);
      await world.api('POST', `/api/v1/requests/${fixed.body.id}/cancel`, await world.token(run), { reason: 'timeout' });
    }
    // Whole surrogate pairs, right-to-left and zero-width characters are text like any other.
    const run = job();
    const shown = await world.open(run, { action: 'deploy', environment: 'production', summary: '🚀 \u202egnp.exe\u200b' });
    expect([shown.status, shown.body.status]).toEqual([200, 'pending']);
    expect((await world.app.store.getRequest(shown.body.id as string))?.facts.summary).toBe('🚀 \u202egnp.exe\u200b');
    await world.api('POST', `/api/v1/requests/${shown.body.id}/cancel`, await world.token(run), { reason: 'timeout' });
  });
});

describe('cancel and long-poll', () => {
  it('times out a request when the Action stops waiting, and a long poll answers at once on the change', async () => {
    const run = job({ environment: 'production' });
    const { body } = await world.open(run, { action: 'deploy' });
    const id = body.id as string;
    const started = Date.now();
    const polling = world.poll(run, id, 30);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const cancelled = await world.api('POST', `/api/v1/requests/${id}/cancel`, await world.token(run), { reason: 'timeout' });
    expect(cancelled.body.status).toBe('timed_out');
    const polled = await polling;
    expect(polled.body.status).toBe('timed_out');
    expect(Date.now() - started).toBeLessThan(10_000);
    const checkRun = await world.checkRun(body.check_run_id as number);
    expect(checkRun.conclusion).toBe('timed_out');
  });
});

describe('operations', () => {
  it('answers /healthz and /metrics in Prometheus text', async () => {
    await world.open(job(), { action: 'publish-docs' });
    await world.open(job({ environment: 'production' }), { action: 'deploy' });
    const health = await fetch(`${world.app.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const metrics = await fetch(`${world.app.url}/metrics`);
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    const text = await metrics.text();
    expect(text).toMatch(/^jit_requests\{status="approved"\} [1-9]\d*$/m);
    expect(text).toMatch(/^jit_requests\{status="pending"\} [1-9]\d*$/m);
    expect(text).toMatch(/^jit_decision_latency_seconds_count\{status="approved"\} [1-9]\d*$/m);
    expect(text).toContain('# TYPE jit_webhook_handling_seconds histogram');
  });

  it('without OAuth settings, the details link says how to enable the dashboard and shows nothing of the request', async () => {
    const { body } = await world.open(job(), { action: 'publish-docs', summary: 'the quarterly numbers' });
    const old = await fetch(`${world.app.url}/requests/${body.id}`, { redirect: 'manual' });
    expect(old.status).toBe(301);
    expect(old.headers.get('location')).toBe(`/dashboard/requests/${body.id}`);
    const page = await fetch(`${world.app.url}/dashboard/requests/${body.id}`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('GITHUB_CLIENT_ID');
    expect(html).toContain(`${APP_URL}/dashboard/auth/callback`);
    for (const secret of ['publish-docs', 'quarterly', 'approved', 'acme/web', String(body.id)]) expect(html).not.toContain(secret);
  });
});
