import type { Knex } from 'knex';
import type { IdentityProvider } from '../../kernel/features/kernel-services';
import type { Database, Executor } from '../../kernel/db/database';
import type { PluginHooks } from '../../kernel/hooks/bus';
import { courseCompletionsOfUsers, type CompletionArgs } from '../learning/index';
import type { JobRunner } from '../../kernel/features/context';
import { conflict, invalid, notFound, WaymarkError, type ErrorDetail } from '../../kernel/errors';
import type { CoursesService } from '../learning/index';
import {
  checkRecurrence,
  checkRecurringStructure,
  createRecurrence,
  recurrenceInvalid,
  type CheckedRecurrence,
  type CyclePort,
  type PeriodView,
  type RecurrenceView,
} from './recurrence';
import { parseDateInput } from '../../kernel/dates';
import { isUniqueViolation } from '../../kernel/db/database';
import { evaluateProgram, validateStructure, type CourseSetDef } from './engine';
import { StructureCache, type CachedStructure } from './structures';
import { checkCourseSetInput, isOneLine, normaliseCourseSets, type CourseSetInput, type ProgramInput, type ProgramPatch } from './program-input';
import {
  applyEvaluations,
  hasTimedSets,
  key,
  loadStoredState,
  recalculateEveryProgram,
  recalculateLearner,
  type CompletionEvent,
  type RecalcTargetSelector,
  type SetDating,
} from './recalc';
import { bool, iso } from '../../kernel/db/sql';
import type { SqlView } from '../../kernel/db/views';
import {
  courseIdsOfProgram,
  coursesWithScores,
  currentStructureVersion,
  deleteCourseSets,
  insertCourseSet,
  insertProgram,
  insertSetCourses,
  programById,
  learnerSeesProgram,
  programPage,
  updateProgram,
  type ProgramListFilter,
  type ProgramRow,
} from './store/programs';
import type { KeysetOrder, KeysetPage, PagePosition } from '../../kernel/db/keyset';
import { periodCourseIds } from './store/recurrence';
import {
  anyCourseCompletionIn,
  assignedTimesOf,
  countRecomputePopulation,
  deleteSetCompletionsOf,
  programCompletionOf,
  recomputePopulationAfter,
} from './store/completions';

/** Name of the background job that recomputes every affected learner after a structure edit. */
export const PROGRAM_RECOMPUTE_JOB = 'program_recompute';

export type CourseSetRule = CourseSetDef['rule'];
export type CourseSetOperator = 'then' | 'and' | 'or';

export type { CourseSetInput, ProgramInput, ProgramPatch } from './program-input';

export interface CourseSetView {
  id: number;
  label: string;
  courseIds: number[];
  rule: CourseSetRule;
  minCourses: number;
  minScore: number;
  minTime: string | null;
  operator: CourseSetOperator | null;
}

export interface ProgramView {
  id: number;
  shortname: string;
  fullname: string;
  summary: string | null;
  available: boolean;
  availableFrom: string | null;
  availableUntil: string | null;
  allowExtensionRequests: boolean;
  structureVersion: number;
  /** The program's recurrence and its current and next periods; null for a program that does not recur. */
  recurrence: RecurrenceView | null;
  /** Sum over groups of the largest set minimum time (DOMAIN 3.2). */
  minTimeRequired: string | null;
  courseSets: CourseSetView[];
  createdAt: string;
  updatedAt: string;
}

/** A program in a list: its fields without the structure, with its set and active-learner counts. */
export type ProgramListItem = Omit<ProgramView, 'courseSets' | 'minTimeRequired' | 'recurrence'> & { sets: number; learners: number };

