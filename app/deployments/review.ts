/**
 * The outbox job that tells GitHub about a job-level gate: status reports on the run while the
 * request waits, then the answer (`approved`, or `rejected` for every other end). Each run of the job
 * sends what the store says now, so a retry or a burst of changes converges on the last state; what
 * was sent is noted in the request's facts, so nothing is sent twice. GitHub's 422 for a rule already
 * answered (a replica that sent it but died before noting it, or a person who decided elsewhere) means
 * there is nothing left to do.
 */
import type { DeploymentFacts, Gate, GateRequest } from '../gate/gate.js';
import type { GitHubClient } from '../github/github.js';
import { answerComment, statusReport } from '../render/deployment.js';
import type { ClaimedTimer, Store } from '../store/store.js';

/** GitHub keeps 10 status reports per deployment; the last is kept back so the answer's comment is never crowded out. */
export const MAX_STATUS_REPORTS = 9;

export interface ReviewOptions {
  store: Store;
  gate: Gate;
  github: (installationId: number) => Promise<GitHubClient>;
  now: () => Date;
}

const isUnprocessable = (err: unknown) => (err as { status?: number }).status === 422;

export function reviewDeploymentJob(options: ReviewOptions) {
  return async (job: ClaimedTimer): Promise<void> => {
    if (!job.requestId) return;
    const request = await options.gate.view(job.requestId);
    const deployment = request?.deployment;
    if (!request || !deployment || deployment.answered) return;
    const github = await options.github(request.installationId);
    const repo = { owner: request.owner, repo: request.repo };
    if (request.status !== 'pending') {
      const state = request.status === 'approved' ? 'approved' : 'rejected';
      try {
        await github.reviewDeployment(repo, deployment.callbackRunId, { environmentName: deployment.environment, state, comment: answerComment(request) });
      } catch (err) {
        if (!isUnprocessable(err)) throw err;
        await options.store.appendAudit({ type: 'deployment_already_answered', actor: 'app', requestId: request.id, facts: { state, error: (err as Error).message } });
      }
      await note(options.store, request, { answered: state });
      await options.store.appendAudit({ type: 'deployment_answered', actor: 'app', requestId: request.id, facts: { state, run_id: deployment.callbackRunId, environment: deployment.environment } });
      return;
    }
    const report = statusReport(request, options.now());
    if (!report || report === deployment.lastReport || (deployment.reports ?? 0) >= MAX_STATUS_REPORTS) return;
    try {
      await github.reviewDeployment(repo, deployment.callbackRunId, { environmentName: deployment.environment, comment: report });
    } catch (err) {
      // A rule already answered, or out of status reports: progress still shows on the check run and thread.
      if (!isUnprocessable(err)) throw err;
      await note(options.store, request, { reports: MAX_STATUS_REPORTS });
      return;
    }
    await note(options.store, request, { reports: (deployment.reports ?? 0) + 1, lastReport: report });
  };
}

/** Records what was told to GitHub, on the request's facts as they are now. */
async function note(store: Store, request: GateRequest, sent: Partial<DeploymentFacts>): Promise<void> {
  const row = await store.getRequest(request.id);
  if (!row) return;
  const facts = row.facts as { deployment?: DeploymentFacts };
  await store.updateRequest(request.id, { facts: { ...row.facts, deployment: { ...facts.deployment, ...sent } } });
}
