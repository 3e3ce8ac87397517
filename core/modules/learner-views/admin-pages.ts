import type { LearnerViewsContext } from './context';
import type { RouteRegistrar } from '../../kernel/http/routes';
import { pageId, renderView } from '../../kernel/http/render';
import { loadLearnerProgram } from './learner-data';
import { historyLines } from './record-view';

/** The operator's view of one learner's progress through a program. */
export function registerLearnerProgressPages(context: LearnerViewsContext, pages: RouteRegistrar): void {
  // The list of a program's learners is the reports module's program completion report.
  pages.page({
    method: 'get',
    path: '/admin/programs/:id/learners/:userId',
    access: 'admin',
    async handler(req, res) {
      const programId = pageId(req.params.id, 'Program');
      const userId = pageId(req.params.userId, 'User');
      const learner = await context.services.users.get(userId);
      const program = await loadLearnerProgram(context, programId, userId, { viewer: 'operator' });
      const assignment = await context.services.assignment.learnerAssignment(programId, userId);
      renderView(req, res, 'admin/learner-progress', {
        title: `${learner.fullname} in ${program.fullname}`,
        adminNav: 'programs',
        learner,
        program,
        assignment,
        history: historyLines(assignment.history, true),
        launchCheckFor: userId,
      });
    },
  });
}
