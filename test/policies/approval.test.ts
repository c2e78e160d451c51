import { describe, expect, test } from '@jest/globals';
import { activeRequirements, checkEligibility, tallyVotes, type ApprovalSubject, type Vote, type Voter } from '../../policies/approval.js';
import type { ApproverSet, Requirement } from '../../policies/decision.js';
import { evaluate } from '../../policies/evaluate.js';
import { loadPolicy } from '../../policies/loader.js';

const at = { file: 'p.yml', line: 3, col: 5 };
const set = (s: Partial<ApproverSet>): ApproverSet => ({ codeowners: false, owners: [], ownerGroups: [], teams: [], users: [], roles: [], ...s });
const requirement = (r: Partial<Requirement>): Requirement => ({
  rule: 'production',
  location: at,
  escalation: null,
  approvals: 1,
  approvers: set({}),
  allowSelfApproval: false,
  scheduled: [],
  unsatisfiable: null,
  ...r,
});
const subject = (requirements: Requirement[], eligibility: Partial<ApprovalSubject['eligibility']> = {}): ApprovalSubject => ({
  outcome: 'approval_required',
  requirements,
  eligibility: { minPermission: 'write', allowBots: false, ...eligibility },
});
const voter = (login: string, v: Partial<Voter> = {}): Voter => ({ login, isBot: false, permission: 'write', teams: [], ...v });
const REQUESTER = { requesters: [{ login: 'bob', id: '11', role: 'started the run' as const }] };

const codeownersAndLeads = subject([
  requirement({ approvers: set({ codeowners: 'any', owners: ['@carol', '@acme/sre', 'dana@example.com'], teams: ['@acme/leads'] }) }),
]);

