import type { ApiRoute, ApiRequest } from '../../kernel/http/routes';
import { Id, component, noQuery, object, pathParams, queryParams } from '../../kernel/http/contract';
import type { JsonSchema } from '../../kernel/http/json-schema';
import { cursorQuery, listResponse } from '../../kernel/http/paging';
import { forbidden } from '../../kernel/errors';
import type { ReportsService } from './service';
import type { TeamService } from './team';
import type { ReportSource } from './types';

/** A report's name in a path: the extension point's keys are lower-case words. */
export const REPORT_NAME: JsonSchema = { type: 'string', pattern: '^[a-z][a-z0-9_]{0,63}$', description: 'A report name from GET /reports' };

/** `me` or a user id in a path (the caller's own team). */
const USER_ID_OR_ME: JsonSchema = { type: 'string', pattern: '^(me|[1-9][0-9]{0,15})$', description: 'A user id, or `me` for the caller' };

const reportInfo = component(
  'ReportInfo',
  object({
    name: { type: 'string' },
    label: { type: 'string' },
    description: { type: 'string' },
    query: { type: 'object', description: "JSON Schema of the report's query parameters (filters, sort, limit, cursor)" },
    requiredFilters: { type: 'array', items: { type: 'string' } },
    orders: { type: 'array', items: object({ name: { type: 'string' }, label: { type: 'string' } }) },
    columns: { type: 'array', items: object({ key: { type: 'string' }, label: { type: 'string' } }) },
  }),
);

/**
 * The query of a report route: paging and `sort` here, the report's own filters checked by the
 * service against the schema the report declares (listed by `GET /reports`), so any other
 * parameter or value is still 400.
 */
const reportQuery: JsonSchema = {
  type: 'object',
  properties: { ...cursorQuery(50), sort: { type: 'string', maxLength: 64, description: "One of the report's orders (GET /reports)" } },
  additionalProperties: { type: 'string', maxLength: 1000 },
};

const rowSchema = (source: ReportSource): JsonSchema => object(Object.fromEntries(source.columns.map((c) => [c.key, c.schema])));

const teamProgram = object({
  id: Id,
  fullname: { type: 'string' },
  status: { enum: ['in_progress', 'overdue', 'complete'] },
  progress: { type: 'integer', minimum: 0, maximum: 100 },
  dueAt: { type: ['string', 'null'], format: 'date-time' },
  overdue: { type: 'boolean' },
  completedAt: { type: ['string', 'null'], format: 'date-time' },
});

const teamMember = component(
  'TeamMember',
  object({
    id: Id,
    username: { type: 'string' },
    fullname: { type: 'string' },
    direct: { type: 'boolean', description: 'Reports to the manager directly (else through someone in the team)' },
    programs: { type: 'array', items: teamProgram },
  }),
);

/** `me` is the caller; anything else is a user id. */
function userOf(req: ApiRequest): number {
  const raw = String(req.params.id);
  return raw === 'me' ? req.user!.id : Number(raw);
}

/** The query values as the service validates them (everything but the path). */
const queryOf = (req: ApiRequest): Record<string, unknown> => ({ ...req.query });

export function reportRoutes(reports: ReportsService, team: TeamService, programCompletion: ReportSource): ApiRoute[] {
  const { programId: _programId, ...learnerFilters } = programCompletion.filters;
  const learnerOrders = programCompletion.orders.map((o) => o.name);
  return [
    {
      method: 'get',
      path: '/reports',
      summary: 'The available reports (built in, or contributed by plugins), each with its query schema (filters, orders), columns',
      tags: ['reports'],
      access: 'admin',
      query: noQuery,
      response: object({ items: { type: 'array', items: reportInfo } }),
      handler: () => ({ body: { items: reports.list() } }),
    },
    // Before `/reports/:name`, which would otherwise take `overdue.csv` for a name.
    {
      method: 'get',
      path: '/reports/:name.csv',
      summary:
        "The whole filtered report as CSV (a header row, then every row in the report's export order, the row id), streamed at constant memory; takes the report's filters only",
      tags: ['reports'],
      access: 'admin',
      params: pathParams({ name: REPORT_NAME }),
      query: { type: 'object', properties: {}, additionalProperties: { type: 'string', maxLength: 1000, description: "The report's filters (GET /reports)" } },
      response: { type: 'string', description: 'text/csv' },
      async handler(req) {
        const name = String(req.params.name);
        const request = await reports.parse(name, queryOf(req), 'export');
        req.logger.info('report export', { module: 'reports', report: name, user: req.user?.id });
        return { stream: { contentType: 'text/csv; charset=utf-8', filename: `${name}.csv`, write: (out) => reports.exportCsv(name, request, out) } };
      },
    },
    {
      method: 'get',
      path: '/reports/:name',
      summary: 'One page of a report, filtered and sorted ({items, nextCursor}); the filters are those GET /reports lists for it',
      tags: ['reports'],
      access: 'admin',
      params: pathParams({ name: REPORT_NAME }),
      query: reportQuery,
      response: listResponse({ type: 'object', additionalProperties: { type: ['string', 'number', 'boolean', 'null'] } }),
      async handler(req) {
        const name = String(req.params.name);
        const page = await reports.page(name, await reports.parse(name, queryOf(req)));
        return { body: { items: page.items, nextCursor: page.nextCursor } };
      },
    },
    {
      method: 'get',
      path: '/programs/:id/learners',
      summary:
        "A program's learners: the program completion report filtered to the program (status incl. overdue, progress %, due and completion dates), paged",
      tags: ['programs', 'reports'],
      access: 'admin',
      params: pathParams({ id: Id }),
      query: queryParams({ ...learnerFilters, sort: { enum: learnerOrders, default: learnerOrders[0] }, ...cursorQuery(50) }),
      response: listResponse(rowSchema(programCompletion)),
      async handler(req) {
        const request = await reports.parse('program_completion', { ...queryOf(req), programId: req.params.id });
        const page = await reports.page('program_completion', request);
        return { body: { items: page.items, nextCursor: page.nextCursor } };
      },
    },
    {
      method: 'get',
      path: '/users/:id/team',
      summary:
        "A manager's team: their direct and indirect reports (management tree of job assignments), each with their assigned programs, status, progress, due date and overdue flag; for that manager or an administrator",
      tags: ['users', 'reports'],
      access: 'user',
      params: pathParams({ id: USER_ID_OR_ME }),
      query: queryParams(cursorQuery(50)),
      response: listResponse(teamMember),
      async handler(req) {
        const managerId = userOf(req);
        if (!req.user!.isAdmin && req.user!.id !== managerId) throw forbidden('You may only see your own team');
        const page = await team.page(managerId, req.query);
        return { body: { items: page.items, nextCursor: page.nextCursor } };
      },
    },
  ];
}
