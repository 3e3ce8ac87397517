import { learningViews, queryRows, type Database } from '../../core/index';

/** One learner's grades (in percent of each activity's maximum) and activity completions in one course. */
export interface CourseFacts {
  gradePercent: Map<number, number>;
  completed: Set<number>;
}

/**
 * The grade and completion conditions' facts in one prepared statement through learning's
 * published views: every activity of the course with this learner's grade and completion, so the
 * cost is one round trip whatever the number of activities and conditions.
 */
export async function loadCourseFacts(db: Database, userId: number, courseId: number): Promise<CourseFacts> {
  const rows = await queryRows<{ id: number; max_grade: number | string; grade: number | string | null; completed_at: number | null }>(
    db.knex,
    `SELECT a.id, a.max_grade, g.grade, ac.completed_at
       FROM ${learningViews.activities.as('a')}
       LEFT JOIN ${learningViews.grades.as('g')} ON g.activity_id = a.id AND g.user_id = ?
       LEFT JOIN ${learningViews.activityCompletions.as('ac')} ON ac.activity_id = a.id AND ac.user_id = ?
      WHERE a.course_id = ?`,
    [userId, userId, courseId],
    { prepared: true },
  );
  const gradePercent = new Map<number, number>();
  const completed = new Set<number>();
  for (const row of rows) {
    const max = Number(row.max_grade);
    // grade * 100 / max, not grade / max * 100: 57/100*100 is 56.99999999999999 in binary floating point.
    if (row.grade !== null && max > 0) gradePercent.set(Number(row.id), Math.round((Number(row.grade) * 100 * 1e6) / max) / 1e6);
    if (row.completed_at !== null) completed.add(Number(row.id));
  }
  return { gradePercent, completed };
}
