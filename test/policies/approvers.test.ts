import { describe, expect, test } from '@jest/globals';
import { describeApprovers } from '../../policies/approvers.js';
import type { ApproverSet } from '../../policies/decision.js';

const set = (s: Partial<ApproverSet>): ApproverSet => ({ codeowners: false, owners: [], ownerGroups: [], teams: [], users: [], roles: [], ...s });
const payments = { owners: ['@acme/payments'], patterns: ['/payments/'], fileCount: 2 };

describe('describeApprovers says who may approve, and in what capacity', () => {
  const rows: [string, ApproverSet, string][] = [
    ['nobody', set({}), 'nobody'],
    ['one team', set({ teams: ['@acme/leads'] }), '@acme/leads'],
    ['alternatives', set({ teams: ['@acme/leads'], users: ['alice'], roles: ['maintain'] }), '@acme/leads, @alice or anyone with maintain permission'],
    ['code owners of each group alone', set({ codeowners: 'each_group', owners: ['@acme/payments'], ownerGroups: [payments] }), 'a code owner of each group of changed files'],
    [
      'others beside code owners of each group only add to the count',
      set({ codeowners: 'each_group', owners: ['@acme/payments'], ownerGroups: [payments], teams: ['@acme/release-managers'] }),
      "a code owner of each group of changed files (@acme/release-managers count towards the total, not in an owner's place)",
    ],
    [
      'several others beside code owners of each group',
      set({ codeowners: 'each_group', ownerGroups: [payments], teams: ['@acme/leads'], users: ['alice'], roles: ['admin'] }),
      "a code owner of each group of changed files (@acme/leads, @alice or anyone with admin permission count towards the total, not in an owner's place)",
    ],
    ['the union of code owners is one alternative among others', set({ codeowners: 'any', owners: ['@acme/payments'], teams: ['@acme/leads'] }), 'a code owner of the changed files or @acme/leads'],
  ];
  test.each(rows)('%s', (_case, approvers, text) => {
    expect(describeApprovers(approvers)).toBe(text);
  });
});
