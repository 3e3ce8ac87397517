import { definePlugin, peopleServices, pickerOf, type Knex } from '../../core/index';
import { planRoutes } from './api';
import { registerPlanPages } from './pages';
import { LearningPlans, PLAN_TABLE } from './plans';

/** On the operator's user page, right after the assignment module's "Programs" (10). */
const SECTION_ORDER = 20;

/**
 * Learning plans (DOMAIN 4.1's conflicting route): the programs a learner follows on their own plan,
 * with the REST routes and the operator's page to keep them, and the `assignmentConflicts`
 * contribution that makes a rule reaching such a learner raise `already_assigned`. See
 * docs/learning-plans.md.
 */
export default definePlugin({
  id: 'tool_learningplan',
  deps: { users: peopleServices.users, jobAssignments: peopleServices.jobAssignments },
  migrations: [
    {
      name: '0001_items',
      async up(knex: Knex) {
        await knex.schema.createTable(PLAN_TABLE, (t) => {
          t.increments('id');
          // No foreign keys: users and programs belong to their modules; reads join their views.
          t.integer('user_id').unsigned().notNullable();
          t.integer('program_id').unsigned().notNullable();
          t.integer('added_by').unsigned().nullable();
          t.bigInteger('added_at').notNullable();
          t.unique(['user_id', 'program_id']);
          // Assignment asks per program for a batch's users.
          t.index(['program_id', 'user_id']);
        });
      },
      async down(knex: Knex) {
        await knex.schema.dropTableIfExists(PLAN_TABLE);
      },
    },
  ],
  register(ctx) {
    const plans = new LearningPlans(ctx.db);
    ctx.extensions.contribute('assignmentConflicts', 'learning_plan', {
      route: 'learning plan',
      holders: (programIds, source) => plans.holders(source.db, programIds),
    });
    ctx.extensions.contribute('userAdminSections', 'learning_plan', {
      title: 'Learning plan',
      order: SECTION_ORDER,
      async lines(userId, limit) {
        const page = await plans.list(userId, { limit, from: null });
        const label = page.nextCursor ? `All ${await plans.count(userId)} programs of the learning plan` : 'Manage the learning plan';
        return {
          items: page.items.map((item) => ({ label: item.fullname, hint: item.shortname })),
          empty: 'No programs in their learning plan.',
          more: { label, href: `/admin/users/${userId}/learning-plan` },
        };
      },
    });
    for (const route of planRoutes({ plans, users: ctx.deps.users, jobAssignments: ctx.deps.jobAssignments })) ctx.routes.api(route);
    registerPlanPages({ plans, users: ctx.deps.users, programs: () => pickerOf(ctx.extensions, 'programs') }, ctx.routes, ctx.theme);
  },
});
