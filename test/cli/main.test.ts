import { afterAll, describe, expect, test } from '@jest/globals';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EXPLAIN_USAGE } from '../../app/cli/explain.js';
import { main } from '../../app/cli/main.js';
import { CODEOWNERS, POLICY, makeWorkspace } from './fixtures.js';

const DIFF_BEFORE = `version: 1
severities: [low, high]
rules:
  - name: production
    if: { action: deploy, environment: production }
    require: { approvals: 1, approvers: ["@acme/security"] }
  - name: staging
    if: { action: deploy, environment: staging }
    auto_approve: true
`;

const workspace = makeWorkspace({
  '.github/jit-approval.yml': POLICY,
  'policy.yml': POLICY,
  'CODEOWNERS': CODEOWNERS,
  'broken-CODEOWNERS': `${CODEOWNERS}[abc] @x\n*.md @docs-team nobody\n`,
  'typo.yml': 'version: 1\nrules:\n  - name: a\n    iff: { action: [deploy] }\n    require: { aprovals: 2 }\n',
  'bad-duration.yml': 'version: 1\ndefaults: { timeout: 1 hour }\n',
  'not-yaml.yml': 'version: 1\nrules: [\n',
  'child.yml': '_extends: .github\nversion: 1\nrules:\n  - name: repo-rule\n    if: { action: [x] }\n    auto_approve: true\n',
  'org.yml': 'version: 1\nunmatched: require\nrules:\n  - name: org-rule\n    if: { action: [y] }\n    require: { approvers: ["@acme/org-leads"] }\n',
  'owners-only.yml': 'version: 1\nrules:\n  - name: reviewed\n    if: { action: [deploy] }\n    require: { approvers: [codeowners] }\n',
  'two-timeouts.yml': 'version: 1\nunmatched: require\ndefaults: { timeout: 2h }\nrules:\n  - name: hotfix\n    if: { action: [deploy] }\n    require: { approvers: [alice] }\n    timeout: 30m\n  - name: production\n    if: { action: [deploy] }\n    require: { approvers: [bob] }\n',
  'files.txt': 'infra/main.tf\n\ndocs/guide.md\r\nvendor/lib.js\n',
  'warns.yml': 'version: 1\nrules:\n  - name: docs\n    if: { paths: ["docs/**"] }\n    auto_approve: true\n',
  'diff-before.yml': DIFF_BEFORE,
  // Production: anyone with write permission instead of security (looser); staging now needs a lead (stricter).
  'diff-after.yml': DIFF_BEFORE.replace('approvers: ["@acme/security"]', 'approvers: ["role:write"]').replace('auto_approve: true', 'require: { approvers: ["@acme/leads"] }'),
  'diff-frozen.yml': `${DIFF_BEFORE}freezes:\n  - name: new-year\n    time_zone: Europe/Berlin\n    start: 2026-12-21\n    end: 2027-01-04\n    if: { environment: production }\n`,
  // The same freeze before and after; production needs anyone with write permission instead of security.
  'diff-frozen-weaker.yml': `${DIFF_BEFORE.replace('approvers: ["@acme/security"]', 'approvers: ["role:write"]')}freezes:\n  - name: new-year\n    time_zone: Europe/Berlin\n    start: 2026-12-21\n    end: 2027-01-04\n    if: { environment: production }\n`,
  // Production waived for every actor: no named situation has an actor, so none decides differently.
  'diff-unless-actor.yml': DIFF_BEFORE.replace('    require: { approvals: 1, approvers: ["@acme/security"] }', '    unless: { actor: "*" }\n    require: { approvals: 1, approvers: ["@acme/security"] }'),
  'bot-waived.yml': 'version: 1\nrules:\n  - name: production\n    if: { environment: production }\n    unless: { actor: "*[bot]" }\n    require: { approvers: ["@acme/sre"] }\n',
  'weekend.yml': 'version: 1\nfreezes:\n  - name: weekend\n    time_zone: Europe/Berlin\n    cron: { start: "0 17 * * 5", end: "0 8 * * 1" }\n    message: Not over the weekend.\n',
  'weekend-override.yml': 'version: 1\nfreezes:\n  - name: weekend\n    time_zone: Europe/Berlin\n    cron: { start: "0 17 * * 5", end: "0 8 * * 1" }\n    mode: require\n    override: { approvers: ["@acme/release-managers"] }\n',
});
afterAll(workspace.cleanup);
// Latin-1 text, as an editor might save it: "* @jos\xe9" is not UTF-8.
const LATIN1 = Buffer.from([0x2a, 0x20, 0x40, 0x6a, 0x6f, 0x73, 0xe9, 0x0a]);
for (const name of ['latin1-CODEOWNERS', 'latin1.yml', 'latin1-files.txt']) writeFileSync(join(workspace.dir, name), LATIN1);

async function run(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), cwd: workspace.dir });
  return { code, stdout, stderr };
}

