import type { Knex } from 'knex';
import type { Executor } from '../../../kernel/db/database';
import type { SqlView } from '../../../kernel/db/views';
import { placeholders, queryRows } from '../../../kernel/db/sql';
import { learningViews } from '../../learning/index';
import type { CourseSetDef } from '../engine';
import { availableNowBindings, availableNowSql } from '../availability';
import { readPage, wherePrefix, type KeysetOrder, type KeysetPage, type PagePosition } from '../../../kernel/db/keyset';

/** A program row, every column. */
export interface ProgramRow {
  id: number;
  shortname: string;
  fullname: string;
  summary: string | null;
  available: number | boolean;
  available_from: number | null;
  available_until: number | null;
  allow_extension_requests: number | boolean;
  structure_version: number;
  /** Recurring programs only (issue 15): the period, the copy's lead time and the anchor periods are counted from. */
  recurrence_period?: string | null;
  recurrence_lead?: string | null;
  recurrence_start?: number | null;
  created_at: number;
  updated_at: number;
}

/** A course set as the structure cache reads it. */
export interface CourseSetRow {
  id: number;
  program_id: number;
  label: string;
  rule: CourseSetDef['rule'];
  min_courses: number;
  min_score: number;
  min_time: string | null;
  operator: CourseSetDef['operator'];
}

/** A course of a course set, with what the engine needs of the course (learning's). */
export interface SetCourseRow {
  course_set_id: number;
  course_id: number;
  fullname: string;
  score: number;
}

/** The program, or undefined. */
export async function programById(executor: Executor, programId: number): Promise<ProgramRow | undefined> {
  return (await queryRows<ProgramRow>(executor, 'SELECT * FROM programs WHERE id = ?', [programId]))[0];
}

/** The program's id and current structure_version, or undefined when it does not exist. */
export async function programVersion(executor: Executor, programId: number): Promise<{ id: number; structure_version: number } | undefined> {
  return (await queryRows<{ id: number; structure_version: number }>(executor, 'SELECT id, structure_version FROM programs WHERE id = ?', [programId]))[0];
}

/** The program's current structure_version, or undefined when it no longer exists. */
export async function currentStructureVersion(executor: Executor, programId: number): Promise<number | undefined> {
  const rows = await queryRows<{ structure_version: number }>(executor, 'SELECT structure_version FROM programs WHERE id = ?', [programId]);
  return rows.length ? Number(rows[0]!.structure_version) : undefined;
}

/** Inserts a program and returns its id (a taken shortname is a unique violation). */
export async function insertProgram(
  trx: Knex.Transaction,
  row: Omit<ProgramRow, 'id' | 'available' | 'allow_extension_requests'> & { available: boolean; allow_extension_requests: boolean },
): Promise<number> {
  const [programId] = (await trx('programs').insert(row)) as [number];
  return programId;
}

/** Updates the program's columns (a taken shortname is a unique violation). */
export async function updateProgram(trx: Knex.Transaction, programId: number, changes: Record<string, unknown>): Promise<void> {
  await trx('programs').where({ id: programId }).update(changes);
}

/** Inserts a course set and returns its id. */
export async function insertCourseSet(
  trx: Knex.Transaction,
  row: {
    program_id: number;
    sortorder: number;
    label: string | undefined;
    rule: CourseSetRow['rule'] | undefined;
    min_courses: number;
    min_score: number;
    min_time: string | null;
    operator: CourseSetRow['operator'] | undefined;
  },
): Promise<number> {
  const [setId] = (await trx('program_course_sets').insert(row)) as number[];
  return setId!;
}

/** Puts the courses in the set, in this order. */
export async function insertSetCourses(trx: Knex.Transaction, courseSetId: number, courseIds: readonly number[]): Promise<void> {
  await trx('program_course_set_courses').insert(courseIds.map((courseId, j) => ({ course_set_id: courseSetId, course_id: courseId, sortorder: j })));
}

