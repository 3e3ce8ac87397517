import type { AudienceRuleCondition } from './audience-rules';
import type { HierarchyService } from './hierarchy';
import type { ProfileFieldService } from './profile-fields';
import {
  audienceMembers,
  courseCompletedMembers,
  courseName,
  findAudienceRow,
  hierarchyMembers,
  profileValueMembers,
  userFieldMembers,
} from './store/audiences';
import { WaymarkError } from '../../kernel/errors';
import type { AudienceRule, HierarchyNode, ProfileField } from './types';

const id = { type: 'integer', minimum: 1 } as const;
type Rule<T extends AudienceRule['type']> = Extract<AudienceRule, { type: T }>;

/**
 * The people module's own audience rule conditions, contributed to the extension point like any
 * other (programs contributes "completed program", assignment "has an open/overdue assignment").
 */
export function peopleConditions(deps: { profileFields: ProfileFieldService; hierarchy: HierarchyService }): Record<string, AudienceRuleCondition> {
  const profileField: AudienceRuleCondition<Rule<'profile_field'> & { [k: string]: unknown }> = {
    label: 'Profile field',
    schema: {
      type: 'object',
      additionalProperties: false,
      required: ['type', 'field', 'value'],
      properties: { type: { const: 'profile_field' }, field: { type: 'string', minLength: 1 }, value: { type: ['string', 'number', 'boolean'] } },
    },
    async validate(rule, ctx) {
      const field = await deps.profileFields.findByShortname(rule.field, ctx.db);
      if (!field) return [{ path: 'field', code: 'USER_PROFILE_FIELD_UNKNOWN', message: `Unknown profile field "${rule.field}"` }];
      try {
        deps.profileFields.normalise(field, rule.value, 'value');
      } catch (error) {
        if (error instanceof WaymarkError) return [{ path: 'value', code: error.code, message: error.message }];
        throw error;
      }
      return [];
    },
    // Names are resolved when the rule is evaluated, so a validated rule always finds its field.
    prepare: (rule, ctx) => deps.profileFields.findByShortname(rule.field, ctx.db),
    members(rule, ctx, prepared) {
      const field = prepared as ProfileField | null;
      if (!field) return profileValueMembers(ctx.db, 0, 'value_text', '');
      const stored = deps.profileFields.normalise(field, rule.value, 'value');
      return stored.valueDate !== null
        ? profileValueMembers(ctx.db, field.id, 'value_date', stored.valueDate)
        : profileValueMembers(ctx.db, field.id, 'value_text', stored.valueText ?? '');
    },
    async describe(rule, ctx) {
      const field = await deps.profileFields.findByShortname(rule.field, ctx.db);
      return `${field?.name ?? rule.field} is ${String(rule.value)}`;
    },
    needsValue: true,
    async picker(ctx, limit) {
      const fields = (await deps.profileFields.list(ctx.db)).slice(0, limit);
      return fields.map((f) => ({ label: `${f.name} is …`, rule: { type: 'profile_field', field: f.shortname } }));
    },
  };

  const userField: AudienceRuleCondition<Rule<'user_field'> & { [k: string]: unknown }> = {
    label: 'Preferred language or time zone',
    schema: {
      type: 'object',
      additionalProperties: false,
      required: ['type', 'field', 'value'],
      properties: { type: { const: 'user_field' }, field: { enum: ['lang', 'timezone'] }, value: { type: 'string' } },
    },
    members: (rule, ctx) => userFieldMembers(ctx.db, rule.field, rule.value),
    describe: async (rule) => `${rule.field === 'lang' ? 'Preferred language' : 'Time zone'} is ${rule.value}`,
    needsValue: true,
    picker: async () => [
      { label: 'Preferred language is …', rule: { type: 'user_field', field: 'lang' } },
      { label: 'Time zone is …', rule: { type: 'user_field', field: 'timezone' } },
    ],
  };

  const hierarchy = (kind: 'position' | 'organisation'): AudienceRuleCondition => {
    const key = kind === 'position' ? 'positionId' : 'organisationId';
    const nodeOf = async (rule: Record<string, unknown>, db: Parameters<HierarchyService['find']>[2]) => deps.hierarchy.find(kind, Number(rule[key]), db);
    return {
      label: kind === 'position' ? 'Position' : 'Organisation',
      schema: {
        type: 'object',
        additionalProperties: false,
        required: ['type', key],
        properties: { type: { const: kind }, [key]: id, includeChildren: { type: 'boolean' } },
      },
      async validate(rule, ctx) {
        if (await nodeOf(rule, ctx.db)) return [];
        const code = kind === 'position' ? 'POSITION_NOT_FOUND' : 'ORGANISATION_NOT_FOUND';
        return [{ path: key, code, message: `No ${kind} with id ${String(rule[key])}` }];
      },
      // The path is read at evaluation time, so moving the subtree moves the audience with it.
      prepare: (rule, ctx) => nodeOf(rule, ctx.db),
      members(rule, ctx, prepared) {
        const node = prepared as HierarchyNode | null;
        if (!node) return hierarchyMembers(ctx.db, kind, 0, null);
        return hierarchyMembers(ctx.db, kind, node.id, rule.includeChildren ? node.path : null);
      },
      async describe(rule, ctx) {
        const node = await nodeOf(rule, ctx.db);
        return `${kind === 'position' ? 'Position' : 'Organisation'} ${node?.name ?? `#${String(rule[key])}`}${rule.includeChildren ? ' and all below' : ''}`;
      },
      instance: {
        property: key,
        picker: kind === 'position' ? 'positions' : 'organisations',
        templates: [
          { label: `${kind === 'position' ? 'Position' : 'Organisation'} …`, rule: { type: kind } },
          { label: `${kind === 'position' ? 'Position' : 'Organisation'} … and all below`, rule: { type: kind, includeChildren: true } },
        ],
      },
    };
  };

  const audience: AudienceRuleCondition<Rule<'audience'> & { [k: string]: unknown }> = {
    label: 'Member of audience',
    schema: { type: 'object', additionalProperties: false, required: ['type', 'audienceId'], properties: { type: { const: 'audience' }, audienceId: id } },
    async validate(rule, ctx) {
      if (!(await findAudienceRow(ctx.db, rule.audienceId)))
        return [{ path: 'audienceId', code: 'AUDIENCE_NOT_FOUND', message: `No audience with id ${rule.audienceId}` }];
      // Audiences are evaluated in id order, so a flip cascades forward in one pass and never loops.
      if (ctx.audienceId !== null && rule.audienceId >= ctx.audienceId)
        return [{ path: 'audienceId', code: 'AUDIENCE_RULE_CYCLE', message: 'A rule may only name an audience created before this one' }];
      return [];
    },
    members: (rule, ctx) => audienceMembers(ctx.db, rule.audienceId),
    async describe(rule, ctx) {
      const row = await findAudienceRow(ctx.db, rule.audienceId);
      return `Member of audience ${row?.name ?? `#${rule.audienceId}`}`;
    },
    instance: { property: 'audienceId', picker: 'audiences', templates: [{ label: 'Member of audience …', rule: { type: 'audience' } }] },
  };

  const courseCompleted: AudienceRuleCondition<Rule<'course_completed'> & { [k: string]: unknown }> = {
    label: 'Completed course',
    schema: { type: 'object', additionalProperties: false, required: ['type', 'courseId'], properties: { type: { const: 'course_completed' }, courseId: id } },
    async validate(rule, ctx) {
      return (await courseName(ctx.db, rule.courseId)) === null
        ? [{ path: 'courseId', code: 'COURSE_NOT_FOUND', message: `No course with id ${rule.courseId}` }]
        : [];
    },
    members: (rule, ctx) => courseCompletedMembers(ctx.db, rule.courseId),
    async describe(rule, ctx) {
      return `Completed course ${(await courseName(ctx.db, rule.courseId)) ?? `#${rule.courseId}`}`;
    },
    instance: { property: 'courseId', picker: 'courses', templates: [{ label: 'Completed course …', rule: { type: 'course_completed' } }] },
  };

  return {
    profile_field: profileField as AudienceRuleCondition,
    user_field: userField as AudienceRuleCondition,
    position: hierarchy('position'),
    organisation: hierarchy('organisation'),
    audience: audience as AudienceRuleCondition,
    course_completed: courseCompleted as AudienceRuleCondition,
  };
}
