import { assignmentServices, definePlugin, learningServices, peopleServices, programServices } from '../../core/index';
import { createLaunchGuard } from './launch';
import { reactivateProgramEnrolments, releaseProgramEnrolments } from './enrolments';

export { createLaunchGuard, LaunchCode, NOT_ASSIGNED_REASON } from './launch';
export { PROGRAM_METHOD, releaseProgramEnrolments, reactivateProgramEnrolments } from './enrolments';

/**
 * Program enrolment (DOMAIN 5). Assignment never enrols; the first launch of a course does:
 * this plugin's onCourseLaunch guard allows and enrols (method `program`) a learner whose
 * program has the course in an open group, and explains otherwise. Unassignment suspends (setting
 * `unassignAction`: or deletes) the enrolments it made; re-assignment reactivates them. It owns no
 * tables: enrolments are the learning module's, changed through its enrolment service.
 */
export default definePlugin({
  id: 'enrol_program',
  deps: {
    enrolments: learningServices.enrolments,
    programs: programServices.programs,
    assignment: assignmentServices.assignment,
    users: peopleServices.users,
  },
  register(ctx) {
    // Default priority: after the launch module's "already enrolled" guard, alongside other enrolment methods.
    ctx.hooks.tap('onCourseLaunch', createLaunchGuard({ ...ctx.deps, db: ctx.db }));
    ctx.hooks.tap('onProgramUnassigned', async ({ programId, userIds }, trx) => {
      const action = ctx.settings().unassignAction === 'unenrol' ? 'unenrol' : 'suspend';
      const changed = await releaseProgramEnrolments(ctx.deps, trx, programId, userIds, action);
      if (changed) ctx.logger.info('program enrolments released on unassignment', { programId, users: userIds.length, changed, action });
    });
    ctx.hooks.tap('onProgramAssigned', async ({ programId, userIds }, trx) => {
      const changed = await reactivateProgramEnrolments(ctx.deps, trx, programId, userIds);
      if (changed) ctx.logger.info('program enrolments reactivated on assignment', { programId, users: userIds.length, changed });
    });
  },
});
