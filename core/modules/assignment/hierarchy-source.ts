import type { Knex } from 'knex';
import { isAncestryOnlyChange } from '../people/index';
import type { HierarchyService } from '../people/index';
import type { AssignmentSource, RuleInstance, SourceContext } from './types';

/** `instanceId` is a hierarchy node id; `includeChildren` adds every node below it. */
export interface HierarchyInstance extends RuleInstance {
  includeChildren?: boolean;
}

type HierarchyKind = 'organisation' | 'position';

const SNAPSHOT_COLUMN = { position: 'positionId', organisation: 'organisationId' } as const;

/**
 * An assignment source over one of the job-assignment hierarchies: users with a job assignment at
 * the node (and, with `includeChildren`, anywhere below it). Shared by assign_position and
 * assign_organisation, and available to plugin authors with their own hierarchy-shaped sources;
 * `hierarchy` is the people module's service, which the calling plugin declares in its deps.
 */
export function createHierarchySource(kind: HierarchyKind, label: string, hierarchy: Pick<HierarchyService, 'find'>): AssignmentSource<HierarchyInstance> {
  const column = `${kind}_id`;
  const notFound = `${kind.toUpperCase()}_NOT_FOUND`;

  /** Node ids on the paths from the root down to each of `nodeIds` (materialised paths `/1/4/9/`). */
  async function selfAndAncestors(ctx: SourceContext, nodeIds: number[]): Promise<Set<number>> {
    const rows = (await ctx.db('hierarchy_nodes').whereIn('id', nodeIds).where('kind', kind).select('path')) as Array<{ path: string }>;
    return new Set(rows.flatMap((r) => r.path.split('/').filter(Boolean).map(Number)));
  }

  return {
    type: kind,
    name: label,
    instanceSchema: {
      type: 'object',
      additionalProperties: false,
      required: ['instanceId'],
      properties: { instanceId: { type: 'integer', minimum: 1 }, includeChildren: { type: 'boolean' } },
    },

    async validate(instance, ctx) {
      if (await hierarchy.find(kind, instance.instanceId, ctx.db)) return [];
      return [{ path: 'instanceId', code: notFound, message: `No ${kind} with id ${instance.instanceId}` }];
    },

    async describe(instance, ctx) {
      const node = await hierarchy.find(kind, instance.instanceId, ctx.db);
      const name = node ? node.name : `${instance.instanceId} (deleted)`;
      return `${label} ${name}${instance.includeChildren ? ' and all below' : ''}`;
    },

    members(instance, ctx): Knex.QueryBuilder {
      // A user with several job assignments in the subtree is listed more than once; the core
      // de-duplicates. No DISTINCT here: it would stop the databases from pushing the core's user
      // filter into this query, and a one-user probe would read the whole node.
      if (!instance.includeChildren) return ctx.db('job_assignments').where(column, instance.instanceId).select('user_id');
      // A join rather than `IN (descendants)`: MariaDB plans the IN-subquery form as a scan per
      // batch, while the join reads the anchor by primary key, range-scans the path index and
      // follows job_assignments' index on the node column.
      const mysql = (ctx.db.client as { config: { client: string } }).config.client === 'mysql2';
      const upper = mysql ? "CONCAT(anchor.path, '~')" : "(anchor.path || '~')";
      return ctx
        .db('job_assignments as ja')
        .join('hierarchy_nodes as node', 'node.id', `ja.${column}`)
        .join('hierarchy_nodes as anchor', (j) => j.on('anchor.id', '=', ctx.db.raw('?', [instance.instanceId])))
        .where('node.kind', kind)
        .where('anchor.kind', kind)
        .whereRaw('node.path >= anchor.path')
        .whereRaw(`node.path < ${upper}`)
        .select({ user_id: 'ja.user_id' });
    },

    async affectedRules(change, rules, ctx) {
      if (change.type !== 'job_assignment' || rules.length === 0) return [];
      if (isAncestryOnlyChange(change)) {
        // "Something above you moved" (a subtree, or the management chain): the node is the same but
        // its ancestors may not be, and the old ones are no longer readable, so every "and all below"
        // rule is rechecked for this user. Exact-node rules cannot change.
        return rules.filter((r) => r.instance.includeChildren).map((r) => r.id);
      }
      const before = change.old?.[SNAPSHOT_COLUMN[kind]] ?? null;
      const after = change.new?.[SNAPSHOT_COLUMN[kind]] ?? null;
      if (before === after) return [];
      const touched = [before, after].filter((id): id is number => id !== null);
      const exact = new Set(touched);
      // "And all below" rules care about every node above the old and new nodes: one primary-key lookup.
      const within = rules.some((r) => r.instance.includeChildren) ? await selfAndAncestors(ctx, touched) : exact;
      return rules.filter((r) => (r.instance.includeChildren ? within : exact).has(r.instance.instanceId)).map((r) => r.id);
    },
  };
}
