import { describe, expect, test } from '@jest/globals';
import { evaluate, type OwnersLookup } from '../../policies/evaluate.js';
import { parseCodeowners } from '../../policies/codeowners.js';
import type { ApproverRef, Escalation, Policy, RequestFacts, Rule } from '../../policies/types.js';

const at = (line: number) => ({ file: '.github/jit-approval.yml', line, col: 5 });
const CODEOWNERS: ApproverRef = { kind: 'codeowners' };
const team = (slug: string): ApproverRef => ({ kind: 'team', org: 'acme', slug });
const user = (login: string): ApproverRef => ({ kind: 'user', login });

function policy(rules: Partial<Rule>[], overrides: Partial<Policy> = {}): Policy {
  return {
    version: 1,
    severities: ['low', 'medium', 'high', 'critical'],
    defaults: { approvals: 1, approvers: [CODEOWNERS], timeoutSeconds: 3600, allowSelfApproval: false, allowBots: false, minPermission: 'write' },
    unmatched: 'approve',
    rules: rules.map((r, i) => ({ name: `rule-${i}`, location: at(10 + i * 10), if: {}, autoApprove: false, escalate: [], notify: [], ...r })),
    ...overrides,
  };
}

function facts(f: Partial<RequestFacts> = {}): RequestFacts {
  return { action: 'deploy', actor: 'requester', changedFiles: ['src/app.ts'], ...f };
}

/** A real CODEOWNERS, one line per entry: `[pattern, ...owners]`. */
function owners(lines: [string, ...string[]][]): OwnersLookup {
  return parseCodeowners(lines.map((l) => l.join(' ')).join('\n'), '.github/CODEOWNERS');
}

const esc = (e: Partial<Escalation>): Escalation => ({ location: at(99), notify: [], ...e });

describe('outcome', () => {
  const docs: Partial<Rule> = { name: 'docs', if: { paths: ['docs/**'] }, autoApprove: true };
  const prod: Partial<Rule> = { name: 'production', if: { environment: ['production'] }, require: { approvals: 1, approvers: [team('leads')] } };
  const rows: [string, Policy, RequestFacts, string, string][] = [
    ['no rule matched, unmatched: approve', policy([prod]), facts(), 'auto_approve', 'no rule matched and the policy says `unmatched: approve`'],
    ['no rule matched, unmatched: require uses defaults', policy([prod], { unmatched: 'require', defaults: { ...policy([]).defaults, approvers: [team('leads')] } }), facts(), 'approval_required', '1 approval from @acme/leads (defaults: no rule matched)'],
    ['unmatched: require with nobody to approve is blocked', policy([prod], { unmatched: 'require' }), facts(), 'blocked', 'default requirement: needs 1 approval but only 0 eligible people are listed'],
    ['auto-approving rule', policy([docs, prod]), facts({ changedFiles: ['docs/a.md'] }), 'auto_approve', '`docs` auto-approves'],
    ['a requirement wins over auto-approve', policy([docs, prod]), facts({ environment: 'production', changedFiles: ['docs/a.md'] }), 'approval_required', '1 approval from @acme/leads (rule `production`)'],
    ['a rule with neither require nor auto_approve uses defaults', policy([{ name: 'any', if: { action: ['deploy'] } }]), facts(), 'blocked', 'no CODEOWNERS file'],
  ];
  test.each(rows)('%s', (_case, p, f, outcome, summary) => {
    const decision = evaluate(p, f);
    expect(decision.outcome).toBe(outcome);
    expect(decision.summary).toContain(summary);
    expect(decision.problems.length > 0).toBe(outcome === 'blocked');
  });

  describe('an action no rule matched that is a near miss of a named one', () => {
    const deploy: Partial<Rule> = { name: 'deploy', if: { action: ['deploy'], environment: ['production'] }, require: { approvals: 1, approvers: [team('leads')] } };
    const prod: Partial<Rule> = { name: 'production', if: { environment: ['production'] }, require: { approvals: 1, approvers: [team('leads')] } };
    const rows: [string, Policy, RequestFacts, string][] = [
      ['is blocked as a typo when unmatched requests are waved through', policy([deploy]), facts({ action: 'deploi' }), 'blocked'],
      ['is an ordinary unmatched request when far from every named action', policy([deploy]), facts({ action: 'publish-docs' }), 'auto_approve'],
      ['is fine when it is the named action and other conditions fail', policy([deploy]), facts({ action: 'deploy', environment: 'staging' }), 'auto_approve'],
      ['is gated normally when another rule matches it', policy([deploy, prod]), facts({ action: 'deploi', environment: 'production' }), 'approval_required'],
      ['is not checked when unmatched requests already need approval', policy([deploy], { unmatched: 'require', defaults: { ...policy([]).defaults, approvers: [team('leads')] } }), facts({ action: 'deploi' }), 'approval_required'],
    ];
    test.each(rows)('%s', (_case, p, f, outcome) => {
      const decision = evaluate(p, f);
      expect(decision.outcome).toBe(outcome);
      expect(decision.problems.some((problem) => problem.startsWith(`unknown action \`${f.action}\``))).toBe(outcome === 'blocked');
    });

    test('the problem names the action it resembles', () => {
      expect(evaluate(policy([deploy]), facts({ action: 'deploi' })).problems).toEqual([
        "unknown action `deploi`: no rule matched it and it looks like a typo of `deploy`, which the policy names; fix the step's `action` input or add a rule for it",
      ]);
    });
  });

  test('every rule is listed with its per-condition results', () => {
    const decision = evaluate(policy([docs, prod]), facts({ environment: 'staging', changedFiles: ['docs/a.md'] }));
    expect(decision.rules).toEqual([
      expect.objectContaining({ name: 'docs', matched: true, effect: 'auto_approve', conditions: [expect.objectContaining({ key: 'paths', matched: true, reason: 'changed file `docs/a.md` matches `docs/**`' })] }),
      expect.objectContaining({ name: 'production', matched: false, effect: 'none', conditions: [expect.objectContaining({ key: 'environment', matched: false, reason: 'environment `staging` matches none of `production`' })] }),
    ]);
  });

  test('the decision survives a JSON round trip unchanged', () => {
    const decision = evaluate(policy([docs, prod]), facts({ environment: 'production' }));
    expect(JSON.parse(JSON.stringify(decision))).toEqual(decision);
  });
});

