/**
 * Sequences the randomized suite found or that pin a rule down, replayed every time with the outcome
 * the App must reach spelled out (not only "as the model says"), so that each reads as an example.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { expectedTrace } from './approval-model.js';
import { firstDisagreement, report } from './compare.js';
import { FastWorld } from './fast-world.js';
import { ACCOUNTS, type ChaosEvent, type PolicySpec, type RunSpec, type Scenario } from './scenario.js';

let world: FastWorld;
beforeAll(async () => {
  world = await FastWorld.start();
}, 60_000);
afterAll(async () => world?.stop());

const everyoneWrites = Object.fromEntries(ACCOUNTS.map((a) => [a, 'write' as const]));
const prByMallory: RunSpec = { kind: 'pull', actor: 'mallory', author: 'mallory', files: ['src/app.ts'] };

async function play(policy: PolicySpec, events: ChaosEvent[], run: RunSpec = prByMallory) {
  const scenario: Scenario = { permissions: everyoneWrites, policy, codeowners: [{ pattern: '*', owners: ['@alice'] }], run, events };
  const expected = expectedTrace(scenario);
  const actual = await world.play(scenario);
  const disagreement = firstDisagreement(scenario, expected, actual);
  if (disagreement) throw new Error(report(scenario, expected, actual, disagreement));
  return actual;
}

/** `approver` for the rule's own requirement, carol as well for a critical deploy, and bob eligible for the rule's own after 10 minutes. */
const criticalNeedsCarolToo = (approver: string): PolicySpec => ({
  defaults: { timeoutMinutes: 60 },
  deploy: {
    require: { approvals: 1, approvers: [approver] },
    unlessDocsOnly: false,
    escalation: { if: { severity: 'critical' }, require: { approvals: 1, approvers: ['carol'] } },
    later: { afterMinutes: 10, alsoEligible: ['bob'] },
  },
});

describe('a /reject', () => {
  it('rejects a waiting request even when a time escalation has since made the earlier approvals enough', async () => {
    // bob's approval meets the rule's own requirement; the critical escalation's still waits for carol.
    const policy = criticalNeedsCarolToo('bob');
    const { steps, final } = await play(policy, [
      { kind: 'comment', by: 'bob', says: 'approve' },
      { kind: 'wait', minutes: 15 },
      { kind: 'comment', by: 'carol', says: 'reject' },
    ]);
    expect(steps[1].status).toBe('pending');
    expect(final).toMatchObject({ status: 'rejected', completedBy: 'carol' });
  });

  it('still lets a later approval complete such a request', async () => {
    // After 10 minutes bob may stand in for dave on the rule's own requirement, never for carol on the added one.
    const policy = criticalNeedsCarolToo('dave');
    const { steps, final } = await play(policy, [
      { kind: 'comment', by: 'bob', says: 'approve' },
      { kind: 'wait', minutes: 15 },
      { kind: 'comment', by: 'bob', says: 'approve' },
      { kind: 'comment', by: 'carol', says: 'approve' },
    ]);
    expect(steps[2].status).toBe('pending');
    expect(final).toMatchObject({ status: 'approved', completedBy: 'carol' });
  });
});

describe('a time escalation that falls due', () => {
  // bob approves for the critical escalation's requirement; after 10 minutes he counts for dave's too.
  const policy: PolicySpec = {
    defaults: { timeoutMinutes: 60 },
    deploy: {
      require: { approvals: 1, approvers: ['dave'] },
      unlessDocsOnly: false,
      escalation: { if: { severity: 'critical' }, require: { approvals: 1, approvers: ['bob'] } },
      later: { afterMinutes: 10, alsoEligible: ['bob'] },
    },
  };

  it('approves with the votes already cast when its timer runs, without another vote', async () => {
    const { steps, final } = await play(policy, [{ kind: 'comment', by: 'bob', says: 'approve' }, { kind: 'wait', minutes: 15 }, { kind: 'tick' }]);
    expect(steps.map((step) => step.status)).toEqual(['pending', 'pending', 'approved']);
    expect(final).toMatchObject({ status: 'approved', completedBy: 'app', votes: [{ login: 'bob', choice: 'approve' }] });
  });

  it('does not count an approver who has lost access since', async () => {
    const { final } = await play(policy, [{ kind: 'comment', by: 'bob', says: 'approve' }, { kind: 'revoke', who: 'bob' }, { kind: 'wait', minutes: 15 }, { kind: 'tick' }]);
    expect(final).toMatchObject({ status: 'pending' });
  });

  it('fails the request as superseded when the pull request has moved on', async () => {
    const { final } = await play(policy, [{ kind: 'comment', by: 'bob', says: 'approve' }, { kind: 'push' }, { kind: 'wait', minutes: 15 }, { kind: 'tick' }]);
    expect(final).toMatchObject({ status: 'failed', completedBy: 'app' });
  });
});

describe('past its deadline, before its timer fires', () => {
  const policy: PolicySpec = { defaults: { timeoutMinutes: 30 }, deploy: { require: { approvals: 1, approvers: ['bob'] }, unlessDocsOnly: false } };

  it('a vote times the request out, even on a pull request that has moved on', async () => {
    const { steps, final } = await play(policy, [{ kind: 'wait', minutes: 30 }, { kind: 'push' }, { kind: 'button', by: 'bob', choice: 'approve' }]);
    expect(steps[2].status).toBe('timed_out');
    expect(final).toMatchObject({ status: 'timed_out', completedBy: 'app', votes: [] });
  });

  it('a vote before the deadline on a moved pull request fails it as superseded', async () => {
    const { final } = await play(policy, [{ kind: 'wait', minutes: 29 }, { kind: 'push' }, { kind: 'button', by: 'bob', choice: 'approve' }]);
    expect(final).toMatchObject({ status: 'failed', votes: [] });
  });
});

describe('bots', () => {
  const policy = (allowBots: boolean): PolicySpec => ({
    defaults: { timeoutMinutes: 60, allowBots },
    deploy: { require: { approvals: 1, approvers: ['review-bot[bot]'] }, unlessDocsOnly: false },
  });

  it('never vote by comment, even where the policy lets bots approve', async () => {
    const { final } = await play(policy(true), [{ kind: 'comment', by: 'review-bot[bot]', says: 'approve' }]);
    expect(final).toMatchObject({ status: 'pending', votes: [] });
  });

  it('approve with the check run button where the policy lets them, and only there', async () => {
    expect((await play(policy(true), [{ kind: 'button', by: 'review-bot[bot]', choice: 'approve' }])).final).toMatchObject({ status: 'approved', completedBy: 'review-bot[bot]' });
    expect((await play(policy(false), [{ kind: 'button', by: 'review-bot[bot]', choice: 'approve' }])).final).toMatchObject({ status: 'pending', votes: [] });
  });
});
