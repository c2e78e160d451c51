/** What a REST handler receives, and how REST routes declare their authentication and permission needs. */
import type { IncomingHttpHeaders } from 'node:http';
import type { Reply } from '../http.js';
import type { Urls } from '../shapes.js';
import type { DoubleState } from '../state.js';
import type { App, Repo, TokenGrant } from '../types.js';

export type Caller = { kind: 'app'; app: App } | { kind: 'token'; grant: TokenGrant };

export interface RestContext {
  state: DoubleState;
  urls: Urls;
  /** Absolute request URL as the client sent it (used for Link headers). */
  url: URL;
  params: Record<string, string>;
  body: Record<string, unknown>;
  headers: IncomingHttpHeaders;
  caller: Caller;
  /** Resolved from `{owner}/{repo}` and already checked against the caller's scope. */
  repo: Repo;
}

export interface RestRoute {
  /** `app`: an App JWT; `token`: an installation (or repository) token. */
  auth: 'app' | 'token';
  /** Installation permission the route needs, e.g. ['checks', 'write']. */
  permission?: [string, 'read' | 'write'];
  handler: (ctx: RestContext) => Reply | Promise<Reply>;
}

export type RestRegistrar = (add: (method: string, template: string, route: RestRoute) => void) => void;

export function callerAppId(ctx: RestContext): number | null {
  return ctx.caller.kind === 'app' ? ctx.caller.app.id : ctx.caller.grant.appId;
}

export function stringField(body: Record<string, unknown>, name: string): string | undefined {
  const value = body[name];
  return typeof value === 'string' ? value : undefined;
}

/** The account GitHub attributes a token's writes to: the App's bot, or github-actions[bot] for a workflow token. */
export function actingUser(ctx: RestContext) {
  const appId = callerAppId(ctx);
  const app = appId === null ? undefined : ctx.state.apps.get(appId);
  return app ? app.bot : ctx.state.ensureUser('github-actions[bot]', 'Bot');
}
