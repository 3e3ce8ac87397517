/**
 * What the learner pages show, computed once and served both as HTML (core/modules/learner-views/pages.ts)
 * and as JSON (core/api/learner.ts), so the two can never disagree.
 *
 * Everything here is read-only and scoped to one user id: callers decide whose data a viewer may
 * see before they call in.
 */
import type { LearnerViewsContext } from './context';
import type { Executor } from '../../kernel/db/database';
import { notFound } from '../../kernel/errors';
import { bool, iso } from '../../kernel/db/sql';
import { numOrNull } from '../../kernel/db/values';
import {
  availabilityAt,
  canLaunch,
  evaluateProgram,
  type CachedStructure,
  type CompiledProgram,
  type ProgramEvaluation,
  type SetOperator,
  type SetRule,
} from '../programs/index';
import {
  activeAssignments,
  activityCompletionsInCourse,
  completedCourses,
  completedPrograms,
  courseCompletionHistory,
  courseCompletionTimes,
  courseSetCompletionRecords,
  gradesInCourse,
  programCompletionHistory,
  programCompletionRecords,
  programRows as findProgramRows,
  type AssignmentRow,
  type ProgramRow,
} from './store/learner-data';

/** A course as a learner sees it inside a program. */
export interface LearnerCourse {
  id: number;
  fullname: string;
  complete: boolean;
  completedAt: string | null;
  /** The launch guard would let the learner in through this program (preview; the guard decides). */
  launchable: boolean;
  /** Learner-readable reasons when not launchable. */
  lockedReasons: string[];
}

export interface LearnerCourseSet {
  id: number;
  label: string;
  /** 1-based, as people count. */
  position: number;
  rule: SetRule;
  /** "Complete all courses", "Complete at least 2 courses"... */
  ruleText: string;
  state: 'locked' | 'open' | 'complete';
  /** The set's group is open (earlier groups done), complete or not. */
  open: boolean;
  complete: boolean;
  completedAt: string | null;
  lockedReasons: string[];
  /** 0..100 */
  progress: number;
  dueAt: string | null;
  /** How this set joins the next one; null on the last set. */
  operator: SetOperator | null;
  courses: LearnerCourse[];
}

export interface ProgramSummary {
  id: number;
  fullname: string;
  summary: string | null;
}

/** One program on Required Learning. */
export interface RequiredProgram extends ProgramSummary {
  status: 'incomplete' | 'complete';
  /** 0..100, rounded down so 100 means complete. */
  progress: number;
  assignedAt: string | null;
  dueAt: string | null;
  overdue: boolean;
  nextCourse: { id: number; fullname: string } | null;
}

export interface RequiredLearning {
  userId: number;
  programs: RequiredProgram[];
}

/** The program page for one learner. */
export interface LearnerProgram extends RequiredProgram {
  available: boolean;
  /** False when the learner has no effective assignment (open exception, unassigned, never assigned). */
  assigned: boolean;
  completedAt: string | null;
  courseSets: LearnerCourseSet[];
}

export interface RecordOfLearning {
  userId: number;
  programs: Array<ProgramSummary & { completedAt: string }>;
  courses: Array<{ id: number; fullname: string; completedAt: string; source: string }>;
  /** Earlier completions that were superseded (structure change, backdating, recertification). */
  history: Array<{ kind: 'program' | 'course'; id: number; fullname: string; completedAt: string; reason: string; archivedAt: string }>;
}

/** Whole percent, never 100 unless complete (the engine keeps incomplete below 1). */
const percent = (share: number): number => Math.floor(share * 100);

async function userCompletions(executor: Executor, userId: number, courseIds: readonly number[]): Promise<Map<number, number>> {
  const map = new Map<number, number>();
  if (!courseIds.length) return map;
  const rows = await courseCompletionTimes(executor, userId, courseIds);
  for (const row of rows) map.set(Number(row.course_id), Number(row.completed_at));
  return map;
}

function isAvailable(row: ProgramRow, now: number): boolean {
  const window = { available: bool(row.available), availableFrom: numOrNull(row.available_from), availableUntil: numOrNull(row.available_until) };
  return availabilityAt(window, now).open;
}

function courseName(compiled: CompiledProgram, courseId: number): string {
  return compiled.structure.courses.get(courseId)?.fullname || `Course ${courseId}`;
}

/** Operator-facing and learner-facing description of a set's completion rule. */
export function describeRule(set: { rule: SetRule; minCourses: number; minScore: number; courseIds: readonly number[] }): string {
  switch (set.rule) {
    case 'all':
      return set.courseIds.length === 1 ? 'Complete the course' : 'Complete all courses';
    case 'any':
      return 'Complete any one course';
    case 'optional':
      return 'Optional';
    case 'some': {
      const parts: string[] = [];
      if (set.minCourses > 0) parts.push(`at least ${set.minCourses} course${set.minCourses === 1 ? '' : 's'}`);
      if (set.minScore > 0) parts.push(`a total score of at least ${set.minScore}`);
      return parts.length ? `Complete ${parts.join(' with ')}` : 'Optional';
    }
  }
}

