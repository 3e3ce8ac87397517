import type { WithinHook } from '../../kernel/hooks/hook-map';

/** A change to something assignment sources may depend on, with old and new values. */
export type AssignmentChange =
  | { type: 'job_assignment'; userId: number; jobAssignmentId: number; old: JobAssignmentSnapshot | null; new: JobAssignmentSnapshot | null }
  | { type: 'audience_membership'; userId: number; audienceId: number; member: boolean }
  | { type: 'profile_field'; userId: number; field: string; old: unknown; new: unknown }
  | { type: 'user'; userId: number; field: 'suspended' | 'deleted' | 'first_login' | 'created' | 'lang' | 'timezone'; old: unknown; new: unknown }
  | { type: 'course_completion'; userId: number; courseId: number; completedAt: number }
  /** A course completion was removed (reset by an operator); `completedAt` is the time it had. */
  | { type: 'course_completion_removed'; userId: number; courseId: number; completedAt: number }
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

/**
 * Run `within` the writing transaction by every module that changes what assignment sources read:
 * people (job assignments, audiences, profile fields, users), learning (course completions) and
 * programs (program completions). Declared here, with the change types, because most changes are people's.
 */
declare module '../../kernel/hooks/hook-map' {
  interface HookMap {
    onAssignmentChange: WithinHook<AssignmentChangeArgs>;
  }
}

/** The hooks this module declares, with their kinds (declared on the bus at registration). */
export const peopleHooks = { onAssignmentChange: 'within' } as const;
