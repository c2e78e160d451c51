import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { parse, stringify } from 'yaml';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { loadPolicy, readExtends, type LoadResult } from '../../policies/loader.js';
import { policySchema } from '../../policies/schema.js';
import type { PolicyDiagnostic } from '../../policies/types.js';

const FILE = 'fuzz.yml';

/** Every diagnostic points at a real line and column of its file (col may sit just past the end). */
function expectLocatedWithin(text: string, diagnostics: PolicyDiagnostic[], texts: Record<string, string> = { [FILE]: text }): void {
  for (const d of diagnostics) {
    expect(Object.keys(texts)).toContain(d.file);
    const lines = texts[d.file].split('\n');
    expect(d.line).toBeGreaterThanOrEqual(1);
    expect(d.line).toBeLessThanOrEqual(lines.length);
    expect(d.col).toBeGreaterThanOrEqual(1);
    expect(d.col).toBeLessThanOrEqual(lines[d.line - 1].length + 1);
    expect(d.message.length).toBeGreaterThan(0);
  }
}

const ajv = new Ajv2020({ strict: false, allowUnionTypes: true });
const schemaValid = ajv.compile(policySchema);

function check(text: string, result: LoadResult): void {
  if (result.ok) {
    // Fail closed: a policy only ever comes out of a document the schema accepts.
    expect(schemaValid(parse(text))).toBe(true);
    expectLocatedWithin(text, result.warnings);
  } else {
    expect(result.diagnostics.length).toBeGreaterThan(0);
    expectLocatedWithin(text, result.diagnostics);
  }
}

const scalar = fc.oneof(
  fc.constantFrom('1h', '30m', '0m', '1y', '', 'main', 'release/**', '!main', '{a', 'codeowners', '@acme/leads', 'role:owner', 'high', 'critical', 'sev0'),
  fc.string({ maxLength: 8 }),
  fc.integer({ min: -2, max: 3 }),
  fc.boolean(),
  fc.constant(null),
);
const patterns = fc.oneof(scalar, fc.array(scalar, { maxLength: 3 }));
const key = (known: string[]) => fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...known) }, { weight: 1, arbitrary: fc.string({ maxLength: 6 }) });
const record = (known: string[], value: fc.Arbitrary<unknown>) => fc.dictionary(key(known), value, { maxKeys: known.length });

const conditions = record(['action', 'environment', 'branch', 'target_branch', 'severity', 'paths', 'event', 'actor', 'labels'], fc.oneof(patterns, fc.record({ at_least: scalar })));
const requirement = record(['approvals', 'approvers'], patterns);
const escalation = record(['if', 'after', 'require', 'approvers', 'notify'], fc.oneof(conditions, requirement, patterns));
const rule = record(
  ['name', 'if', 'require', 'auto_approve', 'escalate', 'notify', 'timeout', 'allow_self_approval'],
  fc.oneof(conditions, requirement, fc.array(escalation, { maxLength: 2 }), patterns),
);
const chaoticPolicy = fc.record(
  {
    version: fc.oneof(fc.constant(1), scalar),
    severities: patterns,
    defaults: record(['approvals', 'approvers', 'timeout', 'allow_self_approval', 'allow_bots', 'min_permission', 'reminder'], patterns),
    unmatched: fc.oneof(fc.constantFrom('approve', 'require'), scalar),
    rules: fc.array(rule, { maxLength: 3 }),
    _extends: fc.constantFrom('.github', 'x:../y', 7),
  },
  { requiredKeys: ['version'] },
);


