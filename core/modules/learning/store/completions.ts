import type { Knex } from 'knex';
import type { Executor } from '../../../kernel/db/database';
import type { SqlView } from '../../../kernel/db/views';
import { placeholders, queryRows, runStatement } from '../../../kernel/db/sql';

/** How a course completion was recorded (the `source` column). */
export type CourseCompletionSource = 'activity' | 'api' | 'import';

/** A course completion as stored. */
export interface CourseCompletionRow {
  completed_at: number;
  source: CourseCompletionSource;
}

/** One activity of a course with the learner's completion and grade of it (nulls when none). */
export interface ActivityProgressRow {
  id: number;
  completion_tracked: number | boolean;
  max_grade: number | string;
  completed_at: number | null;
  grade: number | string | null;
  graded_at: number | null;
}

/** Whether the user exists, asked of the users relation the identity port publishes (people's). */
export async function userExists(executor: Executor, users: SqlView<'id'>, userId: number): Promise<boolean> {
  return (await queryRows<{ id: number }>(executor, `SELECT u.id FROM ${users.as('u')} WHERE u.id = ?`, [userId])).length > 0;
}

/**
 * Inserts the learner's course completion (already complete is a unique violation; an unknown user
 * or course a foreign-key one). The completion hot path: one raw statement.
 */
export async function insertCourseCompletion(
  trx: Knex.Transaction,
  row: { userId: number; courseId: number; completedAt: number; source: CourseCompletionSource; createdAt: number },
): Promise<void> {
  await runStatement(trx, 'INSERT INTO course_completions (user_id, course_id, completed_at, source, created_at) VALUES (?, ?, ?, ?, ?)', [
    row.userId,
    row.courseId,
    row.completedAt,
    row.source,
    row.createdAt,
  ]);
}

/** The learner's course completion, or undefined. */
export async function courseCompletionOf(executor: Executor, userId: number, courseId: number): Promise<CourseCompletionRow | undefined> {
  const rows = await queryRows<CourseCompletionRow>(executor, 'SELECT completed_at, source FROM course_completions WHERE user_id = ? AND course_id = ?', [
    userId,
    courseId,
  ]);
  return rows[0];
}

/** Keeps a superseded course completion on record (`action` says why it went). */
export async function insertCourseCompletionHistory(
  trx: Knex.Transaction,
  row: { userId: number; courseId: number; completedAt: number; source: CourseCompletionSource; action: string; recordedAt: number },
): Promise<void> {
  await runStatement(trx, 'INSERT INTO course_completion_history (user_id, course_id, completed_at, source, action, recorded_at) VALUES (?, ?, ?, ?, ?, ?)', [
    row.userId,
    row.courseId,
    row.completedAt,
    row.source,
    row.action,
    row.recordedAt,
  ]);
}

/** Replaces the time and source of the learner's course completion. */
export async function updateCourseCompletion(
  trx: Knex.Transaction,
  userId: number,
  courseId: number,
  completedAt: number,
  source: CourseCompletionSource,
): Promise<void> {
  await runStatement(trx, 'UPDATE course_completions SET completed_at = ?, source = ? WHERE user_id = ? AND course_id = ?', [
    completedAt,
    source,
    userId,
    courseId,
  ]);
}

/** Inserts the learner's activity completion (already complete is a unique violation; an unknown user a foreign-key one). */
export async function insertActivityCompletion(trx: Knex.Transaction, userId: number, activityId: number, completedAt: number): Promise<void> {
  await runStatement(trx, 'INSERT INTO activity_completions (user_id, activity_id, completed_at) VALUES (?, ?, ?)', [userId, activityId, completedAt]);
}

/** When the learner completed the activity, or undefined. */
export async function activityCompletionTime(executor: Executor, userId: number, activityId: number): Promise<number | undefined> {
  const [row] = await queryRows<{ completed_at: number }>(executor, 'SELECT completed_at FROM activity_completions WHERE user_id = ? AND activity_id = ?', [
    userId,
    activityId,
  ]);
  return row?.completed_at;
}

/** Records the learner's grade of the activity, replacing an earlier one. */
export async function upsertGrade(trx: Knex.Transaction, userId: number, activityId: number, grade: number, gradedAt: number): Promise<void> {
  await trx('grades')
    .insert({ user_id: userId, activity_id: activityId, grade, graded_at: gradedAt })
    .onConflict(['user_id', 'activity_id'])
    .merge(['grade', 'graded_at']);
}

/** Every activity of the course with the learner's completion and grade of it, in one statement. */
export function activityProgress(executor: Executor, courseId: number, userId: number): Promise<ActivityProgressRow[]> {
  return queryRows<ActivityProgressRow>(
    executor,
    `SELECT a.id, a.completion_tracked, a.max_grade, ac.completed_at, g.grade, g.graded_at FROM activities a
       LEFT JOIN activity_completions ac ON ac.activity_id = a.id AND ac.user_id = ?
       LEFT JOIN grades g ON g.activity_id = a.id AND g.user_id = ?
     WHERE a.course_id = ?`,
    [userId, userId, courseId],
  );
}

/**
 * These learners' current completions of these courses: the read programs' recalculation, assignment
 * sync and the learner views' progress share (callers bound both lists, e.g. 500 each).
 */
export function courseCompletionsOfUsers(
  executor: Executor,
  userIds: readonly number[],
  courseIds: readonly number[],
): Promise<Array<{ user_id: number; course_id: number; completed_at: number }>> {
  return queryRows<{ user_id: number; course_id: number; completed_at: number }>(
    executor,
    `SELECT user_id, course_id, completed_at FROM course_completions
     WHERE user_id IN (${placeholders(userIds.length)}) AND course_id IN (${placeholders(courseIds.length)})`,
    [...userIds, ...courseIds],
  );
}

/** Deletes the learner's course completion; the number of rows deleted (0 or 1). */
export async function deleteCourseCompletion(trx: Knex.Transaction, userId: number, courseId: number): Promise<number> {
  return trx('course_completions').where({ user_id: userId, course_id: courseId }).delete();
}
