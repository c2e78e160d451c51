/** A realistic notification event for tests, with any field overridden. */
import type { NotificationEvent } from '../../app/notify/event.js';

const base = {
  requestId: 'req-7f3a',
  repository: 'acme/payments',
  action: 'deploy',
  requester: 'dana',
  branch: 'main',
  sha: '9fceb02d0ae598e95dc970b74767f19372d61af8',
  environment: 'production',
  severity: 'high',
  summary: 'Roll out payments v2.3 to production',
  matchedRules: ['production'],
  approvers: ['@acme/sre', '@lee', 'role:maintain'],
  approvalsRequired: 2,
  links: {
    checkRun: 'https://github.com/acme/payments/runs/123',
    pullRequest: 'https://github.com/acme/payments/pull/42',
  },
  requestedAt: '2025-03-01T10:00:00.000Z',
  occurredAt: '2025-03-01T10:00:00.000Z',
};

export function requestedEvent(overrides: Partial<typeof base> = {}): NotificationEvent {
  return { ...base, kind: 'requested', ...overrides };
}

export function decidedEvent(decision: Extract<NotificationEvent, { kind: 'decided' }>['decision'], overrides: Partial<typeof base> = {}): NotificationEvent {
  return { ...base, occurredAt: '2025-03-01T10:20:00.000Z', kind: 'decided', decision, ...overrides };
}
