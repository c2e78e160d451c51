/**
 * Validates a parsed value against a JSON Schema and words each violation for a person: the policy
 * schema here (`checkSchema`), and any other file's schema through `schemaChecker`.
 */
import type { ErrorObject, ValidateFunction } from 'ajv';
import { closest, distance } from 'fastest-levenshtein';
import { validate as validatePolicy } from './generated/policy-validator.js';
import { joinPointer, pointerSegments } from './yaml-source.js';

export interface SchemaProblem {
  pointer: string;
  /** `key` when the problem is the key itself (unknown key), else the value. */
  target: 'value' | 'key';
  message: string;
}

export interface SchemaCheckerOptions {
  /**
   * Whether messages may quote the offending value (`got "x"`). Off for files that hold secrets:
   * then a message names only the kind of value (`got a string`), never the value.
   */
  echoValues: boolean;
  /**
   * Wording for keywords particular to one schema (e.g. a `discriminator`), tried before the common
   * ones. Return a problem, `null` to drop the error (another error says it), or `undefined` for
   * the common wording.
   */
  keywords?: Record<string, (error: ErrorObject, here: (message: string, pointer?: string) => SchemaProblem) => SchemaProblem | null | undefined>;
}

/** A checker for one compiled schema: value in, every violation worded for a person out (each message once). */
export function schemaChecker(validate: ValidateFunction, options: SchemaCheckerOptions): (value: unknown) => SchemaProblem[] {
  return (value) => {
    if (validate(value)) return [];
    const problems: SchemaProblem[] = [];
    const seen = new Set<string>();
    for (const error of validate.errors ?? []) {
      const problem = describe(error, options);
      if (!problem || seen.has(problem.message)) continue;
      seen.add(problem.message);
      problems.push(problem);
    }
    // Every error was left to another that says it; should none be left, the value is still refused.
    if (problems.length === 0) problems.push({ pointer: '', target: 'value', message: `${readablePath('')}: violates the schema` });
    return problems;
  };
}

/** The policy schema (policies/schema.ts), compiled ahead by `npm run schema`. */
export const checkSchema = schemaChecker(validatePolicy as ValidateFunction, { echoValues: true });

function describe(error: ErrorObject, options: SchemaCheckerOptions): SchemaProblem | undefined {
  const at = error.instancePath;
  const params = error.params as Record<string, unknown>;
  const schema = (error.parentSchema ?? {}) as Record<string, unknown>;
  const here = (message: string, pointer = at): SchemaProblem => ({ pointer, target: 'value', message: `${readablePath(pointer)}: ${message}` });
  // `, got <value>` where values may be shown.
  const got = (value: unknown) => (options.echoValues ? `, got ${describeValue(value)}` : '');
  const special = options.keywords?.[error.keyword]?.(error, here);
  if (special !== undefined) return special ?? undefined;
  if (error.propertyName !== undefined) {
    // A key that fails `propertyNames`: said at the key.
    const pointer = joinPointer(at, error.propertyName);
    return { pointer, target: 'key', message: `${readablePath(pointer)}: ${String(schema.patternErrorMessage ?? error.message)}` };
  }
  switch (error.keyword) {
    case 'propertyNames':
      return undefined; // reported by the name's own error above
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      const pointer = joinPointer(at, key);
      const known = Object.keys((schema.properties ?? {}) as object);
      return { pointer, target: 'key', message: `${readablePath(pointer)}: unknown key "${key}"${suggestion(key, known)} Expected one of: ${known.join(', ')}` };
    }
    case 'required': {
      const missing = String(params.missingProperty);
      // `nmae: x` where `name` is required: the unknown key's own message says "did you mean "name"?".
      if (schema.additionalProperties === false && misspeltAs(error.data, missing, Object.keys((schema.properties ?? {}) as object))) return undefined;
      return here(`missing required key "${missing}"`);
    }
    case 'type':
      return here(`expected ${describeTypes(params.type)}, got ${options.echoValues ? describeValue(error.data) : describeKind(error.data)}${options.echoValues ? shapeHint(params.type, schema, error.data) : ''}`);
    case 'const':
      if (!options.echoValues) break;
      // `version: "1"`: YAML's quotes make a string of what was meant as a number.
      if (typeof params.allowedValue === 'number' && typeof error.data === 'string' && error.data.trim() === String(params.allowedValue)) {
        return here(`expected the number ${params.allowedValue}, got the string ${describeValue(error.data)}: write it without quotes`);
      }
      return here(`expected ${JSON.stringify(params.allowedValue)}${got(error.data)}`);
    case 'enum':
      if (!options.echoValues) break;
      return here(`expected one of: ${(params.allowedValues as unknown[]).join(', ')}; got ${describeValue(error.data)}`);
    case 'minimum':
    case 'maximum':
      if (schema.minimum !== undefined && schema.maximum !== undefined) {
        return here(`expected ${describeTypes(schema.type ?? 'number')} from ${String(schema.minimum)} to ${String(schema.maximum)}${got(error.data)}`);
      }
      return here(`expected a number of ${error.keyword === 'minimum' ? 'at least' : 'at most'} ${String(params.limit)}${got(error.data)}`);
    case 'minItems':
      return here(`expected a list with at least ${String(params.limit)} item${params.limit === 1 ? '' : 's'}${Array.isArray(error.data) && error.data.length === 0 ? ', got an empty list' : ''}`);
    case 'minLength':
      return here(params.limit === 1 ? 'expected a non-empty string' : `expected at least ${String(params.limit)} characters`);
    case 'maxLength':
      return here(`expected at most ${String(params.limit)} characters`);
    case 'uniqueItems': {
      const [first, repeat] = [Number(params.i), Number(params.j)].sort((a, b) => a - b);
      const pointer = joinPointer(at, repeat);
      if (!options.echoValues) return here(`item ${repeat + 1} repeats item ${first + 1}`, pointer);
      return here(`duplicate ${describeValue((error.data as unknown[])[repeat])} (same as item ${first + 1})`, pointer);
    }
    case 'pattern':
      return here(`${typeof schema.patternErrorMessage === 'string' ? schema.patternErrorMessage : `expected to match ${String(params.pattern)}`}${got(error.data)}`);
  }
  return here(error.message ?? `violates the schema (${error.keyword})`);
}

