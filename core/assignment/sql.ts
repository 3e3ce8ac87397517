import type { Knex } from 'knex';
import type { Dialect, Executor } from '../db/database';

/** Rows changed by a raw INSERT/UPDATE/DELETE, whatever the driver answered. */
export function affected(result: unknown): number {
  if (Array.isArray(result)) return Number((result[0] as { affectedRows?: number } | undefined)?.affectedRows ?? 0);
  return Number((result as { changes?: number } | null)?.changes ?? 0);
}

/** Rows of a raw SELECT on both drivers. */
export async function rows<Row>(executor: Executor, sql: string, bindings: readonly unknown[] = []): Promise<Row[]> {
  const result = (await executor.raw(sql, bindings as Knex.RawBinding[])) as unknown;
  if (Array.isArray(result) && Array.isArray(result[0])) return result[0] as Row[];
  return result as Row[];
}

/** Runs a raw write and returns the number of rows it changed. */
export async function write(executor: Executor, sql: string, bindings: readonly unknown[] = []): Promise<number> {
  return affected(await executor.raw(sql, bindings as Knex.RawBinding[]));
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

export function placeholders(n: number): string {
  return new Array<string>(n).fill('?').join(', ');
}

export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export const num = (v: unknown): number => Number(v);
export const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
export const isoOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : new Date(Number(v)).toISOString());

/**
 * Updates several rows with per-row values in one statement per chunk:
 * `UPDATE t SET c = CASE id WHEN ? THEN ? ... END WHERE id IN (...)`.
 */
export async function updateByIdCase(
  executor: Executor,
  table: string,
  columns: readonly string[],
  items: ReadonlyArray<{ id: number; values: readonly unknown[] }>,
  size = 300,
): Promise<number> {
  let changed = 0;
  for (const part of chunk(items, size)) {
    const sets: string[] = [];
    const bindings: unknown[] = [];
    columns.forEach((column, c) => {
      sets.push(`${column} = CASE id ${part.map(() => 'WHEN ? THEN ?').join(' ')} END`);
      for (const item of part) bindings.push(item.id, item.values[c] ?? null);
    });
    bindings.push(...part.map((i) => i.id));
    changed += await write(executor, `UPDATE ${table} SET ${sets.join(', ')} WHERE id IN (${placeholders(part.length)})`, bindings);
  }
  return changed;
}
