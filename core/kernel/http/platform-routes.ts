import type { KernelCore } from '../parts';
import type { PluginManager } from '../plugins/manager';
import type { ApiRequest, ApiRoute, JsonSchema } from './routes';
import { JOB_STATES } from '../jobs/queue';
import type { JobListOptions } from '../jobs/types';

type Kernel = KernelCore & { readonly plugins: PluginManager };
import { notFound } from '../errors';
import { PLUGIN_ID_PATTERN } from '../plugins/manifest';
import { component, noParams, noQuery, pathParams, queryParams } from './contract';

/** The `:id` of a plugin route: a string (its params schema says so), unlike the numeric ids elsewhere. */
const pluginId = (req: ApiRequest): string => String(req.params.id);
const pluginParams = pathParams({ id: { type: 'string', pattern: PLUGIN_ID_PATTERN, maxLength: 100, description: 'Plugin id (frankenstyle type_name)' } });

const pluginInfoSchema: JsonSchema = component('Plugin', {
  type: 'object',
  required: ['id', 'name', 'state', 'enabled'],
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    version: { type: ['string', 'null'] },
    installedVersion: { type: ['string', 'null'] },
    state: { enum: ['enabled', 'disabled', 'errored', 'invalid'] },
    enabled: { type: 'boolean' },
    errorCode: { type: ['string', 'null'] },
    errorMessage: { type: ['string', 'null'] },
    requires: { type: 'object', additionalProperties: { type: 'string' } },
  },
});

const jobStatusSchema: JsonSchema = component('JobStatus', {
  type: 'object',
  required: ['id', 'name', 'state', 'attempts', 'maxAttempts', 'progress', 'result', 'lastError', 'runAt', 'createdAt', 'startedAt', 'finishedAt'],
  properties: {
    id: { type: 'integer' },
    name: { type: 'string' },
    state: { enum: ['queued', 'running', 'done', 'dead'] },
    attempts: { type: 'integer' },
    maxAttempts: { type: 'integer' },
    progress: {
      type: ['object', 'null'],
      properties: { done: { type: 'number' }, total: { type: 'number' }, message: { type: ['string', 'null'] } },
    },
    result: { description: 'What the job handler returned (any JSON), null until done' },
    lastError: { type: ['string', 'null'] },
    runAt: { type: 'string', format: 'date-time' },
    createdAt: { type: 'string', format: 'date-time' },
    startedAt: { type: ['string', 'null'], format: 'date-time' },
    finishedAt: { type: ['string', 'null'], format: 'date-time' },
  },
});

/** REST routes of the platform (plugins, jobs). All are for site administrators. */
export function registerPlatformRoutes(site: Kernel): void {
  const registrar = site.routes.registrarFor('core');
  for (const route of platformRoutes(site)) registrar.api(route);
}

function platformRoutes(site: Kernel): ApiRoute[] {
  return [
    {
      method: 'get',
      path: '/plugins',
      summary: 'List plugins with their state',
      tags: ['plugins'],
      access: 'admin',
      params: noParams,
      query: noQuery,
      response: { type: 'object', required: ['plugins'], properties: { plugins: { type: 'array', items: pluginInfoSchema } } },
      handler: async () => ({ body: { plugins: await site.plugins.list() } }),
    },
    {
      method: 'post',
      path: '/plugins/:id/enable',
      summary: 'Enable a plugin (its hooks and routes take effect at once)',
      tags: ['plugins'],
      access: 'admin',
      params: pluginParams,
      query: noQuery,
      response: pluginInfoSchema,
      handler: async (req) => ({ body: await site.plugins.enable(pluginId(req)) }),
    },
    {
      method: 'post',
      path: '/plugins/:id/disable',
      summary: 'Disable a plugin (its hooks and routes stop at once)',
      tags: ['plugins'],
      access: 'admin',
      params: pluginParams,
      query: noQuery,
      response: pluginInfoSchema,
      handler: async (req) => ({ body: await site.plugins.disable(pluginId(req)) }),
    },
    {
      method: 'get',
      path: '/jobs',
      summary: 'List background jobs newest first, e.g. ?state=dead to find failed work',
      tags: ['jobs'],
      access: 'admin',
      params: noParams,
      query: queryParams({
        state: { enum: [...JOB_STATES], description: 'Only jobs in this state' },
        limit: { type: 'integer', minimum: 1, maximum: 200, description: 'Page size, 1..200' },
        cursor: { type: 'string', pattern: '^[1-9][0-9]{0,15}$', description: 'The nextCursor of the previous page' },
      }),
      response: {
        type: 'object',
        required: ['items', 'nextCursor'],
        properties: { items: { type: 'array', items: jobStatusSchema }, nextCursor: { type: ['string', 'null'] } },
      },
      handler: async (req) => ({ body: await site.jobs.list(req.query as JobListOptions) }),
    },
    {
      method: 'post',
      path: '/jobs/:id/retry',
      summary: 'Put a dead job back in the queue with fresh attempts (409 JOB_NOT_DEAD otherwise)',
      tags: ['jobs'],
      access: 'admin',
      params: pathParams(['id']),
      query: noQuery,
      response: jobStatusSchema,
      handler: async (req) => ({ body: await site.jobs.retry(req.params.id!) }),
    },
    {
      method: 'get',
      path: '/jobs/:id',
      summary: 'Status and progress of a background job',
      tags: ['jobs'],
      access: 'admin',
      params: pathParams(['id']),
      query: noQuery,
      response: jobStatusSchema,
      handler: async (req) => {
        const status = await site.jobs.status(req.params.id!);
        if (!status) throw notFound('Job', req.params.id);
        return { body: status };
      },
    },
  ];
}
