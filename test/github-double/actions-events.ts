/** Payload bodies for the Actions events the double can announce: workflow_run and deployment_protection_rule. */
import { diffTrees } from './git.js';
import { nodeId, pullJson, pullMinimalJson, repoJson, userJson, type Urls } from './shapes.js';
import { timestamp, type DoubleState } from './state.js';
import type { Commit, Repo, User } from './types.js';

export interface WorkflowRunSpec {
  repository: string;
  actor: string;
  action: 'requested' | 'in_progress' | 'completed';
  run_id?: number;
  run_number?: number;
  run_attempt?: number;
  /** Who started this attempt, default the actor. */
  triggering_actor?: string;
  /** When this attempt started, default now. */
  run_started_at?: string;
  /** When the run was made (its first attempt started), default when this attempt started. */
  created_at?: string;
  workflow?: string;
  workflow_path?: string;
  head_branch?: string;
  /** The commit the run ran, default the tip of its branch. */
  head_sha?: string;
  event?: string;
  conclusion?: 'success' | 'failure' | 'cancelled' | 'skipped' | 'timed_out' | 'action_required' | 'neutral' | null;
}

export interface DeploymentGateSpec {
  repository: string;
  /** Who started the run. */
  actor: string;
  environment: string;
  run_id?: number;
  /** The run's attempt whose job waits (default 1). A later attempt of a run replaces the earlier one's waiting jobs, as a re-run does. */
  run_attempt?: number;
  /** Who started this attempt (default the actor): GitHub makes the job's deployment as them. */
  triggering_actor?: string;
  /** When GitHub made the deployment and started the attempt (default now): a test's way to have a webhook arrive late. */
  created_at?: string;
  /** A branch, tag or commit sha; the default branch when absent. */
  ref?: string;
  /**
   * The commit deployed when it is not what `ref` names as a branch of this repository: a tag named
   * like a branch (`main`) on another commit, or a fork's branch of that name. The double keeps no tags
   * or forks, so the test says which commit it is.
   */
  sha?: string;
  /** The event that started the run (`push` unless told otherwise; `pull_request` with `pull_request`). */
  event?: string;
  /** The run is about this pull request: it deploys its head, and the payload lists it. */
  pull_request?: number;
  /**
   * A pull request of another repository GitHub lists for the run too, as it does one from the run's
   * branch into a fork's upstream: an App must pick out its own repository's.
   */
  also_listed?: { repository: string; number: number };
  app_id?: number;
}

const WORKFLOW_ID = 161335;

export function workflowRunBody(state: DoubleState, urls: Urls, repo: Repo, actor: User, spec: WorkflowRunSpec, runId: number) {
  const branch = spec.head_branch ?? repo.defaultBranch;
  const commit = spec.head_sha ? repo.commits.get(spec.head_sha) : state.resolveRef(repo, branch);
  if (!commit) throw new Error(`${repo.fullName}: unknown ${spec.head_sha ? `commit ${spec.head_sha}` : `branch ${branch}`}`);
  const attempt = spec.run_attempt ?? 1;
  const path = spec.workflow_path ?? '.github/workflows/ci.yml';
  const api = `${urls.api}/repos/${repo.fullName}/actions/runs/${runId}`;
  const now = timestamp();
  const author = state.user(commit.author);
  const person = { name: author?.name ?? commit.author, email: author?.email ?? `${commit.author}@users.noreply.example` };
  const workflowUrl = `${urls.api}/repos/${repo.fullName}/actions/workflows/${WORKFLOW_ID}`;
  const status = spec.action === 'requested' ? 'queued' : spec.action;
  return {
    workflow: {
      id: WORKFLOW_ID, node_id: nodeId('Workflow', WORKFLOW_ID), name: spec.workflow ?? 'CI', path, state: 'active',
      created_at: repo.createdAt, updated_at: repo.createdAt, url: workflowUrl,
      html_url: `${urls.web}/${repo.fullName}/blob/${repo.defaultBranch}/${path}`, badge_url: `${urls.web}/${repo.fullName}/workflows/CI/badge.svg`,
    },
    workflow_run: {
      id: runId, name: spec.workflow ?? 'CI', node_id: nodeId('WorkflowRun', runId), head_branch: branch, head_sha: commit.sha,
      path, display_title: commit.message, run_number: spec.run_number ?? 1, event: spec.event ?? 'push', status,
      conclusion: spec.action === 'completed' ? spec.conclusion ?? 'success' : null, workflow_id: WORKFLOW_ID,
      check_suite_id: runId + 1, check_suite_node_id: nodeId('CheckSuite', runId + 1), url: api,
      html_url: `${urls.web}/${repo.fullName}/actions/runs/${runId}`, pull_requests: [], created_at: spec.created_at ?? spec.run_started_at ?? now, updated_at: now,
      actor: userJson(actor, urls), triggering_actor: userJson(spec.triggering_actor ? state.ensureUser(spec.triggering_actor) : actor, urls), run_attempt: attempt,
      referenced_workflows: [], run_started_at: spec.run_started_at ?? now, jobs_url: `${api}/jobs`, logs_url: `${api}/logs`,
      check_suite_url: `${urls.api}/repos/${repo.fullName}/check-suites/${runId + 1}`, artifacts_url: `${api}/artifacts`,
      cancel_url: `${api}/cancel`, rerun_url: `${api}/rerun`, previous_attempt_url: attempt > 1 ? `${api}/attempts/${attempt - 1}` : null, workflow_url: workflowUrl,
      head_commit: { id: commit.sha, tree_id: commit.sha, message: commit.message, timestamp: commit.date, author: person, committer: person },
      repository: repoJson(repo, state, urls), head_repository: repoJson(repo, state, urls),
    },
  };
}

