/** The HTTP server: REST under `/` and `/api/v3`, the OIDC issuer under `/_services/token`, the control API under `/_control`. */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { grantCoversRepo, lookupToken, verifyAppJwt } from './auth.js';
import { handleControl } from './control.js';
import { Faults } from './faults.js';
import { forbiddenForIntegration, githubError, HttpError, notFound, parseJsonBody, readBody, Router, type Reply } from './http.js';
import { handleManifests, manifestRoute, type ManifestRoute } from './manifests.js';
import { handleOAuth, isOAuthPath } from './oauth.js';
import { OIDC_PATH, OidcIssuer } from './oidc.js';
import { registerActions } from './rest/actions.js';
import { registerApps } from './rest/apps.js';
import { registerChecks } from './rest/checks.js';
import type { Caller, RestRoute } from './rest/context.js';
import { registerIssues } from './rest/issues.js';
import { registerPeople } from './rest/people.js';
import { registerPulls } from './rest/pulls.js';
import { registerRepos } from './rest/repos.js';
import type { Urls } from './shapes.js';
import { DoubleState } from './state.js';
import type { Seed } from './types.js';
import { WebhookDispatcher } from './webhooks.js';

/** One request and the response served, kept so tests can check both sides against GitHub's API description. */
export interface Exchange {
  method: string;
  route: string;
  /** The request's path parameters, query parameters (repeated ones as arrays) and JSON body (absent when empty). */
  request: { params: Record<string, string>; query: Record<string, string | string[]>; body?: unknown };
  status: number;
  contentType: string;
  body: unknown;
  /** When the double answered, in ms since the epoch (pacing is read from these). */
  at: number;
  /** Counts every exchange since the double started: a mark that stays put while the oldest are dropped. */
  seq: number;
}

function requestOf(url: URL, params: Record<string, string>, raw: string): Exchange['request'] {
  const query: Record<string, string | string[]> = {};
  for (const name of new Set(url.searchParams.keys())) {
    const values = url.searchParams.getAll(name);
    query[name] = values.length === 1 ? values[0] : values;
  }
  if (raw.trim() === '') return { params, query };
  try {
    return { params, query, body: JSON.parse(raw) as unknown };
  } catch {
    return { params, query, body: raw };
  }
}

const MAX_EXCHANGES = 5000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function serialize(reply: Reply): string | Buffer {
  if (reply.body === undefined) return '';
  // A Buffer is a file's raw bytes (which need not be UTF-8 text).
  return typeof reply.body === 'string' || Buffer.isBuffer(reply.body) ? reply.body : JSON.stringify(reply.body);
}

function etagOf(reply: Reply): string {
  return `W/"${createHash('sha256').update(serialize(reply)).digest('hex').slice(0, 32)}"`;
}

