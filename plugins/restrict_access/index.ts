import { definePlugin, peopleServices, type RestrictionCondition } from '../../core/index';
import { audienceCondition, completionCondition, dateCondition, gradeCondition, profileCondition, sharedCourseFacts } from './conditions';
import { TreeEngine } from './tree';

/**
 * Restricted access inside courses (DOMAIN 8, issue 13; docs/restrictions.md). Contributes the
 * tree engine to learning's `activityAccess` extension point, which the course page and the
 * activity page apply, and the five built-in conditions to `restrictionConditions`, the extension
 * point other plugins add conditions to. The plugin owns no table: trees are stored with the
 * activities. Disabled, it leaves every restricted activity locked (learning fails closed).
 */
export default definePlugin({
  id: 'restrict_access',
  deps: { users: peopleServices.users, profileFields: peopleServices.profileFields, audiences: peopleServices.audiences },
  register(ctx) {
    const facts = sharedCourseFacts(ctx.db);
    const builtIn: Record<string, RestrictionCondition> = {
      grade: gradeCondition(facts),
      completion: completionCondition(facts),
      profile: profileCondition(ctx.deps),
      audience: audienceCondition(ctx.deps.audiences),
      date: dateCondition(ctx.timezone),
    };
    for (const [type, condition] of Object.entries(builtIn)) ctx.extensions.contribute('restrictionConditions', type, condition);

    const engine = new TreeEngine(
      (type) => ctx.extensions.get('restrictionConditions', type)?.value,
      ctx.logger,
      () => ctx.db.now(),
    );
    ctx.extensions.contribute('activityAccess', 'tree', {
      check: (tree, course) => engine.check(tree, course),
      evaluate: (userId, course) => engine.evaluate(userId, course),
    });
  },
});
