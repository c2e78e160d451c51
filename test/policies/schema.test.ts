import { describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { policySchema, policySchemaJson } from '../../policies/schema.js';
import { loadPolicy } from '../../policies/loader.js';
import { generatedFiles } from '../../scripts/generate-validators.js';

const root = new URL('../../', import.meta.url);
const committedSchema = readFileSync(new URL('policies/jit-approval.schema.json', root), 'utf8');
const example = readFileSync(new URL('docs/examples/jit-approval.yml', root), 'utf8');

/** The committed JSON file, compiled the way an editor or another tool would: no loader involved. */
const editorAjv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
editorAjv.addKeyword({ keyword: 'patternErrorMessage', schemaType: 'string' });
const validate = editorAjv.compile(JSON.parse(committedSchema));

describe('policy JSON Schema', () => {
  test('the committed jit-approval.schema.json matches policies/schema.ts (run `npm run schema` after editing it)', () => {
    expect(committedSchema).toBe(policySchemaJson());
  });

  test('the committed validators compiled ahead from the schemas are current (run `npm run schema` after editing one)', () => {
    for (const [path, text] of Object.entries(generatedFiles())) expect([path, readFileSync(new URL(path, root), 'utf8')]).toEqual([path, text]);
  });

  test('is a valid draft 2020-12 schema', () => {
    const ajv = new Ajv2020({ strict: false });
    expect(ajv.validateSchema(JSON.parse(committedSchema))).toBe(true);
    expect(JSON.parse(committedSchema).$schema).toBe('https://json-schema.org/draft/2020-12/schema');
  });

  test('every property has a description, so editors can show it', () => {
    const missing: string[] = [];
    const visit = (schema: Record<string, unknown>, path: string) => {
      for (const [key, sub] of Object.entries((schema.properties ?? {}) as Record<string, Record<string, unknown>>)) {
        if (typeof sub.description !== 'string' && typeof sub.$ref !== 'string') missing.push(`${path}.${key}`);
        visit(sub, `${path}.${key}`);
      }
    };
    visit(policySchema as unknown as Record<string, unknown>, '');
    for (const [name, def] of Object.entries(policySchema.$defs)) {
      if (typeof def.description !== 'string') missing.push(`$defs.${name}`);
      visit(def as unknown as Record<string, unknown>, `$defs.${name}`);
    }
    expect(missing).toEqual([]);
  });

  test('the example policy validates against the committed schema and loads', () => {
    expect(example.split('\n')[0]).toBe('# yaml-language-server: $schema=../../policies/jit-approval.schema.json');
    expect(validate(parse(example))).toBe(true);
    const loaded = loadPolicy(example, 'docs/examples/jit-approval.yml');
    expect(loaded.ok && loaded.warnings).toEqual([]);
  });

  test.each([
    ['no version', { rules: [] }, 'version'],
    ['version 2', { version: 2 }, '/version'],
    ['unknown top-level key', { version: 1, rule: [] }, 'rule'],
    ['unmatched typo', { version: 1, unmatched: 'deny' }, '/unmatched'],
    ['approvals zero', { version: 1, defaults: { approvals: 0 } }, '/defaults/approvals'],
    ['min_permission read', { version: 1, defaults: { min_permission: 'read' } }, '/defaults/min_permission'],
    ['duration without unit', { version: 1, defaults: { timeout: '30' } }, '/defaults/timeout'],
    ['bad approver', { version: 1, defaults: { approvers: ['role:owner'] } }, '/defaults/approvers/0'],
    ['rule without name', { version: 1, rules: [{ if: { action: 'deploy' } }] }, '/rules/0'],
    ['unknown condition', { version: 1, rules: [{ name: 'x', if: { environments: 'prod' } }] }, 'environments'],
    ['severity mapping without at_least', { version: 1, rules: [{ name: 'x', if: { severity: { above: 'high' } } }] }, '/rules/0/if/severity'],
    ['empty condition list', { version: 1, rules: [{ name: 'x', if: { branch: [] } }] }, '/rules/0/if/branch'],
    ['duplicate severities', { version: 1, severities: ['low', 'low'] }, '/severities'],
    ['escalation after as number', { version: 1, rules: [{ name: 'x', escalate: [{ after: 30, notify: ['a'] }] }] }, '/rules/0/escalate/0/after'],
  ])('rejects a policy with %s', (_name, policy, where) => {
    expect(validate(policy)).toBe(false);
    const places = (validate.errors ?? []).map((e) => `${e.instancePath} ${JSON.stringify(e.params)}`);
    expect(places.some((p) => p.includes(where))).toBe(true);
  });
});
