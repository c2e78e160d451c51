/** HTTP plumbing shared by the REST, OIDC and control surfaces: GitHub's error shapes, pagination, a tiny router. */
import type { IncomingMessage } from 'node:http';

const DOCS = 'https://docs.github.com/rest';

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export class HttpError extends Error {
  constructor(readonly status: number, readonly body: Record<string, unknown>, readonly headers: Record<string, string> = {}) {
    super(String(body.message));
  }
}

export function githubError(status: number, message: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}): HttpError {
  return new HttpError(status, { message, documentation_url: DOCS, status: String(status), ...extra }, headers);
}

export const notFound = () => githubError(404, 'Not Found');
export const forbiddenForIntegration = () => githubError(403, 'Resource not accessible by integration');

export interface FieldError {
  resource: string;
  field: string;
  code: 'missing' | 'missing_field' | 'invalid' | 'already_exists' | 'unprocessable' | 'custom';
  message?: string;
}

export function validationFailed(errors: FieldError[], message = 'Validation Failed'): HttpError {
  return githubError(422, message, { errors });
}

/** Default message per status, used when a fault is injected without a body. */
export function defaultErrorBody(status: number): Record<string, unknown> {
  const messages: Record<number, string> = {
    400: 'Bad Request', 401: 'Bad credentials', 403: 'Forbidden', 404: 'Not Found', 409: 'Conflict',
    422: 'Validation Failed', 500: 'Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable',
  };
  return { message: messages[status] ?? 'Error', documentation_url: DOCS, status: String(status) };
}

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export function parseJsonBody(raw: string): Record<string, unknown> {
  if (raw.trim() === '') return {};
  try {
    const parsed: unknown = JSON.parse(raw);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // fall through to GitHub's answer for unparsable bodies
  }
  throw githubError(400, 'Problems parsing JSON');
}

/**
 * Slices `items` by `per_page` (max 100; `defaultPerPage` when absent) and `page`, and builds GitHub's Link
 * header from the request URL (which keeps `per_page` only when the client sent it).
 */
export function paginate<T>(items: T[], requestUrl: URL, defaultPerPage = 30): { page: T[]; headers: Record<string, string> } {
  const asked = requestUrl.searchParams.has('per_page');
  const perPage = asked ? Math.min(100, Math.max(1, Number(requestUrl.searchParams.get('per_page')) || 30)) : defaultPerPage;
  const page = Math.max(1, Number(requestUrl.searchParams.get('page')) || 1);
  const last = Math.max(1, Math.ceil(items.length / perPage));
  const link = (p: number, rel: string) => {
    const u = new URL(requestUrl);
    if (asked) u.searchParams.set('per_page', String(perPage));
    u.searchParams.set('page', String(p));
    return `<${u.toString()}>; rel="${rel}"`;
  };
  const links: string[] = [];
  if (page > 1) links.push(link(page - 1, 'prev'));
  if (page < last) links.push(link(page + 1, 'next'), link(last, 'last'));
  if (page > 1) links.push(link(1, 'first'));
  return { page: items.slice((page - 1) * perPage, page * perPage), headers: links.length ? { link: links.join(', ') } : {} };
}

export interface Route<Handler> {
  method: string;
  template: string;
  handler: Handler;
  regex: RegExp;
  names: string[];
}

/** Matches `/a/{b}/c/{d}` templates; a trailing `{path}` or `{basehead}` may span slashes. */
export class Router<Handler> {
  private readonly routes: Route<Handler>[] = [];

  add(method: string, template: string, handler: Handler): this {
    const names: string[] = [];
    const pattern = template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{(\w+)\}/g, (_, name: string) => {
      names.push(name);
      return name === 'path' || name === 'basehead' ? '(.+)' : '([^/]+)';
    });
    this.routes.push({ method, template, handler, regex: new RegExp(`^${pattern}/?$`), names });
    return this;
  }

  match(method: string, path: string): { route: Route<Handler>; params: Record<string, string> } | { allowed: string[] } | undefined {
    const allowed: string[] = [];
    for (const route of this.routes) {
      const m = route.regex.exec(path);
      if (!m) continue;
      if (route.method !== method) {
        allowed.push(route.method);
        continue;
      }
      const params = Object.fromEntries(route.names.map((n, i) => [n, decodeURIComponent(m[i + 1])]));
      return { route, params };
    }
    return allowed.length ? { allowed } : undefined;
  }

  get templates(): string[] {
    return this.routes.map((r) => `${r.method} ${r.template}`);
  }
}
