/**
 * What the learner pages show, computed once and served both as HTML (core/modules/learner-views/pages.ts)
 * and as JSON (core/api/learner.ts), so the two can never disagree.
 *
 * Everything here is read-only and scoped to one user id: callers decide whose data a viewer may
 * see before they call in.
 */
import { courseCompletionsOfUsers, type ActivityAccess } from '../learning/index';
import type { LearnerViewsContext } from './context';
import type { Knex } from 'knex';
import type { Executor } from '../../kernel/db/database';
import { notFound } from '../../kernel/errors';
import type { PagePosition } from '../../kernel/db/keyset';
import { bool, iso } from '../../kernel/db/sql';
import { numOrNull } from '../../kernel/db/values';
import { chunk } from '../../kernel/db/sql';
import {
  availabilityAt,
  canLaunch,
  evaluateProgram,
  progressPercent,
  type CachedStructure,
  type CompiledProgram,
  type ProgramEvaluation,
  type SetOperator,
  type SetRule,
} from '../programs/index';
import {
  activeAssignments,
  activityCompletionsInCourse,
  completionHistory,
  countCompletionHistory,
  countRecordCourses,
  countRecordPrograms,
  courseSetCompletionRecords,
  gradesInCourse,
  programCompletionRecords,
  programRows as findProgramRows,
  recordCourses,
  recordPrograms,
  requiredAssignmentsPage,
  progressInputColumns,
  trackedActivitiesDone,
  trackedActivityCounts,
  type AssignmentRow,
  type ProgramRow,
  type RecordStatus,
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
  /** Courses of the set hidden from this learner (hidden, and not linked to them): counted, not named. */
  hiddenCourses: number;
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
  /** The next page of programs, or null on the last. */
  nextCursor: string | null;
  prevCursor: string | null;
}

/** Programs on a page of Required Learning (a learner has a handful; an import may give them hundreds). */
export const REQUIRED_PAGE = 50;

/** The program page for one learner. */
export interface LearnerProgram extends RequiredProgram {
  available: boolean;
  /** False when the learner has no effective assignment (open exception, unassigned, never assigned). */
  assigned: boolean;
  completedAt: string | null;
  /** Whether the program takes due-date extension requests (the program page links to the request page). */
  allowExtensionRequests: boolean;
  courseSets: LearnerCourseSet[];
}

export type { RecordStatus } from './store/learner-data';

/** The Record of Learning's status filter values: `all`, or one record status. */
export const RECORD_STATUSES = ['all', 'in_progress', 'complete', 'past'] as const;
export type RecordFilter = (typeof RECORD_STATUSES)[number];

/** A program in the Record of Learning. */
export interface RecordProgram extends ProgramSummary {
  /** in_progress: assigned now, not complete; complete; past: assigned before, not complete. */
  status: RecordStatus;
  /** 0..100, the same number as Required Learning and the program page. */
  progress: number;
  assignedAt: string | null;
  dueAt: string | null;
  overdue: boolean;
  completedAt: string | null;
}

/** A course in the Record of Learning. */
export interface RecordCourse {
  id: number;
  fullname: string;
  /** in_progress: enrolled, not complete; complete; past: enrolment suspended, not complete. */
  status: RecordStatus;
  /** 0..100: share of the course's tracked activities done, 100 once complete. */
  progress: number;
  completedAt: string | null;
  /** How the completion was recorded (activities, api, import...), null while incomplete. */
  source: string | null;
}

export interface RecordOfLearning {
  userId: number;
  status: RecordFilter;
  programs: RecordProgram[];
  courses: RecordCourse[];
  /** Earlier completions that were superseded (structure change, backdating, recertification): with `all` and `complete` only. */
  history: Array<{ kind: 'program' | 'course'; id: number; fullname: string; completedAt: string; reason: string; archivedAt: string; period: string | null }>;
  /** Sizes of the three filtered lists; each list is one page of `limit` from `offset`. */
  totals: { programs: number; courses: number; history: number };
  /** The `offset` of the next page when any list has more, else null. */
  nextOffset: number | null;
}

/** Which page of the Record of Learning: a status filter and the same window into each list. */
export interface RecordQuery {
  status?: RecordFilter;
  limit?: number;
  offset?: number;
}

/** Rows per list on a page of the Record of Learning unless the caller says. */
export const RECORD_PAGE = 50;

/** What progress is computed from for one learner: course completions, and shares of unfinished courses. */
export interface ProgressInputs {
  completions: Map<number, number>;
  /** Course -> share (0..1) of its tracked activities done; only courses with at least one done. */
  partial: Map<number, number>;
}

