import type { ApiRoute, JsonSchema } from '../../kernel/http/routes';
import { component, noParams, noQuery, pathParams } from '../../kernel/http/contract';
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

/** Free-form JSON stored as given (an activity's restriction tree): bounded in size. */
const idParams = pathParams(['id']);

/** REST routes for programs (see docs/programs.md). */
export function programRoutes(site: { services: { programs: ProgramsService } }): ApiRoute[] {
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
      path: '/programs/:id',
      summary: 'A program and its structure',
      tags: ['programs'],
      access: 'user',
      params: idParams,
      query: noQuery,
      response: programView,
      handler: async (req) => ({ body: await services().programs.get(req.params.id!) }),
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
  ];
}
