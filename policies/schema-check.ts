/** Validates a parsed policy value against the JSON Schema and words each violation for a person. */
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import { closest, distance } from 'fastest-levenshtein';
import { policySchema } from './schema.js';
import { joinPointer, pointerSegments } from './yaml-source.js';

export interface SchemaProblem {
  pointer: string;
  /** `key` when the problem is the key itself (unknown key), else the value. */
  target: 'value' | 'key';
  message: string;
}

const ajv = new Ajv2020({ allErrors: true, verbose: true, strict: true, allowUnionTypes: true });
// Editors (VS Code, yaml-language-server) show this instead of the raw pattern; the loader does too.
ajv.addKeyword({ keyword: 'patternErrorMessage', schemaType: 'string' });
const validate = ajv.compile(policySchema);

export function checkSchema(value: unknown): SchemaProblem[] {
  if (validate(value)) return [];
  return (validate.errors ?? []).map(describe);
}

function describe(error: ErrorObject): SchemaProblem {
  const at = error.instancePath;
  const params = error.params as Record<string, unknown>;
  const schema = (error.parentSchema ?? {}) as Record<string, unknown>;
  const here = (message: string): SchemaProblem => ({ pointer: at, target: 'value', message: `${readablePath(at)}: ${message}` });
  switch (error.keyword) {
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      const pointer = joinPointer(at, key);
      const known = Object.keys((schema.properties ?? {}) as object);
      return { pointer, target: 'key', message: `${readablePath(pointer)}: unknown key "${key}"${suggestion(key, known)} Expected one of: ${known.join(', ')}` };
    }
    case 'required':
      return here(`missing required key "${String(params.missingProperty)}"`);
    case 'type':
      return here(`expected ${describeTypes(params.type)}, got ${describeValue(error.data)}`);
    case 'const':
      return here(`expected ${JSON.stringify(params.allowedValue)}, got ${describeValue(error.data)}`);
    case 'enum':
      return here(`expected one of: ${(params.allowedValues as unknown[]).join(', ')}; got ${describeValue(error.data)}`);
    case 'minimum':
      return here(`expected a number of at least ${String(params.limit)}, got ${describeValue(error.data)}`);
    case 'minItems':
      return here(`expected a list with at least ${String(params.limit)} item${params.limit === 1 ? '' : 's'}, got an empty list`);
    case 'minLength':
      return here('expected a non-empty string');
    case 'maxLength':
      return here(`expected at most ${String(params.limit)} characters`);
    case 'uniqueItems': {
      const [first, second] = [Number(params.j), Number(params.i)].sort((a, b) => a - b);
      const pointer = joinPointer(at, second);
      const item = (error.data as unknown[])[second];
      return { pointer, target: 'value', message: `${readablePath(pointer)}: duplicate ${describeValue(item)} (same as item ${first + 1})` };
    }
    case 'pattern':
      return here(`${typeof schema.patternErrorMessage === 'string' ? schema.patternErrorMessage : `expected to match ${String(params.pattern)}`}, got ${describeValue(error.data)}`);
    default:
      return here(error.message ?? `violates the schema (${error.keyword})`);
  }
}

/**
 * Ends the sentence about a misspelt word: `; did you mean "x"?` when a candidate is close by edit
 * distance or the same ignoring case, `_` and `-`; else just `.`.
 */
export function suggestion(word: string, candidates: readonly string[]): string {
  if (candidates.length === 0) return '.';
  const squash = (s: string) => s.toLowerCase().replace(/[-_]/g, '');
  const sameLetters = candidates.find((c) => squash(c) === squash(word));
  const nearest = sameLetters ?? closest(word, [...candidates]);
  const close = sameLetters !== undefined || distance(word, nearest) <= Math.max(2, Math.floor(word.length / 3));
  return close ? `; did you mean "${nearest}"?` : '.';
}

/** `/rules/0/if/branch` → `rules[0].if.branch` (the file's own spelling of where a value is). */
export function readablePath(pointer: string): string {
  let out = '';
  for (const segment of pointerSegments(pointer)) out += /^\d+$/.test(segment) ? `[${segment}]` : out ? `.${segment}` : segment;
  return out || '(top level)';
}

const TYPE_WORDS: Record<string, string> = {
  object: 'a mapping',
  array: 'a list',
  string: 'a string',
  integer: 'a whole number',
  number: 'a number',
  boolean: 'true or false',
  null: 'nothing',
};

function describeTypes(types: unknown): string {
  const list = (Array.isArray(types) ? types : [types]).map((t) => TYPE_WORDS[String(t)] ?? String(t));
  return list.length === 1 ? list[0] : `${list.slice(0, -1).join(', ')} or ${list[list.length - 1]}`;
}

export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}