describe('eligibility', () => {
  const rows: [string, ApprovalSubject, Voter, boolean, string][] = [
    ['personal code owner', codeownersAndLeads, voter('carol'), true, '@carol may approve for rule `production`'],
    ['code owner login ignores case', codeownersAndLeads, voter('Carol'), true, 'may approve'],
    ['member of an owning team', codeownersAndLeads, voter('sam', { teams: ['acme/sre'] }), true, 'may approve'],
    ['member of a listed team', codeownersAndLeads, voter('lee', { teams: ['acme/leads'] }), true, 'may approve'],
    ['team names ignore case', codeownersAndLeads, voter('lee', { teams: ['Acme/Leads'] }), true, 'may approve'],
    ['a team of another org with the same slug', codeownersAndLeads, voter('x', { teams: ['other/leads'] }), false, '@x is not a code owner of the changed files nor in @acme/leads'],
    ['not listed', codeownersAndLeads, voter('mallory'), false, '@mallory is not a code owner of the changed files nor in @acme/leads'],
    ['an e-mail owner is not a login', codeownersAndLeads, voter('dana'), false, '@dana is not a code owner'],
    ['the requester', codeownersAndLeads, voter('bob', { teams: ['acme/leads'] }), false, '@bob started the run and may not approve it (self-approval is not allowed)'],
    ['the requester, whatever the case', codeownersAndLeads, voter('BOB', { teams: ['acme/leads'] }), false, 'started the run'],
    ['the requester under a new login: the account id is the same', codeownersAndLeads, voter('robert', { id: '11', teams: ['acme/leads'] }), false, '@robert started the run'],
    ['another account that took the requester\'s old login', codeownersAndLeads, voter('bob', { id: '99', teams: ['acme/leads'] }), true, 'may approve'],
    ['the requester where self-approval is allowed', subject([requirement({ allowSelfApproval: true, approvers: set({ users: ['bob'] }) })]), voter('bob'), true, 'may approve'],
    ['read permission', codeownersAndLeads, voter('carol', { permission: 'read' }), false, '@carol has read permission; write is required'],
    ['no access', codeownersAndLeads, voter('carol', { permission: 'none' }), false, '@carol has no access to the repository; write is required'],
    ['minimum permission from the policy', subject([requirement({ approvers: set({ users: ['carol'] }) })], { minPermission: 'maintain' }), voter('carol'), false, '@carol has write permission; maintain is required'],
    ['admin meets any minimum', subject([requirement({ approvers: set({ users: ['carol'] }) })], { minPermission: 'maintain' }), voter('carol', { permission: 'admin' }), true, 'may approve'],
    ['a bot', subject([requirement({ approvers: set({ teams: ['@acme/ci'] }) })]), voter('ci-helper', { isBot: true, teams: ['acme/ci'] }), false, '@ci-helper is a bot and the policy does not let bots approve'],
    ['a [bot] login is a bot even if not flagged', subject([requirement({ approvers: set({ users: ['deployer[bot]'] }) })]), voter('deployer[bot]'), false, 'is a bot'],
    ['bots allowed', subject([requirement({ approvers: set({ users: ['deployer[bot]'] }) })], { allowBots: true }), voter('deployer[bot]', { isBot: true }), true, 'may approve'],
    ['role by permission', subject([requirement({ approvers: set({ roles: ['maintain'] }) })]), voter('m', { permission: 'admin' }), true, 'may approve'],
    ['role below', subject([requirement({ approvers: set({ roles: ['maintain'] }) })]), voter('w'), false, '@w is not someone with maintain permission'],
  ];
  test.each(rows)('%s', (_case, s, v, eligible, reason) => {
    const result = checkEligibility(s, v, REQUESTER);
    expect(result.eligible).toBe(eligible);
    expect(result.reason).toContain(reason);
  });

  test('different reasons per requirement are all given', () => {
    const s = subject([
      requirement({ rule: 'a', approvers: set({ users: ['bob'] }) }),
      requirement({ rule: 'b', approvers: set({ teams: ['@acme/sre'] }), allowSelfApproval: true }),
    ]);
    expect(checkEligibility(s, voter('bob'), REQUESTER).reason).toBe(
      'rule `a`: @bob started the run and may not approve it (self-approval is not allowed); rule `b`: @bob is not in @acme/sre',
    );
  });

  test('the author of the pull request a run belongs to is a requester too', () => {
    const s = subject([requirement({ approvers: set({ users: ['dora', 'bob'] }) })]);
    const requesters = { requesters: [...REQUESTER.requesters, { login: 'dora', id: '22', role: 'opened the pull request' as const }] };
    expect(checkEligibility(s, voter('dora', { id: '22' }), requesters).reason).toBe('@dora opened the pull request and may not approve it (self-approval is not allowed)');
    expect(checkEligibility(s, voter('bob', { id: '11' }), requesters).eligible).toBe(false);
    const allowed = subject([requirement({ allowSelfApproval: true, approvers: set({ users: ['dora'] }) })]);
    expect(checkEligibility(allowed, voter('dora', { id: '22' }), requesters).eligible).toBe(true);
  });

  test('a voter counts towards every requirement that lists them', () => {
    const s = subject([
      requirement({ rule: 'a', approvers: set({ users: ['carol'] }) }),
      requirement({ rule: 'b', approvers: set({ users: ['dave'] }) }),
      requirement({ rule: 'c', approvers: set({ teams: ['@acme/sre'] }) }),
    ]);
    expect(checkEligibility(s, voter('carol', { teams: ['acme/sre'] }), REQUESTER).requirements).toEqual([0, 2]);
  });

  test('a time escalation makes more people eligible once due, not before', () => {
    const s = subject([requirement({ approvers: set({ users: ['carol'] }), scheduled: [{ location: at, afterSeconds: 1800, notify: [], approvers: set({ teams: ['@acme/oncall'] }) }] })]);
    const oncall = voter('olga', { teams: ['acme/oncall'] });
    expect(checkEligibility(s, oncall, { ...REQUESTER, elapsedSeconds: 1799 }).eligible).toBe(false);
    expect(checkEligibility(s, oncall, { ...REQUESTER, elapsedSeconds: 1800 }).eligible).toBe(true);
  });

  test('time escalations widen who may approve and never change the count', () => {
    const base = requirement({ approvals: 2, approvers: set({ users: ['carol'] }), scheduled: [
      { location: at, afterSeconds: 60, notify: [], approvers: set({ teams: ['@acme/oncall'] }) },
      { location: at, afterSeconds: 120, notify: [], approvers: set({ users: ['dave'] }) },
    ] });
    expect(activeRequirements([base], 0)[0]).toEqual(base);
    expect(activeRequirements([base], 60)[0]).toMatchObject({ approvals: 2, approvers: { users: ['carol'], teams: ['@acme/oncall'] } });
    expect(activeRequirements([base], 600)[0]).toMatchObject({ approvals: 2, approvers: { users: ['carol', 'dave'], teams: ['@acme/oncall'] } });
  });
});

