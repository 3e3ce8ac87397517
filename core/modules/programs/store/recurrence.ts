import type { Knex } from 'knex';
import type { Dialect, Executor } from '../../../kernel/db/database';
import { queryRows, runStatement } from '../../../kernel/db/sql';
import type { SqlView } from '../../../kernel/db/views';
import { readPage, type KeysetOrder, type KeysetPage, type PagePosition } from '../../../kernel/db/keyset';
import { learningViews } from '../../learning/index';

/** A period of a recurring program. */
export interface PeriodRow {
  id: number;
  program_id: number;
  seq: number;
  label: string;
  course_id: number;
  starts_at: number;
  ends_at: number;
  status: 'upcoming' | 'current' | 'past';
  created_at: number;
  switched_at: number | null;
}

/** A period with its course's names and how its learners stood when it ended. */
export type PeriodPageRow = PeriodRow & { course_shortname: string; course_fullname: string; learners: number; completed: number };

/** The program's row, locked for the rest of the transaction (MySQL; SQLite's write transaction is already exclusive). */
export async function lockProgram(trx: Knex.Transaction, dialect: Dialect, programId: number): Promise<boolean> {
  const rows = await queryRows<{ id: number }>(trx, `SELECT id FROM programs WHERE id = ?${dialect === 'mysql' ? ' FOR UPDATE' : ''}`, [programId]);
  return rows.length > 0;
}

/** Programs that recur. */
export async function recurringProgramIds(executor: Executor): Promise<number[]> {
  const rows = await queryRows<{ id: number }>(executor, 'SELECT id FROM programs WHERE recurrence_period IS NOT NULL ORDER BY id');
  return rows.map((r) => Number(r.id));
}

/** The program's current and upcoming periods (at most one of each). */
export function livePeriods(executor: Executor, programId: number): Promise<PeriodRow[]> {
  return queryRows<PeriodRow>(executor, `SELECT * FROM program_recurrence_periods WHERE program_id = ? AND status IN ('current', 'upcoming') ORDER BY seq`, [
    programId,
  ]);
}

/** The highest period number the program has used. */
export async function lastSeq(executor: Executor, programId: number): Promise<number> {
  const [row] = await queryRows<{ n: number | null }>(executor, 'SELECT MAX(seq) AS n FROM program_recurrence_periods WHERE program_id = ?', [programId]);
  return Number(row?.n ?? 0);
}

export async function insertPeriod(trx: Knex.Transaction, row: Omit<PeriodRow, 'id' | 'switched_at'>): Promise<number> {
  const [id] = (await trx('program_recurrence_periods').insert({ ...row, switched_at: null })) as number[];
  return Number(id);
}

export async function updatePeriod(trx: Knex.Transaction, periodId: number, changes: Partial<Omit<PeriodRow, 'id' | 'program_id'>>): Promise<void> {
  await trx('program_recurrence_periods').where({ id: periodId }).update(changes);
}

/** Drops the program's period that has not started (its copy stays, hidden). */
export async function deleteUpcomingPeriods(trx: Knex.Transaction, programId: number): Promise<void> {
  await trx('program_recurrence_periods').where({ program_id: programId, status: 'upcoming' }).delete();
}

/** Sets the recurrence columns of the program. */
export async function setRecurrenceColumns(
  trx: Knex.Transaction,
  programId: number,
  columns: { recurrence_period: string | null; recurrence_lead: string | null; recurrence_start: number | null },
): Promise<void> {
  await trx('programs').where({ id: programId }).update(columns);
}

/** The course set of a one-set program and its one course (the recurring course). */
export async function recurringCourseOf(executor: Executor, programId: number): Promise<{ course_set_id: number; course_id: number } | undefined> {
  const [row] = await queryRows<{ course_set_id: number; course_id: number }>(
    executor,
    `SELECT sc.course_set_id, sc.course_id FROM program_course_set_courses sc JOIN program_course_sets s ON s.id = sc.course_set_id
      WHERE s.program_id = ? ORDER BY s.sortorder, sc.sortorder LIMIT 1`,
    [programId],
  );
  return row;
}

