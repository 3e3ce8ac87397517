import type { Request, Response } from 'express';
import { pageLinks, pagePositionOf } from '../../kernel/http/paging';
import { field, pageId, renderView } from '../../kernel/http/render';
import type { RouteRegistrar } from '../../kernel/http/routes';
import { WaymarkError } from '../../kernel/errors';
import type { SavedReportsService } from './saved';
import type { ReportsService } from './service';
import { SAVED_BY_NAME } from './store/saved';

/** A report page's filters travel in the save form as one hidden query string. */
const queryOf = (text: string): Record<string, string> => Object.fromEntries(new URLSearchParams(text));

/**
 * Saving a report from its page ("Save these filters as…"), the saved reports on the reports page
 * (paged, with "show on the dashboard" and delete), and the dashboard panel they feed.
 */
export function registerSavedReportPages(saved: SavedReportsService, reports: ReportsService, routes: RouteRegistrar): void {
  /** The save form on its own: where a refused save (a taken name, a stale filter) is shown and fixed. */
  const showForm = (req: Request, res: Response, errors: string[]): void => {
    const report = reports.info(field(req.body, 'report'));
    renderView(
      req,
      res,
      'admin/saved-report-form',
      {
        title: `Save ${report.label}`,
        adminNav: 'reports',
        report,
        name: field(req.body, 'name'),
        query: field(req.body, 'query'),
        onDashboard: field(req.body, 'onDashboard') !== '',
        errors,
      },
      422,
    );
  };

  routes.page({
    method: 'post',
    path: '/admin/saved-reports',
    access: 'admin',
    async handler(req, res) {
      const report = field(req.body, 'report');
      const name = field(req.body, 'name');
      if (!name) return showForm(req, res, ['Name: enter a name for the saved report']);
      try {
        await saved.create({ name, report, query: queryOf(field(req.body, 'query')), onDashboard: field(req.body, 'onDashboard') !== '' }, req.user!.id);
      } catch (error) {
        if (error instanceof WaymarkError && error.status < 500 && error.status !== 404) return showForm(req, res, [error.message]);
        throw error;
      }
      res.redirect(303, '/admin/reports?notice=report-saved');
    },
  });

  routes.page({
    method: 'post',
    path: '/admin/saved-reports/:id/dashboard',
    access: 'admin',
    async handler(req, res) {
      await saved.update(pageId(req.params.id, 'Saved report'), { onDashboard: field(req.body, 'show') === 'yes' });
      res.redirect(303, '/admin/reports?notice=saved-report-updated');
    },
  });

  routes.page({
    method: 'post',
    path: '/admin/saved-reports/:id/delete',
    access: 'admin',
    async handler(req, res) {
      await saved.remove(pageId(req.params.id, 'Saved report'));
      res.redirect(303, '/admin/reports?notice=saved-report-deleted');
    },
  });
}

/** The saved reports section of /admin/reports: one page of them and its links. */
export async function savedReportsSection(saved: SavedReportsService, reports: ReportsService, req: Request) {
  const position = pagePositionOf(SAVED_BY_NAME, req.query as Record<string, unknown>);
  const page = await saved.list(position);
  const labels = new Map(reports.list().map((r) => [r.name, r.label]));
  return {
    items: page.items.map((s) => ({ ...s, reportLabel: labels.get(s.report) ?? s.report })),
    pager: pageLinks('/admin/reports', {}, page, position),
  };
}
