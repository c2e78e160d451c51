import type { Database } from './database.js';
import { assertSchemaName, migrate } from './migrations.js';
import { SqlStore } from './sql-store.js';
import type { Store } from './store.js';

export * from './store.js';
export { SchemaRefused } from './migrations.js';

export const DEFAULT_DATA_DIR = './.data';

export interface OpenStoreOptions {
  /** `postgres://…`: use that server. Unset: embedded PGlite in `dataDir`. */
  databaseUrl?: string;
  /** PGlite's directory; `memory://` keeps everything in memory. Defaults to `./.data`. */
  dataDir?: string;
  /** A PostgreSQL schema to keep the tables in (created if missing); unset: the default search_path. */
  schema?: string;
  clock?: () => Date;
  /** How long a claimed timer or webhook delivery is held before another replica may retry it. */
  leaseMs?: number;
  /** Apply pending migrations (default). Off for read-only tools that must not create a database. */
  migrate?: boolean;
}

export async function openStore(options: OpenStoreOptions = {}): Promise<Store> {
  if (options.schema) assertSchemaName(options.schema);
  // Only the driver in use is loaded: each costs a start tens of milliseconds.
  const db: Database = options.databaseUrl
    ? (await import('./postgres-database.js')).openPostgresDatabase(options.databaseUrl, options.schema)
    : await (await import('./pglite-database.js')).openPgliteDatabase(options.dataDir ?? DEFAULT_DATA_DIR, options.schema);
  try {
    if (options.migrate ?? true) await migrate(db, options.schema);
  } catch (err) {
    await db.close();
    throw err;
  }
  return new SqlStore(db, { schema: options.schema, clock: options.clock, leaseMs: options.leaseMs });
}
