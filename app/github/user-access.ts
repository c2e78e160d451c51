/**
 * GitHub as a signed-in dashboard user sees it: the OAuth web flow of the App's own credentials
 * (GITHUB_CLIENT_ID / GITHUB_CLIENT_SECRET), who the user is, and whether they can read a repository.
 * A GitHub App's user access token reaches only repositories both the user and the App can access,
 * so "can read" here means: the App is installed there and the user may read it.
 */
import { exchangeWebFlowCode, getWebFlowAuthorizationUrl } from '@octokit/oauth-methods';
import { Octokit } from '@octokit/rest';
import { ExpiringCache } from './expiring-cache.js';
import type { RepositoryNow } from './github.js';
import { isNotFound, repositoryNowOf } from './octokit-client.js';

export interface OAuthCredentials {
  clientId: string;
  clientSecret: string;
}

export interface SignedInUser {
  login: string;
  id: string;
  accessToken: string;
  /** When GitHub says the token stops working (expiring user tokens), if it does. */
  expiresAt?: Date;
}

/** A repository name a user can read, and the GitHub id of the repository it leads to now. */
export interface ReadableRepository {
  name: string;
  id: string;
}

/** How long an answer about a user's access to a repository stands: revoked access shows within this. */
export const ACCESS_TTL_MS = 60_000;
const ACCESS_CAPACITY = 50_000;

const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

export class GitHubUserAccess {
  /** Keyed by token and lower-cased `owner/name`: the repository the name leads to, or null when the user cannot read one there. */
  private readonly readable: ExpiringCache<string, RepositoryNow | null>;

  constructor(private readonly credentials: OAuthCredentials, private readonly apiUrl: string, now: () => number = Date.now) {
    this.readable = new ExpiringCache(ACCESS_CAPACITY, now);
  }

  private octokit(token?: string): Octokit {
    return new Octokit({ baseUrl: this.apiUrl, auth: token, log: quiet });
  }

  /** GitHub's sign-in page for the App, which sends the user back to `redirectUrl` with a code and `state`. */
  authorizationUrl(redirectUrl: string, state: string): string {
    return getWebFlowAuthorizationUrl({ clientType: 'github-app', clientId: this.credentials.clientId, redirectUrl, state, request: this.octokit().request }).url;
  }

  /** Exchanges the code GitHub sent back for the user's token, and asks who they are. */
  async signIn(code: string, redirectUrl: string): Promise<SignedInUser> {
    const { authentication } = await exchangeWebFlowCode({
      clientType: 'github-app',
      clientId: this.credentials.clientId,
      clientSecret: this.credentials.clientSecret,
      code,
      redirectUrl,
      request: this.octokit().request,
    });
    const { data } = await this.octokit(authentication.token).rest.users.getAuthenticated();
    const expiresAt = 'expiresAt' in authentication && typeof authentication.expiresAt === 'string' ? new Date(authentication.expiresAt) : undefined;
    return { login: data.login, id: String(data.id), accessToken: authentication.token, ...(expiresAt ? { expiresAt } : {}) };
  }

  /**
   * The repository a name leads to, when the token's user may read it (a 404 means no; other failures
   * are thrown, never read as yes): its id tells whether it is still the one a request was made in
   * (a renamed or deleted repository's old name may since be another's).
   */
  async readableAt(token: string, repository: string): Promise<RepositoryNow | undefined> {
    const key = `${token}\n${repository.toLowerCase()}`;
    const known = this.readable.get(key);
    if (known !== undefined) return known ?? undefined;
    const [owner, repo] = repository.split('/');
    let answer: RepositoryNow | null;
    try {
      answer = repositoryNowOf((await this.octokit(token).rest.repos.get({ owner: owner!, repo: repo! })).data);
    } catch (err) {
      if (!isNotFound(err) && (err as { status?: number }).status !== 403) throw err;
      answer = null;
    }
    this.readable.set(key, answer, ACCESS_TTL_MS);
    return answer ?? undefined;
  }

  /** Of `repositories` (names), those the token's user can read, each with the id of the repository it leads to now. */
  async readableOf(token: string, repositories: readonly string[]): Promise<ReadableRepository[]> {
    const answers = await Promise.all(repositories.map(async (name) => ({ name, now: await this.readableAt(token, name) })));
    return answers.flatMap(({ name, now }) => (now ? [{ name, id: now.id }] : []));
  }

  /** Signing out forgets what the token could read. */
  forget(token: string): void {
    this.readable.deleteWhere((key) => key.startsWith(`${token}\n`));
  }
}
