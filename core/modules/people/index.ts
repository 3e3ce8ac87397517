import type { Knex } from 'knex';
import { lockLearners } from './store/learner-lock';
import { userRowExists } from './store/users';
import { peopleViews } from './store/views';
import type { Executor } from '../../kernel/db/database';
import { defineModule } from '../../kernel/features/module';
import { createServiceRef } from '../../kernel/features/services';
import { kernelServices, type CredentialRevoker } from '../../kernel/features/kernel-services';
import { AUDIENCE_RECOMPUTE_JOB, AUDIENCE_REFRESH_JOB, createAudienceService, type AudienceService } from './audiences';
import { peopleConditions } from './audience-conditions';
import type { ConditionLookup } from './audience-rules';
import { createPeopleContext, type PeopleSite } from './context';
import { createHierarchyService, type HierarchyService } from './hierarchy';
import { createJobAssignmentService, type JobAssignmentService } from './job-assignments';
import { createProfileFieldService, type ProfileFieldService } from './profile-fields';
import { createUserService, type UserService } from './users';
import { peopleRoutes } from './routes';
import { registerAudiencePages } from './pages';
import { peopleHooks } from './hooks';
import { peoplePickers } from './pickers';
import { pickerOf } from '../../kernel/pickers';
import { registerUserPages } from './user-pages';
import { registerHierarchyPages } from './hierarchy-pages';

export {
  isAncestryOnlyChange,
  type AssignmentChange,
  type AssignmentChangeArgs,
  type AudienceMembershipBatch,
  type AudienceMembershipBatchArgs,
  type JobAssignmentSnapshot,
} from './hooks';
import type { PeopleServices } from './services';

export type { PeopleServices } from './services';

export type * from './types';
export type { AudienceService } from './audiences';
export { AUDIENCE_REFRESH_JOB } from './audiences';
export type { AudienceRuleCondition, AudienceRuleContext } from './audience-rules';

/** Hourly, so "has an overdue assignment" audiences follow due dates passing within the hour. */
export const AUDIENCE_REFRESH_CRON = '15 * * * *';
export type { HierarchyService } from './hierarchy';
export type { JobAssignmentService } from './job-assignments';
export type { ProfileFieldService } from './profile-fields';
export type { UserService } from './users';
export type { UserAdminSection, UserAdminLines } from './admin-sections';
export { bulkSelectionOf, listFilterOf, type UserFilterChoice } from './user-pages';
export { USER_ORDERS } from './store/users';

/** What the people services need beyond the site: the kernel's credential port, the rule conditions and the queue. */
interface PeopleWiring {
  credentials: CredentialRevoker;
  conditions: ConditionLookup;
  enqueueRecompute(trx: Knex.Transaction, audienceId: number): Promise<number>;
}

function createPeopleServices(site: PeopleSite, wiring: PeopleWiring): PeopleServices {
  const credentials = wiring.credentials;
  const ctx = createPeopleContext(site);
  const userExists = async (trx: Knex.Transaction, userId: number): Promise<boolean> => Number.isInteger(userId) && (await userRowExists(trx, userId));

  // The services call each other through these late-bound functions, so construction order is free.
  let audiences: AudienceService | undefined;
  let jobs: ReturnType<typeof createJobAssignmentService> | undefined;
  const usersChanged = async (trx: Knex.Transaction, users: number[] | Knex.QueryBuilder): Promise<void> => {
    await audiences!.recomputeForUsers(trx, users);
  };

  const profileFields = createProfileFieldService(ctx);
  const hierarchy = createHierarchyService(ctx, {
    subtreeMoved: (trx, kind, nodeId) => jobs!.hierarchyMoved(trx, kind, nodeId),
  });
  audiences = createAudienceService(ctx, { userExists, conditions: wiring.conditions, enqueueRecompute: wiring.enqueueRecompute });
  const users = createUserService(ctx, { profileFields, usersChanged, credentials });
  jobs = createJobAssignmentService(ctx, { hierarchy, userExists, usersChanged });

  // "Completed course X" / "completed program Y" audience rules follow completions, and their
  // removal, in the completing transaction, so an audience-based program assignment can follow in
  // that same transaction too.
  site.hooks.tap('onAssignmentChange', async ({ change }, trx) => {
    if (change.type === 'course_completion' || change.type === 'course_completion_removed' || change.type === 'program_completion')
      await usersChanged(trx, [change.userId]);
  });
  const jobAssignments: JobAssignmentService = jobs;
  return { users, profileFields, hierarchy, jobAssignments, audiences };
}

