import type { Knex } from 'knex';
import type { Executor } from '../../../kernel/db/database';
import { chunk, placeholders, queryRows, runStatement } from '../../../kernel/db/sql';
import { peopleViews } from '../../people/index';
import { programViews } from '../../programs/index';
import { readPage, type KeysetOrder, type KeysetPage, type PagePosition } from '../../../kernel/db/keyset';

/** Exceptions (`program_exceptions`): assignments held back for an operator to decide. */

/** An exception to raise. */
export interface NewException {
  program_id: number;
  user_id: number;
  type: string;
  status: 'open';
  raised_at: number;
  explanation: string;
}

/**
 * Inserts open exceptions, 300 per statement, each chunk followed by one read of the ids they got
 * (the latest open exception of each program and learner).
 */
export async function insertOpenExceptions(
  trx: Knex.Transaction,
  rows: readonly NewException[],
): Promise<Array<{ id: number; program_id: number; user_id: number }>> {
  const raised: Array<{ id: number; program_id: number; user_id: number }> = [];
  for (const part of chunk(rows, 300)) {
    await trx('program_exceptions').insert(part);
    raised.push(
      ...(await queryRows<{ id: number; program_id: number; user_id: number }>(
        trx,
        `SELECT MAX(id) AS id, program_id, user_id FROM program_exceptions
         WHERE status = 'open' AND (${part.map(() => '(program_id = ? AND user_id = ?)').join(' OR ')}) GROUP BY program_id, user_id`,
        part.flatMap((x) => [x.program_id, x.user_id]),
      )),
    );
  }
  return raised;
}

/** Marks exceptions resolved with `resolution` (500 per statement). */
export async function resolveExceptionsWith(trx: Knex.Transaction, ids: readonly number[], resolution: string, now: number): Promise<void> {
  for (const part of chunk(ids, 500)) {
    await runStatement(trx, `UPDATE program_exceptions SET status = 'resolved', resolution = ?, resolved_at = ? WHERE id IN (${placeholders(part.length)})`, [
      resolution,
      now,
      ...part,
    ]);
  }
}

/** An operator's decision on exceptions: status, resolution, when and by whom (500 per statement). */
export async function decideExceptions(
  trx: Knex.Transaction,
  ids: readonly number[],
  decision: { status: string; resolution: string; at: number; by: number | null },
): Promise<void> {
  for (const part of chunk(ids, 500)) {
    await runStatement(
      trx,
      `UPDATE program_exceptions SET status = ?, resolution = ?, resolved_at = ?, resolved_by = ? WHERE id IN (${placeholders(part.length)})`,
      [decision.status, decision.resolution, decision.at, decision.by, ...part],
    );
  }
}

/** An exception with the exception its learner's assignment currently points at. */
export interface ExceptionWithCurrent {
  id: number;
  program_id: number;
  user_id: number;
  status: string;
  type: string;
  pua_exception: number | null;
}

/** The exceptions with these ids and their assignment's current exception (500 per statement). */
export async function exceptionsWithCurrent(trx: Knex.Transaction, ids: readonly number[]): Promise<ExceptionWithCurrent[]> {
  const found: ExceptionWithCurrent[] = [];
  for (const part of chunk(ids, 500)) {
    found.push(
      ...(await queryRows<ExceptionWithCurrent>(
        trx,
        `SELECT e.id, e.program_id, e.user_id, e.status, e.type, p.exception_id AS pua_exception FROM program_exceptions e
               LEFT JOIN program_user_assignments p ON p.program_id = e.program_id AND p.user_id = e.user_id
               WHERE e.id IN (${placeholders(part.length)})`,
        part,
      )),
    );
  }
  return found;
}

/** The named orders of exception lists (`?sort=`): oldest or newest raised first (ids grow with time). */
export const EXCEPTION_ORDERS: readonly KeysetOrder[] = [
  { name: 'id', keys: [{ column: 'e.id', direction: 'asc' }] },
  { name: '-id', keys: [{ column: 'e.id', direction: 'desc' }] },
];

export interface ExceptionFilter {
  status: string;
  programId?: number;
  type?: string;
}

/** An exception with its learner's and program's names, as lists show it. */
export interface ExceptionLine {
  id: number;
  program_id: number;
  user_id: number;
  type: string;
  status: string;
  raised_at: number;
  explanation: string;
  username: string;
  fullname: string;
  program: string;
}

/**
 * One keyset page of exceptions in one status (of one program and/or type when given), with the
 * learner's and the program's names. The (program_id, status) index serves a program's list; the
 * site-wide list walks the primary key.
 */
export function exceptionPage(executor: Executor, filter: ExceptionFilter, order: KeysetOrder, position: PagePosition): Promise<KeysetPage<ExceptionLine>> {
  const query = executor('program_exceptions as e')
    .join(peopleViews.users.as('u'), 'u.id', 'e.user_id')
    .join(programViews.programs.as('p'), 'p.id', 'e.program_id')
    .select('e.id', 'e.program_id', 'e.user_id', 'e.type', 'e.status', 'e.raised_at', 'e.explanation', 'u.username', 'u.fullname', 'p.fullname as program')
    .where('e.status', filter.status);
  if (filter.programId !== undefined) query.where('e.program_id', filter.programId);
  if (filter.type !== undefined) query.where('e.type', filter.type);
  return readPage<ExceptionLine>(query, order, position);
}

/** How many exceptions of the program are open. */
export async function openExceptionCount(executor: Executor, programId: number): Promise<number> {
  const rows = await queryRows<{ n: number }>(executor, "SELECT COUNT(*) AS n FROM program_exceptions WHERE program_id = ? AND status = 'open'", [programId]);
  return Number(rows[0]?.n ?? 0);
}

/** An exception in a learner's assignment history, with who decided it. */
export interface ExceptionHistoryRow {
  id: number;
  type: string;
  status: string;
  raised_at: number;
  explanation: string;
  resolution: string | null;
  resolved_at: number | null;
  resolved_by: number | null;
  resolver: string | null;
}

/** The learner's exceptions in the program with their decisions, newest first, at most `limit`. */
export function exceptionHistory(executor: Executor, programId: number, userId: number, limit: number): Promise<ExceptionHistoryRow[]> {
  return queryRows<ExceptionHistoryRow>(
    executor,
    `SELECT e.id, e.type, e.status, e.raised_at, e.explanation, e.resolution, e.resolved_at, e.resolved_by, u.fullname AS resolver
       FROM program_exceptions e LEFT JOIN ${peopleViews.users.as('u')} ON u.id = e.resolved_by
     WHERE e.program_id = ? AND e.user_id = ? ORDER BY e.id DESC LIMIT ${Math.max(1, Math.floor(limit))}`,
    [programId, userId],
  );
}
