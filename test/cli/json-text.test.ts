import { describe, expect, test } from '@jest/globals';
import { jsonChunks } from '../../app/cli/json-text.js';
import { main } from '../../app/cli/main.js';
import { CODEOWNERS, POLICY, makeWorkspace } from './fixtures.js';

const text = (value: unknown): string => Buffer.concat(jsonChunks(value)).toString('utf8');
const expected = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

describe('jsonChunks writes what JSON.stringify(value, null, 2) writes', () => {
  const group = Object.freeze({ owners: Object.freeze(['@acme/a', 'bob@example.com']), patterns: ['src/**', 'é “quoted” ✓\n'], fileCount: 3 });
  const groups = Object.freeze([group, group]);
  const cases: [string, unknown][] = [
    ['scalars', [1, -0, 1.5e300, NaN, Infinity, 'a"b\\c\u0000\u2028', true, false, null]],
    ['top-level scalars', 'just a string'],
    ['empty containers', { a: [], b: {}, c: [[], {}], d: [{}] }],
    ['holes and what JSON leaves out', { a: undefined, b: () => 1, c: [undefined, () => 1, Symbol('s')], d: 1, [Symbol('k')]: 2 }],
    ['only left-out keys', { list: [groups], obj: { a: undefined } }],
    ['one array shared at one depth', { requirements: [{ approvers: { ownerGroups: groups } }, { approvers: { ownerGroups: groups } }] }],
    ['one array shared at different depths', { a: groups, b: { c: groups }, d: [[groups]] }],
    ['a shared container inside a shared container', { x: [groups, groups], y: [groups, groups], z: { w: [groups, groups] } }],
    ['shared empty arrays', (() => { const empty: string[] = []; return { a: empty, b: empty, c: [empty] }; })()],
    ['toJSON', { at: new Date(Date.UTC(2026, 11, 2)), shared: [groups, { custom: { toJSON: (key: string) => `key ${key}` } }], again: groups }],
    ['numeric-looking keys', { 2: 'two', 1: { shared: groups }, b: groups, a: 1 }],
  ];
  test.each(cases)('%s', (_name, value) => {
    expect(text(value)).toBe(expected(value));
  });

  test('a repeated container is encoded once and its bytes reused', () => {
    const chunks = jsonChunks({ a: groups, b: groups, c: groups });
    const distinct = new Set(chunks);
    expect(distinct.size).toBeLessThan(chunks.length);
  });
});

describe('explain writes the same bytes through stdoutBytes and stdout', () => {
  const workspace = makeWorkspace({ 'policy.yml': POLICY, CODEOWNERS });
  test('json', async () => {
    const argv = ['explain', '--policy', 'policy.yml', '--codeowners', 'CODEOWNERS', '--action', 'deploy', '--environment', 'production', '--files', 'infra/x.tf,src/a.ts,docs/b.md', '--at', '2026-12-02T12:00:00Z'];
    let asText = '';
    const chunks: Uint8Array[] = [];
    expect(await main(argv, { stdout: (s) => (asText += s), stderr: () => undefined, cwd: workspace.dir })).toBe(0);
    expect(await main(argv, { stdout: () => { throw new Error('the JSON answer should go to stdoutBytes'); }, stdoutBytes: (c) => chunks.push(c), stderr: () => undefined, cwd: workspace.dir })).toBe(0);
    expect(Buffer.concat(chunks).toString('utf8')).toBe(asText);
    expect(asText).toBe(expected(JSON.parse(asText)));
    workspace.cleanup();
  });
});