function summarise(
  row: ProgramRow,
  structure: CachedStructure,
  evaluation: ProgramEvaluation,
  assignment: AssignmentRow | undefined,
  stored: { status: string; due_at: number | null } | undefined,
  now: number,
): RequiredProgram {
  const dueMs = assignment?.due_at ?? stored?.due_at ?? null;
  // The stored record decides completion (it is what the completion transaction wrote, and it is not
  // recalculated while an exception blocks the assignment); live evaluation gives progress and locks.
  const complete = stored?.status === 'complete';
  const next = evaluation.nextCourseId;
  return {
    id: Number(row.id),
    fullname: row.fullname,
    summary: row.summary,
    status: complete ? 'complete' : 'incomplete',
    progress: percent(evaluation.progress),
    assignedAt: iso(assignment?.assigned_at),
    dueAt: iso(dueMs),
    overdue: !complete && dueMs !== null && Number(dueMs) < now,
    nextCourse: next === null ? null : { id: next, fullname: courseName(structure.compiled, next) },
  };
}

async function programRows(executor: Executor, ids: readonly number[]): Promise<ProgramRow[]> {
  if (!ids.length) return [];
  return findProgramRows(executor, ids);
}

async function storedCompletions(
  executor: Executor,
  userId: number,
  ids: readonly number[],
): Promise<Map<number, { status: string; completed_at: number | null; due_at: number | null }>> {
  const map = new Map<number, { status: string; completed_at: number | null; due_at: number | null }>();
  if (!ids.length) return map;
  const rows = await programCompletionRecords(executor, userId, ids);
  for (const row of rows) map.set(Number(row.program_id), row);
  return map;
}

/**
 * Required Learning: the programs the learner is assigned to (active effective assignment, so
 * not while an exception is open or dismissed) and has not completed, soonest due first.
 */
export async function loadRequiredLearning(context: LearnerViewsContext, userId: number): Promise<RequiredLearning> {
  const knex = context.db.knex;
  const now = context.db.now();
  const assignments = await activeAssignments(knex, userId);
  const ids = assignments.map((a) => Number(a.program_id));
  const rows = await programRows(knex, ids);
  const structures = await context.services.programs.structures.get(
    knex,
    rows.map((r) => ({ id: Number(r.id), version: Number(r.structure_version) })),
  );
  const byId = new Map(structures.map((s) => [s.programId, s]));
  const allCourses = [...new Set(structures.flatMap((s) => s.courseIds))];
  const completions = await userCompletions(knex, userId, allCourses);
  const stored = await storedCompletions(knex, userId, ids);
  const byAssignment = new Map(assignments.map((a) => [Number(a.program_id), a]));
  const programs: RequiredProgram[] = [];
  for (const row of rows) {
    const structure = byId.get(Number(row.id));
    if (!structure) continue;
    const evaluation = evaluateProgram(structure.compiled, completions);
    if (stored.get(Number(row.id))?.status === 'complete') continue;
    programs.push(summarise(row, structure, evaluation, byAssignment.get(Number(row.id)), stored.get(Number(row.id)), now));
  }
  programs.sort((a, b) => (a.dueAt ?? '\uffff').localeCompare(b.dueAt ?? '\uffff') || a.fullname.localeCompare(b.fullname));
  return { userId, programs };
}

/** The program page for one learner: every set with its state and every course launchable or locked with the reason. */
export async function loadLearnerProgram(context: LearnerViewsContext, programId: number, userId: number): Promise<LearnerProgram> {
  const knex = context.db.knex;
  const now = context.db.now();
  const [row] = await programRows(knex, [programId]);
  if (!row) throw notFound('Program', programId);
  const [structure] = await context.services.programs.structures.get(knex, [{ id: programId, version: Number(row.structure_version) }]);
  if (!structure) throw notFound('Program', programId);
  const [assignment] = await activeAssignments(knex, userId, programId);
  const completions = await userCompletions(knex, userId, structure.courseIds);
  const evaluation = evaluateProgram(structure.compiled, completions);
  const stored = (await storedCompletions(knex, userId, [programId])).get(programId);
  const setRows = await courseSetCompletionRecords(knex, programId, userId);
  const storedSets = new Map(setRows.map((r) => [Number(r.course_set_id), r]));
  const available = isAvailable(row, now);
  const assigned = assignment !== undefined;
  const blocked: string[] = [];
  if (!assigned) blocked.push('You are not assigned to this program');
  else if (!available) blocked.push('This program is not available at the moment');

  const compiled = structure.compiled;
  const courseSets: LearnerCourseSet[] = structure.sets.map((def, i) => {
    const set = evaluation.sets[i]!;
    const compiledSet = compiled.sets[i]!;
    const storedSet = storedSets.get(def.id);
    // Optional sets are complete from the start and never get a stored row.
    const complete = storedSet?.status === 'complete' || (compiledSet.rule === 'optional' && set.complete);
    return {
      id: def.id,
      label: set.label || compiledSet.name,
      position: set.position,
      rule: compiledSet.rule,
      ruleText: describeRule(compiledSet),
      state: complete ? 'complete' : set.open ? 'open' : 'locked',
      open: set.open,
      complete,
      completedAt: storedSet?.status === 'complete' ? iso(storedSet.completed_at) : null,
      lockedReasons: set.lockedReasons,
      progress: percent(complete ? 1 : Math.min(set.progress, 0.999)),
      dueAt: iso(storedSet?.due_at),
      operator: i === structure.sets.length - 1 ? null : def.operator,
      courses: compiledSet.courseIds.map((courseId) => {
        const completedAt = completions.get(courseId);
        const decision = canLaunch(compiled, evaluation, courseId);
        const reasons = blocked.length ? blocked : decision.reasons;
        return {
          id: courseId,
          fullname: courseName(compiled, courseId),
          complete: completedAt !== undefined,
          completedAt: iso(completedAt),
          launchable: decision.allowed && !blocked.length,
          lockedReasons: decision.allowed && !blocked.length ? [] : reasons,
        };
      }),
    };
  });
  return {
    ...summarise(row, structure, evaluation, assignment, stored, now),
    available,
    assigned,
    completedAt: stored?.status === 'complete' ? iso(stored.completed_at) : null,
    courseSets,
  };
}

