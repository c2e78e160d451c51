/**
 * `mercurial-jit audit verify`: recomputes the audit trail's hash chain.
 * Exit 0: intact. 1: tampered (the first bad row explained) or could not be verified. 2: usage.
 * `argv` is what follows `audit` on the command line.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { DEFAULT_DATA_DIR, openStore } from '../store/index.js';
import { EXIT, HELP_OPTION, UsageError, parseCommandArgs, type CliIo } from './io.js';

export const AUDIT_USAGE = `Usage: mercurial-jit audit verify [--database-url URL] [--data-dir DIR] [--schema NAME] [--expect-head N:HASH]

Checks that no audit event was edited, deleted or reordered.
  --database-url URL  PostgreSQL server (default: $DATABASE_URL); unset: the embedded store
  --data-dir DIR      embedded store directory (default: ${DEFAULT_DATA_DIR})
  --schema NAME       PostgreSQL schema holding the tables (default: the search_path)
  --expect-head N:HASH
                      a head an earlier run printed ("N events, head sha256 HASH"), kept outside
                      the database: the chain must still hold it at event N, or it was rewritten
Exit status: 0 intact, 1 tampered or not verifiable, 2 usage error.
`;

export async function auditCommand(argv: string[], io: CliIo): Promise<number> {
  try {
    return await verify(argv, io);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.stderr(`mercurial-jit audit: ${err.message}\n${AUDIT_USAGE}`);
    return EXIT.usage;
  }
}

async function verify(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs({
    args: argv,
    allowPositionals: true,
    options: {
      'database-url': { type: 'string' },
      'data-dir': { type: 'string' },
      schema: { type: 'string' },
      'expect-head': { type: 'string' },
      ...HELP_OPTION,
    },
  });
  if (values.help) {
    io.stdout(AUDIT_USAGE);
    return EXIT.ok;
  }
  if (positionals.length === 0) throw new UsageError('missing subcommand');
  if (positionals[0] !== 'verify') throw new UsageError(`unknown subcommand "${positionals[0]}"`);
  if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}": verify takes options only`);

  const anchor = values['expect-head'] === undefined ? undefined : parseHead(values['expect-head']);
  const databaseUrl = values['database-url'] ?? process.env.DATABASE_URL;
  const dataDir = resolve(io.cwd, values['data-dir'] ?? DEFAULT_DATA_DIR);
  // Opening an empty directory would create a fresh, trivially intact store: say what is wrong instead.
  if (!databaseUrl && !existsSync(resolve(dataDir, 'PG_VERSION'))) {
    io.stderr(`mercurial-jit audit: no store in ${dataDir} (give --data-dir, or --database-url / DATABASE_URL)\n`);
    return EXIT.invalidInput;
  }

  let result;
  try {
    const store = await openStore({ databaseUrl, dataDir, schema: values.schema, migrate: false });
    try {
      result = await store.verifyAudit(anchor);
    } finally {
      await store.close();
    }
  } catch (err) {
    io.stderr(`mercurial-jit audit: cannot verify the audit trail: ${(err as Error).message}\n`);
    return EXIT.invalidInput;
  }
  if (result.ok) {
    io.stdout(`audit trail intact: ${result.count} events, head sha256 ${result.headHash}\n`);
    return EXIT.ok;
  }
  io.stdout(
    `audit trail TAMPERED: first bad row is seq ${result.seq}: ${result.reason}\n` +
      `(${result.checked} events before it verified)\n`,
  );
  return EXIT.invalidInput;
}

function parseHead(text: string): { seq: number; hash: string } {
  const match = /^([1-9]\d*):([0-9a-f]{64})$/.exec(text.trim());
  if (!match || !Number.isSafeInteger(Number(match[1]))) {
    throw new UsageError(`--expect-head: expected N:HASH, the number of events and the sha256 head an earlier run printed (got "${text}")`);
  }
  return { seq: Number(match[1]), hash: match[2]! };
}
