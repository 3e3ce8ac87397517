import type { Knex } from 'knex';
import type { Dialect, Executor } from '../../../kernel/db/database';
import { chunk, nullSafeDistinct, placeholders, queryRows, runStatement, sqlOf, updateById, type StatementBinding } from '../../../kernel/db/sql';
import { num } from '../../../kernel/db/values';
import { peopleViews } from '../../people/index';

/**
 * Rule memberships (`program_rule_members`): who each rule currently lists, with the due date the
 * rule gives them. The set differences of the sync run here as set-based statements.
 */

/** SQL text with `?` placeholders and its bindings, to embed in a statement. */
export interface SqlFragment {
  sql: string;
  bindings: StatementBinding[];
}

/** An inclusive range of user ids. */
export interface UserIdRange {
  lo: number;
  hi: number;
}

/** Due values a membership row starts with. */
export interface InitialDue {
  state: string;
  eventAt: number | null;
  dueAt: number | null;
}

/** A rule's desired set next to the rows it has: how many it desires, how many of those it lists, how many of those are stale. */
export interface MemberComparison {
  desired: number;
  matched: number;
  stale: number;
}

/** A membership row's due values next to the event time read for it now. */
export interface MemberDueRow {
  id: number;
  due_state: string;
  event_at: number | null;
  due_at: number | null;
  created_at: number;
  new_event: number | null;
}

/** Condition (on membership row `m`) of rows still waiting for their due date. */
export function dueStillNew(): SqlFragment {
  return { sql: "m.due_state = 'new'", bindings: [] };
}

/** Condition (on membership row `m`) of rows whose due values are not the fixed `dueDate` (or no date). */
export function dueNotFixedAt(dialect: Dialect, dueDate: number | null): SqlFragment {
  return { sql: `m.due_state <> 'known' OR ${nullSafeDistinct(dialect, 'm.due_at', '?')} OR m.event_at IS NOT NULL`, bindings: [dueDate] };
}

/** A source's members within the range who are active users (not suspended, not deleted), distinct, as SQL. */
export function activeMembersInRange(trx: Knex.Transaction, members: Knex.QueryBuilder, range: UserIdRange): SqlFragment {
  return sqlOf(
    trx
      .from(members.as('s'))
      .join(peopleViews.users.as('u'), 'u.id', 's.user_id')
      .where('u.suspended', false)
      .where('u.deleted', false)
      .whereBetween('s.user_id', [range.lo, range.hi])
      .distinct('s.user_id'),
  );
}

/** Deletes a rule's memberships in the range; returns how many. */
export function deleteMembersInRange(trx: Knex.Transaction, ruleId: number, range: UserIdRange): Promise<number> {
  return runStatement(trx, 'DELETE FROM program_rule_members WHERE rule_id = ? AND user_id BETWEEN ? AND ?', [ruleId, range.lo, range.hi]);
}

/**
 * One pass over the desired set: how many users it has, how many of them the rule already lists
 * and, with `stale`, how many of those listed rows match the condition.
 */
export async function compareWithMembers(trx: Knex.Transaction, ruleId: number, desired: SqlFragment, stale: SqlFragment | null): Promise<MemberComparison> {
  const [m] = await queryRows<{ desired: number; matched: number; stale?: number }>(
    trx,
    `SELECT COUNT(*) AS desired, COUNT(m.user_id) AS matched${stale ? `, COUNT(CASE WHEN ${stale.sql} THEN 1 END) AS stale` : ''}
     FROM (${desired.sql}) d LEFT JOIN program_rule_members m ON m.rule_id = ? AND m.user_id = d.user_id`,
    [...(stale?.bindings ?? []), ...desired.bindings, ruleId],
  );
  return { desired: num(m?.desired ?? 0), matched: num(m?.matched ?? 0), stale: num(m?.stale ?? 0) };
}

/**
 * {@link compareWithMembers} for several rules at once (the nightly reconcile of a program with
 * thousands of individual rules): one statement per hundred rules, a UNION ALL of each rule's
 * desired set joined to its own rows, counted per rule.
 */
