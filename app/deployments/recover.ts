/**
 * GitHub does not redeliver a lost webhook, and a job waiting on this App holds its concurrency group
 * until GitHub gives up (30 days). Each reconciler round looks, in the repositories of installations
 * the App has served lately, for runs waiting on an environment whose protection rules include this
 * App, and opens the request of each one that has none. A request that exists is left as it is (the
 * key is the same as the webhook's), so a late webhook and a round never open two.
 *
 * GitHub's lists do not say which deployment is a waiting job's, and anyone with write access can
 * create a deployment of the same commit to the same environment. So a run whose job in that
 * environment has a request already that may be of its latest attempt is left alone, and the facts come from the run as GitHub lists
 * it (its branch, who started it, its pull requests' authors); a deployment is used only when its ref
 * and creator are that branch and that person. Without one the run is not opened (it waits, never
 * approved) and the log says why.
 */
import type { Logger } from 'probot';
import type { Gate } from '../gate/gate.js';
import type { GitHubClient } from '../github/github.js';
import { isInstallationGone } from '../github/installations.js';
import type { Store } from '../store/store.js';
import { PayloadError, ruleRequestOf } from './requested.js';

/** Installations with a request in this window are looked through. */
const SERVED_LATELY_MS = 30 * 24 * 3600_000;

export interface RecoveryOptions {
  store: Store;
  gate: Gate;
  github: (installationId: number) => Promise<GitHubClient>;
  /** This App's id: only environments whose rules include it are its business. */
  appId: number;
  log: Logger;
  now: () => number;
}

/** One round; a repository that fails is logged and looked at again next round. Answers how many requests it opened. */
export async function recoverLostRules(options: RecoveryOptions): Promise<number> {
  const { store, log } = options;
  let opened = 0;
  for (const installationId of await store.listServedInstallations(new Date(options.now() - SERVED_LATELY_MS))) {
    try {
      const github = await options.github(installationId);
      for (const repository of await github.installationRepositories()) {
        try {
          opened += await recoverRepository(options, github, repository);
        } catch (err) {
          log.warn({ err, repository: `${repository.owner}/${repository.repo}` }, 'could not look for runs waiting on the App; trying again next round');
        }
      }
    } catch (err) {
      if (isInstallationGone(err)) continue; // uninstalled: no run waits on it any more
      log.warn({ err, installationId }, 'could not list the repositories of an installation; trying again next round');
    }
  }
  return opened;
}

async function recoverRepository(options: RecoveryOptions, github: GitHubClient, repository: { owner: string; repo: string; id: string }): Promise<number> {
  const gatedByUs = new Map<string, boolean>();
  let opened = 0;
  for (const run of await github.waitingRuns(repository)) {
    for (const environment of await github.pendingEnvironments(repository, run.id)) {
      if (!gatedByUs.has(environment)) gatedByUs.set(environment, (await github.protectionRuleApps(repository, environment)).includes(options.appId));
      if (!gatedByUs.get(environment)) continue;
      if (await options.gate.hasDeploymentRequest(repository.id, String(run.id), environment, run)) continue;
      const actor = run.triggeringActor;
      const [deployment] = (await github.deployments(repository, run.headSha, environment)).filter(
        (d) => d.sha === run.headSha && run.headBranch !== null && d.ref === run.headBranch && actor !== undefined && d.creator?.id === actor.id,
      );
      if (!deployment) {
        options.log.error({ repository: `${repository.owner}/${repository.repo}`, runId: run.id, environment }, "a run waits on the App without a request, and none of its commit's deployments is of the run's branch by whoever started it; it is left waiting");
        continue;
      }
      let found;
      try {
        found = ruleRequestOf({ repository, runId: run.id, event: run.event, environment, deployment, pullNumbers: run.pullNumbers });
      } catch (err) {
        if (!(err instanceof PayloadError)) throw err;
        options.log.error({ reason: err.message }, 'a run waiting on the App cannot be gated');
        continue;
      }
      const pullAuthors = await Promise.all(run.pullNumbers.map(async (number) => {
        const pull = await github.pullRequest(repository, number);
        return { login: pull.author, id: pull.authorId };
      }));
      const { created, request } = await options.gate.openDeployment(found.run, found.deployment, pullAuthors);
      if (!created) continue;
      opened += 1;
      options.log.info({ requestId: request.id, runId: run.id, environment }, 'opened the request of a run whose deployment_protection_rule webhook never arrived');
    }
  }
  return opened;
}