describe('fail closed', () => {
  test('an unknown severity in the request blocks instead of skipping the gate', () => {
    const p = policy([{ name: 'sev', if: { severity: { atLeast: 'high' } }, require: { approvals: 1, approvers: [team('sre')] } }]);
    const decision = evaluate(p, facts({ severity: 'Critical' }));
    expect(decision.outcome).toBe('blocked');
    expect(decision.problems).toEqual([expect.stringContaining('rule `sev`: severity `Critical` is not one of')]);
  });

  test('an invalid glob in a rule that did not match still blocks', () => {
    const p = policy([{ name: 'bad', if: { action: ['other'], branch: ['['] } }]);
    expect(evaluate(p, facts({ branch: 'main' })).outcome).toBe('blocked');
  });

  test('a zero approval count still needs one approval', () => {
    const p = policy([{ name: 'z', require: { approvals: 0, approvers: [team('x')] } }]);
    expect(evaluate(p, facts()).requirements[0].approvals).toBe(1);
  });

  const unsatisfiable: [string, Policy, RequestFacts, OwnersLookup | undefined, string][] = [
    ['only codeowners, no CODEOWNERS file', policy([{ name: 'r', require: { approvers: [CODEOWNERS] } }]), facts(), undefined, 'there is no CODEOWNERS file'],
    ['only codeowners, every file unowned', policy([{ name: 'r', require: { approvers: [CODEOWNERS] } }]), facts({ changedFiles: ['x/y'] }), owners([['/docs/', '@alice']]), 'no changed file has a code owner'],
    ['the only listed user is the requester', policy([{ name: 'r', require: { approvers: [user('requester')] } }]), facts(), undefined, 'the requester @requester may not approve their own request'],
    ['two approvals from one listed user', policy([{ name: 'r', require: { approvals: 2, approvers: [user('alice')] } }]), facts(), undefined, 'needs 2 approvals but only 1 eligible person is listed (@alice)'],
    ['the requester is the only personal code owner', policy([{ name: 'r', require: { approvers: [CODEOWNERS] } }]), facts(), owners([['*', '@Requester']]), 'may not approve their own request'],
  ];
  test.each(unsatisfiable)('unsatisfiable: %s', (_case, p, f, lookup, reason) => {
    const decision = evaluate(p, f, { codeowners: lookup });
    expect(decision.outcome).toBe('blocked');
    expect(decision.requirements[0].unsatisfiable).toContain(reason);
    expect(decision.problems[0]).toContain('rule `r`');
  });

  const satisfiable: [string, Policy, RequestFacts, OwnersLookup | undefined][] = [
    ['a team may hold anyone', policy([{ name: 'r', require: { approvals: 5, approvers: [team('sre')] } }]), facts(), undefined],
    ['a role may hold anyone', policy([{ name: 'r', require: { approvals: 3, approvers: [{ kind: 'role', role: 'maintain' }] } }]), facts(), undefined],
    ['a team code owner may hold anyone', policy([{ name: 'r', require: { approvals: 2, approvers: [CODEOWNERS] } }]), facts(), owners([['*', '@acme/web']])],
    ['self-approval allowed', policy([{ name: 'r', require: { approvers: [user('requester')] }, allowSelfApproval: true }]), facts(), undefined],
    ['a time escalation adds approvers later', policy([{ name: 'r', require: { approvers: [CODEOWNERS] }, escalate: [esc({ afterSeconds: 1800, approvers: [team('oncall')] })] }]), facts(), undefined],
  ];
  test.each(satisfiable)('satisfiable: %s', (_case, p, f, lookup) => {
    const decision = evaluate(p, f, { codeowners: lookup });
    expect(decision.requirements[0].unsatisfiable).toBeNull();
    expect(decision.outcome).toBe('approval_required');
  });
});

