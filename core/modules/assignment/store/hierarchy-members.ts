import type { Knex } from 'knex';
import type { Executor } from '../../../kernel/db/database';
import { peopleViews } from '../../people/index';

/**
 * Member subqueries of the hierarchy assignment sources, over the people module's job assignments and
 * hierarchy nodes. Each selects one column, `user_id`; a user with several job assignments in the
 * subtree is listed more than once (the sync de-duplicates). No DISTINCT here: it would stop the
 * databases from pushing the sync's user filter into these queries, and a one-user probe would read
 * the whole node.
 */

/** Users with a job assignment at exactly this node (`column`: `position_id` or `organisation_id`). */
export function membersAtNode(executor: Executor, column: 'position_id' | 'organisation_id', nodeId: number): Knex.QueryBuilder {
  return executor(peopleViews.jobAssignments.as('ja')).where(`ja.${column}`, nodeId).select('ja.user_id');
}

/**
 * Users with a job assignment at the node or anywhere below it in the hierarchy of `kind`. A join
 * rather than `IN (descendants)`: MariaDB plans the IN-subquery form as a scan per batch, while the
 * join reads the anchor by primary key, range-scans the path index and follows job_assignments'
 * index on the node column.
 */
export function membersInSubtree(
  executor: Executor,
  kind: 'position' | 'organisation',
  column: 'position_id' | 'organisation_id',
  nodeId: number,
): Knex.QueryBuilder {
  const mysql = (executor.client as { config: { client: string } }).config.client === 'mysql2';
  const upper = mysql ? "CONCAT(anchor.path, '~')" : "(anchor.path || '~')";
  return executor(peopleViews.jobAssignments.as('ja'))
    .join(peopleViews.hierarchyNodes.as('node'), 'node.id', `ja.${column}`)
    .join(peopleViews.hierarchyNodes.as('anchor'), (j) => j.on('anchor.id', '=', executor.raw('?', [nodeId])))
    .where('node.kind', kind)
    .where('anchor.kind', kind)
    .whereRaw('node.path >= anchor.path')
    .whereRaw(`node.path < ${upper}`)
    .select({ user_id: 'ja.user_id' });
}

/** Materialised paths (`/1/4/9/`) of these nodes of one hierarchy. */
export async function nodePaths(executor: Executor, kind: 'position' | 'organisation', nodeIds: readonly number[]): Promise<string[]> {
  const rows = (await executor(peopleViews.hierarchyNodes.as('n')).whereIn('n.id', nodeIds).where('n.kind', kind).select('n.path')) as Array<{ path: string }>;
  return rows.map((r) => r.path);
}
