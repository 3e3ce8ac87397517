import type { Dialect, Executor } from '../../../kernel/db/database';
import { placeholders } from '../../../kernel/db/statements';

/**
 * Serialises completion work per learner. On MySQL (REPEATABLE READ) two concurrent transactions
 * completing different courses of one program would each read a snapshot without the other's
 * completion and both conclude "incomplete"; locking the learners' user rows first, before any
 * plain read opens the snapshot, makes the second wait and then see the first. SQLite write
 * transactions already run one at a time (BEGIN IMMEDIATE), so nothing is needed there.
 */
export async function lockLearners(executor: Executor, dialect: Dialect, userIds: readonly number[]): Promise<void> {
  if (dialect !== 'mysql' || !userIds.length) return;
  await executor.raw(`SELECT id FROM users WHERE id IN (${placeholders(userIds.length)}) FOR UPDATE`, userIds as number[]);
}
