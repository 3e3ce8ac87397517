import type { Knex } from 'knex';
import type { Executor } from '../../../kernel/db/database';
import { placeholders, queryRows } from '../../../kernel/db/sql';
import { readPage, type KeysetOrder, type KeysetPage, type PagePosition } from '../../../kernel/db/keyset';
import { assignmentViews } from '../../assignment/index';
import { learningViews } from '../../learning/index';
import { programViews } from '../../programs/index';

/**
 * What the learner read model (../learner-data.ts) reads for one learner, composed from the
 * assignment, programs and learning modules' published views. Read-only.
 */

/** A learner's active assignment to a program. */
export interface AssignmentRow {
  program_id: number;
  due_at: number | null;
  assigned_at: number | null;
}

/** A program as the learner pages show it, with its availability window and structure version. */
export interface ProgramRow {
  id: number;
  fullname: string;
  summary: string | null;
  available: number | boolean;
  available_from: number | null;
  available_until: number | null;
  allow_extension_requests: number | boolean;
  structure_version: number;
}

/** A stored completion record (program or course set). */
export interface StoredCompletionRow {
  status: string;
  completed_at: number | null;
  due_at: number | null;
}

/** The learner's active effective assignments (not future, not held by an exception, not unassigned), of one program when given. */
export function activeAssignments(executor: Executor, userId: number, programId?: number): Promise<AssignmentRow[]> {
  const byProgram = programId === undefined ? '' : ' AND a.program_id = ?';
  return queryRows<AssignmentRow>(
    executor,
    `SELECT a.program_id, a.due_at, a.assigned_at FROM ${assignmentViews.programUserAssignments.as('a')} WHERE a.user_id = ? AND a.status = 'active'${byProgram} ORDER BY a.program_id`,
    programId === undefined ? [userId] : [userId, programId],
  );
}

/** Stands in for "no due date" in the Required Learning order, so those come last (any real date is smaller). */
const NO_DUE_DATE = 8_640_000_000_000_000;

/** Required Learning's order: soonest due first (none last), then by name; the program id breaks ties. */
export const REQUIRED_ORDER: KeysetOrder = {
  name: 'due',
  keys: [
    { column: 'due_order', direction: 'asc' },
    { column: 'fullname', direction: 'asc' },
    { column: 'program_id', direction: 'asc' },
  ],
};

/**
 * One page of the learner's active assignments to programs they have not completed, in Required
 * Learning's order: the page is chosen in SQL, so a learner with many programs is read a page at a time.
 */
export function requiredAssignmentsPage(
  executor: Knex,
  userId: number,
  position: PagePosition,
): Promise<KeysetPage<AssignmentRow & { due_order: number | string; fullname: string }>> {
  // Wrapped, so the order and the cursor compare the computed `due_order` by name on both databases.
  const rows: Knex.QueryBuilder = executor
    .select('a.program_id', 'a.due_at', 'a.assigned_at', 'p.fullname', executor.raw('COALESCE(a.due_at, ?) as due_order', [NO_DUE_DATE]))
    .from(assignmentViews.programUserAssignments.as('a'))
    .join(programViews.programs.as('p'), 'p.id', 'a.program_id')
    .where('a.user_id', userId)
    .andWhere('a.status', 'active')
    .whereNotExists((done) =>
      done
        .select(executor.raw('1'))
        .from(programViews.programCompletions.as('pc'))
        .whereRaw('pc.program_id = a.program_id')
        .andWhere('pc.user_id', userId)
        .andWhere('pc.status', 'complete'),
    );
  const page: Knex.QueryBuilder = executor.select('*').from(rows.as('r'));
  return readPage(page, REQUIRED_ORDER, position, (row) => [Number(row.due_order), row.fullname, Number(row.program_id)]);
}

/** These programs (absent ones are left out). */
export function programRows(executor: Executor, ids: readonly number[]): Promise<ProgramRow[]> {
  return queryRows<ProgramRow>(
    executor,
    `SELECT p.id, p.fullname, p.summary, p.available, p.available_from, p.available_until, p.allow_extension_requests, p.structure_version FROM ${programViews.programs.as('p')} WHERE p.id IN (${placeholders(ids.length)})`,
    ids,
  );
}

