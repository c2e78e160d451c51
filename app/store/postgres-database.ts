import pg from 'pg';
import type { Database, QueryOptions, SqlExecutor, TransactionExecutor } from './database.js';

const RECONNECT_DELAY_MS = 1000;
/**
 * How long a new connection may take to be ready. A server that accepts and then never answers (a
 * proxy in front of a dead one, a failover address nobody serves) would otherwise hold every call
 * that needs a new connection for good, `/healthz` included, where it should fail and be retried.
 */
export const CONNECT_TIMEOUT_MS = 10_000;
/** The store's statements are a few dozen fixed texts; past this many, texts must be built at run time and stay unnamed. */
const MAX_NAMED_STATEMENTS = 500;

/** Each recovery below names every statement afresh; past this many, statements go unnamed. */
const MAX_RENAMINGS = 10;

/**
 * Names the store's statements (each `query` is one statement; `exec` runs several, unnamed), so
 * that each connection parses a statement once and then only binds it, and PostgreSQL can keep a
 * plan (after five runs it switches to a generic plan when that is no costlier than planning each
 * time). Planning was about a third of the server's CPU per request.
 *
 * Two things undo prepared statements, and both are recovered from before anything runs: a
 * migration by another replica that changes what `SELECT *` returns ("cached plan must not change
 * result type") breaks the statement on every connection that prepared it, so every statement gets
 * a new name and is prepared again where it is next used; a pooler that hands each transaction
 * another server connection (PgBouncer's transaction mode without prepared-statement support) loses
 * names between calls, so naming stops for good. Either way the statement, or the transaction it was
 * in, is run once more.
 */
class StatementNames {
  #names = new Map<string, string>();
  #renamings = 0;
  #off = false;