/** The people services, by ref: declare them in a module's or plugin's `deps`. */
export const peopleServices = {
  users: createServiceRef<UserService>('people.users'),
  profileFields: createServiceRef<ProfileFieldService>('people.profileFields'),
  hierarchy: createServiceRef<HierarchyService>('people.hierarchy'),
  jobAssignments: createServiceRef<JobAssignmentService>('people.jobAssignments'),
  audiences: createServiceRef<AudienceService>('people.audiences'),
};

/** The people module: its services, and the REST routes for users, hierarchies, job assignments and audiences. */
export const peopleModule = defineModule({
  id: 'people',
  // Sessions and API tokens are the kernel's: a password change or suspension ends them through this port.
  tables: ['users', 'profile_fields', 'user_profile_values', 'hierarchy_nodes', 'job_assignments', 'audiences', 'audience_members'],
  deps: { credentials: kernelServices.credentials },
  declares: peopleHooks,
  hooks: ['onAssignmentChange'],
  // Users are people's: the kernel's login asks this module who may sign in.
  provides: { ...peopleServices, identity: kernelServices.identity },
  register(ctx) {
    const conditions: ConditionLookup = {
      get: (type) => ctx.extensions.get('audienceRuleConditions', type)?.value,
      types: () => ctx.extensions.list('audienceRuleConditions').map((c) => c.key),
    };
    const services = createPeopleServices(ctx, {
      credentials: ctx.deps.credentials,
      conditions,
      enqueueRecompute: (trx, audienceId) =>
        ctx.queue.enqueue(AUDIENCE_RECOMPUTE_JOB, { audienceId }, { trx, dedupeKey: `${AUDIENCE_RECOMPUTE_JOB}:${audienceId}` }),
    });
    for (const [type, condition] of Object.entries(peopleConditions(services))) ctx.extensions.contribute('audienceRuleConditions', type, condition);
    for (const [key, picker] of Object.entries(peoplePickers(() => ctx.db.knex))) ctx.extensions.contribute('pickers', key, picker);
    ctx.jobs.define<{ audienceId: number }>({
      name: AUDIENCE_RECOMPUTE_JOB,
      handler: (job) => services.audiences.recompute(Number(job.payload.audienceId), (d, t, m) => job.progress(d, t, m)),
    });
    ctx.jobs.define({ name: AUDIENCE_REFRESH_JOB, handler: () => services.audiences.refreshTimeDependent() });
    ctx.jobs.schedule({ name: AUDIENCE_REFRESH_JOB, cron: AUDIENCE_REFRESH_CRON, job: AUDIENCE_REFRESH_JOB });
    for (const route of peopleRoutes({ db: ctx.db, services })) ctx.routes.api(route);
    registerAudiencePages(
      ctx.routes,
      () => services.audiences,
      (key) => pickerOf(ctx.extensions, key),
    );
    const pagesDeps = { services: () => services, extensions: ctx.extensions, queue: ctx.queue, jobs: ctx.jobs };
    registerUserPages(pagesDeps, ctx.routes);
    registerHierarchyPages(pagesDeps, ctx.routes);
    const identity = {
      ...services.users,
      exists: async (userId: number) => Number.isInteger(userId) && (await userRowExists(ctx.db.knex, userId)),
      usersView: peopleViews.users,
      lockLearners: (executor: Executor, userIds: readonly number[]) => lockLearners(executor, ctx.db.dialect, userIds),
    };
    return { ...services, identity };
  },
});

/** Relations other modules may join in a set-based read (columns are the contract). */
export { peopleViews } from './store/views';
