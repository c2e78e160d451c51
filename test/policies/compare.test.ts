import { describe, expect, test } from '@jest/globals';
import { parseCodeowners } from '../../policies/codeowners.js';
import { classify, comparePolicies, compareWindows, comparisonTable, namedSituations, rulesBeyondSituations, windowTable, type Change } from '../../policies/compare.js';
import { evaluate } from '../../policies/evaluate.js';
import { loadPolicy } from '../../policies/loader.js';
import type { Policy, RequestFacts } from '../../policies/types.js';

const codeowners = parseCodeowners('* @acme/web\n/payments/ @acme/payments\n*.md @acme/docs\n', 'CODEOWNERS');
const facts: RequestFacts = { action: 'deploy', environment: 'production', severity: 'high', actor: 'bob', changedFiles: ['payments/charge.ts', 'README.md'] };

/** A policy with one production rule: `require` as written in YAML, any more lines of the rule, and `defaults` (a flow mapping's entries). */
function policy(require: string, more = '', defaults = ''): Policy {
  const loaded = loadPolicy(`version: 1\n${defaults ? `defaults: { ${defaults} }\n` : ''}rules:\n  - name: production\n    if: { environment: production }\n    require: ${require}\n${more}`, 'p.yml');
  if (!loaded.ok) throw new Error(loaded.diagnostics.map((d) => `${d.line}:${d.col}: ${d.message}`).join('\n'));
  return loaded.policy;
}

const decide = (p: Policy) => evaluate(p, facts, { codeowners });
const security = (n: number) => `{ approvals: ${n}, approvers: ["@acme/security"] }`;
const WIDENED_AFTER_A_MINUTE = '    escalate:\n      - after: 1m\n        also_eligible: ["role:write"]\n';
const HIGH_NEEDS_SECURITY = '    escalate:\n      - if: { severity: { at_least: high } }\n        require: { approvers: ["@acme/security"] }\n';