  config(text: string, params: readonly unknown[] | undefined, options: QueryOptions = {}): pg.QueryConfig {
    const values = params ? [...params] : undefined;
    // An unnamed statement is planned with its values each time.
    if (this.#off || options.planEachTime) return { text, values };
    let name = this.#names.get(text);
    if (name === undefined) {
      if (this.#names.size >= MAX_NAMED_STATEMENTS) return { text, values };
      name = `mj${this.#renamings}_${this.#names.size}`;
      this.#names.set(text, name);
    }
    return { name, text, values };
  }

  /** Whether `err` is one of the two above; if so, the statement may be run again at once. */
  recovers(err: unknown): boolean {
    const { code, message } = (err ?? {}) as { code?: string; message?: string };
    if (code === '26000') {
      this.#off = true;
      return true;
    }
    if (code !== '0A000' || !/cached plan must not change result type/.test(message ?? '')) return false;
    this.#names = new Map();
    if (++this.#renamings > MAX_RENAMINGS) this.#off = true;
    return true;
  }
}

/** A connection whose connecting is bounded (CONNECT_TIMEOUT_MS). */
class BoundedClient extends pg.Client {
  constructor(config: pg.ClientConfig = {}) {
    super({ ...config, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  }
}

/** A PostgreSQL server through a `pg` pool; LISTEN runs on one dedicated connection per store. */
export function openPostgresDatabase(connectionString: string, schema?: string): Database {
  const config: pg.ClientConfig = { connectionString, ...(schema ? { options: `-c search_path=${schema}` } : {}) };
  // The pool's own `connectionTimeoutMillis` would also bound the wait for a free connection under
  // load; only connecting is bounded, by the connections themselves.
  const pool = new pg.Pool({ ...config, Client: BoundedClient });
  // An idle connection that breaks is dropped by the pool; without a listener the error would crash the App.
  pool.on('error', () => {});
  const listener = new Listener(config);
  const names = new StatementNames();
  return {
    query: async (text, params, options) => {
      try {
        return (await pool.query(names.config(text, params, options))).rows;
      } catch (err) {
        if (!names.recovers(err)) throw err;
        return (await pool.query(names.config(text, params, options))).rows;
      }
    },
    exec: async (text) => {
      await pool.query(text);
    },
    transaction: async (work) => {
      try {
        return await transaction(pool, names, work);
      } catch (err) {
        // The transaction rolled back: it runs again from the start.
        if (!(err instanceof StatementRefused)) throw err;
        return transaction(pool, names, work);
      }
    },
    listen: (channel, onNotify) => listener.listen(channel, onNotify),
    close: async () => {
      await listener.close();
      await pool.end();
    },
  };
}

/** A prepared statement could not be used (see StatementNames); the transaction may be run again. */
class StatementRefused extends Error {}

async function transaction<T>(pool: pg.Pool, names: StatementNames, work: (tx: TransactionExecutor) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  // The pool listens for the errors of idle connections only: one that breaks while this transaction
  // holds it (the server restarts, or ends it) would otherwise crash the App. The statement under way,
  // or the next, fails with it, and the transaction with that.
  const broken = () => {};
  client.on('error', broken);
  const release = (discard?: boolean) => {
    client.off('error', broken);
    client.release(discard);
  };
  let committed = false;
  const tx: TransactionExecutor = {
    ...executor(client, names),
    commitWith: async (statements) => {
      // The simple query protocol runs them all in one round trip; from a statement that fails,
      // the rest (the COMMIT too) are skipped and the transaction is left to roll back below.
      await client.query([...statements, 'COMMIT'].join(';\n'));
      committed = true;
    },
  };
  try {
    await client.query('BEGIN');
    const result = await work(tx);
    if (!committed) await client.query('COMMIT');
    release();
    return result;
  } catch (err) {
    const refused = !committed && names.recovers(err);
    await client.query('ROLLBACK').then(
      // A connection whose statement broke is not used again.
      () => release(refused),
      () => release(true),
    );
    throw refused ? new StatementRefused('a prepared statement was refused', { cause: err }) : err;
  }
}

function executor(client: pg.PoolClient, names: StatementNames): SqlExecutor {
  return {
    query: async (text, params, options) => (await client.query(names.config(text, params, options))).rows,
    exec: async (text) => {
      await client.query(text);
    },
  };
}

type Callback = (payload: string) => void;

/**
 * One connection that LISTENs on behalf of every subscriber. If it breaks it reconnects and LISTENs
 * again; notifications sent while it was down are lost, so callers treat them as hints and re-read.
 */
class Listener {
  readonly #config: pg.ClientConfig;
  readonly #channels = new Map<string, Set<Callback>>();
  #client: Promise<pg.Client> | undefined;
  #closed = false;

  constructor(config: pg.ClientConfig = {}) {
    this.#config = config;
  }

  async listen(channel: string, callback: Callback): Promise<() => Promise<void>> {
    const client = await this.#connect();
    let callbacks = this.#channels.get(channel);
    if (!callbacks) {
      callbacks = new Set();
      this.#channels.set(channel, callbacks);
      await client.query(`LISTEN ${channel}`);
    }
    callbacks.add(callback);
    return async () => {
      callbacks.delete(callback);
      if (callbacks.size > 0 || this.#channels.get(channel) !== callbacks) return;
      this.#channels.delete(channel);
      if (this.#client && !this.#closed) await (await this.#client).query(`UNLISTEN ${channel}`);
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    const client = this.#client;
    this.#client = undefined;
    if (client) await client.then((c) => c.end()).catch(() => {});
  }

  #connect(): Promise<pg.Client> {
    if (this.#closed) return Promise.reject(new Error('store is closed'));
    this.#client ??= this.#open();
    return this.#client;
  }

  async #open(): Promise<pg.Client> {
    const client = new BoundedClient(this.#config);
    client.on('notification', (message) => {
      for (const callback of this.#channels.get(message.channel) ?? []) callback(message.payload ?? '');
    });
    client.on('error', () => this.#lost(client));
    client.on('end', () => this.#lost(client));
    try {
      await client.connect();
      for (const channel of this.#channels.keys()) await client.query(`LISTEN ${channel}`);
      return client;
    } catch (err) {
      this.#client = undefined;
      await client.end().catch(() => {});
      throw err;
    }
  }

  #lost(client: pg.Client): void {
    if (this.#closed) return;
    void this.#client?.then(
      (current) => {
        if (current !== client) return;
        this.#client = undefined;
        setTimeout(() => this.#reconnect(), RECONNECT_DELAY_MS).unref();
      },
      () => {}, // a failed connect already cleared #client
    );
  }

  #reconnect(): void {
    if (this.#closed || this.#client || this.#channels.size === 0) return;
    this.#connect().catch(() => setTimeout(() => this.#reconnect(), RECONNECT_DELAY_MS).unref());
  }
}
