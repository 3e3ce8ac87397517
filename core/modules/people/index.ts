import type { Knex } from 'knex';
import type { Site } from '../../site';
import { CORE_PLUGIN_ID } from '../../kernel/hooks/bus';
import { createAudienceService, type AudienceService } from './audiences';
import { createPeopleContext, type PeopleSite } from './context';
import { createHierarchyService, type HierarchyService } from './hierarchy';
import { createJobAssignmentService, type JobAssignmentService } from './job-assignments';
import { createProfileFieldService, type ProfileFieldService } from './profile-fields';
import { createUserService, type UserService } from './users';

export type * from './types';
export type { AudienceService } from './audiences';
export type { HierarchyService } from './hierarchy';
export type { JobAssignmentService } from './job-assignments';
export type { ProfileFieldService, ProfileValueChange } from './profile-fields';
export type { UserService } from './users';
export type { PeopleSite } from './context';

/**
 * Users, profile fields, organisations, positions, job assignments, audiences. Every write that
 * assignment sources depend on fires `onAssignmentChange` inside the writing transaction, and
 * dynamic audiences of the affected user are recomputed in that same transaction.
 */
export interface PeopleServices {
  users: UserService;
  profileFields: ProfileFieldService;
  hierarchy: HierarchyService;
  jobAssignments: JobAssignmentService;
  audiences: AudienceService;
}

/** Builds the people services; needs only the site's database, hook bus and logger. */
export function createPeopleServices(site: Site | PeopleSite): PeopleServices {
  const ctx = createPeopleContext(site);
  const userExists = async (trx: Knex.Transaction, userId: number): Promise<boolean> =>
    Number.isInteger(userId) && !!(await trx('users').where({ id: userId }).first('id'));

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
  const users = createUserService(ctx, { profileFields, usersChanged });
  jobs = createJobAssignmentService(ctx, { hierarchy, userExists, usersChanged });

  // "Completed course X" audience rules follow completions in the completing transaction, so an
  // audience-based program assignment can follow in that same transaction too.
  site.hooks.add(CORE_PLUGIN_ID, 'onAssignmentChange', async ({ trx, change }) => {
    if (change.type === 'course_completion') await usersChanged(trx, [change.userId]);
  });
  const jobAssignments: JobAssignmentService = jobs;
  return { users, profileFields, hierarchy, jobAssignments, audiences };
}
