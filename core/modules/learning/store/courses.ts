import type { Knex } from 'knex';
import type { Executor } from '../../../kernel/db/database';
import { queryRows } from '../../../kernel/db/sql';
import { readPage, wherePrefix, type KeysetOrder, type KeysetPage, type PagePosition } from '../../../kernel/db/keyset';

/** A course as the courses service reads it. */
export interface CourseRow {
  id: number;
  shortname: string;
  fullname: string;
  summary: string | null;
  visible: number | boolean;
  start_date: number | null;
  score: number;
  created_at: number;
}

/** An activity row, every column. */
export interface ActivityRow {
  id: number;
  course_id: number;
  sortorder: number;
  type: string;
  name: string;
  completion_tracked: number | boolean;
  max_grade: number | string;
  availability: string | null;
  section_id: number | null;
}

/** A course section row. */
export interface SectionRow {
  id: number;
  course_id: number;
  sortorder: number;
  name: string;
  availability: string | null;
}

/** The course's sections in course order. */
export function sectionsOfCourse(executor: Executor, courseId: number): Promise<SectionRow[]> {
  return queryRows<SectionRow>(executor, 'SELECT id, course_id, sortorder, name, availability FROM course_sections WHERE course_id = ? ORDER BY sortorder', [
    courseId,
  ]);
}

/** The section, or undefined. */
export async function sectionById(executor: Executor, sectionId: number): Promise<SectionRow | undefined> {
  return (await queryRows<SectionRow>(executor, 'SELECT id, course_id, sortorder, name, availability FROM course_sections WHERE id = ?', [sectionId]))[0];
}

/** Adds a section at the end of the course and returns its id. */
export async function insertSection(
  trx: Knex.Transaction,
  row: { course_id: number; name: string; availability: string | null; now: number },
): Promise<number> {
  const [{ last }] = (await queryRows<{ last: number | null }>(trx, 'SELECT MAX(sortorder) AS last FROM course_sections WHERE course_id = ?', [
    row.course_id,
  ])) as [{ last: number | null }];
  const [id] = (await trx('course_sections').insert({
    course_id: row.course_id,
    sortorder: last === null ? 0 : Number(last) + 1,
    name: row.name,
    availability: row.availability,
    created_at: row.now,
    updated_at: row.now,
  })) as [number];
  return id;
}

/** Changes the given columns of a section. */
export async function updateSectionRow(
  trx: Knex.Transaction,
  sectionId: number,
  patch: Partial<{ name: string; availability: string | null }>,
  now: number,
): Promise<void> {
  await trx('course_sections')
    .where({ id: sectionId })
    .update({ ...patch, updated_at: now });
}

/** The columns of an activity that completion needs. */
export type ActivityTrackingRow = Pick<ActivityRow, 'id' | 'course_id' | 'completion_tracked' | 'max_grade'>;

/** A course's completion criteria as stored (no row: `all_tracked`). */
export interface CriteriaRow {
  mode: string;
  activity_ids: string | null;
  min_grade: number | string | null;
}

/** The course, or undefined. */
export async function courseById(executor: Executor, courseId: number): Promise<CourseRow | undefined> {
  const rows = await queryRows<CourseRow>(
    executor,
    'SELECT id, shortname, fullname, summary, visible, start_date, score, created_at FROM courses WHERE id = ?',
    [courseId],
  );
  return rows[0];
}

/** Whether the course exists; `forUpdate` also locks its row (MySQL only: SQLite has no row locks). */
export async function courseExists(executor: Executor, courseId: number, options: { forUpdate?: boolean } = {}): Promise<boolean> {
  const lock = options.forUpdate ? ' FOR UPDATE' : '';
  return (await queryRows<{ id: number }>(executor, `SELECT id FROM courses WHERE id = ?${lock}`, [courseId])).length > 0;
}

/** Inserts a course and returns its id (a taken shortname is a unique violation). */
export async function insertCourse(
  trx: Knex.Transaction,
  row: {
    shortname: string;
    fullname: string;
    summary: string | null;
    visible: boolean;
    start_date: number | null;
    score: number;
    created_at: number;
    updated_at: number;
  },
): Promise<number> {
  const [courseId] = (await trx('courses').insert(row)) as [number];
  return courseId;
}

/** Stamps the course as changed. */
export async function touchCourse(trx: Knex.Transaction, courseId: number, now: number): Promise<void> {
  await trx('courses').where({ id: courseId }).update({ updated_at: now });
}

/** Shows or hides the course. */
export async function setCourseVisible(trx: Knex.Transaction, courseId: number, visible: boolean, now: number): Promise<void> {
  await trx('courses').where({ id: courseId }).update({ visible, updated_at: now });
}

