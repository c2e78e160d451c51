/**
 * A repository renamed (`repository.renamed`): its requests follow it. GitHub redirects the old name
 * only until another repository takes it; from then on, check runs, threads and replies written to
 * the old name would land in that repository, and the dashboard would list the requests under a
 * name that is no longer theirs. A repository transferred to another account is not followed: its
 * requests would be decided by the new owner's installation, teams and org policy, so they fail
 * instead, as a name that leads elsewhere does.
 */
import type { Context } from 'probot';
import type { GitHubClient } from '../github/github.js';
import { isNotFound } from '../github/octokit-client.js';
import type { Store } from '../store/store.js';

export function handleRepositoryRenamed(store: Store, github: (installationId: number) => Promise<GitHubClient>) {
  return async (context: Context<'repository.renamed'>): Promise<void> => {
    const { repository, installation } = context.payload;
    if (!installation) return;
    // Two renames' deliveries may arrive in either order: the name GitHub gives now is the one kept,
    // and only while it still leads to this repository.
    const now = await (await github(installation.id)).repository({ owner: repository.owner.login, repo: repository.name }).catch((err: unknown) => {
      if (isNotFound(err)) return undefined;
      throw err;
    });
    if (now?.id !== String(repository.id)) {
      context.log.info({ repositoryId: repository.id, name: repository.full_name }, 'a renamed repository is no longer at the name its delivery gives; a later rename says where it is');
      return;
    }
    const renamed = await store.renameRepository(now.id, { owner: now.owner, repo: now.repo, installationId: installation.id });
    if (renamed > 0) context.log.info({ repositoryId: now.id, name: `${now.owner}/${now.repo}`, requests: renamed }, 'repository renamed: its requests follow it');
  };
}
