import type { Dialect, Executor } from './database';
import { placeholders, queryRows, type StatementBinding } from './statements';

export { placeholders } from './statements';

/**
 * Runs a raw SELECT and returns its rows whatever the driver, through the statement cache of
 * core/kernel/db/statements.ts (flat `?` bindings). Used on hot paths where the query builder would add a loop.
 */
export function selectRows<Row>(executor: Executor, sql: string, bindings: readonly StatementBinding[] = []): Promise<Row[]> {
  return queryRows<Row>(executor, sql, bindings);
}

/** True when an insert or update referenced a row that does not exist (foreign key). */
export function isForeignKeyViolation(error: unknown): boolean {
  const e = error as { errno?: number; code?: string } | null;
  if (!e) return false;
  return e.errno === 1452 || e.code === 'ER_NO_REFERENCED_ROW_2' || e.code === 'SQLITE_CONSTRAINT_FOREIGNKEY';
}

export { bool, isoOrNull as iso } from './values';

export type { Dialect };

/**
 * Serialises completion work per learner. On MySQL (REPEATABLE READ) two concurrent transactions
 * completing different courses of one program would each read a snapshot without the other's
 * completion and both conclude "incomplete"; locking the learners' user rows first, before any
 * plain read opens the snapshot, makes the second wait and then see the first. SQLite write
 * transactions already run one at a time (BEGIN IMMEDIATE), so nothing is needed there.
 */
export async function lockLearners(executor: Executor, dialect: Dialect, userIds: readonly number[]): Promise<void> {
  if (dialect !== 'mysql' || !userIds.length) return;
  await executor.raw(`SELECT id FROM users WHERE id IN (${placeholders(userIds.length)}) FOR UPDATE`, userIds as number[]);
}

/** Rows changed by a raw UPDATE/DELETE: mysql2 answers `[ResultSetHeader]`, better-sqlite3 `{changes}`. */
export function affectedRows(result: unknown): number {
  const r = (Array.isArray(result) ? result[0] : result) as { affectedRows?: number; changes?: number } | undefined;
  return Number(r?.affectedRows ?? r?.changes ?? 0);
}
