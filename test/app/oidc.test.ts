/** OidcVerifier against the GitHub double's real issuer: discovery, JWKS, RS256 tokens, key rotation. */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { OidcError, OidcVerifier } from '../../app/oidc.js';
import { startGitHubDouble, type RunningGitHubDouble } from '../github-double/index.js';

const AUDIENCE = 'https://jit.example.test';
const COOLDOWN_MS = 300;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const JOB = { repository: 'acme/api', actor: 'alice', run_id: 4242, run_attempt: 2, environment: 'production' };

let github: RunningGitHubDouble;
let verifier: OidcVerifier;

beforeAll(async () => {
  github = await startGitHubDouble({
    seed: { users: [{ login: 'alice' }], repos: [{ owner: 'acme', name: 'api', branches: { main: { 'README.md': 'hi' } } }] },
  });
  verifier = new OidcVerifier({ issuer: github.oidcIssuer, audience: AUDIENCE, clockToleranceSeconds: 0 });
});
afterAll(() => github.close());

const mint = async (options: Parameters<RunningGitHubDouble['control']['mintIdToken']>[0] = {}) =>
  (await github.control.mintIdToken({ job: JOB, audience: AUDIENCE, ...options })).token;

async function rejection(token: string): Promise<OidcError> {
  const error = await verifier.verify(token).then(() => undefined, (err: unknown) => err);
  expect(error).toBeInstanceOf(OidcError);
  return error as OidcError;
}

describe('OidcVerifier', () => {
  test('takes the run identity from a valid token', async () => {
    const identity = await verifier.verify(await mint());
    expect(identity).toMatchObject({
      repository: 'acme/api',
      repositoryOwner: 'acme',
      actor: 'alice',
      runId: '4242',
      runAttempt: '2',
      environment: 'production',
      ref: 'refs/heads/main',
    });
    expect(identity.repositoryId).toMatch(/^\d+$/);
    expect(identity.sha).toMatch(/^[0-9a-f]{40}$/);
  });

  test.each([
    ['expired', { lifetimeSeconds: 60, issuedAtOffsetSeconds: -600 }],
    ['audience', { audience: 'https://someone-else.example' }],
    ['issuer', { issuer: 'https://token.actions.githubusercontent.com' }],
  ])('refuses a token with a bad %s', async (reason, options) => {
    expect((await rejection(await mint(options))).reason).toBe(reason);
  });

  test('refuses a token whose signature was tampered with', async () => {
    const [header, payload, signature] = (await mint()).split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const forged = Buffer.from(JSON.stringify({ ...claims, repository: 'acme/other' })).toString('base64url');
    expect((await rejection(`${header}.${forged}.${signature}`)).reason).toBe('signature');
  });

  test('refuses a signed token that lacks the Actions claims', async () => {
    const { token } = await github.control.mintIdToken({ claims: { sub: 'repo:acme/api:ref:refs/heads/main' }, audience: AUDIENCE });
    const error = await rejection(token);
    expect(error.reason).toBe('claims');
    expect(error.message).toContain('repository_id');
  });

  test('follows a key rotation without a restart, once the refetch cooldown has passed', async () => {
    const patient = new OidcVerifier({ issuer: github.oidcIssuer, audience: AUDIENCE, jwksCooldownMs: 60_000 });
    const quick = new OidcVerifier({ issuer: github.oidcIssuer, audience: AUDIENCE, jwksCooldownMs: COOLDOWN_MS });
    await patient.verify(await mint()); // both cache the current JWKS
    await quick.verify(await mint());
    await github.control.rotateOidcKey({ keep_old: false });
    const rotated = await mint();
    // Within the cooldown an unknown key is refused (fail closed); after it, the JWKS is refetched.
    const refused = await patient.verify(rotated).then(() => undefined, (err: OidcError) => err);
    expect(refused?.reason).toBe('signature');
    await sleep(COOLDOWN_MS + 50);
    expect((await quick.verify(rotated)).actor).toBe('alice');
  });

  test('refuses tokens signed by a key the issuer no longer publishes', async () => {
    const stale = await mint();
    await github.control.rotateOidcKey({ keep_old: false });
    const fresh = new OidcVerifier({ issuer: github.oidcIssuer, audience: AUDIENCE });
    expect((await fresh.verify(stale).then(() => undefined, (err: OidcError) => err))?.reason).toBe('signature');
  });

  test('names the discovery URL when the issuer is unreachable', async () => {
    const lost = new OidcVerifier({ issuer: 'http://127.0.0.1:9/_services/token', audience: AUDIENCE, fetchTimeoutMs: 500 });
    const token = await mint({ issuer: 'http://127.0.0.1:9/_services/token' });
    const error = await lost.verify(token).then(() => undefined, (err: OidcError) => err);
    expect(error?.reason).toBe('discovery');
    expect(error?.message).toContain('http://127.0.0.1:9/_services/token/.well-known/openid-configuration');
  });
});
