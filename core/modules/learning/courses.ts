import { parseDateInput } from '../../kernel/dates';
import { copyCourse } from './course-copy';
import type { Knex } from 'knex';
import { isRetryableConflict, isUniqueViolation, type Database, type Executor } from '../../kernel/db/database';
import { conflict, invalid, notFound, WaymarkError, type ErrorDetail } from '../../kernel/errors';
import { bool, iso, isForeignKeyViolation } from '../../kernel/db/sql';
import type { ExtensionRegistrar } from '../../kernel/features/context';
import type { Logger } from '../../kernel/logging';
import { ACCESS_UNCHECKABLE, type ActivityAccess, type RestrictedCourse } from './availability';
import {
  activitiesOfCourse,
  activityById,
  coursePage,
  coursesSeenBy,
  activityIdsOfCourse,
  courseById,
  courseExists,
  criteriaOfCourse,
  insertActivity,
  insertCourse,
  lastActivityPosition,
  setCourseVisible,
  activityHasLearnerData,
  deleteActivityRow,
  swapActivityPositions,
  swapSectionPositions,
  deleteSectionRow,
  updateCourseRow,
  touchCourse,
  updateActivityRow,
  sectionsOfCourse,
  sectionById,
  insertSection,
  updateSectionRow,
  type CourseRow,
  type SectionRow,
  upsertCriteria,
  type ActivityRow,
  type CourseListFilter,
} from './store/courses';
import type { KeysetOrder, KeysetPage, PagePosition } from '../../kernel/db/keyset';
import {
  anyEnrolmentOf,
  changeEnrolmentBatch,
  deleteEnrolment,
  enrolmentByKey,
  hasActiveEnrolment,
  insertEnrolment,
  listEnrolments,
  prepareUpsertActiveEnrolment,
  updateEnrolmentStatus,
  type EnrolmentRow,
} from './store/enrolments';

/** Activity types core knows; plugins may add more in a later issue. */
export const ACTIVITY_TYPES = ['resource', 'page', 'url', 'quiz'] as const;

/** The largest course score (its weight in a "some" course set): a 32-bit column, and sums of many must fit. */
export const MAX_COURSE_SCORE = 1_000_000;

/**
 * How a course completes from its activities:
 * - `all_tracked`: every activity with completion tracking is complete (the default);
 * - `subset`: every activity listed in `activityIds` is complete;
 * - `min_grade`: course grade (sum of grades / sum of max grades of graded activities, in %)
 *   reaches `minGrade`.
 */
export type CompletionCriteria = { mode: 'all_tracked' } | { mode: 'subset'; activityIds: number[] } | { mode: 'min_grade'; minGrade: number };

export interface CourseInput {
  shortname: string;
  fullname: string;
  summary?: string | null;
  visible?: boolean;
  /** ISO-8601 date-time. */
  startDate?: string | null;
  /** Weight for the program rule `some`. */
  score?: number;
  completionCriteria?: CompletionCriteria;
}

export interface ActivityInput {
  type: string;
  name: string;
  completionTracked?: boolean;
  maxGrade?: number;
  /**
   * Restriction tree (DOMAIN 8, Moodle's shape), checked by the `activityAccess` contribution
   * (restrict_access) when saved; null removes it.
   */
  availability?: unknown;
  /** The section of the course it belongs to; none (the top of the course) by default. */
  sectionId?: number | null;
}

/** What PATCH /courses/{id} may change; absent fields stay as they are (criteria have their own route). */
export type CoursePatch = Partial<Omit<CourseInput, 'completionCriteria'>>;

/** What PATCH /activities/{id} may change; absent fields stay as they are. */
export type ActivityPatch = Partial<Pick<ActivityInput, 'name' | 'completionTracked' | 'maxGrade' | 'availability' | 'sectionId'>>;

/** A course section: a named group of activities whose restriction tree applies to all of them. */
export interface SectionView {
  id: number;
  courseId: number;
  position: number;
  name: string;
  availability: unknown;
}

/** What POST /courses/{id}/sections and PATCH /sections/{id} take. */
export interface SectionInput {
  name?: string;
  availability?: unknown;
}

export interface ActivityView {
  id: number;
  courseId: number;
  position: number;
  type: string;
  name: string;
  completionTracked: boolean;
  maxGrade: number;
  availability: unknown;
  sectionId: number | null;
}

export interface CourseView {
  id: number;
  shortname: string;
  fullname: string;
  summary: string | null;
  visible: boolean;
  startDate: string | null;
  score: number;
  completionCriteria: CompletionCriteria;
  sections: SectionView[];
  activities: ActivityView[];
  createdAt: string;
}

