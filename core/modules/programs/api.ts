import type { ApiRoute, JsonSchema } from '../../kernel/http/routes';
import { forbidden, notFound } from '../../kernel/errors';
import type { ProgramInput, ProgramPatch, ProgramsService } from './service';

function idParam(value: string | undefined, what: string): number {
  const id = Number(value);
  if (!Number.isSafeInteger(id) || id <= 0) throw notFound(what, value);
  return id;
}

const id = { type: 'integer', minimum: 1 } as const;
const isoTime = { type: 'string', format: 'date-time' } as const;
const nullableIsoTime = { anyOf: [isoTime, { type: 'null' }] } as const;

// Rules, operators and durations are checked by the program engine so a wrong value is a 422 that
// names the field, not a generic schema error.
const courseSet: JsonSchema = {
  type: 'object',
  properties: {
    label: { type: 'string' },
    courseIds: { type: 'array', items: { type: 'integer' } },
    rule: { type: 'string', description: 'all | any | some | optional' },
    minCourses: { type: 'integer' },
    minScore: { type: 'number' },
    minTime: { type: ['string', 'null'], description: 'ISO-8601 duration, e.g. P2W' },
    operator: { type: ['string', 'null'], description: 'then | and | or; none on the last set' },
  },
  required: ['courseIds', 'rule'],
  additionalProperties: false,
};

const programFields = {
  shortname: { type: 'string', minLength: 1, maxLength: 100 },
  fullname: { type: 'string', minLength: 1, maxLength: 255 },
  summary: { type: ['string', 'null'] },
  available: { type: 'boolean' },
  availableFrom: nullableIsoTime,
  availableUntil: nullableIsoTime,
  courseSets: { type: 'array', items: courseSet },
};

const courseSetView: JsonSchema = {
  type: 'object',
  properties: {
    id,
    label: { type: 'string' },
    courseIds: { type: 'array', items: id },
    rule: { type: 'string' },
    minCourses: { type: 'integer' },
    minScore: { type: 'number' },
    minTime: { type: ['string', 'null'] },
    operator: { type: ['string', 'null'] },
  },
};

const programView: JsonSchema = {
  type: 'object',
  properties: {
    id,
    shortname: { type: 'string' },
    fullname: { type: 'string' },
    summary: { type: ['string', 'null'] },
    available: { type: 'boolean' },
    availableFrom: nullableIsoTime,
    availableUntil: nullableIsoTime,
    structureVersion: { type: 'integer' },
    minTimeRequired: { type: ['string', 'null'] },
    courseSets: { type: 'array', items: courseSetView },
    jobId: { type: ['integer', 'null'], description: 'Background recompute job, when one was queued' },
  },
};

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
      successStatus: 201,
      body: { type: 'object', properties: programFields, required: ['shortname', 'fullname', 'courseSets'], additionalProperties: false },
      response: programView,
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
      response: programView,
      handler: async (req) => ({ body: await services().programs.get(idParam(req.params.id, 'Program')) }),
    },
    {
      method: 'patch',
      path: '/programs/:id',
      summary: 'Change a program; a new courseSets list replaces the structure and recomputes learners in the background',
      tags: ['programs'],
      access: 'admin',
      body: { type: 'object', properties: programFields, additionalProperties: false },
      response: programView,
      handler: async (req) => {
        const { program, jobId } = await services().programs.update(idParam(req.params.id, 'Program'), req.body as ProgramPatch);
        return { body: { ...program, jobId } };
      },
    },
    {
      method: 'get',
      path: '/programs/:id/learners/:userId',
      summary: "A learner's state in a program",
      tags: ['programs'],
      access: 'user',
      handler: async (req) => {
        const programId = idParam(req.params.id, 'Program');
        const userId = idParam(req.params.userId, 'User');
        if (!req.user?.isAdmin && req.user?.id !== userId) throw forbidden("You may only read your own program progress");
        const { programId: _p, userId: _u, ...view } = await services().programs.learnerStatus(programId, userId);
        return { body: view };
      },
    },
  ];
}
