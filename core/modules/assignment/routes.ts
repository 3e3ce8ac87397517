import type { ApiRequest, ApiRoute, JsonSchema } from '../../kernel/http/routes';
import { forbidden, notFound } from '../../kernel/errors';
import type { AssignmentRuleInput, AssignmentService, ExceptionAction } from './service';
import type { DueRule } from './types';

function idParam(req: ApiRequest, name: string, what: string): number {
  const raw = req.params[name] ?? '';
  const value = /^[1-9][0-9]{0,15}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(value)) throw notFound(what, raw);
  return value;
}

const dueSchema: JsonSchema = {
  oneOf: [
    { type: 'null' },
    { type: 'object', required: ['date'], properties: { date: { type: 'string', minLength: 1 } }, additionalProperties: false },
    {
      type: 'object',
      required: ['within', 'event'],
      properties: { within: { type: 'string', minLength: 2 }, event: { type: 'string', minLength: 1 }, instanceId: { type: 'integer', minimum: 1 } },
      additionalProperties: false,
    },
  ],
};

/** The core part of a rule body; the source's instanceSchema validates the rest. */
const ruleBody: JsonSchema = {
  type: 'object',
  required: ['source', 'instanceId'],
  properties: {
    source: { type: 'string', minLength: 1, maxLength: 100 },
    instanceId: { type: 'integer', minimum: 1 },
    includeChildren: { type: 'boolean' },
    due: dueSchema,
  },
  additionalProperties: true,
};

const ruleResponse: JsonSchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    programId: { type: 'integer' },
    source: { type: 'string' },
    instance: { type: 'object' },
    due: dueSchema,
    description: { type: 'string' },
    status: { type: 'string', enum: ['active', 'source_disabled', 'removing'] },
    memberCount: { type: 'integer' },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
  },
};

/** REST routes of assignment rules and exceptions (DOMAIN 4, API.md). */
export function assignmentRoutes(service: () => AssignmentService): ApiRoute[] {
  return [
    {
      method: 'post',
      path: '/programs/:id/assignments',
      summary: 'Add an assignment rule; its members are synced by a background job (jobId)',
      tags: ['assignment'],
      access: 'admin',
      body: ruleBody,
      successStatus: 201,
      response: { type: 'object', properties: { rule: ruleResponse, jobId: { type: 'integer' } } },
      handler: async (req) => {
        const result = await service().addRule(idParam(req, 'id', 'Program'), req.body as AssignmentRuleInput);
        return { status: 201, body: result };
      },
    },
    {
      method: 'get',
      path: '/programs/:id/assignments',
      summary: 'Assignment rules of a program, with descriptions and member counts',
      tags: ['assignment'],
      access: 'admin',
      response: { type: 'object', properties: { rules: { type: 'array', items: ruleResponse } } },
      handler: async (req) => ({ body: { rules: await service().listRules(idParam(req, 'id', 'Program')) } }),
    },
    {
      method: 'patch',
      path: '/programs/:id/assignments/:ruleId',
      summary: "Change a rule's due date; learners' due dates are recomputed by a background job",
      tags: ['assignment'],
      access: 'admin',
      body: { type: 'object', required: ['due'], properties: { due: dueSchema }, additionalProperties: false },
      handler: async (req) => {
        const body = req.body as { due: DueRule };
        return { body: await service().updateRule(idParam(req, 'id', 'Program'), idParam(req, 'ruleId', 'Assignment rule'), { due: body.due }) };
      },
    },
    {
      method: 'delete',
      path: '/programs/:id/assignments/:ruleId',
      summary: 'Remove an assignment rule; its learners are unassigned by a background job unless another rule matches',
      tags: ['assignment'],
      access: 'admin',
      successStatus: 202,
      handler: async (req) => ({ status: 202, body: await service().removeRule(idParam(req, 'id', 'Program'), idParam(req, 'ruleId', 'Assignment rule')) }),
    },
    {
      method: 'get',
      path: '/programs/:id/assignments/learners/:userId',
      summary: "A learner's effective assignment: status, due date and exception",
      tags: ['assignment'],
      access: 'user',
      handler: async (req) => {
        const userId = idParam(req, 'userId', 'User');
        if (!req.user?.isAdmin && req.user?.id !== userId) throw forbidden('You may only read your own assignment');
        return { body: await service().learnerAssignment(idParam(req, 'id', 'Program'), userId) };
      },
    },
    {
      method: 'get',
      path: '/programs/:id/exceptions',
      summary: 'Assignment exceptions of a program (open by default; ?status=dismissed|resolved)',
      tags: ['assignment'],
      access: 'admin',
      handler: async (req) => {
        const status = req.query.status;
        const wanted = status === 'dismissed' || status === 'resolved' ? status : 'open';
        return { body: { exceptions: await service().listExceptions(idParam(req, 'id', 'Program'), wanted) } };
      },
    },
    {
      method: 'post',
      path: '/exceptions/resolve',
      summary: 'Resolve assignment exceptions in bulk (one transaction)',
      tags: ['assignment'],
      access: 'admin',
      body: {
        type: 'object',
        required: ['exceptionIds', 'action'],
        properties: {
          exceptionIds: { type: 'array', minItems: 1, maxItems: 10000, items: { type: 'integer', minimum: 1 } },
          action: { type: 'string', enum: ['set_realistic_due_date', 'assign', 'dismiss'] },
        },
        additionalProperties: false,
      },
      handler: async (req) => {
        const body = req.body as { exceptionIds: number[]; action: ExceptionAction };
        return { body: await service().resolveExceptions(body.exceptionIds, body.action, req.user?.id ?? null) };
      },
    },
  ];
}