/** The course's activities in course order. */
export function activitiesOfCourse(executor: Executor, courseId: number): Promise<ActivityRow[]> {
  return queryRows<ActivityRow>(executor, 'SELECT * FROM activities WHERE course_id = ? ORDER BY sortorder', [courseId]);
}

/** The ids of the course's activities. */
export async function activityIdsOfCourse(executor: Executor, courseId: number): Promise<number[]> {
  return (await queryRows<{ id: number }>(executor, 'SELECT id FROM activities WHERE course_id = ?', [courseId])).map((r) => Number(r.id));
}

/** The activity, or undefined. */
export async function activityById(executor: Executor, activityId: number): Promise<ActivityRow | undefined> {
  return (await queryRows<ActivityRow>(executor, 'SELECT * FROM activities WHERE id = ?', [activityId]))[0];
}

/** What completion needs of the activity (its course, tracking and maximum grade), or undefined. */
export async function activityTracking(executor: Executor, activityId: number): Promise<ActivityTrackingRow | undefined> {
  return (await queryRows<ActivityTrackingRow>(executor, 'SELECT id, course_id, completion_tracked, max_grade FROM activities WHERE id = ?', [activityId]))[0];
}

/** The highest activity position in the course, or null when it has none. */
export async function lastActivityPosition(executor: Executor, courseId: number): Promise<number | null> {
  const [{ next }] = (await queryRows<{ next: number | null }>(executor, 'SELECT MAX(sortorder) AS next FROM activities WHERE course_id = ?', [courseId])) as [
    { next: number | null },
  ];
  return next;
}

/** Inserts an activity and returns its id. */
export async function insertActivity(
  trx: Knex.Transaction,
  row: {
    course_id: number;
    sortorder: number;
    type: string;
    name: string;
    completion_tracked: boolean;
    max_grade: number;
    availability: string | null;
    section_id: number | null;
    created_at: number;
  },
): Promise<number> {
  const [id] = (await trx('activities').insert(row)) as [number];
  return id;
}

/** Changes the given columns of an activity (an empty patch changes nothing). */
export async function updateActivityRow(
  trx: Knex.Transaction,
  activityId: number,
  patch: Partial<{ name: string; completion_tracked: boolean; max_grade: number; availability: string | null; section_id: number | null }>,
): Promise<void> {
  if (Object.keys(patch).length) await trx('activities').where({ id: activityId }).update(patch);
}

/** The course's stored completion criteria, or undefined (then `all_tracked`). */
export async function criteriaOfCourse(executor: Executor, courseId: number): Promise<CriteriaRow | undefined> {
  const rows = await queryRows<CriteriaRow>(executor, 'SELECT mode, activity_ids, min_grade FROM course_completion_criteria WHERE course_id = ?', [courseId]);
  return rows[0];
}

/** Inserts or replaces the course's completion criteria. */
export async function upsertCriteria(
  trx: Knex.Transaction,
  row: { course_id: number; mode: string; activity_ids: string | null; min_grade: number | null; updated_at: number },
): Promise<void> {
  await trx('course_completion_criteria').insert(row).onConflict('course_id').merge(['mode', 'activity_ids', 'min_grade', 'updated_at']);
}

/**
 * Narrows a query over `courses` (under `alias`) to what a learner may see: visible courses, and
 * hidden ones they are linked to (an enrolment, whatever its status, or a completion). Both
 * probes are unique-index lookups ((user_id, course_id, ...) on enrolments and completions).
 */
export function whereLearnerSeesCourse(query: Knex.QueryBuilder, knex: Knex, alias: string, userId: number): Knex.QueryBuilder {
  return query.where((seen) =>
    seen
      .where(`${alias}.visible`, true)
      .orWhereExists(knex('enrolments as e_seen').select(knex.raw('1')).where('e_seen.user_id', userId).whereRaw(`e_seen.course_id = ${alias}.id`))
      .orWhereExists(knex('course_completions as cc_seen').select(knex.raw('1')).where('cc_seen.user_id', userId).whereRaw(`cc_seen.course_id = ${alias}.id`)),
  );
}

/** Of `courseIds`, those the learner may see (see {@link whereLearnerSeesCourse}). */
export async function coursesSeenBy(knex: Knex, userId: number, courseIds: readonly number[]): Promise<number[]> {
  if (!courseIds.length) return [];
  const query = knex('courses as c').select('c.id').whereIn('c.id', courseIds);
  const rows = (await whereLearnerSeesCourse(query, knex, 'c', userId)) as Array<{ id: number }>;
  return rows.map((r) => Number(r.id));
}

