import type { Knex } from 'knex';
import type { Dialect, Executor } from '../../../kernel/db/database';
import { chunk } from '../../../kernel/db/sql';
import { num } from '../../../kernel/db/values';
import { rePrefixSql, whereUnder, whereUnderColumn } from './paths';
import { insertId } from './insert';

/** A `job_assignments` row. */
export interface JobRow {
  id: number;
  user_id: number;
  position_id: number | null;
  organisation_id: number | null;
  manager_job_assignment_id: number | null;
  manager_user_id: number | null;
  manager_path: string;
  start_date: number | null;
  position_assigned_date: number | null;
  created_at: number;
  updated_at: number;
}

/** The job assignment with this id, or undefined. */
export async function findJobRow(executor: Executor, id: number): Promise<JobRow | undefined> {
  return (await executor('job_assignments').where({ id }).first()) as JobRow | undefined;
}

/** A user's job assignments, by id. */
export async function jobRowsOfUser(executor: Executor, userId: number): Promise<JobRow[]> {
  return (await executor('job_assignments').where({ user_id: userId }).orderBy('id')) as JobRow[];
}

/** Assignments strictly below the management path `path` (everyone in that chain's team). */
export async function jobRowsBelow(trx: Knex.Transaction, path: string): Promise<JobRow[]> {
  return (await whereUnder(trx('job_assignments'), 'manager_path', path, false)) as JobRow[];
}

/** The direct reports of a job assignment. */
export async function directReportRows(trx: Knex.Transaction, managerJobAssignmentId: number): Promise<JobRow[]> {
  return (await trx('job_assignments').where('manager_job_assignment_id', managerJobAssignmentId)) as JobRow[];
}

/** Inserts a job assignment and returns its id (its management path is set once the id exists). */
export function insertJob(trx: Knex.Transaction, row: Omit<JobRow, 'id'>): Promise<number> {
  return insertId(trx, 'job_assignments', row);
}

/** Writes `changes` (columns of `job_assignments`) to one assignment. */
export async function updateJob(trx: Knex.Transaction, id: number, changes: Record<string, unknown>): Promise<void> {
  await trx('job_assignments').where({ id }).update(changes);
}

/**
 * Rewrites, in one UPDATE, the management path of the assignment at `oldPath` and of everyone
 * below it: `oldPath` becomes `newPath`.
 */
export async function rePathManagement(trx: Knex.Transaction, dialect: Dialect, oldPath: string, newPath: string): Promise<void> {
  await whereUnder(trx('job_assignments'), 'manager_path', oldPath, true).update({
    manager_path: rePrefixSql(trx, dialect, 'manager_path', oldPath, newPath),
  });
}

/** Leaves these assignments without a manager (batched). */
export async function clearManagers(trx: Knex.Transaction, ids: readonly number[], at: number): Promise<void> {
  for (const batch of chunk(ids)) {
    await trx('job_assignments').whereIn('id', batch).update({ manager_job_assignment_id: null, manager_user_id: null, updated_at: at });
  }
}

/** Deletes one job assignment. */
export async function deleteJob(trx: Knex.Transaction, id: number): Promise<void> {
  await trx('job_assignments').where({ id }).delete();
}

/** The assignments whose `column` (position_id or organisation_id) is one of `nodeIds` (a subquery), by id. */
export async function jobRowsAtNodes(trx: Knex.Transaction, column: 'position_id' | 'organisation_id', nodeIds: Knex.QueryBuilder): Promise<JobRow[]> {
  return (await trx('job_assignments').whereIn(column, nodeIds).orderBy('id')) as JobRow[];
}

/** A subquery of the distinct users with an assignment whose `column` is one of `nodeIds`. */
export function usersAtNodesQuery(trx: Knex.Transaction, column: 'position_id' | 'organisation_id', nodeIds: Knex.QueryBuilder): Knex.QueryBuilder {
  return trx('job_assignments').distinct('user_id').whereIn(column, nodeIds);
}

/**
 * A subquery of user ids managed through the job assignment: its direct team, or (allBelow)
 * everyone below it in the management tree, the anchor's path read in the same statement.
 */
export function teamMemberIdsQuery(executor: Executor, dialect: Dialect, managerJobAssignmentId: number, allBelow: boolean): Knex.QueryBuilder {
  if (!allBelow) return executor('job_assignments').where('manager_job_assignment_id', managerJobAssignmentId).select('user_id');
  const qb = executor('job_assignments as t')
    .join('job_assignments as anchor', (j) => j.on('anchor.id', '=', executor.raw('?', [managerJobAssignmentId])))
    .select('t.user_id');
  return whereUnderColumn(dialect, qb, 't.manager_path', 'anchor.manager_path', false);
}

/**
 * A subquery of the user ids below any of `managerUserId`'s job assignments in the management tree
 * (direct and indirect reports), the anchors' paths read in the same statement.
 */
export function managedUserIdsQuery(executor: Executor, dialect: Dialect, managerUserId: number): Knex.QueryBuilder {
  const qb = executor('job_assignments as t')
    .join('job_assignments as anchor', (j) => j.on('anchor.user_id', '=', executor.raw('?', [managerUserId])))
    .select('t.user_id');
  return whereUnderColumn(dialect, qb, 't.manager_path', 'anchor.manager_path', false);
}

/** Whether any job assignment has this user as its manager (indexed on manager_user_id). */
export async function hasDirectReports(executor: Executor, userId: number): Promise<boolean> {
  const row: unknown = await executor('job_assignments').where('manager_user_id', userId).first('id');
  return row !== undefined;
}

/** The users who directly manage `userId` (through any of their job assignments), once each. */
export async function directManagerIds(executor: Executor, userId: number): Promise<number[]> {
  const rows = (await executor('job_assignments').where('user_id', userId).whereNotNull('manager_user_id').distinct('manager_user_id')) as Array<{
    manager_user_id: number;
  }>;
  return rows.map((r) => num(r.manager_user_id));
}
