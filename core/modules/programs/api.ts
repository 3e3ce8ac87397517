import type { ApiRoute, JsonSchema } from '../../kernel/http/routes';
import { component, noParams, noQuery, object, pathParams, queryParams } from '../../kernel/http/contract';
import { notFound } from '../../kernel/errors';
import { cursorQuery, listResponse, pagePosition, pickOrder, sortQuery } from '../../kernel/http/paging';
import { PROGRAM_ORDERS } from './store/programs';
import { PERIOD_ORDERS } from './store/recurrence';
import type { ProgramsService } from './service';
import { programCreateSchema, programPatchSchema, type ProgramInput, type ProgramPatch } from './program-input';

const id = { type: 'integer', minimum: 1 } as const;
const isoTime = { type: 'string', format: 'date-time' } as const;
const nullableIsoTime = { anyOf: [isoTime, { type: 'null' }] } as const;

const courseSetView: JsonSchema = component('CourseSet', {
  type: 'object',
  required: ['id', 'label', 'courseIds', 'rule', 'minCourses', 'minScore', 'minTime', 'operator'],
  properties: {
    id,
    label: { type: 'string' },
    courseIds: { type: 'array', items: id },
    rule: { type: 'string' },
    minCourses: { type: 'integer' },
    minScore: { type: 'integer' },
    minTime: { type: ['string', 'null'] },
    operator: { type: ['string', 'null'] },
  },
});

const periodSummary = {
  anyOf: [object({ id, label: { type: 'string' }, courseId: id, startsAt: isoTime, endsAt: isoTime }), { type: 'null' }],
} as const;

const recurrenceView: JsonSchema = component('Recurrence', {
  anyOf: [
    object({
      period: { type: 'string', description: 'ISO-8601 duration of a period' },
      leadTime: { type: 'string', description: "How long before a period ends its successor's copy is made" },
      startsAt: { ...isoTime, description: 'Where period boundaries are counted from' },
      current: periodSummary,
      next: { ...periodSummary, description: 'The next period, once its copy exists' },
      nextCopyAt: nullableIsoTime,
    }),
    { type: 'null' },
  ],
});

const periodView: JsonSchema = component(
  'RecurrencePeriod',
  object({
    id,
    seq: { type: 'integer', minimum: 1 },
    label: { type: 'string' },
    status: { type: 'string', enum: ['upcoming', 'current', 'past'] },
    course: object({ id, shortname: { type: 'string' }, fullname: { type: 'string' } }),
    startsAt: isoTime,
    endsAt: isoTime,
    createdAt: isoTime,
    switchedAt: nullableIsoTime,
    learners: { type: 'integer', minimum: 0, description: 'Learners assigned when the period ended' },
    completed: { type: 'integer', minimum: 0, description: 'Of those, how many had completed it (or did later)' },
  }),
);

const programView: JsonSchema = component('Program', {
  type: 'object',
  required: [
    'id',
    'shortname',
    'fullname',
    'summary',
    'available',
    'availableFrom',
    'availableUntil',
    'allowExtensionRequests',
    'structureVersion',
    'recurrence',
    'minTimeRequired',
    'courseSets',
    'createdAt',
    'updatedAt',
  ],
  properties: {
    id,
    shortname: { type: 'string' },
    fullname: { type: 'string' },
    summary: { type: ['string', 'null'] },
    available: { type: 'boolean' },
    availableFrom: nullableIsoTime,
    availableUntil: nullableIsoTime,
    allowExtensionRequests: { type: 'boolean' },
    structureVersion: { type: 'integer' },
    recurrence: recurrenceView,
    minTimeRequired: { type: ['string', 'null'] },
    courseSets: { type: 'array', items: courseSetView },
    createdAt: isoTime,
    updatedAt: isoTime,
  },
});

/** A program as create and change answer it: plus the background recompute job, when one was queued. */
const programWithJob: JsonSchema = component('ProgramWithJob', {
  ...programView,
  required: [...(programView.required as string[]), 'jobId'],
  properties: { ...(programView.properties as object), jobId: { type: ['integer', 'null'], description: 'Background recompute job, when one was queued' } },
});

const idParams = pathParams(['id']);