describe('mercurial-jit', () => {
  test('no command: usage on stderr, exit 2', async () => {
    const r = await run();
    expect(r).toMatchObject({ code: 2, stdout: '' });
    expect(r.stderr).toContain('Usage: mercurial-jit COMMAND');
  });

  test('--help lists the commands and the exit codes on stdout', async () => {
    const r = await run('--help');
    expect(r.code).toBe(0);
    for (const word of ['validate', 'owners', 'explain', 'audit', 'Exit codes:', '2  bad arguments']) expect(r.stdout).toContain(word);
  });

  test('audit is dispatched to its own module, which parses its own arguments', async () => {
    const r = await run('audit', '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('mercurial-jit audit verify');
  });

  test.each([
    [['validate', 'policy.yml', '--formt', 'text'], "mercurial-jit validate: Unknown option '--formt'; did you mean --format?\n", 'validate'],
    [['explain', '--policy', 'policy.yml', '--action', 'd', '--enviroment', 'production'], "mercurial-jit explain: Unknown option '--enviroment'; did you mean --environment?\n", 'explain'],
    [['diff', '--before', 'diff-before.yml', '--after', 'diff-after.yml', '--codeowner', 'CODEOWNERS'], "mercurial-jit diff: Unknown option '--codeowner'; did you mean --codeowners?\n", 'diff'],
    [['audit', 'verify', '--data-dri', 'x'], "mercurial-jit audit: Unknown option '--data-dri'; did you mean --data-dir?\n", 'audit verify'],
    [['owners', '--codeowners', 'CODEOWNERS', '--nope', 'a'], "mercurial-jit owners: Unknown option '--nope'\n", 'owners'],
  ])('a misspelt option %p names the one meant, with no advice about positionals: exit 2', async (argv, firstLine, command) => {
    const r = await run(...argv);
    expect(r).toMatchObject({ code: 2, stdout: '' });
    expect(r.stderr.slice(0, r.stderr.indexOf('\n') + 1)).toBe(firstLine);
    expect(r.stderr).toContain(`Usage: mercurial-jit ${command}`);
  });

  test.each([
    [['audit'], 'mercurial-jit audit: missing subcommand\n'],
    [['audit', 'check'], 'mercurial-jit audit: unknown subcommand "check"\n'],
    [['audit', 'verify', 'extra'], 'mercurial-jit audit: unexpected argument "extra": verify takes options only\n'],
  ])('audit %p names what is wrong with its words: exit 2', async (argv, firstLine) => {
    const r = await run(...argv);
    expect(r).toMatchObject({ code: 2, stdout: '' });
    expect(r.stderr.slice(0, r.stderr.indexOf('\n') + 1)).toBe(firstLine);
  });

  test.each(['frobnicate', 'constructor', '__proto__'])('unknown command %p: exit 2', async (name) => {
    const r = await run(name);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`unknown command "${name}"`);
  });
});

describe('validate', () => {
  test('the default file, valid: exit 0', async () => {
    const r = await run('validate');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ valid: true, file: '.github/jit-approval.yml', rules: 3, warnings: [] });
    expect(r.stderr).toBe('');
  });

  test('text format', async () => {
    expect(await run('validate', 'policy.yml', '--format', 'text')).toEqual({ code: 0, stdout: 'policy.yml: valid (3 rules)\n', stderr: '' });
  });

  test('unknown keys: FILE:LINE:COL lines with a suggestion, exit 1', async () => {
    const r = await run('validate', 'typo.yml');
    expect(r.code).toBe(1);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const line of lines) expect(line).toMatch(/^typo\.yml:\d+:\d+: /);
    expect(r.stderr).toMatch(/^typo\.yml:4:5: .*iff.*did you mean.*if/im);
    expect(r.stderr).toMatch(/^typo\.yml:5:\d+: .*aprovals.*approvals/m);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ valid: false, file: 'typo.yml' });
    expect(out.diagnostics.length).toBe(lines.length);
  });

  test.each([
    ['bad-duration.yml', /^bad-duration\.yml:2:\d+: .*duration/m],
    ['not-yaml.yml', /^not-yaml\.yml:\d+:\d+: /m],
    ['missing.yml', /^missing\.yml:1:1: cannot read: no such file$/m],
  ])('%s: exit 1 with a located message', async (file, pattern) => {
    const r = await run('validate', file, '--format', 'text');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(pattern);
    expect(r.stdout).toMatch(new RegExp(`^${file.replace('.', '\\.')}: invalid`));
  });

  test('a device that never ends is refused once it passes any input\'s size, not read until memory runs out', async () => {
    const r = await run('validate', '/dev/zero', '--format', 'text');
    expect(r).toMatchObject({ code: 1, stdout: '/dev/zero: invalid (1 problem)\n', stderr: '/dev/zero:1:1: cannot read: larger than 64 MiB\n' });
  });

  test('--strict: a warning makes a valid policy fail, with the warning at its line', async () => {
    const lenient = await run('validate', 'warns.yml', '--format', 'text');
    expect(lenient).toMatchObject({ code: 0, stdout: 'warns.yml: valid (1 rule, 1 warning)\n' });
    expect(lenient.stderr).toMatch(/^warns\.yml:4:18: warning: `paths` holds when \*any\* changed file matches/);
    const strict = await run('validate', 'warns.yml', '--strict', '--format', 'text');
    expect(strict).toMatchObject({ code: 1, stdout: 'warns.yml: invalid under --strict (1 warning)\n', stderr: lenient.stderr });
    const json = await run('validate', 'warns.yml', '--strict');
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ valid: false, file: 'warns.yml', warnings: [{ line: 4, col: 18, pointer: '/rules/0/if/paths' }] });
  });

  test('--strict on a policy without warnings: exit 0', async () => {
    expect(await run('validate', 'policy.yml', '--strict', '--format', 'text')).toEqual({ code: 0, stdout: 'policy.yml: valid (3 rules)\n', stderr: '' });
  });

  test('an unresolved _extends is a warning; with --extends the two are checked together', async () => {
    const alone = await run('validate', 'child.yml');
    expect(alone.code).toBe(0);
    expect(alone.stderr).toMatch(/^child\.yml:1:\d+: warning: _extends/m);
    const both = await run('validate', 'child.yml', '--extends', 'org.yml');
    expect(both.code).toBe(0);
    expect(JSON.parse(both.stdout)).toMatchObject({ valid: true, rules: 2 });
  });

  test.each([
    [['validate', 'a.yml', 'b.yml'], 'validate takes one FILE'],
    [['validate', '--nope'], "Unknown option '--nope'"],
    [['validate', '--format', 'xml'], '--format must be json or text'],
  ])('bad arguments %p: usage on stderr, exit 2', async (argv, message) => {
    const r = await run(...argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stderr).toContain('Usage: mercurial-jit validate');
    expect(r.stdout).toBe('');
  });
});

