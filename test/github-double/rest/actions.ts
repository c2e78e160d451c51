/**
 * Custom deployment protection rules: the callback an App uses to answer one (or to report progress on
 * it), and what an App reads to find the runs waiting on it (waiting runs, their pending deployments,
 * an environment's rules, deployments), and who started an attempt of a run. The double's runs are
 * those a rule holds or held, and the attempts whose jobs asked its issuer for an ID token.
 */
import { workflowRunBody } from '../actions-events.js';
import { forbiddenForIntegration, githubError, notFound, paginate, validationFailed } from '../http.js';
import { nodeId } from '../shapes.js';
import { timestamp, type PendingGate, type RunAttempt } from '../state.js';
import { callerAppId, stringField, type RestContext, type RestRegistrar } from './context.js';

/** GitHub shows at most this many status reports per deployment, each at most this long. */
export const STATUS_REPORTS_PER_DEPLOYMENT = 10;
export const STATUS_REPORT_LENGTH = 1024;

export const registerActions: RestRegistrar = (add) => {
  add('POST', '/repos/{owner}/{repo}/actions/runs/{run_id}/deployment_protection_rule', {
    auth: 'token', permission: ['deployments', 'write'],
    handler: (ctx) => {
      const appId = callerAppId(ctx);
      if (appId === null) throw forbiddenForIntegration();
      const runId = Number(ctx.params.run_id);
      const environmentName = stringField(ctx.body, 'environment_name');
      const state = stringField(ctx.body, 'state');
      const comment = stringField(ctx.body, 'comment');
      if (!environmentName) throw validationFailed([{ resource: 'DeploymentProtectionRule', field: 'environment_name', code: 'missing_field' }]);
      // Without a state, the comment is a status report and is required.
      if (state === undefined && !comment) throw validationFailed([{ resource: 'DeploymentProtectionRule', field: 'comment', code: 'missing_field' }]);
      if (state !== undefined && state !== 'approved' && state !== 'rejected') throw validationFailed([{ resource: 'DeploymentProtectionRule', field: 'state', code: 'invalid' }]);
      if (comment && [...comment].length > STATUS_REPORT_LENGTH) throw validationFailed([{ resource: 'DeploymentProtectionRule', field: 'comment', code: 'invalid', message: `comment is longer than ${STATUS_REPORT_LENGTH} characters` }]);
      const mine = (g: { repoId: number; runId: number; environment: string; appId: number }) =>
        g.repoId === ctx.repo.id && g.runId === runId && g.environment === environmentName && g.appId === appId;
      const gate = ctx.state.pendingGates.find(mine);
      if (!gate) {
        if (ctx.state.decidedGates.some(mine)) throw githubError(422, 'No pending deployment protection rule for this run and environment: it was already decided');
        throw notFound();
      }
      if (state === undefined) {
        if (gate.reports >= STATUS_REPORTS_PER_DEPLOYMENT) throw githubError(422, `At most ${STATUS_REPORTS_PER_DEPLOYMENT} status reports per deployment`);
        gate.reports += 1;
        ctx.state.deploymentReviews.push({ repoId: ctx.repo.id, runId, appId, environmentName, state: null, comment: comment!, at: timestamp() });
        return { status: 204 };
      }
      ctx.state.pendingGates.splice(ctx.state.pendingGates.indexOf(gate), 1);
      ctx.state.decidedGates.push(gate);
      ctx.state.deploymentReviews.push({ repoId: ctx.repo.id, runId, appId, environmentName, state, comment: comment ?? '', at: timestamp() });
      return { status: 204 };
    },
  });

  add('GET', '/repos/{owner}/{repo}/actions/runs', {
    auth: 'token', permission: ['actions', 'read'],
    handler: (ctx) => {
      const status = ctx.url.searchParams.get('status');
      const waiting = new Map<number, PendingGate>();
      for (const gate of ctx.state.pendingGates) if (gate.repoId === ctx.repo.id && !waiting.has(gate.runId)) waiting.set(gate.runId, gate);
      // Only runs held by a rule are known here, and they are all `waiting`.
      const runs = status === null || status === 'waiting' ? [...waiting.values()] : [];
      const { page, headers } = paginate(runs, ctx.url);
      return {
        status: 200, headers,
        body: {
          total_count: runs.length,
          workflow_runs: page.map((gate) => {
            const actor = ctx.state.ensureUser(gate.actor);
            const { workflow_run: run } = workflowRunBody(ctx.state, ctx.urls, ctx.repo, actor, {
              repository: ctx.repo.fullName, actor: gate.actor, triggering_actor: gate.triggeringActor, action: 'in_progress', run_id: gate.runId, run_attempt: gate.attempt, head_branch: gate.deployment.ref, event: gate.event,
              run_started_at: ctx.state.runAttempts.get(`${gate.repoId}:${gate.runId}:${gate.attempt}`)?.startedAt,
            }, gate.runId);
            return { ...run, status: 'waiting', head_sha: gate.deployment.sha, pull_requests: gate.pullRequests };
          }),
        },
      };
    },
  });

  add('GET', '/repos/{owner}/{repo}/actions/runs/{run_id}', {
    auth: 'token', permission: ['actions', 'read'],
    handler: (ctx) => {
      // The run as it is now: its latest attempt.
      const runId = Number(ctx.params.run_id);
      const attempts = [...ctx.state.runAttempts.values()].filter((a) => a.repoId === ctx.repo.id && a.runId === runId);
      if (attempts.length === 0) throw notFound();
      return { status: 200, body: attemptBody(ctx, attempts.reduce((latest, a) => (a.attempt > latest.attempt ? a : latest))) };
    },
  });

  add('GET', '/repos/{owner}/{repo}/actions/runs/{run_id}/attempts/{attempt_number}', {
    auth: 'token', permission: ['actions', 'read'],
    handler: (ctx) => {
      const attempt = ctx.state.runAttempts.get(`${ctx.repo.id}:${Number(ctx.params.run_id)}:${Number(ctx.params.attempt_number)}`);
      if (!attempt) throw notFound();
      return { status: 200, body: attemptBody(ctx, attempt) };
    },
  });

  add('GET', '/repos/{owner}/{repo}/actions/runs/{run_id}/pending_deployments', {
    auth: 'token', permission: ['actions', 'read'],
    handler: (ctx) => {
      const gates = ctx.state.pendingGates.filter((g) => g.repoId === ctx.repo.id && g.runId === Number(ctx.params.run_id));
      if (gates.length === 0 && !ctx.state.decidedGates.some((g) => g.repoId === ctx.repo.id && g.runId === Number(ctx.params.run_id))) throw notFound();
      return {
        status: 200,
        body: gates.map((gate) => ({
          environment: {
            id: environmentId(gate.environment), node_id: nodeId('Environment', environmentId(gate.environment)), name: gate.environment,
            url: `${ctx.urls.api}/repos/${ctx.repo.fullName}/environments/${encodeURIComponent(gate.environment)}`,
            html_url: `${ctx.urls.web}/${ctx.repo.fullName}/deployments/activity_log?environments_filter=${encodeURIComponent(gate.environment)}`,
          },
          wait_timer: 0, wait_timer_started_at: null, current_user_can_approve: false, reviewers: [],
        })),
      };
    },
  });

  add('GET', '/repos/{owner}/{repo}/environments/{environment_name}/deployment_protection_rules', {
    auth: 'token', permission: ['actions', 'read'],
    handler: (ctx) => {
      // An environment has the rule of each App a gate of it was announced to.
      const environment = ctx.params.environment_name;
      const appIds = [...new Set([...ctx.state.pendingGates, ...ctx.state.decidedGates].filter((g) => g.repoId === ctx.repo.id && g.environment === environment).map((g) => g.appId))];
      const rules = appIds.flatMap((appId) => {
        const app = ctx.state.apps.get(appId);
        return app ? [{ id: appId, node_id: nodeId('DeploymentProtectionRule', appId), enabled: true, app: { id: app.id, slug: app.slug, integration_url: `${ctx.urls.api}/apps/${app.slug}`, node_id: nodeId('Integration', app.id) } }] : [];
      });
      return { status: 200, body: { total_count: rules.length, custom_deployment_protection_rules: rules } };
    },
  });

  add('GET', '/repos/{owner}/{repo}/deployments', {
    auth: 'token', permission: ['deployments', 'read'],
    handler: (ctx) => {
      const query = ctx.url.searchParams;
      const deployments = [...ctx.state.pendingGates, ...ctx.state.decidedGates]
        .filter((g) => g.repoId === ctx.repo.id)
        .filter((g) => !query.get('sha') || g.deployment.sha === query.get('sha'))
        .filter((g) => !query.get('environment') || g.environment === query.get('environment'))
        .map((g) => g.deployment)
        .sort((a, b) => b.id - a.id);
      const { page, headers } = paginate(deployments, ctx.url);
      return { status: 200, headers, body: page };
    },
  });
};

/** A run as GitHub shows one attempt of it: `actor` started the run, `triggering_actor` this attempt. */
function attemptBody(ctx: RestContext, attempt: RunAttempt) {
  const branch = attempt.ref.startsWith('refs/heads/') ? attempt.ref.slice('refs/heads/'.length) : undefined;
  const { workflow_run: run } = workflowRunBody(ctx.state, ctx.urls, ctx.repo, ctx.state.ensureUser(attempt.actor), {
    repository: ctx.repo.fullName, actor: attempt.actor, triggering_actor: attempt.triggeringActor, action: 'in_progress',
    run_id: attempt.runId, run_attempt: attempt.attempt, event: attempt.event, head_sha: attempt.sha, run_started_at: attempt.startedAt,
    created_at: ctx.state.runAttempts.get(`${ctx.repo.id}:${attempt.runId}:1`)?.startedAt ?? attempt.startedAt,
  }, attempt.runId);
  return { ...run, head_branch: branch ?? null };
}

/** A stable id for an environment name (the double keeps no environments of its own). */
function environmentId(name: string): number {
  let hash = 0;
  for (const character of name) hash = (hash * 31 + character.codePointAt(0)!) % 1_000_000;
  return 9_000_000 + hash;
}