export interface EnrolmentView {
  id: number;
  userId: number;
  courseId: number;
  method: string;
  status: 'active' | 'suspended';
  createdAt: string;
  updatedAt: string;
}

export interface CoursesService {
  create(input: CourseInput): Promise<CourseView>;
  /** Changes a course's settings (names, summary, visibility, start date, score). */
  update(courseId: number, patch: CoursePatch): Promise<CourseView>;
  /**
   * Deletes an activity. Refused (409) while learners have completions, grades or quiz attempts on
   * it, or while the course's completion criteria or another activity's restriction names it.
   */
  deleteActivity(activityId: number): Promise<void>;
  /** A section, or 404. */
  getSection(sectionId: number): Promise<SectionView>;
  /** Moves a section one place up or down in its course (nothing happens at either end). */
  moveSection(sectionId: number, direction: 'up' | 'down'): Promise<SectionView>;
  /**
   * Deletes a section. Its activities stay, at the top of the course, and lose the section's
   * restriction (the operator is told before confirming).
   */
  deleteSection(sectionId: number): Promise<void>;
  /** Moves an activity one place up or down in its course (nothing happens at either end). */
  moveActivity(activityId: number, direction: 'up' | 'down'): Promise<ActivityView>;
  get(courseId: number, executor?: Executor): Promise<CourseView>;
  addActivity(courseId: number, input: ActivityInput): Promise<ActivityView>;
  /** Adds a section at the end of the course; its restriction tree is checked as an activity's. */
  addSection(courseId: number, input: SectionInput & { name: string }): Promise<SectionView>;
  /** Renames a section or changes its restriction tree (null removes it). */
  updateSection(sectionId: number, patch: SectionInput): Promise<SectionView>;
  /** One section; 404 when there is none. */
  getSection(sectionId: number, executor?: Executor): Promise<SectionView>;
  /** Changes an activity; a restriction tree is checked exactly as when the activity is added. */
  updateActivity(activityId: number, patch: ActivityPatch): Promise<ActivityView>;
  /**
   * What one learner may see and open of the course's restricted activities (activities without a
   * tree are absent: always available). Fails closed: when restrictions exist but no contribution
   * can evaluate them (the restrict_access plugin is disabled, or it threw), each restricted
   * activity is listed but locked.
   */
  accessOf(userId: number, course: Pick<CourseView, 'id' | 'activities' | 'sections'>): Promise<Map<number, ActivityAccess>>;
  getActivity(activityId: number, executor?: Executor): Promise<ActivityView>;
  /** Replaces the course's completion criteria (subset ids must be activities of the course). */
  setCompletionCriteria(courseId: number, criteria: CompletionCriteria): Promise<CourseView>;
  /**
   * Of these courses, the ones the learner may see: visible courses, and hidden ones they are
   * linked to (an enrolment of any status, or a completion). Operators see every course.
   */
  seenBy(userId: number, courseIds: readonly number[]): Promise<Set<number>>;
  /** One page of course summaries (no activities), filtered, in a named order of {@link COURSE_ORDERS}. */
  list(filter: CourseListFilter, order: KeysetOrder, position: PagePosition): Promise<KeysetPage<CourseSummary>>;
  /**
   * Copies the course (settings, sections, activities, completion criteria, quiz questions, and
   * restriction trees remapped to the copy's activities; no learner data), hidden unless `visible`.
   * Returns the copy and which activity became which.
   */
  copy(
    courseId: number,
    input: { shortname: string; fullname: string; visible?: boolean; startDate?: string | null },
  ): Promise<{ course: CourseView; activityIds: Map<number, number> }>;
  /**
   * The same copy inside the caller's transaction, start date in epoch ms: a recurring program
   * records the copy as its next period in the same unit of work, so a failure leaves neither.
   */
  copyWithin(
    trx: Knex.Transaction,
    courseId: number,
    input: { shortname: string; fullname: string; visible?: boolean; startDate?: number | null },
  ): Promise<{ courseId: number; activityIds: Map<number, number> }>;
  /** Shows or hides a course, in the caller's transaction (a recurring program shows a period's copy when it starts). */
  setVisible(trx: Knex.Transaction, courseId: number, visible: boolean): Promise<void>;
}

/** A course in a list: the course without its activities and criteria. */
export type CourseSummary = Omit<CourseView, 'activities' | 'completionCriteria' | 'sections'>;