/** The learner's stored completion records of these programs. */
export function programCompletionRecords(
  executor: Executor,
  userId: number,
  ids: readonly number[],
): Promise<Array<StoredCompletionRow & { program_id: number }>> {
  return queryRows<StoredCompletionRow & { program_id: number }>(
    executor,
    `SELECT pc.program_id, pc.status, pc.completed_at, pc.due_at FROM ${programViews.programCompletions.as('pc')} WHERE pc.user_id = ? AND pc.program_id IN (${placeholders(ids.length)})`,
    [userId, ...ids],
  );
}

/** The learner's stored completion records of the program's course sets. */
export function courseSetCompletionRecords(
  executor: Executor,
  programId: number,
  userId: number,
): Promise<Array<StoredCompletionRow & { course_set_id: number }>> {
  return queryRows<StoredCompletionRow & { course_set_id: number }>(
    executor,
    `SELECT sc.course_set_id, sc.status, sc.completed_at, sc.due_at FROM ${programViews.courseSetCompletions.as('sc')} WHERE sc.program_id = ? AND sc.user_id = ?`,
    [programId, userId],
  );
}

/** A Record of Learning status: what the learner has now, has done, or had before. */
export type RecordStatus = 'in_progress' | 'complete' | 'past';

/** A program in the learner's record, with its assignment and completion. */
export interface RecordProgramRow {
  id: number;
  fullname: string;
  summary: string | null;
  structure_version: number;
  record_status: RecordStatus;
  assigned_at: number | null;
  due_at: number | null;
  completed_at: number | null;
}

/**
 * The learner's programs: assigned now, assigned before (an assignment that started and later
 * ended or is held by an exception), or completed. `in_progress` = assigned now and not complete.
 */
function recordProgramsSql(): string {
  const a = assignmentViews.programUserAssignments;
  const pc = programViews.programCompletions;
  return `SELECT p.id, p.fullname, p.summary, p.structure_version, a.assigned_at, COALESCE(a.due_at, pc.due_at) AS due_at,
         CASE WHEN pc.status = 'complete' THEN pc.completed_at ELSE NULL END AS completed_at,
         CASE WHEN pc.status = 'complete' THEN 'complete' WHEN a.status = 'active' THEN 'in_progress' ELSE 'past' END AS record_status
    FROM (SELECT a0.program_id FROM ${a.as('a0')} WHERE a0.user_id = ? AND (a0.status = 'active' OR a0.assigned_at IS NOT NULL)
          UNION SELECT pc0.program_id FROM ${pc.as('pc0')} WHERE pc0.user_id = ? AND pc0.status = 'complete') x
    JOIN ${programViews.programs.as('p')} ON p.id = x.program_id
    LEFT JOIN ${a.as('a')} ON a.program_id = x.program_id AND a.user_id = ?
    LEFT JOIN ${pc.as('pc')} ON pc.program_id = x.program_id AND pc.user_id = ?`;
}

/** A status filter over a record query: `all` keeps every row. */
const statusFilter = (status: RecordStatus | 'all'): { sql: string; bindings: string[] } =>
  status === 'all' ? { sql: '', bindings: [] } : { sql: ' WHERE r.record_status = ?', bindings: [status] };

/**
 * A page of the learner's programs in one status (or all): in progress first, soonest due first;
 * then completed, latest first; then past assignments, latest assigned first.
 */
export function recordPrograms(executor: Executor, userId: number, status: RecordStatus | 'all', limit: number, offset: number): Promise<RecordProgramRow[]> {
  const filter = statusFilter(status);
  return queryRows<RecordProgramRow>(
    executor,
    `SELECT r.* FROM (${recordProgramsSql()}) r${filter.sql}
     ORDER BY CASE r.record_status WHEN 'in_progress' THEN 0 WHEN 'complete' THEN 1 ELSE 2 END,
              CASE r.record_status WHEN 'in_progress' THEN COALESCE(r.due_at, ${FAR_FUTURE}) WHEN 'complete' THEN -r.completed_at ELSE -COALESCE(r.assigned_at, 0) END,
              r.fullname, r.id
     LIMIT ${pageSize(limit)} OFFSET ${pageOffset(offset)}`,
    [userId, userId, userId, userId, ...filter.bindings],
  );
}

/** How many programs the learner's record holds in one status (or all). */
export async function countRecordPrograms(executor: Executor, userId: number, status: RecordStatus | 'all'): Promise<number> {
  const filter = statusFilter(status);
  const [row] = await queryRows<{ n: number }>(executor, `SELECT COUNT(*) AS n FROM (${recordProgramsSql()}) r${filter.sql}`, [
    userId,
    userId,
    userId,
    userId,
    ...filter.bindings,
  ]);
  return Number(row?.n ?? 0);
}

