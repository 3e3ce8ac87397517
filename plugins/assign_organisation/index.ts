import { createHierarchySource, definePlugin, type HierarchyInstance } from '../../core/index';

/** `instanceId` is the organisation id; `includeChildren` adds every organisation below it. */
export type OrganisationInstance = HierarchyInstance;

/** Assignment source `organisation`: users with a job assignment in the organisation (and, optionally, below it). */
export const organisationSource = createHierarchySource('organisation', 'Organisation');

export default definePlugin({
  id: 'assign_organisation',
  register(ctx) {
    ctx.extensions.contribute('assignmentSources', organisationSource.type, organisationSource);
  },
});
