import { expect, test } from '@jest/globals';
import { GITHUB_MENTION_LIMIT, mentionLine } from '../../app/notify/mentions.js';
import { rendered } from '../app/markdown.js';

test.each([
  ['nobody', [], ''],
  ['one user', ['@lee'], '@lee'],
  ['a bare login is a user', ['lee'], '@lee'],
  ['teams come first, as teams', ['@lee', '@acme/sre'], '@acme/sre, @lee'],
  ['logins are case-insensitive', ['@Lee', '@lee', 'LEE', '@acme/SRE', '@acme/sre'], '@acme/SRE, @Lee'],
  ['roles in words', ['@lee', 'role:write'], '@lee or anyone with write access'],
  ['codeowners and e-mail owners are never mentions', ['codeowners', 'ops@example.com', 'role:admin'], 'the code owners, `ops@example.com`, or anyone with admin access'],
  ['anything else is shown as code, backticks and all', ['@not a login', 'a`b'], '`@not a login` or ``a`b``'],
])('%s', (_name, approvers, line) => {
  expect(mentionLine(approvers).line).toBe(line);
});

test(`at most ${GITHUB_MENTION_LIMIT} mentions; the rest are counted, teams kept first`, () => {
  const users = Array.from({ length: 61 }, (_, i) => `@user${i}`);
  const result = mentionLine([...users, '@acme/sre', 'role:maintain']);
  expect(result.mentioned).toHaveLength(50);
  expect(result.mentioned[0]).toBe('@acme/sre');
  expect(result.omitted).toEqual(users.slice(49));
  expect(result.line).toMatch(/^@acme\/sre, @user0, .*, @user48 and 12 more or anyone with maintain access$/);
  expect(result.line.match(/@/g)).toHaveLength(50);
});

test('the limit can be lowered for a comment that mentions others too', () => {
  expect(mentionLine(['@a', '@b', '@c'], 2)).toEqual({ line: '@a, @b and 1 more', mentioned: ['@a', '@b'], omitted: ['@c'] });
  expect(mentionLine(['@a', 'role:write'], 0).line).toBe('1 more or anyone with write access');
});

test('an e-mail owner that starts or ends with a backtick stays code, mentioning nobody', () => {
  // A CODEOWNERS e-mail owner is any word with one @ and a dot after it: backticks included.
  expect(rendered(mentionLine(['@lee', '`@victim.example']).line).prose).not.toMatch(/@victim/);
  const line = mentionLine(['`@victim.example', 'ops@example.com`']).line;
  expect(rendered(line).prose).not.toContain('@');
  expect(rendered(line).code).toBe('`@victim.example\nops@example.com`');
});
