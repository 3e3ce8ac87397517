import type { Request, Response } from 'express';
import type { Database } from '../../kernel/db/database';
import { WaymarkError } from '../../kernel/errors';
import type { PageAccess } from '../../kernel/features/kernel-services';
import type { JsonSchema } from '../../kernel/http/json-schema';
import type { RouteRegistrar } from '../../kernel/http/routes';
import { pageId, renderView } from '../../kernel/http/render';
import type { ThemeRegistrar } from '../../kernel/themes/types';
import type { JobAssignmentService } from '../people/index';
import type { ProgramsService } from '../programs/index';
import type { SavedReportsService } from './saved';
import { savedReportsSection } from './saved-pages';
import type { ReportInfo, ReportRequest, ReportsService } from './service';
import type { TeamService } from './team';
import type { ReportRow, ReportSource } from './types';
import { PickError, pickState, resolvePick, type Picker, type PickState } from '../../kernel/pickers';
import { notYetAssignedCounts } from './store/rows';

export interface ReportPageDeps {
  db: Database;
  reports: ReportsService;
  team: TeamService;
  programs: ProgramsService;
  jobAssignments: JobAssignmentService;
  pages: PageAccess;
  programCompletion: ReportSource;
  saved: SavedReportsService;
  /** A contributed picker by key (`programs`, `audiences` ...): filters naming a thing are picked by name. */
  picker(key: string): Picker | undefined;
}

/** Where the learners page stops counting who is not assigned yet ("10,000 or more"). */
const WAITING_CAP = 10_000;

const countText = (n: number, one: string, many: string): string =>
  n >= WAITING_CAP ? `${WAITING_CAP.toLocaleString('en')} or more ${many}` : `${n.toLocaleString('en')} ${n === 1 ? one : many}`;

const STATUS_LABELS: Record<string, string> = {
  in_progress: 'In progress',
  overdue: 'Overdue',
  complete: 'Complete',
  open: 'Open',
  resolved: 'Resolved',
  dismissed: 'Dismissed',
  already_assigned: 'Already assigned',
  completion_time_unknown: 'Completion time unknown',
  time_allowance: 'Time allowance too short',
};

const FILTER_LABELS: Record<string, string> = {
  programId: 'Program',
  courseId: 'Course',
  audienceId: 'Audience',
  organisationId: 'Organisation (and below)',
  positionId: 'Position (and below)',
  managerId: "Manager's team",
  status: 'Status',
  type: 'Type',
  search: 'Learner name contains',
  dueFrom: 'Due from',
  dueTo: 'Due until',
  completedFrom: 'Completed from',
  completedTo: 'Completed until',
};

/** The GET form's values, without the empty ones an unused picker sends. */
function formQuery(req: Request, drop: readonly string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.query)) {
    const text = Array.isArray(value) ? value[0] : value;
    if (typeof text === 'string' && text.trim() !== '' && !drop.includes(name)) out[name] = text.trim();
  }
  return out;
}

const withQuery = (path: string, query: Record<string, string>): string => {
  const text = new URLSearchParams(query).toString();
  return text ? `${path}?${text}` : path;
};

/** The picker of each filter that names a thing: the operator types a name, the report gets its id. */
const FILTER_PICKERS: Record<string, string> = {
  programId: 'programs',
  courseId: 'courses',
  audienceId: 'audiences',
  organisationId: 'organisations',
  positionId: 'positions',
  managerId: 'users',
};

interface PickedQuery {
  /** The query as the report reads it: ids only (no `_q` / `_was` fields of the pick boxes). */
  values: Record<string, string>;
  states: Record<string, PickState>;
  errors: string[];
}

/**
 * The GET form's values with each name-picked filter turned into its id. A box the operator typed
 * in (`<name>_q`) is resolved by name (one match, or an error naming the filter and offering the
 * matches); a bare id (a link, a saved report, a page of results) is kept for the report to check.
 */
