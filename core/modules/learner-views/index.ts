import type { Request, Response } from 'express';
import { defineModule } from '../../kernel/features/module';
import { renderView } from '../../kernel/http/render';
import { assignmentServices } from '../assignment/index';
import { learningServices } from '../learning/index';
import { launchServices } from '../launch/index';
import { peopleServices } from '../people/index';
import { PROGRAM_ORDERS, programServices } from '../programs/index';
import { pageLinks, pagePositionOf } from '../../kernel/http/paging';
import { registerLearnerPages } from './pages';
import { registerLearnerProgressPages } from './admin-pages';
import { learnerRoutes } from './api';
import type { LearnerViewsContext } from './context';

/**
 * The learner views: Required Learning, the program and course pages, Record of Learning (pages and
 * the learner JSON API read the same loaders, so they cannot disagree), the home page, and the
 * operator's learner-progress pages. It owns no tables: it reads through the other modules.
 */
export const learnerViewsModule = defineModule({
  id: 'learner-views',
  tables: [],
  deps: {
    users: peopleServices.users,
    courses: learningServices.courses,
    completion: learningServices.completion,
    quizzes: learningServices.quizzes,
    programs: programServices.programs,
    assignment: assignmentServices.assignment,
    launch: launchServices.launch,
  },
  provides: {},
  register(ctx) {
    const context: LearnerViewsContext = { db: ctx.db, services: ctx.deps };
    registerLearnerPages(context, ctx.routes);
    registerLearnerProgressPages(context, ctx.routes);
    for (const route of learnerRoutes(context)) ctx.routes.api(route);
    ctx.routes.page({ method: 'get', path: '/', access: 'public', handler: (req, res) => showHome(context, req, res) });
    return {};
  },
});

/**
 * The public home page: programs available now (the same rule as the launch guard: flag and dates),
 * by name, a page at a time (was: the first 100).
 */
async function showHome(context: LearnerViewsContext, req: Request, res: Response): Promise<void> {
  const order = PROGRAM_ORDERS[0]!;
  const position = pagePositionOf(order, req.query as Record<string, unknown>);
  const page = await context.services.programs.list({ availableAt: context.db.now() }, order, position);
  renderView(req, res, 'home', {
    title: 'Home',
    programs: page.items.map((p) => ({ id: p.id, fullname: p.fullname, summary: p.summary })),
    pager: pageLinks('/', {}, page, position),
  });
}
