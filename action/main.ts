/** The Action: open an approval request at the App, wait for its decision, pass or fail the step. */
import * as core from '@actions/core';
import { AppClient, type RequestView } from './client.js';
import { checkRunFallbackFromEnvironment, type CheckRunFallback } from './fallback.js';
import { readInputs, type ActionInputs } from './inputs.js';
import { stepIdentityFromEnvironment, type StepIdentity } from './step-identity.js';
import { writeSummary } from './summary.js';
import { cancelOnTermination, endedOutcome, requestOfStep, waitForDecision, type Outcome } from './wait.js';

function fallbackFor(inputs: ActionInputs, step: StepIdentity): CheckRunFallback | undefined {
  if (!inputs.githubToken) {
    core.info('No github-token given: if the App is unreachable, the step waits for it without reading the check run.');
    return undefined;
  }
  try {
    return checkRunFallbackFromEnvironment(inputs.githubToken, step);
  } catch (err) {
    core.warning(`The check run fallback is off: ${err instanceof Error ? err.message : String(err)}`);
    return undefined;
  }
}

/** What the outputs say; `error` when the step failed before any decision (its reason says why). */
type Ended = Pick<Outcome, 'decision' | 'approvedBy' | 'requestId' | 'checkRunUrl' | 'reason'> & { status: Outcome['status'] | 'error' };

/** Every output, on every way the step ends, so an `if: failure()` step can read why. */
function setOutputs(ended: Ended): void {
  core.setOutput('status', ended.status);
  core.setOutput('decision', ended.decision ?? '');
  core.setOutput('approved-by', ended.approvedBy.join(','));
  core.setOutput('request-id', ended.requestId ?? '');
  core.setOutput('check-run-url', ended.checkRunUrl ?? '');
  core.setOutput('reason', ended.reason);
}

async function report(outcome: Outcome, inputs: ActionInputs): Promise<void> {
  setOutputs(outcome);
  await writeSummary(outcome, inputs);

  const where = outcome.checkRunUrl ? ` See ${outcome.checkRunUrl}` : '';
  switch (outcome.decision) {
    case 'approved':
      core.info(`Approved by ${outcome.approvedBy.join(', ') || 'the approvers'}.`);
      return;
    case 'auto_approved':
      core.info(`No approval needed: ${outcome.reason}.`);
      return;
    case 'rejected':
      if (inputs.failOnReject) core.setFailed(`Rejected: ${outcome.reason}.${where}`);
      else core.warning(`Rejected: ${outcome.reason}. fail-on-reject is false, so the step passes.${where}`);
      return;
    case 'timed_out':
      core.setFailed(`Timed out waiting for approval: ${outcome.reason}.${where}`);
      return;
    case 'cancelled':
      core.setFailed(`Cancelled: ${outcome.reason}.${where}`);
      return;
    case undefined: {
      const problems = outcome.problems.length > 0 ? `\n${outcome.problems.join('\n')}` : '';
      core.setFailed(`The request cannot be approved: ${outcome.reason}${problems}${where}`);
      return;
    }
  }
}

export async function run(): Promise<void> {
  let stopListening = () => {};
  let current: RequestView | undefined;
  /** Set once the runner cancels the job: the signal's handler then reports, and the wait does not as well. */
  let jobCancelled = false;
  try {
    const inputs = readInputs();
    const step = stepIdentityFromEnvironment(inputs);
    const client = new AppClient({ appUrl: inputs.appUrl, audience: inputs.audience, step, onRetry: (line) => core.info(line) });
    const fallback = fallbackFor(inputs, step);
    let opening: Promise<RequestView> | undefined;
    const startedAt = Date.now();

    const requestToCancel = () => {
      jobCancelled = true;
      return requestOfStep(current, opening);
    };
    stopListening = cancelOnTermination(client, requestToCancel, (line) => core.warning(line), (view) => {
      const outcome = endedOutcome('cancelled', 'the job was cancelled', view, Math.round((Date.now() - startedAt) / 1000));
      report(outcome, inputs).finally(() => process.exit(1));
    });

    const outcome = await waitForDecision(
      { action: inputs.action, environment: inputs.environment, severity: inputs.severity, summary: inputs.summary, timeoutSeconds: inputs.timeoutSeconds },
      { client, fallback, log: (line) => core.info(line), warn: (line) => core.warning(line), onRequest: (view) => (current = view), onOpening: (pending) => (opening = pending) },
    );
    if (!jobCancelled) await report(outcome, inputs);
  } catch (err) {
    // Fail closed: whatever went wrong, the step does not pass.
    const reason = err instanceof Error ? err.message : String(err);
    if (!jobCancelled) setOutputs({ status: 'error', reason, approvedBy: [], requestId: current?.id, checkRunUrl: current?.checkRunUrl });
    core.setFailed(reason);
  } finally {
    stopListening();
  }
}
