/**
 * A reminder names who the request still waits for. Under `codeowners` (each group of changed files
 * needs one of its owners) at most one approval short of its count, only the owners of the groups
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

const request = (votes: GateRequest['votes'], waitingOn = requirement) =>
  gateRequest({ environment: undefined, votes, decision: decisionOf(waitingOn, { facts: { action: 'deploy', changedFileCount: 2 }, reminderSeconds: 600, notify: ['hook'] }), createdAt: '2026-03-02T10:00:00.000Z', deadline: '2026-03-02T11:00:00.000Z' });

function reminderFor(votes: GateRequest['votes'], waitingOn = requirement): NotificationEvent {
  const sent: NotificationEvent[] = [];
  const dispatcher = { dispatch: (event: NotificationEvent) => void sent.push(event) } as unknown as NotificationDispatcher;
  new RequestNotifications(dispatcher, () => Date.parse('2026-03-02T10:10:00Z')).reminder(request(votes, waitingOn));
  return sent[0]!;
}

/** carol's approval, which covers /web/. */
const carol = { login: 'carol', choice: 'approve' as const, note: '', via: 'comment', at: '2026-03-02T10:05:00.000Z', eligibleFor: [0], voter: voter('carol') };

it('names, once the count is reached, only the owners of the groups of changed files still uncovered', () => {
  // One approval is needed, and only an owner's can cover a group: erin's would leave the request waiting.
  expect(reminderFor([])).toMatchObject({ approvers: ['@carol', '@dave', '@bob'], approvalsRequired: 1 });
  // carol covers /web/ and makes the count: only an owner of /db/ can meet the requirement now.
  expect(reminderFor([carol])).toMatchObject({ approvers: ['@bob'], approvalsRequired: 1 });
});

it('names only the owners of a group still uncovered when the one approval still needed must come from one of them', () => {
  // carol covers /web/; one more approval meets the requirement only if it is bob's, for /db/ (erin's or dave's would leave it waiting).
  expect(reminderFor([carol], { ...requirement, approvals: 2 })).toMatchObject({ approvers: ['@bob'], approvalsRequired: 1 });
});
