/** Typed client for the control API; works against an in-process double or one started with the CLI. */
import type { DeploymentGateSpec, WorkflowRunSpec } from './actions-events.js';
import type { FaultSpec, LatencySpec, RateLimitSpec } from './faults.js';
import type { MintOptions, RunnerJob } from './oidc.js';
import type { Exchange } from './server.js';
import type { FileMap, Permission, Seed } from './types.js';

export interface DeliverySummary {
  seq: number;
  id: string;
  event: string;
  action: string | null;
  app_id: number;
  state: 'queued' | 'held' | 'delivered' | 'failed' | 'undeliverable';
  /** Status code the receiver answered with on the last attempt (null: no answer). */
  status: number | null;
  error?: string;
  /** How long the last attempt's exchange took, as GitHub's delivery log shows it. */
  duration_ms: number | null;
  attempts: number;
  payload: Record<string, unknown>;
}

export interface DeliveryQuery {
  event?: string;
  action?: string;
  app_id?: number;
  /** Only deliveries after this seq. */
  after?: number;
}

export interface RegisteredJob {
  jobId: string;
  /** ACTIONS_ID_TOKEN_REQUEST_URL */
  requestUrl: string;
  /** ACTIONS_ID_TOKEN_REQUEST_TOKEN */
  requestToken: string;
  claims: Record<string, unknown>;
}

/** What a history change recorded in the repository's activity. */
export interface ActivityRecord {
  before: string;
  after: string;
  activity_type: string;
}

/** GitHub's JSON for a resource; typed loosely on purpose: tests assert on the fields they need. */
export type GitHubJson = Record<string, unknown> & { id: number };

