/**
 * The program engine: a pure function of (program structure, one learner's course completions).
 *
 * No I/O and no clock: callers pass completion times in and get open/complete state, completion
 * times, launch decisions and due dates out. The semantics are DOMAIN.md section 3 and are
 * explained with examples in docs/program-engine.md.
 */
import { addDuration, isValidDuration, maxDuration, sumDurations } from './durations';

/** How a course set completes. */
export type SetRule = 'all' | 'any' | 'some' | 'optional';
/** How a course set joins the next one: `then` starts a new group, `and` binds tighter than `or`. */
export type SetOperator = 'then' | 'and' | 'or';

/** What the engine needs to know about a course. */
export interface CourseRef {
  id: number;
  fullname: string;
  /** Counts towards a `some` set's `minScore`. Negative scores count as 0. */
  score: number;
}

/** One course set as stored. `operator` joins it to the next set; the last set has none. */
export interface CourseSetDef {
  id: number;
  label: string;
  courseIds: number[];
  rule: SetRule;
  /** Only used by `some`. */
  minCourses: number;
  /** Only used by `some`. */
  minScore: number;
  /** ISO-8601 duration, or null for none. */
  minTime: string | null;
  operator: SetOperator | null;
}

/** A program's sets in order, with the courses they mention. */
export interface ProgramStructure {
  programId: number;
  sets: CourseSetDef[];
  /** Courses missing here are still required; they are named "Course {id}" and score 0. */
  courses: ReadonlyMap<number, CourseRef>;
}

/** A course set prepared for evaluation. */
export interface CompiledSet {
  id: number;
  /** Position in `structure.sets` (0-based). */
  index: number;
  groupIndex: number;
  /** The rule actually applied: unknown rules become `all`, and `some` with no thresholds `optional`. */
  rule: SetRule;
  /** Distinct course ids in their stored order. */
  courseIds: readonly number[];
  minCourses: number;
  minScore: number;
  /** The set's minimum time (ISO duration), null when none or invalid. */
  minTime: string | null;
  /** Learner-facing name: the label, or "course set N". */
  name: string;
  /**
   * The required work of the set, in courses (docs/programs.md, "Progress"): 0 for `optional`,
   * the number of courses for `all`, 1 for `any`, and for `some` the larger of `minCourses` and the
   * fewest courses whose scores reach `minScore`. At least 1 for any set that is not optional.
   */
  weight: number;
}

/** A run of sets between two `then`s, as a sum of products. */
export interface CompiledGroup {
  index: number;
  setIds: readonly number[];
  /** Set indexes (into `CompiledProgram.sets`) per `or` term; a term is complete when all its sets are. */
  terms: readonly (readonly number[])[];
  /** The largest set minimum time in the group. */
  minTime: string | null;
  /** The required work of the group: the least work among its `or` alternatives (0 if one is all optional). */
  weight: number;
}

/** A program structure precomputed once and evaluated for many learners. */
export interface CompiledProgram {
  programId: number;
  structure: ProgramStructure;
  sets: readonly CompiledSet[];
  groups: readonly CompiledGroup[];
  /** Every course that appears in some set. */
  courseIds: ReadonlySet<number>;
  /** Course id -> indexes of the sets containing it, in set order. */
  setsByCourse: ReadonlyMap<number, readonly number[]>;
  /** Sum over groups of the largest set minimum time (ISO duration), null when no set has one. */
  minTimeRequired: string | null;
}

/** One set's state for a learner. */
export interface SetEvaluation {
  id: number;
  label: string;
  /** 1-based position, as shown to people ("course set 2"). */
  position: number;
  groupIndex: number;
  rule: SetRule;
  open: boolean;
  complete: boolean;
  /**
   * When the rule first became true. Null when incomplete, and also for a complete `optional`
   * set: it is complete from the start, not at any moment a learner did something.
   */
  completedAt: number | null;
  /** Learner-readable, empty when open. */
  lockedReasons: string[];
  /** Courses complete in the set. */
  completedCourseIds: number[];
  /** 0..1 share of the set's required work done (see {@link evaluateProgram}), exactly 1 iff complete. */
  progress: number;
}

