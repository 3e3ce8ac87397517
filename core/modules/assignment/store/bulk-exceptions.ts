import type { Executor } from '../../../kernel/db/database';

/** How many open exceptions match the exceptions page's filter (its "select all N matching"). */
export async function countOpenExceptions(executor: Executor, scope: { type?: string; programId?: number }): Promise<number> {
  const query = executor('program_exceptions').where('status', 'open');
  if (scope.type) query.where('type', scope.type);
  if (scope.programId) query.where('program_id', scope.programId);
  const row = (await query.count({ n: '*' }).first()) as { n: number | string } | undefined;
  return Number(row?.n ?? 0);
}
