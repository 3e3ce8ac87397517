import type { Knex } from 'knex';
import type { Database } from '../../kernel/db/database';
import { coursesReachedElsewhere, prepareLaunchStateQuery } from './store/launch-state';

/** A program containing the course, with this learner's assignment state. */
export interface LaunchCandidate {
  programId: number;
  fullname: string;
  structureVersion: number;
  available: boolean;
  availableFrom: number | null;
  availableUntil: number | null;
  /** The learner's assignment status in the program, or null when not assigned. */
  assignmentStatus: string | null;
  /** An open or dismissed exception blocks the assignment. */
  blocked: boolean;
  /**
   * A recurring program whose earlier period's copy this course is, not finished by the learner
   * when the period ended: the period's label (they may still launch it). Null otherwise.
   */
  owedPeriod: string | null;
}

/** What a launch guard needs to decide: the candidate programs and the learner's course completions. */
export interface LaunchState {
  programs: LaunchCandidate[];
  completions: Map<number, number>;
}

const num = (v: number | string | null): number | null => (v === null ? null : Number(v));

/** A program launch guard's inputs for one learner and course, read in one prepared statement (store/launch-state.ts). */
export function createLaunchStateReader(db: Database): (userId: number, courseId: number) => Promise<LaunchState> {
  const query = prepareLaunchStateQuery(db);
  return async (userId, courseId) => {
    const programs: LaunchCandidate[] = [];
    const completions = new Map<number, number>();
    for (const row of await query(userId, courseId)) {
      if (row.kind === 'c') {
        completions.set(Number(row.id), Number(row.completed_at));
        continue;
      }
      programs.push({
        programId: Number(row.id),
        fullname: row.fullname ?? '',
        structureVersion: Number(row.structure_version),
        available: Boolean(Number(row.available)),
        availableFrom: num(row.available_from),
        availableUntil: num(row.available_until),
        assignmentStatus: row.assignment_status,
        blocked: Number(row.blocking_exceptions) > 0,
        owedPeriod: row.owed_period ?? null,
      });
    }
    return { programs, completions };
  };
}

/**
 * Of the (user, course) pairs, those whose course another program still reaches for that learner:
 * an active assignment, without a blocking exception, to a program other than `exceptProgramId`
 * that contains the course. Unassignment leaves those enrolments alone.
 */
export async function reachableElsewhere(
  trx: Knex.Transaction,
  exceptProgramId: number,
  userIds: readonly number[],
  courseIds: readonly number[],
): Promise<Array<{ userId: number; courseId: number }>> {
  if (!userIds.length || !courseIds.length) return [];
  const rows = await coursesReachedElsewhere(trx, exceptProgramId, userIds, courseIds);
  return rows.map((r) => ({ userId: Number(r.user_id), courseId: Number(r.course_id) }));
}