/** One group's state for a learner. */
export interface GroupEvaluation {
  index: number;
  setIds: number[];
  open: boolean;
  complete: boolean;
  /** Null when incomplete, or complete from the start (an `optional` set decides it). */
  completedAt: number | null;
  /** 0..1: the share of its best `or` alternative, exactly 1 iff complete. */
  progress: number;
}

/** The whole program's state for a learner. */
export interface ProgramEvaluation {
  complete: boolean;
  /**
   * Max over group times. Null when incomplete, or when complete from the start (only optional sets
   * decide it): the caller then stamps the moment it first saw the program complete.
   */
  completedAt: number | null;
  sets: SetEvaluation[];
  groups: GroupEvaluation[];
  /** The first incomplete group (it is always open), null when complete. */
  currentGroupIndex: number | null;
  /** Courses in any set of an open group. */
  launchableCourseIds: ReadonlySet<number>;
  /**
   * 0..1: the share of the program's required work that is done (docs/programs.md, "Progress").
   * Monotone in completions and exactly 1 iff complete. Use {@link progressPercent} to show it.
   */
  progress: number;
  /** First course the learner should take next, if any. */
  nextCourseId: number | null;
}

/** A structure problem, as returned in a 422's `details`. */
export interface StructureIssue {
  path: string;
  /** One of {@link ProgramValidationCode}; typed as string so callers can add their own issues. */
  code: string;
  message: string;
}

/** Stable codes of {@link validateStructure}. */
export type ProgramValidationCode =
  | 'PROGRAM_NO_COURSE_SETS'
  | 'PROGRAM_COURSE_SET_INVALID'
  | 'PROGRAM_LABEL_INVALID'
  | 'PROGRAM_COURSE_IDS_INVALID'
  | 'PROGRAM_UNKNOWN_COURSE'
  | 'PROGRAM_DUPLICATE_COURSE'
  | 'PROGRAM_RULE_INVALID'
  | 'PROGRAM_THRESHOLD_INVALID'
  | 'PROGRAM_MIN_COURSES_TOO_LARGE'
  | 'PROGRAM_MIN_SCORE_UNREACHABLE'
  | 'PROGRAM_DURATION_INVALID'
  | 'PROGRAM_OPERATOR_INVALID'
  | 'PROGRAM_OPERATOR_MISSING'
  | 'PROGRAM_OPERATOR_ON_LAST_SET';

const RULES: readonly SetRule[] = ['all', 'any', 'some', 'optional'];
const OPERATORS: readonly SetOperator[] = ['then', 'and', 'or'];

/** Longest course list quoted in a locked reason before "and N more". */
const MAX_NAMED_COURSES = 5;

/** Longest accepted set label. */
export const MAX_SET_LABEL_LENGTH = 255;

// ---------------------------------------------------------------------------------------------
// Compilation
// ---------------------------------------------------------------------------------------------

/**
 * Precomputes what evaluation needs: groups (split at `then`; inside a group `and` binds tighter
 * than `or`), the course -> sets index and the minimum time required.
 *
 * Never throws on stored data, so one bad row cannot lock learners out: a missing operator between
 * sets counts as `then` (Totara's default), an operator on the last set is ignored, an unknown rule
 * counts as `all`, an invalid minimum time counts as none. {@link validateStructure} rejects all of
 * these on save.
 */
