/**
 * The outbox job that tells GitHub about a job-level gate: status reports on the run while the
 * request waits, then the answer (`approved`, or `rejected` for every other end). Each run of the job
 * sends what the store says now, so a retry or a burst of changes converges on the last state; what
 * was sent is noted in the request's facts, so nothing is sent twice. GitHub's 422 for a rule already
 * answered (a replica that sent it but died before noting it, or a person who decided elsewhere) means
 * there is nothing left to do.
 */
import { ofEarlierAttempt, stillNamed, type DeploymentFacts, type Gate, type GateRequest } from '../gate/gate.js';
import type { GitHubClient, RepoCoordinates } from '../github/github.js';
import { isTransient } from '../github/transient.js';
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
    // A rename while the answer waits its turn moves the request: the look at the run, and the answer,
    // are then not sent to whatever repository has taken the old name (whose 404 for the run would
    // withhold the answer for good), and the outbox's retry sends them under the new name.
    const namedSo = stillNamed(options.store, request.id, repo);
    if (request.status !== 'pending') {
      const state = request.status === 'approved' ? 'approved' : 'rejected';
      // Checked when the answer's turn among the installation's writes has come, just before it leaves:
      // a re-run while it waited in that queue would otherwise receive it.
      let stale: string | undefined;
      const stillDue = async () => {
        const found = await ofEarlierAttemptNow(github, repo, deployment, state);
        // After the look at the run, which read whatever holds the name now.
        await namedSo();
        stale = found;
        if (stale) throw new Error(`the answer is withheld: ${stale}`);
      };
      try {
        await github.reviewDeployment(repo, deployment.callbackRunId, { environmentName: deployment.environment, state, comment: answerComment(request), stillDue });
      } catch (err) {
        if (stale) {
          await note(options.store, request, { answered: 'withheld' });
          await options.store.appendAudit({ type: 'deployment_answer_withheld', actor: 'app', requestId: request.id, facts: { state, run_id: deployment.callbackRunId, environment: deployment.environment, reason: stale } });
          return;
        }
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
      await github.reviewDeployment(repo, deployment.callbackRunId, { environmentName: deployment.environment, comment: report, stillDue: namedSo });
    } catch (err) {
      // A rule already answered, or out of status reports: progress still shows on the check run and thread.
      if (!isUnprocessable(err)) throw err;
      await note(options.store, request, { reports: MAX_STATUS_REPORTS });
      return;
    }
    await note(options.store, request, { reports: (deployment.reports ?? 0) + 1, lastReport: report });
  };
}

/**
 * Why the answer must not be sent, if it must not: GitHub takes it by run and environment alone, so
 * once the run was re-run (or is gone), an earlier attempt's answer would be taken as the latest's. The
 * run is read again just before answering. A rejection is sent when the installation may not read runs
 * at all: it can only hold a job back.
 */
async function ofEarlierAttemptNow(github: GitHubClient, repo: RepoCoordinates, deployment: DeploymentFacts, state: 'approved' | 'rejected'): Promise<string | undefined> {
  let run;
  try {
    run = await github.workflowRun(repo, deployment.callbackRunId);
  } catch (err) {
    const status = (err as { status?: number }).status;
    if (status === 404) return `GitHub no longer knows run ${deployment.callbackRunId}`;
    // A rate limit passes: read again later. Only an installation that may not read runs at all is answered blind.
    if (state === 'rejected' && status === 403 && !isTransient(err)) return undefined;
    throw err;
  }
  if (!ofEarlierAttempt(deployment, run)) return undefined;
  return `run ${deployment.callbackRunId} was re-run: attempt ${run.attempt} waits on \`${deployment.environment}\` now, and this request is of an earlier attempt`;
}

/** Records what was told to GitHub, on the request's facts as they are now. */
async function note(store: Store, request: GateRequest, sent: Partial<DeploymentFacts>): Promise<void> {
  const row = await store.getRequest(request.id);
  if (!row) return;
  const facts = row.facts as { deployment?: DeploymentFacts };
  await store.updateRequest(request.id, { facts: { ...row.facts, deployment: { ...facts.deployment, ...sent } } });
}