export interface EnrolmentsService {
  /** Idempotent: an existing (user, course, method) enrolment is returned (and reactivated). */
  enrol(userId: number, courseId: number, method: string, options?: { trx?: Knex.Transaction; status?: 'active' | 'suspended' }): Promise<EnrolmentView>;
  setStatus(userId: number, courseId: number, method: string, status: 'active' | 'suspended', options?: { trx?: Knex.Transaction }): Promise<EnrolmentView>;
  unenrol(userId: number, courseId: number, method: string, options?: { trx?: Knex.Transaction }): Promise<boolean>;
  list(filter: { userId?: number; courseId?: number }): Promise<EnrolmentView[]>;
  /** True when the user has any active enrolment in the course. */
  isEnrolled(userId: number, courseId: number, executor?: Executor): Promise<boolean>;
  /**
   * The launch hot path: one prepared upsert, no read. Creates the (user, course, method) enrolment
   * active, or reactivates it; a concurrent twin is a no-op through the unique index.
   */
  ensureActive(userId: number, courseId: number, method: string): Promise<void>;
  /**
   * Set-based status change of one method's enrolments for (user, course) pairs, inside `trx`:
   * `suspend` active ones, `reactivate` suspended ones, or `unenrol` (delete) them. Returns how many changed.
   */
  changeMany(
    trx: Knex.Transaction,
    method: string,
    action: 'suspend' | 'reactivate' | 'unenrol',
    pairs: ReadonlyArray<{ userId: number; courseId: number }>,
  ): Promise<number>;
  /** Whether any of these learners has an enrolment of this method in this status (one indexed probe). */
  anyOf(executor: Executor, method: string, status: 'active' | 'suspended', userIds: readonly number[]): Promise<boolean>;
}

/** Pairs per statement: keeps the OR list well under every driver's parameter limit. */
const PAIR_BATCH = 400;

function activityView(row: ActivityRow): ActivityView {
  return {
    id: Number(row.id),
    courseId: Number(row.course_id),
    position: Number(row.sortorder),
    type: row.type,
    name: row.name,
    completionTracked: bool(row.completion_tracked),
    maxGrade: Number(row.max_grade),
    availability: row.availability === null ? null : parsedTree(row.availability),
    sectionId: row.section_id === null || row.section_id === undefined ? null : Number(row.section_id),
  };
}

/** A course's own fields, as a list shows them and `get` begins with. */
function courseSummary(row: CourseRow): CourseSummary {
  return {
    id: Number(row.id),
    shortname: row.shortname,
    fullname: row.fullname,
    summary: row.summary,
    visible: bool(row.visible),
    startDate: iso(row.start_date),
    score: Number(row.score),
    createdAt: iso(row.created_at)!,
  };
}

function sectionView(row: SectionRow): SectionView {
  return {
    id: Number(row.id),
    courseId: Number(row.course_id),
    position: Number(row.sortorder),
    name: row.name,
    availability: row.availability === null ? null : parsedTree(row.availability),
  };
}

/** Parsed restriction trees by their stored JSON: a course page reads every tree of its course on each request. */
const parsedTrees = new Map<string, unknown>();
const PARSED_TREE_LIMIT = 20_000;

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value as object)) deepFreeze(child);
  }
  return value;
}

/**
 * The tree stored as `json`, parsed once and shared (frozen, so no reader can change another's
 * copy). Keyed by the text itself, so a changed tree is simply a new entry; the cache is emptied
 * when it reaches its bound.
 */
function parsedTree(json: string): unknown {
  let tree = parsedTrees.get(json);
  if (tree === undefined) {
    if (parsedTrees.size >= PARSED_TREE_LIMIT) parsedTrees.clear();
    tree = deepFreeze(JSON.parse(json) as unknown);
    parsedTrees.set(json, tree);
  }
  return tree;
}

/** Criteria as stored; a course without a row uses `all_tracked`. */
export async function loadCriteria(executor: Executor, courseId: number): Promise<CompletionCriteria> {
  const row = await criteriaOfCourse(executor, courseId);
  if (!row || row.mode === 'all_tracked') return { mode: 'all_tracked' };
  if (row.mode === 'subset') return { mode: 'subset', activityIds: JSON.parse(row.activity_ids ?? '[]') as number[] };
  return { mode: 'min_grade', minGrade: Number(row.min_grade) };
}

