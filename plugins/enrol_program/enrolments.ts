import type { Knex } from 'knex';
import { placeholders } from '../../core/index';
import { PROGRAM_METHOD } from './launch';

/** Users per statement: keeps IN lists well under every driver's parameter limit. */
const BATCH = 500;

/** Courses of the program (a subquery; `?` = program id). */
const PROGRAM_COURSES = `SELECT sc.course_id FROM program_course_set_courses sc
  JOIN program_course_sets s ON s.id = sc.course_set_id WHERE s.program_id = ?`;

/**
 * True when the enrolment's course is still reachable through another program the learner is
 * actively assigned to (without a blocking exception): those enrolments stay as they are.
 */
const REACHABLE_ELSEWHERE = `EXISTS (
  SELECT 1 FROM program_user_assignments a
    JOIN program_course_sets s2 ON s2.program_id = a.program_id
    JOIN program_course_set_courses sc2 ON sc2.course_set_id = s2.id
   WHERE a.user_id = enrolments.user_id AND a.program_id <> ? AND a.status = 'active'
     AND sc2.course_id = enrolments.course_id
     AND NOT EXISTS (SELECT 1 FROM program_exceptions e
                      WHERE e.program_id = a.program_id AND e.user_id = a.user_id AND e.status IN ('open', 'dismissed')))`;

function chunks(ids: readonly number[]): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < ids.length; i += BATCH) out.push(ids.slice(i, i + BATCH));
  return out;
}

/**
 * Unassignment (DOMAIN 4): the learners' program enrolments in the program's courses are suspended
 * (or deleted, when `action` is `unenrol`), except in courses another of their programs still
 * reaches. Set-based, in batches of users, inside the caller's transaction. Completion records are
 * not touched. Returns how many enrolments changed.
 */
export async function releaseProgramEnrolments(
  trx: Knex.Transaction,
  programId: number,
  userIds: readonly number[],
  action: 'suspend' | 'unenrol',
  now: number,
): Promise<number> {
  let changed = 0;
  for (const batch of chunks([...new Set(userIds)])) {
    const where = `method = ? AND user_id IN (${placeholders(batch.length)})
      AND course_id IN (${PROGRAM_COURSES}) AND NOT ${REACHABLE_ELSEWHERE}`;
    const bindings = [PROGRAM_METHOD, ...batch, programId, programId];
    const result =
      action === 'unenrol'
        ? await trx.raw(`DELETE FROM enrolments WHERE ${where}`, bindings)
        : await trx.raw(`UPDATE enrolments SET status = 'suspended', updated_at = ? WHERE status = 'active' AND ${where}`, [now, ...bindings]);
    changed += affectedRows(result);
  }
  return changed;
}

/** Re-assignment: the learners' suspended program enrolments in the program's courses become active again. */
export async function reactivateProgramEnrolments(trx: Knex.Transaction, programId: number, userIds: readonly number[], now: number): Promise<number> {
  let changed = 0;
  for (const batch of chunks([...new Set(userIds)])) {
    const result = await trx.raw(
      `UPDATE enrolments SET status = 'active', updated_at = ?
        WHERE method = ? AND status = 'suspended' AND user_id IN (${placeholders(batch.length)}) AND course_id IN (${PROGRAM_COURSES})`,
      [now, PROGRAM_METHOD, ...batch, programId],
    );
    changed += affectedRows(result);
  }
  return changed;
}

/** Rows changed by a raw UPDATE/DELETE: mysql2 answers `[ResultSetHeader]`, better-sqlite3 `{changes}`. */
function affectedRows(result: unknown): number {
  const r = (Array.isArray(result) ? result[0] : result) as { affectedRows?: number; changes?: number } | undefined;
  return Number(r?.affectedRows ?? r?.changes ?? 0);
}
