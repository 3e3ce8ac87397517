import { definePlugin, peopleServices, type AssignmentSource, type AudienceService, type RuleInstance } from '../../core/index';

/** `instanceId` is the audience id. */
export type AudienceInstance = RuleInstance;

/** Assignment source `audience`: the members of a static or dynamic audience. */
export function createAudienceSource(audiences: AudienceService): AssignmentSource<AudienceInstance> {
  return {
    type: 'audience',
    name: 'Audience',
    picker: 'audiences',
    instanceSchema: {
      type: 'object',
      additionalProperties: false,
      required: ['instanceId'],
      properties: { instanceId: { type: 'integer', minimum: 1, title: 'Audience', 'x-picker': 'audiences' } },
    },

    async validate(instance, ctx) {
      if (await audiences.find(instance.instanceId, ctx.db)) return [];
      return [{ path: 'instanceId', code: 'AUDIENCE_NOT_FOUND', message: `No audience with id ${instance.instanceId}` }];
    },

    async describe(instance, ctx) {
      const audience = await audiences.find(instance.instanceId, ctx.db);
      return audience ? `Members of audience ${audience.name}` : `Members of audience ${instance.instanceId} (deleted)`;
    },

    members(instance, ctx) {
      // Reads the unique (audience_id, user_id) index: no duplicates, no extra DISTINCT.
      return audiences.membersQuery(instance.instanceId, ctx.db);
    },

    affectedRules(change, rules) {
      // Dynamic audiences report their own membership flips, so one event type covers both kinds.
      if (change.type !== 'audience_membership') return [];
      return rules.filter((r) => r.instance.instanceId === change.audienceId).map((r) => r.id);
    },

    affectedRulesInBatch(batch, rules) {
      // The rules naming the audience, whoever flipped: the core re-syncs them for the batch's range.
      return rules.filter((r) => r.instance.instanceId === batch.audienceId).map((r) => r.id);
    },
  };
}

export default definePlugin({
  deps: { audiences: peopleServices.audiences },
  id: 'assign_audience',
  register(ctx) {
    const source = createAudienceSource(ctx.deps.audiences);
    ctx.extensions.contribute('assignmentSources', source.type, source);
  },
});
