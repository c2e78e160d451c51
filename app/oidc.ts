/**
 * Verifies GitHub Actions OIDC tokens. The claims are facts the workflow cannot forge, so the
 * App takes the repository, run and actor from them rather than from anything the Action sends.
 */
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';

/** The run a verified token speaks for. GitHub sends every custom claim as a string. */
export interface RunIdentity {
  subject: string;
  repository: string;
  repositoryId: string;
  repositoryOwner: string;
  ref: string;
  sha: string;
  actor: string;
  actorId: string;
  runId: string;
  runAttempt: string;
  eventName: string;
  environment?: string;
  baseRef?: string;
  headRef?: string;
  workflowRef?: string;
  jobWorkflowRef?: string;
  /** The job's own check run (GitHub adds it to tokens since late 2025; older servers omit it). */
  checkRunId?: string;
  tokenId?: string;
}

export class OidcError extends Error {
  /** Short machine-readable cause: `expired`, `audience`, `signature`, `claims`, `issuer`, … */
  constructor(readonly reason: string, message: string) {
    super(message);
    this.name = 'OidcError';
  }
}

export interface OidcVerifierOptions {
  /** e.g. `https://token.actions.githubusercontent.com`, or `https://HOST/_services/token` on GHES. */
  issuer: string;
  /** A token must be for one of these. */
  audience: string | string[];
  /** Seconds of clock skew tolerated on exp/nbf/iat. */
  clockToleranceSeconds?: number;
  fetchTimeoutMs?: number;
  /**
   * After a fetch, the JWKS is not refetched for an unknown `kid` for this long: it bounds what
   * forged `kid`s can cost us, and is also how long a just-rotated key can go unrecognised.
   */
  jwksCooldownMs?: number;
}

const REQUIRED_CLAIMS = [
  'repository', 'repository_id', 'repository_owner', 'ref', 'sha', 'actor', 'actor_id', 'run_id', 'run_attempt', 'event_name',
] as const;

export class OidcVerifier {
  private jwks?: ReturnType<typeof createRemoteJWKSet>;
  private discovery?: Promise<ReturnType<typeof createRemoteJWKSet>>;

  constructor(private readonly options: OidcVerifierOptions) {}