/** Puts `courseId` in place of the set's course and bumps the structure version (other processes' caches notice). */
export async function replaceRecurringCourse(trx: Knex.Transaction, programId: number, courseSetId: number, courseId: number, now: number): Promise<void> {
  await trx('program_course_set_courses').where({ course_set_id: courseSetId }).update({ course_id: courseId });
  await runStatement(trx, 'UPDATE programs SET structure_version = structure_version + 1, updated_at = ? WHERE id = ?', [now, programId]);
}

/** The course of every period of the program (the original and its copies). */
export async function periodCourseIds(executor: Executor, programId: number): Promise<number[]> {
  const rows = await queryRows<{ course_id: number }>(executor, 'SELECT DISTINCT course_id FROM program_recurrence_periods WHERE program_id = ?', [programId]);
  return rows.map((r) => Number(r.course_id));
}

/** Whether a course (learning's) has this short name. */
export async function shortnameTaken(executor: Executor, shortname: string): Promise<boolean> {
  const rows = await queryRows<{ id: number }>(executor, `SELECT c.id FROM ${learningViews.courses.as('c')} WHERE c.shortname = ?`, [shortname]);
  return rows.length > 0;
}

/** A course's names (learning's). */
export async function courseNames(executor: Executor, courseId: number): Promise<{ shortname: string; fullname: string } | undefined> {
  const [row] = await queryRows<{ shortname: string; fullname: string }>(
    executor,
    `SELECT c.shortname, c.fullname FROM ${learningViews.courses.as('c')} WHERE c.id = ?`,
    [courseId],
  );
  return row;
}

/** A learner assigned at a switch, with their stored completion of the period that ends. */
export interface SwitchLearnerRow {
  user_id: number;
  due_at: number | null;
  status: string | null;
  completed_at: number | null;
}

/** Learners actively assigned to the program (assignment's relation), after `after`, with their completion. */
export function activeLearnersAfter(
  executor: Executor,
  assignments: SqlView<'program_id' | 'user_id' | 'status' | 'due_at'>,
  programId: number,
  after: number,
  limit: number,
): Promise<SwitchLearnerRow[]> {
  return queryRows<SwitchLearnerRow>(
    executor,
    `SELECT a.user_id, a.due_at, pc.status, pc.completed_at FROM ${assignments.as('a')}
       LEFT JOIN program_completions pc ON pc.program_id = a.program_id AND pc.user_id = a.user_id
      WHERE a.program_id = ? AND a.status = 'active' AND a.user_id > ? ORDER BY a.user_id LIMIT ${Math.max(1, Math.floor(limit))}`,
    [programId, after],
  );
}

/** Records how each learner stood when the period ended (a second write of the same row is ignored). */
export async function insertPeriodLearners(
  trx: Knex.Transaction,
  rows: ReadonlyArray<{
    period_id: number;
    program_id: number;
    user_id: number;
    status: string;
    due_at: number | null;
    completed_at: number | null;
    archived_at: number;
  }>,
): Promise<void> {
  if (!rows.length) return;
  await trx('program_recurrence_learners').insert(rows).onConflict(['period_id', 'user_id']).ignore();
}

/**
 * Moves every current completion of the program to history with the period's label, and starts the
 * program again for them: completion back to incomplete, course-set records gone (the new period's
 * are written by the recompute the switch queues).
 */
