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
 * (test/app/installation-pacing.test.ts).
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

export const AppOctokit = ProbotOctokit.defaults((options: Record<string, unknown>) => ({
  ...options,
  retry: { ...(options.retry as object), retries: SERVER_ERROR_RETRIES },
  throttle: {
    ...(options.throttle as object),
    onRateLimit: retryWhile,
    onSecondaryRateLimit: retryWhile,
  },
}));
