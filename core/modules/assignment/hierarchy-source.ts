import type { Knex } from 'knex';
import { isAncestryOnlyChange } from '../people/index';
import type { HierarchyService } from '../people/index';
import type { AssignmentSource, RuleInstance, SourceContext } from './types';
import { membersAtNode, membersInSubtree, nodePaths } from './store/hierarchy-members';

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
  const column = `${kind}_id` as const;
  const notFound = `${kind.toUpperCase()}_NOT_FOUND`;

  /** Node ids on the paths from the root down to each of `nodeIds` (materialised paths `/1/4/9/`). */
  async function selfAndAncestors(ctx: SourceContext, nodeIds: number[]): Promise<Set<number>> {
    const paths = await nodePaths(ctx.db, kind, nodeIds);
    return new Set(paths.flatMap((path) => path.split('/').filter(Boolean).map(Number)));
  }

  return {
    type: kind,
    name: label,
    picker: kind === 'position' ? 'positions' : 'organisations',
    instanceSchema: {
      type: 'object',
      additionalProperties: false,
      required: ['instanceId'],
      properties: {
        instanceId: { type: 'integer', minimum: 1, title: label, 'x-picker': kind === 'position' ? 'positions' : 'organisations' },
        includeChildren: { type: 'boolean', title: `Include every ${kind} below it` },
      },
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
      // Several job assignments in the subtree list a user more than once; the core de-duplicates
      // (store/hierarchy-members.ts says why the queries must not).
      return instance.includeChildren ? membersInSubtree(ctx.db, kind, column, instance.instanceId) : membersAtNode(ctx.db, column, instance.instanceId);
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
