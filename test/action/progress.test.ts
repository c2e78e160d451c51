import { describe, expect, it } from '@jest/globals';
import type { RequestView } from '../../action/client.js';
import type { CheckRunReading } from '../../action/fallback.js';
import { decisionOf, progressLine, unreachableProgressLine } from '../../action/wait.js';

const view = (overrides: Partial<RequestView>): RequestView => ({
  id: 'r1', status: 'pending', reason: '', repository: 'o/r', runId: '1', runAttempt: '1', action: 'deploy',
  matchedRules: [], eligibleApprovers: [], approvedBy: [], awaiting: [], problems: [], ...overrides,
});

describe('progressLine', () => {
  it.each([
    {
      name: 'nothing known yet',
      view: view({}),
      msLeft: 90_000,
      line: 'Waiting for approval: no approvals yet; 1m30s left',
    },
    {
      name: 'rules, count, who approved and who is awaited',
      view: view({
        matchedRules: ['production', 'migrations'], approvalsRequired: 2, approvedBy: ['alice'], awaiting: ['1 more from @acme/team-leads', '1 more from codeowners (@bob)'],
        checkRunUrl: 'https://github.test/o/r/runs/9',
      }),
      msLeft: 29 * 60_000 + 10_500,
      line: 'Waiting for approval (rules: production, migrations; 1 of 2 approvals): approved by @alice; awaiting 1 more from @acme/team-leads, 1 more from codeowners (@bob); 29m11s left — https://github.test/o/r/runs/9',
    },
    {
      name: 'last seconds round up',
      view: view({ approvedBy: ['alice', 'carol'] }),
      msLeft: 200,
      line: 'Waiting for approval: approved by @alice, @carol; 1s left',
    },
  ])('$name', ({ view: input, msLeft, line }) => {
    expect(progressLine(input, msLeft)).toBe(line);
  });
});

describe('unreachableProgressLine', () => {
  const reading: CheckRunReading = { status: 'pending', checkRunId: 3, checkRunUrl: 'https://github.test/o/r/runs/3', reason: '', approvedBy: [] };
  it.each([
    { opened: undefined, reading: undefined, line: 'The App at https://jit.test has not opened the request yet, and nothing is approved without it; retrying; 5m left' },
    { opened: view({}), reading: undefined, line: 'The App is unreachable; retrying; 5m left' },
    { opened: view({}), reading, line: 'The App is unreachable; its check run is still pending (https://github.test/o/r/runs/3); retrying; 5m left' },
  ])('$line', ({ opened, reading: input, line }) => {
    expect(unreachableProgressLine('https://jit.test', opened, input, 300_000)).toBe(line);
  });
});

describe('decisionOf', () => {
  it.each([
    ['approved', 'quorum', 'approved'],
    ['approved', 'auto', 'auto_approved'],
    ['rejected', 'not today', 'rejected'],
    ['timed_out', '', 'timed_out'],
    ['cancelled', 'job_cancelled', 'cancelled'],
    ['failed', 'policy error', undefined],
    ['pending', '', undefined],
  ] as const)('%s (%s) → %s', (status, reason, decision) => {
    expect(decisionOf(status, reason)).toBe(decision);
  });
});
