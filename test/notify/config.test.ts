import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { formatConfigDiagnostic, loadNotifiersConfig, notifierNames, NotifiersConfigError, parseNotifiersConfig } from '../../app/notify/config.js';
import { loadPolicy } from '../../policies/loader.js';

const FILE = 'notifiers.yml';
const lines = (...text: string[]) => `${text.join('\n')}\n`;
const NOT_HTTPS = 'expected an https:// URL (http:// only to localhost, 127.x.x.x or [::1])';

function problems(text: string, env: Record<string, string> = {}): string[] {
  const result = parseNotifiersConfig(text, FILE, env);
  if (result.ok) throw new Error('expected the configuration to be rejected');
  return result.diagnostics.map(formatConfigDiagnostic);
}

const FULL = lines(
  'notifiers:',
  '  slack-deploys:',
  '    type: slack',
  '    url: ${SLACK_URL}',
  '  oncall-mail:',
  '    type: email',
  '    host: smtp.example.com',
  '    port: ${SMTP_PORT}',
  '    secure: true',
  '    auth:',
  '      user: jit',
  '      pass: "${SMTP_PASS}"',
  '    from: JIT approvals <jit@example.com>',
  '    to: [oncall@example.com]',
  '  pager:',
  '    type: webhook',
  '    url: https://hooks.example.com/jit/${PAGER_PATH}',
  '    secret: ${PAGER_SECRET}',
);

