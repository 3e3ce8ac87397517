import type { LearnerViewsContext } from './context';
import type { RouteRegistrar } from '../../kernel/http/routes';
import { activeLearnersOf } from './store/program-learners';
import { pageId, renderView } from '../../kernel/http/render';
import { evaluateProgram, progressPercent } from '../programs/index';
import { loadLearnerProgram, progressInputs, type ProgressInputs } from './learner-data';
import { historyLines } from './record-view';

/** The operator's view of learners: who is in a program, and one learner's progress through it. */
export function registerLearnerProgressPages(context: LearnerViewsContext, pages: RouteRegistrar): void {
  // ---- learner progress ----------------------------------------------------------------------
  pages.page({
    method: 'get',
    path: '/admin/programs/:id/learners',
    access: 'admin',
    async handler(req, res) {
      const programId = pageId(req.params.id, 'Program');
      const program = await context.services.programs.get(programId);
      const learners = await activeLearnersOf(context.db.knex, programId);
      // The learner's own number (issue 11): the same evaluation as Required Learning and the program page.
      const structure = await context.services.programs.structures.getOne(context.db.knex, programId);
      const inputs = structure
        ? await progressInputs(
            context.db.knex,
            learners.map((l) => Number(l.id)),
            structure.courseIds,
          )
        : new Map<number, ProgressInputs>();
      renderView(req, res, 'admin/program-learners', {
        title: `Learners in ${program.fullname}`,
        adminNav: 'programs',
        program,
        learners: learners.map((l) => {
          const complete = l.status === 'complete';
          const input = inputs.get(Number(l.id));
          const share = structure && input && !complete ? evaluateProgram(structure.compiled, input.completions, input.partial).progress : 0;
          return {
            ...l,
            id: Number(l.id),
            complete,
            progress: progressPercent(share, complete),
            dueAt: l.due_at === null ? null : Number(l.due_at),
            completedAt: l.completed_at === null ? null : Number(l.completed_at),
          };
        }),
      });
    },
  });

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