describe('a time escalation widens the rule\'s own requirement, never one a condition escalation added', () => {
  // docs/examples/policies/severity-escalation.yml: critical needs the on-call lead AND 2 from security;
  // after 30 minutes SRE on-call may approve too, in the lead's place only.
  const loaded = loadPolicy(
    `version: 1
rules:
  - name: hotfix
    if: { action: hotfix, severity: { at_least: high } }
    require: { approvals: 1, approvers: ["@acme/oncall-leads"] }
    escalate:
      - if: { severity: critical }
        require: { approvals: 2, approvers: ["@acme/security"] }
      - after: 30m
        notify: [pager]
        also_eligible: ["@acme/sre-oncall"]
`,
    'severity-escalation.yml',
  );
  if (!loaded.ok) throw new Error(loaded.diagnostics.map((d) => d.message).join('; '));
  const hotfix = (severity: string) => evaluate(loaded.policy, { action: 'hotfix', severity, actor: 'bob', changedFiles: [] });
  const lead = voter('lena', { teams: ['acme/oncall-leads'] });
  const [sre1, sre2] = [voter('sri', { teams: ['acme/sre-oncall'] }), voter('sam', { teams: ['acme/sre-oncall'] })];
  const [sec1, sec2] = [voter('sec', { teams: ['acme/security'] }), voter('sue', { teams: ['acme/security'] })];
  const approve = (v: Voter): Vote => ({ voter: v, verdict: 'approve' });
  const MINUTE = 60;

  const rows: [string, string, number, Voter[], string, string][] = [
    ['two SRE on-call before 30 minutes', 'critical', 10, [sre1, sre2], 'pending', 'waiting for 1 more from @acme/oncall-leads; 2 more from @acme/security'],
    ['two SRE on-call after 30 minutes: still no security sign-off', 'critical', 31 * MINUTE, [sre1, sre2], 'pending', 'waiting for 2 more from @acme/security'],
    ['SRE on-call and one security approver after 30 minutes', 'critical', 31 * MINUTE, [sre1, sec1, sre2], 'pending', 'waiting for 1 more from @acme/security'],
    ['SRE on-call in the lead\'s place, and two security approvers', 'critical', 31 * MINUTE, [sre1, sec1, sec2], 'approved', 'approved by @sri, @sec, @sue'],
    ['the same before 30 minutes: the lead is still needed', 'critical', 29 * MINUTE, [sre1, sec1, sec2], 'pending', 'waiting for 1 more from @acme/oncall-leads'],
    ['the lead and two security approvers', 'critical', 10, [lead, sec1, sec2], 'approved', 'approved by @lena, @sec, @sue'],
    ['high: SRE on-call alone after 30 minutes', 'high', 31 * MINUTE, [sre1], 'approved', 'approved by @sri'],
  ];
  test.each(rows)('%s', (_case, severity, elapsedSeconds, voters, status, reason) => {
    const tally = tallyVotes(hotfix(severity), voters.map(approve), { ...REQUESTER, elapsedSeconds });
    expect(tally.status).toBe(status);
    expect(tally.reason).toBe(reason);
  });

  test('a stored decision whose added requirement carries a timer is still not widened', () => {
    const oncall = { location: at, afterSeconds: 60, notify: [], approvers: set({ teams: ['@acme/sre-oncall'] }) };
    const added = requirement({ escalation: { location: at, reason: 'severity `critical` is one of `critical`' }, approvers: set({ teams: ['@acme/security'] }), scheduled: [oncall] });
    expect(activeRequirements([added], 3600)[0].approvers.teams).toEqual(['@acme/security']);
    expect(tallyVotes(subject([added]), [approve(sre1)], { ...REQUESTER, elapsedSeconds: 3600 }).status).toBe('pending');
  });
});

