/** A new request and a tally for store tests and benches: nothing here needs jest. */
import { randomInt } from 'node:crypto';
import type { NewRequest, Tally } from '../../app/store/index.js';

/** The shape of the policy library's tally: any reject rejects, `approvals` approvals approve. */
export function quorum(approvals: number): Tally {
  return (votes) => {
    if (votes.some((vote) => vote.choice === 'reject')) return 'rejected';
    return votes.filter((vote) => vote.choice === 'approve').length >= approvals ? 'approved' : 'pending';
  };
}

const repositoryId = String(randomInt(1, 2 ** 40));
let runs = 0;

export function newRequest(overrides: Partial<NewRequest> = {}): NewRequest {
  runs += 1;
  return {
    repositoryId,
    runId: String(1_000_000 + runs),
    runAttempt: '1',
    action: 'deploy',
    jobKey: 'check_run:1',
    repository: 'acme/web',
    requester: 'octocat',
    environmentKey: 'production',
    commitSha: 'abc123',
    facts: { ref: 'refs/heads/main', sha: 'abc123', environment: 'production' },
    ...overrides,
  };
}
