import { parseDateInput } from '../../kernel/dates';
import type { Database } from '../../kernel/db/database';
import type { CompletionService } from './completion';
import { MAX_COURSE_SCORE, type CoursesService } from './courses';
import type { ApiRoute, JsonSchema } from '../../kernel/http/routes';
import { invalid, notFound } from '../../kernel/errors';
import { cursorQuery, listResponse, pagePosition, pickOrder, sortQuery } from '../../kernel/http/paging';
import { COURSE_ORDERS } from './store/courses';
import { component, DateInput, Id, UserId, noParams, noQuery, object, pathParams, queryParams } from '../../kernel/http/contract';
import type { ActivityInput, ActivityPatch, CompletionCriteria, CourseInput, CoursePatch, SectionInput } from './courses';

const id = { type: 'integer', minimum: 1 } as const;
const isoTime = { type: 'string', format: 'date-time' } as const;
const nullableIsoTime = { anyOf: [isoTime, { type: 'null' }] } as const;

const completionCriteria: JsonSchema = component('CompletionCriteria', {
  type: 'object',
  description: 'all_tracked (default): every tracked activity; subset: the listed activities; min_grade: course grade in % (sum of grades / sum of max grades)',
  properties: {
    mode: { enum: ['all_tracked', 'subset', 'min_grade'] },
    activityIds: { type: 'array', items: id },
    minGrade: { type: 'number' },
  },
  required: ['mode'],
  additionalProperties: false,
});

// Rules, operators and durations are checked by the program engine so a wrong value is a 422 that
// names the field, not a generic schema error.
const freeJson = (description: string): JsonSchema => ({ type: ['object', 'null'], description, 'x-maxJsonBytes': 65536 });

/** The tree's shape and conditions are checked by the activityAccess contribution (422 naming the bad node). */
const availabilityTree = freeJson(
  'Restriction tree (DOMAIN 8, Moodle availability JSON: {op: "&"|"|"|"!&"|"!|", c: [...], showc | show}); null removes it; at most 64 KB of JSON. See docs/restrictions.md',
);

const activityView: JsonSchema = component(
  'Activity',
  object({
    id,
    courseId: id,
    position: { type: 'integer', minimum: 0 },
    type: { type: 'string' },
    name: { type: 'string' },
    completionTracked: { type: 'boolean' },
    maxGrade: { type: 'number' },
    availability: { description: 'Restriction tree as stored (any JSON), or null' },
    sectionId: { anyOf: [id, { type: 'null' }] },
  }),
);

const sectionView: JsonSchema = component(
  'CourseSection',
  object({
    id,
    courseId: id,
    position: { type: 'integer', minimum: 0 },
    name: { type: 'string' },
    availability: { description: 'Restriction tree applying to every activity of the section, or null' },
  }),
);

const courseView: JsonSchema = component(
  'Course',
  object({
    id,
    shortname: { type: 'string' },
    fullname: { type: 'string' },
    summary: { type: ['string', 'null'] },
    visible: { type: 'boolean' },
    startDate: nullableIsoTime,
    score: { type: 'number' },
    completionCriteria,
    sections: { type: 'array', items: sectionView },
    activities: { type: 'array', items: activityView },
    createdAt: isoTime,
  }),
);

const idParams = pathParams(['id']);

// Request bodies, shared with the operator pages (core/modules/learning/pages.ts): a form is read
// into one of these and checked by the same Ajv schema, so what the API accepts the form accepts.
// Titles and descriptions label the generated form fields.

const courseFields = {
  shortname: { type: 'string', minLength: 1, maxLength: 100, title: 'Short name', description: 'Unique; used in lists and reports' },
  fullname: { type: 'string', minLength: 1, maxLength: 255, title: 'Full name' },
  summary: { type: ['string', 'null'], title: 'Summary', 'x-control': 'textarea' },
  visible: { type: 'boolean', title: 'Visible to learners' },
  startDate: {
    anyOf: [DateInput, { type: 'null' }],
    title: 'Start date',
    description: 'The day the course starts',
    'x-control': 'date',
  },
  score: {
    type: 'integer',
    minimum: 0,
    maximum: MAX_COURSE_SCORE,
    title: 'Score',
    description: 'Weight of the course in a program set that needs "some" courses',
  },
} satisfies Record<string, JsonSchema>;

