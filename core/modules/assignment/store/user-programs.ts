import type { Executor } from '../../../kernel/db/database';
import { queryRows } from '../../../kernel/db/sql';
import { num, numOrNull } from '../../../kernel/db/values';
import { programViews } from '../../programs/index';

export interface UserProgramRow {
  programId: number;
  fullname: string;
  status: string;
  dueAt: number | null;
}

/**
 * The programs a user is assigned to (any status), by program name, at most `limit` (plus one, so
 * the caller knows there are more): the user's rows by the (user_id, status) index, joined to
 * programs' published view.
 */
export async function userProgramRows(executor: Executor, userId: number, limit: number): Promise<UserProgramRow[]> {
  const rows = await queryRows<{ program_id: number; fullname: string; status: string; due_at: number | null }>(
    executor,
    `SELECT a.program_id, p.fullname, a.status, a.due_at FROM program_user_assignments a JOIN ${programViews.programs.as('p')} ON p.id = a.program_id
      WHERE a.user_id = ? ORDER BY p.fullname, a.program_id LIMIT ?`,
    [userId, limit + 1],
  );
  return rows.map((r) => ({ programId: num(r.program_id), fullname: r.fullname, status: r.status, dueAt: numOrNull(r.due_at) }));
}

/** How many programs the user is assigned to. */
export async function countUserPrograms(executor: Executor, userId: number): Promise<number> {
  const [row] = await queryRows<{ n: number }>(executor, 'SELECT COUNT(*) AS n FROM program_user_assignments WHERE user_id = ?', [userId]);
  return num(row?.n ?? 0);
}

/** The users that already have an individual rule on the program (a bulk assign skips them): read once per bulk job. */
export async function individualRuleUsers(executor: Executor, programId: number): Promise<Set<number>> {
  const rows = (await executor('program_assignment_rules').where({ program_id: programId, source: 'individual' }).select('instance')) as Array<{
    instance: string;
  }>;
  return new Set(rows.map((r) => Number((JSON.parse(r.instance) as { instanceId?: unknown }).instanceId)));
}
