/**
 * `deployment_protection_rule.requested`: a job that targets an environment waits for this App.
 * Its facts come from the payload GitHub signed (environment, event, the deployment's ref, sha and
 * creator, the run from the callback URL), never from the workflow, which is why editing a workflow
 * cannot skip this gate. A payload the App cannot read is refused with what is wrong; the job then
 * stays waiting (GitHub's own timeout rejects it), never approved.
 */
import type { Context } from 'probot';
import type { Gate } from '../gate/gate.js';
import type { RunIdentity } from '../oidc.js';

/** The facts of one deployment protection rule, read from its payload. */
export interface RuleRequest {
  run: RunIdentity;
  deployment: { callbackRunId: number; environment: string; deploymentId: number; createdAt: string; pullNumbers: number[] };
  /** Who opened the pull requests the run is about: requesters too, so they cannot approve it unless the policy allows. */
  pullAuthors: { login: string; id: string }[];
}

export class PayloadError extends Error {}

type Json = Record<string, unknown>;

function field(payload: Json, path: string): unknown {
  return path.split('.').reduce<unknown>((at, key) => (at && typeof at === 'object' ? (at as Json)[key] : undefined), payload);
}

function text(payload: Json, path: string): string {
  const value = field(payload, path);
  if (typeof value !== 'string' || value === '') throw new PayloadError(`deployment_protection_rule payload: \`${path}\` is missing or not a string`);
  return value;
}

function id(payload: Json, path: string): number {
  const value = field(payload, path);
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) throw new PayloadError(`deployment_protection_rule payload: \`${path}\` is missing or not a positive integer`);
  return value;
}

const SHA = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;

/**
 * A deployment's ref is a branch or tag name or a sha, or a full ref; the policy's `branch:` condition
 * wants `refs/heads/…`. GitHub names the branch for runs of branches, which is what environments gate.
 */
function fullRef(ref: string, sha: string): string {
  if (ref.startsWith('refs/') || ref === sha) return ref;
  return `refs/heads/${ref}`;
}

/** Reads and checks the payload; throws `PayloadError` naming the field that is wrong. */
export function readRuleRequest(payload: Json): RuleRequest {
  const repository = text(payload, 'repository.full_name');
  const repositoryId = id(payload, 'repository.id');
  const environment = text(payload, 'environment');
  const callback = text(payload, 'deployment_callback_url');
  const sha = text(payload, 'deployment.sha');
  if (!SHA.test(sha)) throw new PayloadError('deployment_protection_rule payload: `deployment.sha` is not a commit sha');
  const ref = text(payload, 'deployment.ref');
  const deploymentId = id(payload, 'deployment.id');
  const createdAt = text(payload, 'deployment.created_at');
  if (Number.isNaN(Date.parse(createdAt))) throw new PayloadError('deployment_protection_rule payload: `deployment.created_at` is not a time');
  // The run is named only by the callback URL; it must be this repository's.
  let path: string;
  try {
    path = new URL(callback).pathname;
  } catch {
    throw new PayloadError('deployment_protection_rule payload: `deployment_callback_url` is not a URL');
  }
  const match = /\/repos\/([^/]+\/[^/]+)\/actions\/runs\/(\d+)\/deployment_protection_rule$/.exec(path);
  if (!match) throw new PayloadError('deployment_protection_rule payload: `deployment_callback_url` does not name a workflow run');
  if (match[1].toLowerCase() !== repository.toLowerCase()) {
    throw new PayloadError(`deployment_protection_rule payload: \`deployment_callback_url\` names ${match[1]}, not the repository ${repository}`);
  }
  const runId = Number(match[2]);
  // Who created the deployment (whoever started the run's attempt), else the sender; who started the run is read from the run.
  const creator = field(payload, 'deployment.creator') ? 'deployment.creator' : 'sender';
  const actor = text(payload, `${creator}.login`);
  const actorId = id(payload, `${creator}.id`);
  const eventName = typeof payload.event === 'string' && payload.event ? payload.event : 'unknown';
  const run: RunIdentity = {
    subject: `repo:${repository}:environment:${environment}`,
    repository,
    repositoryId: String(repositoryId),
    repositoryOwner: repository.split('/')[0],
    ref: fullRef(ref, sha),
    sha,
    actor,
    actorId: String(actorId),
    runId: String(runId),
    // The payload does not say which attempt (0: not known); the deployment, one per job attempt, tells them apart.
    runAttempt: '0',
    eventName,
    environment,
  };
  const pulls = Array.isArray(payload.pull_requests) ? (payload.pull_requests as Json[]) : [];
  const pullAuthors = pulls.map((_, i) => ({ login: text(payload, `pull_requests.${i}.user.login`), id: String(id(payload, `pull_requests.${i}.user.id`)) }));
  // The run's pull request merges into this repository from the branch the deployment names; GitHub lists others too (one into another repository, say).
  const pullNumbers = pulls.flatMap((_, i) => (field(payload, `pull_requests.${i}.base.repo.id`) === repositoryId && field(payload, `pull_requests.${i}.head.ref`) === ref ? [id(payload, `pull_requests.${i}.number`)] : []));
  return { run, deployment: { callbackRunId: runId, environment, deploymentId, createdAt, pullNumbers }, pullAuthors };
}

/**
 * The same facts for a run the reconciler found waiting on this App without a request (its webhook was
 * lost): the run and environment from GitHub's list of waiting runs, the rest from the job's deployment.
 */
export function ruleRequestOf(found: {
  repository: { owner: string; repo: string; id: string };
  runId: number;
  event: string;
  environment: string;
  pullNumbers: number[];
  deployment: { id: number; sha: string; ref: string; createdAt: string; creator?: { login: string; id: string } };
}): RuleRequest {
  const repository = `${found.repository.owner}/${found.repository.repo}`;
  const { deployment } = found;
  if (!deployment.creator) throw new PayloadError(`deployment ${deployment.id} of ${repository}: \`creator\` is missing, so nobody can be named as who started the run`);
  const run: RunIdentity = {
    subject: `repo:${repository}:environment:${found.environment}`,
    repository,
    repositoryId: found.repository.id,
    repositoryOwner: found.repository.owner,
    ref: fullRef(deployment.ref, deployment.sha),
    sha: deployment.sha,
    actor: deployment.creator.login,
    actorId: deployment.creator.id,
    runId: String(found.runId),
    runAttempt: '0',
    eventName: found.event,
    environment: found.environment,
  };
  // GitHub's list of waiting runs names their pull requests without authors: the caller reads them.
  return { run, deployment: { callbackRunId: found.runId, environment: found.environment, deploymentId: deployment.id, createdAt: deployment.createdAt, pullNumbers: found.pullNumbers }, pullAuthors: [] };
}

export function handleRuleRequested(gate: Gate) {
  return async (context: Context<'deployment_protection_rule.requested'>): Promise<void> => {
    let request: RuleRequest;
    try {
      request = readRuleRequest(context.payload as unknown as Json);
    } catch (err) {
      if (!(err instanceof PayloadError)) throw err;
      context.log.error({ delivery: context.id, reason: err.message }, 'deployment protection rule refused');
      return;
    }
    await gate.openDeployment(request.run, request.deployment, request.pullAuthors);
  };
}
