import type { Database } from '../db/database';

/**
 * Prepared statements for the request hot path (session lookup, the launch guards). Knex builds,
 * formats and (on better-sqlite3) re-prepares every raw query; on a path that runs a handful of
 * one-row lookups per request that overhead is most of the cost. These statements are prepared
 * once per pooled connection and reuse it: better-sqlite3 `prepare()` kept per connection, mysql2
 * `execute()` (server-side prepared statements, cached by the driver per connection).
 *
 * Connections come from Knex's own pool, so transactions, pool limits and SQLite's single
 * connection are respected exactly as for any Knex query.
 */
export interface PreparedStatement<Row> {
  /** Runs a SELECT and returns its rows. */
  all(bindings: readonly PreparedBinding[]): Promise<Row[]>;
  /** Runs an INSERT/UPDATE/DELETE and returns the number of rows it changed. */
  run(bindings: readonly PreparedBinding[]): Promise<number>;
}

export type PreparedBinding = string | number | null;

interface SqliteStatement {
  all(...params: PreparedBinding[]): unknown[];
  run(...params: PreparedBinding[]): { changes: number };
}
interface SqliteConnection {
  prepare(sql: string): SqliteStatement;
}
interface MysqlConnection {
  execute(sql: string, values: PreparedBinding[], callback: (error: Error | null, result: unknown) => void): void;
}
interface PoolClient {
  acquireConnection(): Promise<unknown>;
  releaseConnection(connection: unknown): Promise<void>;
}

/** Prepares `sql` (with `?` placeholders) for repeated use on `db`. */
export function prepareStatement<Row>(db: Database, sql: string): PreparedStatement<Row> {
  const client = db.knex.client as unknown as PoolClient;
  const statements = new WeakMap<object, SqliteStatement>();

  async function withConnection<T>(work: (connection: unknown) => T | Promise<T>): Promise<T> {
    const connection = await client.acquireConnection();
    try {
      return await work(connection);
    } finally {
      await client.releaseConnection(connection);
    }
  }

  function sqlite(connection: unknown): SqliteStatement {
    const conn = connection as SqliteConnection & object;
    let statement = statements.get(conn);
    if (!statement) {
      statement = conn.prepare(sql);
      statements.set(conn, statement);
    }
    return statement;
  }

  function execute(connection: unknown, bindings: readonly PreparedBinding[]): Promise<unknown> {
    return new Promise((resolve, reject) =>
      (connection as MysqlConnection).execute(sql, [...bindings], (error, result) => (error ? reject(error) : resolve(result))),
    );
  }

  if (db.dialect === 'sqlite') {
    return {
      all: (bindings) => withConnection((c) => sqlite(c).all(...bindings) as Row[]),
      run: (bindings) => withConnection((c) => sqlite(c).run(...bindings).changes),
    };
  }
  return {
    all: (bindings) => withConnection(async (c) => (await execute(c, bindings)) as Row[]),
    run: (bindings) => withConnection(async (c) => Number(((await execute(c, bindings)) as { affectedRows?: number }).affectedRows ?? 0)),
  };
}
