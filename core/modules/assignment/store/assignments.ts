import type { Knex } from 'knex';
import type { Dialect, Executor } from '../../../kernel/db/database';
import { chunk, nullSafeDistinct, placeholders, queryRows, runStatement, upsertRows, type StatementBinding } from '../../../kernel/db/sql';
import { num } from '../../../kernel/db/values';
import { programViews } from '../../programs/index';
import type { UserIdRange } from './members';

/**
 * Effective assignments (`program_user_assignments`): one row per learner and program, what the
 * rules add up to, held back while an exception is open or dismissed.
 */

/** A learner whose rules now say something different from what the assignment row recorded. */
export interface AssignmentDiffRow {
  program_id: number;
  user_id: number;
  rule_state: 'known' | 'unknown' | 'future' | null;
  agg_due: number | null;
  pid: number | null;
  status: string | null;
  due_at: number | null;
  old_state: string | null;
  assigned_at: number | null;
  exception_id: number | null;
  exception_status: string | null;
  exception_type: string | null;
  /** The due date an operator accepted (a time-allowance exception resolved with `assign`), if any. */
  accepted_due_at: number | null;
  /** The learner's program completion status (programs' record), null when there is none. */
  completion_status: string | null;
}

/** An effective assignment row as written. */
export interface AssignmentRow {
  program_id: number;
  user_id: number;
  status: 'active' | 'future' | 'exception' | 'unassigned';
  due_at: number | null;
  rule_state: string | null;
  rule_due_at: number | null;
  assigned_at: number | null;
  exception_id: number | null;
  /** See {@link AssignmentDiffRow.accepted_due_at}; cleared when the assignment ends. */
  accepted_due_at: number | null;
  created_at: number;
  updated_at: number;
}

/**
 * Learners of these programs in the range whose memberships aggregate (known / unknown / future,
 * latest known due date) differs from their assignment row, or who have a rule-made row but no
 * membership any more; with the row's exception, the operator's accepted due date and the
 * learner's program completion status (a completed learner's due date is frozen). An unchanged
 * site reads nothing back.
 */
export function assignmentsDifferingFromRules(
  dialect: Dialect,
  trx: Knex.Transaction,
  programIds: readonly number[],
  range: UserIdRange,
): Promise<AssignmentDiffRow[]> {
  const diff = nullSafeDistinct(dialect, 'p.rule_due_at', 'a.agg_due');
  const inList = placeholders(programIds.length);
  return queryRows<AssignmentDiffRow>(
    trx,
    `SELECT a.program_id, a.user_id, a.rule_state, a.agg_due, p.id AS pid, p.status, p.due_at, p.rule_state AS old_state, p.assigned_at, p.exception_id,
              e.status AS exception_status, e.type AS exception_type, p.accepted_due_at, pc.status AS completion_status
       FROM (SELECT x.program_id, x.user_id, CASE WHEN x.has_known = 1 THEN 'known' WHEN x.has_unknown = 1 THEN 'unknown' ELSE 'future' END AS rule_state, x.agg_due
             FROM (SELECT m.program_id, m.user_id,
                          MAX(CASE WHEN m.due_state = 'known' THEN 1 ELSE 0 END) AS has_known,
                          MAX(CASE WHEN m.due_state = 'unknown' THEN 1 ELSE 0 END) AS has_unknown,
                          MAX(CASE WHEN m.due_state = 'known' THEN m.due_at ELSE NULL END) AS agg_due
                   FROM program_rule_members m WHERE m.program_id IN (${inList}) AND m.user_id BETWEEN ? AND ? GROUP BY m.program_id, m.user_id) x) a
       LEFT JOIN program_user_assignments p ON p.program_id = a.program_id AND p.user_id = a.user_id
       LEFT JOIN program_exceptions e ON e.id = p.exception_id
       LEFT JOIN ${programViews.programCompletions.as('pc')} ON pc.program_id = a.program_id AND pc.user_id = a.user_id
       WHERE p.id IS NULL OR p.rule_state IS NULL OR p.rule_state <> a.rule_state OR ${diff}
       UNION ALL
       SELECT p.program_id, p.user_id, NULL, NULL, p.id, p.status, p.due_at, p.rule_state, p.assigned_at, p.exception_id, e.status, e.type, p.accepted_due_at, NULL
       FROM program_user_assignments p LEFT JOIN program_exceptions e ON e.id = p.exception_id
       WHERE p.program_id IN (${inList}) AND p.user_id BETWEEN ? AND ? AND p.rule_state IS NOT NULL
         AND NOT EXISTS (SELECT 1 FROM program_rule_members m WHERE m.program_id = p.program_id AND m.user_id = p.user_id)`,
    [...programIds, range.lo, range.hi, ...programIds, range.lo, range.hi],
  );
}

