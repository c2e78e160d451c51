/** A request as the gate shows it, waiting on one rule's requirement: for tests of what is rendered or sent from it. */
import type { Decision, Requirement } from '../../policies/decision.js';
import type { GateRequest } from '../../app/gate/request.js';

/** The production rule's requirement: 2 approvals from code owners (any) or bob. */
export const REQUIREMENT: Requirement = {
  rule: 'production',
  location: { file: '.github/jit-approval.yml', line: 3, col: 5 },
  escalation: null,
  approvals: 2,
  approvers: { codeowners: 'any', owners: ['@alice', '@acme/leads'], ownerGroups: [], teams: [], users: ['bob'], roles: [] },
  allowSelfApproval: false,
  scheduled: [],
  unsatisfiable: null,
};

export function decisionOf(requirement: Requirement = REQUIREMENT, overrides: Partial<Decision> = {}): Decision {
  return {
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
    ...overrides,
  } as Decision;
}

export function gateRequest(overrides: Partial<GateRequest> = {}): GateRequest {
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
    decision: decisionOf(),
    problems: [],
    votes: [],
    createdAt: new Date().toISOString(),
    deadline: '2030-01-01T00:00:00.000Z',
    ...overrides,
  };
}
