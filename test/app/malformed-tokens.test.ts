/**
 * Tokens that could never verify are refused with 401 from what they say of themselves, before any
 * network call: so they are 401, not 503, while the OIDC issuer is unreachable.
 */
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SignJWT } from 'jose';
import { APP_URL, job, World } from './harness.js';

/** Nothing listens on the discard port: every fetch from the App's verifier fails at once. */
const UNREACHABLE_ISSUER = 'http://127.0.0.1:9/_services/token';
const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

let world: World;
let claims: Record<string, unknown>;
beforeAll(async () => {
  world = await World.start({ oidcIssuer: UNREACHABLE_ISSUER });
  // A real job's claims, from our (unreachable) issuer and for the App's audience.
  const { token } = await world.control.mintIdToken({ job: job(), audience: APP_URL, issuer: UNREACHABLE_ISSUER });
  claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as Record<string, unknown>;
}, 120_000);
afterAll(async () => world?.stop());

const rsaKey = () => generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;

const tokens: Array<[string, () => Promise<string>, string]> = [
  ['alg none, no signature', async () => `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`, 'token_malformed'],
  ['alg none, with a signature part', async () => `${b64({ alg: 'none', kid: 'k' })}.${b64(claims)}.${b64('x')}`, 'token_algorithm'],
  ['HS256 (a shared-secret signature)', () => new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: 'k' }).sign(new TextEncoder().encode('guessable')), 'token_algorithm'],
  ['RS512', () => new SignJWT(claims).setProtectedHeader({ alg: 'RS512', kid: 'k' }).sign(rsaKey()), 'token_algorithm'],
  ['RS256 without a kid', () => new SignJWT(claims).setProtectedHeader({ alg: 'RS256' }).sign(rsaKey()), 'token_malformed'],
  ['two parts', async () => `${b64({ alg: 'RS256', kid: 'k' })}.${b64(claims)}`, 'token_malformed'],
  ['five parts (an encrypted JWT)', async () => [b64({ alg: 'RSA-OAEP', enc: 'A256GCM', kid: 'k' }), 'a', 'b', 'c', 'd'].join('.'), 'token_malformed'],
  ['characters outside base64url', async () => `${b64({ alg: 'RS256', kid: 'k' })}.${b64(claims)}.ab+c/d=`, 'token_malformed'],
  ['a header that is not JSON', async () => `${b64('not json')}.${b64(claims)}.${b64('x')}`, 'token_malformed'],
  ['a header that is a JSON array', async () => `${b64(['RS256'])}.${b64(claims)}.${b64('x')}`, 'token_malformed'],
  ['claims that are not JSON', async () => `${b64({ alg: 'RS256', kid: 'k' })}.${b64('{"iss":')}.${b64('x')}`, 'token_malformed'],
  ['another issuer', () => new SignJWT({ ...claims, iss: 'https://token.actions.githubusercontent.com' }).setProtectedHeader({ alg: 'RS256', kid: 'k' }).sign(rsaKey()), 'token_issuer'],
  ['another audience', () => new SignJWT({ ...claims, aud: 'https://github.com/acme' }).setProtectedHeader({ alg: 'RS256', kid: 'k' }).sign(rsaKey()), 'token_audience'],
];

describe('while the OIDC issuer is unreachable', () => {
  it('a well-formed token from it cannot be checked: 503', async () => {
    const { token } = await world.control.mintIdToken({ job: job(), audience: APP_URL, issuer: UNREACHABLE_ISSUER });
    const { status, body } = await world.api('POST', '/api/v1/requests', token, { action: 'deploy' });
    expect({ status, code: body.error?.code }).toEqual({ status: 503, code: 'oidc_unavailable' });
  });

  it.each(tokens)('a token with %s is refused with 401', async (_what, make, code) => {
    const token = await make();
    for (const [method, path] of [['POST', '/api/v1/requests'], ['GET', '/api/v1/requests/00000000-0000-4000-8000-000000000001']] as const) {
      const { status, headers, body } = await world.api(method, path, token, method === 'POST' ? { action: 'deploy' } : undefined);
      expect({ status, code: body.error?.code }).toEqual({ status: 401, code });
      expect(headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    }
  });
});