export interface ProgramsService {
  create(input: ProgramInput): Promise<{ program: ProgramView; jobId: number | null }>;
  get(programId: number): Promise<ProgramView>;
  /**
   * Whether a learner may see the program: available now, or linked to them (an assignment of any
   * status, or their completion record). False when there is no such program. Operators see all.
   */
  seenBy(programId: number, userId: number): Promise<boolean>;
  /** One page of programs with set and learner counts, filtered, in a named order of {@link PROGRAM_ORDERS}. */
  list(filter: ProgramListFilter, order: KeysetOrder, position: PagePosition): Promise<KeysetPage<ProgramListItem>>;
  /** Changing courseSets replaces the structure, bumps structure_version and queues one recompute job. */
  update(programId: number, patch: ProgramPatch): Promise<{ program: ProgramView; jobId: number | null }>;
  /** The learner's stored completion record of the program (incomplete when there is none). */
  completionOf(programId: number, userId: number): Promise<{ status: 'incomplete' | 'complete'; completedAt: string | null }>;
  /** The ids of every course in the program's course sets. */
  courseIdsOf(programId: number, executor?: Executor): Promise<number[]>;
  /**
   * The ids of every course the program's course sets hold now or held in an earlier period (a
   * recurring program's copies): what its enrolments may be in.
   */
  courseIdsEverOf(programId: number, executor?: Executor): Promise<number[]>;
  /**
   * Re-evaluates every program containing the course for one learner inside `trx` and returns
   * what newly completed. Called by the completion service; does not fire hooks itself.
   */
  recalculateForCourse(trx: Knex.Transaction, userId: number, courseId: number): Promise<CompletionEvent[]>;
  /** Runs onCompletion / onAssignmentChange (within) for program and course-set events in `trx`, and publishes one afterCompletion. */
  fireEvents(trx: Knex.Transaction, events: readonly CompletionEvent[]): Promise<void>;
  /** Set-based recompute of every learner with a completion in the program (the job body). */
  recomputeProgram(programId: number, progress?: (done: number, total: number) => Promise<void>): Promise<{ learners: number; newlyCompleted: number }>;
  /** The in-process structure cache (exposed for tests and benchmarks). */
  readonly structures: StructureCache;
  /** Plugs in the assignment module's view of who is assigned (see AssignmentStatePort). */
  useAssignmentState(port: AssignmentStatePort): void;
  /**
   * The recurrence job's body: every recurring program brought up to `now` (the next period's copy
   * made `leadTime` ahead, the switch at the period's start), each step once however often it runs.
   */
  advanceRecurrence(now: number): Promise<{ programs: number; copies: number; switches: number }>;
  /**
   * The earlier periods of a recurring program whose course the learner had not finished when the
   * period ended, and has not since: they may still launch it. Oldest first.
   */
  owedPeriods(programId: number, userId: number): Promise<Array<{ label: string; courseId: number; courseFullname: string }>>;
  /** One page of a recurring program's periods (404 for no program). */
  periods(programId: number, order: KeysetOrder, position: PagePosition): Promise<KeysetPage<PeriodView>>;
}

/**
 * What programs need to know about assignment, which the assignment module (that depends on
 * programs) plugs in: whose completion is recalculated, and who is assigned.
 */
export interface AssignmentStatePort {
  /** Keeps the (program, learner) pairs whose completion may be recalculated (no open exception). */
  selectTargets: RecalcTargetSelector;
  /**
   * The assignment module's published relation of learners' program assignments (`status` 'active'
   * counts as assigned; `assigned_at` dates the first group's timed sets).
   */
  assignmentsView: SqlView<'program_id' | 'user_id' | 'status' | 'assigned_at' | 'due_at'>;
  /**
   * A recurring program's new period: a new cycle starting at `at` (the assignment's cycle time) with
   * a new due date for each of these actively assigned learners.
   */
  startCycles: CyclePort['startCycles'];
}

export interface ProgramsServiceDeps {
  db: Database;
  hooks: PluginHooks;
  queue: JobRunner;
  identity: Pick<IdentityProvider, 'lockLearners'>;
  /** The site's time zone, for availability dates typed without an offset. */
  timezone: string;
  /** Learning's courses (a recurring program copies its course for each period). */
  courses: () => CoursesService;
}

const BATCH = 500;

/** A recurring program's stored recurrence, as configure() takes it (the anchor kept). */
function currentRecurrence(row: ProgramRow): CheckedRecurrence {
  return { period: row.recurrence_period!, leadTime: row.recurrence_lead ?? '', anchor: undefined };
}

function parseTime(value: string | null | undefined, path: string, details: ErrorDetail[], zone: string): number | null {
  if (value === null || value === undefined) return null;
  try {
    return parseDateInput(value, { field: path, zone });
  } catch (error) {
    if (!(error instanceof WaymarkError)) throw error;
    details.push(...error.details);
    return Number.NaN;
  }
}

