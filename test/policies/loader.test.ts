import { describe, expect, test } from '@jest/globals';
import { formatDiagnostic, loadPolicy, type LoadOptions } from '../../policies/loader.js';
import type { Policy, PolicyDiagnostic } from '../../policies/types.js';

const FILE = '.github/jit-approval.yml';
const yaml = (...lines: string[]) => `${lines.join('\n')}\n`;

function mustLoad(text: string, options?: LoadOptions): Policy {
  const result = loadPolicy(text, FILE, options);
  if (!result.ok) throw new Error(`expected a valid policy, got:\n${result.diagnostics.map(formatDiagnostic).join('\n')}`);
  expect(result.warnings).toEqual([]);
  return result.policy;
}

function mustFail(text: string | Uint8Array, options?: LoadOptions): PolicyDiagnostic[] {
  const result = loadPolicy(text, FILE, options);
  expect(result).not.toHaveProperty('policy');
  if (result.ok) throw new Error('expected diagnostics, got a policy');
  return result.diagnostics;
}

const builtInDefaults = {
  approvals: 1,
  approvers: [{ kind: 'codeowners' }],
  timeoutSeconds: 3600,
  allowSelfApproval: false,
  allowBots: false,
  minPermission: 'write',
};

describe('loadPolicy: valid policies normalise', () => {
  test('a bare version gets every default', () => {
    expect(mustLoad('version: 1\n')).toEqual({
      version: 1,
      severities: ['low', 'medium', 'high', 'critical'],
      defaults: builtInDefaults,
      unmatched: 'approve',
      rules: [],
    });
  });

  test('defaults: durations in seconds, approvers parsed', () => {
    const loaded = loadPolicy(
      yaml(
        'version: 1',
        'defaults:',
        '  approvals: 2',
        '  approvers: [codeowners, "@acme/leads", "@alice", bob, "role:maintain", "renovate[bot]"]',
        '  timeout: 1h30m',
        '  allow_self_approval: true',
        '  allow_bots: true',
        '  min_permission: maintain',
        '  reminder: 15m',
        'unmatched: require',
      ),
      FILE,
    );
    if (!loaded.ok) throw new Error(loaded.diagnostics.map(formatDiagnostic).join('\n'));
    const { policy } = loaded;
    // Loaded as written, and said to have no effect: no path lets a bot vote.
    expect(loaded.warnings.map(formatDiagnostic)).toEqual([`${FILE}:7:15: no bot can approve, whatever \`allow_bots\` says: the App takes no \`/approve\` or \`/reject\` from a bot's comment, and a check run's buttons and the dashboard are used by people`]);
    expect(policy.defaults).toEqual({
      approvals: 2,
      approvers: [
        { kind: 'codeowners' },
        { kind: 'team', org: 'acme', slug: 'leads' },
        { kind: 'user', login: 'alice' },
        { kind: 'user', login: 'bob' },
        { kind: 'role', role: 'maintain' },
        { kind: 'user', login: 'renovate[bot]' },
      ],
      timeoutSeconds: 5400,
      allowSelfApproval: true,
      allowBots: true,
      minPermission: 'maintain',
      reminderSeconds: 900,
    });
    expect(policy.unmatched).toBe('require');
  });

  test.each([
    ['a single string', 'severity: critical', { anyOf: ['critical'] }],
    ['a list', 'severity: [high, critical]', { anyOf: ['high', 'critical'] }],
    ['at_least', 'severity: { at_least: medium }', { atLeast: 'medium' }],
  ])('severity as %s', (_name, line, expected) => {
    const policy = mustLoad(yaml('version: 1', 'rules:', '  - name: r', '    if:', `      ${line}`));
    expect(policy.rules[0].if.severity).toEqual(expected);
  });

  test('conditions: single strings become lists, target_branch becomes targetBranch', () => {
    const policy = mustLoad(
      yaml(
        'version: 1',
        'unmatched: require',
        'rules:',
        '  - name: every-condition',
        '    if:',
        '      action: deploy',
        '      environment: [production, "prod-*"]',
        '      branch: main',
        '      target_branch: "release/**"',
        '      paths: ["infra/**", "db/migrations/**"]',
        '      event: push',
        '      actor: "*"',
        '      labels: [hotfix]',
      ),
    );
    expect(policy.rules[0].if).toEqual({
      action: ['deploy'],
      environment: ['production', 'prod-*'],
      branch: ['main'],
      targetBranch: ['release/**'],
      paths: ['infra/**', 'db/migrations/**'],
      event: ['push'],
      actor: ['*'],
      labels: ['hotfix'],
    });
  });

  test('a full rule: requirement, escalations by condition and by time, notify, timeout, self-approval', () => {
    const policy = mustLoad(
      yaml(
        'version: 1',
        'rules:',
        '  - name: production',
        '    if: { environment: production }',
        '    require: { approvals: 1, approvers: [codeowners, "@acme/team-leads"] }',
        '    escalate:',
        '      - if: { severity: critical }',
        '        require: { approvals: 2, approvers: ["@acme/security"] }',
        '      - after: 30m',
        '        notify: [pager]',
        '        also_eligible: ["@acme/sre-oncall"]',
        '    notify: [slack-deploys]',
        '    timeout: 2h',
        '    allow_self_approval: true',
      ),
    );
    expect(policy.rules).toEqual([
      {
        name: 'production',
        location: { file: FILE, line: 3, col: 5 },
        if: { environment: ['production'] },
        require: { approvals: 1, approvers: [{ kind: 'codeowners' }, { kind: 'team', org: 'acme', slug: 'team-leads' }] },
        autoApprove: false,
        escalate: [
          {
            location: { file: FILE, line: 7, col: 9 },
            if: { severity: { anyOf: ['critical'] } },
            require: { approvals: 2, approvers: [{ kind: 'team', org: 'acme', slug: 'security' }] },
            notify: [],
          },
          {
            location: { file: FILE, line: 9, col: 9 },
            afterSeconds: 1800,
            alsoEligible: [{ kind: 'team', org: 'acme', slug: 'sre-oncall' }],
            notify: ['pager'],
          },
        ],
        notify: ['slack-deploys'],
        timeoutSeconds: 7200,
        allowSelfApproval: true,
      },
    ]);
  });

  test("a condition escalation's allow_self_approval is kept, and only the escalation's says whether the requesters count towards what it adds", () => {
    const withEscalation = (...lines: string[]) =>
      mustLoad(
        yaml(
          'version: 1',
          'rules:',
          '  - name: production',
          '    require: { approvers: ["@acme/leads"] }',
          '    escalate:',
          '      - if: { severity: critical }',
          '        require: { approvers: ["@acme/security"] }',
          ...lines,
        ),
      );
    expect(withEscalation('        allow_self_approval: true').rules[0].escalate[0]).toMatchObject({ allowSelfApproval: true });
    expect(withEscalation('        allow_self_approval: false').rules[0].escalate[0]).toMatchObject({ allowSelfApproval: false });
    expect(withEscalation().rules[0].escalate[0]).not.toHaveProperty('allowSelfApproval');
  });

  test('auto_approve rule, rule without if, partial requirement: nothing invented', () => {
    const policy = mustLoad(
      yaml(
        'version: 1',
        'rules:',
        '  - name: docs',
        '    if: { environment: staging, only_paths: "docs/**" }',
        '    auto_approve: true',
        '  - name: everything',
        '    if: { environment: production }',
        '    require: { approvals: 3 }',
      ),
    );
    expect(policy.rules.map(({ name, if: conditions, autoApprove, require, escalate, notify }) => ({ name, conditions, autoApprove, require, escalate, notify }))).toEqual([
      { name: 'docs', conditions: { environment: ['staging'], onlyPaths: ['docs/**'] }, autoApprove: true, require: undefined, escalate: [], notify: [] },
      { name: 'everything', conditions: { environment: ['production'] }, autoApprove: false, require: { approvals: 3 }, escalate: [], notify: [] },
    ]);
    expect(policy.rules[1]).not.toHaveProperty('timeoutSeconds');
    expect(policy.rules[1]).not.toHaveProperty('allowSelfApproval');
  });

  test("custom severities are ordered as written and used by the file's conditions", () => {
    const policy = mustLoad(yaml('version: 1', 'severities: [sev3, sev2, sev1]', 'rules:', '  - name: r', '    if: { severity: { at_least: sev2 } }'));
    expect(policy.severities).toEqual(['sev3', 'sev2', 'sev1']);
    expect(policy.rules[0].if.severity).toEqual({ atLeast: 'sev2' });
  });

  test('notifier names are free when the caller does not pass knownNotifiers, checked when it does', () => {
    const text = yaml('version: 1', 'rules:', '  - name: r', '    notify: [slack-deploys]');
    expect(mustLoad(text).rules[0].notify).toEqual(['slack-deploys']);
    expect(mustLoad(text, { knownNotifiers: ['slack-deploys', 'pager'] }).rules[0].notify).toEqual(['slack-deploys']);
  });

  test('aliases are expanded; bytes are decoded as UTF-8; CRLF line endings work', () => {
    const text = yaml('version: 1', 'defaults:', '  timeout: &t 45m', '  reminder: *t');
    expect(mustLoad(text).defaults).toMatchObject({ timeoutSeconds: 2700, reminderSeconds: 2700 });
    expect(mustLoad(new TextEncoder().encode(text) as unknown as string).defaults.timeoutSeconds).toBe(2700);
    expect(mustLoad(text.replace(/\n/g, '\r\n')).defaults.reminderSeconds).toBe(2700);
  });
});

