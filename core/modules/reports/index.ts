import { defineModule } from '../../kernel/features/module';
import { createServiceRef } from '../../kernel/features/services';
import { kernelServices } from '../../kernel/features/kernel-services';
import { learnerViewsServices } from '../learner-views/index';
import { learningServices } from '../learning/index';
import { peopleServices } from '../people/index';
import { programServices } from '../programs/index';
import { registerReportPages } from './pages';
import { createSavedReportsService, type SavedReportsService } from './saved';
import { registerSavedReportPages } from './saved-pages';
import { savedReportRoutes } from './saved-routes';
import { reportRoutes } from './routes';
import { createReportsService, type ReportsService } from './service';
import { builtInReportSources } from './sources';
import { createTeamService } from './team';

export type * from './types';
export { reportFilterInvalid } from './sources';
export type { ReportInfo, ReportRequest, ReportsService } from './service';
export type { SavedReportsService } from './saved';

/** The reports services, by ref. */
export const reportServices = {
  reports: createServiceRef<ReportsService>('reports.reports'),
  savedReports: createServiceRef<SavedReportsService>('reports.savedReports'),
};

/**
 * The reports module: the report sources extension point (types.ts) with its four built-in
 * sources (program completion, overdue learners, open exceptions, course completions), paged JSON
 * and streamed CSV for every source (`/api/v1/reports...`, `waymark report export`), the admin
 * reports pages and a program's learner list (the program completion report for one program), and
 * the manager's team view, and saved reports (the one table it owns) with their dashboard panel.
 * Sources read the owners' published views and services.
 */
export const reportsModule = defineModule({
  id: 'reports',
  tables: ['saved_reports'],
  deps: {
    pages: kernelServices.pages,
    users: peopleServices.users,
    audiences: peopleServices.audiences,
    hierarchy: peopleServices.hierarchy,
    jobAssignments: peopleServices.jobAssignments,
    programs: programServices.programs,
    courses: learningServices.courses,
    learnerViews: learnerViewsServices.learnerViews,
  },
  provides: reportServices,
  register(ctx) {
    const sources = builtInReportSources({ ...ctx.deps, timezone: ctx.timezone, knex: ctx.db.knex });
    for (const [name, source] of Object.entries(sources)) ctx.extensions.contribute('reportSources', name, source);
    const reports = createReportsService(ctx.db, ctx.extensions, ctx.logger);
    const programCompletion = sources.program_completion!;
    const team = createTeamService(ctx.db, ctx.deps, programCompletion);
    const saved = createSavedReportsService(ctx.db, reports);
    for (const route of [...reportRoutes(reports, team, programCompletion), ...savedReportRoutes(saved)]) ctx.routes.api(route);
    registerReportPages(
      {
        db: ctx.db,
        reports,
        team,
        programs: ctx.deps.programs,
        jobAssignments: ctx.deps.jobAssignments,
        pages: ctx.deps.pages,
        programCompletion,
        saved,
        picker: (key) => ctx.extensions.get('pickers', key)?.value,
      },
      ctx.routes,
      ctx.theme,
    );
    registerSavedReportPages(saved, reports, ctx.routes);
    ctx.extensions.contribute('dashboardPanels', 'saved_reports', {
      title: 'Saved reports',
      order: 10,
      empty: 'No saved report is on the dashboard yet: save a report with “Show on the dashboard”.',
      more: { href: '/admin/reports#saved-reports', label: 'All saved reports' },
      entries: () => saved.dashboard(),
    });
    return { reports, savedReports: saved };
  },
});
