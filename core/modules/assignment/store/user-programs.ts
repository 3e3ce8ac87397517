import type { Executor } from '../../../kernel/db/database';
import { chunk, queryRows } from '../../../kernel/db/sql';
import { num, numOrNull } from '../../../kernel/db/values';
import { peopleViews } from '../../people/index';
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

/** Of these users, the ones that exist and are neither suspended nor deleted, in id order: one read per 500. */
export async function activeUsersAmong(executor: Executor, userIds: readonly number[]): Promise<number[]> {
  const out: number[] = [];
  for (const part of chunk(userIds, 500)) {
    const rows = (await executor(peopleViews.users.as('u')).whereIn('u.id', part).where({ 'u.suspended': false, 'u.deleted': false }).select('u.id')) as Array<{
      id: number;
    }>;
    out.push(...rows.map((r) => num(r.id)));
  }
  return out.sort((a, b) => a - b);
}
