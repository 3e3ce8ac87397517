import type { Executor } from '../../../kernel/db/database';
import { queryRows } from '../../../kernel/db/sql';
import { learningViews } from '../../learning/index';
import { peopleViews } from '../../people/index';

/** What the launch pages and diagnostics read of users, courses and activities, through the owners' views. */

/** A user's id, username and full name, or undefined. */
export async function userSummary(executor: Executor, userId: number): Promise<{ id: number; username: string; fullname: string } | undefined> {
  const rows = await queryRows<{ id: number; username: string; fullname: string }>(
    executor,
    `SELECT u.id, u.username, u.fullname FROM ${peopleViews.users.as('u')} WHERE u.id = ?`,
    [userId],
  );
  return rows[0];
}

/** A course's id, short name and full name, or undefined. */
export async function courseSummary(executor: Executor, courseId: number): Promise<{ id: number; shortname: string; fullname: string } | undefined> {
  const rows = await queryRows<{ id: number; shortname: string; fullname: string }>(
    executor,
    `SELECT c.id, c.shortname, c.fullname FROM ${learningViews.courses.as('c')} WHERE c.id = ?`,
    [courseId],
  );
  return rows[0];
}

/** A course's id and full name, or undefined. */
export async function courseName(executor: Executor, courseId: number): Promise<{ id: number; fullname: string } | undefined> {
  const rows = await queryRows<{ id: number; fullname: string }>(executor, `SELECT c.id, c.fullname FROM ${learningViews.courses.as('c')} WHERE c.id = ?`, [
    courseId,
  ]);
  return rows[0];
}

/** The course an activity belongs to, or null when there is no such activity. */
export async function courseOfActivity(executor: Executor, activityId: number): Promise<number | null> {
  const [row] = await queryRows<{ course_id: number }>(executor, `SELECT a.course_id FROM ${learningViews.activities.as('a')} WHERE a.id = ?`, [activityId]);
  return row ? Number(row.course_id) : null;
}

/**
 * The launch fast path's extra columns on the session read (bind the course id twice): whether the
 * learner already holds an active enrolment in the course, and whether the course is visible.
 */
export const LAUNCH_EXTRA_COLUMNS = `(SELECT 1 FROM ${learningViews.enrolments.as('e')} WHERE e.user_id = u.id AND e.course_id = ? AND e.status = 'active' LIMIT 1) AS enrolled,
     (SELECT c.visible FROM ${learningViews.courses.as('c')} WHERE c.id = ?) AS visible`;
