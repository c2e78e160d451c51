/**
 * Conditional GET requests: GitHub answers `304 Not Modified` to a matching `If-None-Match` without
 * charging the rate limit, so every GET revalidates its cached copy instead of trusting it.
 */
import type { ProbotOctokit } from 'probot';

type Octokit = InstanceType<typeof ProbotOctokit>;
type CachedResponse = Awaited<ReturnType<Octokit['request']>>;

/**
 * How many bytes of responses the App keeps the ETags of (64 MiB). A reconcile round reads every
 * waiting request's thread and check run, in the same order each time: a cache that cannot hold them
 * all evicts each one just before it is read again, and every unchanged read then costs rate limit.
 * Bounded by size, not count: a typical entry (a check run, a thread's comments) is 2 to 6 KB, so this
 * holds the reads of over 5,000 waiting requests, while a thread of long comments cannot grow it past it.
 */
export const RESPONSE_CACHE_BYTES = 64 * 1024 * 1024;
/** What an entry costs besides its key, body and headers (the map's slot, the strings' headers). */
const ENTRY_OVERHEAD_BYTES = 200;

interface Entry {
  etag: string;
  status: number;
  url: string;
  headers: string;
  /** The body as JSON: a string is about a third of the objects it parses to, and parsing it gives each caller its own copy. */
  body: string;
  bytes: number;
}

export class ResponseCache {
  private readonly entries = new Map<string, Entry>();
  private total = 0;

  constructor(private readonly maxBytes = RESPONSE_CACHE_BYTES) {}

  /** The bytes the entries take now (UTF-16, as V8 may store them: twice their characters). */
  get bytes(): number {
    return this.total;
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: string): { etag: string; response: CachedResponse } | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    // Re-insert to keep the map in least-recently-used order.
    this.entries.delete(key);
    this.entries.set(key, entry);
    const data: unknown = entry.body === '' ? undefined : JSON.parse(entry.body);
    return { etag: entry.etag, response: { status: entry.status, url: entry.url, headers: JSON.parse(entry.headers) as CachedResponse['headers'], data } as CachedResponse };
  }

  set(key: string, etag: string, response: CachedResponse): void {
    this.delete(key);
    const body = response.data === undefined ? '' : JSON.stringify(response.data);
    const headers = JSON.stringify(response.headers);
    const bytes = 2 * (key.length + etag.length + response.url.length + headers.length + body.length) + ENTRY_OVERHEAD_BYTES;
    // One answer larger than the whole cache is not kept: it would evict everything else.
    if (bytes > this.maxBytes) return;
    this.entries.set(key, { etag, status: response.status, url: response.url, headers, body, bytes });
    this.total += bytes;
    while (this.total > this.maxBytes) {
      const oldest = this.entries.keys().next().value as string;
      this.delete(oldest);
    }
  }

  private delete(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.total -= entry.bytes;
  }
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
      // Kept as JSON: callers change what they get (Octokit's paginate turns a list's
      // `{ total_count, repositories }` into the array, in place), and each 304 parses a copy of its own.
      if (typeof etag === 'string') cache.set(key, etag, response as CachedResponse);
      return response;
    } catch (err) {
      if (cached && (err as { status?: number }).status === 304) return cached.response;
      throw err;
    }
  });
}