function checkCriteria(criteria: CompletionCriteria, courseActivityIds: ReadonlySet<number> | null): ErrorDetail[] {
  const details: ErrorDetail[] = [];
  if (criteria.mode === 'subset') {
    if (!Array.isArray(criteria.activityIds) || !criteria.activityIds.length) {
      details.push({ path: 'completionCriteria.activityIds', code: 'REQUIRED', message: 'subset criteria need at least one activity id' });
    } else if (courseActivityIds) {
      criteria.activityIds.forEach((id, i) => {
        if (!courseActivityIds.has(id))
          details.push({ path: `completionCriteria.activityIds[${i}]`, code: 'ACTIVITY_NOT_IN_COURSE', message: `Activity ${id} is not part of this course` });
      });
    }
  } else if (criteria.mode === 'min_grade') {
    if (typeof criteria.minGrade !== 'number' || criteria.minGrade <= 0 || criteria.minGrade > 100) {
      details.push({ path: 'completionCriteria.minGrade', code: 'OUT_OF_RANGE', message: 'minGrade must be a percentage above 0 and at most 100' });
    }
  } else if (criteria.mode !== 'all_tracked') {
    details.push({ path: 'completionCriteria.mode', code: 'UNKNOWN_MODE', message: 'mode must be all_tracked, subset or min_grade' });
  }
  return details;
}

async function writeCriteria(trx: Knex.Transaction, courseId: number, criteria: CompletionCriteria, now: number): Promise<void> {
  await upsertCriteria(trx, {
    course_id: courseId,
    mode: criteria.mode,
    activity_ids: criteria.mode === 'subset' ? JSON.stringify(criteria.activityIds) : null,
    min_grade: criteria.mode === 'min_grade' ? criteria.minGrade : null,
    updated_at: now,
  });
}