describe('owners', () => {
  test('owners per path, [] when unowned or un-owned', async () => {
    const r = await run('owners', '--codeowners', 'CODEOWNERS', 'infra/a.tf', './docs/x.md', 'vendor/y.js', 'README.md');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      'infra/a.tf': ['@acme/sre', '@carol'],
      './docs/x.md': ['@dave'],
      'vendor/y.js': [],
      'README.md': ['@acme/platform'],
    });
    expect(r.stderr).toBe('');
  });

  test('a path named __proto__ is an ordinary key', async () => {
    const r = await run('owners', '--codeowners', 'CODEOWNERS', '__proto__');
    expect(r.stdout).toBe('{\n  "__proto__": [\n    "@acme/platform"\n  ]\n}\n');
  });

  test('text format names the deciding line', async () => {
    const r = await run('owners', '--codeowners', 'CODEOWNERS', '--format', 'text', 'infra/a.tf', 'vendor/y.js');
    expect(r.stdout).toBe('infra/a.tf  @acme/sre @carol  (line 2: /infra/)\nvendor/y.js  (unowned)  (line 4: /vendor/)\n');
  });

  test('CODEOWNERS errors go to stderr with their location, bad lines are skipped, exit 1', async () => {
    const r = await run('owners', '--codeowners', 'broken-CODEOWNERS', 'abc', 'x.md');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^broken-CODEOWNERS:5:1: Invalid pattern/m);
    expect(r.stderr).toMatch(/^broken-CODEOWNERS:6:\d+: Invalid owner/m);
    expect(JSON.parse(r.stdout)).toEqual({ abc: ['@acme/platform'], 'x.md': ['@acme/platform'] });
  });

  test('a CODEOWNERS that is not UTF-8 is refused as validate refuses such a policy, naming the file: exit 1', async () => {
    const r = await run('owners', '--codeowners', 'latin1-CODEOWNERS', 'a');
    expect(r).toMatchObject({ code: 1, stdout: '', stderr: 'latin1-CODEOWNERS:1:1: the file is not valid UTF-8 text\n' });
    const policy = await run('validate', 'latin1.yml');
    expect(policy.code).toBe(1);
    expect(policy.stderr).toContain('latin1.yml:1:1: the file is not valid UTF-8 text');
  });

  test('an unreadable CODEOWNERS: exit 1', async () => {
    const r = await run('owners', '--codeowners', 'nope', 'a');
    expect(r).toMatchObject({ code: 1, stdout: '', stderr: 'nope: cannot read: no such file\n' });
  });

  test.each([
    [['owners', 'a.ts'], '--codeowners FILE is required'],
    [['owners', '--codeowners', 'CODEOWNERS'], 'give at least one PATH'],
    [['owners', '--codeowners'], "Option '--codeowners <value>' argument missing"],
  ])('bad arguments %p: exit 2', async (argv, message) => {
    const r = await run(...argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stderr).toContain('Usage: mercurial-jit owners');
  });
});