describe('classify: how a decision changed', () => {
  const rows: [string, Policy, Policy, Change][] = [
    ['the same requirement', policy(security(1)), policy(security(1)), 'same'],
    ['a team widened to everyone with write permission, at the same count', policy(security(1)), policy('{ approvals: 1, approvers: ["role:write"] }'), 'looser'],
    ['everyone with write permission narrowed to a team', policy('{ approvals: 1, approvers: ["role:write"] }'), policy(security(1)), 'stricter'],
    ['a team added beside the old one', policy(security(1)), policy('{ approvals: 1, approvers: ["@acme/security", "@acme/leads"] }'), 'looser'],
    ['a team taken away', policy('{ approvals: 1, approvers: ["@acme/security", "@acme/leads"] }'), policy(security(1)), 'stricter'],
    ['one team for another', policy(security(1)), policy('{ approvals: 1, approvers: ["@acme/leads"] }'), 'changed'],
    ['a user for a team', policy('{ approvals: 1, approvers: [alice] }'), policy(security(1)), 'changed'],
    ['a user added', policy('{ approvals: 1, approvers: [alice] }'), policy('{ approvals: 1, approvers: [alice, carol] }'), 'looser'],
    ['two from alice or carol where one from alice was enough: alice must approve either way', policy('{ approvals: 1, approvers: [alice] }'), policy('{ approvals: 2, approvers: [alice, carol] }'), 'stricter'],
    ['one from alice where two from alice or carol were needed', policy('{ approvals: 2, approvers: [alice, carol] }'), policy('{ approvals: 1, approvers: [alice] }'), 'looser'],
    ['two from alice or a team where one from alice was enough', policy('{ approvals: 1, approvers: [alice] }'), policy('{ approvals: 2, approvers: [alice, "@acme/leads"] }'), 'changed'],
    ['more approvals from the same people', policy(security(1)), policy(security(2)), 'stricter'],
    ['fewer approvals from the same people', policy(security(2)), policy(security(1)), 'looser'],
    ['fewer approvals from more people', policy(security(2)), policy('{ approvals: 1, approvers: ["role:write"] }'), 'looser'],
    ['more approvals from more people', policy(security(1)), policy('{ approvals: 2, approvers: ["role:write"] }'), 'changed'],
    ['a lower role', policy('{ approvals: 1, approvers: ["role:maintain"] }'), policy('{ approvals: 1, approvers: ["role:write"] }'), 'looser'],
    ['a higher role', policy('{ approvals: 1, approvers: ["role:write"] }'), policy('{ approvals: 1, approvers: ["role:maintain"] }'), 'stricter'],
    ['any code owner becomes one for each group', policy('{ approvers: ["codeowners:any"] }'), policy('{ approvers: [codeowners] }'), 'stricter'],
    ['one code owner for each group becomes any', policy('{ approvers: [codeowners] }'), policy('{ approvers: ["codeowners:any"] }'), 'looser'],
    ['a team added beside the code owners', policy('{ approvers: [codeowners] }'), policy('{ approvers: [codeowners, "@acme/leads"] }'), 'looser'],
    ['code owners of each group added beside a team', policy('{ approvers: ["@acme/leads"] }'), policy('{ approvers: [codeowners, "@acme/leads"] }'), 'changed'],
    ['a condition escalation adds a requirement', policy('{ approvers: ["@acme/leads"] }'), policy('{ approvers: ["@acme/leads"] }', HIGH_NEEDS_SECURITY), 'stricter'],
    ['a condition escalation taken away', policy('{ approvers: ["@acme/leads"] }', HIGH_NEEDS_SECURITY), policy('{ approvers: ["@acme/leads"] }'), 'looser'],
    ['a time escalation lets anyone with write permission approve after a minute', policy(security(1)), policy(security(1), WIDENED_AFTER_A_MINUTE), 'looser'],
    ['that time escalation taken away', policy(security(1), WIDENED_AFTER_A_MINUTE), policy(security(1)), 'stricter'],
    ['the requesters may approve their own request', policy(security(1)), policy(security(1), '    allow_self_approval: true\n'), 'looser'],
    ['the requesters may no longer approve their own request', policy(security(1), '    allow_self_approval: true\n'), policy(security(1)), 'stricter'],
    ['approvers need a lower permission', policy(security(1), '', 'min_permission: admin'), policy(security(1)), 'looser'],
    ['approvers need a higher permission', policy(security(1)), policy(security(1), '', 'min_permission: maintain'), 'stricter'],
  ];
  test.each(rows)('%s', (_case, before, after, change) => {
    expect(classify(decide(before), decide(after))).toBe(change);
  });

  test('outcomes: auto-approval, blocked, and no policy before', () => {
    const auto = loadPolicy('version: 1\nrules: []\n', 'p.yml');
    const blocked = policy('{ approvals: 2, approvers: [alice] }');
    if (!auto.ok) throw new Error('invalid');
    expect(classify(decide(auto.policy), decide(policy(security(1))))).toBe('stricter');
    expect(classify(decide(policy(security(1))), decide(auto.policy))).toBe('looser');
    expect(classify(decide(policy(security(1))), decide(blocked))).toBe('blocked');
    expect(classify(decide(blocked), decide(policy(security(1))))).toBe('unblocked');
    expect(classify(null, decide(policy(security(1))))).toBe('changed');
    expect(classify(null, decide(blocked))).toBe('blocked');
  });
});

describe('comparePolicies and the table', () => {
  test('a widened team at the same count is a looser row, listed before a stricter one', () => {
    const before = policy(security(1), '  - name: staging\n    if: { environment: staging }\n    require: { approvers: ["@acme/leads"] }\n');
    const after = policy('{ approvals: 1, approvers: ["role:write"] }', '  - name: staging\n    if: { environment: staging }\n    require: { approvals: 2, approvers: ["@acme/leads"] }\n');
    const comparisons = comparePolicies({ policy: before }, { policy: after }, namedSituations([before, after]).filter((s) => s.facts.severity === 'low'));
    expect(comparisons.map((c) => [c.situation.label, c.change])).toEqual([
      ['deploy to production, severity low', 'looser'],
      ['deploy to staging, severity low', 'stricter'],
      ['deploy (no environment), severity low', 'same'],
    ]);
    const rows = comparisonTable(comparisons).split('\n').filter((line) => /^\| (looser|stricter) /.test(line));
    expect(rows).toEqual([
      '| looser | `deploy to production, severity low` | 1 from @acme/security (rule `production`) | 1 from anyone with write permission (rule `production`) |',
      '| stricter | `deploy to staging, severity low` | 1 from @acme/leads (rule `staging`) | 2 from @acme/leads (rule `staging`) |',
    ]);
  });
});

