import type { Knex } from 'knex';
import type { Executor } from '../../kernel/db/database';
import { evaluateProgram, groupOpenTimes, setDueDates, type CompiledProgram, type ProgramEvaluation } from './engine';
import type { CachedStructure, StructureCache } from './structures';
import {
  insertProgramCompletionHistory,
  programsOfCourseWithLearnerCompletions,
  storedStateRows,
  storedStateRowsInRange,
  upsertCourseSetCompletions,
  type StoredStateRow,
  upsertProgramCompletions,
} from './store/completions';

/** A program or course set that became complete for a learner (hooks fire for each). */
export type CompletionEvent =
  | { kind: 'course_set'; userId: number; programId: number; courseSetId: number; completedAt: number }
  | { kind: 'program'; userId: number; programId: number; completedAt: number };

export interface StoredState {
  status: 'incomplete' | 'complete';
  completedAt: number | null;
  /** Course sets: when the set's group opened for the learner, and the set's due date. */
  openedAt?: number | null;
  dueAt?: number | null;
}

/** One learner's evaluation of one program plus what is stored for them now. */
export interface EvaluatedLearner {
  userId: number;
  structure: CachedStructure;
  evaluation: ProgramEvaluation;
  program: StoredState | undefined;
  sets: ReadonlyMap<number, StoredState>;
  /**
   * When the learner's active assignment started. Given for a program with timed sets, it dates the
   * sets of every open group (opened_at, due_at); left out, stored dates are kept as they are.
   */
  assignedAt?: number | null;
}

/** Whether the program keeps course-set due dates: some set has a minimum time (DOMAIN 3.2). */
export function hasTimedSets(program: CompiledProgram): boolean {
  return program.sets.some((s) => s.minTime !== null);
}

interface SetTimes {
  openedAt: number | null;
  dueAt: number | null;
}

const UNDATED: SetTimes = { openedAt: null, dueAt: null };

/**
 * The dates of each timed set for a learner assigned at `assignedAt`: when its group opened, and
 * that moment plus the set's minimum time. Sets without a minimum time, and sets of locked groups,
 * have none, so only learners in timed sets get rows for sets they have not completed.
 */
function setTimes(program: CompiledProgram, evaluation: ProgramEvaluation, assignedAt: number, zone: string): Map<number, SetTimes> {
  const opened = groupOpenTimes(evaluation, assignedAt);
  const due = setDueDates(program, evaluation, opened, zone);
  return new Map(
    program.sets.map((set) => [set.id, set.minTime === null ? UNDATED : { openedAt: opened.get(set.groupIndex) ?? null, dueAt: due.get(set.id) ?? null }]),
  );
}

/**
 * Which of these (program, learner) pairs may be recalculated. The assignment module plugs in its
 * selector (ProgramsService.useAssignmentState): no recalculation while an exception blocks the
 * learner's assignment.
 */
export type RecalcTargetSelector = (executor: Executor, pairs: ReadonlyArray<RecalcPair>) => Promise<RecalcPair[]>;

/** A (program, learner) pair whose completion may be recalculated. */
export interface RecalcPair {
  programId: number;
  userId: number;
}

/** When each (program, learner) pair's active assignment started, keyed by {@link key}; absent when not assigned. */
export type AssignedTimes = (executor: Executor, programIds: readonly number[], userIds: readonly number[]) => Promise<Map<string, number>>;

/** How course-set dates are computed: the site's zone and where assignment times come from. */
export interface SetDating {
  zone: string;
  assignedTimes: AssignedTimes;
}

/** The selector until the assignment module plugs in: every pair. */
export const recalculateEveryProgram: RecalcTargetSelector = async (_executor, pairs) => [...pairs];

const CHUNK = 500;

/**
 * Compares evaluations with stored rows and writes only the differences, in bulk: one upsert per
 * table per 500 rows, plus history rows for completions that a structure change took away. Course
 * set dates are computed in `zone` (calendar arithmetic) for learners whose `assignedAt` is given.
 * Returns what newly became complete, for the caller to fire hooks in the same transaction.
 */