describe('diff', () => {
  const diff = (...argv: string[]) => run('diff', '--before', 'diff-before.yml', ...argv);

  test('a looser and a stricter change, each situation labelled; exit 0', async () => {
    const r = await diff('--after', 'diff-after.yml');
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const { valid, comparisons } = JSON.parse(r.stdout) as { valid: boolean; comparisons: Array<{ situation: { label: string }; change: string; before: { text: string }; after: { text: string } }> };
    expect(valid).toBe(true);
    expect(comparisons.map((c) => [c.situation.label, c.change])).toEqual([
      ['deploy to production, severity low', 'looser'],
      ['deploy to production, severity high', 'looser'],
      ['deploy to production, severity not stated', 'looser'],
      ['deploy to staging, severity low', 'stricter'],
      ['deploy to staging, severity high', 'stricter'],
      ['deploy to staging, severity not stated', 'stricter'],
      ['deploy (no environment), severity low', 'same'],
      ['deploy (no environment), severity high', 'same'],
      ['deploy (no environment), severity not stated', 'same'],
    ]);
    expect(comparisons[0]).toMatchObject({ before: { text: '1 from @acme/security (rule `production`)' }, after: { text: '1 from anyone with write permission (rule `production`)' } });
  });

  test('text: a Markdown table, looser before stricter, the unchanged counted', async () => {
    const r = await diff('--after', 'diff-after.yml', '--format', 'text');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        '| Change | Situation | Before | After |',
        '|---|---|---|---|',
        '| looser | `deploy to production, severity low` | 1 from @acme/security (rule `production`) | 1 from anyone with write permission (rule `production`) |',
        '| looser | `deploy to production, severity high` | 1 from @acme/security (rule `production`) | 1 from anyone with write permission (rule `production`) |',
        '| looser | `deploy to production, severity not stated` | 1 from @acme/security (rule `production`) | 1 from anyone with write permission (rule `production`) |',
        '| stricter | `deploy to staging, severity low` | no approval needed | 1 from @acme/leads (rule `staging`) |',
        '| stricter | `deploy to staging, severity high` | no approval needed | 1 from @acme/leads (rule `staging`) |',
        '| stricter | `deploy to staging, severity not stated` | no approval needed | 1 from @acme/leads (rule `staging`) |',
        '',
        '3 other situations decide the same.',
        '',
      ].join('\n'),
    );
  });

  test('the reverse change is stricter where it was looser, and looser where it was stricter', async () => {
    const r = await run('diff', '--before', 'diff-after.yml', '--after', 'diff-before.yml');
    const changes = (JSON.parse(r.stdout) as { comparisons: Array<{ change: string }> }).comparisons.map((c) => c.change);
    expect(changes).toEqual(['stricter', 'stricter', 'stricter', 'looser', 'looser', 'looser', 'same', 'same', 'same']);
  });

  test('a freeze removed is reported whatever the time; --at judges the decisions at that instant', async () => {
    const frozen = (at: string) => run('diff', '--before', 'diff-frozen.yml', '--after', 'diff-before.yml', '--at', at, '--format', 'text');
    const summer = await frozen('2026-07-01T12:00:00Z');
    expect(summer.code).toBe(0);
    expect(summer.stdout).toBe(
      [
        '| Change | Freeze or deploy window | Before | After |',
        '|---|---|---|---|',
        '| looser | freeze `new-year` removed | from 2026-12-21 to 2027-01-04 Europe/Berlin, if {"environment":["production"]}, mode wait | — |',
        '',
        'No decision changes in the 9 situations compared.',
        '',
      ].join('\n'),
    );
    const christmas = await frozen('2026-12-24T12:00:00+01:00');
    expect(christmas.stdout).toContain('| looser | freeze `new-year` removed |');
    expect(christmas.stdout).toMatch(/^\| looser \| `deploy to production, severity low` \| Held until 2027-01-04 00:00 Europe\/Berlin by freeze `new-year`/m);
    const json = JSON.parse((await run('diff', '--before', 'diff-frozen.yml', '--after', 'diff-before.yml', '--at', '2026-07-01T12:00:00Z')).stdout) as { windows: unknown[] };
    expect(json.windows).toEqual([{ kind: 'freeze', name: 'new-year', layer: 'repository', change: 'removed', effect: 'looser', before: expect.stringContaining('2026-12-21'), after: null }]);
    expect(await run('diff', '--before', 'diff-frozen.yml', '--after', 'diff-before.yml', '--at', '2026-12-24 12:00')).toMatchObject({ code: 2, stderr: expect.stringContaining('--at must be an ISO 8601 instant with a zone') });
  });

  test('a freeze added beside a weakened rule does not pass for only stricter', async () => {
    const r = await run('diff', '--before', 'diff-before.yml', '--after', 'diff-frozen-weaker.yml', '--at', '2026-12-24T12:00:00+01:00');
    const changes = (JSON.parse(r.stdout) as { comparisons: Array<{ change: string; situation: { label: string } }> }).comparisons.filter((c) => c.change !== 'same');
    expect(changes.map((c) => [c.change, c.situation.label])).toEqual(expect.arrayContaining([
      ['stricter', 'deploy to production, severity low'],
      ['looser', 'deploy to production, severity low, freezes and deploy windows set aside'],
    ]));
  });

  test('a rule changed in a way no situation shows is listed to be read, not passed over as no change', async () => {
    const text = await diff('--after', 'diff-unless-actor.yml', '--format', 'text');
    expect(text).toEqual({
      code: 0,
      stdout: [
        'No decision changes in the 9 situations compared.',
        '',
        'Rules changed in ways the situations cannot show, as they read facts the situations leave out: read these yourself.',
        '',
        '| Rule | Reads |',
        '|---|---|',
        '| `production` changed | `actor` |',
        '',
      ].join('\n'),
      stderr: '',
    });
    const json = JSON.parse((await diff('--after', 'diff-unless-actor.yml')).stdout) as { rulesBeyondSituations: unknown };
    expect(json.rulesBeyondSituations).toEqual([{ rule: 'production', change: 'changed', reads: ['actor'] }]);
  });

  test('no change: the table says so', async () => {
    const r = await diff('--after', 'diff-before.yml', '--format', 'text');
    expect(r).toEqual({ code: 0, stdout: 'No decision changes in the 9 situations compared.\n', stderr: '' });
  });

  test('an invalid --after: its problems on stderr, exit 1', async () => {
    const r = await diff('--after', 'typo.yml');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^typo\.yml:4:5: .*iff/m);
    expect(JSON.parse(r.stdout)).toMatchObject({ valid: false, file: 'typo.yml' });
    expect(await diff('--after', 'missing.yml', '--format', 'text')).toEqual({ code: 1, stdout: 'missing.yml: invalid\n', stderr: 'missing.yml:1:1: cannot read: no such file\n' });
  });

  test('a --before that cannot be read (a mistyped path) is not taken for no policy: exit 1', async () => {
    const r = await run('diff', '--before', 'nope.yml', '--after', 'diff-after.yml', '--format', 'text');
    expect(r).toEqual({ code: 1, stdout: 'nope.yml: cannot read\n', stderr: 'nope.yml:1:1: cannot read: no such file\n' });
  });

  test('an invalid --before: every decision is new; exit 0', async () => {
    const r = await run('diff', '--before', 'typo.yml', '--after', 'diff-after.yml');
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^typo\.yml:4:5: /m);
    const comparisons = (JSON.parse(r.stdout) as { comparisons: Array<{ before: unknown; change: string }> }).comparisons;
    expect(comparisons.every((c) => c.before === null && c.change === 'changed')).toBe(true);
  });

  test.each([
    [['diff', '--after', 'diff-after.yml'], '--before FILE and --after FILE are required'],
    [['diff', '--before', 'diff-before.yml'], '--before FILE and --after FILE are required'],
    [['diff', '--before', 'diff-before.yml', '--after', 'diff-after.yml', '--format', 'xml'], '--format must be json or text'],
  ])('bad arguments %p: exit 2', async (argv, message) => {
    const r = await run(...argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stderr).toContain('Usage: mercurial-jit diff');
  });
});

