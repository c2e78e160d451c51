/**
 * A reminder names who the request still waits for. Under `codeowners` (each group of changed files
 * needs one of its owners) with its count of approvals already reached, only the owners of the groups
 * still uncovered can meet the requirement: no one else is asked again.
 */
import { expect, it } from '@jest/globals';
import type { Requirement } from '../../policies/decision.js';
import type { GateRequest } from '../../app/gate/request.js';
import { RequestNotifications } from '../../app/gate/notifications.js';
import type { NotificationDispatcher, NotificationEvent } from '../../app/notify/index.js';
import { decisionOf, gateRequest, REQUIREMENT } from './gate-request.js';

const requirement: Requirement = {
  ...REQUIREMENT,
  approvals: 1,
  approvers: {
    codeowners: 'each_group',
    owners: ['@carol', '@dave', '@bob'],
    ownerGroups: [
      { owners: ['@carol', '@dave'], patterns: ['/web/'], fileCount: 1 },
      { owners: ['@bob'], patterns: ['/db/'], fileCount: 1 },
    ],
    teams: [],
    users: ['erin'],
    roles: [],
  },
};

const voter = (login: string) => ({ login, id: login, isBot: false, permission: 'write' as const, teams: [] });

const request = (votes: GateRequest['votes']) =>
  gateRequest({ environment: undefined, votes, decision: decisionOf(requirement, { facts: { action: 'deploy', changedFileCount: 2 }, reminderSeconds: 600, notify: ['hook'] }), createdAt: '2026-03-02T10:00:00.000Z', deadline: '2026-03-02T11:00:00.000Z' });

function reminderFor(votes: GateRequest['votes']): NotificationEvent {
  const sent: NotificationEvent[] = [];
  const dispatcher = { dispatch: (event: NotificationEvent) => void sent.push(event) } as unknown as NotificationDispatcher;
  new RequestNotifications(dispatcher, () => Date.parse('2026-03-02T10:10:00Z')).reminder(request(votes));
  return sent[0]!;
}

it('names, once the count is reached, only the owners of the groups of changed files still uncovered', () => {
  expect(reminderFor([])).toMatchObject({ approvers: ['@carol', '@dave', '@bob', '@erin'], approvalsRequired: 1 });
  // carol covers /web/ and makes the count: only an owner of /db/ can meet the requirement now.
  const carol = { login: 'carol', choice: 'approve' as const, note: '', via: 'comment', at: '2026-03-02T10:05:00.000Z', eligibleFor: [0], voter: voter('carol') };
  expect(reminderFor([carol])).toMatchObject({ approvers: ['@bob'], approvalsRequired: 1 });
});
