import type { Knex } from 'knex';
import { isRetryableConflict, isUniqueViolation, type Database, type Dialect, type Executor } from '../../kernel/db/database';
import { prepareStatement } from '../../kernel/db/statements';
import { conflict, invalid, notFound, type ErrorDetail } from '../../kernel/errors';
import { affectedRows, bool, iso, isForeignKeyViolation, placeholders, queryRows } from '../../kernel/db/sql';

/** Activity types core knows; plugins may add more in a later issue. */
export const ACTIVITY_TYPES = ['resource', 'page', 'url', 'quiz'] as const;

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
  /** Restriction tree (DOMAIN 8); stored as given until restricted access is built. */
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
  get(courseId: number, executor?: Executor): Promise<CourseView>;
  addActivity(courseId: number, input: ActivityInput): Promise<ActivityView>;
  getActivity(activityId: number, executor?: Executor): Promise<ActivityView>;
  /** Replaces the course's completion criteria (subset ids must be activities of the course). */
  setCompletionCriteria(courseId: number, criteria: CompletionCriteria): Promise<CourseView>;
}

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

function upsertActiveSql(dialect: Dialect): string {
  // One statement, no prior SELECT: the (user_id, course_id, method) unique index makes a
  // concurrent second insert a no-op, and the conflict branch reactivates a suspended enrolment.
  return dialect === 'mysql'
    ? `INSERT INTO enrolments (user_id, course_id, method, status, created_at, updated_at) VALUES (?, ?, ?, 'active', ?, ?)
       ON DUPLICATE KEY UPDATE updated_at = IF(status = 'active', updated_at, VALUES(updated_at)), status = 'active'`
    : `INSERT INTO enrolments (user_id, course_id, method, status, created_at, updated_at) VALUES (?, ?, ?, 'active', ?, ?)
       ON CONFLICT (user_id, course_id, method) DO UPDATE SET status = 'active', updated_at = excluded.updated_at WHERE enrolments.status <> 'active'`;
}

interface ActivityRow {
  id: number;
  course_id: number;
  sortorder: number;
  type: string;
  name: string;
  completion_tracked: number | boolean;
  max_grade: number | string;
  availability: string | null;
}

function activityView(row: ActivityRow): ActivityView {
  return {
    id: Number(row.id),
    courseId: Number(row.course_id),
    position: Number(row.sortorder),
    type: row.type,
    name: row.name,
    completionTracked: bool(row.completion_tracked),
    maxGrade: Number(row.max_grade),
    availability: row.availability === null ? null : (JSON.parse(row.availability) as unknown),
  };
}

/** Criteria as stored; a course without a row uses `all_tracked`. */
export async function loadCriteria(executor: Executor, courseId: number): Promise<CompletionCriteria> {
  const rows = await queryRows<{ mode: string; activity_ids: string | null; min_grade: number | string | null }>(
    executor,
    'SELECT mode, activity_ids, min_grade FROM course_completion_criteria WHERE course_id = ?',
    [courseId],
  );
  const row = rows[0];
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
  const row = {
    course_id: courseId,
    mode: criteria.mode,
    activity_ids: criteria.mode === 'subset' ? JSON.stringify(criteria.activityIds) : null,
    min_grade: criteria.mode === 'min_grade' ? criteria.minGrade : null,
    updated_at: now,
  };
  await trx('course_completion_criteria').insert(row).onConflict('course_id').merge(['mode', 'activity_ids', 'min_grade', 'updated_at']);
}