/** A course in the learner's record, with its completion. */
export interface RecordCourseRow {
  id: number;
  fullname: string;
  record_status: RecordStatus;
  completed_at: number | null;
  source: string | null;
}

/**
 * The learner's courses: enrolled (an active enrolment by any method is in progress, only
 * suspended ones are past) or completed.
 */
function recordCoursesSql(): string {
  const e = learningViews.enrolments;
  const cc = learningViews.courseCompletions;
  return `SELECT c.id, c.fullname, cc.completed_at, cc.source,
         CASE WHEN cc.id IS NOT NULL THEN 'complete' WHEN en.active = 1 THEN 'in_progress' ELSE 'past' END AS record_status
    FROM (SELECT e0.course_id FROM ${e.as('e0')} WHERE e0.user_id = ? UNION SELECT cc0.course_id FROM ${cc.as('cc0')} WHERE cc0.user_id = ?) x
    JOIN ${learningViews.courses.as('c')} ON c.id = x.course_id
    LEFT JOIN ${cc.as('cc')} ON cc.course_id = x.course_id AND cc.user_id = ?
    LEFT JOIN (SELECT e1.course_id, MAX(CASE WHEN e1.status = 'active' THEN 1 ELSE 0 END) AS active FROM ${e.as('e1')} WHERE e1.user_id = ? GROUP BY e1.course_id) en
      ON en.course_id = x.course_id`;
}

/** A page of the learner's courses in one status (or all): in progress, then completed (latest first), then past. */
export function recordCourses(executor: Executor, userId: number, status: RecordStatus | 'all', limit: number, offset: number): Promise<RecordCourseRow[]> {
  const filter = statusFilter(status);
  return queryRows<RecordCourseRow>(
    executor,
    `SELECT r.* FROM (${recordCoursesSql()}) r${filter.sql}
     ORDER BY CASE r.record_status WHEN 'in_progress' THEN 0 WHEN 'complete' THEN 1 ELSE 2 END, -COALESCE(r.completed_at, 0), r.fullname, r.id
     LIMIT ${pageSize(limit)} OFFSET ${pageOffset(offset)}`,
    [userId, userId, userId, userId, ...filter.bindings],
  );
}

/** How many courses the learner's record holds in one status (or all). */
export async function countRecordCourses(executor: Executor, userId: number, status: RecordStatus | 'all'): Promise<number> {
  const filter = statusFilter(status);
  const [row] = await queryRows<{ n: number }>(executor, `SELECT COUNT(*) AS n FROM (${recordCoursesSql()}) r${filter.sql}`, [
    userId,
    userId,
    userId,
    userId,
    ...filter.bindings,
  ]);
  return Number(row?.n ?? 0);
}

/** A superseded program or course completion. */
export interface HistoryRow {
  kind: 'program' | 'course';
  id: number;
  fullname: string;
  completed_at: number;
  reason: string;
  archived_at: number;
  /** A recurring program's period the completion belonged to (program rows only). */
  period_label: string | null;
}

function historySql(): string {
  return `SELECT 'program' AS kind, p.id, p.fullname, h.completed_at, h.reason, h.archived_at, h.period_label, h.id AS hid
      FROM ${programViews.programCompletionHistory.as('h')} JOIN ${programViews.programs.as('p')} ON p.id = h.program_id WHERE h.user_id = ?
    UNION ALL
    SELECT 'course' AS kind, c.id, c.fullname, ch.completed_at, ch.action AS reason, ch.recorded_at AS archived_at, NULL AS period_label, ch.id AS hid
      FROM ${learningViews.courseCompletionHistory.as('ch')} JOIN ${learningViews.courses.as('c')} ON c.id = ch.course_id WHERE ch.user_id = ?`;
}

/** A page of the learner's superseded program and course completions, latest archived first. */
export function completionHistory(executor: Executor, userId: number, limit: number, offset: number): Promise<HistoryRow[]> {
  return queryRows<HistoryRow>(
    executor,
    `SELECT r.kind, r.id, r.fullname, r.completed_at, r.reason, r.archived_at, r.period_label FROM (${historySql()}) r
     ORDER BY r.archived_at DESC, r.kind, r.hid DESC LIMIT ${pageSize(limit)} OFFSET ${pageOffset(offset)}`,
    [userId, userId],
  );
}

/** How many superseded completions the learner has. */
export async function countCompletionHistory(executor: Executor, userId: number): Promise<number> {
  const [row] = await queryRows<{ n: number }>(executor, `SELECT COUNT(*) AS n FROM (${historySql()}) r`, [userId, userId]);
  return Number(row?.n ?? 0);
}

