/**
 * Conditional GET requests: GitHub answers `304 Not Modified` to a matching `If-None-Match` without
 * charging the rate limit, so every GET revalidates its cached copy instead of trusting it.
 */
import type { ProbotOctokit } from 'probot';

type Octokit = InstanceType<typeof ProbotOctokit>;
type CachedResponse = Awaited<ReturnType<Octokit['request']>>;

export class ResponseCache {
  private readonly entries = new Map<string, { etag: string; response: CachedResponse }>();

  constructor(private readonly capacity = 2000) {}

  get(key: string) {
    const entry = this.entries.get(key);
    if (entry) {
      // Re-insert to keep the map in least-recently-used order.
      this.entries.delete(key);
      this.entries.set(key, entry);
    }
    return entry;
  }

  set(key: string, etag: string, response: CachedResponse): void {
    this.entries.delete(key);
    this.entries.set(key, { etag, response });
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }
}

/**
 * A response of its own for every caller: callers change what they get (Octokit's paginate turns a
 * list's `{ total_count, repositories }` into the array, in place), and a cached copy changed that way
 * would be handed out again on the next 304 as if GitHub had sent it.
 */
function copyOf(response: CachedResponse): CachedResponse {
  return { ...response, headers: { ...response.headers }, data: structuredClone(response.data) } as CachedResponse;
}

/** The Octokits already revalidating (by the installation their keys name). */
const revalidating = new WeakMap<Octokit, number>();

/**
 * Installs the revalidating cache on one installation's Octokit; keys include the installation so no
 * answer crosses installations. An Octokit is wrapped once: the App's own (Probot's `auth()` without an
 * installation) is one object for as long as the App runs, and a wrapper added at each use would pile
 * up until its requests overflow the stack.
 */
export function useConditionalRequests(octokit: Octokit, cache: ResponseCache, installationId: number): void {
  const wrapped = revalidating.get(octokit);
  if (wrapped === installationId) return;
  if (wrapped !== undefined) throw new Error(`this Octokit already revalidates as installation ${wrapped}, not ${installationId}`);
  revalidating.set(octokit, installationId);
  octokit.hook.wrap('request', async (request, options) => {
    // A body left unread is a stream, read once by its caller: nothing to keep.
    if (options.method !== 'GET' || options.request?.parseSuccessResponseBody === false) return request(options);
    const { url, headers } = octokit.request.endpoint.parse(options);
    // One URL answers in several media types (a file as JSON or raw): each is cached apart.
    const key = `${installationId} ${String(headers.accept ?? '')} ${url}`;
    const cached = cache.get(key);
    if (cached) options.headers = { ...options.headers, 'if-none-match': cached.etag };
    try {
      const response = await request(options);
      const etag = response.headers.etag;
      if (typeof etag === 'string') cache.set(key, etag, copyOf(response as CachedResponse));
      return response;
    } catch (err) {
      if (cached && (err as { status?: number }).status === 304) return copyOf(cached.response);
      throw err;
    }
  });
}