export function createCoursesService(site: { db: Database }): CoursesService {
  const db = () => site.db;

  async function get(courseId: number, executor: Executor = db().knex): Promise<CourseView> {
    const rows = await queryRows<{
      id: number;
      shortname: string;
      fullname: string;
      summary: string | null;
      visible: number | boolean;
      start_date: number | null;
      score: number;
      created_at: number;
    }>(executor, 'SELECT id, shortname, fullname, summary, visible, start_date, score, created_at FROM courses WHERE id = ?', [courseId]);
    const row = rows[0];
    if (!row) throw notFound('Course', courseId);
    const activities = await queryRows<ActivityRow>(executor, 'SELECT * FROM activities WHERE course_id = ? ORDER BY sortorder', [courseId]);
    return {
      id: Number(row.id),
      shortname: row.shortname,
      fullname: row.fullname,
      summary: row.summary,
      visible: bool(row.visible),
      startDate: iso(row.start_date),
      score: Number(row.score),
      completionCriteria: await loadCriteria(executor, courseId),
      activities: activities.map(activityView),
      createdAt: iso(row.created_at)!,
    };
  }

  async function getActivity(activityId: number, executor: Executor = db().knex): Promise<ActivityView> {
    const rows = await queryRows<ActivityRow>(executor, 'SELECT * FROM activities WHERE id = ?', [activityId]);
    if (!rows.length) throw notFound('Activity', activityId);
    return activityView(rows[0]!);
  }

  return {
    get,

    async create(input) {
      const details: ErrorDetail[] = [];
      for (const field of ['shortname', 'fullname'] as const) {
        if (typeof input[field] !== 'string' || !input[field].trim())
          details.push({ path: field, code: 'REQUIRED', message: `${field} must be a non-empty string` });
      }
      if (input.score !== undefined && (!Number.isInteger(input.score) || input.score < 0))
        details.push({ path: 'score', code: 'OUT_OF_RANGE', message: 'score must be a whole number of 0 or more' });
      const startDate = input.startDate ? Date.parse(input.startDate) : null;
      if (startDate !== null && Number.isNaN(startDate))
        details.push({ path: 'startDate', code: 'INVALID_DATE', message: 'startDate must be an ISO-8601 date-time' });
      // Subset ids cannot exist before the course does: subset criteria are set afterwards.
      if (input.completionCriteria) details.push(...checkCriteria(input.completionCriteria, new Set()));
      if (details.length) throw invalid(`${details[0]!.path!.split('.')[0]!.toUpperCase()}_INVALID`, details[0]!.message, details);
      const now = db().now();
      const id = await db().transaction(async (trx) => {
        try {
          const [courseId] = (await trx('courses').insert({
            shortname: input.shortname.trim(),
            fullname: input.fullname.trim(),
            summary: input.summary ?? null,
            visible: input.visible ?? true,
            start_date: startDate,
            score: input.score ?? 0,
            created_at: now,
            updated_at: now,
          })) as [number];
          if (input.completionCriteria) await writeCriteria(trx, courseId, input.completionCriteria, now);
          return courseId;
        } catch (error) {
          if (isUniqueViolation(error)) throw conflict('COURSE_SHORTNAME_TAKEN', `A course with shortname "${input.shortname}" already exists`);
          throw error;
        }
      });
      return get(id);
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
      const now = db().now();
      const activityId = await db().transaction(async (trx) => {
        // Existence first so an unknown course is a 404 even when the body is also wrong. On MySQL the
        // course row is locked so two concurrent additions cannot both take the same next position.
        const lock = db().dialect === 'mysql' ? ' FOR UPDATE' : '';
        const course = await queryRows<{ id: number }>(trx, `SELECT id FROM courses WHERE id = ?${lock}`, [courseId]);
        if (!course.length) throw notFound('Course', courseId);
        if (details.length) throw invalid(`${details[0]!.path!.toUpperCase()}_INVALID`, details[0]!.message, details);
        const [{ next }] = (await queryRows<{ next: number | null }>(trx, 'SELECT MAX(sortorder) AS next FROM activities WHERE course_id = ?', [courseId])) as [
          { next: number | null },
        ];
        const [id] = (await trx('activities').insert({
          course_id: courseId,
          sortorder: next === null ? 0 : Number(next) + 1,
          type: input.type,
          name: input.name.trim(),
          completion_tracked: input.completionTracked ?? false,
          max_grade: input.maxGrade ?? 0,
          availability: input.availability === undefined || input.availability === null ? null : JSON.stringify(input.availability),
          created_at: now,
        })) as [number];
        await trx('courses').where({ id: courseId }).update({ updated_at: now });
        return id;
      });
      return getActivity(activityId);
    },

    getActivity,

    async setCompletionCriteria(courseId, criteria) {
      await db().transaction(async (trx) => {
        const course = await queryRows<{ id: number }>(trx, 'SELECT id FROM courses WHERE id = ?', [courseId]);
        if (!course.length) throw notFound('Course', courseId);
        const activityIds = new Set(
          (await queryRows<{ id: number }>(trx, 'SELECT id FROM activities WHERE course_id = ?', [courseId])).map((r) => Number(r.id)),
        );
        const details = checkCriteria(criteria, activityIds);
        if (details.length) throw invalid('COMPLETIONCRITERIA_INVALID', details[0]!.message, details);
        await writeCriteria(trx, courseId, criteria, db().now());
      });
      return get(courseId);
    },
  };
}

