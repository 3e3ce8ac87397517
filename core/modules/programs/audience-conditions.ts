import type { AudienceRuleCondition } from '../people/index';
import { programCompletedMembers, programFullname } from './store/programs';

/**
 * "Completed program Y", contributed to the people module's audience-rule-condition extension point
 * (people cannot import programs: the extension point is the port). A program completion fires
 * `onAssignmentChange` (`program_completion`) in the completing transaction, and people recomputes
 * that learner's audiences there.
 */
export function programCompletedCondition(): AudienceRuleCondition {
  return {
    label: 'Completed program',
    schema: {
      type: 'object',
      additionalProperties: false,
      required: ['type', 'programId'],
      properties: { type: { const: 'program_completed' }, programId: { type: 'integer', minimum: 1 } },
    },
    async validate(rule, ctx) {
      const programId = Number(rule.programId);
      return (await programFullname(ctx.db, programId)) === null
        ? [{ path: 'programId', code: 'PROGRAM_NOT_FOUND', message: `No program with id ${programId}` }]
        : [];
    },
    members: (rule, ctx) => programCompletedMembers(ctx.db, Number(rule.programId)),
    async describe(rule, ctx) {
      return `Completed program ${(await programFullname(ctx.db, Number(rule.programId))) ?? `#${String(rule.programId)}`}`;
    },
    instance: { property: 'programId', picker: 'programs', templates: [{ label: 'Completed program …', rule: { type: 'program_completed' } }] },
  };
}
