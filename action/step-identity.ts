/**
 * Which step this is, and the check that every answer of the App is about it. The App finds a request
 * by run, attempt and action, so a second job of the same run could otherwise be handed another job's
 * decision; an answer about anything else fails the step, never passes it.
 */
import { decodeJwt } from 'jose';
import type { RequestView } from './client.js';

export interface StepIdentity {
  action: string;
  /** The `environment` input; undefined when the step gave none. */
  environment?: string;
  /** `owner/name`, from GITHUB_REPOSITORY. */
  repository: string;
  /** GITHUB_REPOSITORY_ID: unlike the name, it stays when the repository is renamed while the step waits. */
  repositoryId?: string;
  runId: string;
  runAttempt: string;
}

const RUNNER_VARIABLES = ['GITHUB_REPOSITORY', 'GITHUB_RUN_ID', 'GITHUB_RUN_ATTEMPT'] as const;

export function stepIdentityFromEnvironment(inputs: { action: string; environment?: string }, env: NodeJS.ProcessEnv = process.env): StepIdentity {
  const missing = RUNNER_VARIABLES.filter((name) => !env[name]);
  if (missing.length > 0) {
    throw new Error(`${missing.join(', ')} not set: the step cannot tell which run it is, so it cannot check the App's answer. Run it as a step of a GitHub Actions job.`);
  }
  return {
    action: inputs.action,
    environment: inputs.environment,
    repository: env.GITHUB_REPOSITORY!,
    ...(env.GITHUB_REPOSITORY_ID ? { repositoryId: env.GITHUB_REPOSITORY_ID } : {}),
    runId: env.GITHUB_RUN_ID!,
    runAttempt: env.GITHUB_RUN_ATTEMPT!,
  };
}

/**
 * The job's `environment:` as its OIDC token states it. The App goes by this claim, and the step's
 * input may not repeat it. The token came from the runner and the App verifies it, so reading it
 * unverified here is enough.
 */
export function jobEnvironmentOf(idToken: string): string | undefined {
  try {
    const claim = decodeJwt(idToken).environment;
    return typeof claim === 'string' && claim !== '' ? claim : undefined;
  } catch {
    return undefined;
  }
}

/** GitHub compares environment names, and owner and repository names, ignoring case. */
const sameName = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
const quoted = (text: string | undefined) => (text === undefined ? 'none' : `"${text}"`);

export interface AnswerExpectation {
  /** The request id the call asked about; an open does not know it yet. */
  requestId?: string;
  /** From the token the call was made with. */
  jobEnvironment?: string;
}

/** Why `view` is not the request of this step (or, on a poll or cancel, not the one asked about); undefined when it is. */
export function answerMismatch(view: RequestView, step: StepIdentity, expectation: AnswerExpectation = {}): string | undefined {
  const theirs: string[] = [];
  const ours: string[] = [];
  const differs = (field: string, answered: string, expected: string) => {
    theirs.push(`${field} ${answered}`);
    ours.push(`${field} ${expected}`);
  };

  if (expectation.requestId !== undefined && view.id !== expectation.requestId) differs('id', view.id, expectation.requestId);
  if (view.action !== step.action) differs('action', quoted(view.action), quoted(step.action));
  const wrongEnvironment = [step.environment, expectation.jobEnvironment].find(
    (expected) => expected !== undefined && (view.environment === undefined || !sameName(view.environment, expected)),
  );
  if (wrongEnvironment !== undefined) differs('environment', quoted(view.environment), quoted(wrongEnvironment));
  // Neither the step nor its job names one, so the App's request names none: one that does is another job's.
  else if (step.environment === undefined && expectation.jobEnvironment === undefined && view.environment !== undefined) differs('environment', quoted(view.environment), 'none');
  // The App names a repository as it is called now; by id, a rename while the step waits is no other repository.
  if (view.repositoryId !== undefined && step.repositoryId !== undefined) {
    if (view.repositoryId !== step.repositoryId) differs('repository', `${view.repository} (id ${view.repositoryId})`, `${step.repository} (id ${step.repositoryId})`);
  } else if (!sameName(view.repository, step.repository)) differs('repository', view.repository, step.repository);
  if (view.runId !== step.runId) differs('run', view.runId, step.runId);
  if (view.runAttempt !== step.runAttempt) differs('attempt', view.runAttempt, step.runAttempt);

  if (theirs.length === 0) return undefined;
  return `The App answered with the request for ${theirs.join(', ')}, not this step's ${ours.join(', ')} (request ${view.id}); nothing was approved.`;
}
