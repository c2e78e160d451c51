/**
 * The App's notifier configuration: a YAML file named by NOTIFIERS_FILE. It holds secrets, so it
 * lives with the App, never in a repository; values may reference environment variables
 * (`url: ${SLACK_URL}`). Every problem is reported as `file:line:col: message`.
 *
 * Variables are substituted in the parsed document, scalar by scalar, never in the raw text: a
 * secret containing `: ` or `#` cannot change the file's structure. Error messages never echo a
 * value, since values are often secrets.
 */
import { readFile } from 'node:fs/promises';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node } from 'yaml';
import { readablePath, suggestion } from '../../policies/schema-check.js';
import { joinPointer, pointerSegments } from '../../policies/yaml-source.js';
import { NOTIFIER_TYPES, notifiersSchema } from './config-schema.js';

export interface SlackNotifierConfig {
  name: string;
  type: 'slack';
  url: string;
}

export interface EmailNotifierConfig {
  name: string;
  type: 'email';
  host: string;
  port: number;
  secure: boolean;
  requireTls: boolean;
  auth?: { user: string; pass: string };
  from: string;
  to: string[];
  subjectPrefix: string;
}

export interface WebhookNotifierConfig {
  name: string;
  type: 'webhook';
  url: string;
  secret: string;
}

export type NotifierConfig = SlackNotifierConfig | EmailNotifierConfig | WebhookNotifierConfig;

export interface NotifiersConfig {
  /** The file it came from; undefined when NOTIFIERS_FILE is not set (no notifiers). */
  file?: string;
  notifiers: ReadonlyMap<string, NotifierConfig>;
}

export interface ConfigDiagnostic {
  file: string;
  line: number;
  col: number;
  message: string;
}

export type NotifiersParseResult = { ok: true; config: NotifiersConfig } | { ok: false; diagnostics: ConfigDiagnostic[] };

export const DEFAULT_SUBJECT_PREFIX = '[JIT approval]';

/** The configuration could not be used; `message` lists every problem, one `file:line:col: …` per line. */
export class NotifiersConfigError extends Error {
  constructor(
    message: string,
    readonly diagnostics: ConfigDiagnostic[] = [],
  ) {
    super(message);
    this.name = 'NotifiersConfigError';
  }
}

/** The names a policy's `notify:` may use (pass as the policy loader's `knownNotifiers`). */
export function notifierNames(config: NotifiersConfig): ReadonlySet<string> {
  return new Set(config.notifiers.keys());
}

export function formatConfigDiagnostic(d: ConfigDiagnostic): string {
  return `${d.file}:${d.line}:${d.col}: ${d.message}`;
}

/** Reads the file named by NOTIFIERS_FILE; no file configured means no notifiers. Throws NotifiersConfigError. */
export async function loadNotifiersConfig(env: NodeJS.ProcessEnv = process.env): Promise<NotifiersConfig> {
  const file = env.NOTIFIERS_FILE;
  if (!file) return { notifiers: new Map() };
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new NotifiersConfigError(`${file}: cannot read NOTIFIERS_FILE: ${(err as Error).message}`);
  }
  const result = parseNotifiersConfig(text, file, env);
  if (!result.ok) throw new NotifiersConfigError(result.diagnostics.map(formatConfigDiagnostic).join('\n'), result.diagnostics);
  return result.config;
}

export function parseNotifiersConfig(text: string, file: string, env: NodeJS.ProcessEnv): NotifiersParseResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, stringKeys: true });
  const position = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return { file, line, col };
  };
  const syntax = doc.errors.map((e) => ({ ...position(e.pos[0]), message: `YAML syntax error: ${e.message}` }));
  if (syntax.length > 0) return { ok: false, diagnostics: syntax };
  if (!isMap(doc.contents)) {
    return { ok: false, diagnostics: [{ ...position(doc.contents?.range?.[0] ?? 0), message: 'expected a mapping with a "notifiers:" key' }] };
  }

  const unresolved = substituteVariables(doc, text, env).map(({ offset, message }) => ({ ...position(offset), message }));
  if (unresolved.length > 0) return { ok: false, diagnostics: unresolved };

  const value: unknown = doc.toJS({ maxAliasCount: 100 });
  if (!validate(value)) {
    const diagnostics = describeErrors(validate.errors ?? [], value).map(({ pointer, target, message }) => ({
      ...position(offsetOf(doc, pointer, target)),
      message,
    }));
    return { ok: false, diagnostics: diagnostics.sort((a, b) => a.line - b.line || a.col - b.col) };
  }
  return { ok: true, config: { file, notifiers: toConfigs(value as RawFile) } };
}

