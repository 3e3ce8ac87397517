import type { Knex } from 'knex';
import { definePlugin, type AssignmentSource, type JobAssignmentSnapshot, type RuleInstance, type SourceContext } from '../../core/index';

/** `instanceId` is the position id; `includeChildren` adds every position below it. */
export interface PositionInstance extends RuleInstance {
  includeChildren?: boolean;
}

const KIND = 'position';
const COLUMN = 'position_id';

const sameSnapshot = (a: JobAssignmentSnapshot, b: JobAssignmentSnapshot): boolean =>
  a.positionId === b.positionId &&
  a.organisationId === b.organisationId &&
  a.managerJobAssignmentId === b.managerJobAssignmentId &&
  a.startDate === b.startDate &&
  a.positionAssignedDate === b.positionAssignedDate;

/** Node ids on the paths from the root down to each of `nodeIds` (materialised paths `/1/4/9/`). */
async function selfAndAncestors(ctx: SourceContext, nodeIds: number[]): Promise<Set<number>> {
  const rows = (await ctx.db('hierarchy_nodes').whereIn('id', nodeIds).where('kind', KIND).select('path')) as Array<{ path: string }>;
  return new Set(rows.flatMap((r) => r.path.split('/').filter(Boolean).map(Number)));
}

/** Assignment source `position`: users with a job assignment in the position (and, optionally, below it). */
export const positionSource: AssignmentSource<PositionInstance> = {
  type: KIND,
  name: 'Position',
  instanceSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['instanceId'],
    properties: { instanceId: { type: 'integer', minimum: 1 }, includeChildren: { type: 'boolean' } },
  },

  async validate(instance, ctx) {
    if (await ctx.services.hierarchy.find(KIND, instance.instanceId, ctx.db)) return [];
    return [{ path: 'instanceId', code: 'POSITION_NOT_FOUND', message: `No position with id ${instance.instanceId}` }];
  },

  async describe(instance, ctx) {
    const node = await ctx.services.hierarchy.find(KIND, instance.instanceId, ctx.db);
    const name = node ? node.name : `${instance.instanceId} (deleted)`;
    return `Position ${name}${instance.includeChildren ? ' and all below' : ''}`;
  },

  members(instance, ctx): Knex.QueryBuilder {
    const jobs = ctx.db('job_assignments');
    if (instance.includeChildren) jobs.whereIn(COLUMN, ctx.services.hierarchy.descendantsQuery(KIND, instance.instanceId, true, ctx.db));
    else jobs.where(COLUMN, instance.instanceId);
    // A user may hold several job assignments in the subtree; the member set lists them once.
    return jobs.distinct('user_id');
  },

  async affectedRules(change, rules, ctx) {
    if (change.type !== 'job_assignment' || rules.length === 0) return [];
    if (change.old && change.new && sameSnapshot(change.old, change.new)) {
      // "Something above you moved" (a subtree of the tree, or the management chain): the node is
      // the same but its ancestors may not be, and the old ones are no longer readable, so every
      // "and all below" rule is rechecked for this user. Exact-node rules cannot change.
      return rules.filter((r) => r.instance.includeChildren).map((r) => r.id);
    }
    const before = change.old?.positionId ?? null;
    const after = change.new?.positionId ?? null;
    if (before === after) return [];
    const touched = [before, after].filter((id): id is number => id !== null);
    const exact = new Set(touched);
    // "And all below" rules care about every node above the old and new positions: one primary-key lookup.
    const within = rules.some((r) => r.instance.includeChildren) ? await selfAndAncestors(ctx, touched) : exact;
    return rules.filter((r) => (r.instance.includeChildren ? within : exact).has(r.instance.instanceId)).map((r) => r.id);
  },
};

export default definePlugin({
  id: 'assign_position',
  register(ctx) {
    ctx.extensions.contribute('assignmentSources', positionSource.type, positionSource);
  },
});
