import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { REPO, standardSeed } from './fixtures.js';
import { startGitHubDouble, type RunningGitHubDouble } from './index.js';

let gh: RunningGitHubDouble;
beforeAll(async () => {
  gh = await startGitHubDouble({ seed: standardSeed() });
});
afterAll(() => gh.close());

const verify = (token: string, audience: string) =>
  jwtVerify(token, createRemoteJWKSet(new URL(`${gh.oidcIssuer}/.well-known/jwks`), { cacheMaxAge: 0, cooldownDuration: 0 }), { issuer: gh.oidcIssuer, audience });

/** Runs @actions/core's getIDToken in a separate process, the way an Action step would. */
async function getIdTokenInChild(env: Record<string, string>, audience?: string): Promise<string> {
  const script = `import * as core from '@actions/core';
const token = await core.getIDToken(process.argv[1] || undefined);
console.log('ID_TOKEN=' + token);`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script, audience ?? ''], {
    cwd: process.cwd(), env: { PATH: process.env.PATH ?? '', ...env },
  });
  const line = stdout.split('\n').find((l) => l.startsWith('ID_TOKEN='));
  if (!line) throw new Error(`no token in child output: ${stdout}`);
  return line.slice('ID_TOKEN='.length);
}

describe('Actions OIDC issuer', () => {
  it('publishes a discovery document and JWKS in the GHES layout', async () => {
    const discovery = (await (await fetch(`${gh.oidcIssuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect(discovery).toMatchObject({ issuer: `${gh.url}/_services/token`, jwks_uri: `${gh.oidcIssuer}/.well-known/jwks`, id_token_signing_alg_values_supported: ['RS256'] });
    const jwks = (await (await fetch(discovery.jwks_uri as string)).json()) as { keys: { kty: string; kid: string }[] };
    expect(jwks.keys).toEqual([expect.objectContaining({ kty: 'RSA', alg: 'RS256', use: 'sig' })]);
  });

  it('serves @actions/core getIDToken(audience) for a registered runner job, with GitHub claims', async () => {
    const job = await gh.control.registerJob({ repository: REPO, actor: 'bob', environment: 'production', run_id: 42, run_attempt: 2, event_name: 'workflow_dispatch' });
    const env = { ACTIONS_ID_TOKEN_REQUEST_URL: job.requestUrl, ACTIONS_ID_TOKEN_REQUEST_TOKEN: job.requestToken };
    const token = await getIdTokenInChild(env, 'https://jit.example.com');
    const { payload, protectedHeader } = await verify(token, 'https://jit.example.com');
    expect(protectedHeader).toMatchObject({ alg: 'RS256', typ: 'JWT' });
    expect(payload).toMatchObject({
      sub: `repo:${REPO}:environment:production`, repository: REPO, repository_owner: 'acme', ref: 'refs/heads/main', actor: 'bob',
      run_id: '42', run_attempt: '2', event_name: 'workflow_dispatch', environment: 'production', iss: gh.oidcIssuer,
      job_workflow_ref: `${REPO}/.github/workflows/ci.yml@refs/heads/main`,
    });
    for (const claim of ['repository_id', 'repository_owner_id', 'actor_id', 'sha', 'run_number', 'workflow', 'jti', 'nbf', 'iat', 'exp']) expect(payload[claim]).toBeDefined();
    expect((payload.exp as number) - (payload.iat as number)).toBe(300);
    // Without an audience, GitHub uses the owner's URL.
    const defaulted = await getIdTokenInChild(env);
    expect((await verify(defaulted, `${gh.url}/acme`)).payload.aud).toBe(`${gh.url}/acme`);
  });

  it('gives pull_request runs the PR merge ref and its test-merge commit', async () => {
    const { token } = await gh.control.installationToken(777);
    const pull = (await (await fetch(`${gh.apiUrl}/repos/${REPO}/pulls/1`, { headers: { authorization: `token ${token}` } })).json()) as { merge_commit_sha: string };
    const job = await gh.control.registerJob({ repository: REPO, actor: 'carol', ref: 'refs/pull/1/merge', event_name: 'pull_request', head_ref: 'feature', base_ref: 'main' });
    expect(job.claims).toMatchObject({ sub: `repo:${REPO}:pull_request`, ref: 'refs/pull/1/merge', sha: pull.merge_commit_sha, head_ref: 'feature', base_ref: 'main' });
  });

  it("keeps serving a job's tokens when its repository is renamed while the job runs, under the new name and the same id", async () => {
    const job = await gh.control.registerJob({ repository: REPO, actor: 'bob', run_id: 4242 });
    const env = { ACTIONS_ID_TOKEN_REQUEST_URL: job.requestUrl, ACTIONS_ID_TOKEN_REQUEST_TOKEN: job.requestToken };
    const renamed = await gh.control.rename(REPO, 'renamed-while-running');
    try {
      const { payload } = await verify(await getIdTokenInChild(env, 'app'), 'app');
      expect(payload).toMatchObject({ repository: renamed.full_name, repository_id: job.claims.repository_id, run_id: '4242', sub: `repo:${renamed.full_name}:ref:refs/heads/main` });
    } finally {
      await gh.control.rename(renamed.full_name, REPO.split('/')[1]!);
    }
  });

  it('refuses the token endpoint without the job\'s request token', async () => {
    const job = await gh.control.registerJob({ repository: REPO, actor: 'bob' });
    await expect(getIdTokenInChild({ ACTIONS_ID_TOKEN_REQUEST_URL: job.requestUrl, ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'wrong' }, 'x')).rejects.toThrow(/401/);
  });

  it('mints tokens for negative tests: expired, wrong audience, another repository', async () => {
    const job = { repository: REPO, actor: 'bob' };
    const expired = (await gh.control.mintIdToken({ job, audience: 'app', lifetimeSeconds: 60, issuedAtOffsetSeconds: -600 })).token;
    await expect(verify(expired, 'app')).rejects.toMatchObject({ code: 'ERR_JWT_EXPIRED' });
    const wrongAudience = (await gh.control.mintIdToken({ job, audience: 'someone-else' })).token;
    await expect(verify(wrongAudience, 'app')).rejects.toMatchObject({ code: 'ERR_JWT_CLAIM_VALIDATION_FAILED' });
    const other = (await gh.control.mintIdToken({ job: { repository: 'acme/secret', actor: 'bob' }, audience: 'app' })).token;
    expect((await verify(other, 'app')).payload.repository).toBe('acme/secret');
    const foreign = (await gh.control.mintIdToken({ job, audience: 'app', issuer: 'https://evil.example' })).token;
    await expect(verify(foreign, 'app')).rejects.toMatchObject({ code: 'ERR_JWT_CLAIM_VALIDATION_FAILED' });
  });

  it('rotates the signing key, keeping the old key in the JWKS or not', async () => {
    const job = { repository: REPO, actor: 'bob' };
    const before = (await gh.control.mintIdToken({ job, audience: 'app' })).token;
    const { kid } = await gh.control.rotateOidcKey({ keep_old: true });
    const after = (await gh.control.mintIdToken({ job, audience: 'app' })).token;
    expect(decodeProtectedHeader(after).kid).toBe(kid);
    expect(decodeProtectedHeader(before).kid).not.toBe(kid);
    await expect(verify(before, 'app')).resolves.toBeDefined();
    await gh.control.rotateOidcKey({ keep_old: false });
    await expect(verify(before, 'app')).rejects.toMatchObject({ code: 'ERR_JWKS_NO_MATCHING_KEY' });
    await expect(verify(after, 'app')).rejects.toMatchObject({ code: 'ERR_JWKS_NO_MATCHING_KEY' });
  });
});