const REFERENCE = /\$(\$?)\{([^}]*)\}/g;
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Replaces `${NAME}` in every string value (not keys); `$${` stands for a literal `${`. */
function substituteVariables(doc: Document, text: string, env: NodeJS.ProcessEnv): { offset: number; message: string }[] {
  const problems: { offset: number; message: string }[] = [];
  visit(doc, {
    Scalar(key, node, path) {
      if (key === 'key' || typeof node.value !== 'string' || !node.value.includes('${')) return;
      const where = readablePath(pointerOf([...path, node]));
      const start = node.range?.[0] ?? 0;
      const source = text.slice(start, node.range?.[1]);
      // Where the reference is written; for a quoted scalar with escapes, the scalar's start.
      const at = (reference: string) => start + Math.max(0, source.indexOf(reference));
      node.value = node.value.replace(REFERENCE, (reference: string, escaped: string, name: string) => {
        if (escaped) return reference.slice(1);
        if (!VARIABLE_NAME.test(name)) {
          problems.push({ offset: at(reference), message: `${where}: "${reference}" is not a valid variable reference: expected \${NAME} with letters, digits and "_"` });
          return reference;
        }
        const value = env[name];
        if (value === undefined || value === '') {
          problems.push({ offset: at(reference), message: `${where}: environment variable ${name} is not set` });
          return reference;
        }
        return value;
      });
    },
  });
  return problems;
}

/** The JSON pointer of the last node in a `visit` path (document, collections, pairs, …, node). */
function pointerOf(path: readonly unknown[]): string {
  let pointer = '';
  for (const [i, ancestor] of path.entries()) {
    if (isPair(ancestor) && isScalar(ancestor.key)) pointer = joinPointer(pointer, String(ancestor.key.value));
    else if (isSeq(ancestor)) pointer = joinPointer(pointer, ancestor.items.indexOf(path[i + 1] as never));
  }
  return pointer;
}

const ajv = new Ajv2020({ allErrors: true, verbose: true, strict: true, discriminator: true, coerceTypes: true });
// Shown instead of a raw regular expression, as the policy schema does.
ajv.addKeyword({ keyword: 'patternErrorMessage', schemaType: 'string' });
const validate: ValidateFunction = ajv.compile(notifiersSchema);

interface Problem {
  pointer: string;
  target: 'value' | 'key';
  message: string;
}

function describeErrors(errors: ErrorObject[], root: unknown): Problem[] {
  const problems: Problem[] = [];
  const seen = new Set<string>();
  for (const error of errors) {
    const problem = describe(error, root);
    if (!problem || seen.has(problem.message)) continue;
    seen.add(problem.message);
    problems.push(problem);
  }
  return problems;
}

