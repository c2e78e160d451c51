/** The Action's request bodies, validated by ajv against request-body-schema.ts (compiled ahead by `npm run schema`). */
import type { ValidateFunction } from 'ajv';
import { DEPLOYMENT_ACTION, type RequestInput } from '../gate/request.js';
import { validateCancelBody, validateOpenBody } from './generated/request-body-validators.js';
import { unstorableText } from '../store/storable-text.js';
import { HttpError } from './http.js';

const validateOpen = validateOpenBody as ValidateFunction<{ action: string; environment?: string; severity?: string; summary?: string; timeout_seconds?: number }>;
const validateCancel = validateCancelBody as ValidateFunction<{ reason?: 'timeout' | 'job_cancelled' }>;

function problems(errors: typeof validateOpen.errors): string {
  return (errors ?? []).map((e) => `${e.instancePath || 'body'} ${e.message}${e.params && 'additionalProperty' in e.params ? ` (${String(e.params.additionalProperty)})` : ''}`).join('; ');
}

const RESERVED_ACTIONS = new Map([
  // Its check run would be named `jit: policy`, the policy preview's, and be mistaken for it.
  ['policy', 'the check run `jit: policy` is the policy preview\'s'],
  // A step's approval would stand as the job gate's last approved run, the base its next run's
  // changes are measured from, and a step could set a severity the job gate's rules never see.
  [DEPLOYMENT_ACTION, 'it names the job-level gate\'s requests (environments that ask this App before a job starts)'],
]);

export function parseOpenBody(body: unknown): RequestInput {
  if (!validateOpen(body)) throw new HttpError(422, 'invalid_request', problems(validateOpen.errors));
  for (const field of ['environment', 'severity', 'summary'] as const) {
    const value = body[field];
    const problem = value === undefined ? undefined : unstorableText(value);
    if (problem) throw new HttpError(422, 'invalid_request', `/${field} ${problem}`);
  }
  const reserved = RESERVED_ACTIONS.get(body.action.toLowerCase());
  if (reserved) throw new HttpError(422, 'invalid_request', `/action "${body.action}" is reserved: ${reserved}; name the gated step's action something else`);
  return {
    action: body.action,
    environment: body.environment,
    severity: body.severity,
    summary: body.summary,
    timeoutSeconds: body.timeout_seconds,
  };
}

export function parseCancelBody(body: unknown): 'timeout' | 'job_cancelled' {
  if (!validateCancel(body)) throw new HttpError(422, 'invalid_request', problems(validateCancel.errors));
  return body.reason ?? 'job_cancelled';
}