/** POST /courses. */
export const courseCreateBody: JsonSchema = {
  type: 'object',
  properties: { ...courseFields, completionCriteria },
  required: ['shortname', 'fullname'],
  additionalProperties: false,
};

/** PATCH /courses/{id}. */
export const coursePatchBody: JsonSchema = { type: 'object', properties: courseFields, additionalProperties: false };

const activityFields = {
  name: { type: 'string', minLength: 1, maxLength: 255, title: 'Name' },
  completionTracked: { type: 'boolean', title: 'Track completion', description: 'The activity counts towards course completion (all tracked activities)' },
  // The column is DECIMAL(10,2): larger values are an error on MariaDB.
  maxGrade: { type: 'number', minimum: 0, maximum: 99_999_999, title: 'Maximum grade', description: '0: not graded' },
  availability: { ...availabilityTree, 'x-form': false },
  sectionId: { anyOf: [id, { type: 'null' }], title: 'Section', description: 'A section of the same course; none: the top of the course' },
} satisfies Record<string, JsonSchema>;

/** POST /courses/{id}/activities. */
export const activityCreateBody: JsonSchema = {
  type: 'object',
  properties: { type: { type: 'string', title: 'Kind', description: 'resource | page | url | quiz' }, ...activityFields },
  required: ['type', 'name'],
  additionalProperties: false,
};

/** PATCH /activities/{id}. */
export const activityPatchBody: JsonSchema = { type: 'object', properties: activityFields, additionalProperties: false };

/** POST /activities/{id}/move and POST /sections/{id}/move. */
export const activityMoveBody: JsonSchema = {
  type: 'object',
  properties: { direction: { enum: ['up', 'down'] } },
  required: ['direction'],
  additionalProperties: false,
};

/** POST /courses/{id}/copy. */
export const courseCopyBody: JsonSchema = {
  type: 'object',
  properties: {
    shortname: { type: 'string', minLength: 1, maxLength: 100, pattern: '\\S', title: 'Short name of the copy' },
    fullname: { type: 'string', minLength: 1, maxLength: 255, pattern: '\\S', title: 'Full name of the copy' },
    visible: { type: 'boolean', title: 'Visible to learners', description: 'A copy is hidden unless this is ticked' },
    startDate: {
      anyOf: [DateInput, { type: 'null' }],
      title: 'Start date',
      description: 'The day the copy starts',
      'x-control': 'date',
    },
  },
  required: ['shortname', 'fullname'],
  additionalProperties: false,
};

/** POST /courses/{id}/sections. */
export const sectionCreateBody: JsonSchema = {
  type: 'object',
  properties: { name: { type: 'string', minLength: 1, maxLength: 255, title: 'Section name' }, availability: { ...availabilityTree, 'x-form': false } },
  required: ['name'],
  additionalProperties: false,
};

/** The completion criteria body (PUT /courses/{id}/completion-criteria). */
export { completionCriteria as completionCriteriaBody };

/** A course in a list: without its activities and criteria (read one course for those). */
const courseSummary: JsonSchema = component(
  'CourseSummary',
  object({
    id,
    shortname: { type: 'string' },
    fullname: { type: 'string' },
    summary: { type: ['string', 'null'] },
    visible: { type: 'boolean' },
    startDate: nullableIsoTime,
    score: { type: 'number' },
    createdAt: isoTime,
  }),
);

