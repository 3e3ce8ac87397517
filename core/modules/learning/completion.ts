import type { Knex } from 'knex';
import type { IdentityProvider } from '../../kernel/features/kernel-services';
import type { Database } from '../../kernel/db/database';
import type { PluginHooks } from '../../kernel/hooks/bus';
import { isUniqueViolation } from '../../kernel/db/database';
import { invalid, notFound } from '../../kernel/errors';
import { loadCriteria } from './courses';
import { isForeignKeyViolation } from '../../kernel/db/sql';
import { activityTracking, courseExists, type ActivityTrackingRow } from './store/courses';
import {
  activityCompletionTime,
  activityProgress,
  courseCompletionOf,
  insertActivityCompletion,
  insertCourseCompletion,
  insertCourseCompletionHistory,
  updateCourseCompletion,
  deleteCourseCompletion,
  upsertGrade,
  userExists,
  type CourseCompletionSource,
} from './store/completions';

export type { CourseCompletionSource };

export interface RecordOptions {
  /** Run inside the caller's transaction (everything commits or rolls back together). */
  trx?: Knex.Transaction;
}

export interface CourseCompletionResult {
  userId: number;
  courseId: number;
  /** False when the learner had already completed the course (nothing fired). */
  created: boolean;
  /** The completion time now on record (the earliest one seen). */
  completedAt: number;
  source: CourseCompletionSource;
  /** Course sets and programs that newly completed because of this call. */
  events: DependentCompletion[];
}

export interface ActivityCompletionResult {
  userId: number;
  activityId: number;
  created: boolean;
  completedAt: number;
  /** Set when this recording (or an earlier one) completed the course. */
  course: CourseCompletionResult | null;
}

export interface GradeResult {
  userId: number;
  activityId: number;
  grade: number;
  gradedAt: number;
  activity: ActivityCompletionResult | null;
  course: CourseCompletionResult | null;
}

/** A course set or program that a course completion completed (reported by the programs module). */
export type DependentCompletion =
  | { kind: 'course_set'; userId: number; programId: number; courseSetId: number; completedAt: number }
  | { kind: 'program'; userId: number; programId: number; completedAt: number };

/**
 * What follows a course completion in the completing transaction: the programs module recalculates
 * the learner's programs and reports what newly completed (the API answers with it), then announces
 * those completions after the course's own hooks have run. A port, not a hook, because it returns.
 */
export interface CourseCompletionFollowUp {
  recalculate(trx: Knex.Transaction, userId: number, courseId: number): Promise<DependentCompletion[]>;
  announce(trx: Knex.Transaction, completions: DependentCompletion[]): Promise<void>;
}

export interface CompletionService {
  /** Plugs in what follows every course completion (one follow-up: the programs module's). */
  followCourseCompletions(followUp: CourseCompletionFollowUp): void;
  /** Marks a tracked activity complete and recomputes the course (and programs) in one transaction. */
  recordActivityCompletion(activityId: number, userId: number, options?: RecordOptions & { completedAt?: number }): Promise<ActivityCompletionResult>;
  /** Records (or replaces) a grade; a grade on a tracked activity completes it. */
  recordGrade(activityId: number, userId: number, grade: number, options?: RecordOptions): Promise<GradeResult>;
  /**
   * Records a course completion (external, imported or computed) and recalculates every program
   * containing the course for this learner in the same transaction, then fires the hooks.
   * Idempotent: an already complete course keeps its earliest completion time and fires nothing.
   */
  recordCourseCompletion(
    courseId: number,
    userId: number,
    options?: RecordOptions & { completedAt?: number; source?: CourseCompletionSource },
  ): Promise<CourseCompletionResult>;
  /**
   * Removes the learner's course completion (an operator's reset): the record goes to history with
   * action `removed`, and `onAssignmentChange` (`course_completion_removed`) runs in the same
   * transaction, so "completed course" audiences and what they assign follow at once. Activity
   * completions and grades stay. `removed` is false (and nothing fires) when there was none.
   */
  removeCourseCompletion(courseId: number, userId: number, options?: RecordOptions): Promise<{ removed: boolean; completedAt: number | null }>;
  /** The learner's course completion time, or null. */
  courseCompletion(courseId: number, userId: number): Promise<{ completedAt: number; source: CourseCompletionSource } | null>;
}

export interface CompletionDeps {
  db: Database;
  hooks: PluginHooks;
  identity: Pick<IdentityProvider, 'lockLearners' | 'usersView'>;
}