export async function compareManyWithMembers(
  trx: Knex.Transaction,
  rules: ReadonlyArray<{ ruleId: number; desired: SqlFragment; stale: SqlFragment | null }>,
): Promise<Map<number, MemberComparison>> {
  // A rule whose desired set is empty has no group in the result: all its counts are zero.
  const out = new Map<number, MemberComparison>(rules.map((r) => [r.ruleId, { desired: 0, matched: 0, stale: 0 }]));
  for (const part of chunk(rules, 100)) {
    const union = part
      .map(
        (r) =>
          `SELECT ? AS rule_id, m.user_id AS matched, ${r.stale ? `CASE WHEN ${r.stale.sql} THEN 1 END` : 'NULL'} AS stale
           FROM (${r.desired.sql}) d LEFT JOIN program_rule_members m ON m.rule_id = ? AND m.user_id = d.user_id`,
      )
      .join(' UNION ALL ');
    const rows = await queryRows<{ rule_id: number; desired: number; matched: number; stale: number }>(
      trx,
      `SELECT c.rule_id, COUNT(*) AS desired, COUNT(c.matched) AS matched, COUNT(c.stale) AS stale FROM (${union}) c GROUP BY c.rule_id`,
      part.flatMap((r) => [r.ruleId, ...(r.stale?.bindings ?? []), ...r.desired.bindings, r.ruleId]),
    );
    for (const row of rows) out.set(num(row.rule_id), { desired: num(row.desired), matched: num(row.matched), stale: num(row.stale) });
  }
  return out;
}

/**
 * Lists the desired users the rule does not list yet; `skipListed: false` when the range has no rows
 * of the rule (a first sync), so no per-row probe is needed. Returns how many rows were inserted.
 */
export function insertDesiredMembers(
  trx: Knex.Transaction,
  rule: { id: number; programId: number },
  desired: SqlFragment,
  due: InitialDue,
  now: number,
  skipListed: boolean,
): Promise<number> {
  return runStatement(
    trx,
    `INSERT INTO program_rule_members (program_id, rule_id, user_id, due_state, event_at, due_at, created_at)
     SELECT ?, ?, d.user_id, ?, ?, ?, ? FROM (${desired.sql}) d${
       skipListed ? ' WHERE NOT EXISTS (SELECT 1 FROM program_rule_members m WHERE m.rule_id = ? AND m.user_id = d.user_id)' : ''
     }`,
    [rule.programId, rule.id, due.state, due.eventAt, due.dueAt, now, ...desired.bindings, ...(skipListed ? [rule.id] : [])],
  );
}

/**
 * The first members of several rules of one program in a range where none of them lists anyone yet
 * (a batch of new rules), as one INSERT ... SELECT over a UNION ALL of their desired sets: a
 * statement per chunk of rules, not one per rule. Returns how many rows were inserted.
 */
export async function insertFirstMembers(
  trx: Knex.Transaction,
  programId: number,
  rules: ReadonlyArray<{ ruleId: number; desired: SqlFragment; due: InitialDue }>,
  now: number,
): Promise<number> {
  let inserted = 0;
  // 100 SELECTs stay well below SQLite's compound-select limit (500) and its bound-parameter limit.
  for (const part of chunk(rules, 100)) {
    const union = part.map((r) => `SELECT ? AS rule_id, ? AS due_state, ? AS event_at, ? AS due_at, d.user_id FROM (${r.desired.sql}) d`).join(' UNION ALL ');
    inserted += await runStatement(
      trx,
      `INSERT INTO program_rule_members (program_id, rule_id, user_id, due_state, event_at, due_at, created_at)
       SELECT ?, f.rule_id, f.user_id, f.due_state, f.event_at, f.due_at, ? FROM (${union}) f`,
      [programId, now, ...part.flatMap((r) => [r.ruleId, r.due.state, r.due.eventAt, r.due.dueAt, ...r.desired.bindings])],
    );
  }
  return inserted;
}

