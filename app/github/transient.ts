/**
 * Which GitHub failures are worth retrying: server errors, rate limits (primary and secondary,
 * answered 403 or 429 with rate-limit headers) and failures to get an answer at all. Anything else
 * (404, 422, a plain 403) will fail the same way again.
 */
interface HttpFailure {
  status?: number;
  response?: { headers?: Record<string, string | number | undefined> };
}

export function isTransient(err: unknown): boolean {
  const { status, response } = (err ?? {}) as HttpFailure;
  if (status === undefined) return true; // no answer: a network failure or a timeout
  if (status >= 500 || status === 429) return true;
  if (status !== 403) return false;
  const headers = response?.headers ?? {};
  return headers['retry-after'] !== undefined || String(headers['x-ratelimit-remaining']) === '0';
}

/** How long GitHub asked to wait (`retry-after`, or until `x-ratelimit-reset`), in milliseconds; 0 when it did not say. */
export function retryAfterMs(err: unknown, now: number = Date.now()): number {
  const headers = ((err ?? {}) as HttpFailure).response?.headers ?? {};
  const after = Number(headers['retry-after']);
  if (Number.isFinite(after) && after > 0) return after * 1000;
  const reset = Number(headers['x-ratelimit-reset']);
  if (String(headers['x-ratelimit-remaining']) === '0' && Number.isFinite(reset)) return Math.max(0, reset * 1000 - now);
  return 0;
}

/** Exponential backoff with full jitter, at least what GitHub asked for, at most `maxMs`. */
export function backoffMs(attempt: number, err: unknown, maxMs = 60_000, random: () => number = Math.random): number {
  const exponential = Math.min(maxMs, 1000 * 2 ** Math.max(0, attempt - 1));
  return Math.min(maxMs, Math.max(retryAfterMs(err), Math.round(exponential / 2 + random() * (exponential / 2))));
}

/** GitHub's 410: an issue write or read where issues are off, or an issue deleted. It will not pass on a retry. */
export function isGone(err: unknown): boolean {
  return (err as HttpFailure | undefined)?.status === 410;
}

/**
 * GitHub's 403 to a suspended installation, for a new token ("This installation has been suspended")
 * and for its tokens ("… suspended your access at …"): it lasts until an owner unsuspends it, so a
 * retry in a moment fails the same way.
 */
export function isSuspended(err: unknown): boolean {
  const failure = err as (HttpFailure & { message?: string }) | undefined;
  return failure?.status === 403 && /\bsuspended\b/.test(failure.message ?? '');
}