export function createCompletionService(site: CompletionDeps): CompletionService {
  const db = () => site.db;
  // Until the programs module plugs in, a course completion completes nothing else.
  let followUp: CourseCompletionFollowUp = { recalculate: async () => [], announce: async () => undefined };

  async function loadActivity(trx: Knex.Transaction, activityId: number): Promise<ActivityTrackingRow> {
    const activity = await activityTracking(trx, activityId);
    if (!activity) throw notFound('Activity', activityId);
    return activity;
  }

  async function assertUser(trx: Knex.Transaction, userId: number): Promise<void> {
    if (!(await userExists(trx, site.identity.usersView, userId))) throw notFound('User', userId);
  }

  /**
   * The course's completion time from its activities under its criteria, or null if not met.
   * The time is computed, not "now": the latest of the required activity completions, or for
   * min_grade the latest grade time, so it does not depend on the order things were recorded.
   */
  async function courseCompletionFromActivities(trx: Knex.Transaction, courseId: number, userId: number): Promise<number | null> {
    const criteria = await loadCriteria(trx, courseId);
    const rows = await activityProgress(trx, courseId, userId);
    if (criteria.mode === 'min_grade') {
      let max = 0;
      let got = 0;
      let latest: number | null = null;
      for (const row of rows) {
        if (Number(row.max_grade) <= 0) continue;
        max += Number(row.max_grade);
        if (row.grade !== null) {
          got += Number(row.grade);
          latest = Math.max(latest ?? 0, Number(row.graded_at));
        }
      }
      return max > 0 && latest !== null && (got / max) * 100 >= criteria.minGrade ? latest : null;
    }
    const required =
      criteria.mode === 'subset'
        ? rows.filter((r) => criteria.activityIds.includes(Number(r.id)))
        : rows.filter((r) => r.completion_tracked === 1 || r.completion_tracked === true);
    if (!required.length || required.some((r) => r.completed_at === null)) return null;
    return Math.max(...required.map((r) => Number(r.completed_at)));
  }

  async function recordCourseCompletion(
    courseId: number,
    userId: number,
    options: RecordOptions & { completedAt?: number; source?: CourseCompletionSource } = {},
  ): Promise<CourseCompletionResult> {
    const source = options.source ?? 'api';
    const now = db().now();
    const completedAt = options.completedAt ?? now;
    if (!Number.isFinite(completedAt) || completedAt < 0)
      throw invalid('COMPLETEDAT_INVALID', 'completedAt must be a valid time', [
        { path: 'completedAt', code: 'INVALID_DATE', message: 'completedAt must be a valid time' },
      ]);
    return db().transaction(
      async (trx) => {
        await site.identity.lockLearners(trx, [userId]);
        try {
          await insertCourseCompletion(trx, { userId, courseId, completedAt, source, createdAt: now });
        } catch (error) {
          if (isForeignKeyViolation(error)) {
            throw (await courseExists(trx, courseId)) ? notFound('User', userId) : notFound('Course', courseId);
          }
          if (!isUniqueViolation(error)) throw error;
          return existingCompletion(trx, courseId, userId, completedAt, source, now);
        }
        const events = await followUp.recalculate(trx, userId, courseId);
        const completion = { userId, completedAt, subject: { type: 'course' as const, courseId } };
        await site.hooks.within('onCompletion', trx, completion);
        await site.hooks.within('onAssignmentChange', trx, { change: { type: 'course_completion', userId, courseId, completedAt } });
        await site.hooks.publish('afterCompletion', trx, { completions: [completion] });
        await followUp.announce(trx, events);
        return { userId, courseId, created: true, completedAt, source, events };
      },
      { within: options.trx },
    );
  }

  /**
   * Already complete: keep the earliest time. A backdated record moves the completion earlier
   * (the superseded row goes to history) and re-derives program times; nothing newly completes,
   * so no hooks fire.
   */
  async function existingCompletion(
    trx: Knex.Transaction,
    courseId: number,
    userId: number,
    completedAt: number,
    source: CourseCompletionSource,
    now: number,
  ): Promise<CourseCompletionResult> {
    const row = await courseCompletionOf(trx, userId, courseId);
    const stored = Number(row!.completed_at);
    if (completedAt >= stored) return { userId, courseId, created: false, completedAt: stored, source: row!.source, events: [] };
    await insertCourseCompletionHistory(trx, { userId, courseId, completedAt: stored, source: row!.source, action: 'backdated', recordedAt: now });
    await updateCourseCompletion(trx, userId, courseId, completedAt, source);
    const events = await followUp.recalculate(trx, userId, courseId);
    return { userId, courseId, created: false, completedAt, source, events };
  }

  async function completeActivity(
    trx: Knex.Transaction,
    activity: ActivityTrackingRow,
    userId: number,
    completedAt: number,
  ): Promise<ActivityCompletionResult> {
    let created = true;
    try {
      await insertActivityCompletion(trx, userId, activity.id, completedAt);
    } catch (error) {
      if (isForeignKeyViolation(error)) throw notFound('User', userId);
      if (!isUniqueViolation(error)) throw error;
      created = false;
    }
    if (!created) {
      const earlier = await activityCompletionTime(trx, userId, activity.id);
      return { userId, activityId: Number(activity.id), created, completedAt: Number(earlier!), course: null };
    }
    const course = await recomputeCourse(trx, Number(activity.course_id), userId);
    return { userId, activityId: Number(activity.id), created, completedAt, course };
  }

  async function recomputeCourse(trx: Knex.Transaction, courseId: number, userId: number): Promise<CourseCompletionResult | null> {
    const at = await courseCompletionFromActivities(trx, courseId, userId);
    if (at === null) return null;
    return recordCourseCompletion(courseId, userId, { trx, completedAt: at, source: 'activity' });
  }

  return {
    followCourseCompletions(next) {
      followUp = next;
    },
    recordCourseCompletion,

    async recordActivityCompletion(activityId, userId, options = {}) {
      return db().transaction(
        async (trx) => {
          await site.identity.lockLearners(trx, [userId]);
          const activity = await loadActivity(trx, activityId);
          if (!(activity.completion_tracked === 1 || activity.completion_tracked === true)) {
            throw invalid('ACTIVITY_NOT_TRACKED', `Activity ${activityId} does not track completion`, [
              { path: 'activityId', code: 'ACTIVITY_NOT_TRACKED', message: 'Completion tracking is off for this activity' },
            ]);
          }
          await assertUser(trx, userId);
          return completeActivity(trx, activity, userId, options.completedAt ?? db().now());
        },
        { within: options.trx },
      );
    },

    async recordGrade(activityId, userId, grade, options = {}) {
      return db().transaction(
        async (trx) => {
          await site.identity.lockLearners(trx, [userId]);
          const activity = await loadActivity(trx, activityId);
          const max = Number(activity.max_grade);
          if (max <= 0)
            throw invalid('ACTIVITY_NOT_GRADED', `Activity ${activityId} has no maximum grade`, [
              { path: 'activityId', code: 'ACTIVITY_NOT_GRADED', message: 'This activity is not graded' },
            ]);
          if (typeof grade !== 'number' || !Number.isFinite(grade) || grade < 0 || grade > max) {
            throw invalid('GRADE_INVALID', `grade must be between 0 and ${max}`, [
              { path: 'grade', code: 'OUT_OF_RANGE', message: `grade must be between 0 and ${max}` },
            ]);
          }
          await assertUser(trx, userId);
          const now = db().now();
          await upsertGrade(trx, userId, activityId, grade, now);
          const tracked = activity.completion_tracked === 1 || activity.completion_tracked === true;
          const activityResult = tracked ? await completeActivity(trx, activity, userId, now) : null;
          // A grade can complete a min_grade course even when the activity completion was not new.
          const course = activityResult?.course ?? (await recomputeCourse(trx, Number(activity.course_id), userId));
          return { userId, activityId, grade, gradedAt: now, activity: activityResult, course };
        },
        { within: options.trx },
      );
    },

    async removeCourseCompletion(courseId, userId, options = {}) {
      return db().transaction(
        async (trx) => {
          await site.identity.lockLearners(trx, [userId]);
          if (!(await courseExists(trx, courseId))) throw notFound('Course', courseId);
          const row = await courseCompletionOf(trx, userId, courseId);
          if (!row) return { removed: false, completedAt: null };
          const completedAt = Number(row.completed_at);
          await deleteCourseCompletion(trx, userId, courseId);
          await insertCourseCompletionHistory(trx, { userId, courseId, completedAt, source: row.source, action: 'removed', recordedAt: db().now() });
          await site.hooks.within('onAssignmentChange', trx, { change: { type: 'course_completion_removed', userId, courseId, completedAt } });
          return { removed: true, completedAt };
        },
        { within: options.trx },
      );
    },

    async courseCompletion(courseId, userId) {
      const row = await courseCompletionOf(db().knex, userId, courseId);
      return row ? { completedAt: Number(row.completed_at), source: row.source } : null;
    },
  };
}
