import { learningViews, peopleViews, placeholders, queryRows, type Database } from '../../core/index';

/** One learner's grades (in percent of each activity's maximum) and activity completions in one course. */
export interface CourseFacts {
  gradePercent: Map<number, number>;
  completed: Set<number>;
}

/**
 * One learner's grades and completions of the activities that conditions name (a handful, whatever
 * the number of activities in the course): one statement through learning's published views.
 */
export async function loadCourseFacts(db: Database, userId: number, activityIds: readonly number[]): Promise<CourseFacts> {
  const gradePercent = new Map<number, number>();
  const completed = new Set<number>();
  if (!activityIds.length) return { gradePercent, completed };
  const rows = await queryRows<{ id: number; max_grade: number | string; grade: number | string | null; completed_at: number | null }>(
    db.knex,
    `SELECT a.id, a.max_grade, g.grade, ac.completed_at
       FROM ${learningViews.activities.as('a')}
       LEFT JOIN ${learningViews.grades.as('g')} ON g.activity_id = a.id AND g.user_id = ?
       LEFT JOIN ${learningViews.activityCompletions.as('ac')} ON ac.activity_id = a.id AND ac.user_id = ?
      WHERE a.id IN (${placeholders(activityIds.length)})`,
    [userId, userId, ...activityIds],
    { prepared: true },
  );
  for (const row of rows) {
    const max = Number(row.max_grade);
    // grade * 100 / max, not grade / max * 100: 57/100*100 is 56.99999999999999 in binary floating point.
    if (row.grade !== null && max > 0) gradePercent.set(Number(row.id), Math.round((Number(row.grade) * 100 * 1e6) / max) / 1e6);
    if (row.completed_at !== null) completed.add(Number(row.id));
  }
  return { gradePercent, completed };
}

/** The same facts for a batch of learners (at most a few hundred ids): two set-based statements. */
export async function loadCourseFactsMany(db: Database, userIds: readonly number[], courseId: number): Promise<Map<number, CourseFacts>> {
  const facts = new Map<number, CourseFacts>(userIds.map((id) => [id, { gradePercent: new Map(), completed: new Set() }]));
  if (!userIds.length) return facts;
  const ids = placeholders(userIds.length);
  const [grades, completions] = await Promise.all([
    queryRows<{ user_id: number; activity_id: number; grade: number | string; max_grade: number | string }>(
      db.knex,
      `SELECT g.user_id, g.activity_id, g.grade, a.max_grade
         FROM ${learningViews.grades.as('g')} JOIN ${learningViews.activities.as('a')} ON a.id = g.activity_id
        WHERE a.course_id = ? AND g.user_id IN (${ids})`,
      [courseId, ...userIds],
    ),
    queryRows<{ user_id: number; activity_id: number }>(
      db.knex,
      `SELECT ac.user_id, ac.activity_id
         FROM ${learningViews.activityCompletions.as('ac')} JOIN ${learningViews.activities.as('a')} ON a.id = ac.activity_id
        WHERE a.course_id = ? AND ac.user_id IN (${ids})`,
      [courseId, ...userIds],
    ),
  ]);
  for (const row of grades) {
    const max = Number(row.max_grade);
    if (max > 0) facts.get(Number(row.user_id))?.gradePercent.set(Number(row.activity_id), Math.round((Number(row.grade) * 100 * 1e6) / max) / 1e6);
  }
  for (const row of completions) facts.get(Number(row.user_id))?.completed.add(Number(row.activity_id));
  return facts;
}

/** Standard user fields the profile condition compares, and custom profile values by shortname, for a batch of learners. */
export async function profileValuesMany(db: Database, userIds: readonly number[], withCustom: boolean): Promise<Map<number, Map<string, string>>> {
  const values = new Map<number, Map<string, string>>(userIds.map((id) => [id, new Map()]));
  if (!userIds.length) return values;
  const ids = placeholders(userIds.length);
  const users = await queryRows<{ id: number; lang: string; email: string; fullname: string; username: string; timezone: string }>(
    db.knex,
    `SELECT u.id, u.lang, u.email, u.fullname, u.username, u.timezone FROM ${peopleViews.users.as('u')} WHERE u.id IN (${ids})`,
    [...userIds],
  );
  for (const u of users) {
    const map = values.get(Number(u.id))!;
    for (const field of ['lang', 'email', 'fullname', 'username', 'timezone'] as const) map.set(`sf:${field}`, String(u[field] ?? ''));
  }
  if (withCustom) {
    const custom = await queryRows<{ user_id: number; shortname: string; value_text: string | null; value_date: number | null }>(
      db.knex,
      `SELECT v.user_id, f.shortname, v.value_text, v.value_date
         FROM ${peopleViews.userProfileValues.as('v')} JOIN ${peopleViews.profileFields.as('f')} ON f.id = v.field_id
        WHERE v.user_id IN (${ids})`,
      [...userIds],
    );
    for (const row of custom) {
      const text = row.value_text ?? (row.value_date === null ? '' : new Date(Number(row.value_date)).toISOString().slice(0, 10));
      values.get(Number(row.user_id))?.set(`cf:${row.shortname}`, text);
    }
  }
  return values;
}

/** Which of `audienceIds` each learner of the batch belongs to. */
export async function audienceMembershipsMany(db: Database, userIds: readonly number[], audienceIds: readonly number[]): Promise<Map<number, Set<number>>> {
  const memberships = new Map<number, Set<number>>(userIds.map((id) => [id, new Set()]));
  if (!userIds.length || !audienceIds.length) return memberships;
  const rows = await queryRows<{ user_id: number; audience_id: number }>(
    db.knex,
    `SELECT m.user_id, m.audience_id FROM ${peopleViews.audienceMembers.as('m')}
      WHERE m.user_id IN (${placeholders(userIds.length)}) AND m.audience_id IN (${placeholders(audienceIds.length)})`,
    [...userIds, ...audienceIds],
  );
  for (const row of rows) memberships.get(Number(row.user_id))?.add(Number(row.audience_id));
  return memberships;
}

/** Learners with an active enrolment in the course, one page of ids after `afterId` (keyset, ascending). */
export async function enrolledLearners(db: Database, courseId: number, afterId: number, limit: number): Promise<number[]> {
  const rows = await queryRows<{ user_id: number }>(
    db.knex,
    `SELECT DISTINCT e.user_id FROM ${learningViews.enrolments.as('e')}
      WHERE e.course_id = ? AND e.status = 'active' AND e.user_id > ? ORDER BY e.user_id LIMIT ${Number(limit)}`,
    [courseId, afterId],
  );
  return rows.map((r) => Number(r.user_id));
}

/** One page of courses by full name (offset paging: an operator's list of a few hundred courses), optionally matching `search`. */
export function coursesPage(db: Database, search: string, offset: number, limit: number): Promise<Array<{ id: number; shortname: string; fullname: string }>> {
  // '!' as the LIKE escape: a backslash means different things in MySQL and SQLite string literals.
  const like = `%${search.replace(/[!%_]/g, (c) => `!${c}`)}%`;
  return queryRows<{ id: number; shortname: string; fullname: string }>(
    db.knex,
    `SELECT c.id, c.shortname, c.fullname FROM ${learningViews.courses.as('c')}
      WHERE (? = '' OR c.fullname LIKE ? ESCAPE '!' OR c.shortname LIKE ? ESCAPE '!')
      ORDER BY c.fullname, c.id LIMIT ${Number(limit)} OFFSET ${Number(offset)}`,
    [search, like, like],
  );
}