/** [what, text, options, expected `line:col` → message fragments, in order] */
type ErrorCase = [string, string | Uint8Array, LoadOptions | undefined, [string, ...string[]][]];

const errorCases: ErrorCase[] = [
  ['YAML syntax error', yaml('version: 1', 'rules: [', '  name: x'), undefined, [['4:1', 'YAML syntax error', 'Flow sequence']]],
  [
    'a line indented wrongly is one syntax error, not the parser\'s every complaint about it',
    yaml('version: 1', 'rules:', '  - name: prod', '    if: { environment: production }', '    - require: { approvals: 1 }'),
    undefined,
    [['5:1', 'YAML syntax error: A block sequence may not be used as an implicit map key']],
  ],
  [
    'a key indented less than the keys beside it: reported where it starts, saying where they start',
    yaml('version: 1', 'rules:', '  - name: production', '  if:', '    environment: production'),
    undefined,
    [['4:3', 'YAML syntax error: All mapping items must start at the same column', '`if` starts at column 3, but `name` on line 3 at column 5: start the keys of one mapping in the same column']],
  ],
  [
    'a key indented one space more than the key above it, which YAML reads as the rest of that value',
    yaml('version: 1', 'rules:', '- name: production', '  require:', '    approvals: 2', '     approvers: [codeowners]'),
    undefined,
    [['6:6', 'YAML syntax error: Nested mappings are not allowed in compact mappings', 'line 6 is indented further than `approvals` on line 5, so YAML reads it as the rest of that value: start `approvers` in column 5, as `approvals`']],
  ],
  ['a list as a key, said without the parser\'s option name', yaml('version: 1', '? [a, b]', ': c'), undefined, [['2:3', 'YAML syntax error: a key must be plain text, not a list or a mapping']]],
  [
    'keys meant under an empty key but written beside it',
    yaml('version: 1', 'rules:', '  - name: prod', '    require:', '    approvals: 2'),
    undefined,
    [['4:5', 'rules[0].require: expected a mapping, got nothing; if the lines below it belong to it, indent them under it'], ['5:5', 'rules[0].approvals: unknown key "approvals"']],
  ],
  ['duplicate key', yaml('version: 1', 'unmatched: approve', 'unmatched: require'), undefined, [['3:1', 'duplicate key "unmatched"']]],
  ['several documents', yaml('version: 1', '---', 'version: 1'), undefined, [['2:1', 'single YAML document']]],
  ['an empty file', '', undefined, [['1:1', 'empty', 'version: 1']]],
  ['a comment-only file', '# nothing\n', undefined, [['1:1', 'empty']]],
  ['not a mapping', yaml('- version: 1'), undefined, [['1:1', '(top level): expected a mapping, got a list']]],
  ['no version', yaml('rules: []'), undefined, [['1:1', 'missing required key "version"']]],
  ['version 2', yaml('version: 2'), undefined, [['1:10', 'version: expected 1, got 2']]],
  ['version quoted', yaml('version: "1"'), undefined, [['1:10', 'version: expected the number 1, got the string "1": write it without quotes']]],
  ['a custom tag', yaml('version: !custom 1'), undefined, [['1:10', '!custom', 'custom tags']]],
  [
    'unknown key with a suggestion',
    yaml('version: 1', 'defaults:', '  allow_self_aproval: true'),
    undefined,
    [['3:3', 'defaults.allow_self_aproval: unknown key "allow_self_aproval"; did you mean "allow_self_approval"?', 'Expected one of: approvals,']],
  ],
  [
    'unknown key written in camelCase',
    yaml('version: 1', 'rules:', '  - name: r', '    autoApprove: true'),
    undefined,
    [['4:5', 'rules[0].autoApprove: unknown key', 'did you mean "auto_approve"?']],
  ],
  ['unknown key without a close match', yaml('version: 1', 'colour: red'), undefined, [['2:1', 'unknown key "colour". Expected one of: version, _extends, severities']]],
  ['unknown condition key', yaml('version: 1', 'rules:', '  - name: r', '    if: { environments: prod }'), undefined, [['4:11', 'did you mean "environment"?']]],
  ['wrong type', yaml('version: 1', 'defaults:', '  approvals: "2"'), undefined, [['3:14', 'defaults.approvals: expected a whole number, got "2"']]],
  ['a duration without a unit', yaml('version: 1', 'defaults:', '  timeout: 30'), undefined, [['3:12', 'defaults.timeout: a duration needs a unit: write 30s, or 30m if you meant minutes']]],
  ['YAML syntax that a glob or a login starts with', yaml('version: 1', 'rules:', '  - name: r', '    if: { paths: *.md }'), undefined, [['4:18', 'a value starting with "*" is read as a YAML alias: quote globs, for example "*.md"']]],
  ['a login that YAML reserves', yaml('version: 1', 'defaults: { approvers: [@alice] }'), undefined, [['2:25', 'quote a value that starts with "@", for example "@acme/leads"']]],
  // What follows the closing bracket is reported: an alias (`*`) or a scalar.
  ...[['[abc]*.md', 19], ['{a,b}*.md', 19], ['[docs]/**', 20], ['{a,b}/**', 19]].map(([glob, col]): ErrorCase => [
    `a glob that starts with a bracket or a brace: ${glob}`,
    yaml('version: 1', 'rules:', '  - name: r', '    if:', `      paths: ${glob}`),
    undefined,
    [[`5:${col}`, 'YAML syntax error', 'a value starting with "[" or "{" is read as a YAML list or mapping: quote a glob that starts with one, for example "[abc]*.md"']],
  ]),
  ['a condition written beside if:', yaml('version: 1', 'rules:', '  - name: r', '    paths: ["docs/**"]'), undefined, [['4:5', 'rules[0].paths: "paths" is a condition: put it under "if:"']]],
  ['escalations for escalate', yaml('version: 1', 'rules:', '  - name: r', '    escalations: []'), undefined, [['4:5', 'unknown key "escalations"; did you mean "escalate"?']]],
  ['env for environment: the start of one key only', yaml('version: 1', 'rules:', '  - name: r', '    if: { env: production }'), undefined, [['4:11', 'rules[0].if.env: unknown key "env"; did you mean "environment"?']]],
  ['one approver where a list is wanted', yaml('version: 1', 'rules:', '  - name: r', '    require: { approvers: codeowners }'), undefined, [['4:27', 'rules[0].require.approvers: expected a list, got "codeowners"; write a list: ["codeowners"]']]],
  ['a team without its @', yaml('version: 1', 'rules:', '  - name: r', '    require: { approvers: [acme/dba] }'), undefined, [['4:28', 'invalid approver "acme/dba": a team is written with @, "@acme/dba"']]],
  ['bad enum', yaml('version: 1', 'unmatched: deny'), undefined, [['2:12', 'expected one of: approve, require; got "deny"']]],
  ['min_permission read', yaml('version: 1', 'defaults: { min_permission: read }'), undefined, [['2:29', 'expected one of: write, maintain, admin']]],
  ['approvals below 1', yaml('version: 1', 'rules:', '  - name: r', '    require: { approvals: 0 }'), undefined, [['4:27', 'require.approvals: expected a number of at least 1, got 0']]],
  ['a rule without a name', yaml('version: 1', 'rules:', '  - if: { action: deploy }'), undefined, [['3:5', 'rules[0]: missing required key "name"']]],
  ['a misspelt name is said once, at the misspelling', yaml('version: 1', 'rules:', '  - nmae: r'), undefined, [['3:5', 'rules[0].nmae: unknown key "nmae"; did you mean "name"?']]],
  [
    'a missing name beside an unknown key meant as something else is said too',
    yaml('version: 1', 'rules:', '  - colour: red'),
    undefined,
    [['3:5', 'rules[0]: missing required key "name"'], ['3:5', 'rules[0].colour: unknown key "colour"']],
  ],
  ['an empty condition list', yaml('version: 1', 'rules:', '  - name: r', '    if: { branch: [] }'), undefined, [['4:19', 'expected a list with at least 1 item']]],
  ['duplicate severities', yaml('version: 1', 'severities: [low, high, low]'), undefined, [['2:25', 'severities[2]: duplicate "low" (same as item 1)']]],
  [
    'bad globs',
    yaml('version: 1', 'rules:', '  - name: r', '    if:', '      branch: "!main"', '      paths: ["docs/**", "src/{a,b"]'),
    undefined,
    [
      ['5:15', 'rules[0].if.branch: invalid glob "!main"', 'negation'],
      ['6:26', 'rules[0].if.paths[1]: invalid glob "src/{a,b"', 'unclosed "{"'],
    ],
  ],
  [
    'an alternative written in parentheses, even without a wildcard, is an error, not a name that never matches',
    yaml('version: 1', 'rules:', '  - name: r', '    if:', '      environment: "(production|staging)"', '      paths: ["infra/(main|prod).tf"]'),
    undefined,
    [
      ['5:20', 'rules[0].if.environment: invalid glob "(production|staging)"', 'write "{a,b}"'],
      ['6:15', 'rules[0].if.paths[0]: invalid glob "infra/(main|prod).tf"', 'write "{a,b}"'],
    ],
  ],
  [
    'a glob of a fact that ignores case, valid only before it is lowercased',
    yaml('version: 1', 'rules:', '  - name: r', '    if:', '      environment: "[Y-b]rod"', '      branch: "[Y-b]ranch"'),
    undefined,
    [['5:20', 'rules[0].if.environment: environment ignores case, so `[Y-b]rod` is matched lowercased: invalid glob "[y-b]rod"', 'write the pattern in one case']],
  ],
  [
    'a list written as one string where no value can hold the comma',
    yaml(
      'version: 1',
      'rules:',
      '  - name: r',
      '    if:',
      '      action: deploy,migrate',
      '      event: push, workflow_dispatch',
      '      actor: alice, bob',
      '      branch: main, release/*',
      '      target_branch: ["{main,dev}", "release/1,2"]',
    ),
    undefined,
    [
      ['5:15', 'rules[0].if.action: `deploy,migrate` is one pattern, not a list, and never matches: action names hold no comma; did you mean a list `[deploy, migrate]`?'],
      ['6:14', 'rules[0].if.event: `push, workflow_dispatch` is one pattern', 'event names hold no comma', '`[push, workflow_dispatch]`'],
      ['7:14', 'rules[0].if.actor: `alice, bob` is one pattern', 'logins hold no comma', '`[alice, bob]`'],
      ['8:15', 'rules[0].if.branch: `main, release/*` is one pattern, not a list, and never matches: branch names hold no space; did you mean a list `[main, release/*]`?'],
    ],
  ],
  [
    'bad durations',
    yaml('version: 1', 'defaults: { timeout: 1y }', 'rules:', '  - name: r', '    timeout: 400d', '    escalate:', '      - after: 0m', '        notify: [pager]'),
    undefined,
    [
      ['2:22', 'defaults.timeout: invalid duration "1y"', 'unit s, m, h, d or w'],
      ['5:14', 'rules[0].timeout: duration "400d" is longer than a year'],
      ['7:16', 'rules[0].escalate[0].after: invalid duration "0m": must be longer than zero'],
    ],
  ],
  [
    'unknown severities, with the file\'s own list',
    yaml(
      'version: 1',
      'severities: [sev3, sev2, sev1]',
      'rules:',
      '  - name: r',
      '    if: { severity: { at_least: sev0 } }',
      '    escalate:',
      '      - if: { severity: [sev1, high] }',
      '        notify: [pager]',
      '  - name: s',
      '    if: { severity: sev22 }',
    ),
    undefined,
    [
      ['5:33', 'rules[0].if.severity.at_least: unknown severity "sev0"', 'Severities are: sev3, sev2, sev1'],
      ['7:32', 'rules[0].escalate[0].if.severity[1]: unknown severity "high"'],
      ['10:21', 'unknown severity "sev22"; did you mean "sev2"?'],
    ],
  ],
  [
    'duplicate rule names',
    yaml('version: 1', 'rules:', '  - name: deploy', '    auto_approve: true', '  - name: deploy'),
    undefined,
    [['5:11', 'rules[1].name: duplicate rule name "deploy": already used at .github/jit-approval.yml:3:11']],
  ],
  [
    'malformed approvers',
    yaml('version: 1', 'defaults:', '  approvers: ["role:owner", "@acme/", "not a login", "-dash"]'),
    undefined,
    [
      ['3:15', 'defaults.approvers[0]: "role:owner" is not a role: expected role:admin, role:maintain or role:write'],
      ['3:29', 'defaults.approvers[1]: invalid approver "@acme/"', 'expected codeowners, codeowners:any, @org/team'],
      ['3:39', 'invalid approver "not a login"'],
      ['3:54', 'invalid approver "-dash"'],
    ],
  ],
  [
    'unknown notifiers',
    yaml('version: 1', 'rules:', '  - name: r', '    notify: [pagr, slack-deploys]', '    escalate:', '      - after: 1h', '        notify: [email]'),
    { knownNotifiers: ['pager', 'slack-deploys'] },
    [
      ['4:14', 'rules[0].notify[0]: unknown notifier "pagr"; did you mean "pager"?', 'The App knows: pager, slack-deploys'],
      ['7:18', 'rules[0].escalate[0].notify[0]: unknown notifier "email"'],
    ],
  ],
  ['no notifiers configured', yaml('version: 1', 'rules:', '  - name: r', '    notify: [pager]'), { knownNotifiers: [] }, [['4:14', 'The App has no notifiers configured']]],
  [
    'auto_approve together with require',
    yaml('version: 1', 'rules:', '  - name: r', '    auto_approve: true', '    require: { approvals: 1 }'),
    undefined,
    [['4:19', 'cannot both auto_approve and require']],
  ],
  [
    'escalations that cannot fire or change nothing',
    yaml('version: 1', 'rules:', '  - name: r', '    escalate:', '      - notify: [pager]', '      - after: 1h'),
    undefined,
    [
      ['5:9', 'rules[0].escalate[0]: an escalation needs "if" (a condition) or "after"'],
      ['6:9', 'rules[0].escalate[1]: an escalation needs "require", "also_eligible" or "notify"'],
    ],
  ],
  [
    'escalations that mix up adding a requirement and widening who may approve',
    yaml(
      'version: 1',
      'rules:',
      '  - name: r',
      '    escalate:',
      '      - if: { severity: critical }',
      '        approvers: ["@acme/security"]',
      '      - after: 30m',
      '        require: { approvals: 2 }',
      '      - if: { severity: critical }',
      '        also_eligible: ["@acme/security"]',
      '      - after: 1h',
      '        notify: [pager]',
      '        allow_self_approval: true',
    ),
    undefined,
    [
      ['6:9', 'rules[0].escalate[0].approvers: an escalation has no "approvers": write "require: { approvers: [...] }" (with "if") for people who must approve as well, or "also_eligible: [...]" (with "after")'],
      ['8:18', 'rules[0].escalate[1].require: a time escalation cannot add a requirement'],
      ['10:24', 'rules[0].escalate[2].also_eligible: "also_eligible" lets more people approve once a request has waited, so it needs "after"'],
      ['13:30', 'rules[0].escalate[3].allow_self_approval: "allow_self_approval" on an escalation says whether the requesters count towards the requirement it adds, so it needs "require" (with "if")'],
    ],
  ],
  [
    'plain codeowners in also_eligible, which cannot mean one owner per group there',
    yaml(
      'version: 1',
      'rules:',
      '  - name: payments',
      '    require: { approvers: ["@acme/payments-leads"] }',
      '    escalate:',
      '      - after: 30m',
      '        also_eligible: ["@acme/sre", codeowners]',
      '      - after: 1h',
      '        also_eligible: ["codeowners:any"]',
    ),
    undefined,
    [['7:38', 'rules[0].escalate[0].also_eligible[1]: in also_eligible, write "codeowners:any" if any code owner of any changed file may approve for the whole requirement once it has waited (a docs owner for a payments change, say), or name the teams that may; "codeowners" (an owner for each group of files) can only be required, in "approvers"']],
  ],
  [
    'a default severity the policy does not list',
    yaml('version: 1', 'severities: [low, high]', 'defaults: { severity: medium }'),
    undefined,
    [['3:23', 'defaults.severity: unknown severity "medium"']],
  ],
  [
    'codeowners with a mode other than any',
    yaml('version: 1', 'defaults: { approvers: ["codeowners:all"] }'),
    undefined,
    [['2:25', '"codeowners:all" is not an approver: write codeowners (each group of changed files needs one of its owners) or codeowners:any']],
  ],
  ['an unresolved _extends', yaml('version: 1', '_extends: .github'), undefined, [['2:11', '_extends ".github" is not resolved']]],
  ['an invalid _extends', yaml('version: 1', '_extends: "../x:/etc/passwd"'), { base: { file: 'b.yml', text: 'version: 1\n' } }, [['2:11', 'invalid _extends']]],
  [
    'values after a multi-line quoted string (regression: the lines inside it are counted)',
    yaml('version: 1', 'unmatched: "approve', '  or not"', 'rules: 5'),
    undefined,
    [
      ['2:12', 'expected one of: approve, require; got "approve or not"'],
      ['4:8', 'rules: expected a list, got 5'],
    ],
  ],
  ['a problem at the very first character (regression: 1:1, not 0:0)', '\tversion: 1\n', undefined, [['1:1', 'Tabs are not allowed']]],
  ['invalid UTF-8', new Uint8Array([0x76, 0x65, 0x72, 0xff, 0xfe]), undefined, [['1:1', 'not valid UTF-8']]],
  ['a huge file', `version: 1\n#${'x'.repeat(1024 * 1024)}\n`, undefined, [['1:1', 'too large']]],
  [
    'an alias bomb',
    yaml(
      'a: &a [x, x, x, x, x, x, x, x, x, x]',
      'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]',
      'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]',
      'd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]',
    ),
    undefined,
    [['2:8', 'could not be expanded', 'at most 100 alias uses']],
  ],
];