export function createCoursesService(site: { db: Database; timezone: string; extensions: ExtensionRegistrar; logger: Logger }): CoursesService {
  const db = () => site.db;

  /** A section id given for an activity must be a section of the activity's course. */
  async function checkSection(executor: Executor, courseId: number, sectionId: number | null | undefined): Promise<ErrorDetail[]> {
    if (sectionId === undefined || sectionId === null) return [];
    const section = await sectionById(executor, sectionId);
    if (section && Number(section.course_id) === courseId) return [];
    return [{ path: 'sectionId', code: 'SECTION_NOT_IN_COURSE', message: `Section ${sectionId} is not a section of this course` }];
  }

  async function getSection(sectionId: number, executor: Executor = db().knex): Promise<SectionView> {
    const row = await sectionById(executor, sectionId);
    if (!row) throw notFound('Section', sectionId);
    return sectionView(row);
  }

  /** Problems of a tree about to be saved in `courseId` (none for null); 422 when nobody can check trees. */
  async function checkAvailability(executor: Executor, courseId: number, tree: unknown, selfId: number | null): Promise<ErrorDetail[]> {
    if (tree === undefined || tree === null) return [];
    const provider = site.extensions.list('activityAccess')[0]?.value;
    if (!provider) {
      return [
        {
          path: 'availability',
          code: 'RESTRICTIONS_UNAVAILABLE',
          message: 'No plugin evaluates restriction trees (enable restrict_access), so a tree cannot be saved',
        },
      ];
    }
    const activities = (await activitiesOfCourse(executor, courseId)).map(activityView);
    // An activity's conditions may not name the activity itself (its grade or completion would lock it forever).
    const course: RestrictedCourse = { id: courseId, activities: activities.filter((a) => a.id !== selfId) };
    return (await provider.check(tree, course)).map((d) => ({
      ...d,
      path: d.path ? `availability${d.path.startsWith('/') ? d.path : `/${d.path}`}` : 'availability',
    }));
  }

  async function get(courseId: number, executor: Executor = db().knex): Promise<CourseView> {
    const row = await courseById(executor, courseId);
    if (!row) throw notFound('Course', courseId);
    const [activities, sections] = await Promise.all([activitiesOfCourse(executor, courseId), sectionsOfCourse(executor, courseId)]);
    return {
      ...courseSummary(row),
      completionCriteria: await loadCriteria(executor, courseId),
      sections: sections.map(sectionView),
      activities: activities.map(activityView),
    };
  }

  async function getActivity(activityId: number, executor: Executor = db().knex): Promise<ActivityView> {
    const row = await activityById(executor, activityId);
    if (!row) throw notFound('Activity', activityId);
    return activityView(row);
  }

  return {
    get,

    async seenBy(userId, courseIds) {
      const seen = new Set<number>();
      for (let i = 0; i < courseIds.length; i += PAIR_BATCH) {
        for (const id of await coursesSeenBy(db().knex, userId, courseIds.slice(i, i + PAIR_BATCH))) seen.add(id);
      }
      return seen;
    },

    async list(filter, order, position) {
      const page = await coursePage(db().knex, filter, order, position);
      return {
        ...page,
        items: page.items.map(courseSummary),
      };
    },

    async copy(courseId, input) {
      const startDate =
        input.startDate === undefined
          ? undefined
          : input.startDate === null
            ? null
            : parseDateInput(input.startDate, { field: 'startDate', zone: site.timezone });
      const copied = await copyCourse(site, courseId, {
        shortname: input.shortname.trim(),
        fullname: input.fullname.trim(),
        visible: input.visible,
        startDate,
      });
      return { course: await get(copied.courseId), activityIds: copied.activityIds };
    },

    async copyWithin(trx, courseId, input) {
      return copyCourse(site, courseId, input, trx);
    },

    async setVisible(trx, courseId, visible) {
      await setCourseVisible(trx, courseId, visible, db().now());
    },

    async create(input) {
      const details: ErrorDetail[] = [];
      for (const field of ['shortname', 'fullname'] as const) {
        if (typeof input[field] !== 'string' || !input[field].trim())
          details.push({ path: field, code: 'REQUIRED', message: `${field} must be a non-empty string` });
      }
      if (input.score !== undefined && (!Number.isInteger(input.score) || input.score < 0 || input.score > MAX_COURSE_SCORE))
        details.push({ path: 'score', code: 'OUT_OF_RANGE', message: `score must be a whole number from 0 to ${MAX_COURSE_SCORE}` });
      let startDate: number | null = null;
      try {
        startDate = input.startDate ? parseDateInput(input.startDate, { field: 'startDate', zone: site.timezone }) : null;
      } catch (error) {
        if (!(error instanceof WaymarkError)) throw error;
        details.push(...error.details);
      }
      // Subset ids cannot exist before the course does: subset criteria are set afterwards.
      if (input.completionCriteria) details.push(...checkCriteria(input.completionCriteria, new Set()));
      if (details.length) throw invalid(`${details[0]!.path!.split('.')[0]!.toUpperCase()}_INVALID`, details[0]!.message, details);
      const now = db().now();
      const id = await db().transaction(async (trx) => {
        try {
          const courseId = await insertCourse(trx, {
            shortname: input.shortname.trim(),
            fullname: input.fullname.trim(),
            summary: input.summary ?? null,
            visible: input.visible ?? true,
            start_date: startDate,
            score: input.score ?? 0,
            created_at: now,
            updated_at: now,
          });
          if (input.completionCriteria) await writeCriteria(trx, courseId, input.completionCriteria, now);
          return courseId;
        } catch (error) {
          if (isUniqueViolation(error)) throw conflict('COURSE_SHORTNAME_TAKEN', `A course with shortname "${input.shortname}" already exists`);
          throw error;
        }
      });
      return get(id);
    },

    async update(courseId, patch) {
      const details: ErrorDetail[] = [];
      for (const field of ['shortname', 'fullname'] as const) {
        if (patch[field] !== undefined && (typeof patch[field] !== 'string' || !patch[field].trim()))
          details.push({ path: field, code: 'REQUIRED', message: `${field} must be a non-empty string` });
      }
      if (patch.score !== undefined && (!Number.isInteger(patch.score) || patch.score < 0 || patch.score > MAX_COURSE_SCORE))
        details.push({ path: 'score', code: 'OUT_OF_RANGE', message: `score must be a whole number from 0 to ${MAX_COURSE_SCORE}` });
      let startDate: number | null | undefined;
      try {
        startDate =
          patch.startDate === undefined ? undefined : patch.startDate ? parseDateInput(patch.startDate, { field: 'startDate', zone: site.timezone }) : null;
      } catch (error) {
        if (!(error instanceof WaymarkError)) throw error;
        details.push(...error.details);
      }
      if (details.length) throw invalid(`${details[0]!.path!.split('.')[0]!.toUpperCase()}_INVALID`, details[0]!.message, details);
      await db().transaction(async (trx) => {
        if (!(await courseExists(trx, courseId))) throw notFound('Course', courseId);
        try {
          await updateCourseRow(
            trx,
            courseId,
            {
              ...(patch.shortname !== undefined ? { shortname: patch.shortname.trim() } : {}),
              ...(patch.fullname !== undefined ? { fullname: patch.fullname.trim() } : {}),
              ...(patch.summary !== undefined ? { summary: patch.summary } : {}),
              ...(patch.visible !== undefined ? { visible: patch.visible } : {}),
              ...(startDate !== undefined ? { start_date: startDate } : {}),
              ...(patch.score !== undefined ? { score: patch.score } : {}),
            },
            db().now(),
          );
        } catch (error) {
          if (isUniqueViolation(error)) throw conflict('COURSE_SHORTNAME_TAKEN', `A course with shortname "${patch.shortname}" already exists`);
          throw error;
        }
      });
      return get(courseId);
    },

    async deleteActivity(activityId) {
      const existing = await activityById(db().knex, activityId);
      if (!existing) throw notFound('Activity', activityId);
      const courseId = Number(existing.course_id);
      // Which trees name the activity is the restriction provider's knowledge: a tree it would
      // rename when the activity is renamed names it.
      const provider = site.extensions.list('activityAccess')[0]?.value;
      const renamed = new Map([[activityId, -activityId]]);
      await db().transaction(async (trx) => {
        if (await activityHasLearnerData(trx, activityId))
          throw conflict('ACTIVITY_HAS_LEARNER_DATA', 'Learners have completions, grades or quiz attempts on this activity, so it cannot be deleted');
        const criteria = await loadCriteria(trx, courseId);
        if (criteria.mode === 'subset' && criteria.activityIds.includes(activityId))
          throw conflict('ACTIVITY_IN_CRITERIA', 'The course’s completion criteria name this activity: change the criteria first');
        if (provider?.remap) {
          const others = [...(await activitiesOfCourse(trx, courseId)).filter((a) => Number(a.id) !== activityId), ...(await sectionsOfCourse(trx, courseId))];
          const naming = others.find(
            (row) => row.availability !== null && JSON.stringify(provider.remap!(JSON.parse(row.availability), renamed)) !== row.availability,
          );
          if (naming) throw conflict('ACTIVITY_IN_RESTRICTION', `The restriction of “${naming.name}” names this activity: change that restriction first`);
        }
        await deleteActivityRow(trx, activityId);
        await touchCourse(trx, courseId, db().now());
      });
    },

    async moveSection(sectionId, direction) {
      await db().transaction(async (trx) => {
        const row = await sectionById(trx, sectionId);
        if (!row) throw notFound('Section', sectionId);
        const courseId = Number(row.course_id);
        await courseExists(trx, courseId, { forUpdate: db().dialect === 'mysql' });
        const all = await sectionsOfCourse(trx, courseId);
        const index = all.findIndex((s) => Number(s.id) === sectionId);
        const other = all[direction === 'up' ? index - 1 : index + 1];
        if (!other) return;
        const now = db().now();
        await swapSectionPositions(trx, all[index]!, other, now);
        await touchCourse(trx, courseId, now);
      });
      return getSection(sectionId);
    },

    async deleteSection(sectionId) {
      await db().transaction(async (trx) => {
        const row = await sectionById(trx, sectionId);
        if (!row) throw notFound('Section', sectionId);
        await deleteSectionRow(trx, sectionId);
        await touchCourse(trx, Number(row.course_id), db().now());
      });
    },

    async moveActivity(activityId, direction) {
      await db().transaction(async (trx) => {
        const row = await activityById(trx, activityId);
        if (!row) throw notFound('Activity', activityId);
        // Locks the course row on MySQL so two moves in one course cannot interleave their swaps.
        await courseExists(trx, Number(row.course_id), { forUpdate: db().dialect === 'mysql' });
        const all = await activitiesOfCourse(trx, Number(row.course_id));
        const index = all.findIndex((a) => Number(a.id) === activityId);
        const other = all[direction === 'up' ? index - 1 : index + 1];
        if (!other) return;
        await swapActivityPositions(trx, all[index]!, other);
        await touchCourse(trx, Number(row.course_id), db().now());
      });
      return getActivity(activityId);
    },

    async addActivity(courseId, input) {
      const details: ErrorDetail[] = [];
      if (!(ACTIVITY_TYPES as readonly string[]).includes(input.type)) {
        details.push({ path: 'type', code: 'UNKNOWN_ACTIVITY_TYPE', message: `type must be one of ${ACTIVITY_TYPES.join(', ')}` });
      }
      if (typeof input.name !== 'string' || !input.name.trim()) details.push({ path: 'name', code: 'REQUIRED', message: 'name must be a non-empty string' });
      if (input.maxGrade !== undefined && (typeof input.maxGrade !== 'number' || input.maxGrade < 0 || input.maxGrade > 99999999)) {
        details.push({ path: 'maxGrade', code: 'OUT_OF_RANGE', message: 'maxGrade must be 0 or more' });
      }
      // Checked before the transaction: a condition's check may read through other modules' services,
      // which must not wait for this transaction's connection (SQLite has one).
      const treeProblems = await checkAvailability(db().knex, courseId, input.availability, null);
      treeProblems.push(...(await checkSection(db().knex, courseId, input.sectionId)));
      const now = db().now();
      const activityId = await db().transaction(async (trx) => {
        // Existence first so an unknown course is a 404 even when the body is also wrong. On MySQL the
        // course row is locked so two concurrent additions cannot both take the same next position.
        if (!(await courseExists(trx, courseId, { forUpdate: db().dialect === 'mysql' }))) throw notFound('Course', courseId);
        details.push(...treeProblems);
        if (details.length) throw invalid(`${details[0]!.path!.split('/')[0]!.toUpperCase()}_INVALID`, details[0]!.message, details);
        const next = await lastActivityPosition(trx, courseId);
        const id = await insertActivity(trx, {
          course_id: courseId,
          sortorder: next === null ? 0 : Number(next) + 1,
          type: input.type,
          name: input.name.trim(),
          completion_tracked: input.completionTracked ?? false,
          max_grade: input.maxGrade ?? 0,
          availability: input.availability === undefined || input.availability === null ? null : JSON.stringify(input.availability),
          section_id: input.sectionId ?? null,
          created_at: now,
        });
        await touchCourse(trx, courseId, now);
        return id;
      });
      return getActivity(activityId);
    },

    getActivity,
    getSection,

    async addSection(courseId, input) {
      const details: ErrorDetail[] = [];
      if (typeof input.name !== 'string' || !input.name.trim()) details.push({ path: 'name', code: 'REQUIRED', message: 'name must be a non-empty string' });
      details.push(...(await checkAvailability(db().knex, courseId, input.availability, null)));
      const sectionId = await db().transaction(async (trx) => {
        if (!(await courseExists(trx, courseId, { forUpdate: db().dialect === 'mysql' }))) throw notFound('Course', courseId);
        if (details.length) throw invalid(`${details[0]!.path!.split('/')[0]!.toUpperCase()}_INVALID`, details[0]!.message, details);
        const now = db().now();
        const id = await insertSection(trx, {
          course_id: courseId,
          name: input.name.trim(),
          availability: input.availability === undefined || input.availability === null ? null : JSON.stringify(input.availability),
          now,
        });
        await touchCourse(trx, courseId, now);
        return id;
      });
      return getSection(sectionId);
    },

    async updateSection(sectionId, patch) {
      const existing = await sectionById(db().knex, sectionId);
      if (!existing) throw notFound('Section', sectionId);
      const details: ErrorDetail[] = [];
      if (patch.name !== undefined && (typeof patch.name !== 'string' || !patch.name.trim()))
        details.push({ path: 'name', code: 'REQUIRED', message: 'name must be a non-empty string' });
      details.push(...(await checkAvailability(db().knex, Number(existing.course_id), patch.availability, null)));
      if (details.length) throw invalid(`${details[0]!.path!.split('/')[0]!.toUpperCase()}_INVALID`, details[0]!.message, details);
      await db().transaction(async (trx) => {
        const now = db().now();
        await updateSectionRow(
          trx,
          sectionId,
          {
            ...(patch.name !== undefined ? { name: patch.name.trim() } : {}),
            ...(patch.availability !== undefined ? { availability: patch.availability === null ? null : JSON.stringify(patch.availability) } : {}),
          },
          now,
        );
        await touchCourse(trx, Number(existing.course_id), now);
      });
      return getSection(sectionId);
    },

    async updateActivity(activityId, patch) {
      const details: ErrorDetail[] = [];
      if (patch.name !== undefined && (typeof patch.name !== 'string' || !patch.name.trim()))
        details.push({ path: 'name', code: 'REQUIRED', message: 'name must be a non-empty string' });
      if (patch.maxGrade !== undefined && (typeof patch.maxGrade !== 'number' || patch.maxGrade < 0 || patch.maxGrade > 99999999)) {
        details.push({ path: 'maxGrade', code: 'OUT_OF_RANGE', message: 'maxGrade must be 0 or more' });
      }
      const existing = await activityById(db().knex, activityId);
      if (!existing) throw notFound('Activity', activityId);
      // Before the transaction, as in addActivity.
      details.push(...(await checkAvailability(db().knex, Number(existing.course_id), patch.availability, activityId)));
      details.push(...(await checkSection(db().knex, Number(existing.course_id), patch.sectionId)));
      await db().transaction(async (trx) => {
        const row = await activityById(trx, activityId);
        if (!row) throw notFound('Activity', activityId);
        if (details.length) throw invalid(`${details[0]!.path!.split('/')[0]!.toUpperCase()}_INVALID`, details[0]!.message, details);
        await updateActivityRow(trx, activityId, {
          ...(patch.name !== undefined ? { name: patch.name.trim() } : {}),
          ...(patch.completionTracked !== undefined ? { completion_tracked: patch.completionTracked } : {}),
          ...(patch.maxGrade !== undefined ? { max_grade: patch.maxGrade } : {}),
          ...(patch.availability !== undefined ? { availability: patch.availability === null ? null : JSON.stringify(patch.availability) } : {}),
          ...(patch.sectionId !== undefined ? { section_id: patch.sectionId } : {}),
        });
        await touchCourse(trx, Number(row.course_id), db().now());
      });
      return getActivity(activityId);
    },

    async accessOf(userId, course) {
      const restrictedSections = new Set((course.sections ?? []).filter((s) => s.availability !== null && s.availability !== undefined).map((s) => s.id));
      const restricted = course.activities.filter(
        (a) => (a.availability !== null && a.availability !== undefined) || (a.sectionId !== null && restrictedSections.has(a.sectionId)),
      );
      const access = new Map<number, ActivityAccess>();
      if (!restricted.length) return access;
      const provider = site.extensions.list('activityAccess')[0]?.value;
      if (provider) {
        try {
          return await provider.evaluate(userId, course);
        } catch (error) {
          site.logger.error('restriction evaluation failed; restricted activities stay locked', { courseId: course.id, userId, error: String(error) });
        }
      }
      // Fail closed: never open what a tree restricts because nothing could evaluate it.
      for (const a of restricted) access.set(a.id, ACCESS_UNCHECKABLE);
      return access;
    },

    async setCompletionCriteria(courseId, criteria) {
      await db().transaction(async (trx) => {
        if (!(await courseExists(trx, courseId))) throw notFound('Course', courseId);
        const activityIds = new Set(await activityIdsOfCourse(trx, courseId));
        const details = checkCriteria(criteria, activityIds);
        if (details.length) throw invalid('COMPLETIONCRITERIA_INVALID', details[0]!.message, details);
        await writeCriteria(trx, courseId, criteria, db().now());
      });
      return get(courseId);
    },
  };
}

