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
 * Many learners' membership of one audience changed at once: a batch of an audience recompute (its
 * rules were edited, or time moved an "overdue" condition), or a cascade of such a batch into later
 * audiences naming it. `added` and `removed` are the learners who flipped, all within the user-id
 * range `range`, so a listener may re-sync that whole range set-based instead of learner by learner.
 * A flip of one learner alone (the incremental path: a completion, a profile edit, a static add)
 * still comes as one `audience_membership` change on `onAssignmentChange`.
 */
export interface AudienceMembershipBatch {
  audienceId: number;
  added: number[];
  removed: number[];
  range: { lo: number; hi: number };
}

/** `onAudienceMembershipBatch` (within): handlers get the writing transaction as their second argument. */
export interface AudienceMembershipBatchArgs {
  batch: AudienceMembershipBatch;
}

/**
 * Run `within` the writing transaction by every module that changes what assignment sources read:
 * people (job assignments, audiences, profile fields, users), learning (course completions) and
 * programs (program completions). Declared here, with the change types, because most changes are people's.
 */
declare module '../../kernel/hooks/hook-map' {
  interface HookMap {
    onAssignmentChange: WithinHook<AssignmentChangeArgs>;
    /** Run `within` each batch of a recompute's transaction, once per audience whose membership flipped for several learners. */
    onAudienceMembershipBatch: WithinHook<AudienceMembershipBatchArgs>;
  }
}

/** The hooks this module declares, with their kinds (declared on the bus at registration). */
export const peopleHooks = { onAssignmentChange: 'within', onAudienceMembershipBatch: 'within' } as const;