describe('namedSituations: a step that states no severity', () => {
  const RISKY = 'rules:\n  - name: risky\n    if: { environment: production, severity: { at_least: high } }\n    require: { approvals: 2, approvers: ["@acme/sre"] }\n';
  const load = (text: string): Policy => {
    const loaded = loadPolicy(`version: 1\n${text}`, 'p.yml');
    if (!loaded.ok) throw new Error(loaded.diagnostics.map((d) => d.message).join('\n'));
    return loaded.policy;
  };

  test('is played for each action and environment, so a low defaults.severity shows as looser', () => {
    const [before, after] = [load(RISKY), load(`defaults: { severity: low }\n${RISKY}`)];
    const situations = namedSituations([before, after]);
    expect(situations.filter((s) => s.facts.severity === undefined).map((s) => s.label)).toEqual(['deploy to production, severity not stated', 'deploy (no environment), severity not stated']);
    const changed = comparePolicies({ policy: before }, { policy: after }, situations).filter((c) => c.change !== 'same');
    expect(changed.map((c) => [c.situation.label, c.change, c.before?.text, c.after.text])).toEqual([
      ['deploy to production, severity not stated', 'looser', '2 from @acme/sre (rule `risky`)', 'no approval needed'],
    ]);
  });

  test('the named situations stay within their cap', () => {
    const environments = Array.from({ length: 30 }, (_, i) => `env${i}`);
    expect(namedSituations([load(`rules:\n  - name: many\n    if: { environment: [${environments.join(', ')}] }\n`)])).toHaveLength(60);
  });
});

describe('rulesBeyondSituations: rule changes the named situations cannot show', () => {
  const load = (rules: string): Policy => {
    const loaded = loadPolicy(`version: 1\nrules:\n${rules}`, 'p.yml');
    if (!loaded.ok) throw new Error(loaded.diagnostics.map((d) => d.message).join('\n'));
    return loaded.policy;
  };
  const PRODUCTION = '  - name: production\n    if: { environment: production }\n    require: { approvers: ["@acme/security"] }\n';
  const ON_MAIN = (n: number) => `  - name: main\n    if: { environment: production, branch: main }\n    require: { approvals: ${n}, approvers: ["role:write"] }\n`;
  const INFRA = (n: number) => `  - name: infra\n    if: { paths: ["infra/**"] }\n    require: { approvals: ${n}, approvers: ["@acme/sre"] }\n`;
  const DOCS = (glob: string) => `  - name: docs\n    if: { only_paths: ["${glob}"] }\n    auto_approve: true\n`;
  const GLOBBED = (effect: string) => `  - name: prod\n    if: { environment: "prod*" }\n    ${effect}\n`;
  const rows: [string, string, string, ReturnType<typeof rulesBeyondSituations>][] = [
    ['a rule for a glob of environments, which names none, turned to auto-approve', GLOBBED('require: { approvals: 2, approvers: ["@acme/sre"] }'), GLOBBED('auto_approve: true'), [{ rule: 'prod', change: 'changed', reads: ['environment'] }]],
    ['an `unless` on the actor added to a requiring rule', PRODUCTION, PRODUCTION.replace('    require', '    unless: { actor: "*" }\n    require'), [{ rule: 'production', change: 'changed', reads: ['actor'] }]],
    ['an `unless` on the changed paths added', PRODUCTION, PRODUCTION.replace('    require', '    unless: { only_paths: ["**"] }\n    require'), [{ rule: 'production', change: 'changed', reads: ['only_paths'] }]],
    ['fewer approvals on a rule for one branch, which no situation is on', ON_MAIN(2), ON_MAIN(1), [{ rule: 'main', change: 'changed', reads: ['branch'] }]],
    ["an auto-approving rule's paths widened", DOCS('docs/**'), DOCS('**'), [{ rule: 'docs', change: 'changed', reads: ['only_paths'] }]],
    ['a rule on labels removed', `${PRODUCTION}  - name: hotfix\n    if: { labels: [hotfix] }\n    auto_approve: true\n`, PRODUCTION, [{ rule: 'hotfix', change: 'removed', reads: ['labels'] }]],
    ['an escalation on the event added', PRODUCTION, `${PRODUCTION}    escalate:\n      - if: { event: workflow_dispatch }\n        require: { approvers: ["@acme/leads"] }\n`, [{ rule: 'production', change: 'changed', reads: ['event'] }]],
    // The situations judge the change set as any change, which a requiring rule's paths always match: the table shows it.
    ["fewer approvals on a requiring rule's paths", INFRA(2), INFRA(1), []],
    ['the same rules', ON_MAIN(1), ON_MAIN(1), []],
  ];
  test.each(rows)('%s', (_name, before, after, expected) => {
    expect(rulesBeyondSituations(load(before), load(after))).toEqual(expected);
  });

  test('a rule for one branch that takes its requirement from the defaults changes with them', () => {
    const withDefaults = (defaults: string) => {
      const loaded = loadPolicy(`version: 1\ndefaults: { ${defaults} }\nrules:\n  - name: main\n    if: { branch: main }\n`, 'p.yml');
      if (!loaded.ok) throw new Error(loaded.diagnostics.map((d) => d.message).join('\n'));
      return loaded.policy;
    };
    const before = withDefaults('approvals: 2, approvers: ["@acme/sre"], min_permission: maintain');
    expect(rulesBeyondSituations(before, withDefaults('approvals: 1, approvers: ["@acme/sre"], min_permission: maintain'))).toEqual([{ rule: 'main', change: 'changed', reads: ['branch'] }]);
    expect(rulesBeyondSituations(before, withDefaults('approvals: 2, approvers: ["@acme/sre"], min_permission: write'))).toEqual([{ rule: 'main', change: 'changed', reads: ['branch'] }]);
    expect(rulesBeyondSituations(before, withDefaults('approvals: 2, approvers: ["@acme/sre"], min_permission: maintain'))).toEqual([]);
  });

  test('a rule moved down the file is the same rule', () => {
    const before = load(`${PRODUCTION}${ON_MAIN(1)}`);
    const after = load(`${ON_MAIN(1)}${PRODUCTION}`);
    expect(after.rules[1]!.location).not.toEqual(before.rules[0]!.location);
    expect(rulesBeyondSituations(before, after)).toEqual([]);
  });

  test('nothing before: every decision is new, and the table shows them', () => {
    expect(rulesBeyondSituations(null, load(ON_MAIN(1)))).toEqual([]);
  });
});

