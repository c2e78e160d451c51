/**
 * The App's settings are checked at start: every problem is listed in one error, each naming its
 * variable and the form expected, before anything listens or touches the database.
 */
import { describe, expect, it } from '@jest/globals';
import { execFile, spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { settingsFromEnv, startApp } from '../../app/server.js';
import { generateAppKeyPair, startGitHubDouble } from '../github-double/index.js';
import { openStore } from '../../app/store/index.js';
import { MIGRATIONS } from '../../app/store/migrations.js';
import { dropSchema, POSTGRES_URL, randomSchema } from '../store/harness.js';
import { freePort } from '../free-port.js';

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
const good = { APP_ID: '123456', WEBHOOK_SECRET: 'secret', APP_URL: 'https://jit.example.test', PRIVATE_KEY: privateKey };

/** Raw strings, as a shell would set them (Probot types some variables more narrowly). */
type Env = Record<string, string | undefined>;
const settingsOf = (env: Env) => settingsFromEnv(env as NodeJS.ProcessEnv);

function problemsOf(env: Env): string[] {
  try {
    settingsOf(env);
  } catch (err) {
    const [header, ...lines] = (err as Error).message.split('\n');
    expect(header).toBe('invalid configuration:');
    return lines.map((line) => line.replace(/^ {2}- /, ''));
  }
  throw new Error('expected the settings to be refused');
}

describe('the settings', () => {
  it('are read when every value has its expected form', () => {
    const settings = settingsFromEnv({
      ...good,
      PORT: '8080',
      HOST: '127.0.0.1',
      GHE_HOST: 'ghe.example.com:8443',
      GHE_PROTOCOL: 'http',
      OIDC_ISSUER: 'https://ghe.example.com/_services/token',
      DATABASE_URL: 'postgresql://jit:pw@db:5432/jit',
      LOG_LEVEL: 'warn',
    });
    expect(settings).toMatchObject({
      appId: 123456,
      port: 8080,
      host: '127.0.0.1',
      githubApiUrl: 'http://ghe.example.com:8443/api/v3',
      appUrl: 'https://jit.example.test',
      oidcIssuer: 'https://ghe.example.com/_services/token',
      databaseUrl: 'postgresql://jit:pw@db:5432/jit',
      logLevel: 'warn',
    });
  });

  it('fall back to the defaults when optional values are unset or empty', () => {
    const settings = settingsOf({ ...good, PORT: '', LOG_LEVEL: '', GHE_HOST: '', OIDC_ISSUER: '' });
    expect(settings).toMatchObject({ port: 3000, githubApiUrl: 'https://api.github.com', oidcIssuer: 'https://token.actions.githubusercontent.com' });
    expect(settings.logLevel).toBeUndefined();
    expect(settings.host).toBeUndefined();
  });

  it('list every problem in one error, each with the form expected', () => {
    const problems = problemsOf({
      APP_ID: 'abc',
      APP_URL: 'notaurl',
      LOG_LEVEL: 'loud',
      PORT: '70000',
      GHE_HOST: 'https://ghe.example.com/',
      GHE_PROTOCOL: 'ftp',
      DATABASE_URL: 'mysql://root:hunter2@db/jit',
      MAX_PENDING_PER_RUN: 'ten',
      RECONCILE_INTERVAL: '120',
    });
    expect(problems).toEqual([
      expect.stringMatching(/^WEBHOOK_SECRET: missing; expected the webhook secret/),
      `APP_ID: expected the App's numeric id from its settings page, e.g. 123456, got "abc"`,
      `PRIVATE_KEY or PRIVATE_KEY_PATH: missing; expected the App's private key as PEM text, or the path of its .pem file`,
      'APP_URL: expected the public base URL of the App, e.g. https://jit.example.com, got "notaurl"',
      'PORT: expected a port number from 1 to 65535, got "70000"',
      'GHE_PROTOCOL: expected one of http, https, got "ftp"',
      'GHE_HOST: expected a host name without scheme or path, e.g. ghe.example.com, got "https://ghe.example.com/"',
      'DATABASE_URL: expected a postgres://user:password@host:5432/database URL',
      'LOG_LEVEL: expected one of trace, debug, info, warn, error, fatal, silent, got "loud"',
      expect.stringMatching(/^RECONCILE_INTERVAL: invalid duration "120"/),
      'MAX_PENDING_PER_RUN: expected a whole number of at least 1, got "ten"',
    ]);
  });

  it('never echo the database URL, which holds a password', () => {
    expect(() => settingsFromEnv({ ...good, DATABASE_URL: 'mysql://root:hunter2@db/jit' })).toThrow(/^(?![\s\S]*hunter2)/);
  });

  it.each([
    ['APP_ID', '0'],
    ['APP_ID', '-3'],
    ['APP_ID', '1.5'],
    ['APP_ID', '99999999999999999999'],
    ['APP_URL', 'ftp://jit.example.test'],
    ['APP_URL', 'jit.example.test'],
    ['APP_URL', 'https://user:pw@jit.example.test'],
    ['OIDC_ISSUER', 'token.actions.githubusercontent.com'],
    ['PORT', 'http'],
    ['PORT', '-1'],
    ['LOG_LEVEL', 'INFO'],
    ['GHE_HOST', 'ghe.example.com/api/v3'],
  ])('refuse %s=%j, naming the variable', (name, value) => {
    const problems = problemsOf({ ...good, [name]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(new RegExp(`^${name}: expected .*, got "${value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"$`));
  });

  it('refuse PORT=0, which Probot would take for its default, 3000, not for any free port', () => {
    expect(problemsOf({ ...good, PORT: '0' })).toEqual(['PORT: expected a port number from 1 to 65535, got "0"']);
    expect(settingsOf({ ...good, METRICS_PORT: '0' }).metricsPort).toBe(0);
  });

  it('refuse a RECONCILE_INTERVAL longer than a day, which would leave a lost approval unseen that long (or past the last date there is)', () => {
    expect(settingsOf({ ...good, RECONCILE_INTERVAL: '1d' }).reconcileIntervalMs).toBe(86_400_000);
    expect(problemsOf({ ...good, RECONCILE_INTERVAL: '20000000w' })).toEqual(['RECONCILE_INTERVAL: expected at most 1d, got "20000000w"']);
  });

  it('refuse an http OIDC_ISSUER away from this machine, through which anyone on the way could swap the keys that sign job tokens', () => {
    const issuer = 'http://issuer.example.com/_services/token';
    expect(problemsOf({ ...good, OIDC_ISSUER: issuer })).toEqual([
      `OIDC_ISSUER: expected an https URL (the keys that sign job tokens are fetched from it, and over http anyone on the way could replace them); http only to a loopback address, or with GHE_PROTOCOL=http; got "${issuer}"`,
    ]);
    expect(problemsOf({ ...good, GHE_HOST: 'ghe.example.com', OIDC_ISSUER: issuer })).toHaveLength(1);
    // A server spoken to in clear already, and the machine itself, are the operator's to choose.
    expect(settingsOf({ ...good, GHE_HOST: 'ghe.example.com', GHE_PROTOCOL: 'http', OIDC_ISSUER: issuer }).oidcIssuer).toBe(issuer);
    expect(settingsOf({ ...good, OIDC_ISSUER: 'http://127.0.0.1:8080/token' }).oidcIssuer).toBe('http://127.0.0.1:8080/token');
    expect(settingsOf({ ...good, OIDC_ISSUER: 'http://localhost:8080/token' }).oidcIssuer).toBe('http://localhost:8080/token');
    expect(problemsOf({ ...good, OIDC_ISSUER: 'http://localhost.evil.example/token' })).toHaveLength(1);
  });

  it("refuse an OIDC_ISSUER with a trailing slash, which no GitHub token's issuer has", () => {
    expect(problemsOf({ ...good, OIDC_ISSUER: 'https://token.actions.githubusercontent.com/' })).toEqual([
      'OIDC_ISSUER: expected an absolute http(s) URL, e.g. https://token.actions.githubusercontent.com (without a trailing slash: a token\'s issuer must match it exactly), got "https://token.actions.githubusercontent.com/"',
    ]);
  });

  it('read METRICS_TOKEN, refusing a short or spaced token without echoing it', () => {
    expect(settingsFromEnv({ ...good, METRICS_TOKEN: 'a'.repeat(16) }).metricsToken).toBe('a'.repeat(16));
    expect(settingsFromEnv(good).metricsToken).toBeUndefined();
    for (const token of ['short-token', 'sixteen chars or more']) {
      const problems = problemsOf({ ...good, METRICS_TOKEN: token });
      expect(problems).toEqual([expect.stringMatching(/^METRICS_TOKEN: expected a random token of at least 16 characters without spaces/)]);
      expect(problems[0]).not.toContain(token);
    }
  });

  it('read METRICS_PORT and METRICS_HOST, refusing the App\'s own port and a host without a port', () => {
    expect(settingsFromEnv({ ...good, PORT: '3000', METRICS_PORT: '9464', METRICS_HOST: '10.0.0.5' })).toMatchObject({ metricsPort: 9464, metricsHost: '10.0.0.5' });
    expect(settingsFromEnv(good).metricsPort).toBeUndefined();
    expect(problemsOf({ ...good, METRICS_PORT: '3000' })).toEqual(['METRICS_PORT: expected a port other than the App\'s (PORT 3000), got "3000"']);
    expect(problemsOf({ ...good, METRICS_PORT: 'metrics' })).toEqual(['METRICS_PORT: expected a port number from 0 to 65535 (0: any free port), got "metrics"']);
    expect(problemsOf({ ...good, METRICS_HOST: '127.0.0.1' })).toEqual([expect.stringMatching(/^METRICS_HOST: set without METRICS_PORT/)]);
  });

  it('read GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET together (the dashboard\'s sign-in), refusing one without the other and never echoing the secret', () => {
    expect(settingsOf(good).oauth).toBeUndefined();
    expect(settingsOf({ ...good, GITHUB_CLIENT_ID: 'Iv23liabc', GITHUB_CLIENT_SECRET: 'sekrit-value' }).oauth).toEqual({ clientId: 'Iv23liabc', clientSecret: 'sekrit-value' });
    expect(problemsOf({ ...good, GITHUB_CLIENT_SECRET: 'sekrit-value' })).toEqual([expect.stringMatching(/^GITHUB_CLIENT_ID: missing while GITHUB_CLIENT_SECRET is set/)]);
    const [noSecret] = problemsOf({ ...good, GITHUB_CLIENT_ID: 'Iv23liabc' });
    expect(noSecret).toMatch(/^GITHUB_CLIENT_SECRET: missing while GITHUB_CLIENT_ID is set/);
    expect(problemsOf({ ...good, GITHUB_CLIENT_SECRET: 'sekrit-value' }).join('\n')).not.toContain('sekrit');
  });

  it("take the OIDC issuer of the GitHub Enterprise Server GHE_HOST names, never github.com's, unless OIDC_ISSUER says otherwise", () => {
    // github.com's issuer would let any github.com workflow of a repository named like one on the server speak for it.
    expect(settingsOf({ ...good, GHE_HOST: 'ghe.example.com' }).oidcIssuer).toBe('https://ghe.example.com/_services/token');
    expect(settingsOf({ ...good, GHE_HOST: '127.0.0.1:8080', GHE_PROTOCOL: 'http', OIDC_ISSUER: '' }).oidcIssuer).toBe('http://127.0.0.1:8080/_services/token');
    expect(settingsOf({ ...good, GHE_HOST: 'ghe.example.com', OIDC_ISSUER: 'https://issuer.example.com/token' }).oidcIssuer).toBe('https://issuer.example.com/token');
    expect(settingsOf(good).oidcIssuer).toBe('https://token.actions.githubusercontent.com');
  });

  it('refuse GHE_PROTOCOL without GHE_HOST, which would otherwise be ignored', () => {
    expect(problemsOf({ ...good, GHE_PROTOCOL: 'http' })).toEqual(['GHE_PROTOCOL: set without GHE_HOST; expected GHE_HOST too, or neither for github.com']);
  });

  it('refuse a private key that is not PEM, or a key file that does not parse, naming where it came from', () => {
    expect(problemsOf({ ...good, PRIVATE_KEY: 'not a key' })).toEqual([expect.stringMatching(/^PRIVATE_KEY: The contents of "env.PRIVATE_KEY" could not be validated/)]);
    const truncated = privateKey.slice(0, 200) + privateKey.slice(-40);
    expect(problemsOf({ ...good, PRIVATE_KEY: truncated })).toEqual([expect.stringMatching(/^PRIVATE_KEY: expected a PEM private key .*does not parse/)]);
    const dir = mkdtempSync(join(tmpdir(), 'jit-settings-'));
    try {
      const path = join(dir, 'app.pem');
      writeFileSync(path, truncated);
      const { PRIVATE_KEY: _unused, ...withoutKey } = good;
      expect(problemsOf({ ...withoutKey, PRIVATE_KEY_PATH: path })).toEqual([expect.stringMatching(new RegExp(`^PRIVATE_KEY_PATH \\(${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\): expected a PEM private key`))]);
      expect(problemsOf({ ...withoutKey, PRIVATE_KEY_PATH: join(dir, 'missing.pem') })).toEqual([`PRIVATE_KEY_PATH: no such file: ${join(dir, 'missing.pem')}`]);
      expect(problemsOf({ ...withoutKey, PRIVATE_KEY_PATH: dir })).toEqual([`PRIVATE_KEY_PATH: ${dir} is a directory; expected the path of the App's .pem file`]);
      writeFileSync(path, privateKey);
      expect(settingsFromEnv({ ...withoutKey, PRIVATE_KEY_PATH: path }).privateKey).toBe(privateKey);
      const ed25519 = generateKeyPairSync('ed25519', { privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } }).privateKey;
      expect(problemsOf({ ...good, PRIVATE_KEY: ed25519 })).toEqual(["PRIVATE_KEY: expected the GitHub App's RSA private key, got an ed25519 key"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuse a value in quotes, which `docker run --env-file` keeps', () => {
    expect(problemsOf({ ...good, WEBHOOK_SECRET: '"secret"', GITHUB_CLIENT_SECRET: "'s3cret'", GITHUB_CLIENT_ID: 'Iv1.abc' })).toEqual([
      'WEBHOOK_SECRET: the value is wrapped in quotes, which `docker run --env-file` keeps as part of it; remove them',
      'GITHUB_CLIENT_SECRET: the value is wrapped in quotes, which `docker run --env-file` keeps as part of it; remove them',
    ]);
  });

  it('name the setting to fix when the store will not open', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jit-settings-'));
    try {
      const file = join(dir, 'not-a-directory');
      writeFileSync(file, '');
      await expect(startApp(settingsOf({ ...good, DATA_DIR: file }))).rejects.toThrow(`DATA_DIR: cannot open the embedded database in ${file}: `);
      await expect(startApp(settingsOf({ ...good, DATABASE_URL: 'postgres://jit:hunter2@127.0.0.1:1/jit' }))).rejects.toThrow(
        /^DATABASE_URL: cannot open the database 127\.0\.0\.1:1\/jit: .*ECONNREFUSED.*; check the host, port, user, password and database name, and that the server is up$/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it('refuse to start on a database a newer release has migrated, saying so', async () => {
    const schema = randomSchema();
    const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 1 });
    try {
      await (await openStore({ databaseUrl: POSTGRES_URL, schema })).close();
      const latest = Math.max(...MIGRATIONS.map((migration) => migration.version));
      await pool.query(`INSERT INTO ${schema}.schema_migrations (version, name) VALUES ($1, 'from a newer release')`, [latest + 1]);
      const url = new URL(POSTGRES_URL);
      await expect(startApp({ ...settingsOf({ ...good, DATABASE_URL: POSTGRES_URL }), databaseSchema: schema })).rejects.toThrow(
        `DATABASE_URL: the database ${url.host}${url.pathname} cannot be used: the database's schema is at migration ${latest + 1}, newer than this release of the App knows (${latest}): run the release that migrated it, or a newer one`,
      );
    } finally {
      await dropSchema(pool, schema);
      await pool.end();
    }
  }, 30_000);

  it('stop the App before it listens when GitHub refuses its id and key, saying which settings to check', async () => {
    const theApps = generateAppKeyPair();
    const github = await startGitHubDouble({ seed: { apps: [{ id: 4242, slug: 'jit', name: 'JIT', publicKey: theApps.publicKey }] } });
    const settings = { ...settingsOf({ ...good, APP_ID: '4242', PRIVATE_KEY: theApps.privateKey }), githubApiUrl: github.apiUrl, dataDir: 'memory://', port: 0, logLevel: 'silent' as const };
    try {
      // Another App's key (the one the test settings hold), then another App's id.
      const refused = /^APP_ID and PRIVATE_KEY: GitHub refused the App's token \(HTTP 401: .+\); APP_ID must be the id of the GitHub App whose private key PRIVATE_KEY \(or PRIVATE_KEY_PATH\) holds$/;
      await expect(startApp({ ...settings, privateKey })).rejects.toThrow(refused);
      await expect(startApp({ ...settings, appId: 4243 })).rejects.toThrow(refused);
      const running = await startApp(settings);
      await running.stop();
    } finally {
      await github.close();
    }
  }, 30_000);

  it('name HOST, METRICS_HOST or the port setting when the App cannot listen where they say', async () => {
    const theApps = generateAppKeyPair();
    const github = await startGitHubDouble({ seed: { apps: [{ id: 4242, slug: 'jit', name: 'JIT', publicKey: theApps.publicKey }] } });
    const settings = { ...settingsOf({ ...good, APP_ID: '4242', PRIVATE_KEY: theApps.privateKey }), githubApiUrl: github.apiUrl, dataDir: 'memory://', port: 0, logLevel: 'silent' as const };
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const takenPort = (taken.address() as AddressInfo).port;
    try {
      await expect(startApp({ ...settings, host: 'no-such-host.invalid' })).rejects.toThrow(/^HOST: cannot listen on "no-such-host.invalid": no such host name/);
      // 192.0.2.1 is kept for documentation (RFC 5737): no machine has it.
      await expect(startApp({ ...settings, host: '192.0.2.1' })).rejects.toThrow(/^HOST: cannot listen on "192.0.2.1": no network interface of this machine has that address/);
      await expect(startApp({ ...settings, host: '127.0.0.1', port: takenPort })).rejects.toThrow(`PORT: port ${takenPort} is already in use on "127.0.0.1"; choose another`);
      await expect(startApp({ ...settings, metricsPort: 0, metricsHost: 'no-such-host.invalid' })).rejects.toThrow(/^METRICS_HOST: cannot listen on "no-such-host.invalid"/);
      await expect(startApp({ ...settings, host: '127.0.0.1', metricsPort: takenPort })).rejects.toThrow(`METRICS_PORT: port ${takenPort} is already in use on "127.0.0.1"; choose another`);
      // Nothing was left listening or holding the store: the App still starts.
      const running = await startApp({ ...settings, host: '127.0.0.1' });
      await running.stop();
    } finally {
      taken.close();
      await github.close();
    }
  }, 60_000);

  it('stop `npm start` before it listens, printing every problem', async () => {
    const run = promisify(execFile)(process.execPath, ['--import', 'tsx', 'app/server.ts'], {
      env: { PATH: process.env.PATH, APP_ID: 'abc', APP_URL: 'notaurl', LOG_LEVEL: 'loud', WEBHOOK_SECRET: 's', PRIVATE_KEY: privateKey } as Env as NodeJS.ProcessEnv,
    });
    const failure = await run.then(() => undefined, (err: { code: number; stderr: string }) => err);
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toContain('mercurial-jit app: invalid configuration:\n');
    expect(failure?.stderr).toContain('  - APP_ID: expected');
    expect(failure?.stderr).toContain('  - APP_URL: expected');
    expect(failure?.stderr).toContain('  - LOG_LEVEL: expected');
  }, 30_000);

  it("take .env's value for a variable set empty, as `docker compose` passes one the shell leaves unset, rather than offering to register another App", async () => {
    const theApps = generateAppKeyPair();
    const github = await startGitHubDouble({ seed: { apps: [{ id: 4242, slug: 'jit', name: 'JIT', publicKey: theApps.publicKey }] } });
    const dir = mkdtempSync(join(tmpdir(), 'jit-env-'));
    // What the setup page saved on the first start.
    writeFileSync(join(dir, '.env'), `APP_ID="4242"\nPRIVATE_KEY="${theApps.privateKey.replace(/\n/g, '\\n')}"\nWEBHOOK_SECRET="from-the-file"\n`, { mode: 0o600 });
    const port = await freePort();
    const env = { PATH: process.env.PATH, APP_URL: `http://127.0.0.1:${port}`, PORT: String(port), HOST: '127.0.0.1', GHE_HOST: github.host, GHE_PROTOCOL: 'http', DATA_DIR: 'memory://', LOG_LEVEL: 'silent', APP_ID: '', PRIVATE_KEY: '', WEBHOOK_SECRET: '' };
    const child = spawn(process.execPath, ['--import', pathToFileURL(resolve('node_modules/tsx/dist/loader.mjs')).href, resolve('app/server.ts')], { cwd: dir, env: env as Env as NodeJS.ProcessEnv });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    try {
      // Until it answers, or stops.
      let health: { status: number; body: unknown } | undefined;
      for (let stopped = false; !health && !stopped;) {
        stopped = await Promise.race([exited.then(() => true), new Promise<false>((done) => setTimeout(() => done(false), 200))]);
        health = await fetch(`http://127.0.0.1:${port}/healthz`).then(async (answer) => ({ status: answer.status, body: await answer.json() }), () => undefined);
      }
      expect(stderr).not.toContain('no credentials yet');
      expect(health).toMatchObject({ status: 200 });
    } finally {
      child.kill('SIGTERM');
      await exited;
      await github.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