describe('loadPolicy: every error is located and says what was expected', () => {
  test.each(errorCases)('%s', (_name, text, options, expected) => {
    const diagnostics = mustFail(text, options);
    expect(diagnostics.map((d) => `${d.line}:${d.col}`)).toEqual(expected.map(([position]) => position));
    expected.forEach(([, ...fragments], i) => {
      for (const fragment of fragments) expect(diagnostics[i].message).toContain(fragment);
      expect(diagnostics[i].file).toBe(FILE);
    });
  });

  test('all problems of a file are reported in one run, in file order', () => {
    const diagnostics = mustFail(
      yaml('version: 1', 'defaults:', '  timeout: soon', '  alow_bots: true', 'rules:', '  - name: r', '    if: { branch: "[main" }', '    require: { approvers: [teams] , approvals: two }'),
    );
    expect(diagnostics.map(formatDiagnostic)).toEqual([
      `${FILE}:3:12: defaults.timeout: invalid duration "soon": expected a number with a unit s, m, h, d or w (for example 30m, 1h or 1h30m)`,
      `${FILE}:4:3: defaults.alow_bots: unknown key "alow_bots"; did you mean "allow_bots"? Expected one of: approvals, approvers, timeout, allow_self_approval, allow_bots, min_permission, reminder, severity`,
      `${FILE}:7:19: rules[0].if.branch: invalid glob "[main": unclosed "["`,
      `${FILE}:8:48: rules[0].require.approvals: expected a whole number, got "two"`,
    ]);
  });

  test('actor brackets are literal, so an unbalanced one is no glob error there (it still is elsewhere)', () => {
    const text = (key: string) => yaml('version: 1', 'rules:', '  - name: r', `    if: { ${key}: ["dependabot[bot]", "x[bot"] }`);
    expect(mustLoad(text('actor')).rules[0].if).toEqual({ actor: ['dependabot[bot]', 'x[bot'] });
    expect(mustFail(text('branch')).map(formatDiagnostic)).toEqual([`${FILE}:4:39: rules[0].if.branch[1]: invalid glob "x[bot": unclosed "["`]);
  });

  test('an unresolved _extends is only a warning when the caller asks for it (single-file validation)', () => {
    const result = loadPolicy(yaml('version: 1', '_extends: .github'), FILE, { unresolvedExtends: 'warn' });
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.warnings.map(formatDiagnostic)).toEqual([`${FILE}:2:11: _extends ".github" is not resolved: this file was checked without the org policy it names; give that file with --extends ORG_FILE to check the two together`]);
  });

  test('absurd nesting is reported, not thrown', () => {
    const diagnostics = mustFail(`version: ${'['.repeat(20000)}`);
    expect(diagnostics.some((d) => d.message === 'the YAML is nested too deeply' && d.line === 1 && d.col > 10)).toBe(true);
    expect(diagnostics.length).toBeLessThanOrEqual(10);
  });

  test('an error in an aliased value points at the alias, not at the anchor it copies', () => {
    const diagnostics = mustFail(yaml('version: 1', 'defaults:', '  approvals: &n 0', '  timeout: *n'));
    expect(diagnostics.map((d) => `${d.line}:${d.col} ${d.pointer}`)).toEqual(['3:17 /defaults/approvals', '4:12 /defaults/timeout']);
  });
});
