import type { LearnerViewsSite } from './site';
import type { RouteRegistrar } from '../../kernel/http/routes';
import { queryRows } from '../../kernel/db/sql';
import { pageId, renderView } from '../../kernel/http/render';
import { loadLearnerProgram } from './learner-data';

/** The operator's view of learners: who is in a program, and one learner's progress through it. */
export function registerLearnerProgressPages(site: LearnerViewsSite, pages: RouteRegistrar): void {
  // ---- learner progress ----------------------------------------------------------------------
  pages.page({
    method: 'get',
    path: '/admin/programs/:id/learners',
    access: 'admin',
    async handler(req, res) {
      const programId = pageId(req.params.id, 'Program');
      const program = await site.services.programs.get(programId);
      const learners = await queryRows<{
        id: number;
        username: string;
        fullname: string;
        due_at: number | null;
        status: string | null;
        completed_at: number | null;
      }>(
        site.db.knex,
        `SELECT u.id, u.username, u.fullname, a.due_at, pc.status, pc.completed_at
         FROM program_user_assignments a JOIN users u ON u.id = a.user_id
         LEFT JOIN program_completions pc ON pc.program_id = a.program_id AND pc.user_id = a.user_id
         WHERE a.program_id = ? AND a.status = 'active' ORDER BY u.fullname, u.id LIMIT 500`,
        [programId],
      );
      renderView(req, res, 'admin/program-learners', {
        title: `Learners in ${program.fullname}`,
        adminNav: 'programs',
        program,
        learners: learners.map((l) => ({
          ...l,
          id: Number(l.id),
          complete: l.status === 'complete',
          dueAt: l.due_at === null ? null : Number(l.due_at),
          completedAt: l.completed_at === null ? null : Number(l.completed_at),
        })),
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
      const learner = await site.services.users.get(userId);
      const program = await loadLearnerProgram(site, programId, userId);
      const assignment = await site.services.assignment.learnerAssignment(programId, userId);
      renderView(req, res, 'admin/learner-progress', {
        title: `${learner.fullname} in ${program.fullname}`,
        adminNav: 'programs',
        learner,
        program,
        assignment,
        launchCheckFor: userId,
      });
    },
  });
}