/** Valid policies, so that mutations also land near (and sometimes on) policies that load. */
const glob = fc.constantFrom('main', 'release/**', 'prod-*', 'docs/**', '*.md', '{api,web}/src/**');
const globs = fc.oneof(glob, fc.array(glob, { minLength: 1, maxLength: 3 }));
const approver = fc.constantFrom('codeowners', '@acme/leads', 'alice', '@bob', 'role:admin');
const validConditions = fc.record(
  {
    action: globs,
    environment: globs,
    branch: globs,
    paths: globs,
    severity: fc.oneof(fc.constantFrom('low', 'high'), fc.record({ at_least: fc.constantFrom('medium', 'critical') })),
  },
  { requiredKeys: [] },
);
const validRequirement = fc.record(
  { approvals: fc.integer({ min: 1, max: 3 }), approvers: fc.array(approver, { minLength: 1, maxLength: 3 }) },
  { requiredKeys: [] },
);
const validEscalation = fc.oneof(
  fc.record({ if: validConditions, require: validRequirement }),
  fc.record({ after: fc.constantFrom('30m', '1h'), notify: fc.constant(['pager']), approvers: fc.array(approver, { minLength: 1, maxLength: 2 }) }),
);
const validRule = (name: string) =>
  fc.record(
    { name: fc.constant(name), if: validConditions, require: validRequirement, escalate: fc.array(validEscalation, { maxLength: 2 }), notify: fc.constant(['pager']), timeout: fc.constantFrom('1h', '2d') },
    { requiredKeys: ['name'] },
  );
const validPolicy = fc.record(
  {
    version: fc.constant(1),
    defaults: fc.record({ approvals: fc.integer({ min: 1, max: 3 }), timeout: fc.constantFrom('1h', '90m'), min_permission: fc.constantFrom('write', 'admin') }, { requiredKeys: [] }),
    unmatched: fc.constantFrom('approve', 'require'),
    rules: fc
      .tuple(fc.nat({ max: 999 }), fc.integer({ min: 0, max: 3 }))
      .chain(([prefix, n]) => fc.tuple(...Array.from({ length: n }, (_, i) => validRule(`r${prefix}-${i}`)))),
  },
  { requiredKeys: ['version'] },
);
const policyObject = fc.oneof(validPolicy, chaoticPolicy);

/** A policy-like YAML text, then a few random edits: cut a slice, insert junk, duplicate a line. */
const mutatedYaml = fc
  .tuple(policyObject, fc.array(fc.tuple(fc.nat(), fc.nat({ max: 8 }), fc.constantFrom('', ':', '- ', '[', '{', '"', '&a ', '*a', '\t', '\n  ', '---\n', '!!str ', '? ')), { maxLength: 3 }))
  .map(([object, edits]) => {
    let text = stringify(object);
    for (const [at, cut, insert] of edits) {
      const i = at % (text.length + 1);
      text = text.slice(0, i) + insert + text.slice(i + cut);
    }
    return text;
  });

const policyFile = fc.oneof(validPolicy.map((p) => stringify(p)), mutatedYaml);

describe('loadPolicy never throws and locates every diagnostic', () => {
  test('random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const result = loadPolicy(bytes, FILE);
        const text = new TextDecoder().decode(bytes);
        if (!result.ok) expectLocatedWithin(text, result.diagnostics);
        else check(text, result);
      }),
      { numRuns: 300 },
    );
  });

  test('random text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), (text) => {
        check(text, loadPolicy(text, FILE));
        const ref = readExtends(text, FILE);
        if (!ref.ok) expectLocatedWithin(text, ref.diagnostics);
      }),
      { numRuns: 300 },
    );
  });

  test('random policy-shaped YAML, mutated', () => {
    fc.assert(
      fc.property(mutatedYaml, fc.boolean(), (text, withNotifiers) => {
        check(text, loadPolicy(text, FILE, { knownNotifiers: withNotifiers ? ['pager'] : undefined, unresolvedExtends: 'warn' }));
      }),
      { numRuns: 300 },
    );
  });

  test('random base and repository files, merged', () => {
    fc.assert(
      fc.property(policyFile, policyFile, (base, repo) => {
        const result = loadPolicy(repo, FILE, { base: { file: 'base.yml', text: base } });
        if (!result.ok) {
          expect(result.diagnostics.length).toBeGreaterThan(0);
          expectLocatedWithin(repo, result.diagnostics, { [FILE]: repo, 'base.yml': base });
        } else {
          expect(schemaValid(parse(repo))).toBe(true);
          expect(schemaValid(parse(base))).toBe(true);
          const names = result.policy.rules.map((r) => r.name);
          expect(new Set(names).size).toBe(names.length);
        }
      }),
      { numRuns: 150 },
    );
  });
});
