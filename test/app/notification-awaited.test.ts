/**
 * A reminder names who the request still waits for. Under `codeowners` (each group of changed files
 * needs one of its owners) with its count of approvals already reached, only the owners of the groups
 * still uncovered can meet the requirement: no one else is asked again.
 */
import { expect, it } from '@jest/globals';
import type { Decision, Requirement } from '../../policies/decision.js';
import type { GateRequest } from '../../app/gate/request.js';
import { RequestNotifications } from '../../app/gate/notifications.js';
import type { NotificationDispatcher, NotificationEvent } from '../../app/notify/index.js';

const requirement: Requirement = {
  rule: 'production',
  location: { file: '.github/jit-approval.yml', line: 3, col: 5 },
  escalation: null,
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
  allowSelfApproval: false,
  scheduled: [],
  unsatisfiable: null,
};

const decision = {
  outcome: 'approval_required',
  summary: '1 rule requires approval',
  problems: [],
  facts: { action: 'deploy', changedFileCount: 2 },
  rules: [],
  requirements: [requirement],
  codeowners: null,
  timeoutSeconds: 3600,
  reminderSeconds: 600,
  notify: ['hook'],
  eligibility: { minPermission: 'write', allowBots: false },
} as unknown as Decision;

const voter = (login: string) => ({ login, id: login, isBot: false, permission: 'write' as const, teams: [] });

function request(votes: GateRequest['votes']): GateRequest {
  return {
    id: '7f1c4a4e-0000-4000-8000-000000000001',
    repositoryId: '1',
    owner: 'acme',
    repo: 'web',
    installationId: 1,
    runId: '42',
    runAttempt: '1',
    action: 'deploy',
    requester: 'mallory',
    eventName: 'push',
    ref: 'refs/heads/main',
    sha: 'a'.repeat(40),
    headSha: 'a'.repeat(40),
    status: 'pending',
    reason: '',
    decision,
    problems: [],
    votes,
    createdAt: '2026-03-02T10:00:00.000Z',
    deadline: '2026-03-02T11:00:00.000Z',
  } as GateRequest;
}

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
