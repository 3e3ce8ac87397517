import type { Request, Response } from 'express';
import { defineModule } from '../../kernel/features/module';
import { createServiceRef } from '../../kernel/features/services';
import type { Executor } from '../../kernel/db/database';
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
import { programProgress, programProgressColumns, type LearnerStanding, type ProgressColumns } from './learner-data';

/**
 * What the learner views offer other modules: the learner's own progress number (issue 11), so a
 * report or a manager's page shows exactly what the learner sees instead of deriving it again.
 */
export interface LearnerViewsService {
  /**
   * Progress (0..100) in one program for each of these learners: the same evaluation and rounding
   * as Required Learning and the program page. Set-based: a few grouped reads per 5,000 learners,
   * whatever their number, and one engine evaluation each (in memory).
   */
  programProgress(executor: Executor, programId: number, learners: readonly LearnerStanding[]): Promise<Map<number, number>>;
  /**
   * The same progress with its inputs read as columns of the caller's own query (a report export
   * reading one program's learners in large batches: no reads per batch). Null when the program has
   * no course or too many for columns; use `programProgress` then.
   */
  progressColumns(executor: Executor, programId: number): Promise<ProgressColumns | null>;
}

export type { LearnerStanding, ProgressColumns } from './learner-data';

/** The learner views' service, by ref. */
export const learnerViewsServices = {
  learnerViews: createServiceRef<LearnerViewsService>('learner-views.learnerViews'),
};

/**
 * The learner views: Required Learning, the program and course pages, Record of Learning (pages and
 * the learner JSON API read the same loaders, so they cannot disagree), the home page, and the
 * operator's learner-progress pages. A manager reads their reports' records here too. It provides
 * the progress number to others (the reports module's program completion report). It owns no tables: it reads through the other modules.
 */
export const learnerViewsModule = defineModule({
  id: 'learner-views',
  tables: [],
  deps: {
    users: peopleServices.users,
    jobAssignments: peopleServices.jobAssignments,
    courses: learningServices.courses,
    completion: learningServices.completion,
    quizzes: learningServices.quizzes,
    programs: programServices.programs,
    assignment: assignmentServices.assignment,
    launch: launchServices.launch,
  },
  provides: learnerViewsServices,
  register(ctx) {
    const context: LearnerViewsContext = { db: ctx.db, services: ctx.deps };
    registerLearnerPages(context, ctx.routes);
    registerLearnerProgressPages(context, ctx.routes);
    for (const route of learnerRoutes(context)) ctx.routes.api(route);
    ctx.routes.page({ method: 'get', path: '/', access: 'public', handler: (req, res) => showHome(context, req, res) });
    const learnerViews: LearnerViewsService = {
      programProgress: (executor, programId, learners) => programProgress(context, executor, programId, learners),
      progressColumns: (executor, programId) => programProgressColumns(context, executor, programId),
    };
    return { learnerViews };
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
