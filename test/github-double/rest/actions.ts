/** The callback an App uses to answer a custom deployment protection rule. */
import { forbiddenForIntegration, notFound, validationFailed } from '../http.js';
import { timestamp } from '../state.js';
import { callerAppId, stringField, type RestRegistrar } from './context.js';

export const registerActions: RestRegistrar = (add) => {
  add('POST', '/repos/{owner}/{repo}/actions/runs/{run_id}/deployment_protection_rule', {
    auth: 'token', permission: ['deployments', 'write'],
    handler: (ctx) => {
      const appId = callerAppId(ctx);
      if (appId === null) throw forbiddenForIntegration();
      const runId = Number(ctx.params.run_id);
      const environmentName = stringField(ctx.body, 'environment_name');
      const state = stringField(ctx.body, 'state');
      if (!environmentName) throw validationFailed([{ resource: 'DeploymentProtectionRule', field: 'environment_name', code: 'missing_field' }]);
      if (state !== 'approved' && state !== 'rejected') throw validationFailed([{ resource: 'DeploymentProtectionRule', field: 'state', code: 'invalid' }]);
      const gate = ctx.state.pendingGates.find((g) => g.repoId === ctx.repo.id && g.runId === runId && g.environment === environmentName && g.appId === appId);
      if (!gate) throw notFound();
      ctx.state.pendingGates.splice(ctx.state.pendingGates.indexOf(gate), 1);
      ctx.state.deploymentReviews.push({ repoId: ctx.repo.id, runId, appId, environmentName, state, comment: stringField(ctx.body, 'comment') ?? '', at: timestamp() });
      return { status: 204 };
    },
  });
};