describe('escalation', () => {
  const production = (escalate: Escalation[]): Policy =>
    policy([{ name: 'production', if: { environment: ['production'] }, require: { approvals: 1, approvers: [CODEOWNERS, team('leads')] }, escalate, notify: ['slack-deploys'] }]);
  const critical = esc({ location: at(20), if: { severity: { anyOf: ['critical'] } }, require: { approvals: 2, approvers: [team('security')] }, notify: ['security-pager'] });
  const later = esc({ location: at(25), afterSeconds: 1800, notify: ['pager'], approvers: [team('sre-oncall')] });

  test('a condition escalation raises approvals, adds approvers and notifications', () => {
    const decision = evaluate(production([critical, later]), facts({ environment: 'production', severity: 'critical' }));
    const [req] = decision.requirements;
    expect(req.approvals).toBe(2);
    expect(req.approvers.teams).toEqual(['@acme/leads', '@acme/security']);
    expect(req.escalatedBy).toEqual([{ location: at(20), reason: 'severity `critical` is one of `critical`' }]);
    expect(decision.notify).toEqual(['slack-deploys', 'security-pager']);
  });

  test('a condition escalation that does not hold changes nothing and says why', () => {
    const decision = evaluate(production([critical]), facts({ environment: 'production', severity: 'high' }));
    expect(decision.requirements[0]).toMatchObject({ approvals: 1, escalatedBy: [] });
    expect(decision.requirements[0].approvers.teams).toEqual(['@acme/leads']);
    expect(decision.rules[0].escalations[0]).toMatchObject({ kind: 'condition', applied: false, reason: 'not applied: severity `high` is not one of `critical`' });
    expect(decision.notify).toEqual(['slack-deploys']);
  });

  test('escalation never lowers the approval count', () => {
    const p = policy([{ name: 'r', require: { approvals: 3, approvers: [team('a')] }, escalate: [esc({ if: { action: ['deploy'] }, require: { approvals: 2 } })] }]);
    expect(evaluate(p, facts()).requirements[0].approvals).toBe(3);
  });

  test('a condition escalation turns an auto-approving rule into a requirement', () => {
    const p = policy([{ name: 'docs', autoApprove: true, escalate: [esc({ if: { severity: { atLeast: 'high' } }, require: { approvals: 1, approvers: [team('docs-leads')] } })] }]);
    expect(evaluate(p, facts({ severity: 'low' })).outcome).toBe('auto_approve');
    const decision = evaluate(p, facts({ severity: 'high' }));
    expect(decision.outcome).toBe('approval_required');
    expect(decision.rules[0].effect).toBe('require');
    expect(decision.requirements[0]).toMatchObject({ approvals: 1, approvers: { codeowners: false, teams: ['@acme/docs-leads'] } });
    expect(decision.requirements[0].escalatedBy).toHaveLength(1);
  });

  test('an escalation with only a count on an auto-approving rule asks the default approvers', () => {
    const p = policy([{ name: 'docs', autoApprove: true, escalate: [esc({ if: { action: ['deploy'] }, require: { approvals: 2 } })] }], {
      defaults: { ...policy([]).defaults, approvers: [team('reviewers')] },
    });
    expect(evaluate(p, facts()).requirements[0]).toMatchObject({ approvals: 2, approvers: { teams: ['@acme/reviewers'] } });
  });

  test('time escalations are passed through for the App to schedule, not applied now', () => {
    const decision = evaluate(production([later]), facts({ environment: 'production' }));
    const [req] = decision.requirements;
    expect(req.approvers.teams).toEqual(['@acme/leads']);
    expect(req.scheduled).toEqual([
      { location: at(25), afterSeconds: 1800, notify: ['pager'], approvers: { codeowners: false, owners: [], teams: ['@acme/sre-oncall'], users: [], roles: [] } },
    ]);
    expect(decision.notify).toEqual(['slack-deploys']);
    expect(decision.rules[0].escalations[0]).toMatchObject({ kind: 'time', applied: true, reason: 'scheduled after 30m' });
  });

  test('a time escalation on an auto-approving rule is not scheduled', () => {
    const p = policy([{ name: 'docs', autoApprove: true, escalate: [later] }]);
    const decision = evaluate(p, facts());
    expect(decision.outcome).toBe('auto_approve');
    expect(decision.rules[0].escalations[0]).toMatchObject({ applied: false, reason: expect.stringContaining('auto-approves') });
  });
});