/** A program's own fields as the API shows them, for one program and for lists alike. */
function programFields(row: ProgramRow): Omit<ProgramView, 'courseSets' | 'minTimeRequired' | 'recurrence'> {
  return {
    id: Number(row.id),
    shortname: row.shortname,
    fullname: row.fullname,
    summary: row.summary,
    available: bool(row.available),
    availableFrom: iso(row.available_from),
    availableUntil: iso(row.available_until),
    allowExtensionRequests: bool(row.allow_extension_requests),
    structureVersion: Number(row.structure_version),
    createdAt: iso(row.created_at)!,
    updatedAt: iso(row.updated_at)!,
  };
}

export function createProgramsService(site: ProgramsServiceDeps): ProgramsService {
  const structures = new StructureCache();
  // Until the assignment module plugs in, every learner counts as unassigned and is recalculated.
  let selectTargets: RecalcTargetSelector = recalculateEveryProgram;
  let assignmentsView: AssignmentStatePort['assignmentsView'] | null = null;
  let startCycles: AssignmentStatePort['startCycles'] | null = null;
  const db = () => site.db;
  const recurrence = createRecurrence({
    db: site.db,
    hooks: site.hooks,
    timezone: site.timezone,
    courses: site.courses,
    cycles: () => (assignmentsView && startCycles ? { assignmentsView, selectTargets, startCycles } : null),
    enqueueRecompute: (trx, programId) => enqueueRecompute(trx, programId),
    invalidate: (programId) => structures.invalidate(programId),
  });

  /** The recurrence of a create or change, checked (undefined: not in the body); the structure must be one set with one course. */
  function checkedRecurrence(input: ProgramPatch): CheckedRecurrence | null | undefined {
    if (input.recurrence === undefined || input.recurrence === null) return input.recurrence;
    const { value, problems } = checkRecurrence(input.recurrence, site.timezone);
    if (!value) recurrenceInvalid(problems);
    return value;
  }
  const dating: SetDating = {
    zone: site.timezone,
    async assignedTimes(executor, programIds, userIds) {
      if (!assignmentsView) return new Map();
      const rows = await assignedTimesOf(executor, assignmentsView, programIds, userIds);
      return new Map(rows.map((r) => [key(Number(r.program_id), Number(r.user_id)), Number(r.assigned_at)]));
    },
  };

  async function validateSets(executor: Executor, sets: readonly CourseSetInput[] | undefined): Promise<Array<Partial<CourseSetDef>>> {
    if (!Array.isArray(sets))
      throw invalid('COURSE_SETS_INVALID', 'courseSets must be a list', [{ path: 'courseSets', code: 'REQUIRED', message: 'courseSets is required' }]);
    const list: readonly CourseSetInput[] = sets;
    const ids = [...new Set(list.flatMap((s) => (Array.isArray(s.courseIds) ? s.courseIds.filter((id: number) => Number.isSafeInteger(id) && id > 0) : [])))];
    const known = new Set<number>();
    const scores = new Map<number, number>();
    for (let i = 0; i < ids.length; i += BATCH) {
      const chunk = ids.slice(i, i + BATCH);
      for (const row of await coursesWithScores(executor, chunk)) {
        known.add(Number(row.id));
        scores.set(Number(row.id), Number(row.score));
      }
    }
    const defs = normaliseCourseSets(sets);
    // The engine names the exact field (courseSets[i].courseIds[j], ...) and its code.
    const problems = [...checkCourseSetInput(list), ...validateStructure(defs, known, scores)];
    if (problems.length) throw invalid('COURSE_SETS_INVALID', `courseSets is invalid: ${problems[0]!.message}`, problems);
    return defs;
  }

  function validateFields(input: ProgramPatch, creating: boolean): { from: number | null | undefined; until: number | null | undefined } {
    const details: ErrorDetail[] = [];
    for (const field of ['shortname', 'fullname'] as const) {
      const value = input[field];
      if ((creating || value !== undefined) && (typeof value !== 'string' || !value.trim())) {
        details.push({ path: field, code: 'REQUIRED', message: `${field} must be a non-empty string` });
      } else if (typeof value === 'string' && !isOneLine(value.trim())) {
        details.push({ path: field, code: 'NOT_ONE_LINE', message: `${field} must be one line of text` });
      }
    }
    const from = input.availableFrom === undefined ? undefined : parseTime(input.availableFrom, 'availableFrom', details, site.timezone);
    const until = input.availableUntil === undefined ? undefined : parseTime(input.availableUntil, 'availableUntil', details, site.timezone);
    if (typeof from === 'number' && typeof until === 'number' && until < from) {
      details.push({ path: 'availableUntil', code: 'BEFORE_START', message: 'availableUntil must not be before availableFrom' });
    }
    if (details.length) throw invalid(`${details[0]!.path!.toUpperCase()}_INVALID`, details[0]!.message, details);
    return { from, until };
  }

  async function writeSets(trx: Knex.Transaction, programId: number, defs: Array<Partial<CourseSetDef>>): Promise<void> {
    for (const [i, def] of defs.entries()) {
      const setId = await insertCourseSet(trx, {
        program_id: programId,
        sortorder: i,
        label: def.label,
        rule: def.rule,
        min_courses: def.minCourses ?? 0,
        min_score: def.minScore ?? 0,
        min_time: def.minTime ?? null,
        operator: i === defs.length - 1 ? null : def.operator,
      });
      const courseIds = [...new Set(def.courseIds ?? [])];
      if (courseIds.length) await insertSetCourses(trx, setId, courseIds);
    }
  }

  async function view(executor: Executor, programId: number): Promise<ProgramView> {
    const row = await programById(executor, programId);
    if (!row) throw notFound('Program', programId);
    const [structure] = await structures.get(executor, [{ id: Number(row.id), version: Number(row.structure_version) }]);
    return {
      ...programFields(row),
      recurrence: await recurrence.view(executor, programId),
      minTimeRequired: structure!.compiled.minTimeRequired,
      courseSets: structure!.sets.map((s) => ({
        id: s.id,
        label: s.label,
        courseIds: [...s.courseIds],
        rule: s.rule,
        minCourses: s.minCourses,
        minScore: s.minScore,
        minTime: s.minTime,
        operator: s.operator,
      })),
    };
  }

  async function enqueueRecompute(trx: Knex.Transaction, programId: number): Promise<number> {
    return site.queue.enqueue(PROGRAM_RECOMPUTE_JOB, { programId }, { trx, dedupeKey: `${PROGRAM_RECOMPUTE_JOB}:${programId}` });
  }

  async function fireEvents(trx: Knex.Transaction, events: readonly CompletionEvent[]): Promise<void> {
    const completions: CompletionArgs[] = [];
    for (const event of events) {
      if (event.kind === 'course_set') {
        const completion: CompletionArgs = {
          userId: event.userId,
          completedAt: event.completedAt,
          subject: { type: 'course_set', programId: event.programId, courseSetId: event.courseSetId },
        };
        completions.push(completion);
        await site.hooks.within('onCompletion', trx, completion);
      } else {
        const completion: CompletionArgs = { userId: event.userId, completedAt: event.completedAt, subject: { type: 'program', programId: event.programId } };
        completions.push(completion);
        await site.hooks.within('onCompletion', trx, completion);
        await site.hooks.within('onAssignmentChange', trx, {
          change: { type: 'program_completion', userId: event.userId, programId: event.programId, completedAt: event.completedAt },
        });
      }
    }
    // One event for the whole unit of work (a recompute batch is one event, not one per learner).
    if (completions.length) await site.hooks.publish('afterCompletion', trx, { completions });
  }

  async function recomputeBatch(structure: CachedStructure, userIds: number[]): Promise<number> {
    return db().transaction(async (trx) => {
      // Same per-learner lock as the completion path, so a completion recorded meanwhile is not overwritten.
      await site.identity.lockLearners(trx, userIds);
      const completions = new Map<number, Map<number, number>>();
      if (structure.courseIds.length) {
        for (const row of await courseCompletionsOfUsers(trx, userIds, structure.courseIds)) {
          const m = completions.get(Number(row.user_id)) ?? new Map<number, number>();
          m.set(Number(row.course_id), Number(row.completed_at));
          completions.set(Number(row.user_id), m);
        }
      }
      const state = await loadStoredState(trx, [structure.programId], userIds);
      const targets = new Set(
        (
          await selectTargets(
            trx,
            userIds.map((userId) => ({ programId: structure.programId, userId })),
          )
        ).map((p) => p.userId),
      );
      const assigned = hasTimedSets(structure.compiled) ? await dating.assignedTimes(trx, [structure.programId], userIds) : null;
      const items = userIds
        .filter((userId) => targets.has(userId))
        .map((userId) => ({
          userId,
          structure,
          evaluation: evaluateProgram(structure.compiled, completions.get(userId) ?? new Map()),
          program: state.programs.get(key(structure.programId, userId)),
          sets: state.sets.get(key(structure.programId, userId)) ?? new Map(),
          assignedAt: assigned ? (assigned.get(key(structure.programId, userId)) ?? null) : undefined,
        }));
      const events = await applyEvaluations(trx, items, db().now(), dating.zone);
      await fireEvents(trx, events);
      return events.filter((e) => e.kind === 'program').length;
    });
  }

  async function recomputeProgram(
    programId: number,
    progress?: (done: number, total: number) => Promise<void>,
  ): Promise<{ learners: number; newlyCompleted: number }> {
    let learners = 0;
    let newlyCompleted = 0;
    // Loop until the structure we computed against is still current: a job already running when
    // another edit arrives absorbs that edit (the dedupe key returns the running job).
    for (let pass = 0; pass < 10; pass++) {
      const structure = await structures.getOne(db().knex, programId);
      if (!structure) return { learners, newlyCompleted };
      // A structure complete from the start (optional sets only) completes every assigned learner,
      // including those who have done nothing yet; one with timed sets dates them for every assigned
      // learner.
      const everyAssignee = evaluateProgram(structure.compiled, new Map()).complete || hasTimedSets(structure.compiled);
      const assignees = assignmentsView && everyAssignee ? assignmentsView : null;
      const total = await countRecomputePopulation(db().knex, structure.courseIds, programId, assignees);
      let after = 0;
      learners = 0;
      for (;;) {
        const ids = await recomputePopulationAfter(db().knex, structure.courseIds, programId, after, BATCH, assignees);
        if (!ids.length) break;
        newlyCompleted += await recomputeBatch(structure, ids);
        learners += ids.length;
        after = ids[ids.length - 1]!;
        await progress?.(learners, total);
      }
      const current = await currentStructureVersion(db().knex, programId);
      if (current === undefined || current === structure.version) break;
    }
    return { learners, newlyCompleted };
  }

  return {
    structures,
    async courseIdsOf(programId, executor = db().knex) {
      return courseIdsOfProgram(executor, programId);
    },
    async courseIdsEverOf(programId, executor = db().knex) {
      return [...new Set([...(await courseIdsOfProgram(executor, programId)), ...(await periodCourseIds(executor, programId))])];
    },
    useAssignmentState(port) {
      selectTargets = port.selectTargets;
      assignmentsView = port.assignmentsView;
      startCycles = port.startCycles;
    },
    advanceRecurrence: (now) => recurrence.advance(now),
    owedPeriods: (programId, userId) => recurrence.owed(programId, userId),
    async periods(programId, order, position) {
      if (!(await programById(db().knex, programId))) throw notFound('Program', programId);
      return recurrence.periods(programId, order, position);
    },
    fireEvents,
    recomputeProgram,

    async create(input) {
      const { from, until } = validateFields(input, true);
      const recurs = checkedRecurrence(input);
      if (recurs && Array.isArray(input.courseSets)) {
        const problems = checkRecurringStructure(input.courseSets);
        if (problems.length) recurrenceInvalid(problems);
      }
      const now = db().now();
      const result = await db().transaction(async (trx) => {
        const defs = await validateSets(trx, input.courseSets);
        let programId: number;
        try {
          programId = await insertProgram(trx, {
            shortname: input.shortname.trim(),
            fullname: input.fullname.trim(),
            summary: input.summary ?? null,
            available: input.available ?? true,
            available_from: from ?? null,
            available_until: until ?? null,
            allow_extension_requests: input.allowExtensionRequests ?? false,
            structure_version: 1,
            created_at: now,
            updated_at: now,
          });
        } catch (error) {
          if (isUniqueViolation(error)) throw conflict('PROGRAM_SHORTNAME_TAKEN', `A program with shortname "${input.shortname}" already exists`);
          throw error;
        }
        await writeSets(trx, programId, defs);
        if (recurs) await recurrence.configure(trx, programId, recurs, now);
        // Learners who already completed these courses get their program completion computed now.
        const jobId = (await anyCourseCompletionIn(trx, programId)) ? await enqueueRecompute(trx, programId) : null;
        return { programId, jobId };
      });
      return { program: await view(db().knex, result.programId), jobId: result.jobId };
    },

    async get(programId) {
      return view(db().knex, programId);
    },

    async seenBy(programId, userId) {
      return learnerSeesProgram(db().knex, programId, userId, db().now(), assignmentsView);
    },

    async list(filter, order, position) {
      const page = await programPage(db().knex, filter, order, position, assignmentsView);
      return {
        ...page,
        items: page.items.map((row) => ({
          ...programFields(row),
          sets: Number(row.sets),
          learners: Number(row.learners),
        })),
      };
    },

    async update(programId, patch) {
      const { from, until } = validateFields(patch, false);
      const recurs = checkedRecurrence(patch);
      const now = db().now();
      const jobId = await db().transaction(async (trx) => {
        const row: ProgramRow | undefined = await programById(trx, programId);
        if (!row) throw notFound('Program', programId);
        const effectiveFrom = from === undefined ? row.available_from : from;
        const effectiveUntil = until === undefined ? row.available_until : until;
        if (effectiveFrom !== null && effectiveUntil !== null && Number(effectiveUntil) < Number(effectiveFrom)) {
          throw invalid('AVAILABLEUNTIL_INVALID', 'availableUntil must not be before availableFrom', [
            { path: 'availableUntil', code: 'BEFORE_START', message: 'availableUntil must not be before availableFrom' },
          ]);
        }
        const changes: Record<string, unknown> = { updated_at: now };
        if (patch.shortname !== undefined) changes.shortname = patch.shortname.trim();
        if (patch.fullname !== undefined) changes.fullname = patch.fullname.trim();
        if (patch.summary !== undefined) changes.summary = patch.summary;
        if (patch.available !== undefined) changes.available = patch.available;
        if (from !== undefined) changes.available_from = from;
        if (until !== undefined) changes.available_until = until;
        if (patch.allowExtensionRequests !== undefined) changes.allow_extension_requests = patch.allowExtensionRequests;
        let queued: number | null = null;
        if (patch.courseSets !== undefined) {
          const defs = await validateSets(trx, patch.courseSets);
          // Old sets go with their set completions (cascade); the job recomputes the new ones.
          await deleteSetCompletionsOf(trx, programId);
          await deleteCourseSets(trx, programId);
          await writeSets(trx, programId, defs);
          changes.structure_version = Number(row.structure_version) + 1;
          queued = await enqueueRecompute(trx, programId);
        }
        // A recurring program stays one set with one course; a new course becomes the current period's.
        const recurring = recurs === undefined ? (row.recurrence_period ? currentRecurrence(row) : null) : recurs;
        if (recurring) {
          const problems = checkRecurringStructure(patch.courseSets ?? (await structures.getOne(trx, programId))?.sets ?? []);
          if (problems.length) recurrenceInvalid(problems);
        }
        if (recurs !== undefined || (recurring && patch.courseSets !== undefined)) {
          await recurrence.configure(trx, programId, recurring, now);
        }
        try {
          await updateProgram(trx, programId, changes);
        } catch (error) {
          if (isUniqueViolation(error)) throw conflict('PROGRAM_SHORTNAME_TAKEN', `A program with shortname "${patch.shortname}" already exists`);
          throw error;
        }
        return queued;
      });
      if (patch.courseSets !== undefined || patch.recurrence !== undefined) structures.invalidate(programId);
      return { program: await view(db().knex, programId), jobId };
    },

    async completionOf(programId, userId) {
      const row = await programCompletionOf(db().knex, programId, userId);
      return row?.status === 'complete' ? { status: 'complete', completedAt: iso(row.completed_at) } : { status: 'incomplete', completedAt: null };
    },

    async recalculateForCourse(trx, userId, courseId) {
      const events = await recalculateLearner(trx, structures, userId, courseId, db().now(), selectTargets, dating);
      await recurrence.followCourseCompletion(trx, userId, courseId, db().now());
      return events;
    },
  };
}
