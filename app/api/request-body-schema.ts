/** JSON Schemas (draft-07) of the Action's request bodies; unknown fields are errors so a typo is never ignored silently. */

/** What an action name may be: the gate's name in the policy, the check run's and the dashboard's. */
export const ACTION_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,99}$';

export const openBodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['action'],
  properties: {
    action: { type: 'string', pattern: ACTION_NAME_PATTERN },
    environment: { type: 'string', minLength: 1, maxLength: 255 },
    severity: { type: 'string', minLength: 1, maxLength: 50 },
    summary: { type: 'string', maxLength: 4000 },
    timeout_seconds: { type: 'integer', minimum: 1, maximum: 35 * 86400 },
  },
};

export const cancelBodySchema = {
  type: 'object',
  additionalProperties: false,
  properties: { reason: { enum: ['timeout', 'job_cancelled'] } },
};