export async function applyEvaluations(trx: Knex.Transaction, items: readonly EvaluatedLearner[], now: number, zone = 'UTC'): Promise<CompletionEvent[]> {
  const events: CompletionEvent[] = [];
  const programRows: Array<Record<string, unknown>> = [];
  const setRows: Array<Record<string, unknown>> = [];
  const history: Array<Record<string, unknown>> = [];
  for (const item of items) {
    const programId = item.structure.programId;
    const dated = item.assignedAt !== null && item.assignedAt !== undefined ? setTimes(item.structure.compiled, item.evaluation, item.assignedAt, zone) : null;
    for (const set of item.evaluation.sets) {
      const stored = item.sets.get(set.id);
      const completedAt = set.complete && set.completedAt !== null && set.completedAt !== undefined ? set.completedAt : null;
      const times = dated ? (dated.get(set.id) ?? UNDATED) : { openedAt: stored?.openedAt ?? null, dueAt: stored?.dueAt ?? null };
      const completionChanged = completedAt !== null ? !(stored?.status === 'complete' && stored.completedAt === completedAt) : stored?.status === 'complete';
      const datesChanged = times.openedAt !== (stored?.openedAt ?? null) || times.dueAt !== (stored?.dueAt ?? null);
      if (!completionChanged && !datesChanged) continue;
      setRows.push({
        course_set_id: set.id,
        program_id: programId,
        user_id: item.userId,
        status: completedAt !== null ? 'complete' : 'incomplete',
        completed_at: completedAt,
        opened_at: times.openedAt,
        due_at: times.dueAt,
        created_at: now,
        updated_at: now,
      });
      if (completedAt !== null && stored?.status !== 'complete')
        events.push({ kind: 'course_set', userId: item.userId, programId, courseSetId: set.id, completedAt });
    }
    const stored = item.program;
    // Complete from the start (only optional sets decide it): stamp the moment we first saw it.
    const completedAt = item.evaluation.complete ? (item.evaluation.completedAt ?? (stored?.status === 'complete' ? stored.completedAt : null) ?? now) : null;
    if (completedAt !== null) {
      if (stored?.status === 'complete' && stored.completedAt === completedAt) continue;
      programRows.push({ program_id: programId, user_id: item.userId, status: 'complete', completed_at: completedAt, created_at: now, updated_at: now });
      if (stored?.status !== 'complete') events.push({ kind: 'program', userId: item.userId, programId, completedAt });
    } else if (stored?.status === 'complete') {
      // A structure change took the completion away: keep the old one on record.
      programRows.push({ program_id: programId, user_id: item.userId, status: 'incomplete', completed_at: null, created_at: now, updated_at: now });
      if (stored.completedAt !== null)
        history.push({ program_id: programId, user_id: item.userId, completed_at: stored.completedAt, reason: 'structure_change', archived_at: now });
    }
  }
  for (let i = 0; i < setRows.length; i += CHUNK) await upsertCourseSetCompletions(trx, setRows.slice(i, i + CHUNK));
  for (let i = 0; i < programRows.length; i += CHUNK) await upsertProgramCompletions(trx, programRows.slice(i, i + CHUNK));
  for (let i = 0; i < history.length; i += CHUNK) await insertProgramCompletionHistory(trx, history.slice(i, i + CHUNK));
  return events;
}

/** Whether an evaluation has anything that could need a write on a completion-only change. */
function hasCompletedPart(evaluation: ProgramEvaluation): boolean {
  return evaluation.complete || evaluation.sets.some((s) => s.complete && s.completedAt !== null && s.completedAt !== undefined);
}

/**
 * The hot path: after a course completion for one learner, re-evaluates every program containing
 * the course. Cost: one indexed query for the programs (with their current structure_version) and
 * the learner's completions restricted to those programs' courses, one for stored state only when
 * something is complete, and writes only for what changed.
 */