async function pickedQuery(req: Request, info: ReportInfo, picker: (key: string) => Picker | undefined, drop: readonly string[] = []): Promise<PickedQuery> {
  const raw = formQuery(req, drop);
  const values = Object.fromEntries(Object.entries(raw).filter(([k]) => !/_(q|was)$/.test(k)));
  const states: Record<string, PickState> = {};
  const errors: string[] = [];
  const properties = (info.query.properties ?? {}) as Record<string, JsonSchema>;
  for (const [name, key] of Object.entries(FILTER_PICKERS)) {
    const found = picker(key);
    if (!properties[name] || !found || drop.includes(name)) continue;
    const query = req.query as Record<string, unknown>;
    try {
      if (typeof query[`${name}_q`] === 'string') {
        const item = await resolvePick(found, query, name, { label: FILTER_LABELS[name] ?? name });
        if (item) values[name] = String(item.id);
        else delete values[name];
      }
      const id = values[name] !== undefined && /^[1-9][0-9]{0,15}$/.test(values[name]!) ? Number(values[name]) : null;
      states[name] = await pickState(found, id);
      // An id that names nothing stays in the box as typed, for the report to refuse in words.
      if (id !== null && states[name]!.id === null) states[name] = { ...states[name]!, text: values[name]! };
    } catch (error) {
      if (!(error instanceof PickError)) throw error;
      delete values[name];
      states[name] = error.state;
      errors.push(error.message);
    }
  }
  return { values, states, errors };
}

const without = (values: Record<string, string>, drop: readonly string[]): Record<string, string> =>
  Object.fromEntries(Object.entries(values).filter(([k]) => !drop.includes(k)));

/** The filter fields of a report form: a pick-by-name box, a list of values, a date or a text box. */
function filterFields(info: ReportInfo, values: Record<string, string>, states: Record<string, PickState>, omit: readonly string[] = []) {
  const properties = (info.query.properties ?? {}) as Record<string, JsonSchema>;
  const filters = Object.fromEntries(Object.entries(properties).filter(([name]) => !['sort', 'limit', 'cursor', 'before', ...omit].includes(name)));
  return Object.entries(filters).map(([name, schema]) => {
    const label = FILTER_LABELS[name] ?? String(schema.description ?? name);
    const value = values[name] ?? '';
    const state = states[name];
    const options = Array.isArray(schema.enum)
      ? (schema.enum as unknown[]).map((v) => ({ value: String(v), label: STATUS_LABELS[String(v)] ?? String(v), selected: String(v) === value }))
      : null;
    const isDate = /From$|To$/.test(name);
    // Never a box for an id: a thing is picked by name.
    return {
      name,
      id: `filter-${name}`,
      label,
      value,
      options,
      isPick: state !== undefined,
      picker: FILTER_PICKERS[name],
      state,
      isPicker: options !== null && state === undefined,
      anyLabel: schema.default === undefined ? 'Any' : null,
      isDate,
    };
  });
}

/** A report row as table cells: dates as dates, statuses in words. */
function cells(info: ReportInfo, row: ReportRow) {
  return info.columns.map((c) => {
    const value = row[c.key];
    const isDate = typeof value === 'string' && /At$/.test(c.key);
    const text =
      value === null || value === undefined
        ? '–'
        : typeof value === 'boolean'
          ? value
            ? 'Yes'
            : 'No'
          : c.key === 'status' || c.key === 'type'
            ? (STATUS_LABELS[String(value)] ?? String(value))
            : String(value);
    return { label: c.label, value: text, date: isDate ? value : null, overdue: c.key === 'status' && value === 'overdue' };
  });
}

/** Parses a page's filters; a bad value is shown on the page (400), not thrown as JSON. */
async function parseOrShow(
  reports: ReportsService,
  name: string,
  query: Record<string, unknown>,
): Promise<{ request: ReportRequest | null; error: string | null }> {
  try {
    return { request: await reports.parse(name, query), error: null };
  } catch (error) {
    if (error instanceof WaymarkError && error.status === 400) return { request: null, error: error.message.replace(/^Query is invalid: /, '') };
    throw error;
  }
}

