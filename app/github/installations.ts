/** Finds the App's installation on a repository and hands out GitHubClients bound to it. */
import type { Probot } from 'probot';
import { ResponseCache, useConditionalRequests } from './conditional-requests.js';
import type { GitHubClient } from './github.js';
import { isNotFound, OctokitGitHubClient } from './octokit-client.js';

export class AppNotInstalledError extends Error {
  constructor(readonly repository: string) {
    super(`the GitHub App is not installed on ${repository}`);
  }
}

export class Installations {
  private readonly cache = new ResponseCache();

  constructor(private readonly probot: Probot) {}

  async forRepository(owner: string, repo: string): Promise<{ installationId: number; github: GitHubClient }> {
    const appOctokit = await this.probot.auth();
    useConditionalRequests(appOctokit, this.cache, 0);
    try {
      const { data } = await appOctokit.rest.apps.getRepoInstallation({ owner, repo });
      return { installationId: data.id, github: await this.client(data.id) };
    } catch (err) {
      if (isNotFound(err)) throw new AppNotInstalledError(`${owner}/${repo}`);
      throw err;
    }
  }

  async client(installationId: number): Promise<GitHubClient> {
    const octokit = await this.probot.auth(installationId);
    useConditionalRequests(octokit, this.cache, installationId);
    return new OctokitGitHubClient(octokit);
  }
}