/** Deletes the rule's memberships in the range that the desired set no longer has; returns how many. */
export function deleteUndesiredMembers(dialect: Dialect, trx: Knex.Transaction, ruleId: number, range: UserIdRange, desired: SqlFragment): Promise<number> {
  // MariaDB runs `NOT IN (subquery)` in a single-table DELETE as a dependent subquery; the
  // multi-table form joins against the desired set materialised once.
  const sql =
    dialect === 'mysql'
      ? `DELETE m FROM program_rule_members m LEFT JOIN (${desired.sql}) d ON d.user_id = m.user_id
           WHERE m.rule_id = ? AND m.user_id BETWEEN ? AND ? AND d.user_id IS NULL`
      : `DELETE FROM program_rule_members WHERE rule_id = ? AND user_id BETWEEN ? AND ? AND user_id NOT IN (${desired.sql})`;
  const bindings = dialect === 'mysql' ? [...desired.bindings, ruleId, range.lo, range.hi] : [ruleId, range.lo, range.hi, ...desired.bindings];
  return runStatement(trx, sql, bindings);
}

/** Sets the fixed due date on the rule's rows in the range that match `stale`; returns how many. */
export function setFixedDue(trx: Knex.Transaction, ruleId: number, dueDate: number | null, range: UserIdRange, stale: SqlFragment): Promise<number> {
  return runStatement(
    trx,
    `UPDATE program_rule_members AS m SET due_state = 'known', event_at = NULL, due_at = ?
         WHERE m.rule_id = ? AND m.user_id BETWEEN ? AND ? AND (${stale.sql})`,
    [dueDate, ruleId, range.lo, range.hi, ...stale.bindings],
  );
}

/** The rule's rows in the range with their own creation time as the event (all, or only those still new). */
export function membersDueFromCreation(trx: Knex.Transaction, ruleId: number, range: UserIdRange, onlyNew: boolean): Promise<MemberDueRow[]> {
  return queryRows(
    trx,
    `SELECT m.id, m.due_state, m.event_at, m.due_at, m.created_at, m.created_at AS new_event FROM program_rule_members m
         WHERE m.rule_id = ? AND m.user_id BETWEEN ? AND ?${onlyNew ? " AND m.due_state = 'new'" : ''}`,
    [ruleId, range.lo, range.hi],
  );
}

/** The user ids the rule lists in the range, as a subquery (the users a due-date event is read for). */
export function memberUserIds(trx: Knex.Transaction, ruleId: number, range: UserIdRange): Knex.QueryBuilder {
  return trx('program_rule_members').select('user_id').where('rule_id', ruleId).whereBetween('user_id', [range.lo, range.hi]);
}

/**
 * The rule's rows in the range next to the event time `eventTimes` (rows `user_id`, `event_at`) gives
 * them: all of them, or with `changedOnly` those still new or whose event time moved.
 */
export function membersWithEventTimes(
  dialect: Dialect,
  trx: Knex.Transaction,
  ruleId: number,
  range: UserIdRange,
  eventTimes: SqlFragment,
  changedOnly: boolean,
): Promise<MemberDueRow[]> {
  const changedFilter = changedOnly ? ` AND (m.due_state = 'new' OR ${nullSafeDistinct(dialect, 'm.event_at', 'e.event_at')})` : '';
  return queryRows(
    trx,
    `SELECT m.id, m.due_state, m.event_at, m.due_at, m.created_at, e.event_at AS new_event
         FROM program_rule_members m LEFT JOIN (${eventTimes.sql}) e ON e.user_id = m.user_id
         WHERE m.rule_id = ? AND m.user_id BETWEEN ? AND ?${changedFilter}`,
    [...eventTimes.bindings, ruleId, range.lo, range.hi],
  );
}

/** Writes new due values (state, event time, due date) to membership rows by id; returns how many changed. */
export function writeMemberDue(dialect: Dialect, trx: Knex.Transaction, updates: ReadonlyArray<{ id: number; values: unknown[] }>): Promise<number> {
  return updateById(trx, dialect, 'program_rule_members', ['due_state', 'event_at', 'due_at'], updates);
}