/** Deletes the program's course sets and their courses (set completions go first: see deleteSetCompletionsOf). */
export async function deleteCourseSets(trx: Knex.Transaction, programId: number): Promise<void> {
  const oldSets = trx('program_course_sets').select('id').where({ program_id: programId });
  await trx('program_course_set_courses').whereIn('course_set_id', oldSets).delete();
  await trx('program_course_sets').where({ program_id: programId }).delete();
}

/** The course sets of these programs, by program and position. */
export function courseSetsOf(executor: Executor, programIds: readonly number[]): Promise<CourseSetRow[]> {
  return queryRows<CourseSetRow>(
    executor,
    `SELECT id, program_id, label, rule, min_courses, min_score, min_time, operator FROM program_course_sets WHERE program_id IN (${placeholders(programIds.length)}) ORDER BY program_id, sortorder`,
    programIds,
  );
}

/** The courses of every set of these programs, by set and position, with each course's name and score. */
export function setCoursesOf(executor: Executor, programIds: readonly number[]): Promise<SetCourseRow[]> {
  return queryRows<SetCourseRow>(
    executor,
    `SELECT sc.course_set_id, sc.course_id, c.fullname, c.score FROM program_course_set_courses sc
       JOIN program_course_sets s ON s.id = sc.course_set_id
       JOIN ${learningViews.courses.as('c')} ON c.id = sc.course_id
     WHERE s.program_id IN (${placeholders(programIds.length)}) ORDER BY sc.course_set_id, sc.sortorder`,
    programIds,
  );
}

/** The ids of every course in the program's course sets. */
export async function courseIdsOfProgram(executor: Executor, programId: number): Promise<number[]> {
  const rows = await queryRows<{ course_id: number }>(
    executor,
    'SELECT DISTINCT sc.course_id FROM program_course_set_courses sc JOIN program_course_sets s ON s.id = sc.course_set_id WHERE s.program_id = ?',
    [programId],
  );
  return rows.map((r) => Number(r.course_id));
}

/** Which of these courses (learning's) exist, with their scores: one statement for the whole list. */
export function coursesWithScores(executor: Executor, courseIds: readonly number[]): Promise<Array<{ id: number; score: number }>> {
  return queryRows<{ id: number; score: number }>(
    executor,
    `SELECT c.id, c.score FROM ${learningViews.courses.as('c')} WHERE c.id IN (${placeholders(courseIds.length)})`,
    courseIds,
  );
}

/** Names of these courses (learning's), for the program form's chosen-course lists. */
export function courseNamesOf(executor: Executor, courseIds: readonly number[]): Promise<Array<{ id: number; shortname: string; fullname: string }>> {
  return queryRows<{ id: number; shortname: string; fullname: string }>(
    executor,
    `SELECT c.id, c.shortname, c.fullname FROM ${learningViews.courses.as('c')} WHERE c.id IN (${placeholders(courseIds.length)})`,
    courseIds,
  );
}

/** Courses (learning's) whose short name or full name is one of `names`, for "Add a course" by name. */
export function coursesNamed(executor: Executor, names: readonly string[]): Promise<Array<{ id: number; shortname: string; fullname: string }>> {
  const marks = placeholders(names.length);
  return queryRows<{ id: number; shortname: string; fullname: string }>(
    executor,
    `SELECT c.id, c.shortname, c.fullname FROM ${learningViews.courses.as('c')} WHERE c.shortname IN (${marks}) OR c.fullname IN (${marks}) ORDER BY c.id`,
    [...names, ...names],
  );
}

/**
 * Narrows a query over `programs` (under `alias`) to what a learner may see: programs available
 * now, and others they are linked to: an assignment of any status in `assignments` (the
 * assignment module's relation, through the port) or a completion record of their own.
 */