/** Inserts or replaces effective assignment rows (unique on program and learner), 500 per statement. */
export async function upsertAssignments(dialect: Dialect, trx: Knex.Transaction, rows: readonly AssignmentRow[]): Promise<void> {
  await upsertRows(
    trx,
    dialect,
    'program_user_assignments',
    ['program_id', 'user_id', 'status', 'due_at', 'rule_state', 'rule_due_at', 'assigned_at', 'exception_id', 'accepted_due_at', 'created_at', 'updated_at'],
    rows as unknown as Array<Record<string, unknown>>,
    ['program_id', 'user_id'],
    ['status', 'due_at', 'rule_state', 'rule_due_at', 'assigned_at', 'exception_id', 'accepted_due_at', 'updated_at'],
  );
}

/** Of these (program, learner) pairs, those whose assignment is held by an exception; 300 pairs per statement. */
export async function pairsHeldByException(
  executor: Executor,
  pairs: ReadonlyArray<{ programId: number; userId: number }>,
): Promise<Array<{ programId: number; userId: number }>> {
  const held: Array<{ programId: number; userId: number }> = [];
  for (const part of chunk(pairs, 300)) {
    const found = await queryRows<{ program_id: number; user_id: number }>(
      executor,
      `SELECT program_id, user_id FROM program_user_assignments WHERE status = 'exception' AND (${part.map(() => '(program_id = ? AND user_id = ?)').join(' OR ')})`,
      part.flatMap((p) => [p.programId, p.userId]),
    );
    for (const r of found) held.push({ programId: num(r.program_id), userId: num(r.user_id) });
  }
  return held;
}

/** A learner's assignment row in a program with its current exception, or undefined when never assigned. */
export async function learnerAssignmentRow(executor: Executor, programId: number, userId: number): Promise<Record<string, unknown> | undefined> {
  const [row] = await queryRows<Record<string, unknown>>(
    executor,
    `SELECT p.status, p.due_at, p.assigned_at, p.accepted_due_at, e.id AS exception_id, e.type, e.status AS exception_status, e.raised_at, e.explanation
     FROM program_user_assignments p LEFT JOIN program_exceptions e ON e.id = p.exception_id
     WHERE p.program_id = ? AND p.user_id = ?`,
    [programId, userId],
  );
  return row;
}

/**
 * Makes the learners' assignments in a program active again after their exception was resolved,
 * keeping the due date or (`dueAt`) setting a new one; 500 learners per statement. `acceptDue`
 * records the kept due date as accepted by the operator (a time-allowance exception resolved with
 * `assign`), otherwise any earlier acceptance is cleared. Returns how many rows changed.
 */
export async function activateAssignments(
  trx: Knex.Transaction,
  programId: number,
  userIds: readonly number[],
  now: number,
  options: { dueAt?: number; acceptDue?: boolean } = {},
): Promise<number> {
  const { dueAt, acceptDue = false } = options;
  const dueSql = dueAt === undefined ? 'due_at' : '?';
  const bindings: StatementBinding[] = dueAt === undefined ? [] : [dueAt];
  // Accepting keeps the due date as it is (no `dueAt`), so `due_at` reads the same before and after
  // its assignment on both databases.
  const acceptSql = acceptDue && dueAt === undefined ? 'due_at' : 'NULL';
  let changed = 0;
  for (const part of chunk(userIds, 500)) {
    changed += await runStatement(
      trx,
      `UPDATE program_user_assignments SET status = 'active', due_at = ${dueSql}, accepted_due_at = ${acceptSql}, assigned_at = ?, exception_id = NULL, updated_at = ?
               WHERE program_id = ? AND user_id IN (${placeholders(part.length)})`,
      [...bindings, now, now, programId, ...part],
    );
  }
  return changed;
}

