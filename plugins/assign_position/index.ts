import { createHierarchySource, definePlugin, type HierarchyInstance } from '../../core/index';

/** `instanceId` is the position id; `includeChildren` adds every position below it. */
export type PositionInstance = HierarchyInstance;

/** Assignment source `position`: users with a job assignment in the position (and, optionally, below it). */
export const positionSource = createHierarchySource('position', 'Position');

export default definePlugin({
  id: 'assign_position',
  register(ctx) {
    ctx.extensions.contribute('assignmentSources', positionSource.type, positionSource);
  },
});
