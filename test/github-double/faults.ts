/** Injected faults (status on a route for the next N calls), latency, and GitHub's rate limits. */
import { seededRandom } from '../seeded-random.js';
import { defaultErrorBody, HttpError } from './http.js';

export interface FaultSpec {
  /** Route template as GitHub documents it (e.g. `/repos/{owner}/{repo}/check-runs`), or `*` for every REST route. */
  route: string;
  method?: string;
  status: number;
  body?: Record<string, unknown>;
  headers?: Record<string, string>;
  /** How many calls fail; default 1, or no limit with `rate`. */
  times?: number;
  /** Fail each matching call with this probability (0–1) instead of every one; replayable with `seed`. */
  rate?: number;
  seed?: number;
  /**
   * The call takes effect and only then fails: GitHub did what was asked, but its answer was lost (a
   * 502 from a proxy after the fact). A client that simply retries does it twice.
   */
  after?: boolean;
}

export interface LatencySpec {
  route?: string;
  method?: string;
  ms: number;
  /** Default: until cleared. */
  times?: number;
}

/**
 * GitHub answers an exceeded limit with 403 or 429. For a secondary limit it says when to retry with
 * `retry-after`, or with `x-ratelimit-remaining: 0` and `x-ratelimit-reset`, or not at all (wait a minute).
 */
export type LimitStatus = 403 | 429;
export type SecondaryWait = 'retry-after' | 'reset' | 'none';

export interface RateLimitSpec {
  /** Requests per token per window (default 5000). */
  limit?: number;
  /** Exhaust the primary limit now: every call fails until the window resets after this many seconds. */
  exhaustForSeconds?: number;
  /** Status of an exhausted primary limit (default 403). */
  status?: LimitStatus;
  /** Secondary limit for the next N calls (default: 403 with `retry-after`, 60 seconds). */
  secondary?: { times: number; retryAfterSeconds?: number; status?: LimitStatus; wait?: SecondaryWait };
}

interface Counted<T> { spec: T; remaining: number }


const matches = (spec: { route?: string; method?: string }, method: string, template: string) =>
  (!spec.route || spec.route === '*' || spec.route === template) && (!spec.method || spec.method.toUpperCase() === method);

export class Faults {
  private faults: Array<Counted<FaultSpec> & { random?: () => number }> = [];
  private latencies: Counted<LatencySpec>[] = [];
  private limit = 5000;
  private windowEndsAt = Date.now() + 3600_000;
  private exhaustedUntil = 0;
  private primaryStatus: LimitStatus = 403;
  private secondary: Counted<{ retryAfterSeconds: number; status: LimitStatus; wait: SecondaryWait }> | null = null;
  private readonly used = new Map<string, number>();

  addFault(spec: FaultSpec): void {
    if (spec.rate !== undefined && !(spec.rate >= 0 && spec.rate <= 1)) throw new Error(`fault rate must be between 0 and 1, not ${spec.rate}`);
    const random = spec.rate === undefined ? undefined : seededRandom(spec.seed ?? 1);
    this.faults.push({ spec, remaining: spec.times ?? (random ? Number.POSITIVE_INFINITY : 1), random });
  }

  addLatency(spec: LatencySpec): void {
    this.latencies.push({ spec, remaining: spec.times ?? Number.POSITIVE_INFINITY });
  }

  setRateLimit(spec: RateLimitSpec): void {
    if (spec.limit !== undefined) this.limit = spec.limit;
    if (spec.exhaustForSeconds !== undefined) {
      this.exhaustedUntil = Date.now() + spec.exhaustForSeconds * 1000;
      this.windowEndsAt = this.exhaustedUntil;
    }
    if (spec.status !== undefined) this.primaryStatus = spec.status;
    if (spec.secondary) {
      const { times, retryAfterSeconds = 60, status = 403, wait = 'retry-after' } = spec.secondary;
      this.secondary = { spec: { retryAfterSeconds, status, wait }, remaining: times };
    }
  }

  clear(): void {
    this.faults = [];
    this.latencies = [];
    this.limit = 5000;
    this.exhaustedUntil = 0;
    this.primaryStatus = 403;
    this.secondary = null;
    this.used.clear();
  }

  latencyFor(method: string, template: string): number {
    const hit = this.latencies.find((l) => l.remaining > 0 && matches(l.spec, method, template));
    if (!hit) return 0;
    hit.remaining -= 1;
    return hit.spec.ms;
  }

  /** The injected error for this call, if any (consumes one use), and whether it comes after the call took effect. */
  takeFault(method: string, template: string): { error: HttpError; after: boolean } | undefined {
    const hit = this.faults.find((f) => f.remaining > 0 && matches(f.spec, method, template) && (!f.random || f.random() < f.spec.rate!));
    if (!hit) return undefined;
    hit.remaining -= 1;
    return { error: new HttpError(hit.spec.status, hit.spec.body ?? defaultErrorBody(hit.spec.status), hit.spec.headers), after: hit.spec.after === true };
  }

  private rollWindow(now: number): void {
    if (now >= this.windowEndsAt) {
      this.used.clear();
      this.windowEndsAt = now + 3600_000;
    }
  }

  /** Counts the call against `key`'s quota and returns GitHub's x-ratelimit-* headers, or throws the rate-limit 403. */
  consume(key: string, describe: string): Record<string, string> {
    const now = Date.now();
    this.rollWindow(now);
    const reset = Math.ceil(this.windowEndsAt / 1000);
    const retryAfter = String(Math.max(1, reset - Math.floor(now / 1000)));
    const used = this.used.get(key) ?? 0;
    const headers = (remaining: number, usedNow: number, resetAt = reset) => ({
      'x-ratelimit-limit': String(this.limit), 'x-ratelimit-remaining': String(remaining), 'x-ratelimit-used': String(usedNow),
      'x-ratelimit-reset': String(resetAt), 'x-ratelimit-resource': 'core',
    });
    if (this.secondary && this.secondary.remaining > 0) {
      this.secondary.remaining -= 1;
      const { status, wait, retryAfterSeconds } = this.secondary.spec;
      const until = headers(0, used, Math.floor(now / 1000) + retryAfterSeconds);
      throw new HttpError(status, {
        message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
        documentation_url: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits', status: String(status),
      }, wait === 'retry-after' ? { 'retry-after': String(retryAfterSeconds) } : wait === 'reset' ? until : {});
    }
    if (now < this.exhaustedUntil || used >= this.limit) {
      throw new HttpError(this.primaryStatus, {
        message: `API rate limit exceeded for ${describe}.`, documentation_url: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api',
        status: String(this.primaryStatus),
      }, { ...headers(0, used), 'retry-after': retryAfter });
    }
    this.used.set(key, used + 1);
    return headers(this.limit - used - 1, used + 1);
  }
}
