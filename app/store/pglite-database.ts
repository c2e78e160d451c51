import { mkdir } from 'node:fs/promises';
import type { Transaction } from '@electric-sql/pglite';
import type { Database, TransactionExecutor } from './database.js';
import { seedFromTemplate } from './pglite-template.js';

const IN_MEMORY = 'memory://';

/**
 * PostgreSQL's 128 MB of shared buffers live in PGlite's WebAssembly memory and end up resident; a
 * single-session embedded store works from the files (and the OS page cache) with far fewer.
 */
const SHARED_BUFFERS = '16MB';

/**
 * Embedded PostgreSQL in WebAssembly. PGlite has a single session and queues every query and
 * transaction, so row locks never wait; the SQL is still the same as on a server.
 */
export async function openPgliteDatabase(dataDir: string, schema?: string): Promise<Database> {
  if (!dataDir.startsWith(IN_MEMORY) && !(await seedFromTemplate(dataDir))) await mkdir(dataDir, { recursive: true });
  // Imported here, not at the top: the App's start bundle would otherwise load PGlite on PostgreSQL too.
  const { PGlite } = await import('@electric-sql/pglite');
  const db = await PGlite.create(dataDir, { startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${SHARED_BUFFERS}`] });
  // The single session keeps this setting for every later query and transaction.
  if (schema) await db.exec(`SET search_path TO ${schema}`);
  return {
    query: async (text, params) => (await db.query(text, params ? [...params] : undefined)).rows as never,
    exec: async (text) => {
      await db.exec(text);
    },
    transaction: (work) => db.transaction((tx) => work(executor(tx))),
    listen: (channel, onNotify) => db.listen(channel, onNotify),
    close: () => db.close(),
  };
}

function executor(tx: Transaction): TransactionExecutor {
  const exec = async (text: string): Promise<void> => {
    await tx.exec(text);
  };
  return {
    query: async (text, params) => (await tx.query(text, params ? [...params] : undefined)).rows as never,
    exec,
    // The single session never has another transaction waiting on a lock: PGlite commits when the work ends.
    commitWith: (statements) => exec(statements.join(';\n')),
  };
}
