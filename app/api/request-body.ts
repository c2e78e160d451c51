/** The Action's request bodies, validated with ajv; unknown fields are errors so a typo is never ignored silently. */
import { Ajv } from 'ajv';
import type { RequestInput } from '../gate/request.js';
import { HttpError } from './http.js';

const ajv = new Ajv({ allErrors: true });

const validateOpen = ajv.compile<{ action: string; environment?: string; severity?: string; summary?: string; timeout_seconds?: number }>({
  type: 'object',
  additionalProperties: false,
  required: ['action'],
  properties: {
    action: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,99}$' },
    environment: { type: 'string', minLength: 1, maxLength: 255 },
    severity: { type: 'string', minLength: 1, maxLength: 50 },
    summary: { type: 'string', maxLength: 4000 },
    timeout_seconds: { type: 'integer', minimum: 1, maximum: 35 * 86400 },
  },
});

const validateCancel = ajv.compile<{ reason?: 'timeout' | 'job_cancelled' }>({
  type: 'object',
  additionalProperties: false,
  properties: { reason: { enum: ['timeout', 'job_cancelled'] } },
});

function problems(errors: typeof validateOpen.errors): string {
  return (errors ?? []).map((e) => `${e.instancePath || 'body'} ${e.message}${e.params && 'additionalProperty' in e.params ? ` (${String(e.params.additionalProperty)})` : ''}`).join('; ');
}

/** Its check run would be named `jit: policy`, the policy preview's, and be mistaken for it. */
const RESERVED_ACTIONS = new Set(['policy']);

export function parseOpenBody(body: unknown): RequestInput {
  if (!validateOpen(body)) throw new HttpError(422, 'invalid_request', problems(validateOpen.errors));
  if (RESERVED_ACTIONS.has(body.action.toLowerCase())) {
    throw new HttpError(422, 'invalid_request', `/action "${body.action}" is reserved: the check run \`jit: policy\` is the policy preview's; name the gated step's action something else`);
  }
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