async function sendCsv(reports: ReportsService, name: string, request: ReportRequest, res: Response, filename: string): Promise<void> {
  res.setHeader('Content-Type', 'text/csv; charset=utf-8');
  res.setHeader('Content-Disposition', `attachment; filename="${filename.replace(/[^A-Za-z0-9._-]/g, '_')}"`);
  res.setHeader('Cache-Control', 'no-store');
  try {
    await reports.exportCsv(name, request, res);
  } catch (error) {
    if (!res.headersSent) throw error;
    res.destroy(error as Error);
  }
}

/**
 * The reports pages (admin), a program's learners (the program completion report for one program),
 * the manager's team page and its header link.
 */
export function registerReportPages(deps: ReportPageDeps, routes: RouteRegistrar, theme: ThemeRegistrar): void {
  const { reports } = deps;

  routes.page({
    method: 'get',
    path: '/admin/reports',
    access: 'admin',
    async handler(req, res) {
      renderView(req, res, 'admin/reports', {
        title: 'Reports',
        adminNav: 'reports',
        reports: reports.list(),
        saved: await savedReportsSection(deps.saved, reports, req),
      });
    },
  });

  // Before `/admin/reports/:name`.
  routes.page({
    method: 'get',
    path: '/admin/reports/:name/export.csv',
    access: 'admin',
    async handler(req, res) {
      const name = String(req.params.name);
      const request = await reports.parse(name, formQuery(req, ['cursor', 'before', 'sort', 'limit']), 'export');
      await sendCsv(reports, name, request, res, `${name}.csv`);
    },
  });

  routes.page({
    method: 'get',
    path: '/admin/reports/:name',
    access: 'admin',
    async handler(req, res) {
      const name = String(req.params.name);
      const info = reports.info(name);
      const { values, states, errors } = await pickedQuery(req, info, deps.picker);
      const parsed = errors.length ? { request: null, error: errors.join(' ') } : await parseOrShow(reports, name, values);
      const { request, error } = parsed;
      const page = request ? await reports.page(name, request) : null;
      const filters = without(values, ['cursor', 'before']);
      const exportFilters = without(values, ['cursor', 'before', 'sort', 'limit']);
      renderView(
        req,
        res,
        'admin/report',
        {
          title: info.label,
          adminNav: 'reports',
          report: info,
          fields: filterFields(info, values, states),
          sortOptions: info.orders.map((o) => ({ value: o.name, label: o.label, selected: o.name === (request?.sort ?? values.sort) })),
          error,
          columns: info.columns,
          rows: page ? page.items.map((row) => ({ cells: cells(info, row) })) : [],
          formAction: `/admin/reports/${name}`,
          csvLink: withQuery(`/admin/reports/${name}/export.csv`, exportFilters),
          savedQuery: new URLSearchParams(without(values, ['cursor', 'before', 'limit'])).toString(),
          pager: Boolean(page?.nextCursor || page?.prevCursor),
          next: page?.nextCursor ? withQuery(`/admin/reports/${name}`, { ...filters, cursor: page.nextCursor }) : null,
          previous: page?.prevCursor ? withQuery(`/admin/reports/${name}`, { ...filters, before: page.prevCursor }) : null,
        },
        error ? 400 : undefined,
      );
    },
  });

  routes.page({
    method: 'get',
    path: '/admin/programs/:id/learners',
    access: 'admin',
    async handler(req, res) {
      const programId = pageId(req.params.id, 'Program');
      const program = await deps.programs.get(programId);
      const info = reports.info('program_completion');
      const { values, states, errors } = await pickedQuery(req, info, deps.picker, ['programId']);
      const { request, error } = errors.length
        ? { request: null, error: errors.join(' ') }
        : await parseOrShow(reports, 'program_completion', { ...values, programId: String(programId) });
      const page = request ? await reports.page('program_completion', request) : null;
      const filters = without(values, ['programId', 'cursor', 'before']);
      const exportFilters = without(values, ['programId', 'cursor', 'before', 'sort', 'limit']);
      const base = `/admin/programs/${programId}/learners`;
      // Who the rules match but the page does not list yet, so "2 members, 1 learner" is explained.
      const waiting = await notYetAssignedCounts(deps.db.knex, programId, WAITING_CAP);
      renderView(
        req,
        res,
        'admin/program-learners',
        {
          title: `Learners in ${program.fullname}`,
          adminNav: 'programs',
          program,
          fields: filterFields(info, values, states, ['programId']),
          sortOptions: info.orders.map((o) => ({ value: o.name, label: o.label, selected: o.name === (request?.sort ?? values.sort) })),
          error,
          learners: (page?.items ?? []).map((row) => ({ ...row, statusLabel: STATUS_LABELS[String(row.status)] })),
          filtered: Object.keys(filters).some((k) => k !== 'sort' && k !== 'limit'),
          waitingFuture: waiting.future ? countText(waiting.future, 'more learner', 'more learners') : null,
          waitingExceptions: waiting.exception ? countText(waiting.exception, 'learner', 'learners') : null,
          formAction: base,
          csvLink: withQuery('/admin/reports/program_completion/export.csv', { ...exportFilters, programId: String(programId) }),
          pager: Boolean(page?.nextCursor || page?.prevCursor),
          next: page?.nextCursor ? withQuery(base, { ...filters, cursor: page.nextCursor }) : null,
          previous: page?.prevCursor ? withQuery(base, { ...filters, before: page.prevCursor }) : null,
        },
        error ? 400 : undefined,
      );
    },
  });

  routes.page({
    method: 'get',
    path: '/my/team',
    access: 'user',
    async handler(req, res) {
      const user = req.user!;
      const cursor = typeof req.query.cursor === 'string' ? req.query.cursor : undefined;
      const before = typeof req.query.before === 'string' ? req.query.before : undefined;
      const page = await deps.team.page(user.id, { limit: 25, cursor, before });
      renderView(req, res, 'learner/team', {
        title: 'My team',
        nav: 'team',
        members: page.items.map((m) => ({
          ...m,
          overdueCount: m.programs.filter((p) => p.overdue).length,
          programs: m.programs.map((p) => ({ ...p, statusLabel: STATUS_LABELS[p.status] })),
        })),
        pager: Boolean(page.nextCursor || page.prevCursor),
        next: page.nextCursor ? withQuery('/my/team', { cursor: page.nextCursor }) : null,
        previous: page.prevCursor ? withQuery('/my/team', { before: page.prevCursor }) : null,
      });
    },
  });

  // The header's "My team" link, for people someone reports to. Handlebars helpers are synchronous,
  // so a gate stage asks before the page renders (HTML requests of signed-in users only: one
  // indexed probe on job_assignments.manager_user_id) and the helper reads the answer by request id.
  const managers = new Set<string>();
  theme.helper('managesSomeone', (options: { data?: { root?: { reqId?: string } } }) => managers.has(options?.data?.root?.reqId ?? ''));
  theme.partial('team-link', TEAM_LINK);
  theme.slot('header.nav', 'team-link');
  routes.stage({
    phase: 'gate',
    method: 'get',
    path: '/{*path}',
    handler: async (req, res, next) => {
      try {
        if ((req.get('accept') ?? '').includes('text/html')) {
          const user = await deps.pages.resolveUser(req);
          if (user && (await deps.jobAssignments.managesAnyone(user.id))) {
            managers.add(req.reqId);
            res.once('close', () => managers.delete(req.reqId));
          }
        }
        next();
      } catch (error) {
        next(error);
      }
    },
  });
}

const TEAM_LINK = `{{#if (reports_managesSomeone)}}<li><a href="/my/team"{{#if (eq @root.nav "team")}} aria-current="page"{{/if}}>My team</a></li>{{/if}}`;