describe('tally', () => {
  const two = subject([
    requirement({ rule: 'production', approvals: 2, approvers: set({ codeowners: 'any', owners: ['@carol', '@acme/sre'] }) }),
    requirement({ rule: 'security', approvals: 1, approvers: set({ teams: ['@acme/security'] }) }),
  ]);
  const carol = voter('carol');
  const sam = voter('sam', { teams: ['acme/sre'] });
  const sec = voter('sec', { teams: ['acme/security'] });
  const both = voter('pat', { teams: ['acme/sre', 'acme/security'] });
  const approve = (v: Voter): Vote => ({ voter: v, verdict: 'approve' });
  const reject = (v: Voter): Vote => ({ voter: v, verdict: 'reject' });

  const rows: [string, Vote[], string, string][] = [
    ['no votes', [], 'pending', 'waiting for 2 more from a code owner of the changed files; 1 more from @acme/security'],
    ['quorum met by distinct eligible people', [approve(carol), approve(sam), approve(sec)], 'approved', 'approved by @carol, @sam, @sec'],
    ['one person approving twice counts once', [approve(carol), approve(voter('Carol')), approve(sec)], 'pending', 'waiting for 1 more from a code owner'],
    ['one account approving under two logins (renamed in between) counts once', [approve(voter('sam', { id: '7', teams: ['acme/sre'] })), approve(voter('sam-renamed', { id: '7', teams: ['acme/sre'] })), approve(sec)], 'pending', 'waiting for 1 more from a code owner'],
    ['two accounts that held one login in turn are two people', [approve(voter('sam', { id: '7', teams: ['acme/sre'] })), approve(voter('sam', { id: '8', teams: ['acme/sre'] })), approve(sec)], 'approved', 'approved by @sam, @sec'],
    ['one person in two groups counts once per requirement', [approve(both), approve(carol)], 'approved', 'approved by @pat, @carol'],
    ['ineligible approvals do not count', [approve(voter('bob', { teams: ['acme/sre'] })), approve(voter('mallory')), approve(sec)], 'pending', 'waiting for 2 more'],
    ['an eligible reject rejects at once', [approve(carol), reject(sec), approve(sam)], 'rejected', 'rejected by @sec'],
    ['an ineligible reject is ignored', [reject(voter('mallory')), approve(carol), approve(sam), approve(sec)], 'approved', 'approved by'],
    ['a reject after approval changes nothing', [approve(carol), approve(sam), approve(sec), reject(both)], 'approved', 'approved by'],
  ];
  test.each(rows)('%s', (_case, votes, status, reason) => {
    const tally = tallyVotes(two, votes, REQUESTER);
    expect(tally.status).toBe(status);
    expect(tally.reason).toContain(reason);
  });

  test('says who approved and what is awaited per requirement, and why votes were ignored', () => {
    const tally = tallyVotes(two, [approve(carol), approve(voter('mallory')), approve(voter('bob'))], REQUESTER);
    expect(tally.requirements).toEqual([
      { rule: 'production', escalation: null, approvals: 2, approvedBy: ['carol'], groups: [], awaiting: 1, awaitingFrom: 'a code owner of the changed files' },
      { rule: 'security', escalation: null, approvals: 1, approvedBy: [], groups: [], awaiting: 1, awaitingFrom: '@acme/security' },
    ]);
    expect(tally.ignored).toEqual([
      { login: 'mallory', verdict: 'approve', reason: 'rule `production`: @mallory is not a code owner of the changed files; rule `security`: @mallory is not in @acme/security' },
      { login: 'bob', verdict: 'approve', reason: '@bob started the run and may not approve it (self-approval is not allowed)' },
    ]);
  });

  test('a blocked decision is never approved, whatever the votes', () => {
    const blocked: ApprovalSubject = { ...two, outcome: 'blocked' };
    expect(tallyVotes(blocked, [approve(carol), approve(sam), approve(sec)], REQUESTER).status).toBe('blocked');
  });

  test('an auto-approved decision needs no votes', () => {
    expect(tallyVotes({ ...subject([]), outcome: 'auto_approve' }, [], REQUESTER).status).toBe('approved');
  });
});