export function compileProgram(structure: ProgramStructure): CompiledProgram {
  const sets: CompiledSet[] = [];
  const groups: CompiledGroup[] = [];
  const setsByCourse = new Map<number, number[]>();
  const courseIds = new Set<number>();

  let groupSetIndexes: number[] = [];
  let terms: number[][] = [];
  let term: number[] = [];

  const closeGroup = (): void => {
    terms.push(term);
    const groupSets = groupSetIndexes.map((i) => sets[i]);
    groups.push({
      index: groups.length,
      setIds: groupSets.map((s) => s.id),
      terms,
      minTime: groupSets.reduce<string | null>((max, s) => maxDuration(max, s.minTime), null),
      weight: Math.min(...terms.map((t) => t.reduce((sum, i) => sum + sets[i].weight, 0))),
    });
    groupSetIndexes = [];
    terms = [];
    term = [];
  };

  structure.sets.forEach((def, index) => {
    const distinct = [...new Set(def.courseIds)];
    const minCourses = Number.isFinite(def.minCourses) ? def.minCourses : 0;
    const minScore = Number.isFinite(def.minScore) ? def.minScore : 0;
    let rule: SetRule = RULES.includes(def.rule) ? def.rule : 'all';
    if (rule === 'some' && minCourses <= 0 && minScore <= 0) rule = 'optional';
    const label = typeof def.label === 'string' ? def.label.trim() : '';
    const scores = distinct.map((id) => {
      const score = structure.courses.get(id)?.score ?? 0;
      return Number.isFinite(score) && score > 0 ? score : 0;
    });
    sets.push({
      id: def.id,
      index,
      groupIndex: groups.length,
      rule,
      courseIds: distinct,
      minCourses,
      minScore,
      minTime: def.minTime !== null && isValidDuration(def.minTime) ? def.minTime : null,
      name: label ? `"${label}"` : `course set ${index + 1}`,
      weight: setWeight(rule, distinct.length, minCourses, minScore, scores),
    });
    for (const courseId of distinct) {
      courseIds.add(courseId);
      const list = setsByCourse.get(courseId);
      if (list) list.push(index);
      else setsByCourse.set(courseId, [index]);
    }
    groupSetIndexes.push(index);
    term.push(index);
    const isLast = index === structure.sets.length - 1;
    const operator: SetOperator = OPERATORS.includes(def.operator as SetOperator) ? (def.operator as SetOperator) : 'then';
    if (isLast || operator === 'then') closeGroup();
    else if (operator === 'or') {
      terms.push(term);
      term = [];
    }
  });

  return {
    programId: structure.programId,
    structure,
    sets,
    groups,
    courseIds,
    setsByCourse,
    minTimeRequired: sumDurations(groups.map((g) => g.minTime)),
  };
}

/**
 * A set's required work in courses. `some`: the larger of `minCourses` and the fewest courses whose
 * scores reach `minScore` (largest scores first); when the scores can never reach it, every course.
 */
function setWeight(rule: SetRule, courses: number, minCourses: number, minScore: number, scores: readonly number[]): number {
  switch (rule) {
    case 'optional':
      return 0;
    case 'any':
      return 1;
    case 'some': {
      let byScore = 0;
      if (minScore > 0) {
        const sorted = [...scores].sort((a, b) => b - a);
        let sum = 0;
        byScore = courses;
        for (let i = 0; i < sorted.length; i++) {
          sum += sorted[i];
          if (sum >= minScore) {
            byScore = i + 1;
            break;
          }
        }
      }
      return Math.max(1, Math.ceil(minCourses), byScore);
    }
    case 'all':
    default:
      return Math.max(1, courses);
  }
}

// ---------------------------------------------------------------------------------------------
// Evaluation
// ---------------------------------------------------------------------------------------------

// Internally a time is: null = not complete, -Infinity = complete from the start (optional sets),
// otherwise epoch ms. -Infinity makes "complete from the start" the identity of `and` (max) and
// absorbing for `or` (min), which is exactly what an always-true operand means.
type Time = number | null;

const maxTime = (a: Time, b: Time): Time => (a === null || b === null ? null : Math.max(a, b));
const minTime = (a: Time, b: Time): Time => (a === null ? b : b === null ? a : Math.min(a, b));
const toPublic = (t: Time): number | null => (t === null || t === -Infinity ? null : t);

interface SetState {
  time: Time;
  completedCourseIds: number[];
  /** Courses not complete yet, in set order. */
  remaining: number[];
  count: number;
  score: number;
}

function courseScore(program: CompiledProgram, courseId: number): number {
  const score = program.structure.courses.get(courseId)?.score ?? 0;
  return Number.isFinite(score) && score > 0 ? score : 0;
}

