import { describe, expect, test } from '@jest/globals';
import { evaluate, type OwnersLookup } from '../../policies/evaluate.js';
import { emptyApproverSet } from '../../policies/approvers.js';
import { parseCodeowners } from '../../policies/codeowners.js';
import type { ApproverRef, Conditions, Escalation, Policy, RequestFacts, Rule } from '../../policies/types.js';

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

  describe('an action or environment no rule matched that is a near miss of a named one', () => {
    const deploy: Partial<Rule> = { name: 'deploy', if: { action: ['deploy'], environment: ['production'] }, require: { approvals: 1, approvers: [team('leads')] } };
    const prod: Partial<Rule> = { name: 'production', if: { environment: ['production'] }, require: { approvals: 1, approvers: [team('leads')] } };
    const uat: Partial<Rule> = { name: 'uat', if: { environment: ['uat', 'preview-*'] }, require: { approvals: 1, approvers: [team('leads')] } };
    const requireByDefault = (rule: Partial<Rule>) => policy([rule], { unmatched: 'require', defaults: { ...policy([]).defaults, approvers: [team('leads')] } });
    /** [case, policy, facts, outcome, the fact a typo is reported of (when blocked)] */
    const rows: [string, Policy, RequestFacts, string, 'action' | 'environment'][] = [
      ['an action is blocked as a typo when unmatched requests are waved through', policy([deploy]), facts({ action: 'deploi' }), 'blocked', 'action'],
      ['an action is blocked as a typo in any case', policy([deploy]), facts({ action: 'DEPLOI' }), 'blocked', 'action'],
      ['the named action in another case matches', policy([deploy]), facts({ action: 'DEPLOY', environment: 'production' }), 'approval_required', 'action'],
      ['an action far from every named one is an ordinary unmatched request', policy([deploy]), facts({ action: 'publish-docs' }), 'auto_approve', 'action'],
      ['the named action is fine when other conditions fail', policy([deploy]), facts({ action: 'deploy', environment: 'staging' }), 'auto_approve', 'action'],
      ['an action is gated normally when another rule matches it', policy([deploy, prod]), facts({ action: 'deploi', environment: 'production' }), 'approval_required', 'action'],
      ['an action is not checked when unmatched requests already need approval', requireByDefault(deploy), facts({ action: 'deploi' }), 'approval_required', 'action'],
      ['an environment is blocked as a typo when unmatched requests are waved through', policy([prod]), facts({ environment: 'prodution' }), 'blocked', 'environment'],
      ['an environment is blocked in any case, as GitHub compares names', policy([prod]), facts({ environment: 'Prodcution' }), 'blocked', 'environment'],
      ['the named environment in another case matches', policy([prod]), facts({ environment: 'PRODUCTION' }), 'approval_required', 'environment'],
      ['an environment far from every named one is an ordinary unmatched request', policy([prod]), facts({ environment: 'staging' }), 'auto_approve', 'environment'],
      ['an environment is no typo of a short name two edits away', policy([uat]), facts({ environment: 'qa' }), 'auto_approve', 'environment'],
      ['an environment is no typo of a pattern', policy([uat]), facts({ environment: 'preview_1' }), 'auto_approve', 'environment'],
      ['an environment is not checked when unmatched requests already need approval', requireByDefault(prod), facts({ environment: 'prodution' }), 'approval_required', 'environment'],
    ];
    test.each(rows)('%s', (_case, p, f, outcome, fact) => {
      const decision = evaluate(p, f);
      expect(decision.outcome).toBe(outcome);
      expect(decision.problems.some((problem) => problem.startsWith(`unknown ${fact} \`${f[fact]}\``))).toBe(outcome === 'blocked');
    });

    test('the problem names what it resembles', () => {
      expect(evaluate(policy([deploy]), facts({ action: 'deploi' })).problems).toEqual([
        "unknown action `deploi`: no rule matched it and it looks like a typo of `deploy`, which the policy names; fix the step's `action` input or add a rule for it",
      ]);
      expect(evaluate(policy([prod]), facts({ environment: 'prodution' })).problems).toEqual([
        "unknown environment `prodution`: no rule matched it and it looks like a typo of `production`, which the policy names; fix the job's `environment` (or the step's `environment` input) or add a rule for it",
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

describe('unmatched: require covers what no rule matched for certain', () => {
  // Two from security unless a rule says otherwise; a weaker rule may not stand in for that on the worst case alone.
  const strict = (rules: Partial<Rule>[]) => policy(rules, { unmatched: 'require', defaults: { ...policy([]).defaults, approvals: 2, approvers: [team('security')] } });
  const docs: Partial<Rule> = { name: 'docs', if: { paths: ['docs/**'] }, require: { approvals: 1, approvers: [team('docs')] } };
  const bot: Partial<Rule> = { name: 'bot', if: { actor: ['release-bot'] }, require: { approvals: 1, approvers: [team('operators')] } };
  const prod: Partial<Rule> = { name: 'production', if: { environment: ['production'] }, unless: { onlyPaths: ['docs/**'] }, require: { approvals: 1, approvers: [team('leads')] } };
  const unknown = { changedFiles: [], unknownChanges: 'a force push' };
  /** [case, policy, facts, the requirements asked for: rule name, or `defaults`] */
  const rows: [string, Policy, RequestFacts, string[]][] = [
    ['a known change outside the rule: the defaults', strict([docs]), facts({ changedFiles: ['src/a.ts'] }), ['defaults']],
    ['a known change the rule matches: the rule alone', strict([docs]), facts({ changedFiles: ['docs/a.md'] }), ['docs']],
    ['an unknown change set matches the rule on the worst case: the defaults too', strict([docs]), facts(unknown), ['docs', 'defaults']],
    ["the bot's own run: the rule alone", strict([bot]), facts({ actor: 'release-bot' }), ['bot']],
    ["a person's re-run of the bot's run matches the rule on the worst case: the defaults too", strict([bot]), facts({ actor: 'release-bot', rerunBy: ['mallory'] }), ['bot', 'defaults']],
    ["the bot's re-run of a person's run, likewise", strict([bot]), facts({ actor: 'mallory', rerunBy: ['release-bot'] }), ['bot', 'defaults']],
    ['a known change its `unless` does not spare: the rule alone', strict([prod]), facts({ environment: 'production', changedFiles: ['src/a.ts'] }), ['production']],
    ['a known change its `unless` spares: the defaults', strict([prod]), facts({ environment: 'production', changedFiles: ['docs/a.md'] }), ['defaults']],
    ['an unknown change set its `unless` cannot spare: the defaults too', strict([prod]), facts({ environment: 'production', ...unknown }), ['production', 'defaults']],
    ['a rule matched for certain beside one on the worst case: no defaults', strict([docs, { ...bot, if: { action: ['deploy'] } }]), facts(unknown), ['docs', 'bot']],
  ];
  test.each(rows)('%s', (_case, p, f, asked) => {
    const decision = evaluate(p, f);
    expect(decision.outcome).toBe('approval_required');
    expect(decision.requirements.map((r) => r.rule ?? 'defaults')).toEqual(asked);
  });

  test('the decision says why the defaults apply beside a rule that matched', () => {
    expect(evaluate(strict([docs]), facts(unknown)).summary).toContain('2 approvals from @acme/security (defaults: no rule matched for certain)');
    expect(evaluate(strict([docs]), facts({ changedFiles: ['src/a.ts'] })).summary).toContain('2 approvals from @acme/security (defaults: no rule matched)');
  });

  test('unmatched: approve lets the worst case match the rule alone, as before', () => {
    const decision = evaluate(policy([docs]), facts(unknown));
    expect(decision.requirements.map((r) => r.rule ?? 'defaults')).toEqual(['docs']);
  });
});

describe('fail closed', () => {
  test('an unknown severity in the request blocks instead of skipping the gate', () => {
    const p = policy([{ name: 'sev', if: { severity: { atLeast: 'high' } }, require: { approvals: 1, approvers: [team('sre')] } }]);
    const decision = evaluate(p, facts({ severity: 'Critical' }));
    expect(decision.outcome).toBe('blocked');
    expect(decision.problems).toEqual(["severity `Critical` is not one of the policy's severities (low < medium < high < critical)"]);
  });

  test('an invalid glob in a rule that did not match still blocks', () => {
    const p = policy([{ name: 'bad', if: { action: ['other'], branch: ['['] } }]);
    expect(evaluate(p, facts({ branch: 'main' })).outcome).toBe('blocked');
  });

  test.each<[string, Conditions, Partial<RequestFacts>]>([
    ['environment', { environment: ['[Y-b]rod'] }, { environment: '_rod' }],
    ['action', { action: ['[Y-b]eploy'] }, { action: '_eploy' }],
    ['labels', { labels: ['[Y-b]lock'] }, { labels: ['_lock'] }],
  ])('a glob of the %s valid only before it is lowercased still blocks', (_key, conditions, requestFacts) => {
    // `[Y-b]` is a range; `[y-b]`, as the case-insensitive match reads it, is not.
    const p = policy([{ name: 'gate', if: conditions, require: { approvals: 1, approvers: [team('sre')] } }]);
    expect(evaluate(p, facts(requestFacts)).outcome).toBe('blocked');
  });

  test('a zero approval count still needs one approval', () => {
    const p = policy([{ name: 'z', require: { approvals: 0, approvers: [team('x')] } }]);
    expect(evaluate(p, facts()).requirements[0].approvals).toBe(1);
  });

  const unsatisfiable: [string, Policy, RequestFacts, OwnersLookup | undefined, string][] = [
    ['only codeowners, no CODEOWNERS file', policy([{ name: 'r', require: { approvers: [CODEOWNERS] } }]), facts(), undefined, 'there is no CODEOWNERS file'],
    ['only codeowners, every file unowned', policy([{ name: 'r', require: { approvers: [CODEOWNERS] } }]), facts({ changedFiles: ['x/y'] }), owners([['/docs/', '@alice']]), 'no changed file has a code owner'],
    ['the only listed user is the requester', policy([{ name: 'r', require: { approvers: [user('requester')] } }]), facts(), undefined, 'the requester @requester may not approve their own request'],
    ['an owned group whose only owner is the requester', policy([{ name: 'r', require: { approvers: [CODEOWNERS, team('leads')] } }]), facts({ changedFiles: ['src/app.ts', 'infra/main.tf'] }), owners([['*', '@acme/web'], ['/infra/', '@requester']]), 'need an approval from one of their owners'],
    ['an owned group whose only owner is an e-mail address', policy([{ name: 'r', require: { approvers: [CODEOWNERS, team('leads')] } }]), facts({ changedFiles: ['infra/main.tf'] }), owners([['/infra/', 'ops@example.com']]), 'an e-mail owner cannot be matched'],
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
    ['a time escalation adds approvers later', policy([{ name: 'r', require: { approvers: [CODEOWNERS] }, escalate: [esc({ afterSeconds: 1800, alsoEligible: [team('oncall')] })] }]), facts(), undefined],
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
  const later = esc({ location: at(25), afterSeconds: 1800, notify: ['pager'], alsoEligible: [team('sre-oncall')] });

  test('a condition escalation adds a requirement that must be met as well as the rule\'s', () => {
    const decision = evaluate(production([critical, later]), facts({ environment: 'production', severity: 'critical' }));
    expect(decision.requirements).toHaveLength(2);
    const [own, security] = decision.requirements;
    expect(own).toMatchObject({ rule: 'production', escalation: null, approvals: 1, approvers: { codeowners: 'each_group', teams: ['@acme/leads'] } });
    expect(security).toMatchObject({
      rule: 'production',
      escalation: { location: at(20), reason: 'severity `critical` is one of `critical`' },
      approvals: 2,
      approvers: { codeowners: false, teams: ['@acme/security'] },
    });
    expect(decision.summary).toBe(
      'Approval required: 1 approval from a code owner of each group of changed files (@acme/leads count towards the total, not in an owner\'s place) (rule `production`); and 2 approvals from @acme/security (rule `production` (escalation at line 20))',
    );
    expect(decision.notify).toEqual(['slack-deploys', 'security-pager']);
  });

  test('two code owners cannot ship a critical change without security: the escalation never widens the rule\'s approvers', () => {
    const decision = evaluate(production([critical]), facts({ environment: 'production', severity: 'critical' }));
    expect(decision.requirements[0].approvers.teams).toEqual(['@acme/leads']);
    expect(decision.requirements[0].approvals).toBe(1);
  });

  test('a condition escalation that does not hold changes nothing and says why', () => {
    const decision = evaluate(production([critical]), facts({ environment: 'production', severity: 'high' }));
    expect(decision.requirements).toHaveLength(1);
    expect(decision.requirements[0]).toMatchObject({ approvals: 1, escalation: null });
    expect(decision.rules[0].escalations[0]).toMatchObject({ kind: 'condition', applied: false, reason: 'not applied: severity `high` is not one of `critical`' });
    expect(decision.notify).toEqual(['slack-deploys']);
  });

  test('what an escalation\'s requirement leaves out comes from the rule\'s own', () => {
    const p = policy([{ name: 'r', require: { approvals: 3, approvers: [team('a')] }, escalate: [esc({ if: { action: ['deploy'] }, require: { approvals: 4 } }), esc({ if: { action: ['deploy'] }, require: { approvers: [team('b')] } })] }]);
    const [own, more, other] = evaluate(p, facts()).requirements;
    expect(own).toMatchObject({ approvals: 3, approvers: { teams: ['@acme/a'] } });
    expect(more).toMatchObject({ approvals: 4, approvers: { teams: ['@acme/a'] } });
    expect(other).toMatchObject({ approvals: 3, approvers: { teams: ['@acme/b'] } });
  });

  test('a condition escalation turns an auto-approving rule into a requirement', () => {
    const p = policy([{ name: 'docs', autoApprove: true, escalate: [esc({ if: { severity: { atLeast: 'high' } }, require: { approvals: 1, approvers: [team('docs-leads')] } })] }]);
    expect(evaluate(p, facts({ severity: 'low' })).outcome).toBe('auto_approve');
    const decision = evaluate(p, facts({ severity: 'high' }));
    expect(decision.outcome).toBe('approval_required');
    expect(decision.rules[0].effect).toBe('require');
    expect(decision.requirements).toHaveLength(1);
    expect(decision.requirements[0]).toMatchObject({ approvals: 1, approvers: { codeowners: false, teams: ['@acme/docs-leads'] } });
    expect(decision.requirements[0].escalation).not.toBeNull();
  });

  test('an escalation with only a count on an auto-approving rule asks the default approvers', () => {
    const p = policy([{ name: 'docs', autoApprove: true, escalate: [esc({ if: { action: ['deploy'] }, require: { approvals: 2 } })] }], {
      defaults: { ...policy([]).defaults, approvers: [team('reviewers')] },
    });
    expect(evaluate(p, facts()).requirements[0]).toMatchObject({ approvals: 2, approvers: { teams: ['@acme/reviewers'] } });
  });

  test('time escalations are passed through for the App to schedule, on the rule\'s own requirement only', () => {
    const decision = evaluate(production([critical, later]), facts({ environment: 'production', severity: 'critical' }));
    const [own, security] = decision.requirements;
    expect(own.scheduled).toEqual([
      { location: at(25), afterSeconds: 1800, notify: ['pager'], approvers: { codeowners: false, owners: [], ownerGroups: [], teams: ['@acme/sre-oncall'], users: [], roles: [] } },
    ]);
    // The on-call may stand in for a lead, never for security.
    expect(security.escalation).not.toBeNull();
    expect(security.scheduled).toEqual([]);
    expect(own.approvers.teams).toEqual(['@acme/leads']);
    expect(decision.rules[0].escalations[1]).toMatchObject({ kind: 'time', applied: true, reason: 'scheduled after 30m' });
  });

  test('on an auto-approving rule that an escalation made require approval, a time escalation only notifies', () => {
    const addsLeads = esc({ if: { severity: { atLeast: 'high' } }, require: { approvals: 1, approvers: [team('docs-leads')] } });
    const silent = esc({ location: at(30), afterSeconds: 600, alsoEligible: [team('sre-oncall')] });
    const decision = evaluate(policy([{ name: 'docs', autoApprove: true, escalate: [addsLeads, later, silent] }]), facts({ severity: 'high' }));
    expect(decision.requirements).toHaveLength(1);
    expect(decision.requirements[0].scheduled).toEqual([{ location: at(25), afterSeconds: 1800, notify: ['pager'], approvers: emptyApproverSet() }]);
    expect(decision.rules[0].escalations.slice(1)).toEqual([
      expect.objectContaining({ kind: 'time', applied: true, reason: "scheduled after 30m (to notify only: also_eligible widens only the rule's own requirement, and this rule auto-approves, so it has none)" }),
      expect.objectContaining({ kind: 'time', applied: false, reason: "not scheduled: also_eligible widens only the rule's own requirement, and this rule auto-approves, so it has none" }),
    ]);
  });

  test('a time escalation on an auto-approving rule is not scheduled', () => {
    const p = policy([{ name: 'docs', autoApprove: true, escalate: [later] }]);
    const decision = evaluate(p, facts());
    expect(decision.outcome).toBe('auto_approve');
    expect(decision.rules[0].escalations[0]).toMatchObject({ applied: false, reason: expect.stringContaining('auto-approves') });
  });
});

describe('code owners', () => {
  const lookup = owners([['*', '@acme/web'], ['/payments/', '@acme/payments'], ['*.md', '@acme/docs']]);
  const gated = (approver: ApproverRef) => policy([{ name: 'r', require: { approvals: 1, approvers: [approver] } }]);

  test('`codeowners` needs each group of changed files covered: touching one .md does not let docs approve payments', () => {
    const decision = evaluate(gated(CODEOWNERS), facts({ changedFiles: ['payments/charge.ts', 'payments/README.md', 'README.md'] }), { codeowners: lookup });
    expect(decision.requirements[0].approvers).toMatchObject({
      codeowners: 'each_group',
      owners: ['@acme/payments', '@acme/docs'],
      ownerGroups: [
        { owners: ['@acme/payments'], patterns: ['/payments/'], fileCount: 1 },
        { owners: ['@acme/docs'], patterns: ['*.md'], fileCount: 2 },
      ],
    });
  });

  test('every requirement shares one frozen list of owner groups, not a copy each', () => {
    const p = policy([
      { name: 'a', require: { approvals: 1, approvers: [CODEOWNERS] } },
      { name: 'b', require: { approvals: 2, approvers: [CODEOWNERS, team('leads')] } },
    ]);
    const decision = evaluate(p, facts({ changedFiles: ['payments/charge.ts', 'README.md'] }), { codeowners: lookup });
    const [a, b] = decision.requirements.map((r) => r.approvers.ownerGroups);
    expect(a).toHaveLength(2);
    expect(b).toBe(a);
    expect(Object.isFrozen(a) && a.every((g) => Object.isFrozen(g) && Object.isFrozen(g.owners) && Object.isFrozen(g.patterns))).toBe(true);
    // The summary's groups stay the evaluator's own: freezing the shared ones does not reach them.
    expect(Object.isFrozen(decision.codeowners?.groups[0].owners)).toBe(false);
  });

  test('`codeowners:any` is the union: any owner of any changed file', () => {
    const decision = evaluate(gated({ kind: 'codeowners', any: true }), facts({ changedFiles: ['payments/charge.ts', 'README.md'] }), { codeowners: lookup });
    expect(decision.requirements[0].approvers).toMatchObject({ codeowners: 'any', owners: ['@acme/payments', '@acme/docs'], ownerGroups: [] });
  });

  test('an unknown change set: the catch-all rule\'s owners stand for every file', () => {
    const unknown = facts({ changedFiles: [], unknownChanges: 'no earlier run was approved' });
    const decision = evaluate(gated(CODEOWNERS), unknown, { codeowners: lookup });
    expect(decision.outcome).toBe('approval_required');
    expect(decision.codeowners).toMatchObject({ unknownChanges: 'no earlier run was approved', groups: [{ owners: ['@acme/web'], rules: [{ pattern: '*', line: 1 }] }] });
    expect(decision.requirements[0].approvers.ownerGroups).toEqual([{ owners: ['@acme/web'], patterns: ['*'], fileCount: 0 }]);
  });

  test('a redeploy that changes nothing: the catch-all rule\'s owners stand for it', () => {
    const decision = evaluate(gated(CODEOWNERS), facts({ changedFiles: [] }), { codeowners: lookup });
    expect(decision.outcome).toBe('approval_required');
    expect(decision.requirements[0].approvers.ownerGroups).toEqual([{ owners: ['@acme/web'], patterns: ['*'], fileCount: 0 }]);
  });

  test('an unknown change set without a catch-all rule is blocked: nobody can say who owns the change', () => {
    const decision = evaluate(gated(CODEOWNERS), facts({ changedFiles: [], unknownChanges: 'a force push' }), { codeowners: owners([['/payments/', '@acme/payments']]) });
    expect(decision.outcome).toBe('blocked');
    expect(decision.problems[0]).toContain('the changed files are unknown (a force push) and CODEOWNERS has no catch-all rule');
  });
});

describe('an unknown change set', () => {
  const docsOnly: Partial<Rule> = { name: 'docs-only', if: { onlyPaths: ['docs/**'] }, autoApprove: true };
  const infra: Partial<Rule> = { name: 'infra', if: { paths: ['infra/**'] }, require: { approvers: [team('sre')] } };
  const unknown = facts({ changedFiles: [], unknownChanges: 'no earlier run was approved' });

  test('never satisfies an auto-approve condition', () => {
    const decision = evaluate(policy([docsOnly]), unknown);
    expect(decision.rules[0].matched).toBe(false);
    expect(decision.rules[0].conditions[0].reason).toContain('never satisfies a condition that loosens the gate');
  });

  test('always satisfies a requiring one, and the decision says why', () => {
    const decision = evaluate(policy([docsOnly, infra]), unknown);
    expect(decision.outcome).toBe('approval_required');
    expect(decision.rules[1]).toMatchObject({ matched: true, effect: 'require' });
    expect(decision.rules[1].conditions[0].reason).toBe(
      'paths `infra/**`: the changed files are unknown (no earlier run was approved), so it holds: an unknown change set always satisfies a condition that requires approval',
    );
  });

  test('satisfies a condition escalation (it tightens) but not a time escalation\'s condition (it loosens)', () => {
    const p = policy([{ name: 'r', require: { approvers: [team('a')] }, escalate: [
      esc({ if: { paths: ['db/**'] }, require: { approvers: [team('dba')] } }),
      esc({ if: { onlyPaths: ['docs/**'] }, afterSeconds: 60, alsoEligible: [team('docs')] }),
    ] }]);
    const decision = evaluate(p, unknown);
    expect(decision.requirements.map((r) => r.approvers.teams)).toEqual([['@acme/a'], ['@acme/dba']]);
    expect(decision.requirements[0].scheduled).toEqual([]);
  });
});

describe('unless: a requiring rule carves out what needs no approval', () => {
  const production: Partial<Rule> = { name: 'production', if: { environment: ['production'] }, unless: { onlyPaths: ['docs/**'] }, require: { approvers: [team('sre')] } };

  test('does not apply to a change made only of docs', () => {
    const decision = evaluate(policy([production]), facts({ environment: 'production', changedFiles: ['docs/a.md'] }));
    expect(decision.outcome).toBe('auto_approve');
    expect(decision.rules[0]).toMatchObject({ matched: false, effect: 'none', unless: [{ key: 'onlyPaths', matched: true }] });
  });

  test('applies when anything else changed', () => {
    expect(evaluate(policy([production]), facts({ environment: 'production', changedFiles: ['docs/a.md', 'src/a.ts'] })).outcome).toBe('approval_required');
  });

  test('applies when the change set is unknown: holding `unless` would loosen the gate', () => {
    const decision = evaluate(policy([production]), facts({ environment: 'production', changedFiles: [], unknownChanges: 'first deploy' }));
    expect(decision.outcome).toBe('approval_required');
    expect(decision.rules[0].unless?.[0].reason).toContain('never satisfies a condition that loosens the gate');
  });

  test('on an auto-approving rule it tightens: an unknown change set takes the auto-approval away', () => {
    const staging: Partial<Rule> = { name: 'staging', if: { environment: ['staging'] }, unless: { paths: ['infra/**'] }, autoApprove: true };
    const p = policy([staging], { unmatched: 'require', defaults: { ...policy([]).defaults, approvers: [team('sre')] } });
    expect(evaluate(p, facts({ environment: 'staging', changedFiles: ['src/a.ts'] })).outcome).toBe('auto_approve');
    expect(evaluate(p, facts({ environment: 'staging', changedFiles: ['infra/a.tf'] })).outcome).toBe('approval_required');
    expect(evaluate(p, facts({ environment: 'staging', changedFiles: [], unknownChanges: 'x' })).outcome).toBe('approval_required');
  });
});

describe('severity', () => {
  const critical: Partial<Rule> = { name: 'critical', if: { severity: { atLeast: 'critical' } }, require: { approvers: [team('security')] } };

  test('a request that states no severity has none: its severity conditions are judged as the worst case', () => {
    const decision = evaluate(policy([critical]), facts());
    expect(decision.outcome).toBe('approval_required');
    expect(decision.facts).toMatchObject({ severityAssumed: true });
    expect(decision.facts.severity).toBeUndefined();
  });

  describe('leaving the severity out never dodges a severity condition that tightens the gate, nor meets one that loosens it', () => {
    const leads = { approvals: 1, approvers: [team('leads')] };
    const high: Partial<Rule> = { name: 'high', if: { severity: { anyOf: ['high'] } }, require: leads };
    const production: Partial<Rule> = {
      name: 'production',
      if: { environment: ['production'] },
      require: leads,
      escalate: [esc({ if: { severity: { anyOf: ['high'] } }, require: { approvals: 1, approvers: [team('security')] } })],
    };
    const exceptLow: Partial<Rule> = { name: 'except-low', unless: { severity: { anyOf: ['low'] } }, require: leads };
    const low: Partial<Rule> = { name: 'low', if: { severity: { anyOf: ['low'] } }, autoApprove: true };
    const requireLeads = (rules: Partial<Rule>[]) => policy(rules, { unmatched: 'require', defaults: { ...policy([]).defaults, approvers: [team('leads')] } });
    const oncallLater: Partial<Rule> = { ...production, escalate: [esc({ if: { severity: { anyOf: ['low'] } }, afterSeconds: 600, alsoEligible: [team('oncall')] })] };
    /** [case, policy, severity stated (undefined: none), outcome, requirements] */
    const rows: [string, Policy, string | undefined, string, number][] = [
      ['a requiring rule on an exact name applies', policy([high]), undefined, 'approval_required', 1],
      ['…as it does to that severity stated', policy([high]), 'high', 'approval_required', 1],
      ['…and not to a more severe one stated: the author listed the names', policy([high]), 'critical', 'auto_approve', 0],
      ['a condition escalation on an exact name applies', policy([production]), undefined, 'approval_required', 2],
      ['…and not to a stated severity it does not name', policy([production]), 'critical', 'approval_required', 1],
      ['`unless` on the lowest does not spare it', policy([exceptLow]), undefined, 'approval_required', 1],
      ['…though it spares that severity stated', policy([exceptLow]), 'low', 'auto_approve', 0],
      ['an auto-approving rule on the lowest does not match', requireLeads([low]), undefined, 'approval_required', 1],
      ['…though it matches that severity stated', requireLeads([low]), 'low', 'auto_approve', 0],
      ['the policy\'s defaults.severity is taken as stated', policy([high], { defaults: { ...policy([]).defaults, severity: 'critical' } }), undefined, 'auto_approve', 0],
    ];
    test.each(rows)('%s', (_case, p, severity, outcome, requirements) => {
      const decision = evaluate(p, facts({ environment: 'production', ...(severity ? { severity } : {}) }));
      expect(decision.outcome).toBe(outcome);
      expect(decision.requirements).toHaveLength(requirements);
    });

    test('an auto-approving rule on the lowest is not matched, whatever else applies', () => {
      expect(evaluate(policy([low]), facts()).rules[0]).toMatchObject({ name: 'low', matched: false, effect: 'none' });
      expect(evaluate(policy([low]), facts({ severity: 'low' })).rules[0]).toMatchObject({ name: 'low', matched: true, effect: 'auto_approve' });
    });

    test('a time escalation on a severity (it lets more people approve) is not scheduled', () => {
      const [rule] = evaluate(policy([oncallLater]), facts({ environment: 'production' })).rules;
      expect(rule.escalations[0]).toMatchObject({ kind: 'time', applied: false });
      expect(evaluate(policy([oncallLater]), facts({ environment: 'production', severity: 'low' })).rules[0].escalations[0]).toMatchObject({ kind: 'time', applied: true });
    });

    test('with unmatched: require, a rule matched only on the missing severity stands beside the defaults', () => {
      const decision = evaluate(requireLeads([{ ...high, require: { approvals: 2, approvers: [team('sre')] } }]), facts());
      expect(decision.requirements.map((r) => [r.rule, r.worstCase ?? false])).toEqual([['high', false], [null, true]]);
      expect(decision.summary).toContain('defaults: no rule matched for certain');
    });
  });

  test('or the policy\'s defaults.severity', () => {
    const p = policy([critical], { defaults: { ...policy([]).defaults, severity: 'medium' } });
    const decision = evaluate(p, facts());
    expect(decision.outcome).toBe('auto_approve');
    expect(decision.facts).toMatchObject({ severity: 'medium', severityAssumed: true });
  });

  test('a severity the policy does not list is blocked even when no rule reads severity', () => {
    const decision = evaluate(policy([{ name: 'any', if: { action: ['deploy'] }, autoApprove: true }]), facts({ severity: 'Critical' }));
    expect(decision.outcome).toBe('blocked');
    expect(decision.problems).toEqual(['severity `Critical` is not one of the policy\'s severities (low < medium < high < critical)']);
  });
});

describe('environment names ignore case, as on GitHub', () => {
  test('`Production` matches a rule for `production`', () => {
    const p = policy([{ name: 'prod', if: { environment: ['production', 'prod-*'] }, require: { approvers: [team('sre')] } }]);
    expect(evaluate(p, facts({ environment: 'Production' })).outcome).toBe('approval_required');
    expect(evaluate(p, facts({ environment: 'PROD-EU' })).outcome).toBe('approval_required');
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
  test('each rule that requires approval says its own timeout; one that auto-approves says none', () => {
    const decision = evaluate(policy(rows[3]![1]), facts());
    expect(decision.rules.map((rule) => rule.timeoutSeconds)).toEqual([7200, undefined, undefined]);
    expect(evaluate(policy(rows[2]![1]), facts()).rules.map((rule) => rule.timeoutSeconds)).toEqual([7200, 600, 3600]);
  });

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

  test("a condition escalation's requirement is someone else's unless the escalation itself allows self-approval, whatever the rule does", () => {
    const critical = (allowSelfApproval?: boolean): Escalation => ({
      location: { file: 'p.yml', line: 9, col: 9 },
      if: { severity: { anyOf: ['critical'] } },
      require: { approvers: [team('security')] },
      notify: [],
      ...(allowSelfApproval !== undefined ? { allowSelfApproval } : {}),
    });
    const decide = (escalation: Escalation) =>
      evaluate(policy([{ require: { approvers: [team('leads')] }, allowSelfApproval: true, escalate: [escalation] }]), facts({ severity: 'critical' })).requirements.map((r) => r.allowSelfApproval);
    expect(decide(critical())).toEqual([true, false]);
    expect(decide(critical(true))).toEqual([true, true]);
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
      codeowners: 'each_group',
      owners: ['@acme/sre', '@carol', '@dave', '@acme/everyone'],
      ownerGroups: [
        { owners: ['@acme/sre', '@carol'], patterns: ['/infra/', '/infra/dns/'], fileCount: 2 },
        { owners: ['@dave'], patterns: ['/docs/'], fileCount: 1 },
        { owners: ['@acme/everyone'], patterns: ['*'], fileCount: 1 },
      ],
      teams: [],
      users: ['erin'],
      roles: ['admin'],
    });
    // Each file once, however often the change lists it; the request states no severity, and has none.
    expect(decision.facts).toEqual({ action: 'deploy', actor: 'requester', changedFileCount: 5, severityAssumed: true });
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