/**
 * Learners per statement when reading progress inputs: a report export's whole batch (5,000) in one
 * statement each, since the round trips, not the reads, are what cost on a server database.
 */
const PROGRESS_USERS_PER_STATEMENT = 5000;

/**
 * Progress inputs for some learners in some courses, set-based: their completions, how many tracked
 * activities each course has, and how many each learner has done (5,000 learners and 500 courses per
 * list per statement). Only learners with a completion or a tracked activity done have an entry:
 * in a large program most have neither, and an export would otherwise build two maps per learner.
 */
export async function progressInputs(executor: Executor, userIds: readonly number[], courseIds: readonly number[]): Promise<Map<number, ProgressInputs>> {
  const out = new Map<number, ProgressInputs>();
  if (!userIds.length || !courseIds.length) return out;
  const entry = (userId: number): ProgressInputs => {
    let found = out.get(userId);
    if (!found) out.set(userId, (found = { completions: new Map(), partial: new Map() }));
    return found;
  };
  const tracked = new Map<number, number>();
  for (const courses of chunk(courseIds, 500)) {
    for (const row of await trackedActivityCounts(executor, courses)) tracked.set(Number(row.course_id), Number(row.tracked));
    for (const users of chunk(userIds, PROGRESS_USERS_PER_STATEMENT)) {
      for (const row of await courseCompletionsOfUsers(executor, users, courses)) {
        entry(Number(row.user_id)).completions.set(Number(row.course_id), Number(row.completed_at));
      }
      for (const row of await trackedActivitiesDone(executor, users, courses)) {
        const total = tracked.get(Number(row.course_id)) ?? 0;
        if (total > 0) entry(Number(row.user_id)).partial.set(Number(row.course_id), Math.min(1, Number(row.done) / total));
      }
    }
  }
  return out;
}

/** The inputs of a learner with nothing done in the courses asked about (never written to). */
const NOTHING_DONE: ProgressInputs = { completions: new Map(), partial: new Map() };

/** A learner whose progress in a program is asked for, and whether their stored record says complete. */
export interface LearnerStanding {
  userId: number;
  complete: boolean;
}

/**
 * Progress (0..100) in one program for each learner: the program's cached structure, the learners'
 * inputs read set-based ({@link progressInputs}), the engine's share and the one rounding
 * (`progressPercent`), exactly as the learner's own pages compute it.
 */
export async function programProgress(
  context: LearnerViewsContext,
  executor: Executor,
  programId: number,
  learners: readonly LearnerStanding[],
): Promise<Map<number, number>> {
  if (!learners.length) return new Map();
  const structure = await context.services.programs.structures.getOne(executor, programId);
  // Only learners not yet complete need their inputs: a recorded completion is 100 whatever they did.
  const open = learners.filter((l) => !l.complete).map((l) => l.userId);
  const inputs = structure && open.length ? await progressInputs(executor, open, structure.courseIds) : new Map<number, ProgressInputs>();
  return progressFromInputs(structure, learners, inputs);
}

/** What `programProgress` evaluates: the program's structure, or null when the program is gone. */
type ProgramStructure = Awaited<ReturnType<LearnerViewsContext['services']['programs']['structures']['getOne']>>;

/** Progress of each learner from their inputs (absent: nothing done), evaluated once per distinct input. */
function progressFromInputs(
  structure: ProgramStructure,
  learners: readonly LearnerStanding[],
  inputs: ReadonlyMap<number, ProgressInputs>,
): Map<number, number> {
  const out = new Map<number, number>();
  // Learners with the same inputs get the same number: evaluate each distinct input once (in a
  // large program most learners share one, typically "nothing done yet"). The key holds every
  // input the engine reads, completion times included, so sharing cannot change a result.
  const shareOf = new Map<string, number>();
  for (const learner of learners) {
    const input = inputs.get(learner.userId) ?? NOTHING_DONE;
    let share = 0;
    if (structure && !learner.complete) {
      const key = input === NOTHING_DONE ? '' : `${[...input.completions].join(';')}|${[...input.partial].join(';')}`;
      let known = shareOf.get(key);
      if (known === undefined) shareOf.set(key, (known = evaluateProgram(structure.compiled, input.completions, input.partial).progress));
      share = known;
    }
    out.set(learner.userId, progressPercent(share, learner.complete));
  }
  return out;
}

/** Courses per program up to which an export reads progress inputs as columns of its own query. */
const PROGRESS_COLUMNS_MAX_COURSES = 20;