describe('parseNotifiersConfig', () => {
  test('reads all three kinds, substitutes environment variables and fills defaults', () => {
    const env = { SLACK_URL: 'https://hooks.slack.com/services/T/B/x', SMTP_PORT: '2465', SMTP_PASS: 'p#ss: word', PAGER_PATH: 'a1', PAGER_SECRET: '0123456789abcdef0123' };
    const result = parseNotifiersConfig(FULL, FILE, env);
    expect(result.ok && [...result.config.notifiers.values()]).toEqual([
      { name: 'slack-deploys', type: 'slack', url: 'https://hooks.slack.com/services/T/B/x' },
      {
        name: 'oncall-mail',
        type: 'email',
        host: 'smtp.example.com',
        port: 2465,
        secure: true,
        requireTls: false,
        // A value with YAML syntax in it is only ever a value.
        auth: { user: 'jit', pass: 'p#ss: word' },
        from: 'JIT approvals <jit@example.com>',
        to: ['oncall@example.com'],
        subjectPrefix: '[JIT approval]',
      },
      { name: 'pager', type: 'webhook', url: 'https://hooks.example.com/jit/a1', secret: '0123456789abcdef0123' },
    ]);
    expect(result.ok && notifierNames(result.config, 'acme')).toEqual(new Set(['slack-deploys', 'oncall-mail', 'pager']));
  });

  test('plain http is taken for a loopback address only', () => {
    for (const url of ['http://127.0.0.1:8080/hook', 'http://localhost/hook', 'http://[::1]:9000']) {
      expect(parseNotifiersConfig(lines('notifiers:', '  s:', '    type: slack', `    url: "${url}"`), FILE, {}).ok).toBe(true);
    }
  });

  test('STARTTLS is required by default off loopback, where a server without it would be sent the password in clear', () => {
    const requireTls = (...extra: string[]) => {
      const result = parseNotifiersConfig(lines('notifiers:', '  m:', '    type: email', '    from: a@example.com', '    to: [b@example.com]', ...extra), FILE, {});
      return result.ok && (result.config.notifiers.get('m') as { requireTls: boolean }).requireTls;
    };
    expect(requireTls('    host: smtp.example.com')).toBe(true);
    expect(requireTls('    host: 10.0.0.25', '    port: 25')).toBe(true);
    for (const host of ['localhost', '127.0.0.1', '"::1"']) expect(requireTls(`    host: ${host}`)).toBe(false);
    // TLS from the first byte needs no STARTTLS; an operator may still choose clear text explicitly.
    expect(requireTls('    host: smtp.example.com', '    secure: true')).toBe(false);
    expect(requireTls('    host: smtp.example.com', '    require_tls: false')).toBe(false);
  });

  test('the SMTP port defaults by `secure`, and `$${` writes a literal `${`', () => {
    const result = parseNotifiersConfig(
      lines('notifiers:', '  m:', '    type: email', '    host: h', '    from: a@example.com', '    to: [b@example.com]', '    subject_prefix: "$${ENV} jit"'),
      FILE,
      {},
    );
    expect(result.ok && result.config.notifiers.get('m')).toMatchObject({ port: 587, secure: false, subjectPrefix: '${ENV} jit' });
  });

  test.each([
    ['a missing variable names the file, line, column and variable', lines('notifiers:', '  s:', '    type: slack', '    url: ${SLACK_URL}'), {}, ['notifiers.yml:4:10: notifiers.s.url: environment variable SLACK_URL is not set']],
    ['an empty variable counts as missing', lines('notifiers:', '  s:', '    type: slack', '    url: "${SLACK_URL}"'), { SLACK_URL: '' }, ['notifiers.yml:4:11: notifiers.s.url: environment variable SLACK_URL is not set']],
    [
      'a reference inside a longer value is located exactly',
      lines('notifiers:', '  m:', '    type: email', '    host: h', '    from: a@example.com', '    to: [b@example.com, "ops+${TEAM}@example.com"]'),
      {},
      ['notifiers.yml:6:30: notifiers.m.to[1]: environment variable TEAM is not set'],
    ],
    ['a malformed reference', lines('notifiers:', '  s:', '    type: slack', '    url: https://x/${9LIVES}'), {}, ['notifiers.yml:4:20: notifiers.s.url: "${9LIVES}" is not a valid variable reference: expected ${NAME} with letters, digits and "_"']],
    ['an unknown type, with a suggestion', lines('notifiers:', '  s:', '    type: slak', '    url: https://x'), {}, ['notifiers.yml:3:11: notifiers.s.type: unknown notifier type "slak"; did you mean "slack"? Expected one of: slack, email, webhook']],
    ['a missing type', lines('notifiers:', '  s:', '    url: https://x'), {}, ['notifiers.yml:3:5: notifiers.s: missing required key "type"']],
    [
      'a misspelt key, said once, at the key',
      lines('notifiers:', '  p:', '    type: webhook', '    url: https://x', '    secert: 0123456789abcdef'),
      {},
      ['notifiers.yml:5:5: notifiers.p.secert: unknown key "secert"; did you mean "secret"? Expected one of: type, url, secret, owners'],
    ],
    ['a short webhook secret, without echoing it', lines('notifiers:', '  p:', '    type: webhook', '    url: https://x', '    secret: ${S}'), { S: 'hunter2' }, ['notifiers.yml:5:13: notifiers.p.secret: expected at least 16 characters']],
    ['a URL that is not http(s), without echoing it', lines('notifiers:', '  s:', '    type: slack', '    url: ${U}'), { U: 'hooks.slack.com/secret' }, [`notifiers.yml:4:10: notifiers.s.url: ${NOT_HTTPS}`]],
    ['plain http to another host: the signed bodies would cross the network in clear', lines('notifiers:', '  p:', '    type: webhook', '    url: http://events.example.com/jit', '    secret: 0123456789abcdef'), {}, [`notifiers.yml:4:10: notifiers.p.url: ${NOT_HTTPS}`]],
    ['plain http to a host named like a loopback address', lines('notifiers:', '  s:', '    type: slack', '    url: http://localhost.evil.example/hook'), {}, [`notifiers.yml:4:10: notifiers.s.url: ${NOT_HTTPS}`]],
    ['plain http with a loopback address as its user name', lines('notifiers:', '  s:', '    type: slack', '    url: http://127.0.0.1:80@evil.example/hook'), {}, [`notifiers.yml:4:10: notifiers.s.url: ${NOT_HTTPS}`]],
    [
      'a URL with a user name or password, without echoing it',
      lines('notifiers:', '  s:', '    type: slack', '    url: ${U}'),
      { U: 'https://jit:hunter2@hooks.example.com/services/T/B/x' },
      ['notifiers.yml:4:10: notifiers.s.url: expected a URL without a user name or password, which the audit trail would show when a delivery fails'],
    ],
    ['owners that are not account names', lines('notifiers:', '  s:', '    type: slack', '    url: https://x', '    owners: ["acme/web"]'), {}, ['notifiers.yml:5:14: notifiers.s.owners[0]: expected a GitHub account name, such as acme']],
    ['a bad port', lines('notifiers:', '  m:', '    type: email', '    host: h', '    port: 99999', '    from: a@example.com', '    to: [b@example.com]'), {}, ['notifiers.yml:5:11: notifiers.m.port: expected a whole number from 1 to 65535']],
    ['a non-numeric port from the environment', lines('notifiers:', '  m:', '    type: email', '    host: h', '    port: ${P}', '    from: a@example.com', '    to: [b@example.com]'), { P: 'smtp' }, ['notifiers.yml:5:11: notifiers.m.port: expected a whole number, got a string']],
    [
      'recipients: not an address, and a repeat',
      lines('notifiers:', '  m:', '    type: email', '    host: h', '    from: a@example.com', '    to: [oncall, b@example.com, b@example.com]'),
      {},
      ['notifiers.yml:6:10: notifiers.m.to[0]: expected an e-mail address such as jit@example.com or "JIT <jit@example.com>"', 'notifiers.yml:6:33: notifiers.m.to[2]: item 3 repeats item 2'],
    ],
    ['a bad notifier name', lines('notifiers:', '  "slack deploys":', '    type: slack', '    url: https://x'), {}, ['notifiers.yml:2:3: notifiers.slack deploys: a notifier name is letters, digits, ".", "_" or "-", starting with a letter or digit']],
    ['an unknown top-level key', lines('notifier:', '  s: {}'), {}, ['notifiers.yml:1:1: notifier: unknown key "notifier"; did you mean "notifiers"? Expected one of: notifiers']],
    ['an empty file', '', {}, ['notifiers.yml:1:1: expected a mapping with a "notifiers:" key']],
    ['a YAML syntax error', lines('notifiers:', '  s:', '    type: slack', '    url: "https://x'), {}, ["notifiers.yml:5:1: YAML syntax error: Missing closing \"quote"]],
    ['a duplicate key', lines('notifiers:', '  s:', '    type: slack', '    type: webhook'), {}, [expect.stringMatching(/^notifiers\.yml:4:5: YAML syntax error: Map keys must be unique/)]],
  ])('%s', (_name, text, env, expected) => {
    expect(problems(text, env)).toEqual(expected);
  });
});