describe('timeouts, notifications and self-approval', () => {
  const rows: [string, Partial<Rule>[], number][] = [
    ['defaults when no rule matched', [{ if: { action: ['x'] }, timeoutSeconds: 60 }], 3600],
    ['a rule overrides the defaults, even upwards', [{ require: { approvers: [team('a')] }, timeoutSeconds: 7200 }], 7200],
    ['the shortest of several matching rules', [{ require: { approvers: [team('a')] }, timeoutSeconds: 7200 }, { require: { approvers: [team('b')] }, timeoutSeconds: 600 }, { require: { approvers: [team('c')] } }], 600],
    ['an auto-approving rule has nothing to wait for', [{ require: { approvers: [team('a')] }, timeoutSeconds: 7200 }, { autoApprove: true, timeoutSeconds: 60 }, { autoApprove: true }], 7200],
    ['a rule without its own timeout brings the default', [{ require: { approvers: [team('a')] }, timeoutSeconds: 7200 }, { require: { approvers: [team('b')] } }], 3600],
  ];
  test.each(rows)('timeout: %s', (_case, rules, seconds) => {
    expect(evaluate(policy(rules), facts()).timeoutSeconds).toBe(seconds);
  });

  test('reminders: the defaults interval while approval is required, else none', () => {
    const withReminder = (rules: Partial<Rule>[], reminderSeconds?: number) =>
      policy(rules, { defaults: { ...policy([]).defaults, approvers: [team('a')], ...(reminderSeconds === undefined ? {} : { reminderSeconds }) } });
    const requiring: Partial<Rule>[] = [{ require: { approvers: [team('a')] } }];
    expect(evaluate(withReminder(requiring, 900), facts())).toMatchObject({ outcome: 'approval_required', reminderSeconds: 900 });
    expect(evaluate(withReminder(requiring), facts())).toMatchObject({ outcome: 'approval_required', reminderSeconds: null });
    // Nothing to wait for, or nothing that could ever be approved: nobody to remind.
    expect(evaluate(withReminder([{ autoApprove: true }], 900), facts())).toMatchObject({ outcome: 'auto_approve', reminderSeconds: null });
    expect(evaluate(withReminder([{ require: { approvals: 2, approvers: [user('solo')] } }], 900), facts())).toMatchObject({ outcome: 'blocked', reminderSeconds: null });
    // `unmatched: require` waits on the defaults, so it is reminded too.
    expect(evaluate(withReminder([{ if: { action: ['x'] } }], 60), facts()).reminderSeconds).toBeNull();
    expect(evaluate({ ...withReminder([{ if: { action: ['x'] } }], 60), unmatched: 'require' }, facts()).reminderSeconds).toBe(60);
  });

  test('notify names are collected once each, from matching rules only', () => {
    const decision = evaluate(
      policy([
        { require: { approvers: [team('a')] }, notify: ['slack', 'mail'] },
        { require: { approvers: [team('b')] }, notify: ['mail', 'hook'] },
        { if: { action: ['other'] }, notify: ['never'] },
      ]),
      facts(),
    );
    expect(decision.notify).toEqual(['slack', 'mail', 'hook']);
  });

  test('self-approval comes from the rule, else the defaults', () => {
    const p = policy([{ require: { approvers: [team('a')] }, allowSelfApproval: true }, { require: { approvers: [team('b')] } }]);
    expect(evaluate(p, facts()).requirements.map((r) => r.allowSelfApproval)).toEqual([true, false]);
  });

  test('eligibility settings come from the defaults', () => {
    const p = policy([], { defaults: { ...policy([]).defaults, allowBots: true, minPermission: 'maintain' } });
    expect(evaluate(p, facts()).eligibility).toEqual({ minPermission: 'maintain', allowBots: true });
  });
});