  async verify(token: string): Promise<RunIdentity> {
    refuseUnverifiable(token, this.options.issuer, this.options.audience);
    const keySet = await this.keySet();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keySet, {
        issuer: this.options.issuer,
        audience: this.options.audience,
        algorithms: ['RS256'],
        clockTolerance: this.options.clockToleranceSeconds ?? 30,
        requiredClaims: ['exp', 'iat', 'sub'],
      }));
    } catch (err) {
      throw toOidcError(err);
    }
    return identityFrom(payload);
  }

  /** JWKS from the issuer's discovery document; jose caches the keys and refetches on an unknown `kid` (rotation). */
  private async keySet(): Promise<ReturnType<typeof createRemoteJWKSet>> {
    if (this.jwks) return this.jwks;
    this.discovery ??= this.discover().catch((err) => {
      this.discovery = undefined; // retry discovery on the next request rather than failing forever
      throw err;
    });
    this.jwks = await this.discovery;
    return this.jwks;
  }

  private async discover(): Promise<ReturnType<typeof createRemoteJWKSet>> {
    const url = `${this.options.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
    let document: { issuer?: unknown; jwks_uri?: unknown };
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(this.options.fetchTimeoutMs ?? 5000) });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      document = (await response.json()) as typeof document;
    } catch (err) {
      throw new OidcError('discovery', `cannot read the OIDC discovery document ${url}: ${(err as Error).message}`);
    }
    if (document.issuer !== this.options.issuer) {
      throw new OidcError('issuer', `discovery document at ${url} names issuer ${String(document.issuer)}, expected ${this.options.issuer}`);
    }
    if (typeof document.jwks_uri !== 'string') {
      throw new OidcError('discovery', `discovery document at ${url} has no jwks_uri`);
    }
    return createRemoteJWKSet(new URL(document.jwks_uri), {
      timeoutDuration: this.options.fetchTimeoutMs ?? 5000,
      cooldownDuration: this.options.jwksCooldownMs ?? 5_000,
      cacheMaxAge: 10 * 60_000,
    });
  }
}

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/**
 * What can be refused without the issuer: anything but a compact RS256 JWS that names its key and
 * is from our issuer for our audience. Such a token is a 401 even while the issuer is unreachable,
 * and costs no fetch.
 */
function refuseUnverifiable(token: string, issuer: string, audience: string | readonly string[]): void {
  if (!COMPACT_JWS.test(token)) throw new OidcError('malformed', 'the OIDC token is not a signed JWT (three base64url parts)');
  let header: ReturnType<typeof decodeProtectedHeader>;
  let payload: JWTPayload;
  try {
    header = decodeProtectedHeader(token);
    payload = decodeJwt(token);
  } catch {
    throw new OidcError('malformed', 'the OIDC token\'s header or claims are not base64url-encoded JSON objects');
  }
  if (header.alg !== 'RS256') {
    throw new OidcError('algorithm', `the OIDC token is signed with "${String(header.alg).slice(0, 32)}"; GitHub's tokens are RS256`);
  }
  if (typeof header.kid !== 'string' || header.kid === '') throw new OidcError('malformed', 'the OIDC token does not name its signing key (kid)');
  if (payload.iss !== issuer) {
    throw new OidcError('issuer', `the OIDC token's "iss" claim is not acceptable: expected ${issuer}`);
  }
  const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  const accepted = typeof audience === 'string' ? [audience] : audience;
  if (!audiences.some((aud) => typeof aud === 'string' && accepted.includes(aud))) {
    throw new OidcError('audience', `the OIDC token's "aud" claim is not acceptable: expected ${accepted[0]}`);
  }
}

function identityFrom(payload: JWTPayload): RunIdentity {
  const claim = (name: string): string | undefined => {
    const value = payload[name];
    return typeof value === 'string' && value.length > 0 ? value : undefined;
  };
  const missing = REQUIRED_CLAIMS.filter((name) => claim(name) === undefined);
  if (missing.length > 0) {
    throw new OidcError('claims', `token lacks the GitHub Actions claim(s) ${missing.join(', ')}`);
  }
  const required = (name: (typeof REQUIRED_CLAIMS)[number]) => claim(name) as string;
  return {
    subject: payload.sub as string,
    repository: required('repository'),
    repositoryId: required('repository_id'),
    repositoryOwner: required('repository_owner'),
    ref: required('ref'),
    sha: required('sha'),
    actor: required('actor'),
    actorId: required('actor_id'),
    runId: required('run_id'),
    runAttempt: required('run_attempt'),
    eventName: required('event_name'),
    environment: claim('environment'),
    baseRef: claim('base_ref'),
    headRef: claim('head_ref'),
    workflowRef: claim('workflow_ref'),
    jobWorkflowRef: claim('job_workflow_ref'),
    checkRunId: claim('check_run_id'),
    tokenId: claim('jti'),
  };
}

function toOidcError(err: unknown): OidcError {
  if (err instanceof OidcError) return err;
  if (err instanceof joseErrors.JWTExpired) return new OidcError('expired', 'the OIDC token has expired; request a fresh one for each call');
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    const reason = err.claim === 'aud' ? 'audience' : err.claim === 'iss' ? 'issuer' : 'claims';
    return new OidcError(reason, `the OIDC token's "${err.claim}" claim is not acceptable: ${err.reason}`);
  }
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return new OidcError('signature', 'the OIDC token signature does not verify');
  if (err instanceof joseErrors.JWKSNoMatchingKey) return new OidcError('signature', 'the OIDC token was signed by a key the issuer does not publish');
  if (err instanceof joseErrors.JOSEError) return new OidcError('invalid', `the OIDC token is not valid: ${err.message}`);
  return new OidcError('invalid', `the OIDC token could not be verified: ${(err as Error).message}`);
}
