/** The control API (`/_control/…`): seed, act as users, read back, inject faults, count, drive webhooks and OIDC. */
import { issueInstallationToken, issueRepositoryToken } from './auth.js';
import { deploymentGateBody, workflowRunBody, type DeploymentGateSpec, type WorkflowRunSpec } from './actions-events.js';
import type { FaultSpec, LatencySpec, RateLimitSpec } from './faults.js';
import { deleteBranch, forcePush, HistoryError, mergePull, withRenames } from './history.js';
import { HttpError, parseJsonBody, Router, type Reply } from './http.js';
import { assertCommentBody } from './limits.js';
import type { MintOptions, RunnerJob } from './oidc.js';
import type { GitHubDouble } from './server.js';
import { checkRunJson, commentJson, issueJson } from './shapes.js';
import type { Delivery, DeliveryFilter } from './webhooks.js';
import type { FileMap, Issue, Permission, Repo, Seed } from './types.js';

type Body = Record<string, unknown>;
type PushedCommit = { files?: FileMap; renames?: Record<string, string>; message?: string };
type ControlHandler = (double: GitHubDouble, params: Record<string, string>, body: Body, url: URL) => Reply | Promise<Reply>;

const ok = (body: unknown = { ok: true }, status = 200): Reply => ({ status, body });
const badRequest = (message: string) => new HttpError(400, { message });

function str(body: Body, name: string): string {
  const value = body[name];
  if (typeof value !== 'string' || value === '') throw badRequest(`${name} (string) is required`);
  return value;
}

function repoOf(double: GitHubDouble, fullName: string): Repo {
  const repo = double.state.repos.get(fullName.toLowerCase());
  if (!repo) throw new HttpError(404, { message: `unknown repository ${fullName}` });
  return repo;
}

function issueOf(double: GitHubDouble, repo: Repo, number: number): Issue {
  const issue = double.state.issue(repo, number);
  if (!issue) throw new HttpError(404, { message: `unknown issue ${repo.fullName}#${number}` });
  return issue;
}

/** Runs a state change and returns what it produced plus the webhook deliveries it queued. */
function withDeliveries<T>(double: GitHubDouble, change: () => T): { result: T; deliveries: Delivery[] } {
  const before = double.dispatcher.lastSeq;
  const result = change();
  return { result, deliveries: double.dispatcher.list({ after: before }) };
}

function deliverySummary(d: Delivery) {
  const last = d.attempts.at(-1);
  return { seq: d.seq, id: d.id, event: d.event, action: d.action, app_id: d.appId, state: d.state, status: last?.status ?? null, error: last?.error, duration_ms: last?.durationMs ?? null, attempts: d.attempts.length, payload: JSON.parse(d.body) as unknown };
}

function deliveryFilter(source: Body | URLSearchParams): DeliveryFilter {
  const get = (k: string) => (source instanceof URLSearchParams ? source.get(k) ?? undefined : (source[k] as string | number | undefined));
  const after = get('after');
  const appId = get('app_id');
  return {
    event: get('event') as string | undefined, action: get('action') as string | undefined,
    after: after === undefined ? undefined : Number(after), appId: appId === undefined ? undefined : Number(appId),
  };
}