/**
 * How to write what a list or a mapping is wanted for: `approvers: codeowners` as a list of one,
 * `cron: "0 17 * * 5"` as the mapping of the keys it needs, an empty key's value indented under it.
 */
function shapeHint(types: unknown, schema: Record<string, unknown>, data: unknown): string {
  // `require:` with its keys below it at its own indentation: they are read as its neighbours.
  if (data === null && (types === 'object' || types === 'array')) return '; if the lines below it belong to it, indent them under it';
  if (typeof data !== 'string' && typeof data !== 'number') return '';
  if (types === 'array') return `; write a list: [${JSON.stringify(data)}]`;
  const required = Array.isArray(schema.required) ? (schema.required as string[]) : [];
  if (types === 'object' && required.length > 0) return `; write a mapping: { ${required.map((key) => `${key}: …`).join(', ')} }`;
  return '';
}

/**
 * Ends the sentence about a misspelt word: `; did you mean "x"?` when a candidate is close by edit
 * distance or the same ignoring case, `_` and `-`; else just `.`.
 */
export function suggestion(word: string, candidates: readonly string[]): string {
  const meant = meantWord(word, candidates);
  return meant === undefined ? '.' : `; did you mean "${meant}"?`;
}

/** The candidate a misspelt word was probably meant as: close by edit distance or the same ignoring case, `_` and `-`. */
export function meantWord(word: string, candidates: readonly string[]): string | undefined {
  if (candidates.length === 0) return undefined;
  const squash = (s: string) => s.toLowerCase().replace(/[-_]/g, '');
  const sameLetters = candidates.find((c) => squash(c) === squash(word));
  // `escalations` for `escalate`: one word grown from the other.
  const grown = candidates.find((c) => Math.min(c.length, word.length) >= 5 && (squash(word).startsWith(squash(c).slice(0, -1)) || squash(c).startsWith(squash(word))));
  // `env` for `environment`: the start of one candidate only.
  const starts = word.length >= 3 ? candidates.filter((c) => squash(c).startsWith(squash(word))) : [];
  const abbreviated = starts.length === 1 ? starts[0] : undefined;
  const nearest = sameLetters ?? grown ?? abbreviated ?? closest(word, [...candidates]);
  // Never a word that shares nothing with it: "tz" is not a misspelling of "if".
  const edits = distance(word, nearest);
  const close = sameLetters !== undefined || grown !== undefined || abbreviated !== undefined || (edits <= Math.max(2, Math.floor(word.length / 3)) && edits < word.length);
  return close ? nearest : undefined;
}

/**
 * Whether `value` (a mapping) holds an unknown key that reads as a misspelling of `key`: then what
 * says the key is missing only repeats the unknown key's "did you mean" at another line.
 */
export function misspeltAs(value: unknown, key: string, known: readonly string[]): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  return Object.keys(value).some((k) => !known.includes(k) && meantWord(k, known) === key);
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

/** The value itself, shortened: for files without secrets. */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

/** Names the kind of a value without showing it: for files whose values are secrets. */
export function describeKind(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return value === '' ? 'an empty string' : 'a string';
  return `a ${typeof value}`;
}
