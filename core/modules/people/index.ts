import type { Knex } from 'knex';
import { lockLearners } from './store/learner-lock';
import { userRowExists } from './store/users';
import { peopleViews } from './store/views';
import type { Executor } from '../../kernel/db/database';
import { defineModule } from '../../kernel/features/module';
import { createServiceRef } from '../../kernel/features/services';
import { kernelServices, type CredentialRevoker } from '../../kernel/features/kernel-services';
import { createAudienceService, type AudienceService } from './audiences';
import { createPeopleContext, type PeopleSite } from './context';
import { createHierarchyService, type HierarchyService } from './hierarchy';
import { createJobAssignmentService, type JobAssignmentService } from './job-assignments';
import { createProfileFieldService, type ProfileFieldService } from './profile-fields';
import { createUserService, type UserService } from './users';
import { peopleRoutes } from './routes';
import { peopleHooks } from './hooks';

export { isAncestryOnlyChange, type AssignmentChange, type AssignmentChangeArgs, type JobAssignmentSnapshot } from './hooks';
import type { PeopleServices } from './services';

export type { PeopleServices } from './services';

export type * from './types';
export type { AudienceService } from './audiences';
export type { HierarchyService } from './hierarchy';
export type { JobAssignmentService } from './job-assignments';
export type { ProfileFieldService } from './profile-fields';
export type { UserService } from './users';

function createPeopleServices(site: PeopleSite, credentials: CredentialRevoker): PeopleServices {
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
  audiences = createAudienceService(ctx, { profileFields, hierarchy, userExists });
  const users = createUserService(ctx, { profileFields, usersChanged, credentials });
  jobs = createJobAssignmentService(ctx, { hierarchy, userExists, usersChanged });

  // "Completed course X" audience rules follow completions in the completing transaction, so an
  // audience-based program assignment can follow in that same transaction too.
  site.hooks.tap('onAssignmentChange', async ({ change }, trx) => {
    if (change.type === 'course_completion') await usersChanged(trx, [change.userId]);
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
    const services = createPeopleServices(ctx, ctx.deps.credentials);
    for (const route of peopleRoutes({ db: ctx.db, services })) ctx.routes.api(route);
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
