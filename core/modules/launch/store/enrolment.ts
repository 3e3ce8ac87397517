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

const HIDDEN_FROM_LEARNER_SQL = `SELECT 1 AS one FROM ${learningViews.courses.as('c')} WHERE c.id = ? AND c.visible = 0
  AND NOT EXISTS (SELECT 1 FROM ${learningViews.enrolments.as('e')} WHERE e.user_id = ? AND e.course_id = c.id)
  AND NOT EXISTS (SELECT 1 FROM ${learningViews.courseCompletions.as('cc')} WHERE cc.user_id = ? AND cc.course_id = c.id)`;

/**
 * Whether the course is hidden from the learner: hidden (`visible` false) and not linked to them by
 * an enrolment of any status or a completion (learners see a hidden course only then). One
 * prepared statement of unique-index probes.
 */
export function prepareHiddenCourseQuery(db: Database): (userId: number, courseId: number) => Promise<boolean> {
  const query = prepareStatement<{ one: number }>(db, HIDDEN_FROM_LEARNER_SQL);
  return async (userId, courseId) => (await query.all([courseId, userId, userId])).length > 0;
}
