import type { Knex } from 'knex';
import type { Dialect, Executor } from '../../kernel/db/database';
import { placeholders, queryRows, runStatement, type StatementBinding } from '../../kernel/db/statements';

export { placeholders };
export { num, numOrNull, isoOrNull } from '../../kernel/db/values';

/** Rows of a raw SELECT (through the statement cache; bindings may come from a compiled builder). */
export function rows<Row>(executor: Executor, sql: string, bindings: readonly unknown[] = []): Promise<Row[]> {
  return queryRows<Row>(executor, sql, bindings as StatementBinding[]);
}

/** Runs a raw write and returns the number of rows it changed. */
export function write(executor: Executor, sql: string, bindings: readonly unknown[] = []): Promise<number> {
  return runStatement(executor, sql, bindings as StatementBinding[]);
}

/** A query builder as SQL text with `?` placeholders, to embed in hand-written statements. */
export function sqlOf(qb: Knex.QueryBuilder): { sql: string; bindings: unknown[] } {
  const compiled = qb.toSQL();
  return { sql: compiled.sql, bindings: [...compiled.bindings] };
}

/** `a` differs from `b`, treating NULL = NULL (the guard every reconciling UPDATE uses). */
export function distinct(dialect: Dialect, a: string, b: string): string {
  return dialect === 'mysql' ? `NOT (${a} <=> ${b})` : `(${a} IS NOT ${b})`;
}

export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
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
    const bindings: unknown[] = [];
    for (const item of part) bindings.push(item.id, ...columns.map((_, c) => item.values[c] ?? null));
    const row = `(${placeholders(columns.length + 1)})`;
    if (dialect === 'sqlite') {
      const names = ['id', ...columns].map((c, i) => `column${i + 1} AS ${i === 0 ? 'id' : `v_${c}`}`).join(', ');
      const sets = columns.map((c) => `${c} = v.v_${c}`).join(', ');
      changed += await write(
        executor,
        `UPDATE ${table} SET ${sets} FROM (SELECT ${names} FROM (VALUES ${part.map(() => row).join(', ')})) AS v WHERE ${table}.id = v.id`,
        bindings,
      );
    } else {
      const first = `SELECT ? AS id, ${columns.map((c) => `? AS v_${c}`).join(', ')}`;
      const rest = `SELECT ${placeholders(columns.length + 1)}`;
      const sets = columns.map((c) => `t.${c} = v.v_${c}`).join(', ');
      changed += await write(
        executor,
        `UPDATE ${table} t JOIN (${[first, ...part.slice(1).map(() => rest)].join(' UNION ALL ')}) v ON v.id = t.id SET ${sets}`,
        bindings,
      );
    }
  }
  return changed;
}

/**
 * Multi-row `INSERT … VALUES … ON CONFLICT DO UPDATE` (SQLite) / `ON DUPLICATE KEY UPDATE` (MySQL),
 * one statement per chunk. Knex compiles multi-row inserts on SQLite as `SELECT … UNION ALL`, which
 * is several times slower for the hundreds of thousands of rows a full sync writes.
 */
export async function upsert(
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
  const row = `(${placeholders(columns.length)})`;
  const tail =
    dialect === 'sqlite'
      ? ` ON CONFLICT (${conflict.join(', ')}) DO UPDATE SET ${update.map((c) => `${c} = excluded.${c}`).join(', ')}`
      : ` ON DUPLICATE KEY UPDATE ${update.map((c) => `${c} = VALUES(${c})`).join(', ')}`;
  for (const part of chunk(items, size)) {
    const bindings: unknown[] = [];
    for (const item of part) for (const c of columns) bindings.push(item[c] ?? null);
    changed += await write(executor, `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${part.map(() => row).join(', ')}${tail}`, bindings);
  }
  return changed;
}
