/** Finds the App's installation on a repository and hands out GitHubClients bound to it. */
import type { Probot } from 'probot';
import { ResponseCache, useConditionalRequests } from './conditional-requests.js';
import { ExpiringCache } from './expiring-cache.js';
import { FreshReads } from './fresh-reads.js';
import type { GitHubClient, RepositoryNow } from './github.js';
import { isNotFound, OctokitGitHubClient } from './octokit-client.js';

export class AppNotInstalledError extends Error {
  constructor(readonly repository: string) {
    super(`the GitHub App is not installed on ${repository}`);
  }
}

/**
 * The App was uninstalled there: GitHub keeps no installation of that id, makes it no token and never
 * gives the id out again (installing the App again makes another). Answered as GitHub answers a token
 * request for it, 404, so that nothing retries it.
 */
export class InstallationGone extends Error {
  readonly status = 404;
  constructor(readonly installationId: number) {
    super(`the GitHub App's installation ${installationId} was uninstalled`);
  }
}

/** GitHub's answer to a token request for an installation it no longer has. */
function isTokenRefusedAsGone(err: unknown): boolean {
  const failure = err as { status?: number; request?: { method?: string; url?: string } };
  return failure.status === 404 && failure.request?.method === 'POST' && /\/app\/installations\/\d+\/access_tokens$/.test(failure.request.url ?? '');
}

/** The installation is uninstalled: known already, or just learned from a token GitHub refused. */
export function isInstallationGone(err: unknown): boolean {
  return err instanceof InstallationGone || isTokenRefusedAsGone(err);
}

/** How long a repository's installation is used without asking GitHub again. */
export const INSTALLED_TTL_MS = 10 * 60_000;
/** How long "not installed" (GitHub's 404) stands; installing the App anywhere ends it at once (`forget`). */
export const NOT_INSTALLED_TTL_MS = 60_000;
const LOOKUP_CAPACITY = 10_000;
/**
 * How long an installation GitHub refused a token for (404) is taken as uninstalled before it is asked
 * again: as long as "not installed" stands, since a new installation's first moments might answer so.
 */
const TOKEN_REFUSED_TTL_MS = NOT_INSTALLED_TTL_MS;

export class Installations {
  private readonly cache = new ResponseCache();
  /** Installation id by lowercased `owner/repo` (GitHub's names are case-insensitive); null: not installed. */
  private readonly lookups = new ExpiringCache<string, number | null>(LOOKUP_CAPACITY);
  /** Default-branch heads, read once for all the requests of a repository evaluated at the same moment in one installation. */
  private readonly branchHeads = new FreshReads<string>();
  private readonly repositories = new FreshReads<RepositoryNow>();

  private botLogin?: Promise<string>;
  /**
   * Installations uninstalled: for good when the webhook said so; for a while when GitHub refused a
   * token, which a new installation's first moments might answer the same way.
   */
  private readonly gone = new ExpiringCache<number, true>(LOOKUP_CAPACITY);

  /** `appId`: the GitHub App this is, so check runs it made can be told from another App's. */
  constructor(private readonly probot: Probot, private readonly appId: number) {}

  async forRepository(owner: string, repo: string): Promise<{ installationId: number; github: GitHubClient }> {
    const key = `${owner}/${repo}`.toLowerCase();
    let installationId = this.lookups.get(key);
    if (installationId === undefined) {
      // Any other failure (a 401 for a bad App key, a 5xx) is thrown and nothing is cached.
      installationId = await this.lookUp(owner, repo);
      this.lookups.set(key, installationId, installationId === null ? NOT_INSTALLED_TTL_MS : INSTALLED_TTL_MS);
    }
    if (installationId === null) throw new AppNotInstalledError(`${owner}/${repo}`);
    return { installationId, github: await this.client(installationId) };
  }

  /** The App was installed, uninstalled, or given other repositories: every cached lookup may be wrong. */
  forget(): void {
    this.lookups.clear();
  }

  /** The App was uninstalled from this installation (`installation.deleted`). */
  uninstalled(installationId: number): void {
    this.gone.set(installationId, true, Infinity);
  }

  async client(installationId: number): Promise<GitHubClient> {
    if (this.gone.get(installationId)) throw new InstallationGone(installationId);
    const octokit = await this.probot.auth(installationId);
    // Another replica heard the webhook: this one learns it from the first token GitHub refuses.
    octokit.hook.error('request', (err) => {
      if (isTokenRefusedAsGone(err) && !this.gone.get(installationId)) this.gone.set(installationId, true, TOKEN_REFUSED_TTL_MS);
      throw err;
    });
    useConditionalRequests(octokit, this.cache, installationId);
    return new OctokitGitHubClient(octokit, { appId: this.appId, botLogin: () => this.ownBotLogin(), shared: { installationId, branchHeads: this.branchHeads, repositories: this.repositories } });
  }

  /** The login the App comments as (`<slug>[bot]`), asked of GitHub once. */
  private ownBotLogin(): Promise<string> {
    this.botLogin ??= (async () => {
      const { data } = await (await this.probot.auth()).rest.apps.getAuthenticated();
      return `${data?.slug ?? ''}[bot]`;
    })().catch((err) => {
      this.botLogin = undefined;
      throw err;
    });
    return this.botLogin;
  }

  private async lookUp(owner: string, repo: string): Promise<number | null> {
    const appOctokit = await this.probot.auth();
    useConditionalRequests(appOctokit, this.cache, 0);
    try {
      const { data } = await appOctokit.rest.apps.getRepoInstallation({ owner, repo });
      return data.id;
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }
}