/**
 * Programs with rules, or with rule-made assignments left to undo. Driven from programs so each check
 * is one index probe, not a pass over every assignment row.
 */
export async function programsWithRuleWork(executor: Executor): Promise<number[]> {
  const rows = await queryRows<{ program_id: number }>(
    executor,
    `SELECT p.id AS program_id FROM ${programViews.programs.as('p')}
           WHERE EXISTS (SELECT 1 FROM program_assignment_rules r WHERE r.program_id = p.id)
              OR EXISTS (SELECT 1 FROM program_user_assignments a WHERE a.program_id = p.id AND a.rule_state IS NOT NULL)`,
  );
  return rows.map((r) => num(r.program_id));
}

/**
 * The next `limit` learners (by id, after `after`) actively assigned to the program without a
 * complete program completion: for a program that is complete from the start (only optional sets
 * decide it), the ones whose completion was never evaluated.
 */
export async function activeWithoutCompletion(executor: Executor, programId: number, after: number, limit: number): Promise<number[]> {
  const rows = await queryRows<{ user_id: number }>(
    executor,
    `SELECT a.user_id FROM program_user_assignments a
       LEFT JOIN ${programViews.programCompletions.as('pc')} ON pc.program_id = a.program_id AND pc.user_id = a.user_id
     WHERE a.program_id = ? AND a.status = 'active' AND a.user_id > ? AND (pc.status IS NULL OR pc.status <> 'complete')
     ORDER BY a.user_id LIMIT ${Math.max(1, Math.floor(limit))}`,
    [programId, after],
  );
  return rows.map((r) => num(r.user_id));
}

/** When each of these learners' active assignment to the program started (user id -> epoch ms), 500 learners a statement. */
export async function activeAssignedTimes(executor: Executor, programId: number, userIds: readonly number[]): Promise<Map<number, number>> {
  const result = new Map<number, number>();
  for (const part of chunk(userIds, 500)) {
    const rows = await queryRows<{ user_id: number; assigned_at: number }>(
      executor,
      `SELECT user_id, assigned_at FROM program_user_assignments
       WHERE program_id = ? AND status = 'active' AND assigned_at IS NOT NULL AND user_id IN (${placeholders(part.length)})`,
      [programId, ...part],
    );
    for (const row of rows) result.set(num(row.user_id), num(row.assigned_at));
  }
  return result;
}

/**
 * Moves an active learner's due date from `from` to the later `to` (an approved extension), only if
 * it is still `from`: a sync or another decision that moved it meanwhile makes this change nothing.
 */
export async function moveDueDate(trx: Knex.Transaction, programId: number, userId: number, from: number, to: number, now: number): Promise<boolean> {
  const changed = await runStatement(
    trx,
    `UPDATE program_user_assignments SET due_at = ?, updated_at = ? WHERE program_id = ? AND user_id = ? AND status = 'active' AND due_at = ? AND ? > due_at`,
    [to, now, programId, userId, from, to],
  );
  return changed === 1;
}

/**
 * A recurring program's new period (issue 15): each of these actively assigned learners starts a new
 * cycle at `at` (the cycle notifications are keyed on) with a new due date. One statement per call;
 * the caller batches. An operator's accepted due date belonged to the cycle that ended.
 */
export async function startCycles(
  trx: Knex.Transaction,
  programId: number,
  rows: ReadonlyArray<{ userId: number; dueAt: number }>,
  at: number,
  now: number,
): Promise<void> {
  if (!rows.length) return;
  const cases = rows.map(() => 'WHEN ? THEN ?').join(' ');
  await runStatement(
    trx,
    `UPDATE program_user_assignments SET due_at = CASE user_id ${cases} END, assigned_at = ?, accepted_due_at = NULL, updated_at = ?
      WHERE program_id = ? AND status = 'active' AND user_id IN (${placeholders(rows.length)})`,
    [...rows.flatMap((r) => [r.userId, r.dueAt]), at, now, programId, ...rows.map((r) => r.userId)],
  );
}
