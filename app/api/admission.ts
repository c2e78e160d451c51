/**
 * Who may open requests, and how many: any workflow of a repository the App is installed on holds
 * a valid OIDC token, and every request it opens costs GitHub calls, mentions and notifications.
 * The owner allow-list is checked before any GitHub call. The pending caps are checked before any
 * GitHub call too, and again in the store's transaction that creates the request, so that requests
 * opened at the same moment (on any replica) cannot together pass a cap.
 */
import { requestKeyFor, type RequestInput } from '../gate/request.js';
import type { RunIdentity } from '../oidc.js';
import type { ApprovalRequest, PendingLimitError, PendingLimits, Store } from '../store/store.js';
import { HttpError } from './http.js';

export const DEFAULT_MAX_PENDING_PER_REPOSITORY = 100;
export const DEFAULT_MAX_PENDING_PER_RUN = 20;
/** A pending request ends with a vote, a cancel or its deadline; the Action retries after this. */
export const QUOTA_RETRY_AFTER_SECONDS = 30;

export interface AdmissionSettings {
  /** Repository owners (users or organizations) whose workflows may open requests; absent: any. */
  allowedOwners?: readonly string[];
  /** Pending requests one repository may have at once. */
  maxPendingPerRepository?: number;
  /** Pending requests one attempt of a workflow run may have at once. */
  maxPendingPerRun?: number;
}

const LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/;

/** ALLOWED_OWNERS, MAX_PENDING_PER_REPOSITORY and MAX_PENDING_PER_RUN; a bad value is an error naming its variable. */
export function admissionSettingsFromEnv(env: NodeJS.ProcessEnv): AdmissionSettings {
  const settings: AdmissionSettings = {};
  const owners = (env.ALLOWED_OWNERS ?? '').split(/[\s,]+/).filter((owner) => owner !== '');
  const badOwners = owners.filter((owner) => !LOGIN.test(owner));
  if (badOwners.length > 0) throw new Error(`ALLOWED_OWNERS: not a GitHub user or organization name: ${badOwners.join(', ')}`);
  if (owners.length > 0) settings.allowedOwners = owners;
  for (const [name, key] of [['MAX_PENDING_PER_REPOSITORY', 'maxPendingPerRepository'], ['MAX_PENDING_PER_RUN', 'maxPendingPerRun']] as const) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    if (!/^\d+$/.test(raw) || Number(raw) < 1) throw new Error(`${name}: expected a whole number of at least 1, got "${raw}"`);
    settings[key] = Number(raw);
  }
  return settings;
}

export class Admission {
  private readonly allowedOwners?: ReadonlySet<string>;
  private readonly maxPerRepository: number;
  private readonly maxPerRun: number;

  constructor(private readonly store: Store, settings: AdmissionSettings = {}) {
    // GitHub logins are case-insensitive.
    if (settings.allowedOwners) this.allowedOwners = new Set(settings.allowedOwners.map((owner) => owner.toLowerCase()));
    this.maxPerRepository = settings.maxPendingPerRepository ?? DEFAULT_MAX_PENDING_PER_REPOSITORY;
    this.maxPerRun = settings.maxPendingPerRun ?? DEFAULT_MAX_PENDING_PER_RUN;
  }

  /** 403 for a run of a repository whose owner is not on the allow-list. */
  checkOwner(run: RunIdentity): void {
    if (this.allowedOwners && !this.allowedOwners.has(run.repositoryOwner.toLowerCase())) {
      throw new HttpError(403, 'owner_not_allowed', `this App does not serve repositories of "${run.repositoryOwner}" (${run.repository}); ask the App's operator to add the owner to ALLOWED_OWNERS`);
    }
  }

  /** The caps, for the store to check again as it creates the request. */
  get limits(): PendingLimits {
    return { perRepository: this.maxPerRepository, perRunAttempt: this.maxPerRun };
  }

  /**
   * 429 when one more pending request would pass a cap, before the request costs any GitHub call. A
   * retried step reattaches to its request, so it is never refused. Returns what it found under the
   * request's key: the request a retried step opened before, or null.
   */
  async checkPendingQuota(run: RunIdentity, input: RequestInput): Promise<ApprovalRequest | null> {
    const key = requestKeyFor(run, input.action, run.environment ?? input.environment);
    const { existing, pending } = await this.store.findRequestOrCountPending(key, this.limits);
    if (existing) return existing;
    if (pending.runAttempt >= this.maxPerRun) throw this.tooMany(run, 'run_attempt', pending.runAttempt);
    if (pending.repository >= this.maxPerRepository) throw this.tooMany(run, 'repository', pending.repository);
    return null;
  }

  /** The same 429 for a cap the store found reached as it came to create the request. */
  refusal(run: RunIdentity, err: PendingLimitError): HttpError {
    return this.tooMany(run, err.scope, err.pending);
  }

  private tooMany(run: RunIdentity, scope: PendingLimitError['scope'], pending: number): HttpError {
    const retry = { 'retry-after': String(QUOTA_RETRY_AFTER_SECONDS) };
    return scope === 'run_attempt'
      ? new HttpError(429, 'too_many_pending', `this run already has ${pending} pending approval requests, the most the App allows (MAX_PENDING_PER_RUN); let some of them end first`, retry)
      : new HttpError(429, 'too_many_pending', `${run.repository} already has ${pending} pending approval requests, the most the App allows (MAX_PENDING_PER_REPOSITORY); let some of them end first`, retry);
  }
}
