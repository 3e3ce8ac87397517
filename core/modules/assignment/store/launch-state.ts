import type { Knex } from 'knex';
import type { Database } from '../../../kernel/db/database';
import { placeholders, prepareStatement } from '../../../kernel/db/statements';
import { queryRows } from '../../../kernel/db/sql';
import { learningViews } from '../../learning/index';
import { programViews } from '../../programs/index';

/** One row of the launch read model: a candidate program (`p`) or one of the learner's course completions (`c`). */
export interface LaunchStateRow {
  kind: 'p' | 'c';
  id: number;
  fullname: string | null;
  structure_version: number | null;
  available: number | boolean | null;
  available_from: number | string | null;
  available_until: number | string | null;
  assignment_status: string | null;
  blocking_exceptions: number | string;
  completed_at: number | string | null;
  /** A recurring program's earlier period whose course this is and which the learner still owes (its label). */
  owed_period: string | null;
}

/**
 * Everything a program launch guard reads, in one statement (one round trip on MySQL): every program
 * containing the course, with this learner's assignment state and whether an open or dismissed
 * exception blocks it (indexed joins: course -> sets -> programs, then the (program_id, user_id)
 * unique index of assignments and exceptions), followed by the learner's course completions (the
 * (user_id, course_id) unique index). A read model on the launch hot path: it joins the programs and
 * learning modules' published views next to this module's own tables, and writes nothing. A recurring
 * program is also a candidate for an earlier period's course the learner had not finished when the
 * period ended (`owed_period`): they keep access to it until they do.
 */
const LAUNCH_STATE_SQL = `
  SELECT 'p' AS kind, p.id AS id, p.fullname, p.structure_version, p.available, p.available_from, p.available_until,
         a.status AS assignment_status,
         (SELECT COUNT(*) FROM program_exceptions e
            WHERE e.program_id = p.id AND e.user_id = ? AND e.status IN ('open', 'dismissed')) AS blocking_exceptions,
         NULL AS completed_at,
         (SELECT MIN(pr.label) FROM ${programViews.programRecurrencePeriods.as('pr')}
            JOIN ${programViews.programRecurrenceLearners.as('rl')} ON rl.period_id = pr.id
           WHERE pr.program_id = p.id AND pr.course_id = ? AND rl.user_id = ? AND rl.status = 'incomplete') AS owed_period
    FROM ${programViews.programs.as('p')}
    LEFT JOIN program_user_assignments a ON a.program_id = p.id AND a.user_id = ?
   WHERE p.id IN (SELECT s.program_id FROM ${programViews.programCourseSetCourses.as('sc')}
                    JOIN ${programViews.programCourseSets.as('s')} ON s.id = sc.course_set_id
                   WHERE sc.course_id = ?)
      OR p.id IN (SELECT pr.program_id FROM ${programViews.programRecurrencePeriods.as('pr')}
                    JOIN ${programViews.programRecurrenceLearners.as('rl')} ON rl.period_id = pr.id
                   WHERE pr.course_id = ? AND rl.user_id = ? AND rl.status = 'incomplete')
  UNION ALL
  SELECT 'c', cc.course_id, NULL, NULL, NULL, NULL, NULL, NULL, 0, cc.completed_at, NULL FROM ${learningViews.courseCompletions.as('cc')} WHERE cc.user_id = ?
  ORDER BY kind DESC, id`;

/** The launch read model as one prepared statement: its rows for a learner and a course. */
export function prepareLaunchStateQuery(db: Database): (userId: number, courseId: number) => Promise<LaunchStateRow[]> {
  const query = prepareStatement<LaunchStateRow>(db, LAUNCH_STATE_SQL);
  return (userId, courseId) => query.all([userId, courseId, userId, userId, courseId, courseId, userId, userId]);
}

/**
 * Of the (user, course) pairs, those whose course another program still reaches for that learner:
 * an active assignment, without a blocking exception, to a program other than `exceptProgramId`
 * that contains the course.
 */
export function coursesReachedElsewhere(
  trx: Knex.Transaction,
  exceptProgramId: number,
  userIds: readonly number[],
  courseIds: readonly number[],
): Promise<Array<{ user_id: number; course_id: number }>> {
  return queryRows<{ user_id: number; course_id: number }>(
    trx,
    `SELECT DISTINCT a.user_id, sc.course_id FROM program_user_assignments a
       JOIN ${programViews.programCourseSets.as('s')} ON s.program_id = a.program_id
       JOIN ${programViews.programCourseSetCourses.as('sc')} ON sc.course_set_id = s.id
      WHERE a.user_id IN (${placeholders(userIds.length)}) AND a.program_id <> ? AND a.status = 'active'
        AND sc.course_id IN (${placeholders(courseIds.length)})
        AND NOT EXISTS (SELECT 1 FROM program_exceptions e
                         WHERE e.program_id = a.program_id AND e.user_id = a.user_id AND e.status IN ('open', 'dismissed'))`,
    [...userIds, exceptProgramId, ...courseIds],
  );
}
