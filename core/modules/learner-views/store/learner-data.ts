import type { Executor } from '../../../kernel/db/database';
import { placeholders, queryRows } from '../../../kernel/db/sql';
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

/** When the learner completed each of these courses (courses not completed are absent). */
export function courseCompletionTimes(
  executor: Executor,
  userId: number,
  courseIds: readonly number[],
): Promise<Array<{ course_id: number; completed_at: number }>> {
  return queryRows<{ course_id: number; completed_at: number }>(
    executor,
    `SELECT cc.course_id, cc.completed_at FROM ${learningViews.courseCompletions.as('cc')} WHERE cc.user_id = ? AND cc.course_id IN (${placeholders(courseIds.length)})`,
    [userId, ...courseIds],
  );
}

/** These programs (absent ones are left out). */
export function programRows(executor: Executor, ids: readonly number[]): Promise<ProgramRow[]> {
  return queryRows<ProgramRow>(
    executor,
    `SELECT p.id, p.fullname, p.summary, p.available, p.available_from, p.available_until, p.structure_version FROM ${programViews.programs.as('p')} WHERE p.id IN (${placeholders(ids.length)})`,
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

/** The programs the learner has completed, latest first. */
export function completedPrograms(
  executor: Executor,
  userId: number,
): Promise<Array<{ id: number; fullname: string; summary: string | null; completed_at: number }>> {
  return queryRows<{ id: number; fullname: string; summary: string | null; completed_at: number }>(
    executor,
    `SELECT p.id, p.fullname, p.summary, pc.completed_at FROM ${programViews.programCompletions.as('pc')} JOIN ${programViews.programs.as('p')} ON p.id = pc.program_id
     WHERE pc.user_id = ? AND pc.status = 'complete' AND pc.completed_at IS NOT NULL ORDER BY pc.completed_at DESC, p.id`,
    [userId],
  );
}

/** The courses the learner has completed, latest first, with how each completion came about. */
export function completedCourses(executor: Executor, userId: number): Promise<Array<{ id: number; fullname: string; completed_at: number; source: string }>> {
  return queryRows<{ id: number; fullname: string; completed_at: number; source: string }>(
    executor,
    `SELECT c.id, c.fullname, cc.completed_at, cc.source FROM ${learningViews.courseCompletions.as('cc')} JOIN ${learningViews.courses.as('c')} ON c.id = cc.course_id
     WHERE cc.user_id = ? ORDER BY cc.completed_at DESC, c.id`,
    [userId],
  );
}

/** The learner's superseded program completions, latest archived first. */
export function programCompletionHistory(
  executor: Executor,
  userId: number,
): Promise<Array<{ id: number; fullname: string; completed_at: number; reason: string; archived_at: number }>> {
  return queryRows<{ id: number; fullname: string; completed_at: number; reason: string; archived_at: number }>(
    executor,
    `SELECT p.id, p.fullname, h.completed_at, h.reason, h.archived_at FROM ${programViews.programCompletionHistory.as('h')} JOIN ${programViews.programs.as('p')} ON p.id = h.program_id
     WHERE h.user_id = ? ORDER BY h.archived_at DESC, h.id DESC`,
    [userId],
  );
}

/** The learner's superseded course completions, latest recorded first. */
export function courseCompletionHistory(
  executor: Executor,
  userId: number,
): Promise<Array<{ id: number; fullname: string; completed_at: number; action: string; recorded_at: number }>> {
  return queryRows<{ id: number; fullname: string; completed_at: number; action: string; recorded_at: number }>(
    executor,
    `SELECT c.id, c.fullname, h.completed_at, h.action, h.recorded_at FROM ${learningViews.courseCompletionHistory.as('h')} JOIN ${learningViews.courses.as('c')} ON c.id = h.course_id
     WHERE h.user_id = ? ORDER BY h.recorded_at DESC, h.id DESC`,
    [userId],
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