function ifNoneMatch(req: IncomingMessage, etag: string): boolean {
  const bare = (tag: string) => tag.trim().replace(/^W\//, '');
  return String(req.headers['if-none-match'] ?? '').split(',').some((tag) => tag.trim() === '*' || bare(tag) === bare(etag));
}

export function buildRestRouter(): Router<RestRoute> {
  const router = new Router<RestRoute>();
  const add = (method: string, template: string, route: RestRoute) => router.add(method, template, route);
  for (const register of [registerApps, registerChecks, registerIssues, registerPulls, registerRepos, registerPeople, registerActions]) register(add);
  return router;
}

const LEVELS = { read: 1, write: 2 } as const;

export class GitHubDouble {
  state: DoubleState;
  readonly faults = new Faults();
  readonly counts = new Map<string, number>();
  readonly exchanges: Exchange[] = [];
  readonly router = buildRestRouter();
  dispatcher!: WebhookDispatcher;
  oidc!: OidcIssuer;
  urls!: Urls;
  private readonly server: Server;
  private requestSerial = 0;
  private exchangeSerial = 0;

  constructor(private seed: Seed) {
    this.state = this.freshState();
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) this.send(req, res, { status: 500, body: { message: String(error), documentation_url: 'https://docs.github.com/rest' } });
      });
    });
    // Outlive clients' idle keep-alive sockets (undici keeps them 4 s), so the server never closes a
    // socket at the moment a client reuses it (ECONNRESET on the client's next request).
    this.server.keepAliveTimeout = 65_000;
  }

  private freshState(): DoubleState {
    return new DoubleState(this.seed, (event) => this.dispatcher?.publish(event));
  }

  async listen(port = 0, host = '127.0.0.1'): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve());
    });
    const { port: bound } = this.server.address() as AddressInfo;
    const web = `http://${host}:${bound}`;
    this.urls = { web, api: `${web}/api/v3` };
    this.dispatcher = new WebhookDispatcher(() => this.state, this.urls);
    this.oidc = await OidcIssuer.create(web);
  }

  /**
   * Back to the seed: state, faults, counters, deliveries and recorded exchanges. Issued tokens stay valid
   * (ids are deterministic, so they still point at the same installation), as clients cache them.
   */
  reset(seed?: Seed): void {
    if (seed) this.seed = seed;
    const previous = this.state;
    this.state = this.freshState();
    this.state.adoptTokens(previous);
    this.faults.clear();
    this.counts.clear();
    this.exchanges.length = 0;
    this.dispatcher.reset();
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private count(key: string): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? '127.0.0.1'}`);
    const method = (req.method ?? 'GET').toUpperCase();
    const path = url.pathname.replace(/^\/api\/v3(?=\/|$)/, '') || '/';
    const raw = await readBody(req);
    try {
      if (path.startsWith('/_control/') || path === '/_control') {
        return this.send(req, res, await handleControl(this, method, path, url, raw));
      }
      if (path.startsWith(`${OIDC_PATH}/`)) {
        this.count(`${method} ${OIDC_PATH}${path.includes('/_apis/idtoken/') ? '/_apis/idtoken/{job}' : path.slice(OIDC_PATH.length)}`);
        const reply = await this.oidc.handle(this.state, method, path, url, req.headers.authorization);
        return this.send(req, res, reply ?? { status: 404, body: { message: 'Not Found' } });
      }
      if (isOAuthPath(url.pathname)) {
        this.count(`${method} ${url.pathname}`);
        return this.send(req, res, handleOAuth(this.state, method, url.pathname, url, raw, String(req.headers.accept ?? '')));
      }
      const manifest = manifestRoute(method, path);
      if (manifest) return this.handleManifest(req, res, manifest, url, raw);
      return await this.handleRest(req, res, method, path, url, raw);
    } catch (error) {
      if (error instanceof HttpError) return this.send(req, res, { status: error.status, body: error.body, headers: error.headers });
      throw error;
    }
  }

  private handleManifest(req: IncomingMessage, res: ServerResponse, route: ManifestRoute, url: URL, raw: string): void {
    this.count(`POST ${route.template}`);
    const record = (reply: Reply) => {
      if (route.rest) this.record('POST', route.template, requestOf(url, route.params, raw), reply);
    };
    let reply: Reply;
    try {
      reply = handleManifests(this.state, this.urls, route, url, raw);
    } catch (error) {
      if (error instanceof HttpError) record({ status: error.status, body: error.body });
      throw error;
    }
    record(reply);
    this.send(req, res, reply);
  }

  private async handleRest(req: IncomingMessage, res: ServerResponse, method: string, path: string, url: URL, raw: string): Promise<void> {
    const found = this.router.match(method, path);
    if (!found || 'allowed' in found) {
      this.count(`${method} <unmatched>`);
      throw notFound();
    }
    const { route, params } = found;
    const template = route.template;
    this.count(`${method} ${template}`);
    const request = requestOf(url, params, raw);
    const record = (reply: Reply) => this.record(method, template, request, reply);
    try {
      const latency = this.faults.latencyFor(method, template);
      if (latency) await sleep(latency);
      const fault = this.faults.takeFault(method, template);
      if (fault && !fault.after) throw fault.error;

      const caller = await this.authenticate(req, route.handler.auth);
      const quotaKey = caller.kind === 'app' ? `app:${caller.app.id}` : `token:${caller.grant.token}`;
      const describe = caller.kind === 'token' && caller.grant.installationId ? `installation ID ${caller.grant.installationId}` : quotaKey.split(':')[0];
      // A GET is charged after it runs: an unchanged conditional GET (304) costs no rate limit on GitHub.
      let rateHeaders = method === 'GET' ? {} : this.faults.consume(quotaKey, describe);

      const repo = params.owner && params.repo ? this.state.repo(params.owner, params.repo) : undefined;
      if (params.owner && params.repo) {
        if (!repo || (caller.kind === 'token' && !grantCoversRepo(this.state, caller.grant, repo))) throw notFound();
      }
      const needed = route.handler.permission;
      if (needed && caller.kind === 'token') {
        const granted = caller.grant.permissions[needed[0]];
        if (!granted || LEVELS[granted] < LEVELS[needed[1]]) throw forbiddenForIntegration();
      }
      const body = method === 'GET' || method === 'HEAD' ? {} : parseJsonBody(raw);
      const reply = await route.handler.handler({ state: this.state, urls: this.urls, url, params, body, headers: req.headers, caller, repo: repo as never });
      if (fault?.after) throw fault.error;
      if (method === 'GET') {
        const etag = reply.status === 200 ? etagOf(reply) : undefined;
        if (etag && ifNoneMatch(req, etag)) {
          record({ status: 304 });
          res.writeHead(304, { etag });
          res.end();
          return;
        }
        rateHeaders = this.faults.consume(quotaKey, describe);
      }
      const withHeaders = { ...reply, headers: { ...rateHeaders, ...reply.headers } };
      record(withHeaders);
      this.send(req, res, withHeaders);
    } catch (error) {
      if (error instanceof HttpError) record({ status: error.status, body: error.body });
      throw error;
    }
  }

  private async authenticate(req: IncomingMessage, kind: 'app' | 'token'): Promise<Caller> {
    const match = /^(?:bearer|token)\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    if (!match) throw githubError(401, 'Requires authentication');
    const credential = match[1];
    const looksLikeJwt = credential.split('.').length === 3;
    if (kind === 'app') {
      if (!looksLikeJwt) throw githubError(401, 'A JSON web token could not be decoded');
      return { kind: 'app', app: await verifyAppJwt(this.state, credential) };
    }
    if (looksLikeJwt) throw githubError(403, 'Resource not accessible by integration');
    return { kind: 'token', grant: lookupToken(this.state, credential) };
  }

  private record(method: string, route: string, request: Exchange['request'], reply: Reply): void {
    this.exchanges.push({
      method, route, request, status: reply.status,
      contentType: reply.headers?.['content-type'] ?? 'application/json', body: reply.body, at: Date.now(), seq: ++this.exchangeSerial,
    });
    if (this.exchanges.length > MAX_EXCHANGES) this.exchanges.shift();
  }

  private send(req: IncomingMessage, res: ServerResponse, reply: Reply): void {
    this.requestSerial += 1;
    const headers: Record<string, string> = {
      'x-github-media-type': 'github.v3; format=json', 'x-github-request-id': `D0B1:${this.requestSerial.toString(16).toUpperCase().padStart(6, '0')}`,
      ...reply.headers,
    };
    const payload = serialize(reply);
    if (reply.body !== undefined) headers['content-type'] ??= 'application/json; charset=utf-8';
    if (req.method === 'GET' && reply.status === 200) headers.etag = etagOf(reply);
    res.writeHead(reply.status, headers);
    res.end(payload);
  }
}
