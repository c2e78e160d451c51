import pg from 'pg';
import type { Database, SqlExecutor, TransactionExecutor } from './database.js';

const RECONNECT_DELAY_MS = 1000;

/** A PostgreSQL server through a `pg` pool; LISTEN runs on one dedicated connection per store. */
export function openPostgresDatabase(connectionString: string, schema?: string): Database {
  const config: pg.ClientConfig = { connectionString, ...(schema ? { options: `-c search_path=${schema}` } : {}) };
  const pool = new pg.Pool(config);
  // An idle connection that breaks is dropped by the pool; without a listener the error would crash the App.
  pool.on('error', () => {});
  const listener = new Listener(config);
  return {
    query: async (text, params) => (await pool.query(text, params ? [...params] : undefined)).rows,
    exec: async (text) => {
      await pool.query(text);
    },
    transaction: async (work) => {
      const client = await pool.connect();
      let committed = false;
      const tx: TransactionExecutor = {
        ...executor(client),
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
        client.release();
        return result;
      } catch (err) {
        await client.query('ROLLBACK').then(
          () => client.release(),
          () => client.release(true),
        );
        throw err;
      }
    },
    listen: (channel, onNotify) => listener.listen(channel, onNotify),
    close: async () => {
      await listener.close();
      await pool.end();
    },
  };
}

function executor(client: pg.PoolClient): SqlExecutor {
  return {
    query: async (text, params) => (await client.query(text, params ? [...params] : undefined)).rows,
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

  constructor(config: pg.ClientConfig) {
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
    const client = new pg.Client(this.#config);
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