function evaluateSet(program: CompiledProgram, set: CompiledSet, completions: ReadonlyMap<number, number>): SetState {
  const completed: Array<{ courseId: number; at: number }> = [];
  const remaining: number[] = [];
  for (const courseId of set.courseIds) {
    const at = completions.get(courseId);
    if (typeof at === 'number' && Number.isFinite(at)) completed.push({ courseId, at });
    else remaining.push(courseId);
  }
  const completedCourseIds = completed.map((c) => c.courseId);
  const score = completed.reduce((sum, c) => sum + courseScore(program, c.courseId), 0);
  const base = { completedCourseIds, remaining, count: completed.length, score };
  const n = set.courseIds.length;

  switch (set.rule) {
    case 'optional':
      return { ...base, time: -Infinity };
    case 'any': {
      const time = completed.length > 0 ? completed.reduce((t, c) => Math.min(t, c.at), Infinity) : null;
      return { ...base, time };
    }
    case 'some': {
      // Walk completions in time order, a whole timestamp at a time, and stop at the first moment
      // both thresholds hold: that is when the rule first became true, whatever order they arrived in.
      const sorted = [...completed].sort((a, b) => a.at - b.at);
      let count = 0;
      let sum = 0;
      let time: Time = null;
      for (let i = 0; i < sorted.length && time === null;) {
        const at = sorted[i].at;
        for (; i < sorted.length && sorted[i].at === at; i++) {
          count++;
          sum += courseScore(program, sorted[i].courseId);
        }
        if (count >= set.minCourses && sum >= set.minScore) time = at;
      }
      return { ...base, time };
    }
    case 'all':
    default: {
      if (n === 0) return { ...base, time: null };
      const time = completed.length === n ? completed.reduce((t, c) => Math.max(t, c.at), -Infinity) : null;
      return { ...base, time };
    }
  }
}

/**
 * How far a learner is through each course they have not completed: course id -> share (0..1) of
 * the course's completion-tracked activities they have completed. Completed courses count 1
 * whatever this says; courses missing here count 0.
 */
export type CourseShares = ReadonlyMap<number, number>;

/** Progress below completion never shows as done: at most this share until the rule is met. */
const INCOMPLETE_CAP = 0.999;

/**
 * Evaluates a learner's state in a program from their course completions
 * (`courseId -> completedAt`, epoch ms) and, for progress only, their share of each unfinished
 * course (`partial`). A pure function of the maps' contents: the order completions arrived in does
 * not matter; completions of courses outside the program are ignored.
 *
 * Runs in O(size of the structure + completions in it), with one small sort per `some` set.
 * Progress and the next course are computed on first read: the completion hot path needs neither.
 */
export function evaluateProgram(program: CompiledProgram, completions: ReadonlyMap<number, number>, partial?: CourseShares): ProgramEvaluation {
  const states = program.sets.map((set) => evaluateSet(program, set, completions));

  const groupTimes: Time[] = program.groups.map((group) =>
    group.terms.reduce<Time>((groupTime, term) => {
      const termTime = term.reduce<Time>((t, setIndex) => maxTime(t, states[setIndex].time), -Infinity);
      return minTime(groupTime, termTime);
    }, null),
  );

  // Group k opens when every earlier group is complete (not "highest completed + 1").
  const groupOpen: boolean[] = [];
  let allBeforeComplete = true;
  for (let g = 0; g < program.groups.length; g++) {
    groupOpen.push(allBeforeComplete);
    allBeforeComplete &&= groupTimes[g] !== null;
  }

  const complete = program.groups.length > 0 && groupTimes.every((t) => t !== null);
  const programTime = complete ? groupTimes.reduce<Time>((a, b) => (a === null || b === null ? null : Math.max(a, b)), -Infinity) : null;
  const currentGroupIndex = complete ? null : groupTimes.findIndex((t) => t === null);

  let shares: ProgressShares | undefined;
  const progressShares = (): ProgressShares => (shares ??= computeProgress(program, states, groupTimes, complete, completions, partial));

  // A locked group k lists every incomplete group before it; each is described once, and only when
  // someone reads a reason: the completion hot path evaluates many programs and never shows one.
  let incompleteBefore: string[][] | undefined;
  const lockedReasonsFor = (groupIndex: number): string[] => {
    if (!incompleteBefore) {
      incompleteBefore = [];
      const pending: string[] = [];
      for (let g = 0; g < program.groups.length; g++) {
        incompleteBefore.push(groupOpen[g] ? [] : [...pending]);
        if (groupTimes[g] === null && g + 1 < program.groups.length) pending.push(describeGroup(program, program.groups[g], states));
      }
    }
    return [...incompleteBefore[groupIndex]];
  };

  const sets: SetEvaluation[] = program.sets.map((set, i) => {
    const open = groupOpen[set.groupIndex];
    let reasons: string[] | undefined;
    return {
      id: set.id,
      label: program.structure.sets[i].label,
      position: i + 1,
      groupIndex: set.groupIndex,
      rule: set.rule,
      open,
      complete: states[i].time !== null,
      completedAt: toPublic(states[i].time),
      get lockedReasons(): string[] {
        return (reasons ??= open ? [] : lockedReasonsFor(set.groupIndex));
      },
      completedCourseIds: states[i].completedCourseIds,
      get progress(): number {
        return progressShares().sets[i];
      },
    };
  });

  const launchableCourseIds = new Set<number>();
  for (const set of program.sets) {
    if (groupOpen[set.groupIndex]) for (const courseId of set.courseIds) launchableCourseIds.add(courseId);
  }

  let next: number | null | undefined;
  return {
    complete,
    completedAt: toPublic(programTime),
    sets,
    groups: program.groups.map((group, g) => ({
      index: g,
      setIds: [...group.setIds],
      open: groupOpen[g],
      complete: groupTimes[g] !== null,
      completedAt: toPublic(groupTimes[g]),
      get progress(): number {
        return progressShares().groups[g];
      },
    })),
    currentGroupIndex: currentGroupIndex === null || currentGroupIndex < 0 ? null : currentGroupIndex,
    launchableCourseIds,
    get progress(): number {
      return progressShares().program;
    },
    get nextCourseId(): number | null {
      if (next === undefined) {
        next =
          currentGroupIndex === null || currentGroupIndex < 0
            ? null
            : nextCourse(program.groups[currentGroupIndex], states, progressShares().terms[currentGroupIndex]);
      }
      return next;
    },
  };
}

