import type { Database, Executor } from './database';

/**
 * Raw statements for hot paths (session lookup, launch guards, completion recalculation). Knex
 * builds and formats every raw query, and on better-sqlite3 re-prepares it on every call: for a
 * handful of small indexed statements per request that overhead is most of the cost. Here
 * statements run on the executor's own connection (a transaction's, or one from Knex's pool, so
 * pool limits and SQLite's single connection are respected exactly as for any Knex query):
 * better-sqlite3 statements are prepared once per connection and kept (bounded cache); on MySQL
 * `prepared: true` uses mysql2 `execute()` (server-side prepared, cached by the driver), otherwise
 * a plain text query, which suits statements whose shape varies (multi-row inserts).
 *
 * SQL uses `?` placeholders and flat bindings (no Knex `??` identifiers, no array expansion).
 */
export type StatementBinding = string | number | boolean | null;

/** `?, ?, ?` for an IN list of n values (n >= 1). */
export function placeholders(n: number): string {
  return new Array<string>(n).fill('?').join(', ');
}

export interface StatementOptions {
  /** MySQL only: use a server-side prepared statement (fixed-shape statements run often). */
  prepared?: boolean;
}

interface SqliteStatement {
  reader: boolean;
  all(...params: unknown[]): unknown[];
  run(...params: unknown[]): { changes: number };
}
interface SqliteConnection {
  prepare(sql: string): SqliteStatement;
}
interface MysqlConnection {
  execute(sql: string, values: unknown[], callback: (error: Error | null, result: unknown) => void): void;
  query(sql: string, values: unknown[], callback: (error: Error | null, result: unknown) => void): void;
}
interface ExecutorClient {
  config: { client: string };
  acquireConnection(): Promise<unknown>;
  releaseConnection(connection: unknown): Promise<unknown>;
}

const STATEMENT_CACHE_LIMIT = 500;
const sqliteStatements = new WeakMap<object, Map<string, SqliteStatement>>();

function sqliteStatement(connection: SqliteConnection & object, sql: string): SqliteStatement {
  let cache = sqliteStatements.get(connection);
  if (!cache) sqliteStatements.set(connection, (cache = new Map()));
  let statement = cache.get(sql);
  if (!statement) {
    // Shapes that vary per call (multi-row VALUES lists) must not grow the cache without bound.
    if (cache.size >= STATEMENT_CACHE_LIMIT) cache.clear();
    statement = connection.prepare(sql);
    cache.set(sql, statement);
  }
  return statement;
}

/** better-sqlite3 binds numbers, strings, bigints, buffers and null; booleans become 0/1 as Knex does. */
function sqliteBindings(bindings: readonly StatementBinding[]): unknown[] {
  return bindings.map((b) => (b === true ? 1 : b === false ? 0 : b));
}

/**
 * Diagnostics for benchmarks: when set, called after each statement with its SQL and duration.
 * (These statements bypass Knex, so its `query` events do not see them.)
 */
export const statementTrace: { listener: ((sql: string, ms: number) => void) | null } = { listener: null };

async function onConnection<T>(executor: Executor, sql: string, work: (connection: unknown, dialect: 'sqlite' | 'mysql') => T | Promise<T>): Promise<T> {
  const client = executor.client as unknown as ExecutorClient;
  const dialect = client.config.client === 'mysql2' ? 'mysql' : 'sqlite';
  const started = statementTrace.listener ? performance.now() : 0;
  const connection = await client.acquireConnection();
  try {
    return await work(connection, dialect);
  } finally {
    await client.releaseConnection(connection);
    statementTrace.listener?.(sql, performance.now() - started);
  }
}

function mysqlCall(connection: unknown, sql: string, bindings: readonly StatementBinding[], prepared: boolean): Promise<unknown> {
  const conn = connection as MysqlConnection;
  return new Promise((resolve, reject) => {
    const done = (error: Error | null, result: unknown) => (error ? reject(error) : resolve(result));
    if (prepared) conn.execute(sql, [...bindings], done);
    else conn.query(sql, [...bindings], done);
  });
}

/** Runs a SELECT and returns its rows. */
export function queryRows<Row>(executor: Executor, sql: string, bindings: readonly StatementBinding[] = [], options: StatementOptions = {}): Promise<Row[]> {
  return onConnection(executor, sql, async (connection, dialect) => {
    if (dialect === 'sqlite') return sqliteStatement(connection as SqliteConnection & object, sql).all(...sqliteBindings(bindings)) as Row[];
    return (await mysqlCall(connection, sql, bindings, options.prepared ?? false)) as Row[];
  });
}

/** Runs an INSERT/UPDATE/DELETE and returns the number of rows it changed. */
export function runStatement(executor: Executor, sql: string, bindings: readonly StatementBinding[] = [], options: StatementOptions = {}): Promise<number> {
  return onConnection(executor, sql, async (connection, dialect) => {
    if (dialect === 'sqlite') return sqliteStatement(connection as SqliteConnection & object, sql).run(...sqliteBindings(bindings)).changes;
    const result = (await mysqlCall(connection, sql, bindings, options.prepared ?? false)) as { affectedRows?: number };
    return Number(result.affectedRows ?? 0);
  });
}

/** A fixed statement bound to a database, for the request hot path. */
export interface PreparedStatement<Row> {
  all(bindings: readonly StatementBinding[]): Promise<Row[]>;
  run(bindings: readonly StatementBinding[]): Promise<number>;
}

interface PoolState {
  numUsed(): number;
  numPendingAcquires(): number;
}

/** True when Knex's (SQLite: only) connection is in use or waited for, e.g. by a write transaction. */
function poolBusy(db: Database): boolean {
  const pool = (db.knex.client as unknown as { pool?: PoolState }).pool;
  return !pool || pool.numUsed() > 0 || pool.numPendingAcquires() > 0;
}

/**
 * Prepares `sql` for repeated use on `db` (server-side prepared on MySQL, cached per connection on
 * SQLite). Outside any transaction by construction. On SQLite, `all` runs on Knex's connection
 * while it is free (its page cache is the warm one: it made the latest writes), and on the read
 * connection (`Database.readConnection`) while a transaction holds it, so a hot-path read never
 * queues behind a write; either way it sees the last committed state, as a read on another MySQL
 * connection does.
 */
export function prepareStatement<Row>(db: Database, sql: string): PreparedStatement<Row> {
  return {
    all: (bindings) => {
      const reader = db.readConnection();
      if (!reader || !poolBusy(db)) return queryRows<Row>(db.knex, sql, bindings, { prepared: true });
      const started = statementTrace.listener ? performance.now() : 0;
      try {
        return Promise.resolve(sqliteStatement(reader, sql).all(...sqliteBindings(bindings)) as Row[]);
      } catch (error) {
        return Promise.reject(error);
      } finally {
        statementTrace.listener?.(sql, performance.now() - started);
      }
    },
    run: (bindings) => runStatement(db.knex, sql, bindings, { prepared: true }),
  };
}
