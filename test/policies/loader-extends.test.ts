import { describe, expect, test } from '@jest/globals';
import { evaluate } from '../../policies/evaluate.js';
import { formatDiagnostic, loadPolicy, readExtends, type LoadResult } from '../../policies/loader.js';
import type { Policy } from '../../policies/types.js';

const REPO = '.github/jit-approval.yml';
const BASE = 'acme/.github:.github/jit-approval.yml';
const yaml = (...lines: string[]) => `${lines.join('\n')}\n`;

function merge(base: string, repo: string): LoadResult {
  return loadPolicy(repo, REPO, { base: { file: BASE, text: base } });
}

function merged(base: string, repo: string): { policy: Policy; warnings: string[] } {
  const result = merge(base, repo);
  if (!result.ok) throw new Error(result.diagnostics.map(formatDiagnostic).join('\n'));
  return { policy: result.policy, warnings: result.warnings.map(formatDiagnostic) };
}

function errors(base: string, repo: string): string[] {
  const result = merge(base, repo);
  expect(result).not.toHaveProperty('policy');
  return result.ok ? [] : result.diagnostics.map(formatDiagnostic);
}

describe('readExtends', () => {
  test.each([
    ['.github', { repo: '.github', path: '.github/jit-approval.yml' }],
    ['policies', { repo: 'policies', path: '.github/jit-approval.yml' }],
    ['policies:org/deploy.yml', { repo: 'policies', path: 'org/deploy.yml' }],
    ['acme-corp/policies:deploy.yml', { owner: 'acme-corp', repo: 'policies', path: 'deploy.yml' }],
  ])('_extends: %s', (reference, expected) => {
    const result = readExtends(yaml('version: 1', `_extends: "${reference}"`), REPO);
    expect(result).toEqual({ ok: true, ref: { ...expected, location: { file: REPO, line: 2, col: 11 } } });
  });

  test('no _extends: nothing to fetch', () => {
    expect(readExtends('version: 1\n', REPO)).toEqual({ ok: true });
    expect(readExtends('- a list\n', REPO)).toEqual({ ok: true });
  });

  test.each([
    ['a path escaping the repository', '_extends: "policies:../secrets.yml"', '2:11', 'without "." or ".." segments'],
    ['an absolute path', '_extends: "policies:/etc/passwd"', '2:11', 'relative to the repository root'],
    ['not a reference', '_extends: "two words"', '2:11', 'not a repository reference'],
    ['not a string', '_extends: [.github]', '2:11', 'expected a string, got a list'],
    ['broken YAML (reported where the parser gives up)', '_extends: ".github', '3:1', 'YAML syntax error'],
    ['an empty file', '', '1:1', 'empty'],
  ])('%s is a located error', (_name, line, position, fragment) => {
    const result = readExtends(line === '' ? '' : yaml('version: 1', line), REPO);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(`${result.diagnostics[0].line}:${result.diagnostics[0].col}`).toBe(position);
      expect(result.diagnostics[0].message).toContain(fragment);
    }
  });
});

