import type { Site } from '../site';
import type { ApiRoute, JsonSchema } from '../http/routes';
import { notFound } from '../errors';
import { parseJobListQuery } from '../jobs/list-query';

const pluginInfoSchema: JsonSchema = {
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
};

const jobStatusSchema: JsonSchema = {
  type: 'object',
  required: ['id', 'name', 'state', 'attempts'],
  properties: {
    id: { type: 'integer' },
    name: { type: 'string' },
    state: { enum: ['queued', 'running', 'done', 'dead'] },
    attempts: { type: 'integer' },
    maxAttempts: { type: 'integer' },
    runAt: { type: 'string', format: 'date-time' },
    progress: {
      type: ['object', 'null'],
      properties: { done: { type: 'number' }, total: { type: 'number' }, message: { type: ['string', 'null'] } },
    },
    result: {},
    lastError: { type: ['string', 'null'] },
    createdAt: { type: 'string', format: 'date-time' },
    startedAt: { type: ['string', 'null'], format: 'date-time' },
    finishedAt: { type: ['string', 'null'], format: 'date-time' },
  },
};

/** REST routes of the platform (plugins, jobs). All are for site administrators. */
export function platformRoutes(site: Site): ApiRoute[] {
  return [
    {
      method: 'get',
      path: '/plugins',
      summary: 'List plugins with their state',
      tags: ['plugins'],
      access: 'admin',
      response: { type: 'object', required: ['plugins'], properties: { plugins: { type: 'array', items: pluginInfoSchema } } },
      handler: async () => ({ body: { plugins: await site.plugins.list() } }),
    },
    {
      method: 'post',
      path: '/plugins/:id/enable',
      summary: 'Enable a plugin (its hooks and routes take effect at once)',
      tags: ['plugins'],
      access: 'admin',
      response: pluginInfoSchema,
      handler: async (req) => ({ body: await site.plugins.enable(req.params.id!) }),
    },
    {
      method: 'post',
      path: '/plugins/:id/disable',
      summary: 'Disable a plugin (its hooks and routes stop at once)',
      tags: ['plugins'],
      access: 'admin',
      response: pluginInfoSchema,
      handler: async (req) => ({ body: await site.plugins.disable(req.params.id!) }),
    },
    {
      method: 'get',
      path: '/jobs',
      summary: 'List background jobs newest first, e.g. ?state=dead to find failed work (query: state, limit 1-200, cursor)',
      tags: ['jobs'],
      access: 'admin',
      response: {
        type: 'object',
        required: ['items', 'nextCursor'],
        properties: { items: { type: 'array', items: jobStatusSchema }, nextCursor: { type: ['string', 'null'] } },
      },
      handler: async (req) => ({ body: await site.jobs.list(parseJobListQuery(req.query)) }),
    },
    {
      method: 'post',
      path: '/jobs/:id/retry',
      summary: 'Put a dead job back in the queue with fresh attempts (409 JOB_NOT_DEAD otherwise)',
      tags: ['jobs'],
      access: 'admin',
      response: jobStatusSchema,
      handler: async (req) => {
        const raw = req.params.id!;
        if (!/^[1-9][0-9]{0,15}$/.test(raw)) throw notFound('Job', raw);
        return { body: await site.jobs.retry(Number(raw)) };
      },
    },
    {
      method: 'get',
      path: '/jobs/:id',
      summary: 'Status and progress of a background job',
      tags: ['jobs'],
      access: 'admin',
      response: jobStatusSchema,
      handler: async (req) => {
        const raw = req.params.id!;
        const status = /^[1-9][0-9]{0,15}$/.test(raw) ? await site.jobs.status(Number(raw)) : null;
        if (!status) throw notFound('Job', raw);
        return { body: status };
      },
    },
  ];
}
