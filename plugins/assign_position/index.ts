import { createHierarchySource, definePlugin, peopleServices, type HierarchyInstance } from '../../core/index';

/** `instanceId` is the position id; `includeChildren` adds every position below it. */
export type PositionInstance = HierarchyInstance;

/** Assignment source `position`: users with a job assignment in the position (and, optionally, below it). */
export default definePlugin({
  id: 'assign_position',
  deps: { hierarchy: peopleServices.hierarchy },
  register(ctx) {
    const source = createHierarchySource('position', 'Position', ctx.deps.hierarchy);
    ctx.extensions.contribute('assignmentSources', source.type, source);
  },
});
