import type { Knex } from 'knex';
import type { Executor } from '../../../kernel/db/database';
import { placeholders, queryRows, runStatement, upsertSql, type StatementBinding } from '../../../kernel/db/sql';
import type { SqlView } from '../../../kernel/db/views';
import { learningViews } from '../../learning/index';

/** A stored program ('p') or course-set ('s', `id` is the set) completion state. */
export interface StoredStateRow {
  kind: string;
  program_id: number;
  user_id: number;
  id: number;
  status: 'incomplete' | 'complete';
  completed_at: number | null;
  /** Course sets only: when the set's group opened and the set's due date (null for programs). */
  opened_at: number | null;
  due_at: number | null;
}

/**
 * The completion hot path's one read, tagged by `kind`: 'p' rows are the programs containing the
 * course (`id`, `value` = current structure_version, so a stale cached structure is noticed whichever
 * process edited it); 'c' rows are the learner's course completions (`id` = course, `value` =
 * completed_at) restricted to the courses of those programs.
 */
export function programsOfCourseWithLearnerCompletions(
  trx: Knex.Transaction,
  userId: number,
  courseId: number,
): Promise<Array<{ kind: string; id: number; value: number }>> {
  return queryRows<{ kind: string; id: number; value: number }>(
    trx,
    `SELECT 'p' AS kind, p.id AS id, p.structure_version AS value FROM program_course_set_courses sc
       JOIN program_course_sets s ON s.id = sc.course_set_id
       JOIN programs p ON p.id = s.program_id
     WHERE sc.course_id = ?
     UNION ALL
     SELECT 'c' AS kind, cc.course_id AS id, cc.completed_at AS value FROM ${learningViews.courseCompletions.as('cc')}
     WHERE cc.user_id = ? AND cc.course_id IN (
       SELECT sc2.course_id FROM program_course_set_courses sc
         JOIN program_course_sets s ON s.id = sc.course_set_id
         JOIN program_course_sets s2 ON s2.program_id = s.program_id
         JOIN program_course_set_courses sc2 ON sc2.course_set_id = s2.id
       WHERE sc.course_id = ?)`,
    [courseId, userId, courseId],
  );
}

/** Stored program and course-set completion rows for these programs and users, in one query. */
export function storedStateRows(executor: Executor, programIds: readonly number[], userIds: readonly number[]): Promise<StoredStateRow[]> {
  return queryRows<StoredStateRow>(
    executor,
    `SELECT 'p' AS kind, program_id, user_id, program_id AS id, status, completed_at, NULL AS opened_at, NULL AS due_at FROM program_completions
       WHERE program_id IN (${placeholders(programIds.length)}) AND user_id IN (${placeholders(userIds.length)})
     UNION ALL
     SELECT 's' AS kind, program_id, user_id, course_set_id AS id, status, completed_at, opened_at, due_at FROM course_set_completions
       WHERE program_id IN (${placeholders(programIds.length)}) AND user_id IN (${placeholders(userIds.length)})`,
    [...programIds, ...userIds, ...programIds, ...userIds],
  );
}

/** Stored program and course-set completion rows of one program for every learner whose id is in the range, in one query. */
export function storedStateRowsInRange(executor: Executor, programId: number, lo: number, hi: number): Promise<StoredStateRow[]> {
  return queryRows<StoredStateRow>(
    executor,
    `SELECT 'p' AS kind, program_id, user_id, program_id AS id, status, completed_at, NULL AS opened_at, NULL AS due_at FROM program_completions
       WHERE program_id = ? AND user_id BETWEEN ? AND ?
     UNION ALL
     SELECT 's' AS kind, program_id, user_id, course_set_id AS id, status, completed_at, opened_at, due_at FROM course_set_completions
       WHERE program_id = ? AND user_id BETWEEN ? AND ?`,
    [programId, lo, hi, programId, lo, hi],
  );
}

/** The learner's stored program completion, or undefined. */
export async function programCompletionOf(
  executor: Executor,
  programId: number,
  userId: number,
): Promise<{ status: string; completed_at: number | null } | undefined> {
  const [row] = await queryRows<{ status: string; completed_at: number | null }>(
    executor,
    'SELECT status, completed_at FROM program_completions WHERE program_id = ? AND user_id = ?',
    [programId, userId],
  );
  return row;
}

const MERGED = ['status', 'completed_at', 'updated_at'];
const SET_MERGED = [...MERGED, 'opened_at', 'due_at'];

/**
 * One multi-row upsert as a raw statement: this runs on the completion hot path, where compiling
 * the query builder's insert/onConflict/merge for every call costs more than the write itself.
 */
async function upsert(
  trx: Knex.Transaction,
  table: string,
  columns: readonly string[],
  conflict: readonly string[],
  rows: ReadonlyArray<Record<string, unknown>>,
  merged: readonly string[] = MERGED,
): Promise<void> {
  const dialect = trx.client.config.client === 'mysql2' ? 'mysql' : 'sqlite';
  const bindings = rows.flatMap((row) => columns.map((c) => row[c] as StatementBinding));
  await runStatement(trx, upsertSql(dialect, table, columns, rows.length, conflict, merged), bindings);
}

