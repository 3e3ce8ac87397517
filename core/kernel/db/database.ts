import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import knexFactory, { type Knex } from 'knex';
import type { Logger } from '../logging';
import { WaymarkError } from '../errors';

export type Dialect = 'sqlite' | 'mysql';

/** Anything queries can run on: the pool or an open transaction. */
export type Executor = Knex | Knex.Transaction;

export interface TransactionOptions {
  /** Retries after a deadlock / lock timeout / SQLITE_BUSY; default 5. */
  retries?: number;
  /** Run inside this transaction instead of opening a new one (no retry: the outer owner retries). */
  within?: Executor;
}

export interface Database {
  readonly knex: Knex;
  readonly dialect: Dialect;
  readonly url: string;
  /**
   * Runs `work` in a write transaction (BEGIN IMMEDIATE on SQLite) and retries the whole unit
   * when the database reports a deadlock or a busy lock, so callers never see transient conflicts.
   */
  transaction<T>(work: (trx: Knex.Transaction) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /** Current time in epoch milliseconds; every timestamp column stores this form. */
  now(): number;
  /**
   * SQLite file databases: a second connection that only reads (`query_only`), for hot-path reads
   * outside any transaction (`prepareStatement(...).all`) while Knex's single connection is held,
   * e.g. by a write transaction. In WAL mode it reads the last committed state at once instead of
   * queueing. Null for MySQL (its pool has many connections) and for in-memory SQLite (one
   * connection is the whole database). Opened on first use.
   */
  readConnection(): SqliteReadConnection | null;
  /**
   * Checks the database can be reached and opened before anything else runs; a failure is one
   * WaymarkError naming the DATABASE_URL (password masked) and the reason.
   */
  verify(): Promise<void>;
  close(): Promise<void>;
}

/** The part of a better-sqlite3 connection the statement layer uses. */
export interface SqliteReadConnection {
  prepare(sql: string): { all(...params: unknown[]): unknown[]; run(...params: unknown[]): { changes: number }; reader: boolean };
  close(): void;
}

const require = createRequire(import.meta.url);

let sqliteBeginPatched = false;
/**
 * Knex opens SQLite transactions with a plain (deferred) BEGIN, which lets two processes both
 * start reading and then deadlock when both try to write (SQLITE_BUSY without waiting for the
 * busy timeout). A write transaction must take the write lock at BEGIN, so we patch the dialect's
 * begin() once; read-only transactions keep the deferred form.
 */
function patchSqliteBeginImmediate(): void {
  if (sqliteBeginPatched) return;
  const Transaction = require('knex/lib/dialects/sqlite3/execution/sqlite-transaction.js') as {
    prototype: { begin(conn: unknown): Promise<unknown>; query(conn: unknown, sql: string): Promise<unknown>; readOnly?: boolean };
  };
  Transaction.prototype.begin = function begin(this: { query(conn: unknown, sql: string): Promise<unknown>; readOnly?: boolean }, conn: unknown) {
    return this.query(conn, this.readOnly ? 'BEGIN;' : 'BEGIN IMMEDIATE;');
  };
  sqliteBeginPatched = true;
}

export function dialectOf(url: string): Dialect {
  if (url.startsWith('sqlite:')) return 'sqlite';
  if (url.startsWith('mysql://')) return 'mysql';
  throw new WaymarkError('DATABASE_URL_INVALID', `Unsupported DATABASE_URL "${url}": use sqlite:./file.sqlite or mysql://user:pass@host:port/db`);
}

export interface DatabaseOptions {
  /**
   * SQLite: create the file's folder when it is missing. Only the documented default
   * (`sqlite:./data/waymark.sqlite`) does; any other missing folder is an error naming it, so a
   * typo in DATABASE_URL never creates a stray database somewhere unexpected.
   */
  createFolder?: boolean;
}

/** The DATABASE_URL as it may be shown to an operator: any password replaced by `***`. */
export function maskDatabaseUrl(url: string): string {
  return url.replace(/^(mysql:\/\/[^:/@]*:)[^@]*@/, '$1***@');
}

/**
 * Turns a failure to reach the database into one line an operator can act on: which DATABASE_URL
 * (password masked) and why. Anything else is returned unchanged.
 */
export function explainConnectionError(url: string, error: unknown): unknown {
  if (error instanceof WaymarkError) return error;
  const e = error as { code?: string; message?: string } | null;
  const reason = (e?.message ?? String(error)).split('\n')[0]!;
  return new WaymarkError(
    'DATABASE_UNREACHABLE',
    `Cannot use DATABASE_URL ${maskDatabaseUrl(url)}: ${reason}${e?.code && !reason.includes(e.code) ? ` (${e.code})` : ''}`,
    503,
  );
}

/** Translates a DATABASE_URL into a Knex configuration. */
export function knexConfigFor(url: string, options: DatabaseOptions = {}): Knex.Config {
  const dialect = dialectOf(url);
  if (dialect === 'sqlite') {
    const filename = url.slice('sqlite:'.length) || ':memory:';
    if (filename !== ':memory:') {
      const folder = path.dirname(path.resolve(filename));
      if (!fs.existsSync(folder)) {
        if (!options.createFolder)
          throw new WaymarkError(
            'DATABASE_FOLDER_MISSING',
            `The folder ${folder} for DATABASE_URL ${url} does not exist: create it first, or correct DATABASE_URL`,
            503,
          );
        fs.mkdirSync(folder, { recursive: true });
      }
    }
    return {
      client: 'better-sqlite3',
      connection: { filename },
      useNullAsDefault: true,
      pool: {
        min: 1,
        max: 1,
        afterCreate(conn: { pragma(sql: string): unknown }, done: (err: Error | null, conn: unknown) => void) {
          conn.pragma('journal_mode = WAL');
          conn.pragma('busy_timeout = 10000');
          conn.pragma('synchronous = NORMAL');
          conn.pragma('foreign_keys = ON');
          done(null, conn);
        },
      },
    };
  }
  return {
    client: 'mysql2',
    connection: {
      uri: url,
      // SUM()/AVG() come back as DECIMAL; numbers are what the services expect.
      decimalNumbers: true,
      supportBigNumbers: true,
      bigNumberStrings: false,
      charset: 'utf8mb4',
      timezone: 'Z',
    } as Knex.MySql2ConnectionConfig,
    pool: { min: 0, max: 10 },
  };
}

const RETRYABLE_MYSQL = new Set([1213 /* ER_LOCK_DEADLOCK */, 1205 /* ER_LOCK_WAIT_TIMEOUT */]);

/** True for errors that mean "another transaction was in the way; try the unit again". */
export function isRetryableConflict(error: unknown): boolean {
  const e = error as { errno?: number; code?: string } | null;
  if (!e) return false;
  if (typeof e.errno === 'number' && RETRYABLE_MYSQL.has(e.errno)) return true;
  return e.code === 'SQLITE_BUSY' || e.code === 'SQLITE_BUSY_SNAPSHOT' || e.code === 'SQLITE_LOCKED';
}

/** True when an insert hit a unique index: the duplicate the index exists to prevent. */
export function isUniqueViolation(error: unknown): boolean {
  const e = error as { errno?: number; code?: string } | null;
  if (!e) return false;
  return e.errno === 1062 || e.code === 'ER_DUP_ENTRY' || e.code === 'SQLITE_CONSTRAINT_UNIQUE' || e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

export function isTransaction(executor: Executor): executor is Knex.Transaction {
  return (executor as Knex.Transaction).isTransaction === true;
}

export function createDatabase(url: string, logger?: Logger, options: DatabaseOptions = {}): Database {
  const dialect = dialectOf(url);
  if (dialect === 'sqlite') patchSqliteBeginImmediate();
  const knex = knexFactory({
    ...knexConfigFor(url, options),
    // Knex prints connection failures (with stacks) itself; verify() reports them once, in one line.
    log: {
      warn: (message: string) => (/^(Acquire connection error|Connection Error)/.test(message) ? logger?.debug(message) : logger?.warn(message)),
      error: (message: string) => logger?.error(message),
      deprecate: (message: string) => logger?.warn(message),
      debug: (message: string) => logger?.debug(message),
    },
  });

  async function transaction<T>(work: (trx: Knex.Transaction) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    if (options.within) {
      if (isTransaction(options.within)) return work(options.within);
      return transaction(work, { retries: options.retries });
    }
    const retries = options.retries ?? 5;
    for (let attempt = 0; ; attempt++) {
      try {
        return await knex.transaction(work);
      } catch (error) {
        if (attempt >= retries || !isRetryableConflict(error)) throw error;
        const delay = Math.round(10 * 2 ** attempt * (0.5 + Math.random()));
        logger?.debug('transaction conflict, retrying', { attempt: attempt + 1, delay, code: (error as { code?: string }).code });
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  const filename = dialect === 'sqlite' ? url.slice('sqlite:'.length) || ':memory:' : null;
  let reader: SqliteReadConnection | null = null;
  function readConnection(): SqliteReadConnection | null {
    if (filename === null || filename === ':memory:') return null;
    if (!reader) {
      const BetterSqlite3 = require('better-sqlite3') as new (file: string) => SqliteReadConnection & { pragma(sql: string): unknown };
      const connection = new BetterSqlite3(filename);
      connection.pragma('busy_timeout = 10000');
      connection.pragma('query_only = ON');
      reader = connection;
    }
    return reader;
  }

  return {
    knex,
    dialect,
    url,
    transaction,
    now: () => Date.now(),
    readConnection,
    async verify() {
      try {
        // better-sqlite3 opens synchronously and throws at once (an unwritable or special path);
        // through Knex's pool the same failure is retried until the acquire timeout, silently.
        if (filename !== null && filename !== ':memory:') {
          const BetterSqlite3 = require('better-sqlite3') as new (file: string) => { pragma(sql: string): unknown; close(): void };
          const probe = new BetterSqlite3(filename);
          try {
            probe.pragma('user_version');
          } finally {
            probe.close();
          }
        }
        await knex.raw('select 1');
      } catch (error) {
        throw explainConnectionError(url, error);
      }
    },
    close: async () => {
      reader?.close();
      reader = null;
      await knex.destroy();
    },
  };
}
