import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { PGlite, Transaction } from '@electric-sql/pglite';
import { lockDataDir } from './data-dir-lock.js';
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
  const onDisk = !dataDir.startsWith(IN_MEMORY);
  if (onDisk && !(await seedFromTemplate(dataDir))) await mkdir(dataDir, { recursive: true });
  // Locked before a cluster is opened; a new one is locked once PGlite's initdb, which wants an empty directory, has made it.
  let unlock = onDisk && existsSync(join(dataDir, 'PG_VERSION')) ? await lockDataDir(dataDir) : undefined;
  // Imported here, not at the top: the App's start bundle would otherwise load PGlite on PostgreSQL too.
  const { PGlite: Embedded } = await import('@electric-sql/pglite');
  let db: PGlite;
  try {
    db = await Embedded.create(dataDir, { startParams: [...Embedded.defaultStartParams, '-c', `shared_buffers=${SHARED_BUFFERS}`] });
  } catch (err) {
    await unlock?.();
    throw err;
  }
  if (onDisk && !unlock) {
    unlock = await lockDataDir(dataDir).catch(async (err: unknown) => {
      await db.close();
      throw err;
    });
  }
  // The single session keeps this setting for every later query and transaction.
  if (schema) await db.exec(`SET search_path TO ${schema}`);
  return {
    query: async (text, params) => (await db.query(text, params ? [...params] : undefined)).rows as never,
    exec: async (text) => {
      await db.exec(text);
    },
    transaction: (work) => db.transaction((tx) => work(executor(tx))),
    listen: (channel, onNotify) => db.listen(channel, onNotify),
    close: async () => {
      await db.close();
      await unlock?.();
    },
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
