/**
 * The job-level gate: this App as a GitHub custom deployment protection rule, so a job with
 * `environment:` waits on the same policy, approvers and audit trail as a gated step, with no step.
 * Its one door into the gate is `Gate.openDeployment` (and `Gate.view`); the answer goes out through
 * the outbox (`DEPLOYMENT_REVIEW_JOB`), queued by the store with each publication of such a request.
 * Each reconciler round also opens the requests of runs whose webhook was lost (`recover.ts`).
 */
export { handleRuleRequested, readRuleRequest, ruleRequestOf, PayloadError, type RuleRequest } from './requested.js';
export { recoverLostRules } from './recover.js';
export { reviewDeploymentJob, MAX_STATUS_REPORTS } from './review.js';
