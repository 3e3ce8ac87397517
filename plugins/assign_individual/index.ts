import { definePlugin, peopleServices, peopleViews, type AssignmentSource, type RuleInstance, type UserService } from '../../core/index';

/** `instanceId` is the user's id: one rule names one learner. */
export type IndividualInstance = RuleInstance;

/** User changes that can make a named learner start or stop counting (the core drops inactive users itself). */
const RELEVANT_USER_FIELDS: ReadonlySet<string> = new Set(['created', 'suspended', 'deleted']);

/** Assignment source `individual`: exactly the named user. */
export function createIndividualSource(users: UserService): AssignmentSource<IndividualInstance> {
  return {
    type: 'individual',
    name: 'Individual',
    picker: 'users',
    instanceSchema: {
      type: 'object',
      additionalProperties: false,
      required: ['instanceId'],
      properties: { instanceId: { type: 'integer', minimum: 1, title: 'User', 'x-picker': 'users' } },
    },

    async validate(instance, ctx) {
      const user = await users.find(instance.instanceId, ctx.db);
      if (user && !user.deleted) return [];
      return [{ path: 'instanceId', code: 'USER_NOT_FOUND', message: `No user with id ${instance.instanceId}` }];
    },

    async describe(instance, ctx) {
      const user = await users.find(instance.instanceId, ctx.db);
      return user ? `User ${user.fullname} (${user.username})` : `User ${instance.instanceId} (deleted)`;
    },

    // Through people's published users view: the plugin reads other owners' data, never their tables.
    members(instance, ctx) {
      return ctx.db(peopleViews.users.as('u')).where('u.id', instance.instanceId).select('u.id as user_id');
    },

    affectedRules(change, rules) {
      if (change.type !== 'user' || !RELEVANT_USER_FIELDS.has(change.field)) return [];
      return rules.filter((r) => r.instance.instanceId === change.userId).map((r) => r.id);
    },
  };
}

export default definePlugin({
  deps: { users: peopleServices.users },
  id: 'assign_individual',
  register(ctx) {
    const source = createIndividualSource(ctx.deps.users);
    ctx.extensions.contribute('assignmentSources', source.type, source);
  },
});