describe('loadNotifiersConfig', () => {
  test('no NOTIFIERS_FILE means no notifiers', async () => {
    const config = await loadNotifiersConfig({});
    expect(notifierNames(config, 'acme')).toEqual(new Set());
  });

  test('reads the named file; a bad one throws an error listing every problem with its location', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'notifiers-'));
    try {
      const file = join(dir, 'notifiers.yml');
      await writeFile(file, lines('notifiers:', '  s:', '    type: slack', '    url: ${SLACK_URL}', '  p:', '    type: pager'));
      const config = loadNotifiersConfig({ NOTIFIERS_FILE: file, SLACK_URL: 'https://hooks.slack.com/x' });
      await expect(config).rejects.toThrow(NotifiersConfigError);
      await expect(config).rejects.toThrow(`${file}:6:11: notifiers.p.type: unknown notifier type "pager".`);

      await writeFile(file, lines('notifiers:', '  s:', '    type: slack', '    url: ${SLACK_URL}'));
      await expect(loadNotifiersConfig({ NOTIFIERS_FILE: file })).rejects.toThrow(`${file}:4:10: notifiers.s.url: environment variable SLACK_URL is not set`);
      const loaded = await loadNotifiersConfig({ NOTIFIERS_FILE: file, SLACK_URL: 'https://hooks.slack.com/x' });
      expect(loaded.file).toBe(file);
      expect(notifierNames(loaded, 'acme')).toEqual(new Set(['s']));
    } finally {
      await rm(dir, { recursive: true });
    }
  });

  test('an unreadable file is a clear error naming it', async () => {
    await expect(loadNotifiersConfig({ NOTIFIERS_FILE: '/nonexistent/notifiers.yml' })).rejects.toThrow(/^\/nonexistent\/notifiers\.yml: cannot read NOTIFIERS_FILE: ENOENT/);
  });

  test('the configured names are what the policy loader checks `notify:` against', () => {
    const parsed = parseNotifiersConfig(lines('notifiers:', '  pager:', '    type: webhook', '    url: https://x', '    secret: 0123456789abcdef'), FILE, {});
    if (!parsed.ok) throw new Error('bad test config');
    const policy = (notify: string) => lines('version: 1', 'rules:', '  - name: prod', `    notify: [${notify}]`);
    expect(loadPolicy(policy('pager'), 'p.yml', { knownNotifiers: notifierNames(parsed.config, 'acme') }).ok).toBe(true);
    const bad = loadPolicy(policy('slack-deploys'), 'p.yml', { knownNotifiers: notifierNames(parsed.config, 'acme') });
    expect(!bad.ok && bad.diagnostics.map((d) => `${d.line}:${d.col}`)).toEqual(['4:14']);
  });

  test("a notifier with owners is known only to those accounts' policies, whatever the case of their names", () => {
    const parsed = parseNotifiersConfig(
      lines('notifiers:', '  acme-pager:', '    type: webhook', '    url: https://x', '    secret: 0123456789abcdef', '    owners: [acme, Acme-Labs]', '  shared:', '    type: slack', '    url: https://y'),
      FILE,
      {},
    );
    if (!parsed.ok) throw new Error('bad test config');
    expect(notifierNames(parsed.config, 'ACME')).toEqual(new Set(['acme-pager', 'shared']));
    expect(notifierNames(parsed.config, 'acme-labs')).toEqual(new Set(['acme-pager', 'shared']));
    expect(notifierNames(parsed.config, 'globex')).toEqual(new Set(['shared']));
    const policy = lines('version: 1', 'rules:', '  - name: prod', '    notify: [acme-pager]');
    const refused = loadPolicy(policy, 'p.yml', { knownNotifiers: notifierNames(parsed.config, 'globex') });
    // The refusal lists what globex may name, never another account's notifiers.
    expect(!refused.ok && refused.diagnostics.map((d) => d.message)).toEqual([expect.stringContaining('unknown notifier "acme-pager"')]);
    expect(!refused.ok && refused.diagnostics[0]?.message).toContain('The App knows: shared');
  });
});