/** A program in a list: without its structure (read one program for that), with counts. */
const programSummary: JsonSchema = component(
  'ProgramSummary',
  object({
    id,
    shortname: { type: 'string' },
    fullname: { type: 'string' },
    summary: { type: ['string', 'null'] },
    available: { type: 'boolean' },
    availableFrom: nullableIsoTime,
    availableUntil: nullableIsoTime,
    allowExtensionRequests: { type: 'boolean' },
    structureVersion: { type: 'integer' },
    createdAt: isoTime,
    updatedAt: isoTime,
    sets: { type: 'integer', minimum: 0, description: 'Number of course sets' },
    learners: { type: 'integer', minimum: 0, description: 'Learners actively assigned' },
  }),
);

/** REST routes for programs (see docs/programs.md). */
export function programRoutes(site: { now: () => number; services: { programs: ProgramsService } }): ApiRoute[] {
  const services = () => site.services;
  return [
    {
      method: 'post',
      path: '/programs',
      summary: 'Create a program with its course sets',
      tags: ['programs'],
      access: 'admin',
      params: noParams,
      query: noQuery,
      successStatus: 201,
      body: programCreateSchema,
      response: programWithJob,
      handler: async (req) => {
        const { program, jobId } = await services().programs.create(req.body as ProgramInput);
        return { status: 201, body: { ...program, jobId } };
      },
    },
    {
      method: 'get',
      path: '/programs',
      summary:
        'List programs: name prefix (q), available; sorted and paged. Learners get only the programs they may see (available now, or assigned, or with their completion record)',
      tags: ['programs'],
      access: 'user',
      params: noParams,
      query: queryParams({
        ...cursorQuery(),
        ...sortQuery(PROGRAM_ORDERS),
        q: { type: 'string', minLength: 1, maxLength: 100, description: 'Full or short names starting with this text, any case' },
        available: { type: 'boolean', description: "The program's available switch (its dates aside)" },
      }),
      response: listResponse(programSummary),
      handler: async (req) => {
        const query = req.query as { sort?: string; q?: string; available?: boolean };
        const order = pickOrder(PROGRAM_ORDERS, query.sort);
        const seenBy = req.user!.isAdmin ? undefined : { userId: req.user!.id, now: site.now() };
        const page = await services().programs.list({ q: query.q, available: query.available, seenBy }, order, pagePosition(order, req.query));
        return { body: { items: page.items, nextCursor: page.nextCursor } };
      },
    },
    {
      method: 'get',
      path: '/programs/:id',
      summary: 'A program and its structure (learners: 404 for a program neither available now nor assigned to or completed by them)',
      tags: ['programs'],
      access: 'user',
      params: idParams,
      query: noQuery,
      response: programView,
      handler: async (req) => {
        const programId = req.params.id!;
        // Not revealed to a learner with no link to it: the same 404 as no program.
        if (!req.user!.isAdmin && !(await services().programs.seenBy(programId, req.user!.id))) throw notFound('Program', programId);
        return { body: await services().programs.get(programId) };
      },
    },
    {
      method: 'patch',
      path: '/programs/:id',
      summary: 'Change a program; a new courseSets list replaces the structure and recomputes learners in the background',
      tags: ['programs'],
      access: 'admin',
      params: idParams,
      query: noQuery,
      body: programPatchSchema,
      response: programWithJob,
      handler: async (req) => {
        const { program, jobId } = await services().programs.update(req.params.id!, req.body as ProgramPatch);
        return { body: { ...program, jobId } };
      },
    },
    {
      method: 'get',
      path: '/programs/:id/periods',
      summary: "A recurring program's periods (its course copies), newest first, with how its learners stood when each ended",
      tags: ['programs'],
      access: 'admin',
      params: idParams,
      query: queryParams({ ...cursorQuery(), ...sortQuery(PERIOD_ORDERS) }),
      response: listResponse(periodView),
      handler: async (req) => {
        const order = pickOrder(PERIOD_ORDERS, (req.query as { sort?: string }).sort);
        const page = await services().programs.periods(req.params.id!, order, pagePosition(order, req.query));
        return { body: { items: page.items, nextCursor: page.nextCursor } };
      },
    },
  ];
}
