import {
  definePlugin,
  Id,
  invalid,
  learningServices,
  object,
  pathParams,
  noQuery,
  peopleServices,
  pickerOf,
  type RestrictionCondition,
} from '../../core/index';
import { countMatches, registerRestrictionPages } from './pages';
import { audienceCondition, completionCondition, dateCondition, gradeCondition, profileCondition } from './conditions';
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
  deps: {
    profileFields: peopleServices.profileFields,
    audiences: peopleServices.audiences,
    courses: learningServices.courses,
  },
  register(ctx) {
    const builtIn: Record<string, RestrictionCondition> = {
      grade: gradeCondition(ctx.db),
      completion: completionCondition(ctx.db),
      profile: profileCondition(ctx.db, ctx.deps),
      audience: audienceCondition(ctx.db, ctx.deps.audiences),
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
      remap: (tree, activityIds) => engine.remap(tree, activityIds),
    });

    const count = { type: 'integer', minimum: 0 } as const;
    ctx.routes.api({
      method: 'post',
      path: '/restrict_access/courses/:id/matches',
      summary:
        'Who of the course’s enrolled learners would open, see greyed, or not see an activity (or a section) with this restriction tree (nothing is saved)',
      tags: ['restrict_access'],
      access: 'admin',
      params: pathParams({ id: Id }),
      query: noQuery,
      body: {
        type: 'object',
        properties: {
          availability: { type: ['object', 'null'], description: 'A restriction tree, as on PATCH /activities/{id}', 'x-maxJsonBytes': 65536 },
          activityId: {
            ...Id,
            description: "The activity the tree is meant for (its conditions may not name it; the tree of the activity's section, if any, is counted too)",
          },
        },
        required: ['availability'],
        additionalProperties: false,
      },
      response: object({ enrolled: count, open: count, greyed: count, hidden: count }),
      async handler(req) {
        const { availability, activityId } = req.body as { availability: unknown; activityId?: number };
        const courseId = req.params.id!;
        const course = await ctx.deps.courses.get(courseId);
        if (availability !== null) {
          const problems = await engine.check(availability, { id: course.id, activities: course.activities.filter((a) => a.id !== activityId) });
          if (problems.length) {
            throw invalid(
              'AVAILABILITY_INVALID',
              problems[0]!.message,
              problems.map((p) => ({ ...p, path: `availability${p.path ?? ''}` })),
            );
          }
        }
        // An activity in a restricted section is open only to who passes both trees, as on the course page.
        const sectionId = activityId === undefined ? null : (course.activities.find((a) => a.id === activityId)?.sectionId ?? null);
        const sectionTree = sectionId === null ? null : (course.sections.find((s) => s.id === sectionId)?.availability ?? null);
        return { body: await countMatches(ctx.db, engine, ctx.deps.courses, courseId, availability, sectionTree) };
      },
    });
    registerRestrictionPages(
      { db: ctx.db, engine, courses: ctx.deps.courses, audiences: () => pickerOf(ctx.extensions, 'audiences'), timezone: ctx.timezone },
      ctx.routes,
      ctx.theme,
    );
  },
});
