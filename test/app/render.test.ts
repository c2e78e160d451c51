import { describe, expect, it } from '@jest/globals';
import type { Decision, Requirement } from '../../policies/decision.js';
import type { GateRequest } from '../../app/gate/request.js';
import { checkRunContent } from '../../app/render/check-run.js';
import { threadBody } from '../../app/render/thread.js';

const requirement: Requirement = {
  rule: 'production',
  location: { file: '.github/jit-approval.yml', line: 3, col: 5 },
  escalation: null,
  approvals: 2,
  approvers: { codeowners: 'any', owners: ['@alice', '@acme/leads'], ownerGroups: [], teams: [], users: ['bob'], roles: [] },
  allowSelfApproval: false,
  scheduled: [],
  unsatisfiable: null,
};

const decision = {
  outcome: 'approval_required',
  summary: '1 rule requires approval',
  problems: [],
  facts: { action: 'deploy', changedFileCount: 1 },
  rules: [],
  requirements: [requirement],
  codeowners: null,
  timeoutSeconds: 3600,
  reminderSeconds: null,
  notify: [],
  eligibility: { minPermission: 'write', allowBots: false },
} as Decision;

function request(overrides: Partial<GateRequest> = {}): GateRequest {
  return {
    id: '7f1c4a4e-0000-4000-8000-000000000001',
    repositoryId: '1',
    owner: 'acme',
    repo: 'web',
    installationId: 1,
    runId: '42',
    runAttempt: '1',
    action: 'deploy',
    environment: 'production',
    requester: 'mallory',
    eventName: 'push',
    ref: 'refs/heads/main',
    sha: 'a'.repeat(40),
    headSha: 'a'.repeat(40),
    status: 'pending',
    reason: '',
    decision,
    problems: [],
    votes: [],
    createdAt: new Date().toISOString(),
    deadline: '2030-01-01T00:00:00.000Z',
    ...overrides,
  };
}

describe('check run content', () => {
  it('offers Approve and Reject only while pending, within GitHub\'s limits', () => {
    const pending = checkRunContent(request(), 'https://jit.example/requests/x');
    expect(pending).toMatchObject({ name: 'jit: deploy', conclusion: 'action_required', externalId: request().id });
    expect(pending.buttons.map((b) => b.identifier)).toEqual(['jit-approve', 'jit-reject']);
    for (const button of pending.buttons) {
      expect(button.label.length).toBeLessThanOrEqual(20);
      expect(button.identifier.length).toBeLessThanOrEqual(20);
      expect(button.description.length).toBeLessThanOrEqual(40);
    }
    expect(pending.title).toContain('0 of 2 approvals (production)');
    expect(pending.summary).toContain('not @mallory, who started the run');

    const approve = (login: string) => ({ login, choice: 'approve' as const, note: '', via: 'comment', at: '2030-01-01T00:00:00Z', eligibleFor: [0] });
    const approved = checkRunContent(request({ status: 'approved', reason: 'quorum', votes: [approve('bob'), approve('alice')] }), 'u');
    expect(approved.conclusion).toBe('success');
    expect(approved.buttons).toEqual([]);
    expect(approved.title).toContain('approved by @bob, @alice');
    expect(JSON.parse(approved.text!.split('```json\n')[1].split('\n```')[0])).toMatchObject({ status: 'approved', votes: [{ login: 'bob' }, { login: 'alice' }] });
  });

  it('maps every final status to its conclusion and shows policy errors as file:line:col', () => {
    const conclusion = (status: GateRequest['status']) => checkRunContent(request({ status }), 'u').conclusion;
    expect(['rejected', 'failed', 'timed_out', 'cancelled'].map((s) => conclusion(s as GateRequest['status']))).toEqual(['failure', 'failure', 'timed_out', 'cancelled']);
    const broken = checkRunContent(request({ status: 'failed', reason: 'the approval policy is invalid', decision: undefined, problems: ['.github/jit-approval.yml:5:27: bad'] }), 'u');
    expect(broken.summary).toContain('.github/jit-approval.yml:5:27: bad');
  });

  it('keeps the output under GitHub\'s 65,535 characters', () => {
    const votes = Array.from({ length: 2000 }, (_, i) => ({ login: `user${i}`, choice: 'approve' as const, note: 'x'.repeat(40), via: 'comment', at: 't', eligibleFor: [] }));
    const content = checkRunContent(request({ votes }), 'u');
    expect(content.summary.length).toBeLessThanOrEqual(65_535);
    expect(content.text!.length).toBeLessThanOrEqual(65_535);
  });
});

describe('thread body', () => {
  it('mentions approvers while pending and links the decision record once final', () => {
    const pending = threadBody(request({ summary: 'Deploy v2\nwith migrations' }), { checkRunUrl: 'https://github/run/1', approvers: '@alice, @bob' });
    expect(pending).toContain('<!-- mercurial-jit request 7f1c4a4e-0000-4000-8000-000000000001 -->');
    expect(pending).toContain('Approvers: @alice, @bob');
    expect(pending).toContain('> Deploy v2\n> with migrations');
    const done = threadBody(request({ status: 'timed_out' }), { checkRunUrl: 'https://github/run/1', approvers: '@alice' });
    expect(done).not.toContain('Approvers:');
    expect(done).toContain('Decision record: https://github/run/1');
  });
});