export class ControlError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export class ControlClient {
  constructor(private readonly baseUrl: string) {}

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.baseUrl}/_control${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    const parsed: unknown = text ? JSON.parse(text) : undefined;
    if (!response.ok) throw new ControlError(response.status, `${method} /_control${path}: ${response.status} ${(parsed as { message?: string })?.message ?? text}`);
    return parsed as T;
  }

  info() { return this.call<{ url: string; apiUrl: string; oidcIssuer: string; routes: string[] }>('GET', '/info'); }
  /** Adds to the current state (users, teams, repos, apps, installations). */
  seed(seed: Seed) { return this.call<void>('POST', '/seed', seed); }
  /** Back to the start-up seed (or a new one); clears tokens, faults, counters, deliveries. */
  reset(seed?: Seed) { return this.call<void>('POST', '/reset', seed ? { seed } : {}); }
  setWebhook(appId: number, webhook: { url: string; secret: string }) { return this.call<void>('POST', `/apps/${appId}/webhook`, webhook); }
  /** One push of one commit; `renames` (old path → new path) move files, keeping their content unless `files` say otherwise. */
  pushCommit(repository: string, commit: { branch: string; files?: FileMap; renames?: Record<string, string>; message?: string; author?: string }) {
    return this.call<{ sha: string }>('POST', `/repos/${repository}/commits`, commit);
  }

  /** One push of several commits (oldest first): one repository activity from the branch's old head (`before`) to `sha`. */
  push(repository: string, push: { branch: string; commits: Array<{ files?: FileMap; renames?: Record<string, string>; message?: string }>; author?: string }) {
    return this.call<{ before: string; sha: string; shas: string[] }>('POST', `/repos/${repository}/pushes`, push);
  }

  /** Renames an account: its id, access and teams stay with it; the old login is free. */
  renameUser(login: string, to: string) {
    return this.call<{ id: number; login: string }>('POST', `/users/${login}/rename`, { to });
  }

  /** Moves an existing branch to any commit of the repository: a `force_push` activity (a `push` if it only fast-forwards). */
  forcePush(repository: string, push: { branch: string; sha: string; author?: string }) {
    return this.call<ActivityRecord>('POST', `/repos/${repository}/force-push`, push);
  }

  /** Renames a repository within its owner's account; its old name leads to it until another repository takes the name. */
  rename(repository: string, name: string, user?: string) {
    return this.call<{ full_name: string; id: number; deliveries: number[] }>('POST', `/repos/${repository}/rename`, { name, user });
  }

  /** Forks a repository to `owner`'s account: the fork's branches start as the parent's; its commits are served by the parent's API too. */
  fork(repository: string, owner: string) {
    return this.call<{ full_name: string }>('POST', `/repos/${repository}/forks`, { owner });
  }

  /** Tags a commit (a lightweight tag; no event is sent). A name may be a branch's too, as git allows. */
  createTag(repository: string, tag: { tag: string; sha: string }) {
    return this.call<{ tag: string; sha: string }>('POST', `/repos/${repository}/tags`, tag);
  }

  /** Deletes a branch: a `branch_deletion` activity. Refused for the default branch and for branches of open pull requests. */
  deleteBranch(repository: string, deletion: { branch: string; author?: string }) {
    return this.call<ActivityRecord>('POST', `/repos/${repository}/delete-branch`, deletion);
  }
  /** Grants (or with null, removes) a direct collaborator permission. */
  setPermission(repository: string, user: string, permission: Permission | null) {
    return this.call<void>('POST', `/repos/${repository}/collaborators`, { user, permission });
  }
  installationToken(installationId: number) { return this.call<{ token: string }>('POST', '/tokens/installation', { installation_id: installationId }); }
  /** A workflow's GITHUB_TOKEN for one repository. */
  repositoryToken(repository: string, permissions?: Record<string, 'read' | 'write'>) {
    return this.call<{ token: string }>('POST', '/tokens/repository', { repository, permissions });
  }

  // act as a user; each returns the seqs of the webhook deliveries it caused
  comment(a: { repository: string; issue_number: number; user: string; body: string }) { return this.call<{ comment: GitHubJson; deliveries: number[] }>('POST', '/act/comment', a); }
  editComment(a: { repository: string; comment_id: number; user: string; body: string }) { return this.call<{ comment: GitHubJson; deliveries: number[] }>('POST', '/act/edit-comment', a); }
  deleteComment(a: { repository: string; comment_id: number; user: string }) { return this.call<{ deliveries: number[] }>('POST', '/act/delete-comment', a); }
  clickCheckRunButton(a: { repository: string; check_run_id: number; user: string; identifier: string }) { return this.call<{ deliveries: number[] }>('POST', '/act/click', a); }
  openPull(a: { repository: string; user: string; title: string; head: string; head_repository?: string; base?: string; body?: string; draft?: boolean; files?: FileMap; labels?: string[] }) {
    return this.call<{ number: number; head_sha: string; merge_sha: string; base_sha: string; deliveries: number[] }>('POST', '/act/open-pull', a);
  }
  /** Changes an open pull request's base branch: a `base_ref_changed` issue event and `pull_request.edited`. */
  retargetPull(a: { repository: string; number: number; base: string; user: string }) { return this.call<{ base: string; deliveries: number[] }>('POST', '/act/retarget-pull', a); }
  /** Merges an open pull request with a merge commit: a `pr_merge` activity on the base branch and `pull_request.closed`. */
  mergePull(a: { repository: string; number: number; user: string }) { return this.call<{ sha: string; deliveries: number[] }>('POST', '/act/merge-pull', a); }
  /** Someone clicks "Re-run" on a check run: `check_run.rerequested` to the App that owns it. */
  rerunCheckRun(a: { repository: string; check_run_id: number; user: string }) { return this.call<{ deliveries: number[] }>('POST', '/act/rerun', a); }
  install(a: { account: string; user: string; repositories?: string[]; app_id?: number }) { return this.call<{ installation_id: number; deliveries: number[] }>('POST', '/act/install', a); }
  /**
   * The account's owner acts on an installation: `suspend` / `unsuspend` it, uninstall the App (`delete`),
   * or take `repositories` (names) out of its selection (`remove-repositories`); each sends its webhook.
   */
  changeInstallation(a: { installation_id: number; user: string; action: 'suspend' | 'unsuspend' | 'delete' | 'remove-repositories'; repositories?: string[] }) {
    return this.call<{ deliveries: number[] }>('POST', '/act/installation', a);
  }
  workflowRun(a: WorkflowRunSpec) { return this.call<{ run_id: number; deliveries: number[] }>('POST', '/act/workflow-run', a); }
  deploymentGate(a: DeploymentGateSpec) { return this.call<{ run_id: number; deployment_id: number; deliveries: number[] }>('POST', '/act/deployment-gate', a); }

  // read back what the App did
  checkRuns(repository: string, sha?: string) { return this.call<GitHubJson[]>('GET', `/repos/${repository}/check-runs${sha ? `?sha=${sha}` : ''}`); }
  issues(repository: string) { return this.call<GitHubJson[]>('GET', `/repos/${repository}/issues`); }
  comments(repository: string, issueNumber?: number) { return this.call<GitHubJson[]>('GET', `/repos/${repository}/comments${issueNumber ? `?issue_number=${issueNumber}` : ''}`); }
  reactions(repository: string) { return this.call<{ id: number; content: string; user: string; subject: unknown }[]>('GET', `/repos/${repository}/reactions`); }
  deploymentReviews() { return this.call<{ repository: string; runId: number; environmentName: string; state: 'approved' | 'rejected' | null; comment: string }[]>('GET', '/deployment-reviews'); }

  // faults and counters
  fault(spec: FaultSpec) { return this.call<void>('POST', '/faults', spec); }
  latency(spec: LatencySpec) { return this.call<void>('POST', '/latency', spec); }
  rateLimit(spec: RateLimitSpec) { return this.call<void>('POST', '/rate-limit', spec); }
  clearFaults() { return this.call<void>('DELETE', '/faults'); }
  /** Calls per `METHOD /route/{template}`. */
  requestCounts() { return this.call<Record<string, number>>('GET', '/requests'); }
  resetRequestCounts() { return this.call<void>('DELETE', '/requests'); }
  /** The exchanges kept (the latest 5,000), or only those after `mark`. */
  exchanges(after?: number) { return this.call<Exchange[]>('GET', after === undefined ? '/exchanges' : `/exchanges?after=${after}`); }
  /** Where the exchanges stand now, for `exchanges(mark)`: unlike a count, it holds when the oldest are dropped. */
  async exchangeMark(): Promise<number> { return (await this.exchanges()).at(-1)?.seq ?? 0; }

  // webhooks
  deliveries(query: DeliveryQuery = {}) {
    const qs = new URLSearchParams(Object.entries(query).filter(([, v]) => v !== undefined).map(([k, v]): [string, string] => [k, String(v)]));
    return this.call<DeliverySummary[]>('GET', `/deliveries?${qs}`);
  }
  /** Waits until a matching delivery was attempted and returns it (status = the receiver's answer). */
  waitForDelivery(query: DeliveryQuery & { timeout_ms?: number }) { return this.call<DeliverySummary>('POST', '/deliveries/wait', query); }
  deliveriesIdle() { return this.call<void>('POST', '/deliveries/idle'); }
  pauseDeliveries() { return this.call<void>('POST', '/deliveries/pause'); }
  /** Sends held deliveries: fifo, reverse, or these seqs first in this order. */
  releaseDeliveries(order: 'fifo' | 'reverse' | number[] = 'fifo') { return this.call<number[]>('POST', '/deliveries/release', { order }); }
  setDeliveryDelay(ms: number) { return this.call<void>('POST', '/deliveries/delay', { ms }); }
  /**
   * `sequential` (the default): one delivery at a time, in order. `concurrent`: as GitHub sends them, each at
   * once after a random delay of up to `max_jitter_ms` (default 50), so they overlap and arrive out of order;
   * the same `seed` gives the same delays.
   */
  setDeliveryMode(mode: { mode: 'sequential' } | { mode: 'concurrent'; max_jitter_ms?: number; seed?: number }) {
    return this.call<void>('POST', '/deliveries/mode', mode);
  }
  /** New deliveries are dropped (never sent, as a lost delivery) or sent twice, with these probabilities; zeros end it. */
  setDeliveryLoss(loss: { drop_rate?: number; duplicate_rate?: number; seed?: number }) { return this.call<void>('POST', '/deliveries/loss', loss); }
  redeliver(seq: number) { return this.call<{ seq: number }>('POST', `/deliveries/${seq}/redeliver`); }

  // OIDC
  registerJob(job: RunnerJob) { return this.call<RegisteredJob>('POST', '/oidc/jobs', job); }
  /** A token for a job's claims (or raw claims), with any audience, lifetime, issue time or issuer. */
  mintIdToken(request: MintOptions & { job?: RunnerJob; claims?: Record<string, unknown> }) { return this.call<{ token: string }>('POST', '/oidc/mint', request); }
  rotateOidcKey(options: { keep_old?: boolean } = {}) { return this.call<{ kid: string }>('POST', '/oidc/rotate', options); }
}