describe('explain', () => {
  const base = ['explain', '--policy', 'policy.yml', '--codeowners', 'CODEOWNERS', '--action', 'deploy'];

  test('a --files-from list or CODEOWNERS that is not UTF-8 is refused, naming the file: exit 1', async () => {
    const files = await run(...base, '--files-from', 'latin1-files.txt');
    expect(files).toMatchObject({ code: 1, stdout: '', stderr: 'latin1-files.txt:1:1: the file is not valid UTF-8 text\n' });
    const owners = await run('explain', '--policy', 'policy.yml', '--codeowners', 'latin1-CODEOWNERS', '--action', 'deploy');
    expect(owners).toMatchObject({ code: 1, stdout: '' });
    expect(owners.stderr).toContain('latin1-CODEOWNERS:1:1: the file is not valid UTF-8 text');
  });

  test('the usage line and the README list every option --help describes', async () => {
    const options = (text: string) => [...new Set(text.match(/--[a-z][a-z-]*/g))].sort();
    const [synopsis, , ...rest] = EXPLAIN_USAGE.split(/\n\n/);
    const described = options(rest.join('\n').split('\n').filter((line) => /^ {2}--/.test(line)).join('\n'));
    expect(described).toEqual(expect.arrayContaining(['--extends', '--unknown-changes']));
    expect(options(synopsis!)).toEqual(described);
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const block = /### `mercurial-jit explain`\n\n```\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(options(block ?? '')).toEqual(described);
  });

  test('--at judges freezes at that instant, in JSON and in text', async () => {
    const held = JSON.parse((await run('explain', '--policy', 'weekend.yml', '--action', 'deploy', '--at', '2026-12-05T12:00:00+01:00')).stdout);
    expect(held).toMatchObject({ outcome: 'held', windows: { at: '2026-12-05T11:00:00.000Z', closedBy: ['weekend'], opensAt: '2026-12-07T07:00:00.000Z' } });
    const open = JSON.parse((await run('explain', '--policy', 'weekend.yml', '--action', 'deploy', '--at', '2026-12-02T12:00:00Z')).stdout);
    expect(open).toMatchObject({ outcome: 'auto_approve', windows: { open: true, recheckAt: '2026-12-04T16:00:00.000Z' } });
    const text = await run('explain', '--policy', 'weekend.yml', '--action', 'deploy', '--at', '2026-12-05T12:00:00Z', '--format', 'text');
    expect(text.stdout).toContain('✗ freeze weekend — in force; now: 2026-12-04 17:00 Europe/Berlin – 2026-12-07 08:00 Europe/Berlin');
    expect(text.stdout).toContain('Freezes and deploy windows at 2026-12-05 13:00 Europe/Berlin (2026-12-05T12:00:00Z): closed by weekend (wait)');
    expect(text.stdout).toContain('may go ahead from 2026-12-07 08:00 Europe/Berlin (2026-12-07T07:00:00Z)');
  });

  test('--at takes a wall-clock time in a time zone, read as the policy reads its windows\' times', async () => {
    const at = async (time: string) => JSON.parse((await run('explain', '--policy', 'weekend.yml', '--action', 'deploy', '--at', time)).stdout) as { outcome: string; windows: { at: string } };
    // Friday 17:00 in Berlin is when the weekend freeze starts; 16:59 there is still open, and New York's 17:00 is 23:00 in Berlin.
    expect(await at('2026-12-04T17:00[Europe/Berlin]')).toMatchObject({ outcome: 'held', windows: { at: '2026-12-04T16:00:00.000Z' } });
    expect(await at('2026-12-04T16:59[Europe/Berlin]')).toMatchObject({ outcome: 'auto_approve' });
    expect(await at('2026-12-03T17:00[America/New_York]')).toMatchObject({ outcome: 'auto_approve', windows: { at: '2026-12-03T22:00:00.000Z' } });
    expect(await at('2026-12-04T17:00[America/New_York]')).toMatchObject({ outcome: 'held', windows: { at: '2026-12-04T22:00:00.000Z' } });
    // A wall-clock time that occurs twice (clocks going back) is its first occurrence, as a window's start is.
    expect(await at('2026-10-25T02:30[Europe/Berlin]')).toMatchObject({ windows: { at: '2026-10-25T00:30:00.000Z' } });
  });

  test.each([
    ['2026-12-04T17:00[Berlin]', '--at: unknown time zone "Berlin"; did you mean "Europe/Berlin"? Write an IANA name such as Europe/Berlin, America/New_York or UTC'],
    // "Did you mean UTC" would be an hour away from what was meant, as in a policy's time_zone.
    ['2026-12-04T17:00[UTC+1]', '--at: unknown time zone "UTC+1": a time zone here is an IANA name, not an offset (an offset would ignore daylight saving time). Write an IANA name'],
    ['2026-12-04T17:00[Pacific Time]', '--at: unknown time zone "Pacific Time": that describes a zone rather than naming one; places in it include America/Los_Angeles'],
    ['2026-02-30T17:00[Europe/Berlin]', '--at: "2026-02-30T17:00" is not a real date and time'],
    ['2026-12-04 17:00', '--at must be an ISO 8601 instant with a zone, such as 2026-12-24T18:00:00Z, or a wall-clock time with its time zone, such as 2026-12-24T19:00[Europe/Berlin], not "2026-12-04 17:00"'],
  ])('--at %s is refused, saying how to write it', async (time, message) => {
    expect(await run('explain', '--policy', 'weekend.yml', '--action', 'deploy', '--at', time)).toMatchObject({ code: 2, stderr: expect.stringContaining(message) });
  });

  test('a freeze that asks for an override names the override as the requirement, not the defaults', async () => {
    const text = await run('explain', '--policy', 'weekend-override.yml', '--action', 'deploy', '--at', '2026-12-05T12:00:00Z', '--format', 'text');
    expect(text.stdout).toMatch(/^ {2}the override of freeze weekend: 1 approval from @acme\/release-managers$/m);
    expect(text.stdout).not.toContain('no rule matched');
  });

  test('--at without a zone is a usage error: the machine\'s zone must not decide', async () => {
    const r = await run('explain', '--policy', 'weekend.yml', '--action', 'deploy', '--at', '2026-12-05T12:00');
    expect(r).toMatchObject({ code: 2, stdout: '' });
    expect(r.stderr).toContain('--at must be an ISO 8601 instant with a zone');
  });

  test('--rerun-by: a bot waived by `unless` is not waived for the person who re-ran its run', async () => {
    const explain = (...more: string[]) => run('explain', '--policy', 'bot-waived.yml', '--action', 'deploy', '--environment', 'production', '--actor', 'renovate[bot]', ...more);
    expect(JSON.parse((await explain()).stdout)).toMatchObject({ outcome: 'auto_approve' });
    const rerun = JSON.parse((await explain('--rerun-by', 'mallory')).stdout);
    expect(rerun).toMatchObject({ outcome: 'approval_required', facts: { actor: 'renovate[bot]', rerunBy: ['mallory'] } });
    expect(JSON.stringify(rerun.rules)).toContain('re-run by `mallory`, who does not match: it holds only when both match');
    expect(JSON.parse((await explain('--rerun-by', 'dependabot[bot]')).stdout)).toMatchObject({ outcome: 'auto_approve' });
  });

  test('a production deploy: requirements, matched rules and who may approve', async () => {
    const r = await run(...base, '--environment', 'production', '--branch', 'main', '--severity', 'critical', '--actor', 'bob', '--files', 'infra/main.tf,docs/guide.md,vendor/lib.js');
    expect(r.code).toBe(0);
    const decision = JSON.parse(r.stdout);
    expect(decision).toMatchObject({
      outcome: 'approval_required',
      facts: { action: 'deploy', environment: 'production', branch: 'main', severity: 'critical', actor: 'bob', changedFileCount: 3 },
      timeoutSeconds: 7200,
      notify: ['slack-deploys'],
    });
    // `docs` holds only when every changed file is under docs/: this change has infra in it too.
    expect(decision.rules.map((x: { name: string; matched: boolean; effect: string }) => [x.name, x.matched, x.effect])).toEqual([
      ['production', true, 'require'],
      ['docs', false, 'none'],
      ['production-elsewhere', false, 'none'],
    ]);
    expect(decision.requirements).toEqual([
      expect.objectContaining({
        rule: 'production',
        escalation: null,
        approvals: 1,
        approvers: {
          codeowners: 'each_group',
          owners: ['@acme/sre', '@carol', '@dave'],
          ownerGroups: [
            { owners: ['@acme/sre', '@carol'], patterns: ['/infra/'], fileCount: 1 },
            { owners: ['@dave'], patterns: ['docs/'], fileCount: 1 },
          ],
          teams: ['@acme/team-leads'],
          users: [],
          roles: [],
        },
        scheduled: [expect.objectContaining({ afterSeconds: 1800, notify: ['pager'] })],
        unsatisfiable: null,
      }),
      // Critical needs security as well as the code owners.
      expect.objectContaining({
        rule: 'production',
        escalation: expect.objectContaining({ reason: 'severity `critical` is one of `critical`' }),
        approvals: 2,
        approvers: expect.objectContaining({ codeowners: false, teams: ['@acme/security'] }),
        unsatisfiable: null,
      }),
    ]);
    expect(decision.codeowners).toEqual({
      available: true,
      groups: [
        { owners: ['@acme/sre', '@carol'], rules: [{ pattern: '/infra/', line: 2 }], files: ['infra/main.tf'] },
        { owners: ['@dave'], rules: [{ pattern: 'docs/', line: 3 }], files: ['docs/guide.md'] },
      ],
      unowned: ['vendor/lib.js'],
    });
  });

  test('--files-from reads one path per line', async () => {
    const fromFile = JSON.parse((await run(...base, '--environment', 'prod-eu', '--branch', 'release/1', '--files-from', 'files.txt')).stdout);
    const inline = JSON.parse((await run(...base, '--environment', 'prod-eu', '--branch', 'release/1', '--files', 'infra/main.tf,docs/guide.md,vendor/lib.js')).stdout);
    expect(fromFile.facts.changedFileCount).toBe(3);
    expect(fromFile).toEqual(inline);
  });

  test('docs only, no environment: no approval needed', async () => {
    const r = await run(...base, '--files', 'docs/a.md', '--labels', 'docs,small');
    expect(JSON.parse(r.stdout)).toMatchObject({ outcome: 'auto_approve', requirements: [], facts: { labels: ['docs', 'small'] } });
  });

  test('text format explains in words', async () => {
    const r = await run(...base, '--environment', 'production', '--branch', 'feature/x', '--files', 'docs/a.md', '--format', 'text');
    expect(r.code).toBe(0);
    // A production deploy from another branch is `production-elsewhere`'s, whose requirement wins over `docs`.
    expect(r.stdout).toContain('Approval required: 1 approval from @acme/release-managers (rule `production-elsewhere`)');
    expect(r.stdout).toContain('✗ production — not matched (policy.yml:5:5)');
    expect(r.stdout).toContain('✗ branch `feature/x` matches none of `main`, `release/**`');
  });

  test('text format shows requirements, escalations and code owner groups', async () => {
    const r = await run(...base, '--environment', 'production', '--branch', 'main', '--severity', 'critical', '--files', 'infra/main.tf,vendor/lib.js', '--format', 'text');
    for (const line of [
      'Approval required: 1 approval from a code owner of each group of changed files (@acme/team-leads count towards the total, not in an owner\'s place) (rule `production`); and 2 approvals from @acme/security (rule `production` (escalation at line 12))',
      '      ↑ escalation (policy.yml:12:9): applied: severity `critical` is one of `critical`',
      '  rule production: 1 approval from a code owner of each group of changed files (@acme/team-leads count towards the total, not in an owner\'s place)',
      '      code owners, one approval for each group:\n        `/infra/` (@acme/sre @carol)',
      '  rule production (escalation at line 12): 2 approvals from @acme/security',
      '      added by the escalation at policy.yml:12:9: severity `critical` is one of `critical`',
      '      after 30m still pending: also eligible: @acme/sre-oncall; notify pager',
      '  @acme/sre @carol — CODEOWNERS line 2 (/infra/):',
      '  unowned:\n      vendor/lib.js',
      'Timeout: 2h (rule production)',
    ]) {
      expect(r.stdout).toContain(line);
    }
  });

  test('text format says which matching rule the timeout is from', async () => {
    const timeout = async (action: string) => (await run('explain', '--policy', 'two-timeouts.yml', '--action', action, '--format', 'text')).stdout.split('\n').find((line) => line.startsWith('Timeout:'));
    expect(await timeout('deploy')).toBe("Timeout: 30m (the shortest of the matching rules': hotfix 30m, production 2h)");
    expect(await timeout('migrate')).toBe('Timeout: 2h (defaults: no rule matched)');
  });

  test('text format of a blocked decision says why', async () => {
    const r = await run('explain', '--policy', 'owners-only.yml', '--action', 'deploy', '--actor', 'bob', '--format', 'text');
    expect(r.stdout).toMatch(/^Blocked: rule `reviewed`: needs 1 approval but only 0 eligible people are listed/);
    expect(r.stdout).toContain('Blocked because:\n  - rule `reviewed`:');
    expect(r.stdout).toContain('✗ unsatisfiable: needs 1 approval');
    expect(r.stdout).toContain('Code owners of the changed files: no CODEOWNERS file');
  });

  test('a codeowners-only requirement without CODEOWNERS is blocked, never approved', async () => {
    const r = await run('explain', '--policy', 'owners-only.yml', '--action', 'deploy', '--files', 'src/a.ts');
    expect(r.code).toBe(0);
    const decision = JSON.parse(r.stdout);
    expect(decision.outcome).toBe('blocked');
    expect(decision.requirements[0].unsatisfiable).toContain('there is no CODEOWNERS file');
  });

  test('without --codeowners, a decision that asks code owners says on stderr how to give them; with it, or without code owners, nothing', async () => {
    const without = await run('explain', '--policy', 'owners-only.yml', '--action', 'deploy', '--files', 'src/a.ts', '--format', 'text');
    expect(without.code).toBe(0);
    expect(without.stderr).toBe('mercurial-jit explain: no --codeowners FILE given, so no changed file has a code owner here; the App reads the repository\'s CODEOWNERS (.github/CODEOWNERS, CODEOWNERS or docs/CODEOWNERS): pass it, e.g. --codeowners .github/CODEOWNERS\n');
    const given = await run('explain', '--policy', 'owners-only.yml', '--codeowners', 'CODEOWNERS', '--action', 'deploy', '--files', 'src/a.ts');
    expect(given.stderr).toBe('');
    const noOwnersAsked = await run('explain', '--policy', 'bot-waived.yml', '--action', 'deploy', '--environment', 'production', '--files', 'src/a.ts');
    expect(noOwnersAsked.stderr).toBe('');
  });

  test('an unknown severity blocks', async () => {
    const r = await run(...base, '--environment', 'production', '--branch', 'main', '--severity', 'Critical');
    const decision = JSON.parse(r.stdout);
    expect(decision.outcome).toBe('blocked');
    expect(decision.problems[0]).toContain('severity `Critical` is not one of');
  });

  test('an invalid policy: diagnostics on stderr, no decision, exit 1', async () => {
    const r = await run('explain', '--policy', 'typo.yml', '--action', 'deploy');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^typo\.yml:4:5: /m);
  });

  test('an unresolved _extends is an error for explain: the org rules would be missing', async () => {
    const alone = await run('explain', '--policy', 'child.yml', '--action', 'y');
    expect(alone.code).toBe(1);
    expect(alone.stderr).toMatch(/^child\.yml:1:\d+: _extends/m);
    const both = await run('explain', '--policy', 'child.yml', '--extends', 'org.yml', '--action', 'y');
    expect(JSON.parse(both.stdout)).toMatchObject({ outcome: 'approval_required', requirements: [{ rule: 'org-rule' }] });
    // The repository's auto-approving rule does not lift the org's unmatched: require.
    const lifted = await run('explain', '--policy', 'child.yml', '--extends', 'org.yml', '--action', 'x', '--format', 'text');
    expect(lifted.stdout).toContain("  the org's defaults (no org rule matched): 1 approval from a code owner of each group of changed files");
    expect(lifted.stdout).toContain("Timeout: 1h (the org's defaults: no org rule matched)");
  });

  test('CODEOWNERS errors: the decision is still printed, exit 1', async () => {
    const r = await run('explain', '--policy', 'policy.yml', '--codeowners', 'broken-CODEOWNERS', '--action', 'deploy');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^broken-CODEOWNERS:5:1: /m);
    expect(JSON.parse(r.stdout).outcome).toBe('auto_approve');
  });

  test.each([
    [['explain', '--action', 'deploy'], '--policy FILE is required'],
    [['explain', '--policy', 'policy.yml'], '--action A is required'],
    [['explain', '--policy', 'policy.yml', '--action', 'd', '--files', 'a', '--files-from', 'files.txt'], 'give one of --files, --files-from and --unknown-changes'],
    [['explain', '--policy', 'policy.yml', '--action', 'd', 'stray'], 'Unexpected argument'],
    [['explain', '--policy', 'policy.yml', '--action', 'd', '--sevrity', 'high'], "Unknown option '--sevrity'"],
  ])('bad arguments %p: exit 2', async (argv, message) => {
    const r = await run(...argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stderr).toContain('Usage: mercurial-jit explain');
  });
});