/** The named orders of the course list (`?sort=`). */
export const COURSE_ORDERS: readonly KeysetOrder[] = [
  {
    name: 'fullname',
    keys: [
      { column: 'c.fullname', direction: 'asc', caseInsensitive: true },
      { column: 'c.id', direction: 'asc' },
    ],
  },
  { name: 'shortname', keys: [{ column: 'c.shortname', direction: 'asc' }] },
  { name: 'id', keys: [{ column: 'c.id', direction: 'asc' }] },
  { name: '-id', keys: [{ column: 'c.id', direction: 'desc' }] },
];

export interface CourseListFilter {
  /** Prefix of the full or short name, any case. */
  q?: string;
  visible?: boolean;
  /** Only what this learner may see; absent for operators (everything). */
  seenBy?: number;
}

/** One page of courses, filtered, in `order`. */
export function coursePage(knex: Knex, filter: CourseListFilter, order: KeysetOrder, position: PagePosition): Promise<KeysetPage<CourseRow>> {
  const query = knex('courses as c').select('c.id', 'c.shortname', 'c.fullname', 'c.summary', 'c.visible', 'c.start_date', 'c.score', 'c.created_at');
  if (filter.visible !== undefined) query.where('c.visible', filter.visible);
  if (filter.q) wherePrefix(query, ['c.fullname', 'c.shortname'], filter.q);
  if (filter.seenBy !== undefined) whereLearnerSeesCourse(query, knex, 'c', filter.seenBy);
  return readPage<CourseRow>(query, order, position);
}

/** Changes the given columns of a course (an empty patch only stamps it). */
export async function updateCourseRow(
  trx: Knex.Transaction,
  courseId: number,
  patch: Partial<{ shortname: string; fullname: string; summary: string | null; visible: boolean; start_date: number | null; score: number }>,
  now: number,
): Promise<void> {
  await trx('courses')
    .where({ id: courseId })
    .update({ ...patch, updated_at: now });
}

/** Whether any learner has a completion, a grade or a quiz attempt on the activity (three indexed probes). */
export async function activityHasLearnerData(executor: Executor, activityId: number): Promise<boolean> {
  const rows = await queryRows<{ found: number }>(
    executor,
    `SELECT 1 AS found FROM activity_completions WHERE activity_id = ?
     UNION ALL SELECT 1 FROM grades WHERE activity_id = ?
     UNION ALL SELECT 1 FROM quiz_attempts WHERE activity_id = ?
     LIMIT 1`,
    [activityId, activityId, activityId],
  );
  return rows.length > 0;
}

/** Deletes the activity row (its quiz settings and questions go with it through their foreign keys). */
export async function deleteActivityRow(trx: Knex.Transaction, activityId: number): Promise<void> {
  await trx('activities').where({ id: activityId }).delete();
}

/**
 * Swaps the positions of two activities of one course. Positions are unique per course, so one
 * goes through a free negative position first.
 */
export async function swapActivityPositions(trx: Knex.Transaction, a: ActivityRow, b: ActivityRow): Promise<void> {
  await trx('activities')
    .where({ id: a.id })
    .update({ sortorder: -1 - Number(a.sortorder) });
  await trx('activities').where({ id: b.id }).update({ sortorder: a.sortorder });
  await trx('activities').where({ id: a.id }).update({ sortorder: b.sortorder });
}

/** How many activities each of these courses has (absent: none). */
export async function activityCounts(knex: Knex, courseIds: readonly number[]): Promise<Map<number, number>> {
  if (!courseIds.length) return new Map();
  const rows = (await knex('activities').select('course_id').count({ n: '*' }).whereIn('course_id', courseIds).groupBy('course_id')) as Array<{
    course_id: number;
    n: number | string;
  }>;
  return new Map(rows.map((r) => [Number(r.course_id), Number(r.n)]));
}

/** Swaps the positions of two sections of one course (through a free negative position, as activities). */
export async function swapSectionPositions(trx: Knex.Transaction, a: SectionRow, b: SectionRow, now: number): Promise<void> {
  await trx('course_sections')
    .where({ id: a.id })
    .update({ sortorder: -1 - Number(a.sortorder) });
  await trx('course_sections').where({ id: b.id }).update({ sortorder: a.sortorder, updated_at: now });
  await trx('course_sections').where({ id: a.id }).update({ sortorder: b.sortorder, updated_at: now });
}

/** Deletes a section; its activities move to the top of the course (the foreign key sets their section to null). */
export async function deleteSectionRow(trx: Knex.Transaction, sectionId: number): Promise<void> {
  // Said explicitly as well: SQLite applies ON DELETE only with foreign keys switched on.
  await trx('activities').where({ section_id: sectionId }).update({ section_id: null });
  await trx('course_sections').where({ id: sectionId }).delete();
}
