import type { LearnerViewsSite } from './site';
import type { ApiRequest, ApiRoute, JsonSchema } from '../../kernel/http/routes';
import { forbidden } from '../../kernel/errors';
import { UserId, component, noQuery, pathParams } from '../../kernel/http/contract';
import { loadRecordOfLearning, loadRequiredLearning } from './learner-data';

const dateTime = { type: ['string', 'null'], format: 'date-time' };

const requiredLearningSchema: JsonSchema = component('RequiredLearning', {
  type: 'object',
  required: ['userId', 'programs'],
  properties: {
    userId: { type: 'integer' },
    programs: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          id: { type: 'integer' },
          fullname: { type: 'string' },
          summary: { type: ['string', 'null'] },
          status: { enum: ['incomplete', 'complete'] },
          progress: { type: 'integer', minimum: 0, maximum: 100 },
          assignedAt: dateTime,
          dueAt: dateTime,
          overdue: { type: 'boolean' },
          nextCourse: { type: ['object', 'null'], properties: { id: { type: 'integer' }, fullname: { type: 'string' } } },
        },
      },
    },
  },
});

const recordOfLearningSchema: JsonSchema = component('RecordOfLearning', {
  type: 'object',
  required: ['userId', 'programs', 'courses', 'history'],
  properties: {
    userId: { type: 'integer' },
    programs: { type: 'array', items: { type: 'object', properties: { id: { type: 'integer' }, fullname: { type: 'string' }, completedAt: dateTime } } },
    courses: { type: 'array', items: { type: 'object', properties: { id: { type: 'integer' }, fullname: { type: 'string' }, completedAt: dateTime, source: { type: 'string' } } } },
    history: {
      type: 'array',
      items: {
        type: 'object',
        properties: { kind: { enum: ['program', 'course'] }, id: { type: 'integer' }, fullname: { type: 'string' }, completedAt: dateTime, reason: { type: 'string' }, archivedAt: dateTime },
      },
    },
  },
});

const userParams = pathParams({ id: UserId });

/** The user whose pages are asked for; a learner may only ask about themselves, an administrator about anyone. */
async function subject(site: LearnerViewsSite, req: ApiRequest): Promise<number> {
  const userId = req.params.id!;
  if (!req.user?.isAdmin && req.user?.id !== userId) throw forbidden('You may only read your own learning');
  await site.services.users.get(userId);
  return userId;
}

/** `GET /users/{id}/required-learning` and `/record-of-learning`: the learner pages as JSON. */
export function learnerRoutes(site: LearnerViewsSite): ApiRoute[] {
  return [
    {
      method: 'get',
      path: '/users/:id/required-learning',
      summary: "A learner's Required Learning: assigned, incomplete programs with progress, due date and next course",
      tags: ['learners'],
      access: 'user',
      params: userParams,
      query: noQuery,
      response: requiredLearningSchema,
      handler: async (req) => ({ body: await loadRequiredLearning(site, await subject(site, req)) }),
    },
    {
      method: 'get',
      path: '/users/:id/record-of-learning',
      summary: "A learner's Record of Learning: completed programs and courses, and earlier completions",
      tags: ['learners'],
      access: 'user',
      params: userParams,
      query: noQuery,
      response: recordOfLearningSchema,
      handler: async (req) => ({ body: await loadRecordOfLearning(site, await subject(site, req)) }),
    },
  ];
}
