/**
 * assign_profile: "Users whose Department is Sales or Support".
 *
 * The worked example of docs/assignment-sources.md: a third-party assignment source built only on
 * the public plugin SDK (definePlugin, declared deps on the people module's profile-field service,
 * the assignmentSources extension point, and people's published views for its member subquery). It
 * owns no tables and taps no hooks: the core calls it to validate, describe and list the members of
 * a rule, and to pick the rules a change affects.
 */
import {
  definePlugin,
  peopleServices,
  peopleViews,
  type AssignmentSource,
  type ErrorDetail,
  type ProfileFieldService,
  type RuleInstance,
  type SourceContext,
} from '../../core/index';

/** A custom profile field as the core services return it. */
type ProfileField = Awaited<ReturnType<ProfileFieldService['list']>>[number];

/** `instanceId` is the custom profile field id; the user's value must be one of `values`. */
export interface ProfileInstance extends RuleInstance {
  values: string[];
  /** `equals` takes exactly one value; `in` (the default) any number. */
  operator?: 'equals' | 'in';
}

/** Field types whose value is text the rule can compare with (dates and checkboxes are not). */
const COMPARABLE_TYPES: ReadonlySet<string> = new Set(['text', 'menu']);

/**
 * The field, or null when it does not exist. The service has no find-by-id, and its get() throws
 * a 404; the site has a handful of fields, so reading them all is cheaper than exception plumbing.
 */
async function fieldById(fields: ProfileFieldService, ctx: SourceContext, id: number): Promise<ProfileField | null> {
  return (await fields.list(ctx.db)).find((f) => f.id === id) ?? null;
}

/** "Sales", "Sales or Support", "Sales, Support or Marketing". */
function listOr(values: readonly string[]): string {
  return values.length <= 1 ? (values[0] ?? '') : `${values.slice(0, -1).join(', ')} or ${values[values.length - 1]}`;
}

export function createProfileSource(fields: ProfileFieldService): AssignmentSource<ProfileInstance> {
  return {
    type: 'profile',
    name: 'Profile field value',
    picker: 'profile_fields',
    instanceSchema: {
      type: 'object',
      additionalProperties: false,
      required: ['instanceId', 'values'],
      properties: {
        instanceId: { type: 'integer', minimum: 1, title: 'Profile field', description: 'A text or menu field', 'x-picker': 'profile_fields' },
        values: {
          type: 'array',
          minItems: 1,
          maxItems: 100,
          uniqueItems: true,
          items: { type: 'string', minLength: 1, maxLength: 255 },
          title: 'Values',
          description: 'A learner matches when their field holds one of these (a menu field: its options, as written)',
        },
        operator: { enum: ['equals', 'in'], title: 'Match', description: 'in: any of the values (the default); equals: exactly one value' },
      },
    },

    async validate(instance, ctx) {
      const problems: ErrorDetail[] = [];
      if (instance.operator === 'equals' && instance.values.length !== 1) {
        problems.push({ path: 'values', code: 'PROFILE_VALUES_EQUALS_ONE', message: 'operator "equals" takes exactly one value; use "in" for several' });
      }
      const field = await fieldById(fields, ctx, instance.instanceId);
      if (!field) return [...problems, { path: 'instanceId', code: 'PROFILE_FIELD_NOT_FOUND', message: `No profile field with id ${instance.instanceId}` }];
      if (!COMPARABLE_TYPES.has(field.type)) {
        problems.push({
          path: 'instanceId',
          code: 'PROFILE_FIELD_TYPE_UNSUPPORTED',
          message: `Profile field "${field.shortname}" is a ${field.type} field; only text and menu fields can be matched`,
        });
      }
      if (field.type === 'menu') {
        instance.values.forEach((value, i) => {
          if (!field.options.includes(value)) {
            problems.push({
              path: `values/${i}`,
              code: 'PROFILE_VALUE_NOT_AN_OPTION',
              message: `"${value}" is not an option of ${field.name}: ${field.options.join(', ')}`,
            });
          }
        });
      }
      return problems;
    },

    async describe(instance, ctx) {
      const field = await fieldById(fields, ctx, instance.instanceId);
      return `Users whose ${field ? field.name : `profile field ${instance.instanceId} (deleted)`} is ${listOr(instance.values)}`;
    },

    members(instance, ctx) {
      // The (field_id, value_text) index answers this directly; one value row per user and field.
      // People's published view of profile values, never the table: other owners' data is read through their views.
      return ctx
        .db(peopleViews.userProfileValues.as('v'))
        .where('v.field_id', instance.instanceId)
        .whereIn('v.value_text', instance.values)
        .select('v.user_id');
    },

    async affectedRules(change, rules, ctx) {
      if (change.type !== 'profile_field' || rules.length === 0) return [];
      const field = await fields.findByShortname(change.field, ctx.db);
      if (!field) return [];
      // Only a value entering or leaving a rule's list can change that rule's members. Compared
      // case-insensitively: a MySQL database with a _ci default collation matches that way, and
      // rechecking one rule too many costs one indexed lookup.
      const touched = [change.old, change.new].filter((v): v is string => typeof v === 'string').map((v) => v.toLowerCase());
      return rules.filter((r) => r.instance.instanceId === field.id && r.instance.values.some((v) => touched.includes(v.toLowerCase()))).map((r) => r.id);
    },
  };
}

export default definePlugin({
  id: 'assign_profile',
  deps: { fields: peopleServices.profileFields },
  register(ctx) {
    const source = createProfileSource(ctx.deps.fields);
    ctx.extensions.contribute('assignmentSources', source.type, source);
  },
});
