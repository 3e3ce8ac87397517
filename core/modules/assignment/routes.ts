import type { ApiRoute, JsonSchema } from '../../kernel/http/routes';
import { forbidden } from '../../kernel/errors';
import { Id, UserId, component, dateTime, noQuery, nullableDateTime, object, pathParams, queryParams } from '../../kernel/http/contract';
import { cursorQuery, listResponse, pagePosition, pickOrder, sortQuery } from '../../kernel/http/paging';
import { EXCEPTION_ORDERS } from './store/exceptions';
import type { AssignmentRuleInput, AssignmentService, ExceptionAction } from './service';
import type { DueRule } from './types';

const programParams = pathParams(['id']);
const ruleParams = pathParams(['id', 'ruleId']);

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

const ruleResponse: JsonSchema = component('AssignmentRule', {
  type: 'object',
  required: ['id', 'programId', 'source', 'instance', 'due', 'description', 'status', 'memberCount', 'createdAt', 'updatedAt'],
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
});

const ruleAndJob = object({ rule: ruleResponse, jobId: Id });

const exceptionSummary = {
  id: Id,
  type: { type: 'string' },
  status: { type: 'string' },
  raisedAt: dateTime,
  explanation: { type: 'string' },
};

const exceptionView: JsonSchema = component(
  'AssignmentException',
  object({
    id: Id,
    programId: Id,
    userId: Id,
    learner: object({ id: Id, username: { type: 'string' }, fullname: { type: 'string' } }),
    type: exceptionSummary.type,
    status: exceptionSummary.status,
    raisedAt: dateTime,
    explanation: { type: 'string' },
  }),
);

const historyEntry: JsonSchema = component(
  'AssignmentHistoryEntry',
  object({
    exceptionId: Id,
    type: { type: 'string' },
    status: { enum: ['open', 'dismissed', 'resolved'] },
    raisedAt: dateTime,
    explanation: { type: 'string' },
    resolution: {
      type: ['string', 'null'],
      description: 'set_realistic_due_date, assign or dismiss (an operator); recheck or unassigned (the assignment sync); null while open',
    },
    resolvedAt: nullableDateTime,
    resolvedBy: { anyOf: [object({ id: Id, fullname: { type: 'string' } }), { type: 'null' }] },
  }),
);

const learnerAssignment: JsonSchema = component(
  'LearnerAssignment',
  object({
    assigned: { type: 'boolean' },
    status: { enum: ['active', 'future', 'exception', 'unassigned'] },
    dueAt: { type: ['string', 'null'], format: 'date-time' },
    assignedAt: { type: ['string', 'null'], format: 'date-time' },
    exception: { anyOf: [object(exceptionSummary), { type: 'null' }] },
    acceptedDueAt: {
      ...nullableDateTime,
      description: 'The due date an operator accepted despite a time-allowance exception; no new one is raised unless the due date moves earlier',
    },
    history: { type: 'array', maxItems: 50, items: historyEntry, description: "The learner's exceptions in this program and their decisions, newest first" },
  }),
);

/** REST routes of assignment rules and exceptions (DOMAIN 4, API.md). */
export function assignmentRoutes(service: () => AssignmentService): ApiRoute[] {
  return [
    {
      method: 'post',
      path: '/programs/:id/assignments',
      summary: 'Add an assignment rule; its members are synced by a background job (jobId)',
      tags: ['assignment'],
      access: 'admin',
      params: programParams,
      query: noQuery,
      body: ruleBody,
      successStatus: 201,
      response: ruleAndJob,
      handler: async (req) => {
        const result = await service().addRule(req.params.id!, req.body as AssignmentRuleInput);
        return { status: 201, body: result };
      },
    },
    {
      method: 'get',
      path: '/programs/:id/assignments',
      summary: 'Assignment rules of a program, with descriptions and member counts',
      tags: ['assignment'],
      access: 'admin',
      params: programParams,
      query: noQuery,
      response: object({ rules: { type: 'array', items: ruleResponse } }),
      handler: async (req) => ({ body: { rules: await service().listRules(req.params.id!) } }),
    },
    {
      method: 'patch',
      path: '/programs/:id/assignments/:ruleId',
      summary: "Change a rule's due date; learners' due dates are recomputed by a background job",
      tags: ['assignment'],
      access: 'admin',
      params: ruleParams,
      query: noQuery,
      body: { type: 'object', required: ['due'], properties: { due: dueSchema }, additionalProperties: false },
      response: ruleAndJob,
      handler: async (req) => {
        const body = req.body as { due: DueRule };
        return { body: await service().updateRule(req.params.id!, req.params.ruleId!, { due: body.due }) };
      },
    },
    {
      method: 'delete',
      path: '/programs/:id/assignments/:ruleId',
      summary: 'Remove an assignment rule; its learners are unassigned by a background job unless another rule matches',
      tags: ['assignment'],
      access: 'admin',
      successStatus: 202,
      params: ruleParams,
      query: noQuery,
      response: object({ jobId: Id }),
      handler: async (req) => ({ status: 202, body: await service().removeRule(req.params.id!, req.params.ruleId!) }),
    },
    {
      method: 'get',
      path: '/programs/:id/assignments/learners/:userId',
      summary: "A learner's effective assignment: status, due date, exception, and the history of exceptions and operators' decisions",
      tags: ['assignment'],
      access: 'user',
      params: pathParams({ id: Id, userId: UserId }),
      query: noQuery,
      response: learnerAssignment,
      handler: async (req) => {
        const userId = req.params.userId!;
        if (!req.user?.isAdmin && req.user?.id !== userId) throw forbidden('You may only read your own assignment');
        return { body: await service().learnerAssignment(req.params.id!, userId) };
      },
    },
    {
      method: 'get',
      path: '/programs/:id/exceptions',
      summary:
        'Assignment exceptions of a program, a page at a time (open by default; status, type; oldest first, or sort=-id; pass nextCursor back as cursor)',
      tags: ['assignment'],
      access: 'admin',
      params: programParams,
      query: queryParams({
        ...cursorQuery(),
        ...sortQuery(EXCEPTION_ORDERS),
        status: { enum: ['open', 'dismissed', 'resolved'], default: 'open', description: 'Which exceptions to list' },
        type: { enum: ['already_assigned', 'completion_time_unknown', 'time_allowance'], description: 'Only exceptions of this type' },
      }),
      response: listResponse(exceptionView),
      handler: async (req) => {
        const query = req.query as { status: 'open' | 'dismissed' | 'resolved'; type?: string; sort?: string };
        const order = pickOrder(EXCEPTION_ORDERS, query.sort);
        const page = await service().listExceptions(
          { programId: req.params.id!, status: query.status, type: query.type },
          order,
          pagePosition(order, req.query),
        );
        // The program is the one in the path: its name is not repeated on every line.
        return { body: { items: page.items.map(({ programName: _programName, ...e }) => e), nextCursor: page.nextCursor } };
      },
    },
    {
      method: 'post',
      path: '/exceptions/resolve',
      summary: 'Resolve assignment exceptions in bulk (one transaction)',
      tags: ['assignment'],
      access: 'admin',
      params: pathParams([]),
      query: noQuery,
      response: object({
        action: { enum: ['set_realistic_due_date', 'assign', 'dismiss'] },
        resolved: { type: 'integer', minimum: 0 },
        assigned: { type: 'integer', minimum: 0 },
      }),
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
