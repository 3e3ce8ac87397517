import type { ApiRoute, AuthUser, JsonSchema } from '../../kernel/http/routes';
import { forbidden } from '../../kernel/errors';
import { DateInput, Id, UserId, component, dateTime, nullableDateTime, pathParams, queryParams } from '../../kernel/http/contract';
import { cursorQuery, listResponse, pagePosition } from '../../kernel/http/paging';
import { NEWEST_FIRST, type RequestStatus } from './store/requests';
import { MAX_REASON, REQUEST_STATUSES, type DecisionInput, type ExtensionRequestService, type RequestInput, type RequestListFilter } from './service';

const person = { type: 'object', required: ['id', 'fullname'], properties: { id: Id, fullname: { type: 'string' } }, additionalProperties: false };

const requestView: JsonSchema = component('ExtensionRequest', {
  type: 'object',
  required: ['id', 'program', 'learner', 'status', 'dueAt', 'requestedDueAt', 'reason', 'requestedAt', 'decision'],
  additionalProperties: false,
  properties: {
    id: Id,
    program: person,
    learner: person,
    status: { enum: REQUEST_STATUSES },
    dueAt: { ...dateTime, description: 'The due date when the learner asked' },
    requestedDueAt: dateTime,
    reason: { type: 'string' },
    requestedAt: dateTime,
    decision: {
      oneOf: [
        { type: 'null' },
        {
          type: 'object',
          required: ['by', 'at', 'approvedDueAt', 'reason'],
          additionalProperties: false,
          properties: {
            by: { oneOf: [{ type: 'null' }, person] },
            at: dateTime,
            approvedDueAt: { ...nullableDateTime, description: 'The new due date; null when declined' },
            reason: { type: ['string', 'null'] },
          },
        },
      ],
    },
  },
});

const reason: JsonSchema = { type: 'string', maxLength: MAX_REASON };
const listQuery = queryParams({ status: { enum: REQUEST_STATUSES, description: 'Only requests in this state' }, ...cursorQuery(50) });

/**
 * REST routes of extension requests. A learner asks for themselves; they, their managers and
 * administrators read a learner's requests; a manager lists and decides their team's.
 */
export function extensionRequestRoutes(service: () => ExtensionRequestService): ApiRoute[] {
  /** A paged list of requests for the user in the path, once `scope` has said who may read it and which requests it means. */
  const listRoute = (path: string, summary: string, scope: (viewer: AuthUser, userId: number) => Promise<RequestListFilter>): ApiRoute => ({
    method: 'get',
    path,
    summary,
    tags: ['extension requests'],
    access: 'user',
    params: pathParams({ userId: UserId }),
    query: listQuery,
    response: listResponse(requestView),
    handler: async (req) => {
      const filter = { ...(await scope(req.user!, req.params.userId!)), status: req.query.status as RequestStatus | undefined };
      const page = await service().list(filter, pagePosition(NEWEST_FIRST, req.query, 50));
      return { body: { items: page.items, nextCursor: page.nextCursor } };
    },
  });
  return [
    {
      method: 'post',
      path: '/programs/:id/extension-requests',
      summary: 'Ask for a later due date in this program, with a reason (for yourself; the program must allow it and you need a manager)',
      tags: ['extension requests'],
      access: 'user',
      params: pathParams(['id']),
      body: {
        type: 'object',
        required: ['dueAt', 'reason'],
        additionalProperties: false,
        properties: { dueAt: DateInput, reason: { ...reason, minLength: 1 } },
      },
      response: requestView,
      successStatus: 201,
      handler: async (req) => ({ status: 201, body: await service().request(req.params.id!, req.user!.id, req.body as RequestInput) }),
    },
    listRoute(
      '/users/:userId/extension-requests',
      "A learner's extension requests, newest first (the learner, their managers or an administrator)",
      async (viewer, userId) => {
        if (userId !== viewer.id && !(await service().mayDecideFor(viewer, userId))) throw forbidden("You may not see this learner's requests");
        return { userId };
      },
    ),
    listRoute(
      '/users/:userId/team/extension-requests',
      "Extension requests of a manager's team (direct and indirect reports), newest first (that manager or an administrator)",
      async (viewer, managerId) => {
        if (managerId !== viewer.id && !viewer.isAdmin) throw forbidden("You may not see another manager's team");
        return { managerId };
      },
    ),
    {
      method: 'get',
      path: '/extension-requests/:id',
      summary: 'One extension request (the learner, their managers or an administrator)',
      tags: ['extension requests'],
      access: 'user',
      params: pathParams(['id']),
      response: requestView,
      handler: async (req) => ({ body: await service().get(req.params.id!, req.user!) }),
    },
    {
      method: 'post',
      path: '/extension-requests/:id/decision',
      summary: 'Approve (optionally with another later date) or decline (with a reason) a pending request: a manager of the learner or an administrator',
      tags: ['extension requests'],
      access: 'user',
      params: pathParams(['id']),
      body: {
        type: 'object',
        required: ['decision'],
        additionalProperties: false,
        properties: {
          decision: { enum: ['approve', 'decline'] },
          dueAt: { ...DateInput, description: 'The approved date; the one asked for when left out. Must be after the current due date' },
          reason: { ...reason, description: 'Required to decline' },
        },
      },
      response: requestView,
      handler: async (req) => ({ body: await service().decide(req.params.id!, req.user!, req.body as DecisionInput) }),
    },
  ];
}
