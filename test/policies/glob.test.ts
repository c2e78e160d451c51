import { describe, expect, test } from '@jest/globals';
import { ACTOR_GLOB, compileGlob, type GlobOptions } from '../../policies/glob.js';

function matcher(pattern: string, options?: Readonly<GlobOptions>): (value: string) => boolean {
  const compiled = compileGlob(pattern, options);
  if (!compiled.ok) throw new Error(compiled.message);
  return compiled.match;
}

describe('policy globs', () => {
  const rows: [string, string, boolean][] = [
    ['*', 'main', true],
    ['*', 'release/1', false],
    ['release/*', 'release/1', true],
    ['**', 'a/b/c', true],
    ['infra/**', 'infra/.env', true],
    ['infra/**', 'infra', true],
    ['infra/**', 'infra-old/x', false],
    ['**/*.sql', 'schema.sql', true],
    ['**/*.sql', 'a/b/schema.sql', true],
    ['a/**/b', 'a/b', true],
    ['a/**/b', 'a/x/y/b', true],
    ['a/**/b', 'a/xb', false],
    // A trailing "**" after "*" is what is inside those directories: not their files.
    ['src/*/**', 'src/x.ts', false],
    ['src/*/**', 'src/x/y.ts', true],
    ['a**', 'ab', true],
    ['a**', 'a/b', false],
    ['v?', 'v1', true],
    ['v?', 'v10', false],
    ['v?', 'v/', false],
    ['v?', 'v😀', true],
    ['{api,web}/**', 'web/x', true],
    // An alternative that starts a segment reads a leading "**/" as the pattern does.
    ['{**/*.tf,**/*.tfvars}', 'main.tf', true],
    ['{**/*.tf,**/*.tfvars}', 'a/b/x.tfvars', true],
    ['{**/*.tf,**/*.tfvars}', 'x.md', false],
    ['infra/{**/*.tf,*.md}', 'infra/main.tf', true],
    ['{docs/**,{**/*.md,x}}', 'README.md', true],
    ['x{**/*.tf,y}', 'x/main.tf', true],
    ['{x{**/*.tf,y},z}', 'main.tf', false],
    ['{api,web}/**', 'cli/x', false],
    ['x.{a,b{c,d}}', 'x.bd', true],
    ['x{,-old}', 'x-old', true],
    ['x{,-old}', 'x', true],
    ['{a}*', '{a}b', true],
    ['{a}*', 'ab', false],
    ['v[12]', 'v1', true],
    ['v[12]', 'v3', false],
    ['v[1-3]', 'v2', true],
    ['v[1-3]', 'v4', false],
    ['v[^1]', 'v2', true],
    ['v[^1]', 'v1', false],
    ['v[^1]', 'v/', false],
    ['[]a]*', ']x', true],
    // Brackets of plain characters also match themselves, as in a Next.js route directory.
    ['app/[id]/**', 'app/[id]/page.tsx', true],
    ['app/[id]/**', 'app/i/page.tsx', true],
    ['app/[id]/**', 'app/x/page.tsx', false],
    ['[1-3]*', '[1-3]', false],
    ['\\**', '*x', true],
    ['\\**', 'x', false],
    ['a\\/**', 'a/b/c', true],
    ['./infra/**', 'infra/x', true],
    ['./infra/**', './infra/x', false],
    // …and so is it with no wildcard at all.
    ['./Dockerfile', 'Dockerfile', true],
    ['././Dockerfile', 'Dockerfile', true],
    ['./Dockerfile', './Dockerfile', false],
    // Characters without a meaning in globs are literal, with or without wildcards around them.
    ['deploy (prod)*', 'deploy (prod) eu', true],
    ['deploy (prod)*', 'deploy prod eu', false],
    ['"a*"', '"ab"', true],
    ['a|b*', 'a|bc', true],
    ['a|b*', 'a', false],
    ['*+*', 'a+b', true],
    ['*$', 'a$', true],
    ['*^', 'a^', true],
    ['*\\', 'a\\', true],
    // No wildcard at all: the text itself, backslashes included.
    ['a\\,b', 'a\\,b', true],
    ['a\\,b', 'a,b', false],
  ];
  test.each(rows)('%s against %s: %s', (pattern, value, expected) => {
    expect(matcher(pattern)(value)).toBe(expected);
  });

  test('in actor, brackets are literal and the rest works as everywhere', () => {
    expect(matcher('*[bot]', ACTOR_GLOB)('renovate[bot]')).toBe(true);
    expect(matcher('*[bot]', ACTOR_GLOB)('robot')).toBe(false);
    expect(matcher('{renovate,dependabot}[bot]', ACTOR_GLOB)('dependabot[bot]')).toBe(true);
    expect(matcher('x]*', ACTOR_GLOB)('x]y')).toBe(true);
  });

  test('braces nest up to 32 deep', () => {
    const deepest = `${'{x,'.repeat(31)}{a,b}${'}'.repeat(31)}`;
    expect(matcher(deepest)('b')).toBe(true);
    expect(matcher(deepest)('c')).toBe(false);
  });

  test('a compiled glob gives the same answers however often and in whatever order it is asked', () => {
    const match = matcher('**/{a,b}*-?.ts');
    const values = ['a-1.ts', 'x/b-2.ts', 'x/c-3.ts', 'b-12.ts', 'x/y/a--.ts', 'a-1.tsx'];
    const first = values.map(match);
    expect(first).toEqual([true, true, false, false, true, false]);
    for (let round = 0; round < 3; round++) expect([...values].reverse().map(match).reverse()).toEqual(first);
  });

  test.each([
    ['', 'a pattern cannot be empty'],
    [' main', 'leading or trailing whitespace'],
    ['!main', 'negation with "!" is not supported'],
    ['a/***', '"***" is not a valid wildcard'],
    ['src/{a,b', 'unclosed "{"'],
    ['a}', 'unmatched "}"'],
    ['[main', 'unclosed "["'],
    ['[]', 'unclosed "["'],
    ['a]*', 'unmatched "]"'],
    ['[{]}*', 'unmatched "}"'],
    ['{a,[b}]', 'unclosed "{"'],
    ['v[!1]', '"[!" is ambiguous'],
    ['v[z-a]', 'range "z-a" is out of order'],
    ['[[:alpha:]]*', 'character classes such as "[:alpha:]" are not supported'],
    ['release-{1..3}', 'ranges such as "{1..3}" are not supported'],
    ['deploy-(eu|us)*', '"|" inside parentheses is not an alternative'],
    ['deploy-(eu|us)', '"|" inside parentheses is not an alternative'],
    ['infra/(main|prod).tf', '"|" inside parentheses is not an alternative'],
    [`${'{a,'.repeat(33)}b${'}'.repeat(33)}`, 'braces nested more than 32 deep'],
  ])('%j is an error: %s', (pattern, message) => {
    const compiled = compileGlob(pattern);
    expect(compiled).toEqual({ ok: false, message: expect.stringContaining(`invalid glob "${pattern}": ${message}`) });
  });
});
