import type { KernelCore } from '../parts';
import type { PluginManager } from '../plugins/manager';

type Kernel = KernelCore & { readonly plugins: PluginManager };
import type { ApiRoute, JsonSchema } from './routes';
import { notFound } from '../errors';

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