/** Progress inputs read as columns of another module's query (see `LearnerViewsService.progressColumns`). */
export interface ProgressColumns {
  /** The select expressions over the learner in `userColumn`. */
  columns(executor: Executor, userColumn: string): Knex.Raw[];
  /** Progress (0..100) of each row's learner, from the columns: rows carry them and the learner as `userId`. */
  progress(rows: ReadonlyArray<{ userId: number; complete: boolean; row: Readonly<Record<string, unknown>> }>): Map<number, number>;
}

/**
 * For a report reading one program's learners in large batches: the program's courses and their
 * tracked activity counts read once, the inputs then come with each row of the report's own query
 * (no reads per batch), and the evaluation is `programProgress`'s. Null when the program is gone,
 * has no course, or more than {@link PROGRESS_COLUMNS_MAX_COURSES} (two columns per course).
 */
export async function programProgressColumns(context: LearnerViewsContext, executor: Executor, programId: number): Promise<ProgressColumns | null> {
  const structure = await context.services.programs.structures.getOne(executor, programId);
  if (!structure || !structure.courseIds.length || structure.courseIds.length > PROGRESS_COLUMNS_MAX_COURSES) return null;
  const tracked = new Map((await trackedActivityCounts(executor, structure.courseIds)).map((r) => [Number(r.course_id), Number(r.tracked)]));
  const courses = structure.courseIds.map((id) => ({ id, tracked: tracked.get(id) ?? 0 }));
  return {
    columns: (executor, userColumn) => progressInputColumns(executor, userColumn, courses),
    progress(rows) {
      const inputs = new Map<number, ProgressInputs>();
      for (const { userId, complete, row } of rows) {
        if (complete) continue;
        let input: ProgressInputs | undefined;
        courses.forEach((course, i) => {
          const completedAt = row[`wm_cc_${i}`];
          const done = course.tracked > 0 ? Number(row[`wm_ad_${i}`] ?? 0) : 0;
          if ((completedAt === null || completedAt === undefined) && done === 0) return;
          input ??= { completions: new Map(), partial: new Map() };
          if (completedAt !== null && completedAt !== undefined) input.completions.set(course.id, Number(completedAt));
          if (done > 0) input.partial.set(course.id, Math.min(1, done / course.tracked));
        });
        if (input) inputs.set(userId, input);
      }
      return progressFromInputs(structure, rows, inputs);
    },
  };
}

