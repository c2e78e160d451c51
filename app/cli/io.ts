/** What every CLI command gets, and the pieces they share: exit codes, usage errors, reading files. */
import { createReadStream } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { zoneSuggestion } from '../../policies/policy-checks.js';
import { meantWord } from '../../policies/schema-check.js';
import { isValidTimeZone, localInstant } from '../../policies/windows.js';
import { decodeUtf8, NOT_UTF8 } from '../../policies/yaml-source.js';
import { jsonChunks } from './json-text.js';

export interface CliIo {
  stdout(s: string): void;
  stderr(s: string): void;
  /** UTF-8 bytes for stdout, for answers of many megabytes; without it they go to `stdout` as text. */
  stdoutBytes?(chunk: Uint8Array): void;
  /** Relative file arguments are read from here. */
  cwd: string;
  /** The installed package's version, for `--version`. */
  version?: string;
}

/** Exit codes, documented in `mercurial-jit --help` and the README. */
export const EXIT = {
  ok: 0,
  /** An input file is invalid or unreadable. */
  invalidInput: 1,
  /** Bad arguments: usage help was printed on stderr. */
  usage: 2,
} as const;

export type Command = (argv: string[], io: CliIo) => Promise<number>;

/** Thrown for bad arguments; the command table prints the message and the command's usage. */
export class UsageError extends Error {}

export type Format = 'json' | 'text';

export const FORMAT_OPTION = { format: { type: 'string', default: 'json' } } as const;
export const HELP_OPTION = { help: { type: 'boolean', short: 'h' } } as const;

/**
 * node's parseArgs (strict by default: unknown options are errors), its errors turned into usage
 * errors. A misspelt option is named with the option probably meant (`--formt`: did you mean
 * --format?), and without node's advice about positionals starting with '-', which does not help.
 */
export function parseCommandArgs<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (err) {
    const unknown = (err as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? /^Unknown option '(--?[^']*)'/.exec((err as Error).message) : null;
    if (!unknown) throw new UsageError((err as Error).message);
    const given = unknown[1] ?? '';
    const meant = given.startsWith('--') ? meantWord(given.slice(2).split('=')[0] ?? '', Object.keys(config.options ?? {})) : undefined;
    throw new UsageError(`Unknown option '${given}'${meant === undefined ? '' : `; did you mean --${meant}?`}`);
  }
}

export function formatOf(value: string | undefined): Format {
  if (value === 'json' || value === 'text') return value;
  throw new UsageError(`--format must be json or text, not "${value}"`);
}

const ZONED_WALL_CLOCK = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?)\[([^\]]+)\]$/;

/**
 * `--at`: an instant with its offset, or a wall-clock time with its IANA zone in brackets
 * (`2026-12-24T18:00[Europe/Berlin]`, as RFC 9557 writes it), read as the policy reads its windows'
 * times. A time with neither would depend on the machine's zone. Now when absent.
 */
export function instantOption(text: string | undefined): number {
  if (text === undefined) return Date.now();
  const zoned = ZONED_WALL_CLOCK.exec(text);
  if (zoned) {
    const [, wallClock, zone] = zoned as unknown as [string, string, string];
    if (!isValidTimeZone(zone)) throw new UsageError(`--at: unknown time zone "${zone}"${zoneSuggestion(zone)} Write an IANA name such as Europe/Berlin, America/New_York or UTC`);
    const instant = localInstant(wallClock, zone);
    if (!instant.ok) throw new UsageError(`--at: ${instant.message}`);
    return instant.value;
  }
  const instant = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})$/.test(text) ? Date.parse(text) : NaN;
  if (Number.isNaN(instant)) {
    throw new UsageError(`--at must be an ISO 8601 instant with a zone, such as 2026-12-24T18:00:00Z, or a wall-clock time with its time zone, such as 2026-12-24T19:00[Europe/Berlin], not "${text}"`);
  }
  return instant;
}

export type ReadResult = { ok: true; bytes: Buffer } | { ok: false; reason: string };

/**
 * The most an input is read of: far beyond any policy, CODEOWNERS or list of changed files, so
 * that a device that never ends (`/dev/zero`) is refused rather than read until memory runs out.
 */
export const MAX_INPUT_BYTES = 64 * 1024 * 1024;

export async function readInput(io: CliIo, file: string): Promise<ReadResult> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    // A stream, not readFile: a pipe (`<(…)`) has no size to check first.
    for await (const chunk of createReadStream(resolve(io.cwd, file), { highWaterMark: 1024 * 1024 })) {
      size += (chunk as Buffer).length;
      if (size > MAX_INPUT_BYTES) return { ok: false, reason: `cannot read: larger than ${MAX_INPUT_BYTES / 1024 / 1024} MiB` };
      chunks.push(chunk as Buffer);
    }
    return { ok: true, bytes: Buffer.concat(chunks) };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (err as Error).message;
    return { ok: false, reason: `cannot read: ${why}` };
  }
}

export type TextResult = { ok: true; text: string } | { ok: false; message: string };

/**
 * A text input (CODEOWNERS, a list of files): refused, as `validate` refuses a policy, when it is not
 * UTF-8, rather than decoded into replacement characters that match nothing.
 */
export async function readTextInput(io: CliIo, file: string): Promise<TextResult> {
  const read = await readInput(io, file);
  if (!read.ok) return { ok: false, message: `${file}: ${read.reason}` };
  const text = decodeUtf8(read.bytes);
  return text === undefined ? { ok: false, message: `${file}:1:1: ${NOT_UTF8}` } : { ok: true, text };
}

export const json = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

/** Prints what `json(value)` returns, written in chunks that repeat shared parts' bytes (see json-text.ts). */
export function writeJson(io: CliIo, value: unknown): void {
  const chunks = jsonChunks(value);
  if (io.stdoutBytes) for (const chunk of chunks) io.stdoutBytes(chunk);
  else io.stdout(Buffer.concat(chunks).toString('utf8'));
}
