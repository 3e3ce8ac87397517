import { definePlugin } from '../../core/index';
import { createLaunchGuard } from './launch';
import { reactivateProgramEnrolments, releaseProgramEnrolments } from './enrolments';

export { createLaunchGuard, PROGRAM_METHOD, LaunchCode, NOT_ASSIGNED_REASON } from './launch';
export { releaseProgramEnrolments, reactivateProgramEnrolments } from './enrolments';

/**
 * Program enrolment (DOMAIN 5). Assignment never enrols; the first launch of a course does:
 * this plugin's onCourseLaunch guard allows and enrols (method `program`) a learner whose
 * program has the course in an open group, and explains otherwise. Unassignment suspends (site
 * setting `unassignAction`: or deletes) the enrolments it made; re-assignment reactivates them.
 * It owns no tables: its rows are `enrolments` with method `program`.
 */
export default definePlugin({
  id: 'enrol_program',
  register(ctx) {
    const site = ctx.site;
    // Default priority: after core's "already enrolled" guard, alongside other enrolment methods.
    ctx.hooks.tap('onCourseLaunch', createLaunchGuard(site));
    ctx.hooks.tap('onProgramUnassigned', async ({ trx, programId, userIds }) => {
      const changed = await releaseProgramEnrolments(trx, programId, userIds, site.config.unassignAction, site.db.now());
      if (changed) ctx.logger.info('program enrolments released on unassignment', { programId, users: userIds.length, changed, action: site.config.unassignAction });
    });
    ctx.hooks.tap('onProgramAssigned', async ({ trx, programId, userIds }) => {
      const changed = await reactivateProgramEnrolments(trx, programId, userIds, site.db.now());
      if (changed) ctx.logger.info('program enrolments reactivated on assignment', { programId, users: userIds.length, changed });
    });
  },
});