/** Shares (0..1) of required work done per set, per `or` alternative of each group, per group and for the program. */
interface ProgressShares {
  sets: number[];
  terms: number[][];
  groups: number[];
  program: number;
}

/** A course's share: 1 when complete, else the share of its tracked activities complete (0..1). */
function courseShare(courseId: number, completions: ReadonlyMap<number, number>, partial: CourseShares | undefined): number {
  const at = completions.get(courseId);
  if (typeof at === 'number' && Number.isFinite(at)) return 1;
  const share = partial?.get(courseId);
  return typeof share === 'number' && share > 0 ? Math.min(1, share) : 0;
}

/** An incomplete set's raw share of its required work (see docs/programs.md, "Progress"). */
function rawSetShare(program: CompiledProgram, set: CompiledSet, completions: ReadonlyMap<number, number>, partial: CourseShares | undefined): number {
  const courseShares = set.courseIds.map((id) => courseShare(id, completions, partial));
  switch (set.rule) {
    case 'optional':
      return 1;
    case 'any':
      return courseShares.reduce((best, x) => Math.max(best, x), 0);
    case 'some': {
      const parts: number[] = [];
      const needed = Math.ceil(set.minCourses);
      if (needed > 0) {
        const best = [...courseShares].sort((a, b) => b - a).slice(0, needed);
        parts.push(best.reduce((a, b) => a + b, 0) / needed);
      }
      if (set.minScore > 0) {
        const earned = set.courseIds.reduce((sum, id, k) => sum + courseShares[k] * courseScore(program, id), 0);
        parts.push(Math.min(1, earned / set.minScore));
      }
      return parts.length ? Math.min(...parts) : 1;
    }
    case 'all':
    default:
      return courseShares.length ? courseShares.reduce((a, b) => a + b, 0) / courseShares.length : 0;
  }
}

/**
 * Progress (DOMAIN 3.2): the share of the program's required work that is done. Each set has a
 * fixed weight (its required work in courses, {@link CompiledSet.weight}); an `or` alternative's
 * share is the weighted mean of its sets' shares; a group counts with the weight of its lightest
 * alternative and the share of its best one; the program is the weighted mean of its groups.
 * Anything incomplete is held below 1, anything complete is exactly 1. Weights never depend on
 * completions, so progress is monotone in them.
 */
