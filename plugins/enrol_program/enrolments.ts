import type { AssignmentService, EnrolmentsService, Knex, ProgramsService } from '../../core/index';

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
 * Unassignment (DOMAIN 4): the learners' program enrolments in the program's courses are suspended
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
  const courseIds = await deps.programs.courseIdsOf(programId, trx);
  let changed = 0;
  for (const batch of chunks([...new Set(userIds)])) {
    const kept = new Set((await deps.assignment.reachableElsewhere(trx, programId, batch, courseIds)).map((p) => `${p.userId}:${p.courseId}`));
    const pairs = batch.flatMap((userId) => courseIds.filter((courseId) => !kept.has(`${userId}:${courseId}`)).map((courseId) => ({ userId, courseId })));
    changed += await deps.enrolments.changeMany(trx, PROGRAM_METHOD, action, pairs);
  }
  return changed;
}

/** Re-assignment: the learners' suspended program enrolments in the program's courses become active again. */
export async function reactivateProgramEnrolments(deps: EnrolmentDeps, trx: Knex.Transaction, programId: number, userIds: readonly number[]): Promise<number> {
  const courseIds = await deps.programs.courseIdsOf(programId, trx);
  let changed = 0;
  for (const batch of chunks([...new Set(userIds)])) {
    changed += await deps.enrolments.changeMany(
      trx,
      PROGRAM_METHOD,
      'reactivate',
      batch.flatMap((userId) => courseIds.map((courseId) => ({ userId, courseId }))),
    );
  }
  return changed;
}

function chunks(ids: readonly number[]): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < ids.length; i += BATCH) out.push(ids.slice(i, i + BATCH));
  return out;
}
