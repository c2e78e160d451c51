/** The callback an App uses to answer a custom deployment protection rule, or to report progress on it. */
import { forbiddenForIntegration, githubError, notFound, validationFailed } from '../http.js';
import { timestamp } from '../state.js';
import { callerAppId, stringField, type RestRegistrar } from './context.js';

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
};