describe('compareWindows: freezes and deploy windows, whatever the time', () => {
  /** A policy with these freezes and deploy windows (YAML list bodies; empty: none). */
  function windowed(freezes: string[], deployWindows: string[] = []): Policy {
    const list = (key: string, items: string[]) => (items.length > 0 ? `${key}:\n${items.map((item) => `  - ${item}\n`).join('')}` : '');
    const loaded = loadPolicy(`version: 1\nrules: []\n${list('freezes', freezes)}${list('deploy_windows', deployWindows)}`, 'p.yml');
    if (!loaded.ok) throw new Error(loaded.diagnostics.map((d) => `${d.line}:${d.col}: ${d.message}`).join('\n'));
    return loaded.policy;
  }
  const NEW_YEAR = '{ name: new-year, time_zone: Europe/Berlin, start: 2026-12-21, end: 2027-01-04, if: { environment: production, action: deploy } }';
  const FRIDAYS = '{ name: fridays, time_zone: UTC, cron: { start: "0 17 * * 5", end: "0 8 * * 1" } }';
  const OFFICE = '{ name: office, time_zone: Europe/London, cron: { start: "0 9 * * 1-5", end: "0 17 * * 1-5" } }';
  const LATE = '{ name: late, time_zone: Europe/London, cron: { start: "0 20 * * 1-5", end: "0 22 * * 1-5" } }';
  const effects = (before: Policy | null, after: Policy) => compareWindows(before, after).map((c) => `${c.kind} ${c.name} ${c.change}: ${c.effect}`);

  const rows: [string, Policy | null, Policy, string[]][] = [
    ['the same windows', windowed([NEW_YEAR, FRIDAYS], [OFFICE]), windowed([FRIDAYS, NEW_YEAR], [OFFICE]), []],
    ['the same scope written in another order', windowed([NEW_YEAR]), windowed([NEW_YEAR.replace('environment: production, action: deploy', 'action: deploy, environment: production')]), []],
    ['a freeze removed', windowed([NEW_YEAR, FRIDAYS]), windowed([FRIDAYS]), ['freeze new-year removed: looser']],
    ['a freeze added', windowed([FRIDAYS]), windowed([FRIDAYS, NEW_YEAR]), ['freeze new-year added: stricter']],
    ['a freeze moved', windowed([FRIDAYS]), windowed([FRIDAYS.replace('0 17 * * 5', '0 18 * * 5')]), ['freeze fridays changed: changed']],
    ["a freeze's scope widened", windowed([NEW_YEAR]), windowed([NEW_YEAR.replace(', action: deploy', '')]), ['freeze new-year changed: changed']],
    ["a freeze's mode changed", windowed([FRIDAYS]), windowed([`${FRIDAYS.slice(0, -2)}, mode: reject }`]), ['freeze fridays changed: changed']],
    ['the first deploy window', windowed([]), windowed([], [OFFICE]), ['deploy window office added: stricter']],
    ['a deploy window beside another', windowed([], [OFFICE]), windowed([], [OFFICE, LATE]), ['deploy window late added: looser']],
    ['one of two deploy windows removed', windowed([], [OFFICE, LATE]), windowed([], [OFFICE]), ['deploy window late removed: stricter']],
    ['the last deploy window removed', windowed([], [OFFICE]), windowed([]), ['deploy window office removed: looser']],
    ['no valid policy before', null, windowed([FRIDAYS]), ['freeze fridays added: stricter']],
  ];
  test.each(rows)('%s', (_case, before, after, expected) => {
    expect(effects(before, after)).toEqual(expected);
  });

  test('the table shows each window as written, the looser first', () => {
    const table = windowTable(compareWindows(windowed([NEW_YEAR]), windowed([FRIDAYS])));
    expect(table.split('\n')).toEqual([
      '| Change | Freeze or deploy window | Before | After |',
      '|---|---|---|---|',
      '| looser | freeze `new-year` removed | from 2026-12-21 to 2027-01-04 Europe/Berlin, if {"action":["deploy"],"environment":["production"]}, mode wait | — |',
      '| stricter | freeze `fridays` added | — | from cron `0 17 * * 5` to cron `0 8 * * 1` UTC, mode wait |',
    ]);
    expect(windowTable([])).toBe('');
  });

  test('removing a freeze that is not on now changes no decision, and is still reported', () => {
    const before = windowed([NEW_YEAR]);
    const after = windowed([]);
    const summer = Date.parse('2026-07-01T12:00:00Z');
    const comparisons = comparePolicies({ policy: before }, { policy: after }, namedSituations([before, after]), summer);
    expect(comparisons.every((c) => c.change === 'same')).toBe(true);
    expect(effects(before, after)).toEqual(['freeze new-year removed: looser']);
  });
});

