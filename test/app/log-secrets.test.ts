/**
 * No credential reaches the App's logs: a full flow (a request opened with an OIDC token, votes by
 * webhook comment and by button, a poll, a cancel, a forged delivery, a forged token) at the default
 * level and at debug, with every line captured.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { censorSecrets, CENSORED } from '../../app/ops/log.js';
import { DashboardClient } from '../dashboard/http-client.js';
import { signWebhookBody, type RunnerJob } from '../github-double/index.js';
import { APP_PRIVATE_KEY, eventually, job, REPO, WEBHOOK_SECRET, World, pullRequestJob } from './harness.js';

const PR = 7;
const NOTIFIER_SECRET = 'test-notifier-secret-0123';

class CapturedLines {
  readonly lines: string[] = [];
  write(line: string): void {
    this.lines.push(line);
  }
}

/** The lines a pattern matches, cut short so a failure names the place without printing the secret whole. */
function linesMatching(lines: readonly string[], pattern: RegExp): string[] {
  return lines.filter((line) => pattern.test(line)).map((line) => line.slice(0, 160));
}

describe.each(['info', 'debug'] as const)('with the App logging at %s', (level) => {
  const log = new CapturedLines();
  const oidcTokens: string[] = [];
  let world: World;
  beforeAll(async () => {
    world = await World.start({ logLevel: level, logDestination: log });
  }, 120_000);
  afterAll(async () => world?.stop());

  const token = async (run: RunnerJob) => {
    const minted = await world.token(run);
    oidcTokens.push(minted);
    return minted;
  };

  async function fullFlow(): Promise<{ forgedSignature: string; cookie: string }> {
    const run = pullRequestJob(PR);
    const opened = await world.api('POST', '/api/v1/requests', await token(run), { action: 'migrate', environment: 'prod-db' });
    expect(opened.body.status).toBe('pending');
    const id = opened.body.id as string;
    await world.comment(PR, 'alice', '/approve');
    // A cold App may publish the check run after the open has answered: its buttons exist once it has.
    const shown = await eventually(async () => (await world.api('GET', `/api/v1/requests/${id}`, await token(run))).body, (b) => b.check_run_id !== null, 30_000);
    await world.control.clickCheckRunButton({ repository: REPO, check_run_id: shown.check_run_id as number, user: 'bob', identifier: 'jit-approve' });
    await world.settle();
    expect((await world.api('GET', `/api/v1/requests/${id}?wait=5`, await token(run))).body.status).toBe('approved');

    const other = job();
    const second = await world.api('POST', '/api/v1/requests', await token(other), { action: 'deploy', environment: 'production' });
    const cancelled = await world.api('POST', `/api/v1/requests/${second.body.id as string}/cancel`, await token(other), { reason: 'job_cancelled' });
    expect(cancelled.body.status).toBe('cancelled');

    // Refused credentials are logged too.
    const body = JSON.stringify({ action: 'created', comment: { body: '/approve' } });
    const forgedSignature = signWebhookBody('not-the-secret', body);
    const forged = await fetch(`${world.app.url}/api/github/webhooks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-github-event': 'issue_comment', 'x-github-delivery': randomUUID(), 'x-hub-signature-256': forgedSignature },
      body,
    });
    expect(forged.status).toBe(401);
    const cookie = `jit_session=${randomBytes(16).toString('hex')}`;
    const [header, payload] = (await token(run)).split('.');
    const tampered = await fetch(`${world.app.url}/api/v1/requests/${id}`, { headers: { authorization: `Bearer ${header}.${payload}.c2lnbmF0dXJl`, cookie } });
    expect(tampered.status).toBe(401);
    return { forgedSignature, cookie };
  }

  it('no line holds a token, a signature, a cookie or a secret of the App', async () => {
    const { forgedSignature, cookie } = await fullFlow();
    const { state, dispatcher } = world.github.double;
    const installationTokens = [...state.tokens.keys()];
    expect(installationTokens.length).toBeGreaterThan(0);
    const signatures = dispatcher.deliveries.flatMap((delivery) => [signWebhookBody(WEBHOOK_SECRET, delivery.body, 'sha1'), signWebhookBody(WEBHOOK_SECRET, delivery.body)]);
    const keyLines = APP_PRIVATE_KEY.split('\n').filter((line) => line.length > 0 && !line.startsWith('-----'));
    const secrets = [...oidcTokens, ...installationTokens, ...signatures, ...signatures.map((s) => s.split('=')[1]), forgedSignature, cookie, WEBHOOK_SECRET, NOTIFIER_SECRET, ...keyLines];

    const text = log.lines.join('');
    expect(log.lines.length).toBeGreaterThan(10);
    expect(secrets.filter((secret) => text.includes(secret)).map((secret) => `${secret.slice(0, 12)}…`)).toEqual([]);
    expect(linesMatching(log.lines, /eyJ[\w-]{8,}\.[\w-]{8,}/)).toEqual([]);
    expect(linesMatching(log.lines, /gh[opusr]_[A-Za-z0-9]{8,}/)).toEqual([]);
    expect(linesMatching(log.lines, /sha(1|256)=[0-9a-f]{8,}/)).toEqual([]);
    // The requests are still logged, with their credentials censored.
    expect(text).toContain(`"authorization":"${CENSORED}"`);
    expect(text).toContain(`"x-hub-signature-256":"${CENSORED}"`);
    expect(text).toContain(`"cookie":"${CENSORED}"`);
  }, 90_000);
});

describe('with people signing in to the dashboard', () => {
  const log = new CapturedLines();
  let world: World;
  beforeAll(async () => {
    world = await World.start({ logLevel: 'info', logDestination: log }, { dashboard: true });
  }, 120_000);
  afterAll(async () => world?.stop());

  it("no line holds GitHub's sign-in code or the sign-in's state, which the request log would show in the callback's link", async () => {
    const browser = new DashboardClient(world);
    // As DashboardClient.signIn, keeping the code and state GitHub hands the browser.
    const start = await browser.get('/dashboard/auth/start?return_to=%2Fdashboard%2F');
    const authorize = new URL(start.headers.get('location')!);
    const consent = await fetch(`${authorize.origin}${authorize.pathname}`, {
      method: 'POST',
      redirect: 'manual',
      body: new URLSearchParams({ ...Object.fromEntries(authorize.searchParams), login: 'alice' }),
    });
    const callback = new URL(consent.headers.get('location')!);
    const code = callback.searchParams.get('code')!;
    const state = callback.searchParams.get('state')!;
    expect((await browser.get(`${callback.pathname}${callback.search}`)).status).toBe(303);
    const csrf = await browser.csrf();
    expect((await browser.post('/dashboard/sign-out', { csrf })).status).toBe(303);

    const text = log.lines.join('');
    const secrets = { code, state, csrf, ...Object.fromEntries(browser.cookies) };
    expect(Object.entries(secrets).filter(([, secret]) => text.includes(secret)).map(([name]) => name)).toEqual([]);
    // The sign-in is still logged, link and all, without what it carried.
    expect(text).toContain(`/dashboard/auth/callback?code=${CENSORED}&state=${CENSORED}`);
  }, 60_000);
});

describe('censorSecrets', () => {
  const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOmFjbWUvd2ViIn0.c2lnbmF0dXJlLWJ5dGVz';
  it.each([
    ['a JWT in a message', `token ${jwt} refused`, `token ${CENSORED} refused`],
    ['a bearer credential of any shape', '{"auth":"Bearer abc.def~ghi"}', `{"auth":"Bearer ${CENSORED}"}`],
    ['basic credentials', 'Authorization: basic dXNlcjpwYXNzd29yZA==', `Authorization: basic ${CENSORED}`],
    ['an installation token', 'token ghs_16C7e42F292c6912E7710c838347Ae178B4a', `token ${CENSORED}`],
    ['a classic and a fine-grained personal token', 'ghp_abcdefABCDEF0123456789 github_pat_11ABC_defGHI', `${CENSORED} ${CENSORED}`],
    ['webhook signatures', 'sha256=0a1b2c3d sha1=ffee', `${CENSORED} ${CENSORED}`],
    ['a Slack webhook URL', 'POST https://hooks.slack.com/services/T000/B000/XXXX failed', `POST https://${CENSORED} failed`],
    ['a password in a URL', 'postgres://jit:s3cret@db:5432/jit', `postgres://jit:${CENSORED}@db:5432/jit`],
    ['an OAuth code and state in a link', 'GET /dashboard/auth/callback?code=f5d7cc6a00aa16fe9826&state=g1AM-kg_z2 303', `GET /dashboard/auth/callback?code=${CENSORED}&state=${CENSORED} 303`],
    ['a token in a link, whatever the case of its name', '"location":"https://x.test/a?client_id=Iv1.abc&Token=t0k3n#top"', `"location":"https://x.test/a?client_id=Iv1.abc&Token=${CENSORED}#top"`],
    ['a private key, JSON-escaped', '"-----BEGIN RSA PRIVATE KEY-----\\nMIIE\\n-----END RSA PRIVATE KEY-----"', `"${CENSORED}"`],
  ])('censors %s', (_what, line, censored) => {
    expect(censorSecrets(line)).toBe(censored);
  });

  it("never censors across fields: text someone sends (a link, a header) cannot cut a line's JSON open and hide what lies between", () => {
    const line = `${JSON.stringify({ req: { url: '/-----BEGIN PRIVATE KEY-----', headers: { 'user-agent': '-----END PRIVATE KEY-----' } }, remoteAddress: '203.0.113.7' })}\n`;
    expect(JSON.parse(censorSecrets(line))).toEqual(JSON.parse(line));
    // A key inside one string is still censored whole.
    const key = `${JSON.stringify({ err: { message: `bad key -----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY----- given` } })}\n`;
    expect(JSON.parse(censorSecrets(key))).toEqual({ err: { message: `bad key ${CENSORED} given` } });
  });

  it('leaves a challenge\'s parameters alone', () => {
    const line = '{"www-authenticate":"Bearer error=\\"invalid_token\\""}';
    expect(censorSecrets(line)).toBe(line);
  });

  it('censors known secrets verbatim and as JSON escapes them, but not ones short enough to be ordinary words', () => {
    expect(censorSecrets('{"msg":"secret is s3cr\\"et-value!"}', ['s3cr"et-value!', 'info'])).toBe(`{"msg":"secret is ${CENSORED}"}`);
    expect(censorSecrets('{"level":"info"}', ['info'])).toBe('{"level":"info"}');
  });
});
