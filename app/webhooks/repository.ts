/**
 * A repository renamed or transferred (`repository.renamed`, `repository.transferred`): its requests
 * follow it. GitHub redirects the old name only until another repository takes it; from then on,
 * check runs, threads and replies written to the old name would land in that repository, and the
 * dashboard would list the requests under a name that is no longer theirs.
 */
import type { Context } from 'probot';
import type { GitHubClient } from '../github/github.js';
import { isNotFound } from '../github/octokit-client.js';
import type { Store } from '../store/store.js';

export function handleRepositoryMoved(store: Store, github: (installationId: number) => Promise<GitHubClient>) {
  return async (context: Context<'repository.renamed' | 'repository.transferred'>): Promise<void> => {
    const { repository, installation } = context.payload;
    if (!installation) return;
    // Two moves' deliveries may arrive in either order: the name GitHub gives now is the one kept,
    // and only while it still leads to this repository, through the installation that reaches it.
    const now = await (await github(installation.id)).repository({ owner: repository.owner.login, repo: repository.name }).catch((err: unknown) => {
      if (isNotFound(err)) return undefined;
      throw err;
    });
    if (now?.id !== String(repository.id)) {
      context.log.info({ repositoryId: repository.id, name: repository.full_name }, 'a moved repository is no longer at the name its delivery gives, or this installation cannot read it; a later move says where it is');
      return;
    }
    const moved = await store.moveRepository(now.id, { owner: now.owner, repo: now.repo, installationId: installation.id });
    if (moved > 0) context.log.info({ repositoryId: now.id, name: `${now.owner}/${now.repo}`, installation: installation.id, requests: moved }, 'repository moved: its requests follow it');
  };
}