export function deploymentGateBody(state: DoubleState, urls: Urls, repo: Repo, actor: User, spec: DeploymentGateSpec, runId: number, deploymentId: number) {
  const pull = spec.pull_request === undefined ? undefined : state.pulls.get(repo.id)?.get(spec.pull_request);
  if (spec.pull_request !== undefined && !pull) throw new Error(`${repo.fullName}: unknown pull request #${spec.pull_request}`);
  const ref = spec.ref ?? pull?.headRef ?? repo.defaultBranch;
  // A run of a branch deploys the branch, even where a tag has the same name.
  const commit = spec.sha ? repo.commits.get(spec.sha) : state.resolveRef(repo, `refs/heads/${ref}`) ?? state.resolveRef(repo, ref);
  if (!commit) throw new Error(`${repo.fullName}: unknown ref ${ref}`);
  const api = `${urls.api}/repos/${repo.fullName}`;
  const now = spec.created_at ?? timestamp();
  const other = spec.also_listed && state.repos.get(spec.also_listed.repository.toLowerCase());
  const otherPull = other && state.pulls.get(other.id)?.get(spec.also_listed!.number);
  if (spec.also_listed && !otherPull) throw new Error(`unknown pull request ${spec.also_listed.repository}#${spec.also_listed.number}`);
  const listed = [...(pull ? [{ pull, repo }] : []), ...(otherPull ? [{ pull: otherPull, repo: other! }] : [])];
  return {
    environment: spec.environment, event: spec.event ?? (pull ? 'pull_request' : 'push'),
    deployment_callback_url: `${api}/actions/runs/${runId}/deployment_protection_rule`,
    deployment: {
      url: `${api}/deployments/${deploymentId}`, id: deploymentId, node_id: nodeId('Deployment', deploymentId), sha: commit.sha, ref,
      task: 'deploy', payload: {}, original_environment: spec.environment, environment: spec.environment, description: null,
      creator: userJson(actor, urls), created_at: now, updated_at: now, statuses_url: `${api}/deployments/${deploymentId}/statuses`,
      repository_url: api, transient_environment: false, production_environment: false,
    },
    pull_requests: listed.map(({ pull, repo }) => pullJson(pull, repo, state, urls, diffTrees((repo.commits.get(pull.baseSha) as Commit).files, (repo.commits.get(pull.mergeSha) as Commit).files))),
    /** What the run's listing says of the same pull requests (GitHub's `pull-request-minimal`). */
    listedPulls: listed.map(({ pull, repo }) => pullMinimalJson(pull, repo, urls)),
  };
}
