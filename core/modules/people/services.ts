import type { AudienceService } from './audiences';
import type { HierarchyService } from './hierarchy';
import type { JobAssignmentService } from './job-assignments';
import type { ProfileFieldService } from './profile-fields';
import type { UserService } from './users';

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
