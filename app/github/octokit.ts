/**
 * The Octokit the App's Probot uses: Probot's, with GitHub's rate limits retried rather than only
 * logged. Probot retries a primary limit twice and never a secondary one; GitHub's guidance for a
 * secondary limit is to wait as it says (`retry-after`) and try again, so the App does, a few times.
 * A server error is retried once, at once: waiting longer inside one request would hold a webhook
 * answer or an API answer; what still fails is retried later by the outbox or the evaluation job,
 * with backoff, within their own budgets.
 *
 * Octokit's throttling spaces writes a second apart (comments and other notifying writes three
 * seconds), as GitHub's best practices ask, per limiter id; Probot gives each installation's Octokit
 * its installation id, so installations never queue behind each other
 * (test/app/installation-pacing.test.ts). It spaces them as they start waiting for a free slot among
 * the installation's ten requests in flight, though, so writes held there behind slow reads would
 * leave together; each installation's writes are therefore also spaced as they are sent.
 */
import { ProbotOctokit } from 'probot';

/** Tries of one request after a rate limit, before its caller sees the failure. */
const RATE_LIMIT_RETRIES = 3;
/** Waiting longer than this inside one request would hold a webhook or a job too long: fail and let the caller retry. */
const LONGEST_WAIT_SECONDS = 60;

type ThrottledRequest = { request: { retryCount: number } };

const retryWhile = (retryAfter: number, options: ThrottledRequest) => options.request.retryCount < RATE_LIMIT_RETRIES && retryAfter <= LONGEST_WAIT_SECONDS;

/** One quick retry of a server error (Octokit's retry plugin waits (retries + 1)² seconds between tries). */
const SERVER_ERROR_RETRIES = 1;

/** GitHub's best practices: "wait at least one second between each" POST, PATCH, PUT or DELETE request. */
const WRITE_SPACING_MS = 1000;
/** Beyond this many installations' entries, those whose next write may leave at once are dropped. */
const SPACING_ENTRIES = 10_000;

/** When each installation's next write may be sent, by API address and limiter id. */
const nextWriteAt = new Map<string, number>();

type Fetch = typeof globalThis.fetch;
const UNPACED = Symbol('unpaced fetch');
type PacedFetch = Fetch & { [UNPACED]?: Fetch };
/** A check a write carries to the moment it is sent (see checkedBeforeSending). */
const BEFORE_SEND = Symbol('before send');
type CheckedInit = RequestInit & { [BEFORE_SEND]?: () => Promise<void> };

/** Requests for tokens, which Octokit's throttling leaves out of an installation's writes too. */
const TOKEN_REQUEST = /\/(?:app\/installations\/[^/]+\/access_tokens|applications\/[^/]+\/token(?:\/scoped)?|login\/oauth\/access_token)$/;

/** `fetch`, with the writes of one installation (`key`) sent at least WRITE_SPACING_MS apart. */
function pacedFetch(unpaced: Fetch, key: string): PacedFetch {
  const paced: PacedFetch = async (input, init) => {
    const method = (init?.method ?? 'GET').toUpperCase();
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (method !== 'GET' && method !== 'HEAD' && !TOKEN_REQUEST.test(new URL(url).pathname)) {
      const now = Date.now();
      const at = Math.max(now, nextWriteAt.get(key) ?? 0);
      if (nextWriteAt.size >= SPACING_ENTRIES) for (const [k, next] of nextWriteAt) if (next <= now) nextWriteAt.delete(k);
      nextWriteAt.set(key, at + WRITE_SPACING_MS);
      if (at > now) await new Promise((resolve) => setTimeout(resolve, at - now));
    }
    await (init as CheckedInit | undefined)?.[BEFORE_SEND]?.();
    return unpaced(input, init);
  };
  paced[UNPACED] = unpaced;
  return paced;
}

/**
 * The fetch for one write that is right only while `check` holds: the check runs when the write's
 * turn has come (after Octokit's queue and the spacing above, which can hold a write for seconds), just
 * before it is sent, and what it throws stops the write. `fetch`: the Octokit's own.
 */
export function checkedBeforeSending(fetch: Fetch | undefined, check: () => Promise<void>): Fetch {
  const send = fetch ?? globalThis.fetch;
  return (input, init) => send(input, { ...init, [BEFORE_SEND]: check } as CheckedInit);
}

export const AppOctokit = ProbotOctokit.defaults((options: Record<string, unknown>) => {
  const throttle = options.throttle as { id?: string } | undefined;
  const request = (options.request ?? {}) as { fetch?: PacedFetch };
  // An installation's Octokit is built from the App's options, whose fetch is already paced (as the App's).
  const unpaced = request.fetch?.[UNPACED] ?? request.fetch ?? globalThis.fetch;
  return {
    ...options,
    request: { ...request, fetch: pacedFetch(unpaced, `${String(options.baseUrl ?? '')} ${throttle?.id ?? 'app'}`) },
    retry: { ...(options.retry as object), retries: SERVER_ERROR_RETRIES },
    throttle: {
      ...throttle,
      onRateLimit: retryWhile,
      onSecondaryRateLimit: retryWhile,
    },
  };
});
