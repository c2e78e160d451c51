/**
 * The first start without credentials, over HTTP as a browser would go through it: the operator opens
 * the link with the one-time token the App prints, the setup page's form registers a GitHub App from
 * app.yml at the GitHub double, the double sends the browser back with a code, and the App exchanges
 * it and saves the credentials to `.env`; those credentials then authenticate as the new App and pass
 * the App's own settings check. Anyone without the link gets neither the page nor the callback.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createPublicKey } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { Probot } from 'probot';
import { parse } from 'yaml';
import { octokitRegistrar } from '../../app/github/manifest-conversion.js';
import { needsRegistration, settingsFromEnv, setupSettingsFromEnv } from '../../app/server.js';
import { startSetup, type RunningSetup } from '../../app/setup/setup.js';
import { freePort } from '../free-port.js';
import { startGitHubDouble, type RunningGitHubDouble } from '../github-double/index.js';

const APP_YML = readFileSync(new URL('../../app.yml', import.meta.url), 'utf8');

let github: RunningGitHubDouble;
let setup: RunningSetup;
let dir: string;
let appUrl: string;
let envFile: string;
/** The operator's browser: the cookie the setup link set. */
let cookie: string;
let registeredYet = false;

beforeAll(async () => {
  github = await startGitHubDouble({ seed: {} });
  dir = mkdtempSync(join(tmpdir(), 'jit-setup-'));
  envFile = join(dir, '.env');
  const port = await freePort();
  appUrl = `http://127.0.0.1:${port}`;
  // As `npm start` reads them: the double stands for a GitHub Enterprise Server.
  const settings = setupSettingsFromEnv({ APP_URL: appUrl, PORT: String(port), HOST: '127.0.0.1', GHE_HOST: github.host, GHE_PROTOCOL: 'http' });
  expect(settings).toMatchObject({ githubUrl: github.url, githubApiUrl: github.apiUrl });
  setup = await startSetup({ ...settings, registrar: octokitRegistrar(settings.githubApiUrl), appYml: APP_YML, envFile });
  void setup.registered.then(() => (registeredYet = true));
  cookie = await openSetupLink(setup.setupUrl);
}, 60_000);
afterAll(async () => {
  await setup?.stop();
  await github?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The operator opening the link the App printed: the token goes into a cookie, and the browser on to the page. */
async function openSetupLink(link: string): Promise<string> {
  const answer = await fetch(link, { redirect: 'manual' });
  expect(answer.status).toBe(303);
  expect(answer.headers.get('location')).toBe('/setup');
  return answer.headers.get('set-cookie')!.split(';')[0]!;
}

/** The characters escape-html replaces, back. */
const unescape = (text: string) => text.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

async function setupForm(query = ''): Promise<{ action: string; manifest: Record<string, unknown> }> {
  const answer = await fetch(`${appUrl}/setup${query}`, { headers: { cookie } });
  expect(answer.status).toBe(200);
  const html = await answer.text();
  const action = /<form method="post" action="([^"]+)">/.exec(html)?.[1];
  const manifest = /<input type="hidden" name="manifest" value="([^"]+)">/.exec(html)?.[1];
  expect(action).toBeDefined();
  expect(manifest).toBeDefined();
  return { action: unescape(action!), manifest: JSON.parse(unescape(manifest!)) as Record<string, unknown> };
}

/** The browser submitting the form: GitHub's answer is a redirect to the App's callback. */
async function submit(action: string, manifest: unknown): Promise<string> {
  const answer = await fetch(action, { method: 'POST', body: new URLSearchParams({ manifest: JSON.stringify(manifest) }), redirect: 'manual' });
  expect(answer.status).toBe(302);
  return answer.headers.get('location')!;
}

