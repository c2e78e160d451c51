/** App JWT verification (RS256, GitHub's iat/exp rules and messages) and installation / repository tokens. */
import { createHash, createPublicKey } from 'node:crypto';
import { compactVerify, decodeJwt, errors as joseErrors } from 'jose';
import { githubError } from './http.js';
import type { DoubleState } from './state.js';
import type { App, Installation, Repo, TokenGrant } from './types.js';

/** GitHub rejects App JWTs that expire more than 10 minutes ahead. */
const MAX_JWT_LIFETIME_SECONDS = 600;
/** Lifetime of installation tokens, as on GitHub. */
export const INSTALLATION_TOKEN_SECONDS = 3600;

const undecodable = () => githubError(401, 'A JSON web token could not be decoded');

export async function verifyAppJwt(state: DoubleState, jwt: string, now = Date.now()): Promise<App> {
  let claims: ReturnType<typeof decodeJwt>;
  try {
    claims = decodeJwt(jwt);
  } catch {
    throw undecodable();
  }
  const app = state.apps.get(Number(claims.iss));
  if (claims.iss === undefined || !app) throw githubError(401, "'Issuer' claim ('iss') must be an Integer");
  try {
    await compactVerify(jwt, createPublicKey(app.publicKey), { algorithms: ['RS256'] });
  } catch (error) {
    if (error instanceof joseErrors.JOSEError) throw undecodable();
    throw error;
  }
  const seconds = Math.floor(now / 1000);
  if (typeof claims.iat !== 'number' || claims.iat > seconds + 60) {
    throw githubError(401, "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued");
  }
  if (typeof claims.exp !== 'number' || claims.exp <= seconds) {
    throw githubError(401, "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires");
  }
  if (claims.exp > seconds + MAX_JWT_LIFETIME_SECONDS) {
    throw githubError(401, "'Expiration time' claim ('exp') is too far in the future");
  }
  return app;
}

function newToken(state: DoubleState, prefix: string, scope: string): string {
  const serial = state.nextId('token');
  return `${prefix}_${createHash('sha256').update(`${scope}:${serial}`).digest('base64url').slice(0, 36)}`;
}

export function issueInstallationToken(
  state: DoubleState,
  installation: Installation,
  request: { repositories?: string[]; repository_ids?: number[]; permissions?: Record<string, 'read' | 'write'> },
): TokenGrant {
  const accessible = state.installationRepos(installation);
  let repositoryIds: Set<number> | 'all' = installation.repositories === 'all' ? 'all' : new Set(installation.repositories);
  if (request.repositories || request.repository_ids) {
    const wanted = [
      ...(request.repositories ?? []).map((name) => accessible.find((r) => r.name.toLowerCase() === name.toLowerCase())),
      ...(request.repository_ids ?? []).map((id) => accessible.find((r) => r.id === id)),
    ];
    if (wanted.some((r) => r === undefined)) throw githubError(422, 'There is at least one repository that does not exist or is not accessible to the parent installation.');
    repositoryIds = new Set((wanted as Repo[]).map((r) => r.id));
  }
  let permissions = installation.permissions;
  if (request.permissions) {
    for (const [name, level] of Object.entries(request.permissions)) {
      const granted = installation.permissions[name];
      if (!granted || (level === 'write' && granted !== 'write')) {
        throw githubError(422, `The permissions requested are not granted to this installation.`);
      }
    }
    permissions = request.permissions;
  }
  const grant: TokenGrant = {
    token: newToken(state, 'ghs', `installation:${installation.id}`), kind: 'installation', installationId: installation.id,
    appId: installation.appId, repositoryIds, permissions, expiresAt: Date.now() + INSTALLATION_TOKEN_SECONDS * 1000,
  };
  state.tokens.set(grant.token, grant);
  return grant;
}

/** A workflow's GITHUB_TOKEN: one repository, the given permissions. */
export function issueRepositoryToken(state: DoubleState, repo: Repo, permissions: Record<string, 'read' | 'write'>): TokenGrant {
  const grant: TokenGrant = {
    token: newToken(state, 'ghs', `actions:${repo.id}`), kind: 'actions', installationId: null, appId: null,
    repositoryIds: new Set([repo.id]), permissions, expiresAt: Date.now() + 24 * INSTALLATION_TOKEN_SECONDS * 1000,
  };
  state.tokens.set(grant.token, grant);
  return grant;
}

export function lookupToken(state: DoubleState, token: string): TokenGrant {
  const grant = state.tokens.get(token);
  if (!grant || grant.expiresAt <= Date.now()) throw githubError(401, 'Bad credentials');
  const installation = grant.kind === 'installation' && grant.installationId !== null ? state.installations.get(grant.installationId) : undefined;
  if (installation?.suspended) {
    throw githubError(403, `Sorry. This installation owned by ${installation.account.login} suspended your access at ${installation.suspended.at}.`);
  }
  return grant;
}

export function grantCoversRepo(state: DoubleState, grant: TokenGrant, repo: Repo): boolean {
  // A user access token reaches what both the App (installed there) and the user (who can read it) can.
  if (grant.kind === 'user') {
    if (!state.installationFor(repo, grant.appId ?? undefined)) return false;
    return !repo.private || state.permissionOf(repo, grant.login ?? '') !== 'none';
  }
  const installation = grant.installationId === null ? undefined : state.installations.get(grant.installationId);
  // An installation's token reaches only what the installation still has: a repository taken out of its selection is gone for earlier tokens too.
  if (installation && !state.installationRepos(installation).some((r) => r.id === repo.id)) return false;
  if (grant.repositoryIds !== 'all') return grant.repositoryIds.has(repo.id);
  return installation?.account.id === repo.owner.id;
}