/** Writes these course-set states (status, completed_at, opened_at, due_at, updated_at replace a stored row's), in one statement. */
export function upsertCourseSetCompletions(trx: Knex.Transaction, rows: ReadonlyArray<Record<string, unknown>>): Promise<void> {
  return upsert(
    trx,
    'course_set_completions',
    ['course_set_id', 'program_id', 'user_id', 'status', 'completed_at', 'opened_at', 'due_at', 'created_at', 'updated_at'],
    ['course_set_id', 'user_id'],
    rows,
    SET_MERGED,
  );
}

/** When each of these learners' active assignment to the program started (`assignments` is the assignment module's view). */
export async function assignedTimesOf(
  executor: Executor,
  assignments: SqlView<'program_id' | 'user_id' | 'status' | 'assigned_at'>,
  programIds: readonly number[],
  userIds: readonly number[],
): Promise<Array<{ program_id: number; user_id: number; assigned_at: number }>> {
  if (!programIds.length || !userIds.length) return [];
  return queryRows(
    executor,
    `SELECT a.program_id, a.user_id, a.assigned_at FROM ${assignments.as('a')}
     WHERE a.program_id IN (${placeholders(programIds.length)}) AND a.user_id IN (${placeholders(userIds.length)})
       AND a.status = 'active' AND a.assigned_at IS NOT NULL`,
    [...programIds, ...userIds],
  );
}

/** Writes these program completion states (status, completed_at, updated_at replace a stored row's), in one statement. */
export function upsertProgramCompletions(trx: Knex.Transaction, rows: ReadonlyArray<Record<string, unknown>>): Promise<void> {
  return upsert(trx, 'program_completions', ['program_id', 'user_id', 'status', 'completed_at', 'created_at', 'updated_at'], ['program_id', 'user_id'], rows);
}

/** Keeps program completions that were taken away on record. */
export async function insertProgramCompletionHistory(trx: Knex.Transaction, rows: ReadonlyArray<Record<string, unknown>>): Promise<void> {
  await trx('program_completion_history').insert(rows);
}

/** Deletes every course-set completion of the program (its sets are being replaced). */
export async function deleteSetCompletionsOf(trx: Knex.Transaction, programId: number): Promise<void> {
  await trx('course_set_completions').where({ program_id: programId }).delete();
}

/** Whether anyone has completed a course of the program (then its completions need computing). */
export async function anyCourseCompletionIn(executor: Executor, programId: number): Promise<boolean> {
  const rows = await queryRows<{ one: number }>(
    executor,
    `SELECT 1 AS one FROM ${learningViews.courseCompletions.as('cc')}
       JOIN program_course_set_courses sc ON sc.course_id = cc.course_id
       JOIN program_course_sets s ON s.id = sc.course_set_id
     WHERE s.program_id = ? LIMIT 1`,
    [programId],
  );
  return rows.length > 0;
}

/** The assignment module's relation of learners' program assignments (through the programs service's port). */
export type AssigneesView = SqlView<'program_id' | 'user_id' | 'status'>;

/**
 * The learners a program recompute visits: whoever completed one of its courses (`courseIds`, may
 * be empty), or has a stored program or course-set completion of it; with `assignees`, also every
 * learner actively assigned (a structure complete from the start completes them with no course done).
 */
function recomputePopulation(courseIds: readonly number[], programId: number, assignees: AssigneesView | null): { sql: string; bindings: number[] } {
  const courseFilter = courseIds.length
    ? `SELECT cc.user_id FROM ${learningViews.courseCompletions.as('cc')} WHERE cc.course_id IN (${placeholders(courseIds.length)}) UNION `
    : '';
  const assigned = assignees ? ` UNION SELECT a.user_id FROM ${assignees.as('a')} WHERE a.program_id = ? AND a.status = 'active'` : '';
  return {
    sql: `${courseFilter}SELECT user_id FROM program_completions WHERE program_id = ? UNION SELECT user_id FROM course_set_completions WHERE program_id = ?${assigned}`,
    bindings: [...courseIds, programId, programId, ...(assignees ? [programId] : [])],
  };
}

/** How many learners a program recompute visits. */
export async function countRecomputePopulation(
  executor: Executor,
  courseIds: readonly number[],
  programId: number,
  assignees: AssigneesView | null = null,
): Promise<number> {
  const population = recomputePopulation(courseIds, programId, assignees);
  const [{ total }] = (await queryRows<{ total: number }>(executor, `SELECT COUNT(*) AS total FROM (${population.sql}) u`, population.bindings)) as [
    { total: number },
  ];
  return Number(total);
}

/** The next `limit` learner ids of a program recompute after `after`, in id order (keyset paging). */
export async function recomputePopulationAfter(
  executor: Executor,
  courseIds: readonly number[],
  programId: number,
  after: number,
  limit: number,
  assignees: AssigneesView | null = null,
): Promise<number[]> {
  const population = recomputePopulation(courseIds, programId, assignees);
  const rows = await queryRows<{ user_id: number }>(executor, `SELECT user_id FROM (${population.sql}) u WHERE user_id > ? ORDER BY user_id LIMIT ${limit}`, [
    ...population.bindings,
    after,
  ]);
  return rows.map((r) => Number(r.user_id));
}
