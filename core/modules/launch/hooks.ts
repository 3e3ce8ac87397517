import type { GuardHook } from '../../kernel/hooks/hook-map';

/** Asked before a learner enters a course (launch page, course page, activity page). */
export interface CourseLaunchArgs {
  userId: number;
  courseId: number;
  /** True for the operator's "why can't this learner open this course?" page: guards must not write. */
  dryRun?: boolean;
  /**
   * The learner's active enrolment in the course, when the caller has just read it (the launch fast
   * path reads it with the session), so guards need not ask the database again. Absent: unknown.
   */
  enrolled?: boolean;
  /**
   * Whether the course is visible, when the caller has just read it (the fast path reads it in the
   * same statement). Absent: unknown, and the core guard asks when it matters.
   */
  visible?: boolean;
}

declare module '../../kernel/hooks/hook-map' {
  interface HookMap {
    onCourseLaunch: GuardHook<CourseLaunchArgs>;
  }
}

/** The hooks this module runs, with their kinds (declared on the bus at registration). */
export const launchHooks = { onCourseLaunch: 'guard' } as const;
