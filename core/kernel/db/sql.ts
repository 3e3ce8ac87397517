/**
 * The one set of SQL helpers that differ by dialect or repeat across stores: raw reads and writes
 * through the statement cache (`queryRows`, `runStatement`, from statements.ts), multi-row upserts,
 * per-row updates, NULL-safe comparison, row locks, chunking, and driver result shapes. Stores use
 * these instead of branching on the dialect themselves.
 */
import type { Knex } from 'knex';
import type { Dialect, Executor } from './database';
import { placeholders, runStatement, type StatementBinding } from './statements';

export { placeholders, queryRows, runStatement, type StatementBinding } from './statements';

/** True when an insert or update referenced a row that does not exist (foreign key). */
export function isForeignKeyViolation(error: unknown): boolean {
  const e = error as { errno?: number; code?: string } | null;
  if (!e) return false;
  return e.errno === 1452 || e.code === 'ER_NO_REFERENCED_ROW_2' || e.code === 'SQLITE_CONSTRAINT_FOREIGNKEY';
}

export { bool, isoOrNull as iso } from './values';

export type { Dialect };

/** Rows changed by a raw UPDATE/DELETE: mysql2 answers `[ResultSetHeader]`, better-sqlite3 `{changes}`. */
export function affectedRows(result: unknown): number {
  const r = (Array.isArray(result) ? result[0] : result) as { affectedRows?: number; changes?: number } | undefined;
  return Number(r?.affectedRows ?? r?.changes ?? 0);
}

/** Splits `items` into chunks of `size`, for batched IN (...) lists and multi-row statements. */
export function chunk<T>(items: readonly T[], size = 500): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** A query builder as SQL text with `?` placeholders, to embed in a hand-written statement. */
export function sqlOf(qb: Knex.QueryBuilder): { sql: string; bindings: StatementBinding[] } {
  const compiled = qb.toSQL();
  return { sql: compiled.sql, bindings: [...compiled.bindings] as StatementBinding[] };
}

/** `a` differs from `b`, treating NULL = NULL (the guard every reconciling UPDATE uses). */
export function nullSafeDistinct(dialect: Dialect, a: string, b: string): string {
  return dialect === 'mysql' ? `NOT (${a} <=> ${b})` : `(${a} IS NOT ${b})`;
}

/**
 * `INSERT … VALUES (…), … ON CONFLICT (…) DO UPDATE` (SQLite) / `ON DUPLICATE KEY UPDATE` (MySQL)
 * for `rowCount` rows: the conflicting row takes the new values of the `update` columns.
 */
export function upsertSql(
  dialect: Dialect,
  table: string,
  columns: readonly string[],
  rowCount: number,
  conflict: readonly string[],
  update: readonly string[],
): string {
  const tuple = `(${placeholders(columns.length)})`;
  const tail =
    dialect === 'sqlite'
      ? `ON CONFLICT (${conflict.join(', ')}) DO UPDATE SET ${update.map((c) => `${c} = excluded.${c}`).join(', ')}`
      : `ON DUPLICATE KEY UPDATE ${update.map((c) => `${c} = VALUES(${c})`).join(', ')}`;
  return `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${Array.from({ length: rowCount }, () => tuple).join(', ')} ${tail}`;
}

/**
 * Upserts rows (see {@link upsertSql}), one statement per chunk. Knex compiles multi-row inserts on
 * SQLite as `SELECT … UNION ALL`, which is several times slower for the hundreds of thousands of rows
 * a full sync writes. Returns the rows the database reports as changed.
 */
export async function upsertRows(
  executor: Executor,
  dialect: Dialect,
  table: string,
  columns: readonly string[],
  items: ReadonlyArray<Record<string, unknown>>,
  conflict: readonly string[],
  update: readonly string[],
  size = 500,
): Promise<number> {
  let changed = 0;
  for (const part of chunk(items, size)) {
    const bindings = part.flatMap((item) => columns.map((c) => (item[c] ?? null) as StatementBinding));
    changed += await runStatement(executor, upsertSql(dialect, table, columns, part.length, conflict, update), bindings);
  }
  return changed;
}

/**
 * Updates several rows with per-row values, one statement per chunk, by joining the table to the
 * values: `UPDATE … FROM (VALUES …)` on SQLite, a multi-table `UPDATE … JOIN (SELECT … UNION ALL …)`
 * on MariaDB/MySQL. (A `CASE id WHEN … END` per column would compare every row against every branch.)
 */
export async function updateById(
  executor: Executor,
  dialect: Dialect,
  table: string,
  columns: readonly string[],
  items: ReadonlyArray<{ id: number; values: readonly unknown[] }>,
  size = 400,
): Promise<number> {
  let changed = 0;
  for (const part of chunk(items, size)) {
    const bindings: StatementBinding[] = [];
    for (const item of part) bindings.push(item.id, ...columns.map((_, c) => (item.values[c] ?? null) as StatementBinding));
    const row = `(${placeholders(columns.length + 1)})`;
    if (dialect === 'sqlite') {
      const names = ['id', ...columns].map((c, i) => `column${i + 1} AS ${i === 0 ? 'id' : `v_${c}`}`).join(', ');
      const sets = columns.map((c) => `${c} = v.v_${c}`).join(', ');
      changed += await runStatement(
        executor,
        `UPDATE ${table} SET ${sets} FROM (SELECT ${names} FROM (VALUES ${part.map(() => row).join(', ')})) AS v WHERE ${table}.id = v.id`,
        bindings,
      );
    } else {
      const first = `SELECT ? AS id, ${columns.map((c) => `? AS v_${c}`).join(', ')}`;
      const rest = `SELECT ${placeholders(columns.length + 1)}`;
      const sets = columns.map((c) => `t.${c} = v.v_${c}`).join(', ');
      changed += await runStatement(
        executor,
        `UPDATE ${table} t JOIN (${[first, ...part.slice(1).map(() => rest)].join(' UNION ALL ')}) v ON v.id = t.id SET ${sets}`,
        bindings,
      );
    }
  }
  return changed;
}
