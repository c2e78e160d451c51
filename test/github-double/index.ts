/** Programmatic entry point of the GitHub double. */
import { ControlClient } from './client.js';
import { GitHubDouble } from './server.js';
import type { Seed } from './types.js';

export { ControlClient, ControlError } from './client.js';
export type { DeliveryQuery, DeliverySummary, GitHubJson, RegisteredJob } from './client.js';
export { generateAppKeyPair, type AppKeyPair } from './keys.js';
export { oauthCredentials } from './oauth.js';
export { sign as signWebhookBody } from './webhooks.js';
export type { RunnerJob, MintOptions } from './oidc.js';
export type { FaultSpec, LatencySpec, RateLimitSpec } from './faults.js';
export type { Exchange } from './server.js';
export type * from './types.js';

export interface StartOptions {
  port?: number;
  host?: string;
  seed?: Seed;
}

export interface RunningGitHubDouble {
  /** Web base, e.g. http://127.0.0.1:PORT (GHES: GHE_HOST=127.0.0.1:PORT, GHE_PROTOCOL=http). */
  url: string;
  /** REST base (GITHUB_API_URL), `${url}/api/v3`; REST is also served at `${url}/`. */
  apiUrl: string;
  /** OIDC issuer, `${url}/_services/token`. */
  oidcIssuer: string;
  /** `host:port`, the value for Probot's GHE_HOST. */
  host: string;
  control: ControlClient;
  /** The server itself, for in-process inspection (state, exchanges, dispatcher). */
  double: GitHubDouble;
  close(): Promise<void>;
}

export async function startGitHubDouble(options: StartOptions = {}): Promise<RunningGitHubDouble> {
  const double = new GitHubDouble(options.seed ?? {});
  await double.listen(options.port ?? 0, options.host ?? '127.0.0.1');
  const url = double.urls.web;
  return {
    url, apiUrl: double.urls.api, oidcIssuer: double.oidc.issuer, host: new URL(url).host,
    control: new ControlClient(url), double,
    close: async () => {
      await double.dispatcher.idle();
      await double.close();
    },
  };
}
