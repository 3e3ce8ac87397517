import { chunk, type AssignmentService, type EnrolmentsService, type Knex, type ProgramsService } from '../../core/index';

/** The enrolment method this plugin owns in the learning module's enrolments. */
export const PROGRAM_METHOD = 'program';

/** Users per step: keeps every IN list well under the drivers' parameter limits. */
const BATCH = 500;

export interface EnrolmentDeps {
  enrolments: EnrolmentsService;
  programs: ProgramsService;
  assignment: AssignmentService;
}

/**
 * Unassignment (DOMAIN 4): the learners' program enrolments in the program's courses (a recurring
 * program's earlier copies included) are suspended
 * (or deleted, when `action` is `unenrol`), except in courses another of their programs still
 * reaches. Set-based, in batches of users, inside the caller's transaction, through the learning
 * module's enrolment service. Completion records are not touched. Returns how many enrolments changed.
 */
export async function releaseProgramEnrolments(
  deps: EnrolmentDeps,
  trx: Knex.Transaction,
  programId: number,
  userIds: readonly number[],
  action: 'suspend' | 'unenrol',
): Promise<number> {
  let courseIds: number[] | undefined;
  let changed = 0;
  for (const batch of chunk([...new Set(userIds)], BATCH)) {
    // Most unassigned learners never launched a course of the program: one probe, nothing else.
    if (!(await deps.enrolments.anyOf(trx, PROGRAM_METHOD, 'active', batch))) continue;
    const ids = (courseIds ??= await deps.programs.courseIdsEverOf(programId, trx));
    const kept = new Set((await deps.assignment.reachableElsewhere(trx, programId, batch, ids)).map((p) => `${p.userId}:${p.courseId}`));
    const pairs = batch.flatMap((userId) => ids.filter((courseId) => !kept.has(`${userId}:${courseId}`)).map((courseId) => ({ userId, courseId })));
    changed += await deps.enrolments.changeMany(trx, PROGRAM_METHOD, action, pairs);
  }
  return changed;
}

/** Re-assignment: the learners' suspended program enrolments in the program's courses (earlier copies included) become active again. */
export async function reactivateProgramEnrolments(deps: EnrolmentDeps, trx: Knex.Transaction, programId: number, userIds: readonly number[]): Promise<number> {
  let courseIds: number[] | undefined;
  let changed = 0;
  for (const batch of chunk([...new Set(userIds)], BATCH)) {
    // A first assignment has nothing to reactivate: one probe, nothing else.
    if (!(await deps.enrolments.anyOf(trx, PROGRAM_METHOD, 'suspended', batch))) continue;
    const ids = (courseIds ??= await deps.programs.courseIdsEverOf(programId, trx));
    changed += await deps.enrolments.changeMany(
      trx,
      PROGRAM_METHOD,
      'reactivate',
      batch.flatMap((userId) => ids.map((courseId) => ({ userId, courseId }))),
    );
  }
  return changed;
}
