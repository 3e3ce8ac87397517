import { createHierarchySource, definePlugin, peopleServices, type HierarchyInstance } from '../../core/index';

/** `instanceId` is the organisation id; `includeChildren` adds every organisation below it. */
export type OrganisationInstance = HierarchyInstance;

/** Assignment source `organisation`: users with a job assignment in the organisation (and, optionally, below it). */
export default definePlugin({
  id: 'assign_organisation',
  deps: { hierarchy: peopleServices.hierarchy },
  register(ctx) {
    const source = createHierarchySource('organisation', 'Organisation', ctx.deps.hierarchy);
    ctx.extensions.contribute('assignmentSources', source.type, source);
  },
});
