import type { Executor } from '../../../kernel/db/database';
import { queryRows } from '../../../kernel/db/sql';
import { availableNowBindings, availableNowSql, programViews } from '../../programs/index';

/** The first 100 programs available at `now` (switched on, inside their dates), by name. */
export function programsAvailableNow(executor: Executor, now: number): Promise<Array<{ id: number; fullname: string; summary: string | null }>> {
  return queryRows<{ id: number; fullname: string; summary: string | null }>(
    executor,
    `SELECT p.id, p.fullname, p.summary FROM ${programViews.programs.as('p')} WHERE ${availableNowSql('p')} ORDER BY p.fullname, p.id LIMIT 100`,
    availableNowBindings(now),
  );
}