export function whereLearnerSeesProgram(
  query: Knex.QueryBuilder,
  knex: Knex,
  alias: string,
  userId: number,
  now: number,
  assignments: SqlView<'program_id' | 'user_id'> | null,
): Knex.QueryBuilder {
  return query.where((seen) => {
    seen.whereRaw(`(${availableNowSql(alias)})`, availableNowBindings(now));
    if (assignments) {
      seen.orWhereExists(knex(assignments.as('pa_seen')).select(knex.raw('1')).where('pa_seen.user_id', userId).whereRaw(`pa_seen.program_id = ${alias}.id`));
    }
    seen.orWhereExists(
      knex('program_completions as pc_seen').select(knex.raw('1')).where('pc_seen.user_id', userId).whereRaw(`pc_seen.program_id = ${alias}.id`),
    );
  });
}

/** Whether the learner may see the program (see {@link whereLearnerSeesProgram}); false when there is none. */
export async function learnerSeesProgram(
  knex: Knex,
  programId: number,
  userId: number,
  now: number,
  assignments: SqlView<'program_id' | 'user_id'> | null,
): Promise<boolean> {
  const query = knex('programs as p').select('p.id').where('p.id', programId);
  return ((await whereLearnerSeesProgram(query, knex, 'p', userId, now, assignments)) as unknown[]).length > 0;
}

/** The named orders of the program list (`?sort=`). */
export const PROGRAM_ORDERS: readonly KeysetOrder[] = [
  {
    name: 'fullname',
    keys: [
      { column: 'p.fullname', direction: 'asc', caseInsensitive: true },
      { column: 'p.id', direction: 'asc' },
    ],
  },
  { name: 'shortname', keys: [{ column: 'p.shortname', direction: 'asc' }] },
  { name: 'id', keys: [{ column: 'p.id', direction: 'asc' }] },
  { name: '-id', keys: [{ column: 'p.id', direction: 'desc' }] },
];

export interface ProgramListFilter {
  /** Prefix of the full or short name, any case. */
  q?: string;
  /** The program's "available" switch (its dates aside). */
  available?: boolean;
  /** Only what this learner may see, at `now`; absent for operators (everything). */
  seenBy?: { userId: number; now: number };
  /** Only programs available at this time (switched on, inside their dates): the public catalogue. */
  availableAt?: number;
}

export type ProgramPageRow = ProgramRow & { sets: number; learners: number };

/** One page of programs with their set and active-learner counts, filtered, in `order`. */
export function programPage(
  knex: Knex,
  filter: ProgramListFilter,
  order: KeysetOrder,
  position: PagePosition,
  assignments: SqlView<'program_id' | 'user_id' | 'status'> | null,
): Promise<KeysetPage<ProgramPageRow>> {
  // Counted for the page's rows only: each count is an index range on program_id.
  const learners = assignments ? `(SELECT COUNT(*) FROM ${assignments.as('a')} WHERE a.program_id = p.id AND a.status = 'active')` : '0';
  const query = knex('programs as p').select(
    'p.*',
    knex.raw('(SELECT COUNT(*) FROM program_course_sets s WHERE s.program_id = p.id) AS sets'),
    knex.raw(`${learners} AS learners`),
  );
  if (filter.available !== undefined) query.where('p.available', filter.available);
  if (filter.q) wherePrefix(query, ['p.fullname', 'p.shortname'], filter.q);
  if (filter.seenBy) whereLearnerSeesProgram(query, knex, 'p', filter.seenBy.userId, filter.seenBy.now, assignments);
  if (filter.availableAt !== undefined) query.whereRaw(`(${availableNowSql('p')})`, availableNowBindings(filter.availableAt));
  return readPage<ProgramPageRow>(query, order, position);
}

/** A program's full name, for describing an audience rule; null when it does not exist. */
export async function programFullname(executor: Executor, programId: number): Promise<string | null> {
  const row = (await executor('programs').where('id', programId).first('fullname')) as { fullname: string } | undefined;
  return row?.fullname ?? null;
}

/** Users with a current completion of the program (the "completed program" audience condition). */
export function programCompletedMembers(executor: Executor, programId: number): Knex.QueryBuilder {
  return executor('program_completions').where({ program_id: programId, status: 'complete' }).select('user_id');
}
