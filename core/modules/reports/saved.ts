import type { Database } from '../../kernel/db/database';
import type { KeysetPage, PagePosition } from '../../kernel/db/keyset';
import { notFound, WaymarkError } from '../../kernel/errors';
import type { DashboardEntry } from '../../kernel/extensions';
import type { ReportsService } from './service';
import {
  dashboardReports,
  deleteSavedReport,
  insertSavedReport,
  savedReportById,
  savedReportsPage,
  updateSavedReport,
  type SavedReportRow,
} from './store/saved';

/** A report saved under a name: which report, with which filters and order. */
export interface SavedReport {
  id: number;
  name: string;
  report: string;
  /** The report's query values (filters and `sort`) as the report page and the API take them. */
  query: Record<string, string>;
  onDashboard: boolean;
  createdBy: { id: number; fullname: string } | null;
  createdAt: number;
  updatedAt: number;
  /** The report page showing it. */
  href: string;
}

export interface SavedReportInput {
  name: string;
  report: string;
  query?: Record<string, string>;
  onDashboard?: boolean;
}

export type SavedReportPatch = Partial<Pick<SavedReportInput, 'name' | 'query' | 'onDashboard'>>;

export interface SavedReportsService {
  /** Checks the query against the report (400 QUERY_INVALID naming the value, as the report route would), then saves it. */
  create(input: SavedReportInput, createdBy: number | null): Promise<SavedReport>;
  update(id: number, patch: SavedReportPatch): Promise<SavedReport>;
  get(id: number): Promise<SavedReport>;
  list(position: PagePosition, filter?: { report?: string }): Promise<KeysetPage<SavedReport>>;
  remove(id: number): Promise<void>;
  /** The dashboard panel: each saved report marked for it, with how many rows it has now. */
  dashboard(): Promise<DashboardEntry[]>;
}

/** Paging state is not part of a saved report: it opens on its first page. */
const PAGING = new Set(['cursor', 'before', 'limit']);

const keptQuery = (query: Record<string, string> = {}): Record<string, string> =>
  Object.fromEntries(Object.entries(query).filter(([name, value]) => !PAGING.has(name) && value !== ''));

const hrefOf = (report: string, query: Record<string, string>): string => {
  const text = new URLSearchParams(query).toString();
  return `/admin/reports/${report}${text ? `?${text}` : ''}`;
};

function fromRow(row: SavedReportRow): SavedReport {
  const query = JSON.parse(row.query) as Record<string, string>;
  return {
    id: Number(row.id),
    name: row.name,
    report: row.report,
    query,
    onDashboard: Boolean(row.on_dashboard),
    createdBy: row.created_by === null ? null : { id: Number(row.created_by), fullname: row.creator_fullname ?? '' },
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    href: hrefOf(row.report, query),
  };
}

export function createSavedReportsService(db: Database, reports: ReportsService): SavedReportsService {
  const knex = db.knex;

  async function get(id: number): Promise<SavedReport> {
    const row = await savedReportById(knex, id);
    if (!row) throw notFound('Saved report', id);
    return fromRow(row);
  }

  /** The query a report accepts (parse throws the report route's own 400/404 otherwise). */
  async function checked(report: string, query: Record<string, string> | undefined): Promise<string> {
    const kept = keptQuery(query);
    await reports.parse(report, kept, 'page');
    return JSON.stringify(kept);
  }

  return {
    get,

    async create(input, createdBy) {
      const query = await checked(input.report, input.query);
      const id = await insertSavedReport(knex, {
        name: input.name.trim(),
        report: input.report,
        query,
        on_dashboard: input.onDashboard ?? false,
        created_by: createdBy,
        created_at: db.now(),
      });
      return get(id);
    },

    async update(id, patch) {
      const current = await get(id);
      const changed = await updateSavedReport(knex, id, {
        ...(patch.name !== undefined ? { name: patch.name.trim() } : {}),
        ...(patch.query !== undefined ? { query: await checked(current.report, patch.query) } : {}),
        ...(patch.onDashboard !== undefined ? { on_dashboard: patch.onDashboard } : {}),
        updated_at: db.now(),
      });
      if (!changed) throw notFound('Saved report', id);
      return get(id);
    },

    async list(position, filter = {}) {
      const page = await savedReportsPage(knex, position, filter);
      return { ...page, items: page.items.map(fromRow) };
    },

    async remove(id) {
      if (!(await deleteSavedReport(knex, id))) throw notFound('Saved report', id);
    },

    async dashboard() {
      const saved = (await dashboardReports(knex)).map(fromRow);
      return Promise.all(
        saved.map(async (s): Promise<DashboardEntry> => {
          try {
            const rows = await reports.count(s.report, await reports.parse(s.report, s.query, 'page'));
            return { label: s.name, href: s.href, figure: String(rows), hint: reports.info(s.report).label };
          } catch (error) {
            // A filter naming something since deleted, or a report whose plugin was disabled.
            if (!(error instanceof WaymarkError)) throw error;
            return { label: s.name, href: '/admin/reports', hint: `Cannot run now: ${error.message}` };
          }
        }),
      );
    },
  };
}
