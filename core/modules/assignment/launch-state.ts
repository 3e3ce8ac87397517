import type { Knex } from 'knex';
import type { Database } from '../../kernel/db/database';
import { placeholders, prepareStatement } from '../../kernel/db/statements';
import { queryRows } from '../../kernel/db/sql';

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
}

/** What a launch guard needs to decide: the candidate programs and the learner's course completions. */
export interface LaunchState {
  programs: LaunchCandidate[];
  completions: Map<number, number>;
}

interface LaunchStateRow {
  kind: 'p' | 'c';
  id: number;
  fullname: string | null;
  structure_version: number | null;
  available: number | boolean | null;
  available_from: number | string | null;
  available_until: number | string | null;
  assignment_status: string | null;
  blocking_exceptions: number | string;
  completed_at: number | string | null;
}

/**
 * Everything a program launch guard reads, in one statement (one round trip on MySQL): every program
 * containing the course, with this learner's assignment state and whether an open or dismissed
 * exception blocks it (indexed joins: course -> sets -> programs, then the (program_id, user_id)
 * unique index of assignments and exceptions), followed by the learner's course completions (the
 * (user_id, course_id) unique index). A read model on the launch hot path: it reads the programs and
 * learning modules' tables next to this module's own, and writes nothing.
 */
const LAUNCH_STATE_SQL = `
  SELECT 'p' AS kind, p.id AS id, p.fullname, p.structure_version, p.available, p.available_from, p.available_until,
         a.status AS assignment_status,
         (SELECT COUNT(*) FROM program_exceptions e
            WHERE e.program_id = p.id AND e.user_id = ? AND e.status IN ('open', 'dismissed')) AS blocking_exceptions,
         NULL AS completed_at
    FROM programs p
    LEFT JOIN program_user_assignments a ON a.program_id = p.id AND a.user_id = ?
   WHERE p.id IN (SELECT s.program_id FROM program_course_set_courses sc
                    JOIN program_course_sets s ON s.id = sc.course_set_id
                   WHERE sc.course_id = ?)
  UNION ALL
  SELECT 'c', course_id, NULL, NULL, NULL, NULL, NULL, NULL, 0, completed_at FROM course_completions WHERE user_id = ?
  ORDER BY kind DESC, id`;

const num = (v: number | string | null): number | null => (v === null ? null : Number(v));

export function createLaunchStateReader(db: Database): (userId: number, courseId: number) => Promise<LaunchState> {
  const query = prepareStatement<LaunchStateRow>(db, LAUNCH_STATE_SQL);
  return async (userId, courseId) => {
    const programs: LaunchCandidate[] = [];
    const completions = new Map<number, number>();
    for (const row of await query.all([userId, userId, courseId, userId])) {
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
  const rows = await queryRows<{ user_id: number; course_id: number }>(
    trx,
    `SELECT DISTINCT a.user_id, sc.course_id FROM program_user_assignments a
       JOIN program_course_sets s ON s.program_id = a.program_id
       JOIN program_course_set_courses sc ON sc.course_set_id = s.id
      WHERE a.user_id IN (${placeholders(userIds.length)}) AND a.program_id <> ? AND a.status = 'active'
        AND sc.course_id IN (${placeholders(courseIds.length)})
        AND NOT EXISTS (SELECT 1 FROM program_exceptions e
                         WHERE e.program_id = a.program_id AND e.user_id = a.user_id AND e.status IN ('open', 'dismissed'))`,
    [...userIds, exceptProgramId, ...courseIds],
  );
  return rows.map((r) => ({ userId: Number(r.user_id), courseId: Number(r.course_id) }));
}