describe('code owners, one approval for each group of changed files', () => {
  // payments is owned by @acme/payments, docs by @acme/docs (and @dana); a change touching both needs both.
  const payments = { owners: ['@acme/payments'], patterns: ['/payments/'], fileCount: 3 };
  const docs = { owners: ['@acme/docs', '@dana'], patterns: ['*.md'], fileCount: 1 };
  const eachGroup = (approvals = 1) =>
    subject([requirement({ approvals, approvers: set({ codeowners: 'each_group', owners: ['@acme/payments', '@acme/docs', '@dana'], ownerGroups: [payments, docs] }) })]);
  const anyOwner = subject([requirement({ approvers: set({ codeowners: 'any', owners: ['@acme/payments', '@acme/docs', '@dana'] }) })]);
  const pay = voter('pia', { teams: ['acme/payments'] });
  const doc = voter('dan', { teams: ['acme/docs'] });
  const dana = voter('dana');
  const approve = (v: Voter): Vote => ({ voter: v, verdict: 'approve' });

  const rows: [string, ApprovalSubject, Vote[], string][] = [
    ['a docs owner alone does not release a payments change', eachGroup(), [approve(doc)], 'pending'],
    ['the payments owner alone leaves the docs group waiting', eachGroup(), [approve(pay)], 'pending'],
    ['an owner of each group approves', eachGroup(), [approve(doc), approve(pay)], 'approved'],
    ['a personal owner covers their group', eachGroup(), [approve(dana), approve(pay)], 'approved'],
    ['each group covered, but the count is not reached', eachGroup(3), [approve(doc), approve(pay)], 'pending'],
    ['the union mode lets any owner approve', anyOwner, [approve(doc)], 'approved'],
  ];
  test.each(rows)('%s', (_case, s, votes, status) => {
    expect(tallyVotes(s, votes, REQUESTER).status).toBe(status);
  });

  test('says which groups are covered and which still wait', () => {
    const tally = tallyVotes(eachGroup(), [approve(doc)], REQUESTER);
    expect(tally.requirements[0].groups).toEqual([
      { owners: ['@acme/payments'], patterns: ['/payments/'], coveredBy: null },
      { owners: ['@acme/docs', '@dana'], patterns: ['*.md'], coveredBy: 'dan' },
    ]);
    expect(tally.requirements[0].awaiting).toBe(1);
    expect(tally.reason).toBe('waiting for 1 more from an owner of `/payments/` (@acme/payments)');
  });

  test('a time escalation widens who may approve, but the owner groups must still be covered', () => {
    const oncall = { location: at, afterSeconds: 60, notify: [], approvers: set({ teams: ['@acme/oncall'] }) };
    const s = subject([requirement({ approvers: set({ codeowners: 'each_group', owners: ['@acme/payments'], ownerGroups: [payments] }), scheduled: [oncall] })]);
    const olga = voter('olga', { teams: ['acme/oncall'] });
    expect(tallyVotes(s, [approve(olga)], { ...REQUESTER, elapsedSeconds: 61 }).status).toBe('pending');
    expect(tallyVotes(s, [approve(olga), approve(pay)], { ...REQUESTER, elapsedSeconds: 61 }).status).toBe('approved');
  });
});