interface EnrolmentRow {
  id: number;
  user_id: number;
  course_id: number;
  method: string;
  status: 'active' | 'suspended';
  created_at: number;
  updated_at: number;
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
  const upsertActive = prepareStatement(site.db, upsertActiveSql(site.db.dialect));
  const find = async (executor: Executor, userId: number, courseId: number, method: string): Promise<EnrolmentRow | undefined> =>
    (await queryRows<EnrolmentRow>(executor, 'SELECT * FROM enrolments WHERE user_id = ? AND course_id = ? AND method = ?', [userId, courseId, method]))[0];

  return {
    async enrol(userId, courseId, method, options = {}) {
      const status = options.status ?? 'active';
      return db().transaction(
        async (trx) => {
          const now = db().now();
          try {
            // The unique index decides, not a prior SELECT: two concurrent enrolments cannot both insert.
            await trx('enrolments').insert({ user_id: userId, course_id: courseId, method, status, created_at: now, updated_at: now });
          } catch (error) {
            if (isForeignKeyViolation(error)) throw notFound('User or course', `${userId}/${courseId}`);
            if (!isUniqueViolation(error)) throw error;
            await trx('enrolments').where({ user_id: userId, course_id: courseId, method }).whereNot({ status }).update({ status, updated_at: now });
          }
          return enrolmentView((await find(trx, userId, courseId, method))!);
        },
        { within: options.trx },
      );
    },

    async setStatus(userId, courseId, method, status, options = {}) {
      return db().transaction(
        async (trx) => {
          const updated = await trx('enrolments').where({ user_id: userId, course_id: courseId, method }).update({ status, updated_at: db().now() });
          if (!updated) throw notFound('Enrolment', `${userId}/${courseId}/${method}`);
          return enrolmentView((await find(trx, userId, courseId, method))!);
        },
        { within: options.trx },
      );
    },

    async unenrol(userId, courseId, method, options = {}) {
      return db().transaction(async (trx) => (await trx('enrolments').where({ user_id: userId, course_id: courseId, method }).delete()) > 0, {
        within: options.trx,
      });
    },

    async list(filter) {
      const query = db().knex<EnrolmentRow>('enrolments').select('*').orderBy('id');
      if (filter.userId !== undefined) query.where('user_id', filter.userId);
      if (filter.courseId !== undefined) query.where('course_id', filter.courseId);
      return (await query).map(enrolmentView);
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
        const batch = pairs.slice(i, i + PAIR_BATCH);
        const match = batch.map(() => '(user_id = ? AND course_id = ?)').join(' OR ');
        const keys = batch.flatMap((p) => [p.userId, p.courseId]);
        const now = db().now();
        const result =
          action === 'unenrol'
            ? await trx.raw(`DELETE FROM enrolments WHERE method = ? AND (${match})`, [method, ...keys])
            : await trx.raw(`UPDATE enrolments SET status = ?, updated_at = ? WHERE method = ? AND status = ? AND (${match})`, [
                action === 'suspend' ? 'suspended' : 'active',
                now,
                method,
                action === 'suspend' ? 'active' : 'suspended',
                ...keys,
              ]);
        changed += affectedRows(result);
      }
      return changed;
    },

    async anyOf(executor, method, status, userIds) {
      if (!userIds.length) return false;
      const found = await queryRows<{ one: number }>(
        executor,
        `SELECT 1 AS one FROM enrolments WHERE user_id IN (${placeholders(userIds.length)}) AND method = ? AND status = ? LIMIT 1`,
        [...userIds, method, status],
      );
      return found.length > 0;
    },

    async isEnrolled(userId, courseId, executor = db().knex) {
      const rows = await queryRows<{ one: number }>(
        executor,
        "SELECT 1 AS one FROM enrolments WHERE user_id = ? AND course_id = ? AND status = 'active' LIMIT 1",
        [userId, courseId],
      );
      return rows.length > 0;
    },
  };
}