describe('_extends merge precedence', () => {
  test('severities, unmatched and each default: the repository overrides the org, key by key', () => {
    const { policy, warnings } = merged(
      yaml('version: 1', 'severities: [minor, major]', 'defaults: { approvals: 2, timeout: 2h, reminder: 10m }', 'unmatched: approve'),
      yaml('version: 1', '_extends: .github', 'defaults: { timeout: 30m, min_permission: admin }', 'unmatched: require'),
    );
    expect(warnings).toEqual([]);
    expect(policy.severities).toEqual(['minor', 'major']);
    expect(policy.unmatched).toBe('require');
    expect(policy.defaults).toEqual({
      approvals: 2,
      approvers: [{ kind: 'codeowners' }],
      timeoutSeconds: 1800,
      allowSelfApproval: false,
      allowBots: false,
      minPermission: 'admin',
      reminderSeconds: 600,
    });
    expect(merged('version: 1\n', yaml('version: 1', 'severities: [a, b, c]')).policy.severities).toEqual(['a', 'b', 'c']);
  });

  test.each([
    ['unmatched: require', 'unmatched: require', 'unmatched: approve', (p: Policy) => p.unmatched, 'require', '3:12', 'unmatched: approve is ignored'],
    [
      'min_permission: maintain',
      'defaults: { min_permission: maintain }',
      'defaults: { min_permission: write }',
      (p: Policy) => p.defaults.minPermission,
      'maintain',
      '3:29',
      'min_permission: write is ignored: the org policy (acme/.github:.github/jit-approval.yml:2:29) requires maintain',
    ],
    ['allow_bots: false', 'defaults: { allow_bots: false }', 'defaults: { allow_bots: true }', (p: Policy) => p.defaults.allowBots, false, '3:25', 'allow_bots: true is ignored'],
    ['severity', 'defaults: { severity: high }', 'defaults: { severity: low }', (p: Policy) => p.defaults.severity, 'high', '3:23', 'severity: low is ignored: the org policy assumes `high`'],
    [
      'severity, left out (a request that states none has none)',
      'defaults: { approvals: 1 }',
      'defaults: { severity: critical }',
      (p: Policy) => p.defaults.severity,
      undefined,
      '3:23',
      'severity: critical is ignored: the org policy sets no `defaults.severity`, so a request that states none meets every severity condition that tightens the gate',
    ],
  ])('a repository cannot loosen an org %s: the stricter value stays, with a located warning', (_name, baseLine, repoLine, read, expected, position, fragment) => {
    const { policy, warnings } = merged(yaml('version: 1', baseLine), yaml('version: 1', '_extends: .github', repoLine));
    expect(read(policy)).toBe(expected);
    // The repository's `allow_bots: true` is also linted in its own file (no bot can approve anyway).
    const floors = warnings.filter((w) => !w.includes('no bot can approve'));
    expect(warnings.length - floors.length).toBe(repoLine.includes('allow_bots: true') ? 1 : 0);
    expect(floors).toHaveLength(1);
    expect(floors[0]).toContain(`${REPO}:${position}: `);
    expect(floors[0]).toContain(fragment);
  });

  describe("the org's unmatched: require covers every request no org rule matched, with the org's defaults", () => {
    const ORG = yaml(
      'version: 1',
      'unmatched: require',
      'defaults: { approvals: 2, approvers: ["@acme/leads"], timeout: 4h }',
      'rules:',
      '  - name: org-prod',
      '    if: { environment: production }',
      '    require: { approvers: ["@acme/sre"] }',
    );
    const decide = (repo: string, environment = 'staging') =>
      evaluate(merged(ORG, yaml('version: 1', '_extends: .github', ...repo.split('\n'))).policy, { action: 'deploy', environment, actor: 'mallory', changedFiles: ['docs/a.md'] });
    const leads = { approvals: 2, approvers: expect.objectContaining({ teams: ['@acme/leads'] }), allowSelfApproval: false, org: true };

    test.each([
      ['a repository rule that auto-approves everything', 'rules:\n  - name: anything\n    auto_approve: true'],
      ['a repository rule that asks the requester alone', 'rules:\n  - name: mine\n    require: { approvals: 1, approvers: [mallory] }\n    allow_self_approval: true'],
      ['repository defaults naming the requester, self-approval allowed', 'defaults: { approvals: 1, approvers: [mallory], allow_self_approval: true }'],
    ])('%s adds to it, never replaces it', (_case, repo) => {
      const decision = decide(repo);
      expect(decision.outcome).toBe('approval_required');
      expect(decision.requirements).toContainEqual(expect.objectContaining({ rule: null, ...leads }));
      expect(decision.summary).toContain("2 approvals from @acme/leads (the org's defaults: no org rule matched)");
      expect(decision.timeoutSeconds).toBeLessThanOrEqual(4 * 3600);
    });

    test('a repository rule that auto-approves is warned about: it lets nothing through', () => {
      expect(merged(ORG, yaml('version: 1', '_extends: .github', 'rules:', '  - name: docs', '    if: { only_paths: ["docs/**"] }', '    auto_approve: true')).warnings).toContainEqual(
        `${REPO}:6:19: rule "docs" lets nothing through: the org policy (${BASE}:2:12) sets unmatched: require, which asks for the org's default approval of every request no org rule matches, whatever this file's rules say`,
      );
    });

    test('an org rule that matched stands in for it, and an unchanged default is asked once', () => {
      expect(decide('rules:\n  - name: anything\n    auto_approve: true', 'production').requirements).toEqual([expect.objectContaining({ rule: 'org-prod' })]);
      const alone = decide('rules: []');
      expect(alone.requirements).toEqual([expect.objectContaining({ rule: null, approvals: 2 })]);
      expect(alone.requirements[0]).not.toHaveProperty('org');
    });
  });

  test.each([
    ['written the other way round', 'severities: [critical, high, medium, low]', "the org's high < critical must keep that order here"],
    ['with a level above the org\'s highest', 'severities: [low, medium, high, critical, sev0]', "`sev0` would rank above `critical`, the org's highest severity"],
    ['without the org\'s highest', 'severities: [low, medium, high]', ''],
  ])('a repository cannot reorder the severities the org names: %s is refused', (_case, line, problem) => {
    const org = yaml('version: 1', 'rules:', '  - name: org-prod', '    if: { severity: { at_least: high } }', '    escalate:', '      - if: { severity: critical }', '        require: { approvers: ["@acme/security"] }');
    const found = errors(org, yaml('version: 1', '_extends: .github', line));
    expect(found).toHaveLength(1);
    expect(found[0]).toContain(problem || 'unknown severity "critical"');
    if (problem) expect(found[0]).toBe(`${REPO}:3:13: severities: ${problem} (the org policy, ${BASE}:1:1); a repository can tighten the org policy, not loosen it`);
  });

  test("a repository cannot move one of the org's severities below another that an org rule compares it with", () => {
    // The org writes no `severities`, so its order is the built-in one, where high ranks above medium.
    const org = yaml('version: 1', 'rules:', '  - name: org-prod', '    if: { environment: production, severity: { at_least: medium } }', '    require: { approvers: ["@acme/sre"] }');
    const repo = yaml('version: 1', '_extends: .github', 'severities: [low, high, medium, critical]');
    const found = errors(org, repo);
    expect(found).toEqual([
      `${REPO}:3:13: severities: the org's low < medium < high < critical must keep that order here (the org policy, ${BASE}:1:1); a repository can tighten the org policy, not loosen it`,
    ]);
  });

  describe("a repository's own severity between two that an org condition lists by name", () => {
    // With the org's order, `[high, critical]` is every severity from high up. A repository that put
    // `urgent` between them would take a step stating `urgent` out of the org's gate.
    const orgRule = yaml('version: 1', 'rules:', '  - name: org-high', '    if: { environment: production, severity: [high, critical] }', '    require: { approvals: 2, approvers: ["@acme/sre"] }');
    const orgFreeze = yaml('version: 1', 'freezes:', '  - name: big-changes', '    time_zone: UTC', '    cron: { start: "0 0 * * *", end: "0 0 * * *" }', '    if:', '      severity:', '        - high', '        - critical');
    const orgUnless = yaml('version: 1', 'rules:', '  - name: org-prod', '    if: { environment: production }', '    unless: { severity: [low, medium] }', '    require: { approvers: ["@acme/sre"] }');

    test.each([
      ["an org rule's `if`", orgRule, 'severities: [low, medium, high, urgent, critical]', '`urgent` would rank between `high` and `critical`', `${BASE}:4:46`],
      ["an org freeze's scope", orgFreeze, 'severities: [low, medium, high, urgent, critical]', '`urgent` would rank between `high` and `critical`', `${BASE}:8:9`],
      ["an org rule's `unless`", orgUnless, 'severities: [low, minor, medium, high, critical]', '`minor` would rank between `low` and `medium`', `${BASE}:5:25`],
    ])('in %s is refused', (_case, org, line, between, condition) => {
      expect(errors(org, yaml('version: 1', '_extends: .github', line))).toEqual([
        `${REPO}:3:13: severities: ${between}, which a condition of the org policy lists by name (${condition}): a request that states it would meet that condition under neither name; rank it below them, or have the org write { at_least } (the org policy, ${BASE}:1:1); a repository can tighten the org policy, not loosen it`,
      ]);
    });

    test('below or outside the names the condition lists is not', () => {
      const policy = merged(orgRule, yaml('version: 1', '_extends: .github', 'severities: [trivial, low, urgent, medium, high, critical]')).policy;
      expect(policy.severities).toHaveLength(6);
      const decision = evaluate(policy, { action: 'deploy', environment: 'production', severity: 'critical', changedFiles: ['a'] });
      expect(decision.requirements).toEqual([expect.objectContaining({ rule: 'org-high', approvals: 2 })]);
    });
  });

  test('a repository may add severities below the org\'s highest, and name its own when the org names none', () => {
    const org = yaml('version: 1', 'rules:', '  - name: org-prod', '    if: { severity: { at_least: high } }');
    expect(merged(org, yaml('version: 1', '_extends: .github', 'severities: [trivial, low, medium, high, urgent, critical]')).policy.severities).toHaveLength(6);
    expect(merged('version: 1\n', yaml('version: 1', '_extends: .github', 'severities: [p3, p2, p1]')).policy.severities).toEqual(['p3', 'p2', 'p1']);
  });

  test('what the org leaves unsaid, the repository decides', () => {
    const { policy, warnings } = merged('version: 1\n', yaml('version: 1', 'defaults: { allow_bots: true }', 'unmatched: approve'));
    expect(warnings).toEqual([expect.stringMatching(new RegExp(`^${REPO}:2:25: .*no bot can approve`))]);
    expect(policy.defaults.allowBots).toBe(true);
    expect(policy.unmatched).toBe('approve');
  });

  test("rules: the org's come first and are kept, the repository's are appended, each located in its own file", () => {
    const { policy } = merged(
      yaml('version: 1', 'rules:', '  - name: org-prod', '    if: { environment: production }'),
      yaml('version: 1', '_extends: .github', 'rules:', '  - name: docs', '    if: { paths: "docs/**" }', '    auto_approve: true'),
    );
    expect(policy.rules.map((r) => [r.name, `${r.location.file}:${r.location.line}:${r.location.col}`])).toEqual([
      ['org-prod', `${BASE}:3:5`],
      ['docs', `${REPO}:4:5`],
    ]);
  });

  test("org rules are sealed with the org's defaults: a repository's defaults cannot weaken them", () => {
    const { policy } = merged(
      yaml(
        'version: 1',
        'defaults: { approvals: 2, approvers: ["@acme/security"], timeout: 4h }',
        'rules:',
        '  - name: org-prod',
        '    if: { environment: production }',
        '    escalate:',
        '      - if: { severity: critical }',
        '        require: { approvals: 3 }',
        '  - name: org-docs',
        '    if: { paths: "docs/**" }',
        '    auto_approve: true',
        '    escalate:',
        '      - if: { severity: critical }',
        '        require: { approvals: 1 }',
        '      - after: 1h',
        '        notify: [pager]',
      ),
      yaml('version: 1', 'defaults: { approvals: 1, approvers: [mallory], timeout: 5m, allow_self_approval: true }', 'rules:', '  - name: repo-rule'),
    );
    const [orgProd, orgDocs, repoRule] = policy.rules;
    const security = [{ kind: 'team', org: 'acme', slug: 'security' }];
    expect(orgProd.require).toEqual({ approvals: 2, approvers: security });
    // An escalation's requirement takes what it leaves out from the org rule's own (sealed), so it stays as written.
    expect(orgProd.escalate[0].require).toEqual({ approvals: 3 });
    expect(orgProd.timeoutSeconds).toBe(4 * 3600);
    expect(orgProd.allowSelfApproval).toBe(false);
    expect(orgDocs.require).toBeUndefined();
    expect(orgDocs.autoApprove).toBe(true);
    // On an auto-approving rule an escalation's requirement starts from the defaults: the org's.
    expect(orgDocs.escalate[0].require).toEqual({ approvals: 1, approvers: security });
    expect(orgDocs.escalate[1]).not.toHaveProperty('require');
    // The repository's own rules and the unmatched case do use the repository's defaults.
    expect(repoRule.require).toBeUndefined();
    expect(repoRule).not.toHaveProperty('timeoutSeconds');
    expect(policy.defaults).toMatchObject({ approvals: 1, approvers: [{ kind: 'user', login: 'mallory' }], timeoutSeconds: 300, allowSelfApproval: true });
  });

  test("a repository rule reusing an org rule's name is an error at the repository rule, naming the org rule", () => {
    expect(
      errors(yaml('version: 1', 'rules:', '  - name: production', '    require: { approvals: 2 }'), yaml('version: 1', '_extends: .github', 'rules:', '  - name: production', '    auto_approve: true')),
    ).toEqual([
      `${REPO}:4:11: rules[0].name: rule name "production" is already used by the org policy at ${BASE}:3:11; org rules cannot be overridden or removed, so choose another name`,
    ]);
  });

  test('only one level: a base that itself uses _extends is an error in the base file', () => {
    expect(errors(yaml('version: 1', '_extends: enterprise-policies'), yaml('version: 1', '_extends: .github'))).toEqual([
      `${BASE}:2:11: _extends: the org policy cannot itself use _extends; only one level of _extends is supported`,
    ]);
  });

  test('problems in the base file name the base file; problems in both files are all reported', () => {
    expect(
      errors(
        yaml('version: 1', 'rules:', '  - name: org', '    if: { branch: "{main" }'),
        yaml('version: 1', '_extends: .github', 'defaults: { timeout: forever }'),
      ),
    ).toEqual([
      `${REPO}:3:22: defaults.timeout: invalid duration "forever": expected a number with a unit s, m, h, d or w (for example 30m, 1h or 1h30m)`,
      `${BASE}:4:19: rules[0].if.branch: invalid glob "{main": unclosed "{"`,
    ]);
  });

  test("an org rule naming a severity that the repository's severities dropped is an error in the base file", () => {
    expect(
      errors(
        yaml('version: 1', 'rules:', '  - name: org', '    if: { severity: { at_least: high } }'),
        yaml('version: 1', '_extends: .github', 'severities: [p3, p2, p1]'),
      ),
    ).toEqual([
      `${BASE}:4:33: rules[0].if.severity.at_least: unknown severity "high". Severities are: p3, p2, p1 (from ${REPO}:3:13)`,
    ]);
  });

  test('an invalid base never yields a policy, even when the repository file is fine', () => {
    const result = merge('version: 2\n', 'version: 1\n');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.diagnostics.map((d) => d.file)).toEqual([BASE]);
  });
});