/** Record of Learning: completed programs and courses with their dates, and earlier completions. */
export async function loadRecordOfLearning(context: LearnerViewsContext, userId: number): Promise<RecordOfLearning> {
  const knex = context.db.knex;
  const programs = await completedPrograms(knex, userId);
  const courses = await completedCourses(knex, userId);
  const programHistory = await programCompletionHistory(knex, userId);
  const courseHistory = await courseCompletionHistory(knex, userId);
  const history: RecordOfLearning['history'] = [
    ...programHistory.map((h) => ({
      kind: 'program' as const,
      id: Number(h.id),
      fullname: h.fullname,
      completedAt: iso(h.completed_at)!,
      reason: h.reason,
      archivedAt: iso(h.archived_at)!,
    })),
    ...courseHistory.map((h) => ({
      kind: 'course' as const,
      id: Number(h.id),
      fullname: h.fullname,
      completedAt: iso(h.completed_at)!,
      reason: h.action,
      archivedAt: iso(h.recorded_at)!,
    })),
  ].sort((a, b) => b.archivedAt.localeCompare(a.archivedAt));
  return {
    userId,
    programs: programs.map((p) => ({ id: Number(p.id), fullname: p.fullname, summary: p.summary, completedAt: iso(p.completed_at)! })),
    courses: courses.map((c) => ({ id: Number(c.id), fullname: c.fullname, completedAt: iso(c.completed_at)!, source: c.source })),
    history,
  };
}

/** A course page for one learner: activities with their completion and grade. */
export interface LearnerCourseView {
  id: number;
  fullname: string;
  summary: string | null;
  complete: boolean;
  completedAt: string | null;
  /** 0..100: share of completion-tracked activities done (100 once the course is complete). */
  progress: number;
  activities: Array<{
    id: number;
    name: string;
    type: string;
    completionTracked: boolean;
    maxGrade: number;
    graded: boolean;
    complete: boolean;
    completedAt: string | null;
    grade: number | null;
  }>;
}

export async function loadLearnerCourse(context: LearnerViewsContext, courseId: number, userId: number): Promise<LearnerCourseView> {
  const knex = context.db.knex;
  const course = await context.services.courses.get(courseId);
  const done = await activityCompletionsInCourse(knex, userId, courseId);
  const grades = await gradesInCourse(knex, userId, courseId);
  const doneAt = new Map(done.map((r) => [Number(r.activity_id), Number(r.completed_at)]));
  const gradeOf = new Map(grades.map((r) => [Number(r.activity_id), Number(r.grade)]));
  const completion = await context.services.completion.courseCompletion(courseId, userId);
  const tracked = course.activities.filter((a) => a.completionTracked);
  const trackedDone = tracked.filter((a) => doneAt.has(a.id)).length;
  return {
    id: course.id,
    fullname: course.fullname,
    summary: course.summary,
    complete: completion !== null,
    completedAt: iso(completion?.completedAt),
    progress: completion ? 100 : tracked.length ? Math.min(99, Math.floor((trackedDone / tracked.length) * 100)) : 0,
    activities: course.activities.map((a) => ({
      id: a.id,
      name: a.name,
      type: a.type,
      completionTracked: a.completionTracked,
      maxGrade: a.maxGrade,
      graded: a.maxGrade > 0,
      complete: doneAt.has(a.id),
      completedAt: iso(doneAt.get(a.id)),
      grade: gradeOf.get(a.id) ?? null,
    })),
  };
}