function computeProgress(
  program: CompiledProgram,
  states: readonly SetState[],
  groupTimes: readonly Time[],
  complete: boolean,
  completions: ReadonlyMap<number, number>,
  partial: CourseShares | undefined,
): ProgressShares {
  const sets = program.sets.map((set, i) => (states[i].time !== null ? 1 : Math.min(rawSetShare(program, set, completions, partial), INCOMPLETE_CAP)));
  const terms = program.groups.map((group) =>
    group.terms.map((term) => {
      const weight = term.reduce((sum, i) => sum + program.sets[i].weight, 0);
      return weight === 0 ? 1 : term.reduce((sum, i) => sum + program.sets[i].weight * sets[i], 0) / weight;
    }),
  );
  const groups = program.groups.map((_, g) => (groupTimes[g] !== null ? 1 : Math.min(Math.max(0, ...terms[g]), INCOMPLETE_CAP)));
  let share: number;
  if (complete) share = 1;
  else {
    const total = program.groups.reduce((sum, group) => sum + group.weight, 0);
    const done = program.groups.reduce((sum, group, g) => sum + group.weight * groups[g], 0);
    share = total === 0 ? 0 : Math.min(done / total, INCOMPLETE_CAP);
  }
  return { sets, terms, groups, program: share };
}

/**
 * A progress share as a whole percent for people: rounded down, so 100 means complete and an
 * unfinished program shows at most 99.
 */
export function progressPercent(share: number, complete: boolean): number {
  if (complete) return 100;
  // The epsilon keeps 0.29 * 100 = 28.999999999999996 from showing as 28.
  return Math.max(0, Math.min(99, Math.floor(share * 100 + 1e-9)));
}