describe('with no credentials', () => {
  it('is what `npm start` detects: no APP_ID, key, secret or .pem file', () => {
    expect(needsRegistration({ APP_URL: appUrl }, dir)).toBe(true);
    expect(needsRegistration({ APP_URL: appUrl, APP_ID: '1' }, dir)).toBe(false);
    writeFileSync(join(dir, 'app.pem'), '');
    try {
      expect(needsRegistration({ APP_URL: appUrl }, dir)).toBe(false);
    } finally {
      rmSync(join(dir, 'app.pem'));
    }
    expect(() => setupSettingsFromEnv({ APP_URL: 'notaurl', PORT: 'x' })).toThrow('invalid configuration:\n  - APP_URL: expected the public base URL of the App, e.g. https://jit.example.com, got "notaurl"\n  - PORT: expected');
    // Nothing set: the one variable needed, and where the rest are.
    expect(() => setupSettingsFromEnv({})).toThrow(/APP_URL: missing; .*APP_URL\/setup, to register the GitHub App; README\.md, "Set up for real", lists every variable/);
  });

  it('refuses to start, naming the file, when it could not save the credentials GitHub hands over only once', async () => {
    const port = await freePort();
    const start = (file: string) => startSetup({ port, host: '127.0.0.1', appUrl: 'https://jit.example.test', githubUrl: github.url, registrar: octokitRegistrar(github.apiUrl), appYml: APP_YML, envFile: file });
    const missingDir = join(dir, 'no-such-dir', '.env');
    await expect(start(missingDir)).rejects.toThrow(`${missingDir}: the setup page saves the new App's credentials there, but its directory cannot be written`);
    await expect(start(dir)).rejects.toThrow(`${dir}: the setup page saves the new App's credentials there, but it is not a file`);
    // Nothing listens: no page leads the operator to register an App whose key would then be lost.
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  });

  // Root reads any file whatever its mode, so only another user can be kept from reading one.
  (process.getuid?.() === 0 ? it.skip : it)('refuses to start when it could write the file but not read it, which saving its other lines needs', async () => {
    const port = await freePort();
    const writeOnly = join(dir, 'write-only.env');
    writeFileSync(writeOnly, 'PORT=3000\n', { mode: 0o200 });
    const start = startSetup({ port, host: '127.0.0.1', appUrl: 'https://jit.example.test', githubUrl: github.url, registrar: octokitRegistrar(github.apiUrl), appYml: APP_YML, envFile: writeOnly });
    await expect(start.then(async (running) => running.stop())).rejects.toThrow(`${writeOnly}: the setup page saves the new App's credentials there, but it cannot be read`);
  });

  // Another user's file the App may write (group- or world-writable): saving would write the private key
  // into it and then fail to make it readable by its owner only. Run as another user (only root can switch).
  (process.geteuid?.() === 0 ? it : it.skip)("refuses to start when .env is another user's file it could write", async () => {
    const port = await freePort();
    const sharedDir = mkdtempSync(join(tmpdir(), 'jit-setup-shared-'));
    const shared = join(sharedDir, '.env');
    chmodSync(sharedDir, 0o755);
    writeFileSync(shared, 'PORT=3000\n');
    chmodSync(shared, 0o666);
    let started: Promise<RunningSetup>;
    process.setegid!(65534);
    process.seteuid!(65534);
    try {
      started = startSetup({ port, host: '127.0.0.1', appUrl: 'https://jit.example.test', githubUrl: github.url, registrar: octokitRegistrar(github.apiUrl), appYml: APP_YML, envFile: shared });
      await started.then((running) => running.stop(), () => undefined);
    } finally {
      process.seteuid!(0);
      process.setegid!(0);
      rmSync(sharedDir, { recursive: true, force: true });
    }
    await expect(started).rejects.toThrow(`${shared}: the setup page saves the new App's credentials there, but it cannot be made readable by its owner only`);
  });

  it('prints a link to the setup page with a token of 32 random bytes', () => {
    const link = new URL(setup.setupUrl);
    expect(`${link.origin}${link.pathname}`).toBe(`${appUrl}/setup`);
    expect(link.searchParams.get('token')).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it("serves a page whose form posts app.yml's permissions and events, pointed at this App, to GitHub", async () => {
    const { action, manifest } = await setupForm();
    const appYml = parse(APP_YML) as Record<string, unknown>;
    expect(new URL(action).origin + new URL(action).pathname).toBe(`${github.url}/settings/apps/new`);
    expect(new URL(action).searchParams.get('state')).toMatch(/^[0-9a-f]{48}$/);
    expect(manifest).toEqual({
      ...appYml,
      url: appUrl,
      hook_attributes: { url: `${appUrl}/api/github/webhooks`, active: true },
      redirect_url: `${appUrl}/setup/callback`,
      callback_urls: [`${appUrl}/dashboard/auth/callback`],
    });
  });

  it('registers for an organization when one is named, and refuses what is not an organization name', async () => {
    const { action } = await setupForm('?org=acme-labs');
    expect(new URL(action).pathname).toBe('/organizations/acme-labs/settings/apps/new');
    const bad = await fetch(`${appUrl}/setup?org=${encodeURIComponent('acme/../x')}`, { headers: { cookie } });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('is not a GitHub organization name');
  });

  it('says so, and saves nothing, when GitHub will not exchange the code', async () => {
    const { action } = await setupForm();
    const state = new URL(action).searchParams.get('state')!;
    const answer = await fetch(`${appUrl}/setup/callback?code=not-a-code&state=${state}`, { headers: { cookie } });
    expect(answer.status).toBe(502);
    expect(await answer.text()).toContain("GitHub did not hand over the new App's credentials");
    expect(existsSync(envFile)).toBe(false);
  });

  it('answers a health check with 503 and where to register, not a bare 404', async () => {
    const answer = await fetch(`${appUrl}/healthz`);
    expect(answer.status).toBe(503);
    expect(await answer.json()).toEqual({ status: 'unavailable', error: { code: 'not_registered', message: `no credentials yet; register the GitHub App from the link ${appUrl}/setup?token=… that the App printed in its log` } });
  });

  it("refuses a callback that does not carry this page's state, and saves nothing", async () => {
    const { action, manifest } = await setupForm();
    const location = new URL(await submit(action, manifest));
    location.searchParams.set('state', 'f'.repeat(48));
    const answer = await fetch(location, { headers: { cookie } });
    expect(answer.status).toBe(400);
    expect(existsSync(envFile)).toBe(false);
  });
});

// APP_URL is public: anyone can reach the setup page before the operator has registered the App.
describe('a visitor without the setup link', () => {
  it('gets neither the page nor its state, only where the operator finds the link', async () => {
    const { action } = await setupForm();
    const state = new URL(action).searchParams.get('state')!;
    const wrongToken = 'A'.repeat(43);
    const visitors: Record<string, string>[] = [{}, { cookie: `jit_setup=${wrongToken}` }];
    for (const path of ['/setup', '/setup?org=evil-corp', `/setup?token=${wrongToken}`, '/setup?token=', '/setup/callback', `/setup/callback?code=x&state=${state}`]) {
      for (const headers of visitors) {
        const answer = await fetch(`${appUrl}${path}`, { headers, redirect: 'manual' });
        const html = await answer.text();
        expect([path, answer.status]).toEqual([path, 403]);
        expect(answer.headers.get('set-cookie')).toBeNull();
        expect(html).toContain('Open the link');
        expect(html).toContain('printed in its log');
        expect(html).not.toContain(state);
        expect(html).not.toContain('name="manifest"');
      }
    }
    // The site's root leads to the page, which the same rule guards.
    const root = await fetch(`${appUrl}/`, { redirect: 'manual' });
    expect([root.status, root.headers.get('location')]).toEqual([303, '/setup']);
  });

  it("cannot complete a registration of their own App with the page's state, and nothing is saved", async () => {
    // Even holding the state (seen over the operator's shoulder, say), without the operator's cookie:
    const { action } = await setupForm();
    const state = new URL(action).searchParams.get('state')!;
    const evilManifest = {
      name: 'Mercurial JIT (acme)',
      url: 'https://evil.example',
      hook_attributes: { url: 'https://evil.example/hook', active: true },
      redirect_url: `${appUrl}/setup/callback`,
      default_permissions: { checks: 'write', contents: 'read', issues: 'write', pull_requests: 'write', deployments: 'write', actions: 'read', members: 'read' },
      default_events: [],
    };
    const callback = await submit(`${github.url}/organizations/evil-corp/settings/apps/new?state=${state}`, evilManifest);
    expect(new URL(callback).searchParams.get('state')).toBe(state);
    const visitors: Record<string, string>[] = [{}, { cookie: 'jit_setup=' }, { cookie: `jit_setup=${state}` }];
    for (const headers of visitors) {
      const answer = await fetch(callback, { headers });
      expect(answer.status).toBe(403);
      expect(await answer.text()).not.toContain('Registered');
    }
    expect(existsSync(envFile)).toBe(false);
    expect(registeredYet).toBe(false);
    // The code was never exchanged: GitHub registered an App, but this one does not run as it.
    expect([...github.double.state.apps.values()].some((app) => app.name === evilManifest.name)).toBe(false);
  });

  it("listens on localhost without HOST, as the App does afterwards on the same port, not on every address", async () => {
    const port = await freePort();
    const local = await startSetup({ port, appUrl: 'https://jit.example.test', githubUrl: github.url, registrar: octokitRegistrar(github.apiUrl), appYml: APP_YML, envFile: join(dir, 'unused.env') });
    try {
      expect(local.url).toBe(`http://localhost:${port}`);
      expect((await fetch(`${local.url}/healthz`)).status).toBe(503);
      // 127.0.0.2 is this machine too, but not `localhost`: only a server listening on every address answers there.
      const reached = await new Promise<boolean>((resolve) => {
        const socket = connect(port, '127.0.0.2');
        socket.once('connect', () => {
          socket.destroy();
          resolve(true);
        });
        socket.once('error', () => resolve(false));
      });
      expect(reached).toBe(false);
    } finally {
      await local.stop();
    }
  });

  it('sets the cookie HttpOnly, SameSite=Lax, for /setup only, and Secure when APP_URL is https', async () => {
    const plain = (await fetch(setup.setupUrl, { redirect: 'manual' })).headers.get('set-cookie')!;
    expect(plain.split('; ').slice(1).sort()).toEqual(['HttpOnly', 'Path=/setup', 'SameSite=Lax']);
    const port = await freePort();
    const https = await startSetup({ port, host: '127.0.0.1', appUrl: 'https://jit.example.test', githubUrl: github.url, registrar: octokitRegistrar(github.apiUrl), appYml: APP_YML, envFile: join(dir, 'unused.env') });
    try {
      const token = new URL(https.setupUrl).searchParams.get('token')!;
      expect(token).not.toBe(new URL(setup.setupUrl).searchParams.get('token'));
      const answer = await fetch(`${https.url}/setup?token=${token}`, { redirect: 'manual' });
      expect(answer.status).toBe(303);
      expect(answer.headers.get('set-cookie')!.split('; ').slice(1).sort()).toEqual(['HttpOnly', 'Path=/setup', 'SameSite=Lax', 'Secure']);
      // One process's token opens no other's page.
      expect((await fetch(setup.setupUrl.replace(appUrl, https.url), { redirect: 'manual' })).status).toBe(403);
    } finally {
      await https.stop();
    }
  });
});

describe('registering', () => {
  let appId: number;

  beforeAll(async () => {
    writeFileSync(envFile, 'APP_URL=https://jit.example.test\n# an earlier attempt\nAPP_ID=1\n');
  });

  it('exchanges the code and saves APP_ID, PRIVATE_KEY, WEBHOOK_SECRET and the OAuth credentials to .env, keeping its other lines', async () => {
    const { action, manifest } = await setupForm();
    const callback = await submit(action, manifest);
    expect(callback.startsWith(`${appUrl}/setup/callback?code=`)).toBe(true);
    const answer = await fetch(callback, { headers: { cookie } });
    const html = await answer.text();
    expect(answer.status).toBe(200);
    const registered = await setup.registered;
    appId = registered.id;
    expect(html).toContain(`App id ${appId}`);
    // Whose App it is, as GitHub answered the exchange.
    expect(registered.owner).toBe(github.double.state.apps.get(appId)!.owner.login);
    expect(html).toContain(`owned on GitHub by <strong>${registered.owner}</strong>`);
    expect(html).toContain(`href="${registered.htmlUrl}/installations/new"`);

    const text = readFileSync(envFile, 'utf8');
    expect(text.startsWith('APP_URL=https://jit.example.test\n# an earlier attempt\n')).toBe(true);
    expect(text).not.toContain('APP_ID=1\n');
    expect(statSync(envFile).mode & 0o777).toBe(0o600);
    const env = parseEnv(text);
    expect(env.APP_ID).toBe(String(appId));
    // The dashboard's sign-in works from the first start: the App's OAuth credentials and its callback URL.
    const app = github.double.state.apps.get(appId)!;
    expect(env).toMatchObject({ GITHUB_CLIENT_ID: app.clientId, GITHUB_CLIENT_SECRET: app.clientSecret });
    expect(app.callbackUrls).toEqual([`${appUrl}/dashboard/auth/callback`]);

    // The double now knows the App as the manifest described it.
    expect(app).toMatchObject({ name: manifest.name, webhook: { url: `${appUrl}/api/github/webhooks`, secret: env.WEBHOOK_SECRET }, events: manifest.default_events, permissions: manifest.default_permissions });
  });

  it('saves credentials that pass the App settings check and authenticate as the new App', async () => {
    const env = parseEnv(readFileSync(envFile, 'utf8'));
    const settings = settingsFromEnv({ ...env, APP_URL: appUrl });
    expect(settings.appId).toBe(appId);
    expect(createPublicKey(settings.privateKey).export({ type: 'spki', format: 'pem' })).toBe(github.double.state.apps.get(appId)!.publicKey);
    const octokit = await new Probot({ appId, privateKey: settings.privateKey, baseUrl: github.apiUrl, logLevel: 'fatal' }).auth();
    const { data } = await octokit.rest.apps.getAuthenticated();
    expect(data).toMatchObject({ id: appId, name: parse(APP_YML).name });
  });

  it('once registered, the setup page says so rather than offering a second registration', async () => {
    expect((await fetch(`${appUrl}/setup`)).status).toBe(403);
    const answer = await fetch(`${appUrl}/setup`, { headers: { cookie } });
    const html = await answer.text();
    expect(html).toContain(`App id ${appId}`);
    expect(html).not.toContain('name="manifest"');
    const health = await fetch(`${appUrl}/healthz`);
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({ error: { code: 'not_registered', message: 'registered; the App is starting' } });
  });
});

describe('an APP_URL with a path, behind a proxy that strips it', () => {
  it('builds the manifest, the redirects, the links and the cookie under that path', async () => {
    const port = await freePort();
    const origin = `http://127.0.0.1:${port}`;
    const prefixed = await startSetup({ port, host: '127.0.0.1', appUrl: `${origin}/jit/`, githubUrl: github.url, registrar: octokitRegistrar(github.apiUrl), appYml: APP_YML, envFile: join(dir, 'unused.env') });
    try {
      const link = new URL(prefixed.setupUrl);
      expect(link.pathname).toBe('/jit/setup');
      // What the proxy forwards to the App: the path without its prefix. The browser resolves the answers against its own.
      const opened = await fetch(`${origin}/setup${link.search}`, { redirect: 'manual' });
      expect(new URL(opened.headers.get('location')!, link).href).toBe(`${origin}/jit/setup`);
      const cookieHeader = opened.headers.get('set-cookie')!;
      expect(cookieHeader.split('; ')).toContain('Path=/jit/setup');
      const browser = { cookie: cookieHeader.split(';')[0]! };
      const html = await (await fetch(`${origin}/setup`, { headers: browser })).text();
      const manifest = JSON.parse(unescape(/<input type="hidden" name="manifest" value="([^"]+)">/.exec(html)![1]!)) as Record<string, unknown>;
      expect(manifest).toMatchObject({
        url: `${origin}/jit`,
        hook_attributes: { url: `${origin}/jit/api/github/webhooks` },
        redirect_url: `${origin}/jit/setup/callback`,
        callback_urls: [`${origin}/jit/dashboard/auth/callback`],
      });
      expect(html).toContain('<form method="get" action="/jit/setup">');
      const bad = await (await fetch(`${origin}/setup?org=-`, { headers: browser })).text();
      expect(bad).toContain('<a href="/jit/setup">');
      const root = await fetch(`${origin}/`, { redirect: 'manual' });
      expect(root.headers.get('location')).toBe('/jit/setup');
    } finally {
      await prefixed.stop();
    }
  });
});

describe('two returns from GitHub at once (a double click, a second tab)', () => {
  it('completes one registration and refuses the other clearly, saving one App\'s credentials', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const file = join(dir, 'twice.env');
    const real = octokitRegistrar(github.apiUrl);
    let calls = 0;
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let firstCalled!: () => void;
    const called = new Promise<void>((resolve) => (firstCalled = resolve));
    // The first exchange waits at GitHub until the second return has had its answer.
    const registrar = {
      async convertManifest(code: string) {
        calls += 1;
        if (calls === 1) {
          firstCalled();
          await held;
        }
        return real.convertManifest(code);
      },
    };
    const twice = await startSetup({ port, host: '127.0.0.1', appUrl: url, githubUrl: github.url, registrar, appYml: APP_YML, envFile: file });
    try {
      const link = await fetch(twice.setupUrl, { redirect: 'manual' });
      const browser = { cookie: link.headers.get('set-cookie')!.split(';')[0]! };
      const html = await (await fetch(`${url}/setup`, { headers: browser })).text();
      const action = unescape(/<form method="post" action="([^"]+)">/.exec(html)![1]!);
      const manifest = JSON.parse(unescape(/<input type="hidden" name="manifest" value="([^"]+)">/.exec(html)![1]!)) as Record<string, unknown>;
      // GitHub takes each App name once: the operator names them apart on its page.
      const [first, second] = [await submit(action, { ...manifest, name: 'JIT twice 1' }), await submit(action, { ...manifest, name: 'JIT twice 2' })];
      const firstAnswer = fetch(first, { headers: browser });
      await called;
      const secondAnswer = await fetch(second, { headers: browser });
      const secondHtml = await secondAnswer.text();
      release();
      const firstHtml = await (await firstAnswer).text();
      const registered = await twice.registered;
      expect([secondAnswer.status, calls]).toEqual([409, 1]);
      expect(secondHtml).toContain('already being completed');
      expect(firstHtml).toContain(`App id ${registered.id}`);
      expect(parseEnv(readFileSync(file, 'utf8')).APP_ID).toBe(String(registered.id));
    } finally {
      await twice.stop();
    }
  });
});

describe('the double', () => {
  it('exchanges a code once only', async () => {
    const manifest = { name: 'Once Only', url: 'https://once.example.test', hook_attributes: { url: 'https://once.example.test/hook' }, redirect_url: 'https://once.example.test/cb' };
    const location = new URL(await submit(`${github.url}/settings/apps/new?state=s1`, manifest));
    expect(location.searchParams.get('state')).toBe('s1');
    const code = location.searchParams.get('code')!;
    const registrar = octokitRegistrar(github.apiUrl);
    const first = await registrar.convertManifest(code);
    expect(first).toMatchObject({ name: 'Once Only', slug: 'once-only' });
    await expect(registrar.convertManifest(code)).rejects.toMatchObject({ status: 404 });
  });

  it('refuses a form without a manifest, naming what is missing', async () => {
    const answer = await fetch(`${github.url}/settings/apps/new`, { method: 'POST', body: new URLSearchParams({ manifest: JSON.stringify({ url: 'https://x.example.test' }) }), redirect: 'manual' });
    expect(answer.status).toBe(400);
    expect(await answer.text()).toBe('Invalid GitHub App configuration: missing name, redirect_url');
  });
});