function describe(error: ErrorObject, root: unknown): Problem | undefined {
  const at = error.instancePath;
  const params = error.params as Record<string, unknown>;
  const schema = (error.parentSchema ?? {}) as Record<string, unknown>;
  const here = (message: string, pointer = at): Problem => ({ pointer, target: 'value', message: `${readablePath(pointer)}: ${message}` });
  if (error.propertyName !== undefined) {
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
    case 'required':
      return here(`missing required key "${String(params.missingProperty)}"`);
    case 'discriminator': {
      const type = (valueAt(root, at) as Record<string, unknown> | undefined)?.type;
      // A missing or non-string type is reported by `required` or `type`.
      if (typeof type !== 'string') return undefined;
      const pointer = joinPointer(at, 'type');
      return here(`unknown notifier type "${type}"${suggestion(type, NOTIFIER_TYPES)} Expected one of: ${NOTIFIER_TYPES.join(', ')}`, pointer);
    }
    case 'type':
      return here(`expected ${TYPE_WORDS[String(params.type)] ?? String(params.type)}, got ${kindOf(error.data)}`);
    case 'pattern':
      return here(String(schema.patternErrorMessage ?? `expected to match ${String(params.pattern)}`));
    case 'minLength':
      return here(params.limit === 1 ? 'expected a non-empty string' : `expected at least ${String(params.limit)} characters`);
    case 'minItems':
      return here(`expected a list with at least ${String(params.limit)} item${params.limit === 1 ? '' : 's'}`);
    case 'uniqueItems': {
      const [first, repeat] = [Number(params.i), Number(params.j)].sort((a, b) => a - b);
      return here(`item ${repeat + 1} repeats item ${first + 1}`, joinPointer(at, repeat));
    }
    case 'minimum':
    case 'maximum':
      return here(`expected a whole number from 1 to 65535`);
    default:
      return here(error.message ?? `violates the schema (${error.keyword})`);
  }
}

const TYPE_WORDS: Record<string, string> = { object: 'a mapping', array: 'a list', string: 'a string', integer: 'a whole number', boolean: 'true or false' };

/** Names the kind of a value without showing it: values are often secrets. */
function kindOf(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return value === '' ? 'an empty string' : 'a string';
  return `a ${typeof value}`;
}

function valueAt(root: unknown, pointer: string): unknown {
  let value = root;
  for (const segment of pointerSegments(pointer)) value = (value as Record<string, unknown> | undefined)?.[segment];
  return value;
}

/** Where the node at `pointer` starts in the text (its key, for `target: 'key'`); the nearest existing parent otherwise. */
function offsetOf(doc: Document, pointer: string, target: 'value' | 'key'): number {
  let node: unknown = doc.contents;
  let offset = (node as Node).range?.[0] ?? 0;
  const segments = pointerSegments(pointer);
  for (const [i, segment] of segments.entries()) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === segment);
      if (!pair) break;
      const keyStart = (pair.key as Node).range?.[0];
      const valueStart = (pair.value as Node | null)?.range?.[0];
      offset = (i === segments.length - 1 && target === 'key' ? keyStart : (valueStart ?? keyStart)) ?? offset;
      node = pair.value;
    } else if (isSeq(node)) {
      const item = node.items[Number(segment)] as Node | undefined;
      if (!item) break;
      offset = item.range?.[0] ?? offset;
      node = item;
    } else {
      break;
    }
  }
  return offset;
}

interface RawNotifier {
  type: 'slack' | 'email' | 'webhook';
  url?: string;
  secret?: string;
  host?: string;
  port?: number;
  secure?: boolean;
  require_tls?: boolean;
  auth?: { user: string; pass: string };
  from?: string;
  to?: string[];
  subject_prefix?: string;
}

interface RawFile {
  notifiers: Record<string, RawNotifier>;
}

function toConfigs(raw: RawFile): Map<string, NotifierConfig> {
  const configs = new Map<string, NotifierConfig>();
  for (const [name, n] of Object.entries(raw.notifiers)) {
    if (n.type === 'slack') configs.set(name, { name, type: 'slack', url: n.url! });
    else if (n.type === 'webhook') configs.set(name, { name, type: 'webhook', url: n.url!, secret: n.secret! });
    else {
      const secure = n.secure ?? false;
      configs.set(name, {
        name,
        type: 'email',
        host: n.host!,
        port: n.port ?? (secure ? 465 : 587),
        secure,
        requireTls: n.require_tls ?? false,
        ...(n.auth ? { auth: { user: n.auth.user, pass: n.auth.pass } } : {}),
        from: n.from!,
        to: n.to!,
        subjectPrefix: n.subject_prefix ?? DEFAULT_SUBJECT_PREFIX,
      });
    }
  }
  return configs;
}
