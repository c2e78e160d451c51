import { mkdir } from 'node:fs/promises';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import type { Database, SqlExecutor } from './database.js';

const IN_MEMORY = 'memory://';

/**
 * Embedded PostgreSQL in WebAssembly. PGlite has a single session and queues every query and
 * transaction, so row locks never wait; the SQL is still the same as on a server.
 */
export async function openPgliteDatabase(dataDir: string, schema?: string): Promise<Database> {
  if (!dataDir.startsWith(IN_MEMORY)) await mkdir(dataDir, { recursive: true });
  const db = await PGlite.create(dataDir);
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

function executor(tx: Transaction): SqlExecutor {
  return {
    query: async (text, params) => (await tx.query(text, params ? [...params] : undefined)).rows as never,
    exec: async (text) => {
      await tx.exec(text);
    },
  };
}
