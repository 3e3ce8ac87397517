import type { EventHook, GuardHook, WithinHook } from './hook-map';

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
}

/** A change to something assignment sources may depend on, with old and new values. */
export type AssignmentChange =
  | { type: 'job_assignment'; userId: number; jobAssignmentId: number; old: JobAssignmentSnapshot | null; new: JobAssignmentSnapshot | null }
  | { type: 'audience_membership'; userId: number; audienceId: number; member: boolean }
  | { type: 'profile_field'; userId: number; field: string; old: unknown; new: unknown }
  | { type: 'user'; userId: number; field: 'suspended' | 'deleted' | 'first_login' | 'created' | 'lang' | 'timezone'; old: unknown; new: unknown }
  | { type: 'course_completion'; userId: number; courseId: number; completedAt: number }
  | { type: 'program_completion'; userId: number; programId: number; completedAt: number };

export interface JobAssignmentSnapshot {
  positionId: number | null;
  organisationId: number | null;
  managerJobAssignmentId: number | null;
  startDate: number | null;
  positionAssignedDate: number | null;
}

/**
 * True when a job-assignment event's old and new snapshots are equal: the assignment itself did not
 * change, something above it did (a hierarchy subtree or a management chain moved), so sources with
 * "and all below" rules must recheck the user.
 */
export function isAncestryOnlyChange(change: { old: JobAssignmentSnapshot | null; new: JobAssignmentSnapshot | null }): boolean {
  const a = change.old;
  const b = change.new;
  return (
    a !== null &&
    b !== null &&
    a.positionId === b.positionId &&
    a.organisationId === b.organisationId &&
    a.managerJobAssignmentId === b.managerJobAssignmentId &&
    a.startDate === b.startDate &&
    a.positionAssignedDate === b.positionAssignedDate
  );
}

/** `onAssignmentChange` (within): handlers get the writing transaction as their second argument. */
export interface AssignmentChangeArgs {
  change: AssignmentChange;
}

/** One completion: `onCompletion` (within) gets one; `afterCompletion` (event) carries a list. */
export interface CompletionArgs {
  userId: number;
  completedAt: number;
  subject: { type: 'course'; courseId: number } | { type: 'course_set'; programId: number; courseSetId: number } | { type: 'program'; programId: number };
}

/** Completions recorded in one transaction (`afterCompletion`). */
export interface CompletionsArgs {
  completions: CompletionArgs[];
}

/** Learners (de)assigned to one program in one batch: a sync batch is one call, not one per learner. */
export interface ProgramAssignmentArgs {
  programId: number;
  userIds: number[];
}

export type ExceptionType = 'already_assigned' | 'completion_time_unknown' | 'time_allowance';

/** One raised exception (`onExceptionRaised`, within). */
export interface ExceptionRaisedArgs {
  programId: number;
  userId: number;
  exceptionId: number;
  type: ExceptionType;
}

/** The exceptions one sync batch raised in one program (`afterExceptionRaised`, event). */
export interface ExceptionsRaisedArgs {
  programId: number;
  exceptions: Array<{ userId: number; exceptionId: number; type: ExceptionType }>;
}

/**
 * `onX` hooks run `within` the writing transaction (their handlers' writes commit or roll back with
 * the change); `afterX` hooks are their `event` twins, delivered after commit through the outbox,
 * for anything with an outside effect (notifications, webhooks).
 */
declare module './hook-map' {
  interface HookMap {
    onCourseLaunch: GuardHook<CourseLaunchArgs>;
    onAssignmentChange: WithinHook<AssignmentChangeArgs>;
    onCompletion: WithinHook<CompletionArgs>;
    onProgramAssigned: WithinHook<ProgramAssignmentArgs>;
    onProgramUnassigned: WithinHook<ProgramAssignmentArgs>;
    onExceptionRaised: WithinHook<ExceptionRaisedArgs>;
    afterCompletion: EventHook<CompletionsArgs>;
    afterProgramAssigned: EventHook<ProgramAssignmentArgs>;
    afterProgramUnassigned: EventHook<ProgramAssignmentArgs>;
    afterExceptionRaised: EventHook<ExceptionsRaisedArgs>;
  }
}

/** Core hook kinds, declared on every bus so a wrong runner fails at runtime as well as compile time. */
export const CORE_HOOK_KINDS = {
  onCourseLaunch: 'guard',
  onAssignmentChange: 'within',
  onCompletion: 'within',
  onProgramAssigned: 'within',
  onProgramUnassigned: 'within',
  onExceptionRaised: 'within',
  afterCompletion: 'event',
  afterProgramAssigned: 'event',
  afterProgramUnassigned: 'event',
  afterExceptionRaised: 'event',
} as const;
