import type { ApiRoute, ApiRequest } from '../../kernel/http/routes';
import { Id, component, dateTime, noParams, noQuery, object, pathParams, queryParams } from '../../kernel/http/contract';
import type { JsonSchema } from '../../kernel/http/json-schema';
import { SAVED_BY_NAME } from './store/saved';
import { cursorQuery, listResponse, pagePosition } from '../../kernel/http/paging';
import type { SavedReport, SavedReportInput, SavedReportPatch, SavedReportsService } from './saved';
import { REPORT_NAME } from './routes';

const name: JsonSchema = { type: 'string', minLength: 1, maxLength: 120, pattern: '\\S', description: 'Shown on the dashboard and the reports page; unique' };
const query: JsonSchema = {
  type: 'object',
  maxProperties: 30,
  additionalProperties: { type: 'string', maxLength: 1000 },
  description: "The report's query values (filters and `sort`), checked as GET /reports/{name} checks them",
};

const savedReportView = component(
  'SavedReport',
  object({
    id: Id,
    name: { type: 'string' },
    report: { type: 'string' },
    query: { type: 'object', additionalProperties: { type: 'string' } },
    onDashboard: { type: 'boolean' },
    createdBy: { oneOf: [{ type: 'null' }, object({ id: Id, fullname: { type: 'string' } })] },
    createdAt: dateTime,
    updatedAt: dateTime,
    href: { type: 'string', description: 'The admin page showing the report' },
  }),
);

const json = (s: SavedReport) => ({ ...s, createdAt: new Date(s.createdAt).toISOString(), updatedAt: new Date(s.updatedAt).toISOString() });

/** Saved reports: administrators save a report's filters under a name and pick which the dashboard shows. */
export function savedReportRoutes(saved: SavedReportsService): ApiRoute[] {
  const byId = pathParams({ id: Id });
  return [
    {
      method: 'get',
      path: '/saved-reports',
      summary: 'List saved reports by name (administrators)',
      tags: ['reports'],
      access: 'admin',
      params: noParams,
      query: queryParams({ ...cursorQuery(50), report: { ...REPORT_NAME, description: 'Only those of this report' } }),
      response: listResponse(savedReportView),
      async handler(req) {
        const q = req.query as { report?: string };
        const page = await saved.list(pagePosition(SAVED_BY_NAME, req.query, 50), q.report === undefined ? {} : { report: q.report });
        return { body: { items: page.items.map(json), nextCursor: page.nextCursor } };
      },
    },
    {
      method: 'post',
      path: '/saved-reports',
      summary: 'Save a report with its filters under a name (409 when the name is taken)',
      tags: ['reports'],
      access: 'admin',
      params: noParams,
      query: noQuery,
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'report'],
        properties: { name, report: REPORT_NAME, query, onDashboard: { type: 'boolean' } },
      },
      response: savedReportView,
      successStatus: 201,
      async handler(req: ApiRequest<SavedReportInput>) {
        return { status: 201, body: json(await saved.create(req.body, req.user!.id)) };
      },
    },
    {
      method: 'get',
      path: '/saved-reports/:id',
      summary: 'One saved report',
      tags: ['reports'],
      access: 'admin',
      params: byId,
      query: noQuery,
      response: savedReportView,
      handler: async (req) => ({ body: json(await saved.get(req.params.id!)) }),
    },
    {
      method: 'patch',
      path: '/saved-reports/:id',
      summary: 'Rename a saved report, change its filters, or show or hide it on the dashboard',
      tags: ['reports'],
      access: 'admin',
      params: byId,
      query: noQuery,
      body: { type: 'object', additionalProperties: false, minProperties: 1, properties: { name, query, onDashboard: { type: 'boolean' } } },
      response: savedReportView,
      handler: async (req: ApiRequest<SavedReportPatch>) => ({ body: json(await saved.update(req.params.id!, req.body)) }),
    },
    {
      method: 'delete',
      path: '/saved-reports/:id',
      summary: 'Delete a saved report',
      tags: ['reports'],
      access: 'admin',
      params: byId,
      query: noQuery,
      successStatus: 204,
      async handler(req) {
        await saved.remove(req.params.id!);
        return { status: 204 };
      },
    },
  ];
}