/** The first remaining course of the first incomplete set in the group's most advanced alternative. */
function nextCourse(group: CompiledGroup, states: readonly SetState[], termShares: readonly number[]): number | null {
  const ranked = group.terms.map((term, order) => ({ term, order, share: termShares[order] })).sort((a, b) => b.share - a.share || a.order - b.order);
  for (const { term } of ranked) {
    for (const setIndex of term) {
      const state = states[setIndex];
      if (state.time === null && state.remaining.length > 0) return state.remaining[0];
    }
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Learner-readable reasons
// ---------------------------------------------------------------------------------------------

function courseName(program: CompiledProgram, courseId: number): string {
  return program.structure.courses.get(courseId)?.fullname || `Course ${courseId}`;
}

function courseList(program: CompiledProgram, courseIds: readonly number[]): string {
  const names = courseIds.slice(0, MAX_NAMED_COURSES).map((id) => courseName(program, id));
  const more = courseIds.length - names.length;
  return more > 0 ? `${names.join(', ')} and ${more} more` : names.join(', ');
}

/** "course set 1 (Course A, Course B)" for what is still missing in an incomplete set. */
function describeSet(program: CompiledProgram, set: CompiledSet, state: SetState): string {
  if (set.courseIds.length === 0) return `${set.name} (which has no courses yet)`;
  const remaining = courseList(program, state.remaining);
  switch (set.rule) {
    case 'any':
      return state.remaining.length === 1 ? `${set.name} (${remaining})` : `${set.name} (one of ${remaining})`;
    case 'some': {
      const started = state.count > 0;
      const needCourses = Math.max(0, Math.ceil(set.minCourses - state.count));
      const needScore = Math.max(0, set.minScore - state.score);
      const parts: string[] = [];
      if (needCourses > 0) parts.push(`${needCourses}${started ? ' more' : ''} of ${remaining}`);
      else parts.push(`courses from ${remaining}`);
      if (needScore > 0) parts.push(`worth ${started ? `${needScore} more` : needScore} ${needScore === 1 ? 'point' : 'points'}`);
      return `${set.name} (${parts.join(', ')})`;
    }
    default:
      return `${set.name} (${remaining})`;
  }
}

/** "Complete course set 1 (Course A) and course set 2 (one of Course B, Course C), or ... first". */
function describeGroup(program: CompiledProgram, group: CompiledGroup, states: readonly SetState[]): string {
  const alternatives = group.terms.map((term) => term.filter((i) => states[i].time === null).map((i) => describeSet(program, program.sets[i], states[i])));
  // A comma before "or" keeps "A and B, or C" from reading as "A and (B or C)".
  const or = alternatives.some((parts) => parts.length > 1) ? ', or ' : ' or ';
  return `Complete ${alternatives.map((parts) => parts.join(' and ')).join(or)} first`;
}

// ---------------------------------------------------------------------------------------------
// Decisions built on an evaluation
// ---------------------------------------------------------------------------------------------

/**
 * Whether the learner may launch a course through this program: it must be in a set of an open
 * group. When not, `reasons` say what to complete first (from the earliest set holding the course).
 */
export function canLaunch(program: CompiledProgram, evaluation: ProgramEvaluation, courseId: number): { allowed: boolean; reasons: string[] } {
  if (evaluation.launchableCourseIds.has(courseId)) return { allowed: true, reasons: [] };
  const setIndexes = program.setsByCourse.get(courseId);
  if (!setIndexes || setIndexes.length === 0) return { allowed: false, reasons: ['This course is not part of this program'] };
  return { allowed: false, reasons: [...evaluation.sets[setIndexes[0]].lockedReasons] };
}

/**
 * When each open group became open for a learner assigned at `assignedAt`: group 0 at assignment,
 * group k at the later of assignment and the completion of groups 0..k-1 (completions before the
 * assignment, e.g. prior learning, open it at assignment). Locked groups have no entry.
 */
export function groupOpenTimes(evaluation: ProgramEvaluation, assignedAt: number): Map<number, number> {
  const result = new Map<number, number>();
  let openedAt = assignedAt;
  for (const group of evaluation.groups) {
    if (!group.open) break;
    result.set(group.index, openedAt);
    if (group.completedAt !== null) openedAt = Math.max(openedAt, group.completedAt);
  }
  return result;
}

/**
 * Due dates of course sets: the moment the set's group opened (`groupOpenedAt`, group index ->
 * epoch ms, e.g. from {@link groupOpenTimes}) plus the set's minimum time, with calendar
 * arithmetic in `zone`. Null for sets without a minimum time, in a locked group, or whose group
 * has no opening time. Complete sets keep their due date; callers decide whether it matters.
 */
export function setDueDates(
  program: CompiledProgram,
  evaluation: ProgramEvaluation,
  groupOpenedAt: ReadonlyMap<number, number>,
  zone = 'UTC',
): Map<number, number | null> {
  const result = new Map<number, number | null>();
  for (const set of program.sets) {
    const openedAt = groupOpenedAt.get(set.groupIndex);
    const open = evaluation.groups[set.groupIndex]?.open ?? false;
    result.set(set.id, open && openedAt !== undefined && set.minTime !== null ? addDuration(openedAt, set.minTime, zone) : null);
  }
  return result;
}

/**
 * What a change of completions newly completed, to fire `onCompletion` once per set, group and
 * program. Something already complete in `before` is never reported again.
 */
export function newlyCompleted(before: ProgramEvaluation, after: ProgramEvaluation): { setIds: number[]; groupIndexes: number[]; program: boolean } {
  return {
    setIds: after.sets.filter((s, i) => s.complete && !before.sets[i]?.complete).map((s) => s.id),
    groupIndexes: after.groups.filter((g, i) => g.complete && !before.groups[i]?.complete).map((g) => g.index),
    program: after.complete && !before.complete,
  };
}

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNonNegativeNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;

/**
 * The 422 checks for a program structure as submitted (`courseSets` of the API). Returns every
 * problem found, each with a path like `courseSets[1].operator`; empty when the structure is valid.
 *
 * A program needs at least one set (an empty program would otherwise complete on assignment).
 * Sets with no courses are allowed: non-optional ones never complete, as DOMAIN.md defines.
 * Pass `courseScores` (course id -> score) to also check that a `some` set's `minScore` is reachable.
 */
export function validateStructure(
  sets: Array<Partial<CourseSetDef>>,
  knownCourseIds: ReadonlySet<number>,
  courseScores?: ReadonlyMap<number, number>,
): StructureIssue[] {
  const issues: StructureIssue[] = [];
  const add = (path: string, code: ProgramValidationCode, message: string): void => {
    issues.push({ path, code, message });
  };
  if (!Array.isArray(sets)) {
    add('courseSets', 'PROGRAM_COURSE_SET_INVALID', 'courseSets must be a list of course sets');
    return issues;
  }
  if (sets.length === 0) {
    add('courseSets', 'PROGRAM_NO_COURSE_SETS', 'A program needs at least one course set');
    return issues;
  }

  sets.forEach((raw: unknown, i) => {
    const at = `courseSets[${i}]`;
    if (!isPlainObject(raw)) {
      add(at, 'PROGRAM_COURSE_SET_INVALID', `Course set ${i + 1} must be an object`);
      return;
    }
    const set = raw as Partial<Record<keyof CourseSetDef, unknown>>;
    const isLast = i === sets.length - 1;

    if (set.label !== undefined && (typeof set.label !== 'string' || set.label.length > MAX_SET_LABEL_LENGTH)) {
      add(`${at}.label`, 'PROGRAM_LABEL_INVALID', `The label must be text of at most ${MAX_SET_LABEL_LENGTH} characters`);
    }

    let courseCount = 0;
    let totalScore = 0;
    if (!Array.isArray(set.courseIds)) {
      add(`${at}.courseIds`, 'PROGRAM_COURSE_IDS_INVALID', 'courseIds must be a list of course ids');
    } else {
      const seen = new Set<number>();
      set.courseIds.forEach((id: unknown, j) => {
        const path = `${at}.courseIds[${j}]`;
        if (typeof id !== 'number' || !Number.isSafeInteger(id) || id <= 0) {
          add(path, 'PROGRAM_COURSE_IDS_INVALID', `${JSON.stringify(id) ?? String(id)} is not a course id`);
        } else if (!knownCourseIds.has(id)) {
          add(path, 'PROGRAM_UNKNOWN_COURSE', `There is no course with id ${id}`);
        } else if (seen.has(id)) {
          add(path, 'PROGRAM_DUPLICATE_COURSE', `Course ${id} appears twice in this course set`);
        } else {
          seen.add(id);
          totalScore += Math.max(0, courseScores?.get(id) ?? 0);
        }
      });
      courseCount = set.courseIds.length;
    }

    if (!RULES.includes(set.rule as SetRule)) {
      add(`${at}.rule`, 'PROGRAM_RULE_INVALID', `rule must be one of ${RULES.join(', ')}`);
    } else if (set.rule === 'some') {
      const minCourses = set.minCourses ?? 0;
      const minScore = set.minScore ?? 0;
      if (!isNonNegativeNumber(minCourses) || !Number.isInteger(minCourses)) {
        add(`${at}.minCourses`, 'PROGRAM_THRESHOLD_INVALID', 'minCourses must be a whole number, 0 or more');
      } else if (Array.isArray(set.courseIds) && minCourses > courseCount) {
        add(
          `${at}.minCourses`,
          'PROGRAM_MIN_COURSES_TOO_LARGE',
          `minCourses is ${minCourses} but the course set has only ${courseCount} ${courseCount === 1 ? 'course' : 'courses'}`,
        );
      }
      if (!isNonNegativeNumber(minScore)) {
        add(`${at}.minScore`, 'PROGRAM_THRESHOLD_INVALID', 'minScore must be a number, 0 or more');
      } else if (courseScores && Array.isArray(set.courseIds) && minScore > totalScore) {
        add(`${at}.minScore`, 'PROGRAM_MIN_SCORE_UNREACHABLE', `minScore is ${minScore} but the courses in the set are worth ${totalScore} in total`);
      }
    }

    if (set.minTime !== undefined && set.minTime !== null && !isValidDuration(set.minTime)) {
      add(
        `${at}.minTime`,
        'PROGRAM_DURATION_INVALID',
        `${JSON.stringify(set.minTime)} is not a valid minimum time: use a positive ISO-8601 duration such as P2W or P1M, or null for none`,
      );
    }

    const operator = set.operator;
    if (operator !== undefined && operator !== null && !OPERATORS.includes(operator as SetOperator)) {
      add(`${at}.operator`, 'PROGRAM_OPERATOR_INVALID', `operator must be one of ${OPERATORS.join(', ')}`);
    } else if (isLast && operator !== undefined && operator !== null) {
      add(`${at}.operator`, 'PROGRAM_OPERATOR_ON_LAST_SET', 'The last course set has no next set to join, so it takes no operator');
    } else if (!isLast && (operator === undefined || operator === null)) {
      add(`${at}.operator`, 'PROGRAM_OPERATOR_MISSING', `Say how course set ${i + 1} joins the next one: then, and, or or`);
    }
  });
  return issues;
}