async function learnerInputs(executor: Executor, userId: number, courseIds: readonly number[]): Promise<ProgressInputs> {
  return (await progressInputs(executor, [userId], courseIds)).get(userId) ?? { completions: new Map(), partial: new Map() };
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
    // One number everywhere (issue 11): the engine's share of required work, 100 only when complete.
    progress: progressPercent(evaluation.progress, complete),
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
export async function loadRequiredLearning(
  context: LearnerViewsContext,
  userId: number,
  position: PagePosition = { limit: REQUIRED_PAGE, from: null },
): Promise<RequiredLearning> {
  const knex = context.db.knex;
  const now = context.db.now();
  const page = await requiredAssignmentsPage(knex, userId, position);
  const assignments = page.items;
  const ids = assignments.map((a) => Number(a.program_id));
  const rows = ids.length ? await programRows(knex, ids) : [];
  const structures = await context.services.programs.structures.get(
    knex,
    rows.map((r) => ({ id: Number(r.id), version: Number(r.structure_version) })),
  );
  const byId = new Map(structures.map((s) => [s.programId, s]));
  const allCourses = [...new Set(structures.flatMap((s) => s.courseIds))];
  const { completions, partial } = await learnerInputs(knex, userId, allCourses);
  const stored = await storedCompletions(knex, userId, ids);
  const rowById = new Map(rows.map((r) => [Number(r.id), r]));
  const programs: RequiredProgram[] = [];
  // In the page's order (soonest due, then name), which the query chose.
  for (const assignment of assignments) {
    const row = rowById.get(Number(assignment.program_id));
    const structure = row && byId.get(Number(row.id));
    if (!row || !structure) continue;
    const evaluation = evaluateProgram(structure.compiled, completions, partial);
    programs.push(summarise(row, structure, evaluation, assignment, stored.get(Number(row.id)), now));
  }
  return { userId, programs, nextCursor: page.nextCursor, prevCursor: page.prevCursor };
}

/** The program page for one learner: every set with its state and every course launchable or locked with the reason. */
export async function loadLearnerProgram(
  context: LearnerViewsContext,
  programId: number,
  userId: number,
  options: { viewer: 'learner' | 'operator' },
): Promise<LearnerProgram> {
  const knex = context.db.knex;
  const now = context.db.now();
  const [row] = await programRows(knex, [programId]);
  if (!row) throw notFound('Program', programId);
  // The learner's own view: a program they may not see is not revealed (404), nor are hidden courses.
  const asLearner = options.viewer === 'learner';
  if (asLearner && !(await context.services.programs.seenBy(programId, userId))) throw notFound('Program', programId);
  const [structure] = await context.services.programs.structures.get(knex, [{ id: programId, version: Number(row.structure_version) }]);
  if (!structure) throw notFound('Program', programId);
  const [assignment] = await activeAssignments(knex, userId, programId);
  const { completions, partial } = await learnerInputs(knex, userId, structure.courseIds);
  const evaluation = evaluateProgram(structure.compiled, completions, partial);
  const seen = asLearner ? await context.services.courses.seenBy(userId, structure.courseIds) : null;
  const shown = (courseId: number): boolean => seen === null || seen.has(courseId);
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
      progress: progressPercent(set.progress, complete),
      dueAt: iso(storedSet?.due_at),
      operator: i === structure.sets.length - 1 ? null : def.operator,
      hiddenCourses: compiledSet.courseIds.filter((courseId) => !shown(courseId)).length,
      courses: compiledSet.courseIds.filter(shown).map((courseId) => {
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
  const summary = summarise(row, structure, evaluation, assignment, stored, now);
  return {
    ...summary,
    nextCourse: summary.nextCourse && shown(summary.nextCourse.id) ? summary.nextCourse : null,
    available,
    assigned,
    completedAt: stored?.status === 'complete' ? iso(stored.completed_at) : null,
    allowExtensionRequests: bool(row.allow_extension_requests),
    courseSets,
  };
}

/**
 * Record of Learning: every program and course the learner has or had (in progress, complete,
 * assigned or enrolled in the past) with status, progress, due and completion dates, and earlier
 * completions; filtered by status and paged (the same `limit` / `offset` window into each list).
 */
export async function loadRecordOfLearning(context: LearnerViewsContext, userId: number, query: RecordQuery = {}): Promise<RecordOfLearning> {
  const knex = context.db.knex;
  const now = context.db.now();
  const status = query.status ?? 'all';
  const limit = query.limit ?? RECORD_PAGE;
  const offset = query.offset ?? 0;
  const programRowsPage = await recordPrograms(knex, userId, status, limit, offset);
  const courseRows = await recordCourses(knex, userId, status, limit, offset);
  const withHistory = status === 'all' || status === 'complete';
  const historyRows = withHistory ? await completionHistory(knex, userId, limit, offset) : [];
  const totals = {
    programs: await countRecordPrograms(knex, userId, status),
    courses: await countRecordCourses(knex, userId, status),
    history: withHistory ? await countCompletionHistory(knex, userId) : 0,
  };

  // Progress of unfinished programs and courses: the same evaluation as Required Learning.
  const open = programRowsPage.filter((p) => p.record_status !== 'complete');
  const structures = await context.services.programs.structures.get(
    knex,
    open.map((r) => ({ id: Number(r.id), version: Number(r.structure_version) })),
  );
  const byId = new Map(structures.map((st) => [st.programId, st]));
  const courseIds = [
    ...new Set([...structures.flatMap((st) => st.courseIds), ...courseRows.filter((c) => c.record_status !== 'complete').map((c) => Number(c.id))]),
  ];
  const { completions, partial } = await learnerInputs(knex, userId, courseIds);

  const programs = programRowsPage.map((row): RecordProgram => {
    const complete = row.record_status === 'complete';
    const structure = byId.get(Number(row.id));
    const share = complete || !structure ? 0 : evaluateProgram(structure.compiled, completions, partial).progress;
    const dueMs = row.due_at === null ? null : Number(row.due_at);
    return {
      id: Number(row.id),
      fullname: row.fullname,
      summary: row.summary,
      status: row.record_status,
      progress: progressPercent(share, complete),
      assignedAt: iso(row.assigned_at),
      dueAt: iso(dueMs),
      overdue: row.record_status === 'in_progress' && dueMs !== null && dueMs < now,
      completedAt: complete ? iso(row.completed_at) : null,
    };
  });
  const courses = courseRows.map((row): RecordCourse => {
    const complete = row.record_status === 'complete';
    return {
      id: Number(row.id),
      fullname: row.fullname,
      status: row.record_status,
      progress: progressPercent(partial.get(Number(row.id)) ?? 0, complete),
      completedAt: complete ? iso(row.completed_at) : null,
      source: complete ? row.source : null,
    };
  });
  const history = historyRows.map((h) => ({
    kind: h.kind,
    id: Number(h.id),
    fullname: h.fullname,
    completedAt: iso(h.completed_at)!,
    reason: h.reason,
    archivedAt: iso(h.archived_at)!,
    period: h.period_label ?? null,
  }));
  const more = Math.max(totals.programs, totals.courses, totals.history) > offset + limit;
  return { userId, status, programs, courses, history, totals, nextOffset: more ? offset + limit : null };
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
    sectionId: number | null;
    name: string;
    type: string;
    completionTracked: boolean;
    maxGrade: number;
    graded: boolean;
    complete: boolean;
    completedAt: string | null;
    grade: number | null;
    /** False: a restriction locks it (listed greyed, refused when opened). */
    available: boolean;
    /** Why it is locked, for the learner; null when available. */
    restriction: string | null;
  }>;
  /** The listed activities by section (the section-less first, with a null name); empty sections are left out. */
  groups: Array<{ id: number | null; name: string | null; activities: LearnerCourseView['activities'] }>;
  /** Activities a restriction hides from this learner (not listed), with why: what opening one by URL answers. */
  hidden: Array<{ id: number; restriction: string | null }>;
}

/**
 * The course page's data for one learner. With `restrictions` (every learner; operators look at
 * everything), restriction trees apply: hidden activities are left out, locked ones carry the
 * explanation. The learning module evaluates them once for the whole course.
 */
export async function loadLearnerCourse(
  context: LearnerViewsContext,
  courseId: number,
  userId: number,
  options: { restrictions: boolean },
): Promise<LearnerCourseView> {
  const knex = context.db.knex;
  const course = await context.services.courses.get(courseId);
  const access = options.restrictions ? await context.services.courses.accessOf(userId, course) : new Map<number, ActivityAccess>();
  const done = await activityCompletionsInCourse(knex, userId, courseId);
  const grades = await gradesInCourse(knex, userId, courseId);
  const doneAt = new Map(done.map((r) => [Number(r.activity_id), Number(r.completed_at)]));
  const gradeOf = new Map(grades.map((r) => [Number(r.activity_id), Number(r.grade)]));
  const completion = await context.services.completion.courseCompletion(courseId, userId);
  const tracked = course.activities.filter((a) => a.completionTracked);
  const trackedDone = tracked.filter((a) => doneAt.has(a.id)).length;
  // Display order: activities outside any section first, then each section's in section order.
  const sectionOrder = new Map(course.sections.map((s, i) => [s.id, i + 1]));
  const rank = (sectionId: number | null) => (sectionId === null ? 0 : (sectionOrder.get(sectionId) ?? 0));
  const ordered = course.activities.map((a, i) => ({ a, i })).sort((x, y) => rank(x.a.sectionId) - rank(y.a.sectionId) || x.i - y.i);
  const activities = ordered
    .map(({ a }) => a)
    .filter((a) => access.get(a.id)?.visible !== false)
    .map((a) => ({
      id: a.id,
      sectionId: a.sectionId,
      name: a.name,
      type: a.type,
      completionTracked: a.completionTracked,
      maxGrade: a.maxGrade,
      graded: a.maxGrade > 0,
      complete: doneAt.has(a.id),
      completedAt: iso(doneAt.get(a.id)),
      grade: gradeOf.get(a.id) ?? null,
      available: access.get(a.id)?.available !== false,
      restriction: access.get(a.id)?.available === false ? access.get(a.id)!.explanation : null,
    }));
  const groups = [
    { id: null as number | null, name: null as string | null },
    ...course.sections.map((s) => ({ id: s.id as number | null, name: s.name as string | null })),
  ]
    .map((g) => ({ ...g, activities: activities.filter((a) => a.sectionId === g.id) }))
    // A section shows when something in it does: one the learner may not see is left out whole.
    .filter((g) => g.activities.length > 0);
  return {
    id: course.id,
    fullname: course.fullname,
    summary: course.summary,
    complete: completion !== null,
    completedAt: iso(completion?.completedAt),
    progress: progressPercent(tracked.length ? trackedDone / tracked.length : 0, completion !== null),
    activities,
    groups,
    hidden: [...access].filter(([, a]) => !a.visible).map(([id, a]) => ({ id, restriction: a.explanation })),
  };
}