/** REST routes for courses, activities, completion and programs (see docs/programs.md). */
export function learningRoutes(site: { db: Database; timezone: string; services: { courses: CoursesService; completion: CompletionService } }): ApiRoute[] {
  const services = () => site.services;
  const routes: ApiRoute[] = [
    {
      method: 'post',
      path: '/courses',
      summary: 'Create a course',
      tags: ['courses'],
      access: 'admin',
      params: noParams,
      query: noQuery,
      response: courseView,
      successStatus: 201,
      body: courseCreateBody,
      handler: async (req) => ({ status: 201, body: await services().courses.create(req.body as CourseInput) }),
    },
    {
      method: 'get',
      path: '/courses',
      summary:
        'List courses: name prefix (q), visible; sorted and paged. Learners get only the courses they may see (visible, or hidden with their enrolment or completion)',
      tags: ['courses'],
      access: 'user',
      params: noParams,
      query: queryParams({
        ...cursorQuery(),
        ...sortQuery(COURSE_ORDERS),
        q: { type: 'string', minLength: 1, maxLength: 100, description: 'Full or short names starting with this text, any case' },
        visible: { type: 'boolean', description: 'Only visible (true) or only hidden (false) courses' },
      }),
      response: listResponse(courseSummary),
      handler: async (req) => {
        const query = req.query as { sort?: string; q?: string; visible?: boolean };
        const order = pickOrder(COURSE_ORDERS, query.sort);
        const seenBy = req.user!.isAdmin ? undefined : req.user!.id;
        const page = await services().courses.list({ q: query.q, visible: query.visible, seenBy }, order, pagePosition(order, req.query));
        return { body: { items: page.items, nextCursor: page.nextCursor } };
      },
    },
    {
      method: 'get',
      path: '/courses/:id',
      summary:
        'A course with its activities and completion criteria (learners: 404 for a hidden course they have no enrolment in or completion of, and without the activities a restriction hides from them)',
      tags: ['courses'],
      access: 'user',
      params: idParams,
      query: noQuery,
      response: courseView,
      handler: async (req) => {
        const courseId = req.params.id!;
        // A hidden course is not revealed to a learner with no link to it: the same 404 as no course.
        if (!req.user!.isAdmin && !(await services().courses.seenBy(req.user!.id, [courseId])).has(courseId)) throw notFound('Course', courseId);
        const course = await services().courses.get(courseId);
        if (req.user!.isAdmin) return { body: course };
        // A learner is not told about activities a restriction hides from them (the course page leaves them out too).
        const access = await services().courses.accessOf(req.user!.id, course);
        return { body: { ...course, activities: course.activities.filter((a) => access.get(a.id)?.visible !== false) } };
      },
    },
    {
      method: 'patch',
      path: '/courses/:id',
      summary: 'Change a course: names, summary, visibility, start date, score (completion criteria have their own route)',
      tags: ['courses'],
      access: 'admin',
      params: idParams,
      query: noQuery,
      response: courseView,
      body: coursePatchBody,
      handler: async (req) => ({ body: await services().courses.update(req.params.id!, req.body as CoursePatch) }),
    },
    {
      method: 'delete',
      path: '/activities/:id',
      summary:
        'Delete an activity. 409 ACTIVITY_HAS_LEARNER_DATA while learners have completions, grades or quiz attempts on it; 409 ACTIVITY_IN_CRITERIA or ACTIVITY_IN_RESTRICTION while the course criteria or another restriction names it',
      tags: ['courses'],
      access: 'admin',
      params: idParams,
      query: noQuery,
      successStatus: 204,
      handler: async (req) => {
        await services().courses.deleteActivity(req.params.id!);
        return { status: 204 };
      },
    },
    {
      method: 'post',
      path: '/activities/:id/move',
      summary: 'Move an activity one place up or down in its course',
      tags: ['courses'],
      access: 'admin',
      params: idParams,
      query: noQuery,
      response: activityView,
      body: activityMoveBody,
      handler: async (req) => ({ body: await services().courses.moveActivity(req.params.id!, (req.body as { direction: 'up' | 'down' }).direction) }),
    },
    {
      method: 'put',
      path: '/courses/:id/completion-criteria',
      summary: 'Replace the course completion criteria',
      tags: ['courses'],
      access: 'admin',
      params: idParams,
      query: noQuery,
      response: courseView,
      body: completionCriteria,
      handler: async (req) => ({
        body: await services().courses.setCompletionCriteria(req.params.id!, req.body as CompletionCriteria),
      }),
    },
    {
      method: 'post',
      path: '/courses/:id/activities',
      summary: 'Add an activity at the end of the course',
      tags: ['courses'],
      access: 'admin',
      params: idParams,
      query: noQuery,
      response: activityView,
      successStatus: 201,
      body: activityCreateBody,
      handler: async (req) => ({ status: 201, body: await services().courses.addActivity(req.params.id!, req.body as ActivityInput) }),
    },
    {
      method: 'patch',
      path: '/activities/:id',
      summary: 'Change an activity (name, completion tracking, maximum grade, restriction tree)',
      tags: ['courses'],
      access: 'admin',
      params: idParams,
      query: noQuery,
      response: activityView,
      body: activityPatchBody,
      handler: async (req) => ({ body: await services().courses.updateActivity(req.params.id!, req.body as ActivityPatch) }),
    },
    {
      method: 'post',
      path: '/courses/:id/copy',
      summary:
        'Copy a course: settings, sections, activities with completion settings, criteria, quiz questions and restrictions (remapped to the copy’s activities); no learner data. Hidden unless visible is true',
      tags: ['courses'],
      access: 'admin',
      params: idParams,
      query: noQuery,
      response: object({
        course: courseView,
        activityIds: { type: 'object', additionalProperties: { type: 'integer' }, description: 'Source activity id -> copy' },
      }),
      successStatus: 201,
      body: courseCopyBody,
      handler: async (req) => {
        const { course, activityIds } = await services().courses.copy(
          req.params.id!,
          req.body as { shortname: string; fullname: string; visible?: boolean; startDate?: string | null },
        );
        return { status: 201, body: { course, activityIds: Object.fromEntries(activityIds) } };
      },
    },
    {
      method: 'post',
      path: '/courses/:id/sections',
      summary: 'Add a section at the end of the course (its restriction tree applies to every activity in it)',
      tags: ['courses'],
      access: 'admin',
      params: idParams,
      query: noQuery,
      response: sectionView,
      successStatus: 201,
      body: sectionCreateBody,
      handler: async (req) => ({ status: 201, body: await services().courses.addSection(req.params.id!, req.body as SectionInput & { name: string }) }),
    },
    {
      method: 'patch',
      path: '/sections/:id',
      summary: 'Rename a section or change its restriction tree',
      tags: ['courses'],
      access: 'admin',
      params: idParams,
      query: noQuery,
      response: sectionView,
      body: {
        type: 'object',
        properties: { name: { type: 'string', minLength: 1, maxLength: 255 }, availability: availabilityTree },
        additionalProperties: false,
      },
      handler: async (req) => ({ body: await services().courses.updateSection(req.params.id!, req.body as SectionInput) }),
    },
    {
      method: 'post',
      path: '/sections/:id/move',
      summary: 'Move a section one place up or down in its course',
      tags: ['courses'],
      access: 'admin',
      params: idParams,
      query: noQuery,
      response: sectionView,
      body: activityMoveBody,
      handler: async (req) => ({ body: await services().courses.moveSection(req.params.id!, (req.body as { direction: 'up' | 'down' }).direction) }),
    },
    {
      method: 'delete',
      path: '/sections/:id',
      summary: 'Delete a section: its activities stay, at the top of the course, without the section’s restriction',
      tags: ['courses'],
      access: 'admin',
      params: idParams,
      query: noQuery,
      successStatus: 204,
      handler: async (req) => {
        await services().courses.deleteSection(req.params.id!);
        return { status: 204 };
      },
    },
    {
      method: 'post',
      path: '/activities/:id/grades',
      summary: 'Record a grade (updates activity and course completion)',
      tags: ['completion'],
      access: 'admin',
      params: idParams,
      query: noQuery,
      response: object({
        userId: id,
        activityId: id,
        grade: { type: 'number' },
        gradedAt: isoTime,
        activityComplete: { type: 'boolean' },
        courseCompletedAt: nullableIsoTime,
      }),
      body: { type: 'object', properties: { userId: id, grade: { type: 'number' } }, required: ['userId', 'grade'], additionalProperties: false },
      handler: async (req) => {
        const body = req.body as { userId: number; grade: number };
        const result = await services().completion.recordGrade(req.params.id!, body.userId, body.grade);
        return {
          body: {
            userId: result.userId,
            activityId: result.activityId,
            grade: result.grade,
            gradedAt: new Date(result.gradedAt).toISOString(),
            activityComplete: result.activity !== null,
            courseCompletedAt: result.course ? new Date(result.course.completedAt).toISOString() : null,
          },
        };
      },
    },
    {
      method: 'post',
      path: '/activities/:id/completions',
      summary: 'Mark a tracked activity complete for a learner',
      tags: ['completion'],
      access: 'admin',
      params: idParams,
      query: noQuery,
      response: object({ userId: id, activityId: id, created: { type: 'boolean' }, completedAt: isoTime, courseCompletedAt: nullableIsoTime }),
      body: { type: 'object', properties: { userId: id }, required: ['userId'], additionalProperties: false },
      handler: async (req) => {
        const { userId } = req.body as { userId: number };
        const result = await services().completion.recordActivityCompletion(req.params.id!, userId);
        return {
          status: result.created ? 201 : 200,
          body: {
            userId,
            activityId: result.activityId,
            created: result.created,
            completedAt: new Date(result.completedAt).toISOString(),
            courseCompletedAt: result.course ? new Date(result.course.completedAt).toISOString() : null,
          },
        };
      },
    },
    {
      method: 'post',
      path: '/courses/:id/completions',
      summary: 'Record an external or imported course completion',
      tags: ['completion'],
      access: 'admin',
      params: idParams,
      query: noQuery,
      response: object({
        userId: id,
        courseId: id,
        created: { type: 'boolean' },
        completedAt: isoTime,
        source: { type: 'string' },
        completed: object({ courseSetIds: { type: 'array', items: id }, programIds: { type: 'array', items: id } }),
      }),
      body: { type: 'object', properties: { userId: id, completedAt: DateInput }, required: ['userId'], additionalProperties: false },
      handler: async (req) => {
        const body = req.body as { userId: number; completedAt?: string };
        const courseId = req.params.id!;
        const completedAt = body.completedAt === undefined ? undefined : parseDateInput(body.completedAt, { field: 'completedAt', zone: site.timezone });
        if (completedAt !== undefined && completedAt > site.db.now() + 60_000) {
          throw invalid('COMPLETEDAT_IN_FUTURE', 'completedAt must not be in the future', [
            { path: 'completedAt', code: 'IN_FUTURE', message: 'completedAt must not be in the future' },
          ]);
        }
        const result = await services().completion.recordCourseCompletion(courseId, body.userId, { completedAt, source: 'api' });
        return {
          status: result.created ? 201 : 200,
          body: {
            userId: result.userId,
            courseId: result.courseId,
            created: result.created,
            completedAt: new Date(result.completedAt).toISOString(),
            source: result.source,
            completed: {
              courseSetIds: result.events.flatMap((e) => (e.kind === 'course_set' ? [e.courseSetId] : [])),
              programIds: result.events.flatMap((e) => (e.kind === 'program' ? [e.programId] : [])),
            },
          },
        };
      },
    },
    {
      method: 'delete',
      path: '/courses/:id/completions/:userId',
      summary: "Remove a learner's course completion (kept in history); audiences and assignments that depend on it follow in the same transaction",
      tags: ['completion'],
      access: 'admin',
      params: pathParams({ id: Id, userId: UserId }),
      query: noQuery,
      response: object({ userId: id, courseId: id, removed: { type: 'boolean' }, completedAt: nullableIsoTime }),
      handler: async (req) => {
        const courseId = req.params.id!;
        const userId = req.params.userId!;
        const result = await services().completion.removeCourseCompletion(courseId, userId);
        return {
          body: { userId, courseId, removed: result.removed, completedAt: result.completedAt === null ? null : new Date(result.completedAt).toISOString() },
        };
      },
    },
  ];
  return routes;
}