/** Membership rows per rule in the range: one index-only statement per 500 rules. */
export async function memberCountsInRange(trx: Knex.Transaction, ruleIds: readonly number[], range: UserIdRange): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  for (const part of chunk(ruleIds, 500)) {
    const found = await queryRows<{ rule_id: number; n: number }>(
      trx,
      `SELECT rule_id, COUNT(*) AS n FROM program_rule_members WHERE rule_id IN (${placeholders(part.length)}) AND user_id BETWEEN ? AND ? GROUP BY rule_id`,
      [...part, range.lo, range.hi],
    );
    for (const r of found) out.set(num(r.rule_id), num(r.n));
  }
  return out;
}

/**
 * Which of the candidate rules' member queries list the user. SQLite: one cached statement per rule
 * shape (rules of a source share their SQL text), no round trips to save by combining them. MySQL:
 * one round trip for up to 100 rules; `const IN (subquery)` lets MariaDB probe each members query for
 * this one user (IN-to-EXISTS through the user_id indexes).
 */
export async function rulesListingUser(
  dialect: Dialect,
  trx: Knex.Transaction,
  candidates: ReadonlyArray<{ ruleId: number; members: () => Knex.QueryBuilder }>,
  userId: number,
): Promise<number[]> {
  const found: number[] = [];
  if (dialect === 'sqlite') {
    for (const c of candidates) {
      const q = sqlOf(c.members());
      const hit = await queryRows(trx, `SELECT 1 AS hit FROM (${q.sql}) s WHERE s.user_id = ? LIMIT 1`, [...q.bindings, userId]);
      if (hit.length) found.push(c.ruleId);
    }
    return found;
  }
  for (const part of chunk(candidates, 100)) {
    const arms = part.map((c) => {
      const q = sqlOf(c.members());
      return { sql: `SELECT ? AS rule_id FROM DUAL WHERE ? IN (${q.sql})`, bindings: [c.ruleId, userId, ...q.bindings] };
    });
    const hits = await queryRows<{ rule_id: number }>(
      trx,
      arms.map((a) => a.sql).join(' UNION ALL '),
      arms.flatMap((a) => a.bindings),
    );
    for (const h of hits) found.push(num(h.rule_id));
  }
  return found;
}

/** The ids of the rules that list the user. */
export async function ruleIdsListingUser(executor: Executor, userId: number): Promise<number[]> {
  const rows = await queryRows<{ rule_id: number }>(executor, 'SELECT rule_id FROM program_rule_members WHERE user_id = ?', [userId]);
  return rows.map((r) => num(r.rule_id));
}

/** Inserts membership rows. */
export async function insertMembers(
  trx: Knex.Transaction,
  rows: ReadonlyArray<{
    program_id: number;
    rule_id: number;
    user_id: number;
    due_state: string;
    event_at: number | null;
    due_at: number | null;
    created_at: number;
  }>,
): Promise<void> {
  await trx('program_rule_members').insert(rows);
}

/** Deletes the user's memberships of these rules; returns how many. */
export function deleteUserMemberships(trx: Knex.Transaction, userId: number, ruleIds: readonly number[]): Promise<number> {
  return runStatement(trx, `DELETE FROM program_rule_members WHERE user_id = ? AND rule_id IN (${placeholders(ruleIds.length)})`, [userId, ...ruleIds]);
}

/** The distinct (program, user) pairs of a route's holders subquery within the range. */
export async function holdersInRange(
  executor: Executor,
  holders: Knex.QueryBuilder,
  programIds: readonly number[],
  range: UserIdRange,
): Promise<Array<{ programId: number; userId: number }>> {
  const found = (await executor
    .from(holders.as('h'))
    .whereIn('h.program_id', programIds)
    .whereBetween('h.user_id', [range.lo, range.hi])
    .distinct('h.program_id', 'h.user_id')) as Array<{
    program_id: number;
    user_id: number;
  }>;
  return found.map((row) => ({ programId: num(row.program_id), userId: num(row.user_id) }));
}

/** The distinct users of a source's conflicts subquery (`user_id`) within the range. */
export async function conflictingInRange(executor: Executor, conflicts: Knex.QueryBuilder, range: UserIdRange): Promise<number[]> {
  const found = (await executor.from(conflicts.as('c')).whereBetween('c.user_id', [range.lo, range.hi]).distinct('c.user_id')) as Array<{
    user_id: number;
  }>;
  return found.map((row) => num(row.user_id));
}