export async function recalculateLearner(
  trx: Knex.Transaction,
  cache: StructureCache,
  userId: number,
  courseId: number,
  now: number,
  selectTargets: RecalcTargetSelector,
  dating: SetDating,
): Promise<CompletionEvent[]> {
  // One round trip: the programs containing the course with their current structure_version
  // (so a stale cached structure is noticed whichever process edited it), and this learner's
  // completions restricted to the courses of those programs.
  const rows = await programsOfCourseWithLearnerCompletions(trx, userId, courseId);
  const versions = new Map<number, number>();
  const completions = new Map<number, number>();
  for (const row of rows) {
    if (row.kind === 'p') versions.set(Number(row.id), Number(row.value));
    else completions.set(Number(row.id), Number(row.value));
  }
  if (!versions.size) return [];
  const targetIds = new Set(
    (
      await selectTargets(
        trx,
        [...versions.keys()].map((programId) => ({ programId, userId })),
      )
    ).map((p) => p.programId),
  );
  const wanted = [...versions].filter(([id]) => targetIds.has(id)).map(([id, version]) => ({ id, version }));
  if (!wanted.length) return [];
  const structures = await cache.get(trx, wanted);
  const evaluated = structures.map((structure) => ({ structure, evaluation: evaluateProgram(structure.compiled, completions) }));
  // Completions only ever add up on this path, so with nothing complete there is nothing to write.
  const relevant = evaluated.filter((e) => hasCompletedPart(e.evaluation));
  if (!relevant.length) return [];
  const ids = relevant.map((e) => e.structure.programId);
  const state = await loadStoredState(trx, ids, [userId]);
  // A completion can open the next group, which dates its timed sets: one more read, and only for
  // programs that have timed sets.
  const timed = relevant.filter((e) => hasTimedSets(e.structure.compiled)).map((e) => e.structure.programId);
  const assigned = timed.length ? await dating.assignedTimes(trx, timed, [userId]) : new Map<string, number>();
  return applyEvaluations(
    trx,
    relevant.map((e) => ({
      userId,
      structure: e.structure,
      evaluation: e.evaluation,
      program: state.programs.get(key(e.structure.programId, userId)),
      sets: state.sets.get(key(e.structure.programId, userId)) ?? new Map(),
      assignedAt: assigned.get(key(e.structure.programId, userId)) ?? null,
    })),
    now,
    dating.zone,
  );
}

export function key(programId: number, userId: number): string {
  return `${programId}:${userId}`;
}

/** Stored program and course-set completion state for these programs and users, in one query. */
export async function loadStoredState(
  executor: Executor,
  programIds: readonly number[],
  userIds: readonly number[],
): Promise<{ programs: Map<string, StoredState>; sets: Map<string, Map<number, StoredState>> }> {
  return toStoredState(await storedStateRows(executor, programIds, userIds));
}

/** Stored completion state of one program for every learner whose id is in `[lo, hi]` (a sync batch), in one query. */
export async function loadStoredStateInRange(
  executor: Executor,
  programId: number,
  range: { lo: number; hi: number },
): Promise<{ programs: Map<string, StoredState>; sets: Map<string, Map<number, StoredState>> }> {
  return toStoredState(await storedStateRowsInRange(executor, programId, range.lo, range.hi));
}

function toStoredState(rows: readonly StoredStateRow[]): { programs: Map<string, StoredState>; sets: Map<string, Map<number, StoredState>> } {
  const programs = new Map<string, StoredState>();
  const sets = new Map<string, Map<number, StoredState>>();
  for (const row of rows) {
    const k = key(Number(row.program_id), Number(row.user_id));
    const state: StoredState = {
      status: row.status,
      completedAt: row.completed_at === null ? null : Number(row.completed_at),
      openedAt: row.opened_at === null ? null : Number(row.opened_at),
      dueAt: row.due_at === null ? null : Number(row.due_at),
    };
    if (row.kind === 'p') programs.set(k, state);
    else {
      const m = sets.get(k) ?? new Map<number, StoredState>();
      m.set(Number(row.id), state);
      sets.set(k, m);
    }
  }
  return { programs, sets };
}
