import type { Knex } from 'knex';
import type { Executor } from '../../../kernel/db/database';
import { chunk, placeholders, queryRows } from '../../../kernel/db/sql';
import { num } from '../../../kernel/db/values';

/** A row of `program_assignment_rules` as stored. */
export interface RuleRow {
  id: number;
  program_id: number;
  source: string;
  instance: string;
  due_kind: 'none' | 'fixed' | 'relative';
  due_date: number | null;
  due_within: string | null;
  due_event: string | null;
  due_instance_id: number | null;
  version: number;
  deleted_at: number | null;
  created_at: number;
  updated_at: number;
}

/** Stored rules in id order: all live ones, or a program's, or one; rules being removed only with `includeDeleted`. */
export async function ruleRows(
  executor: Executor,
  where: { programId?: number; ruleId?: number; ruleIds?: readonly number[]; includeDeleted?: boolean } = {},
): Promise<RuleRow[]> {
  const qb = executor('program_assignment_rules').select('*').orderBy('id');
  if (where.programId !== undefined) qb.where('program_id', where.programId);
  if (where.ruleId !== undefined) qb.where('id', where.ruleId);
  if (where.ruleIds !== undefined) qb.whereIn('id', where.ruleIds);
  if (!where.includeDeleted) qb.whereNull('deleted_at');
  return (await qb) as RuleRow[];
}

/**
 * A fingerprint of the live rules (count, highest id, latest edit): any add, edit or removal changes
 * it. One aggregate over the small rules table.
 */
export async function liveRulesSignature(executor: Executor): Promise<string> {
  const [sig] = await queryRows<{ n: number; m: number | null; u: number | null }>(
    executor,
    'SELECT COUNT(*) AS n, MAX(id) AS m, MAX(updated_at) AS u FROM program_assignment_rules WHERE deleted_at IS NULL',
  );
  return `${sig?.n}:${sig?.m}:${sig?.u}`;
}

/** Inserts a rule; returns its id. */
export async function insertRule(trx: Knex.Transaction, row: Record<string, unknown>): Promise<number> {
  const [id] = (await trx('program_assignment_rules').insert(row)) as [number];
  return Number(id);
}

/**
 * Of these users, the ones that have no live `individual` rule on the program: index probes of
 * (program, source, instance), a statement per 500 users.
 */
export async function usersWithoutIndividualRule(executor: Executor, programId: number, userIds: readonly number[]): Promise<number[]> {
  const taken = new Set<number>();
  for (const part of chunk(userIds, 500)) {
    const rows = (await executor('program_assignment_rules')
      .where({ program_id: programId, source: 'individual' })
      .whereIn('instance_id', part)
      .whereNull('deleted_at')
      .select('instance_id')) as Array<{ instance_id: number }>;
    for (const row of rows) taken.add(num(row.instance_id));
  }
  return userIds.filter((id) => !taken.has(id));
}

/** Inserts one `individual` rule per user with the same due columns; returns the new rule ids. */
export async function insertIndividualRules(
  trx: Knex.Transaction,
  programId: number,
  userIds: readonly number[],
  columns: Record<string, unknown>,
): Promise<number[]> {
  const ids: number[] = [];
  for (const part of chunk(userIds, 200)) {
    await trx('program_assignment_rules').insert(
      part.map((userId) => ({
        program_id: programId,
        source: 'individual',
        instance: JSON.stringify({ instanceId: userId }),
        instance_id: userId,
        ...columns,
      })),
    );
    // Neither dialect returns every id of a multi-row insert: read them back through the same index.
    const rows = (await trx('program_assignment_rules')
      .where({ program_id: programId, source: 'individual' })
      .whereIn('instance_id', part)
      .whereNull('deleted_at')
      .select('id')) as Array<{ id: number }>;
    ids.push(...rows.map((r) => num(r.id)));
  }
  return ids;
}

/** Changes a rule's columns (due rule, version, removal mark). */
export async function updateRule(trx: Knex.Transaction, ruleId: number, changes: Record<string, unknown>): Promise<void> {
  await trx('program_assignment_rules').where({ id: ruleId }).update(changes);
}

/** Deletes a rule unless it was edited since `version` was read; returns whether it was deleted. */
export async function deleteRuleAtVersion(executor: Executor, ruleId: number, version: number): Promise<number> {
  return executor('program_assignment_rules').where({ id: ruleId, version }).delete();
}

/** Membership rows per rule (rules without members are absent). */
export async function memberCountsByRule(executor: Executor, ruleIds: readonly number[]): Promise<Map<number, number>> {
  const counts = new Map<number, number>();
  for (const part of chunk(ruleIds, 500)) {
    if (!part.length) continue;
    for (const row of await queryRows<{ rule_id: number; n: number }>(
      executor,
      `SELECT rule_id, COUNT(*) AS n FROM program_rule_members WHERE rule_id IN (${placeholders(part.length)}) GROUP BY rule_id`,
      part,
    )) {
      counts.set(num(row.rule_id), num(row.n));
    }
  }
  return counts;
}