function enrolmentView(row: EnrolmentRow): EnrolmentView {
  return {
    id: Number(row.id),
    userId: Number(row.user_id),
    courseId: Number(row.course_id),
    method: row.method,
    status: row.status,
    createdAt: iso(row.created_at)!,
    updatedAt: iso(row.updated_at)!,
  };
}

export function createEnrolmentsService(site: { db: Database }): EnrolmentsService {
  const db = () => site.db;
  const upsertActive = prepareUpsertActiveEnrolment(site.db);

  return {
    async enrol(userId, courseId, method, options = {}) {
      const status = options.status ?? 'active';
      return db().transaction(
        async (trx) => {
          const now = db().now();
          try {
            // The unique index decides, not a prior SELECT: two concurrent enrolments cannot both insert.
            await insertEnrolment(trx, { userId, courseId, method }, status, now);
          } catch (error) {
            if (isForeignKeyViolation(error)) throw notFound('User or course', `${userId}/${courseId}`);
            if (!isUniqueViolation(error)) throw error;
            await updateEnrolmentStatus(trx, { userId, courseId, method }, status, now, { onlyIfDifferent: true });
          }
          return enrolmentView((await enrolmentByKey(trx, { userId, courseId, method }))!);
        },
        { within: options.trx },
      );
    },

    async setStatus(userId, courseId, method, status, options = {}) {
      return db().transaction(
        async (trx) => {
          const updated = await updateEnrolmentStatus(trx, { userId, courseId, method }, status, db().now());
          if (!updated) throw notFound('Enrolment', `${userId}/${courseId}/${method}`);
          return enrolmentView((await enrolmentByKey(trx, { userId, courseId, method }))!);
        },
        { within: options.trx },
      );
    },

    async unenrol(userId, courseId, method, options = {}) {
      return db().transaction(async (trx) => (await deleteEnrolment(trx, { userId, courseId, method })) > 0, {
        within: options.trx,
      });
    },

    async list(filter) {
      return (await listEnrolments(db().knex, filter)).map(enrolmentView);
    },

    async ensureActive(userId, courseId, method) {
      for (let attempt = 0; ; attempt++) {
        try {
          const now = db().now();
          await upsertActive.run([userId, courseId, method, now, now]);
          return;
        } catch (error) {
          // InnoDB may report a deadlock between concurrent upserts of one key; the statement is idempotent, so run it again.
          if (attempt >= 5 || !isRetryableConflict(error)) throw error;
          await new Promise((resolve) => setTimeout(resolve, 5 * 2 ** attempt));
        }
      }
    },

    async changeMany(trx, method, action, pairs) {
      let changed = 0;
      for (let i = 0; i < pairs.length; i += PAIR_BATCH) {
        changed += await changeEnrolmentBatch(trx, method, action, pairs.slice(i, i + PAIR_BATCH), db().now());
      }
      return changed;
    },

    async anyOf(executor, method, status, userIds) {
      if (!userIds.length) return false;
      return anyEnrolmentOf(executor, method, status, userIds);
    },

    async isEnrolled(userId, courseId, executor = db().knex) {
      return hasActiveEnrolment(executor, userId, courseId);
    },
  };
}