/** Sorts "no due date" after every real one (epoch ms far beyond any date a person types). */
const FAR_FUTURE = 9_000_000_000_000_000;
/** Literal LIMIT / OFFSET values, bounded whatever the caller passed. */
const pageSize = (limit: number): number => Math.min(1000, Math.max(1, Math.floor(limit)));
const pageOffset = (offset: number): number => Math.min(2_147_483_647, Math.max(0, Math.floor(offset)));

/**
 * Per learner and course, how many of the course's completion-tracked activities the learner has
 * completed (rows only where at least one), for progress.
 */
export function trackedActivitiesDone(
  executor: Executor,
  userIds: readonly number[],
  courseIds: readonly number[],
): Promise<Array<{ user_id: number; course_id: number; done: number }>> {
  return queryRows<{ user_id: number; course_id: number; done: number }>(
    executor,
    `SELECT ac.user_id, a.course_id, COUNT(*) AS done FROM ${learningViews.activityCompletions.as('ac')} JOIN ${learningViews.activities.as('a')} ON a.id = ac.activity_id
     WHERE ac.user_id IN (${placeholders(userIds.length)}) AND a.course_id IN (${placeholders(courseIds.length)}) AND a.completion_tracked <> 0
     GROUP BY ac.user_id, a.course_id`,
    [...userIds, ...courseIds],
  );
}

/**
 * Progress inputs as select expressions over the learner in `userColumn` (a column of the query they
 * go into, e.g. `a.user_id`), one pair per course: when the learner completed it (`wm_cc_<i>`, NULL
 * if not) and, for a course with tracked activities, how many of those they have done
 * (`wm_ad_<i>`). Each is a scalar subquery on a unique key or a per-learner index range.
 */
export function progressInputColumns(executor: Executor, userColumn: string, courses: ReadonlyArray<{ id: number; tracked: number }>): Knex.Raw[] {
  const user = userColumn.replace(/[^A-Za-z0-9_.]/g, '');
  return courses.flatMap((course, i) => [
    executor.raw(`(SELECT cc.completed_at FROM ${learningViews.courseCompletions.as('cc')} WHERE cc.user_id = ${user} AND cc.course_id = ?) AS wm_cc_${i}`, [
      course.id,
    ]),
    ...(course.tracked > 0
      ? [
          executor.raw(
            `(SELECT COUNT(*) FROM ${learningViews.activityCompletions.as('ac')} JOIN ${learningViews.activities.as('t')} ON t.id = ac.activity_id
              WHERE ac.user_id = ${user} AND t.course_id = ? AND t.completion_tracked <> 0) AS wm_ad_${i}`,
            [course.id],
          ),
        ]
      : []),
  ]);
}

/** How many completion-tracked activities each of these courses has (courses with none are absent). */
export function trackedActivityCounts(executor: Executor, courseIds: readonly number[]): Promise<Array<{ course_id: number; tracked: number }>> {
  return queryRows<{ course_id: number; tracked: number }>(
    executor,
    `SELECT a.course_id, COUNT(*) AS tracked FROM ${learningViews.activities.as('a')}
     WHERE a.course_id IN (${placeholders(courseIds.length)}) AND a.completion_tracked <> 0 GROUP BY a.course_id`,
    courseIds,
  );
}

/** The activities of the course the learner has completed, with when. */
export function activityCompletionsInCourse(
  executor: Executor,
  userId: number,
  courseId: number,
): Promise<Array<{ activity_id: number; completed_at: number }>> {
  return queryRows<{ activity_id: number; completed_at: number }>(
    executor,
    `SELECT ac.activity_id, ac.completed_at FROM ${learningViews.activityCompletions.as('ac')} JOIN ${learningViews.activities.as('a')} ON a.id = ac.activity_id WHERE ac.user_id = ? AND a.course_id = ?`,
    [userId, courseId],
  );
}

/** The learner's grades in the course's activities. */
export function gradesInCourse(executor: Executor, userId: number, courseId: number): Promise<Array<{ activity_id: number; grade: number | string }>> {
  return queryRows<{ activity_id: number; grade: number | string }>(
    executor,
    `SELECT g.activity_id, g.grade FROM ${learningViews.grades.as('g')} JOIN ${learningViews.activities.as('a')} ON a.id = g.activity_id WHERE g.user_id = ? AND a.course_id = ?`,
    [userId, courseId],
  );
}
