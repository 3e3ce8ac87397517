import type { AudienceRuleCondition } from '../people/index';
import { openAssignmentMembers, programFullname } from './store/lookups';

/**
 * "Has an open / overdue assignment in program Y", contributed to the people module's
 * audience-rule-condition extension point. Open: assigned and not complete. Overdue: open with a
 * due date in the past. Due dates pass with no event, and reacting to assignment changes inline could
 * loop (an audience assigning the program it is defined by), so audiences using it are recomputed by
 * the hourly refresh job, after an edit, and whenever something else about the learner changes.
 */
export function programAssignmentCondition(): AudienceRuleCondition {
  return {
    label: 'Has an assignment in program',
    schema: {
      type: 'object',
      additionalProperties: false,
      required: ['type', 'programId', 'state'],
      properties: { type: { const: 'program_assignment' }, programId: { type: 'integer', minimum: 1 }, state: { enum: ['open', 'overdue'] } },
    },
    changesWithTime: true,
    async validate(rule, ctx) {
      const programId = Number(rule.programId);
      return (await programFullname(ctx.db, programId)) === undefined
        ? [{ path: 'programId', code: 'PROGRAM_NOT_FOUND', message: `No program with id ${programId}` }]
        : [];
    },
    members: (rule, ctx) => openAssignmentMembers(ctx.db, Number(rule.programId), rule.state === 'overdue' ? ctx.now : null),
    async describe(rule, ctx) {
      const name = (await programFullname(ctx.db, Number(rule.programId))) ?? `#${String(rule.programId)}`;
      return `Has an ${rule.state === 'overdue' ? 'overdue' : 'open'} assignment in program ${name}`;
    },
    instance: {
      property: 'programId',
      picker: 'programs',
      templates: [
        { label: 'Has an open assignment in program …', rule: { type: 'program_assignment', state: 'open' } },
        { label: 'Has an overdue assignment in program …', rule: { type: 'program_assignment', state: 'overdue' } },
      ],
    },
  };
}
