import type { Knex } from 'knex';
import type { Database, Dialect, Executor } from '../../../kernel/db/database';
import { prepareStatement, type PreparedStatement } from '../../../kernel/db/statements';
import { affectedRows, placeholders, queryRows } from '../../../kernel/db/sql';

export interface EnrolmentRow {
  id: number;
  user_id: number;
  course_id: number;
  method: string;
  status: 'active' | 'suspended';
  created_at: number;
  updated_at: number;
}

/** One enrolment: a learner in a course by a method. */
export interface EnrolmentKey {
  userId: number;
  courseId: number;
  method: string;
}

function upsertActiveSql(dialect: Dialect): string {
  // One statement, no prior SELECT: the (user_id, course_id, method) unique index makes a
  // concurrent second insert a no-op, and the conflict branch reactivates a suspended enrolment.
  return dialect === 'mysql'
    ? `INSERT INTO enrolments (user_id, course_id, method, status, created_at, updated_at) VALUES (?, ?, ?, 'active', ?, ?)
       ON DUPLICATE KEY UPDATE updated_at = IF(status = 'active', updated_at, VALUES(updated_at)), status = 'active'`
    : `INSERT INTO enrolments (user_id, course_id, method, status, created_at, updated_at) VALUES (?, ?, ?, 'active', ?, ?)
       ON CONFLICT (user_id, course_id, method) DO UPDATE SET status = 'active', updated_at = excluded.updated_at WHERE enrolments.status <> 'active'`;
}

/**
 * The launch hot path's prepared upsert (bindings: user id, course id, method, created at, updated at):
 * creates the enrolment active or reactivates it. Prepare it once per database.
 */
export function prepareUpsertActiveEnrolment(db: Database): PreparedStatement<never> {
  return prepareStatement<never>(db, upsertActiveSql(db.dialect));
}

/** The enrolment, or undefined. */
export async function enrolmentByKey(executor: Executor, key: EnrolmentKey): Promise<EnrolmentRow | undefined> {
  return (
    await queryRows<EnrolmentRow>(executor, 'SELECT * FROM enrolments WHERE user_id = ? AND course_id = ? AND method = ?', [
      key.userId,
      key.courseId,
      key.method,
    ])
  )[0];
}

/** Inserts an enrolment (an existing one is a unique violation; an unknown user or course a foreign-key one). */
export async function insertEnrolment(trx: Knex.Transaction, key: EnrolmentKey, status: 'active' | 'suspended', now: number): Promise<void> {
  await trx('enrolments').insert({ user_id: key.userId, course_id: key.courseId, method: key.method, status, created_at: now, updated_at: now });
}

/**
 * Sets the enrolment's status and returns how many rows changed; `onlyIfDifferent` leaves one
 * already in that status untouched (its updated_at too).
 */
export async function updateEnrolmentStatus(
  trx: Knex.Transaction,
  key: EnrolmentKey,
  status: 'active' | 'suspended',
  now: number,
  options: { onlyIfDifferent?: boolean } = {},
): Promise<number> {
  const query = trx('enrolments').where({ user_id: key.userId, course_id: key.courseId, method: key.method });
  if (options.onlyIfDifferent) query.whereNot({ status });
  return await query.update({ status, updated_at: now });
}

/** Deletes the enrolment; returns how many rows went. */
export async function deleteEnrolment(trx: Knex.Transaction, key: EnrolmentKey): Promise<number> {
  return await trx('enrolments').where({ user_id: key.userId, course_id: key.courseId, method: key.method }).delete();
}

/** Enrolments by id, optionally only one user's or one course's. */
export async function listEnrolments(executor: Executor, filter: { userId?: number; courseId?: number }): Promise<EnrolmentRow[]> {
  const query = executor<EnrolmentRow>('enrolments').select('*').orderBy('id');
  if (filter.userId !== undefined) query.where('user_id', filter.userId);
  if (filter.courseId !== undefined) query.where('course_id', filter.courseId);
  return await query;
}

/**
 * One statement over a batch of (user, course) pairs of one method: `suspend` active enrolments,
 * `reactivate` suspended ones, or `unenrol` (delete) them. Returns how many changed.
 */
export async function changeEnrolmentBatch(
  trx: Knex.Transaction,
  method: string,
  action: 'suspend' | 'reactivate' | 'unenrol',
  pairs: ReadonlyArray<{ userId: number; courseId: number }>,
  now: number,
): Promise<number> {
  const match = pairs.map(() => '(user_id = ? AND course_id = ?)').join(' OR ');
  const keys = pairs.flatMap((p) => [p.userId, p.courseId]);
  const result =
    action === 'unenrol'
      ? await trx.raw(`DELETE FROM enrolments WHERE method = ? AND (${match})`, [method, ...keys])
      : await trx.raw(`UPDATE enrolments SET status = ?, updated_at = ? WHERE method = ? AND status = ? AND (${match})`, [
          action === 'suspend' ? 'suspended' : 'active',
          now,
          method,
          action === 'suspend' ? 'active' : 'suspended',
          ...keys,
        ]);
  return affectedRows(result);
}

/** Whether any of these learners (at least one) has an enrolment of this method in this status: one indexed probe. */
export async function anyEnrolmentOf(executor: Executor, method: string, status: 'active' | 'suspended', userIds: readonly number[]): Promise<boolean> {
  const found = await queryRows<{ one: number }>(
    executor,
    `SELECT 1 AS one FROM enrolments WHERE user_id IN (${placeholders(userIds.length)}) AND method = ? AND status = ? LIMIT 1`,
    [...userIds, method, status],
  );
  return found.length > 0;
}

/** Whether the user has any active enrolment in the course. */
export async function hasActiveEnrolment(executor: Executor, userId: number, courseId: number): Promise<boolean> {
  const rows = await queryRows<{ one: number }>(executor, "SELECT 1 AS one FROM enrolments WHERE user_id = ? AND course_id = ? AND status = 'active' LIMIT 1", [
    userId,
    courseId,
  ]);
  return rows.length > 0;
}