describe('namedSituations: actions and environments an `unless` names', () => {
  const load = (text: string): Policy => {
    const loaded = loadPolicy(`version: 1\n${text}`, 'p.yml');
    if (!loaded.ok) throw new Error(loaded.diagnostics.map((d) => d.message).join('\n'));
    return loaded.policy;
  };
  const ALL = (unless: string) => `rules:\n  - name: all\n${unless}    require: { approvals: 2, approvers: ["@acme/sre"] }\n`;

  test('`unless: { environment: production }` added to a rule for every request shows production as looser', () => {
    const [before, after] = [load(ALL('')), load(ALL('    unless: { environment: production }\n'))];
    const changed = comparePolicies({ policy: before }, { policy: after }, namedSituations([before, after])).filter((c) => c.change !== 'same');
    expect(changed.map((c) => [c.situation.label, c.change])).toContainEqual(['deploy to production, severity not stated', 'looser']);
    expect(rulesBeyondSituations(before, after).length + changed.length).toBeGreaterThan(0);
  });

  test('an action only an `unless` names is played', () => {
    const [before, after] = [load(`${ALL('')}  - name: release\n    if: { action: release }\n    require: { approvals: 1, approvers: ["@acme/leads"] }\n`), load(`${ALL('    unless: { action: deploy }\n')}  - name: release\n    if: { action: release }\n    require: { approvals: 1, approvers: ["@acme/leads"] }\n`)];
    const changed = comparePolicies({ policy: before }, { policy: after }, namedSituations([before, after])).filter((c) => c.change !== 'same');
    expect(changed.map((c) => [c.situation.label, c.change])).toContainEqual(['deploy (no environment), severity not stated', 'looser']);
  });
});
