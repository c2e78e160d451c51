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
import { isMap, isPair, isScalar, isSeq, visit, type Document } from 'yaml';
import type { ValidateFunction } from 'ajv';
import { readablePath, schemaChecker, suggestion } from '../../policies/schema-check.js';
import { validate as validateNotifiers } from './generated/notifiers-validator.js';
import { joinPointer, parseYamlSource } from '../../policies/yaml-source.js';
import { LOOPBACK_HOST, NOTIFIER_TYPES } from './config-schema.js';

interface NotifierScope {
  /** The accounts whose repositories' policies may name it; every account when absent. */
  owners?: readonly string[];
}

export interface SlackNotifierConfig extends NotifierScope {
  name: string;
  type: 'slack';
  url: string;
}

export interface EmailNotifierConfig extends NotifierScope {
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

export interface WebhookNotifierConfig extends NotifierScope {
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

/** The names the policies of `owner`'s repositories may use in `notify:` (the policy loader's `knownNotifiers`). */
export function notifierNames(config: NotifiersConfig, owner: string): ReadonlySet<string> {
  const account = owner.toLowerCase();
  const scoped = [...config.notifiers.values()].filter((n) => n.owners === undefined || n.owners.some((o) => o.toLowerCase() === account));
  return new Set(scoped.map((n) => n.name));
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

const NOT_A_MAPPING = 'expected a mapping with a "notifiers:" key';

export function parseNotifiersConfig(text: string, file: string, env: NodeJS.ProcessEnv): NotifiersParseResult {
  const source = parseYamlSource(text, file, {
    subject: 'notifier configuration',
    emptyMessage: NOT_A_MAPPING,
    yamlDuplicateKeyMessage: true,
    prepare: (doc) => (isMap(doc.contents) ? substituteVariables(doc, text, env) : [{ offset: doc.contents?.range?.[0] ?? 0, message: NOT_A_MAPPING }]),
  });
  if (source.diagnostics.length > 0) return { ok: false, diagnostics: source.diagnostics.map(({ file, line, col, message }) => ({ file, line, col, message })) };

  const problems = checkNotifiersSchema(source.value);
  if (problems.length > 0) {
    const diagnostics = problems.map(({ pointer, target, message }) => ({ ...source.locate(pointer, target), message }));
    return { ok: false, diagnostics: diagnostics.sort((a, b) => a.line - b.line || a.col - b.col) };
  }
  return { ok: true, config: { file, notifiers: toConfigs(source.value as RawFile) } };
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

// The schema (config-schema.ts), compiled ahead by `npm run schema` with coerceTypes: a port from the
// environment (`port: ${SMTP_PORT}`) is a string until checked.
const checkNotifiersSchema = schemaChecker(validateNotifiers as ValidateFunction, {
  // Values are often secrets: messages name their kind, never the value.
  echoValues: false,
  keywords: {
    discriminator: (error, here) => {
      const type = (error.data as Record<string, unknown> | undefined)?.type;
      // A missing or non-string type is reported by `required` or `type`.
      if (typeof type !== 'string') return null;
      return here(`unknown notifier type "${type}"${suggestion(type, NOTIFIER_TYPES)} Expected one of: ${NOTIFIER_TYPES.join(', ')}`, joinPointer(error.instancePath, 'type'));
    },
  },
});

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
  owners?: string[];
}

interface RawFile {
  notifiers: Record<string, RawNotifier>;
}

/** The hosts to which a notifier may speak in clear, as for `http://` URLs; an SMTP host may write `::1` bare. */
const LOOPBACK = new RegExp(`^(?:${LOOPBACK_HOST}|::1)$`, 'i');

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK.test(host.trim());
}

function toConfigs(raw: RawFile): Map<string, NotifierConfig> {
  const configs = new Map<string, NotifierConfig>();
  for (const [name, n] of Object.entries(raw.notifiers)) {
    const scope = n.owners ? { owners: n.owners } : {};
    if (n.type === 'slack') configs.set(name, { name, type: 'slack', url: n.url!, ...scope });
    else if (n.type === 'webhook') configs.set(name, { name, type: 'webhook', url: n.url!, secret: n.secret!, ...scope });
    else {
      const secure = n.secure ?? false;
      configs.set(name, {
        name,
        ...scope,
        type: 'email',
        host: n.host!,
        port: n.port ?? (secure ? 465 : 587),
        secure,
        // Off loopback, STARTTLS is required unless the file says otherwise: a server that does not offer it, or a man in
        // the middle who strips it from the greeting, would otherwise be sent the password and every mail in clear.
        requireTls: n.require_tls ?? !(secure || isLoopbackHost(n.host!)),
        ...(n.auth ? { auth: { user: n.auth.user, pass: n.auth.pass } } : {}),
        from: n.from!,
        to: n.to!,
        subjectPrefix: n.subject_prefix ?? DEFAULT_SUBJECT_PREFIX,
      });
    }
  }
  return configs;
}
