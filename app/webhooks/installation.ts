/**
 * The App loses a repository for good: uninstalled (`installation.deleted`; installing it again makes
 * another installation), or the repository taken out of the installation's selection
 * (`installation_repositories.removed`). GitHub then refuses the installation's tokens there and sends
 * no more of its comments or button presses, so a pending request of it can never be shown, voted on
 * or decided: it fails at once, saying why, instead of leaving its step waiting until its deadline.
 * A suspended installation's requests wait: unsuspending it brings them back.
 */
import type { Context } from 'probot';
import type { Gate } from '../gate/gate.js';
import type { RequestPosition, Store } from '../store/store.js';

const PAGE = 500;

async function failPending(store: Store, gate: Gate, lost: (facts: { installationId?: number }, repositoryId: string) => boolean, why: string): Promise<number> {
  let failed = 0;
  let after: RequestPosition | undefined;
  for (;;) {
    const page = await store.listRequests({ status: 'pending', limit: PAGE, ...(after ? { after } : {}) });
    for (const request of page) {
      if (lost(request.facts as { installationId?: number }, request.repositoryId) && (await gate.installationLost(request.id, why))) failed += 1;
    }
    const last = page.at(-1);
    if (page.length < PAGE || !last) return failed;
    after = { createdAt: last.createdAt, id: last.id };
  }
}

export function handleInstallationDeleted(store: Store, gate: Gate) {
  return async (context: Context<'installation.deleted'>): Promise<void> => {
    const { installation } = context.payload;
    const account = (installation.account as { login?: string } | null)?.login ?? 'its account';
    const failed = await failPending(store, gate, (facts) => facts.installationId === installation.id, `the GitHub App was uninstalled from ${account}, so nobody can approve this request; install it again and re-run the job`);
    if (failed > 0) context.log.info({ installationId: installation.id, requests: failed }, 'installation deleted: its pending requests failed');
  };
}

export function handleRepositoriesRemoved(store: Store, gate: Gate) {
  return async (context: Context<'installation_repositories.removed'>): Promise<void> => {
    const { installation, repositories_removed: removed } = context.payload;
    const names = new Map(removed.map((repository) => [String(repository.id), repository.full_name]));
    for (const [id, name] of names) {
      const why = `${name} was removed from the GitHub App's installation, so nobody can approve this request; add it again and re-run the job`;
      const failed = await failPending(store, gate, (facts, repositoryId) => facts.installationId === installation.id && repositoryId === id, why);
      if (failed > 0) context.log.info({ installationId: installation.id, repository: name, requests: failed }, 'repository removed from the installation: its pending requests failed');
    }
  };
}
