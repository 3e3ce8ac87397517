import {
  definePlugin,
  isAncestryOnlyChange,
  peopleServices,
  peopleViews,
  type AssignmentSource,
  type HierarchyService,
  type JobAssignmentService,
  type RuleInstance,
  type SourceContext,
  type SourceRule,
  type UserService,
} from '../../core/index';

/** `instanceId` is the manager's job assignment id; `includeChildren` means everyone below, not just the direct team. */
export interface ManagerInstance extends RuleInstance {
  includeChildren?: boolean;
}

type ManagerRule = SourceRule<ManagerInstance>;

/** Job assignment ids in a management path `/3/17/42/`, top first. */
const idsOf = (managerPath: string): number[] => managerPath.split('/').filter(Boolean).map(Number);

/**
 * "All below" rules whose manager joined or left the chain above the changed job assignment. The
 * chain above it is its manager's own path, read with one primary-key lookup over people's
 * published job assignments view; the changed assignment's old manager is still in place during
 * the event (only its subordinates moved).
 */
async function chainRules(ctx: SourceContext, below: ManagerRule[], before: number | null, after: number | null): Promise<number[]> {
  const ids = [before, after].filter((id): id is number => id !== null);
  const rows = ids.length
    ? ((await ctx.db(peopleViews.jobAssignments.as('j')).whereIn('j.id', ids).select('j.id', 'j.manager_path')) as Array<{
        id: number | string;
        manager_path: string;
      }>)
    : [];
  const paths = new Map(rows.map((r) => [Number(r.id), new Set(idsOf(r.manager_path))]));
  // The old manager's assignment was deleted in this same change: its chain is gone, so every
  // "all below" rule may have lost this learner.
  if (before !== null && !paths.has(before)) return below.map((r) => r.id);
  const was = before === null ? new Set<number>() : paths.get(before)!;
  const now = after === null ? new Set<number>() : (paths.get(after) ?? new Set<number>());
  return below.filter((r) => was.has(r.instance.instanceId) !== now.has(r.instance.instanceId)).map((r) => r.id);
}

/** Assignment source `manager`: a manager's direct team, or everyone below them. */
export function createManagerSource(people: {
  users: UserService;
  jobAssignments: JobAssignmentService;
  hierarchy: HierarchyService;
}): AssignmentSource<ManagerInstance> {
  return {
    type: 'manager',
    name: "Manager's team",
    picker: 'managers',
    instanceSchema: {
      type: 'object',
      additionalProperties: false,
      required: ['instanceId'],
      properties: {
        instanceId: {
          type: 'integer',
          minimum: 1,
          title: 'Manager',
          description: 'A manager’s job assignment: their team are its direct reports',
          'x-picker': 'managers',
        },
        includeChildren: { type: 'boolean', title: 'Include their whole team', description: 'Everyone below the manager, not only direct reports' },
      },
    },

    async validate(instance, ctx) {
      if (await people.jobAssignments.find(instance.instanceId, ctx.db)) return [];
      return [{ path: 'instanceId', code: 'JOB_ASSIGNMENT_NOT_FOUND', message: `No job assignment with id ${instance.instanceId}` }];
    },

    async describe(instance, ctx) {
      const scope = instance.includeChildren ? 'Everyone below' : 'Direct team of';
      const job = await people.jobAssignments.find(instance.instanceId, ctx.db);
      if (!job) return `${scope} job assignment ${instance.instanceId} (deleted)`;
      const user = await people.users.find(job.userId, ctx.db);
      const position = job.positionId === null ? null : await people.hierarchy.find('position', job.positionId, ctx.db);
      return `${scope} ${user?.fullname ?? `user ${job.userId}`}${position ? ` (${position.name})` : ''}`;
    },

    members(instance, ctx) {
      return people.jobAssignments.teamQuery(instance.instanceId, instance.includeChildren === true, ctx.db);
    },

    async affectedRules(change, rules, ctx) {
      if (change.type !== 'job_assignment' || rules.length === 0) return [];
      const before = change.old?.managerJobAssignmentId ?? null;
      const after = change.new?.managerJobAssignmentId ?? null;
      const below = rules.filter((r) => r.instance.includeChildren);
      if (isAncestryOnlyChange(change)) {
        // The people service reports "someone above you moved" with an unchanged snapshot. The old
        // chain above is no longer readable, so every "all below" rule is rechecked for this user
        // (direct teams cannot change: the direct manager is the same).
        return below.map((r) => r.id);
      }
      if (before === after) return [];
      const direct = rules.filter((r) => !r.instance.includeChildren && (r.instance.instanceId === before || r.instance.instanceId === after)).map((r) => r.id);
      return below.length ? [...direct, ...(await chainRules(ctx, below, before, after))] : direct;
    },
  };
}

export default definePlugin({
  deps: { users: peopleServices.users, jobAssignments: peopleServices.jobAssignments, hierarchy: peopleServices.hierarchy },
  id: 'assign_manager',
  register(ctx) {
    const source = createManagerSource(ctx.deps);
    ctx.extensions.contribute('assignmentSources', source.type, source);
  },
});
