/**
 * The little the store needs from a PostgreSQL connection, so the same SQL runs on PGlite and on
 * a PostgreSQL server. Rows come back as the driver parses them (jsonb as values,
 * timestamptz as Date); int8 may be a string or a number depending on the driver.
 */
export interface SqlExecutor {
  query<Row extends object = Record<string, unknown>>(text: string, params?: readonly unknown[], options?: QueryOptions): Promise<Row[]>;
  /** Several statements separated by semicolons, without parameters. */
  exec(text: string): Promise<void>;
}

export interface QueryOptions {
  /**
   * Plan the statement with its values every time rather than keep a plan for it: for a statement
   * whose filters are optional, or whose best index depends on the values (a range that holds a
   * handful of rows or nearly all), a plan kept without the values can read the whole table.
   */
  planEachTime?: boolean;
}

/** A connection inside a transaction. */
export interface TransactionExecutor extends SqlExecutor {
  /**
   * Ends the transaction: runs `statements` (without parameters) and COMMIT in one round trip where
   * the connection allows it, so that the locks they take are held on the server only, never across
   * a round trip through the App. If one fails, none after it runs and the transaction rolls back.
   * Nothing may run in the transaction after this.
   */
  commitWith(statements: readonly string[]): Promise<void>;
}

export interface Database extends SqlExecutor {
  /** Runs `work` in one transaction: COMMIT when it resolves (unless it committed), ROLLBACK when it throws. */
  transaction<T>(work: (tx: TransactionExecutor) => Promise<T>): Promise<T>;
  /** LISTEN on `channel` (a lower-case identifier); resolves once the LISTEN is in effect. */
  listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}
