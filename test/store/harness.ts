/**
 * Store back ends for the tests: real PGlite and a real PostgreSQL server. Each PostgreSQL test
 * file works in its own randomly named schema, dropped afterwards, so parallel runs never collide.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openStore, type Store } from '../../app/store/index.js';
import { migrate } from '../../app/store/migrations.js';
import { openPgliteDatabase } from '../../app/store/pglite-database.js';
import { SqlStore } from '../../app/store/sql-store.js';

export const POSTGRES_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A clock the tests move by hand, shared by every store of one back end. */
export class ManualClock {
  now = new Date('2030-01-01T00:00:00.000Z');
  readonly read = (): Date => this.now;
  advance(ms: number): Date {
    this.now = new Date(this.now.getTime() + ms);
    return this.now;
  }
}

export type Rows = Record<string, unknown>[];

export interface Backend {
  name: string;
  clock: ManualClock;
  store: Store;
  /** Raw SQL on the same database and schema, bypassing the store: how the tests tamper. */
  sql(text: string, params?: unknown[]): Promise<Rows>;
  close(): Promise<void>;
}

export function randomSchema(): string {
  return `test_${randomBytes(6).toString('hex')}`;
}

export async function openPgliteBackend(): Promise<Backend> {
  const clock = new ManualClock();
  const db = await openPgliteDatabase('memory://');
  await migrate(db, undefined);
  const store = new SqlStore(db, { clock: clock.read });
  return {
    name: 'PGlite',
    clock,
    store,
    sql: (text, params) => db.query(text, params),
    close: () => store.close(),
  };
}

export interface PostgresBackend extends Backend {
  schema: string;
  /** Another store on the same database and schema: another App replica. */
  openReplica(): Promise<Store>;
}

export async function openPostgresBackend(schema = randomSchema()): Promise<PostgresBackend> {
  const clock = new ManualClock();
  const raw = new pg.Pool({ connectionString: POSTGRES_URL, options: `-c search_path=${schema}`, max: 2 });
  const replicas: Store[] = [];
  const openReplica = async (): Promise<Store> => {
    const replica = await openStore({ databaseUrl: POSTGRES_URL, schema, clock: clock.read });
    replicas.push(replica);
    return replica;
  };
  const store = await openReplica();
  return {
    name: 'PostgreSQL',
    schema,
    clock,
    store,
    openReplica,
    sql: async (text, params) => (await raw.query(text, params)).rows,
    close: async () => {
      await Promise.all(replicas.map((replica) => replica.close()));
      await dropSchema(raw, schema);
      await raw.end();
    },
  };
}

export async function dropSchema(pool: pg.Pool, schema: string): Promise<void> {
  await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
}