export async function archiveCompletionsForPeriod(trx: Knex.Transaction, programId: number, label: string, now: number): Promise<void> {
  await runStatement(
    trx,
    `INSERT INTO program_completion_history (program_id, user_id, completed_at, reason, archived_at, period_label)
     SELECT program_id, user_id, completed_at, 'recurrence', ?, ? FROM program_completions
      WHERE program_id = ? AND status = 'complete' AND completed_at IS NOT NULL`,
    [now, label, programId],
  );
  await runStatement(
    trx,
    `UPDATE program_completions SET status = 'incomplete', completed_at = NULL, updated_at = ? WHERE program_id = ? AND status = 'complete'`,
    [now, programId],
  );
  await runStatement(trx, 'DELETE FROM course_set_completions WHERE program_id = ?', [programId]);
}

/** Past periods whose course this is and which the learner had not completed when they ended. */
export function owedPeriodsOfCourse(
  trx: Knex.Transaction,
  userId: number,
  courseId: number,
): Promise<Array<{ id: number; program_id: number; label: string; completed_at: number | null }>> {
  return queryRows<{ id: number; program_id: number; label: string; completed_at: number | null }>(
    trx,
    `SELECT r.id, p.program_id, p.label, cc.completed_at FROM program_recurrence_periods p
       JOIN program_recurrence_learners r ON r.period_id = p.id
       LEFT JOIN ${learningViews.courseCompletions.as('cc')} ON cc.user_id = r.user_id AND cc.course_id = p.course_id
      WHERE p.course_id = ? AND r.user_id = ? AND r.status = 'incomplete'`,
    [courseId, userId],
  );
}

/** The earlier periods of the program the learner has not finished yet, with their course's name. */
export function owedPeriodsOf(executor: Executor, programId: number, userId: number): Promise<Array<{ label: string; course_id: number; fullname: string }>> {
  return queryRows<{ label: string; course_id: number; fullname: string }>(
    executor,
    `SELECT p.label, p.course_id, c.fullname FROM program_recurrence_periods p
       JOIN program_recurrence_learners r ON r.period_id = p.id
       JOIN ${learningViews.courses.as('c')} ON c.id = p.course_id
      WHERE p.program_id = ? AND r.user_id = ? AND r.status = 'incomplete' ORDER BY p.seq`,
    [programId, userId],
  );
}

/** A learner finished an earlier period's course late: their record of it, and their history. */
export async function completeOwedPeriods(
  trx: Knex.Transaction,
  rows: ReadonlyArray<{ id: number; program_id: number; label: string; completed_at: number }>,
  userId: number,
  now: number,
): Promise<void> {
  for (const row of rows) {
    const changed = await runStatement(
      trx,
      `UPDATE program_recurrence_learners SET status = 'complete', completed_at = ? WHERE id = ? AND status = 'incomplete'`,
      [row.completed_at, row.id],
    );
    if (changed)
      await trx('program_completion_history').insert({
        program_id: row.program_id,
        user_id: userId,
        completed_at: row.completed_at,
        reason: 'recurrence_late',
        archived_at: now,
        period_label: row.label,
      });
  }
}

/** The named orders of a program's periods: newest first by default. */
export const PERIOD_ORDERS: readonly KeysetOrder[] = [
  { name: '-seq', keys: [{ column: 'p.seq', direction: 'desc' }] },
  { name: 'seq', keys: [{ column: 'p.seq', direction: 'asc' }] },
];

/** One page of a program's periods with their course and learner counts. */
export function periodPage(knex: Knex, programId: number, order: KeysetOrder, position: PagePosition): Promise<KeysetPage<PeriodPageRow>> {
  const query = knex('program_recurrence_periods as p')
    .join(knex.raw(`${learningViews.courses.as('c')} ON c.id = p.course_id`))
    .where('p.program_id', programId)
    .select(
      'p.*',
      'c.shortname as course_shortname',
      'c.fullname as course_fullname',
      knex.raw('(SELECT COUNT(*) FROM program_recurrence_learners r WHERE r.period_id = p.id) AS learners'),
      knex.raw(`(SELECT COUNT(*) FROM program_recurrence_learners r WHERE r.period_id = p.id AND r.status = 'complete') AS completed`),
    );
  return readPage<PeriodPageRow>(query, order, position);
}
