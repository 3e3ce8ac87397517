import type { Database } from '../../../kernel/db/database';
import { prepareStatement } from '../../../kernel/db/statements';
import { learningViews } from '../../learning/index';

const ACTIVE_ENROLMENT_SQL = `SELECT 1 AS one FROM ${learningViews.enrolments.as('e')} WHERE e.user_id = ? AND e.course_id = ? AND e.status = 'active' LIMIT 1`;

/**
 * Whether the learner holds an active enrolment in the course, by any method: one prepared,
 * indexed lookup (the (user_id, course_id, method) unique index) on learning's enrolments view.
 */
export function prepareActiveEnrolmentQuery(db: Database): (userId: number, courseId: number) => Promise<boolean> {
  const query = prepareStatement<{ one: number }>(db, ACTIVE_ENROLMENT_SQL);
  return async (userId, courseId) => (await query.all([userId, courseId])).length > 0;
}
