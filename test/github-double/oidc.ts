/** The Actions runtime's OIDC issuer in GHES layout (`<base>/_services/token`), and the ID-token request endpoint. */
import { createHash, randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type JWK, type CryptoKey } from 'jose';
import { githubError, type Reply } from './http.js';
import { timestamp, type DoubleState } from './state.js';

export const OIDC_PATH = '/_services/token';
/** GitHub's ID tokens live about 5 minutes (the runner asks for a fresh one per use). */
const DEFAULT_LIFETIME_SECONDS = 300;

/** What a workflow job is: the facts its ID tokens assert. Omitted fields are derived from the double's state. */
export interface RunnerJob {
  repository: string;
  actor: string;
  ref?: string;
  sha?: string;
  event_name?: string;
  environment?: string;
  run_id?: number;
  run_number?: number;
  run_attempt?: number;
  /** Who started this attempt (pressed Re-run), default the actor; GitHub's token names only the actor, who started the first. */
  triggering_actor?: string;
  workflow?: string;
  /** The job's id in the workflow (default `build`); with the run it names the job's check run. */
  job?: string;
  /** The job's check run id, for the `check_run_id` claim; by default derived from the run, attempt and job. */
  check_run_id?: number;
  /** Workflow file path, default `.github/workflows/ci.yml`. */
  workflow_path?: string;
  head_ref?: string;
  base_ref?: string;
  /** Claims to add or override verbatim. */
  extra_claims?: Record<string, unknown>;
}

export interface MintOptions {
  audience?: string | string[];
  lifetimeSeconds?: number;
  /** Seconds relative to now; negative = in the past (for expired tokens, set it below -lifetime). */
  issuedAtOffsetSeconds?: number;
  /** Override the issuer (to forge a token from a foreign issuer signed with our key). */
  issuer?: string;
}

interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export class OidcIssuer {
  private keys: SigningKey[] = [];
  /** A job belongs to its repository by id: renamed while the job runs, it keeps minting, under the new name. */
  private readonly jobs = new Map<string, { requestToken: string; repositoryId: number; job: RunnerJob }>();
  private runIds = 9_100_000;

  constructor(readonly issuer: string, private readonly webBase: string) {}

  static async create(webBase: string): Promise<OidcIssuer> {
    const oidc = new OidcIssuer(`${webBase}${OIDC_PATH}`, webBase);
    await oidc.rotate({ keepOld: false });
    return oidc;
  }

  /** New signing key; the old one stays in the JWKS (verifiers can still check tokens it signed) unless keepOld is false. */
  async rotate(options: { keepOld: boolean }): Promise<string> {
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    const publicJwk = await exportJWK(publicKey);
    const kid = createHash('sha256').update(JSON.stringify(publicJwk)).digest('hex').slice(0, 40).toUpperCase();
    const key: SigningKey = { kid, privateKey, publicJwk: { ...publicJwk, kid, alg: 'RS256', use: 'sig' } };
    this.keys = options.keepOld ? [key, ...this.keys] : [key];
    return kid;
  }

  get jwks(): { keys: JWK[] } {
    return { keys: this.keys.map((k) => k.publicJwk) };
  }

  discovery() {
    return {
      issuer: this.issuer,
      jwks_uri: `${this.issuer}/.well-known/jwks`,
      subject_types_supported: ['public', 'pairwise'],
      response_types_supported: ['id_token'],
      claims_supported: [
        'sub', 'aud', 'exp', 'iat', 'iss', 'jti', 'nbf', 'ref', 'sha', 'repository', 'repository_id', 'repository_owner',
        'repository_owner_id', 'repository_visibility', 'run_id', 'run_number', 'run_attempt', 'runner_environment', 'actor',
        'actor_id', 'workflow', 'workflow_ref', 'workflow_sha', 'head_ref', 'base_ref', 'event_name', 'ref_type',
        'ref_protected', 'environment', 'environment_node_id', 'job_workflow_ref', 'job_workflow_sha', 'check_run_id',
      ],
      id_token_signing_alg_values_supported: ['RS256'],
      scopes_supported: ['openid'],
    };
  }

  /** GitHub's claims for a job. Ids are strings, as in GitHub's tokens. */
  claimsFor(state: DoubleState, job: RunnerJob): Record<string, unknown> {
    const repo = state.repoByFullName(job.repository);
    const actor = state.ensureUser(job.actor);
    const ref = job.ref ?? `refs/heads/${repo.defaultBranch}`;
    const commit = job.sha ? undefined : state.resolveRef(repo, ref);
    const sha = job.sha ?? commit?.sha;
    if (!sha) throw new Error(`runner job: cannot resolve ${ref} in ${repo.fullName}`);
    const eventName = job.event_name ?? 'push';
    const runId = job.run_id ?? ++this.runIds;
    const workflowRef = `${repo.fullName}/${job.workflow_path ?? '.github/workflows/ci.yml'}@${ref}`;
    const subject = job.environment ? `environment:${job.environment}` : eventName === 'pull_request' ? 'pull_request' : `ref:${ref}`;
    const runAttempt = job.run_attempt ?? 1;
    // The run is GitHub's from here on: the REST API answers for this attempt.
    const triggeringActor = state.ensureUser(job.triggering_actor ?? job.actor);
    const attemptKey = `${repo.id}:${runId}:${runAttempt}`;
    const startedAt = state.runAttempts.get(attemptKey)?.startedAt ?? timestamp();
    state.runAttempts.set(attemptKey, { repoId: repo.id, runId, attempt: runAttempt, actor: actor.login, triggeringActor: triggeringActor.login, sha, ref, event: eventName, startedAt });
    // Each job of each attempt has its own check run; the same job always gets the same id here.
    const checkRunId = job.check_run_id ?? 30_000_000_000 + (parseInt(createHash('sha256').update(`${repo.id}:${runId}:${runAttempt}:${job.job ?? 'build'}`).digest('hex').slice(0, 8), 16) % 1_000_000_000);
    return {
      sub: `repo:${repo.fullName}:${subject}`,
      ref, sha, repository: repo.fullName, repository_id: String(repo.id), repository_owner: repo.owner.login,
      repository_owner_id: String(repo.owner.id), repository_visibility: repo.private ? 'private' : 'public',
      run_id: String(runId), run_number: String(job.run_number ?? 1), run_attempt: String(runAttempt), check_run_id: String(checkRunId),
      runner_environment: 'self-hosted', actor: actor.login, actor_id: String(actor.id), workflow: job.workflow ?? 'CI',
      workflow_ref: workflowRef, workflow_sha: sha, job_workflow_ref: workflowRef, job_workflow_sha: sha,
      head_ref: job.head_ref ?? '', base_ref: job.base_ref ?? '', event_name: eventName,
      ref_type: ref.startsWith('refs/tags/') ? 'tag' : 'branch', ref_protected: 'false',
      ...(job.environment ? { environment: job.environment } : {}),
      ...job.extra_claims,
    };
  }

  /** The owner's URL is GitHub's default audience. */
  defaultAudience(claims: Record<string, unknown>): string {
    return `${this.webBase}/${String(claims.repository_owner)}`;
  }

  async mint(claims: Record<string, unknown>, options: MintOptions = {}): Promise<string> {
    const now = Math.floor(Date.now() / 1000) + (options.issuedAtOffsetSeconds ?? 0);
    const lifetime = options.lifetimeSeconds ?? DEFAULT_LIFETIME_SECONDS;
    const [key] = this.keys;
    return new SignJWT({ ...claims })
      .setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT', x5t: key.kid })
      .setIssuer(options.issuer ?? this.issuer)
      .setAudience(options.audience ?? this.defaultAudience(claims))
      .setIssuedAt(now)
      .setNotBefore(now - 5)
      .setExpirationTime(now + lifetime)
      .setJti(randomUUID())
      .sign(key.privateKey);
  }

  /** Registers a job; returns the env a runner would give its steps. */
  registerJob(state: DoubleState, job: RunnerJob): { jobId: string; requestUrl: string; requestToken: string; claims: Record<string, unknown> } {
    const claims = this.claimsFor(state, job);
    const jobId = randomUUID();
    const requestToken = createHash('sha256').update(`${jobId}:request`).digest('base64url');
    const repositoryId = Number(claims.repository_id);
    this.jobs.set(jobId, { requestToken, repositoryId, job: { ...job, run_id: Number(claims.run_id), sha: String(claims.sha), ref: String(claims.ref) } });
    // Like the runner's URL, it already carries a query string: @actions/core appends `&audience=`.
    return { jobId, requestUrl: `${this.webBase}${OIDC_PATH}/_apis/idtoken/${jobId}?api-version=2.0`, requestToken, claims };
  }

  async handle(state: DoubleState, method: string, path: string, url: URL, authorization: string | undefined): Promise<Reply | undefined> {
    const sub = path.slice(OIDC_PATH.length);
    if (method === 'GET' && sub === '/.well-known/openid-configuration') return { status: 200, body: this.discovery() };
    if (method === 'GET' && sub === '/.well-known/jwks') return { status: 200, body: this.jwks };
    const idToken = /^\/_apis\/idtoken\/([\w-]+)$/.exec(sub);
    if (idToken && (method === 'GET' || method === 'POST')) {
      const entry = this.jobs.get(idToken[1]);
      const bearer = /^Bearer (.+)$/i.exec(authorization ?? '')?.[1];
      if (!entry || bearer !== entry.requestToken) throw githubError(401, 'Bad credentials');
      const repo = state.repoById(entry.repositoryId);
      if (!repo) throw githubError(404, 'Not Found');
      const claims = this.claimsFor(state, { ...entry.job, repository: repo.fullName });
      const audience = url.searchParams.get('audience') ?? undefined;
      return { status: 200, body: { value: await this.mint(claims, { audience }) } };
    }
    return undefined;
  }
}
