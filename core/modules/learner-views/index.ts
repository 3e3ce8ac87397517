import type { Request, Response } from 'express';
import { defineModule } from '../../kernel/features/module';
import { queryRows } from '../../kernel/db/sql';
import { renderView } from '../../kernel/http/render';
import { assignmentServices } from '../assignment/index';
import { learningServices } from '../learning/index';
import { launchServices } from '../launch/index';
import { peopleServices } from '../people/index';
import { availableNowBindings, availableNowSql, programServices } from '../programs/index';
import { registerLearnerPages } from './pages';
import { registerLearnerProgressPages } from './admin-pages';
import { learnerRoutes } from './api';
import type { LearnerViewsSite } from './site';

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
    programs: programServices.programs,
    assignment: assignmentServices.assignment,
    launch: launchServices.launch,
  },
  provides: {},
  register(ctx) {
    const site: LearnerViewsSite = { db: ctx.db, services: ctx.deps };
    registerLearnerPages(site, ctx.routes);
    registerLearnerProgressPages(site, ctx.routes);
    for (const route of learnerRoutes(site)) ctx.routes.api(route);
    ctx.routes.page({ method: 'get', path: '/', access: 'public', handler: (req, res) => showHome(site, req, res) });
    return {};
  },
});

/** The public home page: programs available now (the same rule as the launch guard: flag and dates). */
async function showHome(site: LearnerViewsSite, req: Request, res: Response): Promise<void> {
  const now = site.db.now();
  const rows = await queryRows<{ id: number; fullname: string; summary: string | null }>(
    site.db.knex,
    `SELECT p.id, p.fullname, p.summary FROM programs p WHERE ${availableNowSql('p')} ORDER BY p.fullname, p.id LIMIT 100`,
    availableNowBindings(now),
  );
  renderView(req, res, 'home', { title: 'Home', programs: rows.map((r) => ({ id: Number(r.id), fullname: r.fullname, summary: r.summary })) });
}