describe('who may approve', () => {
  const lookup = owners([
    ['*', '@acme/everyone'],
    ['/infra/', '@acme/sre', '@carol'],
    ['/infra/dns/', '@acme/sre', '@carol'],
    ['/docs/', '@dave'],
    ['/vendor/'],
  ]);

  test('owners are grouped by owner set with the CODEOWNERS lines, and unowned files listed', () => {
    const p = policy([{ name: 'r', require: { approvers: [CODEOWNERS, user('@erin'), { kind: 'role', role: 'admin' }] } }]);
    const changed = ['infra/a.tf', 'docs/x.md', 'infra/dns/zone', 'vendor/lib.js', 'src/a.ts', 'infra/a.tf'];
    const decision = evaluate(p, facts({ changedFiles: changed }), { codeowners: lookup });
    expect(decision.codeowners).toEqual({
      available: true,
      groups: [
        { owners: ['@acme/sre', '@carol'], rules: [{ pattern: '/infra/', line: 2 }, { pattern: '/infra/dns/', line: 3 }], files: ['infra/a.tf', 'infra/dns/zone'] },
        { owners: ['@dave'], rules: [{ pattern: '/docs/', line: 4 }], files: ['docs/x.md'] },
        { owners: ['@acme/everyone'], rules: [{ pattern: '*', line: 1 }], files: ['src/a.ts'] },
      ],
      unowned: ['vendor/lib.js'],
    });
    expect(decision.requirements[0].approvers).toEqual({
      codeowners: true,
      owners: ['@acme/sre', '@carol', '@dave', '@acme/everyone'],
      teams: [],
      users: ['erin'],
      roles: ['admin'],
    });
    expect(decision.facts).toEqual({ action: 'deploy', actor: 'requester', changedFileCount: 6 });
  });

  test('CODEOWNERS is not consulted when no requirement lists codeowners', () => {
    let calls = 0;
    const counting: OwnersLookup = { ownersOf: (f) => (calls++, lookup.ownersOf(f)) };
    const decision = evaluate(policy([{ require: { approvers: [team('a')] } }]), facts(), { codeowners: counting });
    expect(decision.codeowners).toBeNull();
    expect(calls).toBe(0);
  });

  test('a requirement without codeowners does not list owners', () => {
    const p = policy([{ name: 'a', require: { approvers: [CODEOWNERS] } }, { name: 'b', require: { approvers: [user('zed')] } }]);
    const decision = evaluate(p, facts({ changedFiles: ['docs/x'] }), { codeowners: lookup });
    expect(decision.requirements.map((r) => [r.rule, r.approvers.owners, r.approvers.users])).toEqual([
      ['a', ['@dave'], []],
      ['b', [], ['zed']],
    ]);
  });
});