const router = new Router<ControlHandler>()
  .add('GET', '/_control/info', (d) => ok({ url: d.urls.web, apiUrl: d.urls.api, oidcIssuer: d.oidc.issuer, routes: d.router.templates }))
  .add('POST', '/_control/seed', (d, _p, body) => {
    d.state.applySeed(body as Seed);
    return ok();
  })
  .add('POST', '/_control/users/{login}/rename', (d, p, body) => {
    const to = body.to;
    if (typeof to !== 'string' || to === '') throw badRequest('to (string) is required');
    try {
      const user = d.state.renameUser(p.login, to);
      return ok({ id: user.id, login: user.login });
    } catch (err) {
      throw new HttpError(422, { message: (err as Error).message });
    }
  })
  .add('POST', '/_control/reset', (d, _p, body) => {
    d.reset(body.seed as Seed | undefined);
    return ok();
  })
  .add('POST', '/_control/apps/{app_id}/webhook', (d, p, body) => {
    const app = d.state.apps.get(Number(p.app_id));
    if (!app) throw new HttpError(404, { message: `unknown app ${p.app_id}` });
    app.webhook = { url: str(body, 'url'), secret: str(body, 'secret') };
    return ok();
  })
  .add('POST', '/_control/repos/{owner}/{repo}/commits', (d, p, body) => {
    const repo = repoOf(d, `${p.owner}/${p.repo}`);
    const branch = str(body, 'branch');
    const author = String(body.author ?? repo.owner.login);
    const before = repo.branches.get(branch) ?? '0'.repeat(40);
    const [files] = withRenames(repo, branch, [body as PushedCommit]);
    const commit = d.state.commit(repo, branch, files, String(body.message ?? 'Update'), author);
    d.state.pushedTo(repo, branch, before, commit.sha, d.state.ensureUser(author));
    return ok({ sha: commit.sha }, 201);
  })
  .add('POST', '/_control/repos/{owner}/{repo}/pushes', (d, p, body) => {
    const repo = repoOf(d, `${p.owner}/${p.repo}`);
    const branch = str(body, 'branch');
    const commits = Array.isArray(body.commits) ? (body.commits as PushedCommit[]) : [];
    if (!commits.length) throw new HttpError(422, { message: 'commits: at least one commit is required' });
    const author = String(body.author ?? repo.owner.login);
    const files = withRenames(repo, branch, commits);
    const pushed = d.state.push(repo, branch, commits.map((c, i) => ({ files: files[i], message: c.message })), author);
    const sha = pushed.commits[pushed.commits.length - 1].sha;
    d.state.pushedTo(repo, branch, pushed.before, sha, d.state.ensureUser(author));
    return ok({ before: pushed.before, sha, shas: pushed.commits.map((c) => c.sha) }, 201);
  })
  .add('POST', '/_control/repos/{owner}/{repo}/force-push', (d, p, body) => {
    const repo = repoOf(d, `${p.owner}/${p.repo}`);
    const author = String(body.author ?? repo.owner.login);
    const activity = forcePush(d.state, repo, str(body, 'branch'), str(body, 'sha'), author);
    d.state.pushedTo(repo, str(body, 'branch'), activity.before, activity.after, d.state.ensureUser(author));
    return ok({ before: activity.before, after: activity.after, activity_type: activity.type }, 201);
  })
  .add('POST', '/_control/repos/{owner}/{repo}/rename', (d, p, body) => {
    const repo = repoOf(d, `${p.owner}/${p.repo}`);
    const by = typeof body.user === 'string' ? d.state.ensureUser(body.user) : repo.owner;
    const { deliveries } = withDeliveries(d, () => d.state.rename(repo, str(body, 'name'), by));
    return ok({ full_name: repo.fullName, id: repo.id, deliveries: deliveries.map((x) => x.seq) });
  })
  .add('POST', '/_control/repos/{owner}/{repo}/forks', (d, p, body) => {
    const fork = d.state.fork(repoOf(d, `${p.owner}/${p.repo}`), d.state.ensureUser(str(body, 'owner')));
    return ok({ full_name: fork.fullName }, 201);
  })
  .add('POST', '/_control/repos/{owner}/{repo}/tags', (d, p, body) => {
    const repo = repoOf(d, `${p.owner}/${p.repo}`);
    const tag = str(body, 'tag');
    const sha = str(body, 'sha');
    if (!repo.commits.has(sha)) throw new HttpError(422, { message: `${repo.fullName}: no commit ${sha}` });
    if (repo.tags.has(tag)) throw new HttpError(422, { message: `${repo.fullName}: tag ${tag} exists` });
    repo.tags.set(tag, sha);
    return ok({ tag, sha }, 201);
  })
  .add('POST', '/_control/repos/{owner}/{repo}/delete-branch', (d, p, body) => {
    const repo = repoOf(d, `${p.owner}/${p.repo}`);
    const activity = deleteBranch(d.state, repo, str(body, 'branch'), String(body.author ?? repo.owner.login));
    return ok({ before: activity.before, after: activity.after, activity_type: activity.type }, 201);
  })
  .add('POST', '/_control/repos/{owner}/{repo}/collaborators', (d, p, body) => {
    const repo = repoOf(d, `${p.owner}/${p.repo}`);
    const user = d.state.ensureUser(str(body, 'user'));
    if (body.permission === null) repo.collaborators.delete(user.login.toLowerCase());
    else repo.collaborators.set(user.login.toLowerCase(), str(body, 'permission') as Permission);
    return ok();
  })
  .add('POST', '/_control/tokens/installation', (d, _p, body) => {
    const installation = d.state.installations.get(Number(body.installation_id));
    if (!installation) throw new HttpError(404, { message: `unknown installation ${String(body.installation_id)}` });
    return ok({ token: issueInstallationToken(d.state, installation, {}).token }, 201);
  })
  .add('POST', '/_control/tokens/repository', (d, _p, body) => {
    const repo = repoOf(d, str(body, 'repository'));
    const permissions = (body.permissions ?? { checks: 'read', contents: 'read', metadata: 'read', issues: 'read', pull_requests: 'read' }) as Record<string, 'read' | 'write'>;
    return ok({ token: issueRepositoryToken(d.state, repo, permissions).token }, 201);
  })

  // ---- act as a user -----------------------------------------------------------------------
  .add('POST', '/_control/act/comment', (d, _p, body) => {
    const repo = repoOf(d, str(body, 'repository'));
    const issue = issueOf(d, repo, Number(body.issue_number));
    assertCommentBody(str(body, 'body'), 'create');
    const { result, deliveries } = withDeliveries(d, () => d.state.createComment(repo, issue, d.state.ensureUser(str(body, 'user')), str(body, 'body'), null));
    return ok({ comment: commentJson(result, repo, d.state, d.urls), deliveries: deliveries.map((x) => x.seq) }, 201);
  })
  .add('POST', '/_control/act/edit-comment', (d, _p, body) => {
    const repo = repoOf(d, str(body, 'repository'));
    const comment = d.state.comments.get(Number(body.comment_id));
    if (!comment || comment.repoId !== repo.id) throw new HttpError(404, { message: `unknown comment ${String(body.comment_id)}` });
    assertCommentBody(str(body, 'body'), 'edit');
    const { result, deliveries } = withDeliveries(d, () => d.state.editComment(repo, comment, d.state.ensureUser(str(body, 'user')), str(body, 'body')));
    return ok({ comment: commentJson(result, repo, d.state, d.urls), deliveries: deliveries.map((x) => x.seq) });
  })
  .add('POST', '/_control/act/delete-comment', (d, _p, body) => {
    const repo = repoOf(d, str(body, 'repository'));
    const comment = d.state.comments.get(Number(body.comment_id));
    if (!comment || comment.repoId !== repo.id) throw new HttpError(404, { message: `unknown comment ${String(body.comment_id)}` });
    const { deliveries } = withDeliveries(d, () => d.state.deleteComment(repo, comment, d.state.ensureUser(str(body, 'user'))));
    return ok({ deliveries: deliveries.map((x) => x.seq) });
  })
  .add('POST', '/_control/act/click', (d, _p, body) => {
    const repo = repoOf(d, str(body, 'repository'));
    const run = d.state.checkRuns.get(Number(body.check_run_id));
    if (!run || run.repoId !== repo.id) throw new HttpError(404, { message: `unknown check run ${String(body.check_run_id)}` });
    try {
      const { deliveries } = withDeliveries(d, () => d.state.requestCheckRunAction(repo, run, d.state.ensureUser(str(body, 'user')), str(body, 'identifier')));
      return ok({ deliveries: deliveries.map((x) => x.seq) });
    } catch (error) {
      if (error instanceof HttpError) throw error;
      throw new HttpError(422, { message: (error as Error).message });
    }
  })
  .add('POST', '/_control/act/open-pull', (d, _p, body) => {
    const repo = repoOf(d, str(body, 'repository'));
    const { result, deliveries } = withDeliveries(d, () => d.state.openPull(repo, d.state.ensureUser(str(body, 'user')), {
      title: str(body, 'title'), head: str(body, 'head'), ...(body.head_repository ? { headRepo: repoOf(d, str(body, 'head_repository')) } : {}),
      base: body.base as string | undefined, body: body.body as string | undefined,
      draft: body.draft as boolean | undefined, files: body.files as FileMap | undefined, labels: body.labels as string[] | undefined,
    }, { notify: true }));
    return ok({ number: result.number, head_sha: result.headSha, merge_sha: result.mergeSha, base_sha: result.baseSha, deliveries: deliveries.map((x) => x.seq) }, 201);
  })
  .add('POST', '/_control/act/retarget-pull', (d, _p, body) => {
    const repo = repoOf(d, str(body, 'repository'));
    const pull = d.state.pull(repo, Number(body.number));
    if (!pull) throw new HttpError(404, { message: `${repo.fullName}: no pull request #${String(body.number)}` });
    const { deliveries } = withDeliveries(d, () => d.state.retargetPull(repo, pull, str(body, 'base'), d.state.ensureUser(str(body, 'user'))));
    return ok({ base: pull.baseRef, deliveries: deliveries.map((x) => x.seq) });
  })
  .add('POST', '/_control/act/merge-pull', (d, _p, body) => {
    const repo = repoOf(d, str(body, 'repository'));
    const merger = d.state.ensureUser(str(body, 'user'));
    const { result, deliveries } = withDeliveries(d, () => mergePull(d.state, repo, Number(body.number), merger));
    return ok({ sha: result.commit.sha, deliveries: deliveries.map((x) => x.seq) }, 201);
  })
  .add('POST', '/_control/act/rerun', (d, _p, body) => {
    const repo = repoOf(d, str(body, 'repository'));
    const run = d.state.checkRuns.get(Number(body.check_run_id));
    if (!run || run.repoId !== repo.id) throw new HttpError(404, { message: `unknown check run ${String(body.check_run_id)}` });
    const { deliveries } = withDeliveries(d, () => d.state.announce({
      name: 'check_run', action: 'rerequested', repo, sender: d.state.ensureUser(str(body, 'user')), appId: run.appId, body: { check_run: run },
    }));
    return ok({ deliveries: deliveries.map((x) => x.seq) });
  })
  .add('POST', '/_control/act/install', (d, _p, body) => {
    const appId = body.app_id === undefined ? d.state.defaultAppId() : Number(body.app_id);
    const { result, deliveries } = withDeliveries(d, () => d.state.install(appId, str(body, 'account'), body.repositories as string[] | undefined, d.state.ensureUser(str(body, 'user'))));
    return ok({ installation_id: result.id, deliveries: deliveries.map((x) => x.seq) }, 201);
  })
  .add('POST', '/_control/act/installation', (d, _p, body) => {
    const installation = d.state.installations.get(Number(body.installation_id));
    if (!installation) throw new HttpError(404, { message: `unknown installation ${String(body.installation_id)}` });
    const user = d.state.ensureUser(str(body, 'user'));
    const action = str(body, 'action');
    const { deliveries } = withDeliveries(d, () => {
      if (action === 'suspend') d.state.suspendInstallation(installation, user);
      else if (action === 'unsuspend') d.state.unsuspendInstallation(installation, user);
      else if (action === 'delete') d.state.uninstall(installation, user);
      else if (action === 'remove-repositories') d.state.removeInstallationRepositories(installation, body.repositories as string[], user);
      else throw badRequest('action must be suspend, unsuspend, delete or remove-repositories');
    });
    return ok({ deliveries: deliveries.map((x) => x.seq) });
  })
  .add('POST', '/_control/act/workflow-run', (d, _p, body) => {
    const spec = body as unknown as WorkflowRunSpec;
    const repo = repoOf(d, str(body, 'repository'));
    const actor = d.state.ensureUser(str(body, 'actor'));
    const runId = spec.run_id ?? d.state.nextId('checkSuite');
    const { deliveries } = withDeliveries(d, () => d.state.announce({
      name: 'workflow_run', action: str(body, 'action'), repo, sender: actor, body: workflowRunBody(d.state, d.urls, repo, actor, spec, runId),
    }));
    return ok({ run_id: runId, deliveries: deliveries.map((x) => x.seq) }, 201);
  })
  .add('POST', '/_control/act/deployment-gate', (d, _p, body) => {
    const spec = body as unknown as DeploymentGateSpec;
    const repo = repoOf(d, str(body, 'repository'));
    const actor = d.state.ensureUser(str(body, 'actor'));
    // GitHub makes the job's deployment as whoever started the attempt, and says so as the sender.
    const starter = d.state.ensureUser(spec.triggering_actor ?? actor.login);
    const appId = spec.app_id ?? d.state.defaultAppId();
    const runId = spec.run_id ?? d.state.nextId('checkSuite');
    const attempt = spec.run_attempt ?? 1;
    const deploymentId = d.state.nextId('checkSuite');
    const { listedPulls, ...gateBody } = deploymentGateBody(d.state, d.urls, repo, starter, spec, runId, deploymentId);
    // A run is re-run only once its attempt has ended: that attempt's jobs wait no more (their deployments stay).
    for (let i = d.state.pendingGates.length - 1; i >= 0; i--) {
      const waiting = d.state.pendingGates[i];
      if (waiting.repoId === repo.id && waiting.runId === runId && waiting.attempt < attempt) d.state.decidedGates.push(...d.state.pendingGates.splice(i, 1));
    }
    d.state.pendingGates.push({ repoId: repo.id, runId, environment: str(body, 'environment'), appId, reports: 0, attempt, actor: actor.login, triggeringActor: starter.login, event: gateBody.event, deployment: gateBody.deployment, pullRequests: listedPulls });
    const ref = /^[0-9a-f]{40}$/.test(gateBody.deployment.ref) ? gateBody.deployment.ref : `refs/heads/${gateBody.deployment.ref}`;
    const attemptKey = `${repo.id}:${runId}:${attempt}`;
    const startedAt = d.state.runAttempts.get(attemptKey)?.startedAt ?? gateBody.deployment.created_at;
    d.state.runAttempts.set(attemptKey, { repoId: repo.id, runId, attempt, actor: actor.login, triggeringActor: starter.login, sha: gateBody.deployment.sha, ref, event: gateBody.event, startedAt });
    const { deliveries } = withDeliveries(d, () => d.state.announce({
      name: 'deployment_protection_rule', action: 'requested', repo, sender: starter, appId, body: gateBody,
    }));
    return ok({ run_id: runId, deployment_id: deploymentId, deliveries: deliveries.map((x) => x.seq) }, 201);
  })

  // ---- read back ---------------------------------------------------------------------------
  .add('GET', '/_control/repos/{owner}/{repo}/check-runs', (d, p, _b, url) => {
    const repo = repoOf(d, `${p.owner}/${p.repo}`);
    const sha = url.searchParams.get('sha');
    const runs = [...d.state.checkRuns.values()].filter((r) => r.repoId === repo.id && (!sha || r.headSha === sha));
    return ok(runs.map((r) => checkRunJson(r, repo, d.state, d.urls)));
  })
  .add('GET', '/_control/repos/{owner}/{repo}/issues', (d, p) => {
    const repo = repoOf(d, `${p.owner}/${p.repo}`);
    return ok([...(d.state.issues.get(repo.id)?.values() ?? [])].map((i) => issueJson(i, repo, d.state, d.urls)));
  })
  .add('GET', '/_control/repos/{owner}/{repo}/comments', (d, p, _b, url) => {
    const repo = repoOf(d, `${p.owner}/${p.repo}`);
    const number = url.searchParams.get('issue_number');
    return ok(d.state.commentsOf(repo, number ? Number(number) : undefined).map((c) => commentJson(c, repo, d.state, d.urls)));
  })
  .add('GET', '/_control/repos/{owner}/{repo}/reactions', (d, p) => {
    const repo = repoOf(d, `${p.owner}/${p.repo}`);
    const mine = d.state.reactions.filter((r) => (r.subject.kind === 'issue' ? r.subject.repoId === repo.id : d.state.comments.get(r.subject.commentId)?.repoId === repo.id));
    return ok(mine.map((r) => ({ id: r.id, content: r.content, user: r.user.login, subject: r.subject })));
  })
  .add('GET', '/_control/deployment-reviews', (d) => ok(d.state.deploymentReviews.map((r) => ({ ...r, repository: d.state.repoById(r.repoId)?.fullName }))))

  // ---- faults and counters -------------------------------------------------------------------
  .add('POST', '/_control/faults', (d, _p, body) => {
    d.faults.addFault(body as unknown as FaultSpec);
    return ok();
  })
  .add('POST', '/_control/latency', (d, _p, body) => {
    d.faults.addLatency(body as unknown as LatencySpec);
    return ok();
  })
  .add('POST', '/_control/rate-limit', (d, _p, body) => {
    d.faults.setRateLimit(body as RateLimitSpec);
    return ok();
  })
  .add('DELETE', '/_control/faults', (d) => {
    d.faults.clear();
    return ok();
  })
  .add('GET', '/_control/requests', (d) => ok(Object.fromEntries(d.counts)))
  .add('DELETE', '/_control/requests', (d) => {
    d.counts.clear();
    return ok();
  })
  .add('GET', '/_control/exchanges', (d, _p, _b, url) => ok(d.exchanges.filter((e) => e.seq > Number(url.searchParams.get('after') ?? 0))))

  // ---- webhooks ------------------------------------------------------------------------------
  .add('GET', '/_control/deliveries', (d, _p, _b, url) => ok(d.dispatcher.list(deliveryFilter(url.searchParams)).map(deliverySummary)))
  .add('POST', '/_control/deliveries/wait', async (d, _p, body) => {
    try {
      return ok(deliverySummary(await d.dispatcher.waitFor(deliveryFilter(body), Number(body.timeout_ms ?? 5000))));
    } catch (error) {
      throw new HttpError(408, { message: (error as Error).message });
    }
  })
  .add('POST', '/_control/deliveries/idle', async (d) => {
    await d.dispatcher.idle();
    return ok();
  })
  .add('POST', '/_control/deliveries/pause', (d) => {
    d.dispatcher.pause();
    return ok();
  })
  .add('POST', '/_control/deliveries/release', (d, _p, body) => ok(d.dispatcher.release((body.order ?? 'fifo') as 'fifo' | 'reverse' | number[]).map((x) => x.seq)))
  .add('POST', '/_control/deliveries/mode', (d, _p, body) => {
    const mode = str(body, 'mode');
    if (mode !== 'sequential' && mode !== 'concurrent') throw badRequest('mode must be sequential or concurrent');
    d.dispatcher.setMode(mode === 'sequential' ? { mode } : { mode, maxJitterMs: body.max_jitter_ms as number | undefined, seed: body.seed as number | undefined });
    return ok();
  })
  .add('POST', '/_control/deliveries/loss', (d, _p, body) => {
    try {
      d.dispatcher.setLoss({ dropRate: body.drop_rate as number | undefined, duplicateRate: body.duplicate_rate as number | undefined, seed: body.seed as number | undefined });
    } catch (error) {
      throw badRequest((error as Error).message);
    }
    return ok();
  })
  .add('POST', '/_control/deliveries/delay', (d, _p, body) => {
    d.dispatcher.setDelay(Number(body.ms ?? 0));
    return ok();
  })
  .add('POST', '/_control/deliveries/{seq}/redeliver', (d, p) => {
    try {
      return ok({ seq: d.dispatcher.redeliver(Number(p.seq)).seq });
    } catch (error) {
      throw new HttpError(404, { message: (error as Error).message });
    }
  })

  // ---- OIDC ----------------------------------------------------------------------------------
  .add('POST', '/_control/oidc/jobs', (d, _p, body) => {
    try {
      return ok(d.oidc.registerJob(d.state, body as unknown as RunnerJob), 201);
    } catch (error) {
      throw badRequest((error as Error).message);
    }
  })
  .add('POST', '/_control/oidc/mint', async (d, _p, body) => {
    const claims = body.job ? d.oidc.claimsFor(d.state, body.job as RunnerJob) : {};
    const token = await d.oidc.mint({ ...claims, ...(body.claims as Body | undefined) }, body as MintOptions);
    return ok({ token }, 201);
  })
  .add('POST', '/_control/oidc/rotate', async (d, _p, body) => ok({ kid: await d.oidc.rotate({ keepOld: body.keep_old !== false }) }));

export async function handleControl(double: GitHubDouble, method: string, path: string, url: URL, raw: string): Promise<Reply> {
  const found = router.match(method, path);
  if (!found || 'allowed' in found) throw new HttpError(404, { message: `no control route ${method} ${path}` });
  const body = method === 'GET' ? {} : parseJsonBody(raw);
  try {
    return await found.route.handler(double, found.params, body, url);
  } catch (error) {
    if (error instanceof HttpError) throw error;
    if (error instanceof HistoryError) throw new HttpError(422, { message: error.message });
    throw badRequest((error as Error).message);
  }
}
