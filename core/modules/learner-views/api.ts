import type { LearnerViewsContext } from './context';
import type { ApiRequest, ApiRoute, JsonSchema } from '../../kernel/http/routes';
import { forbidden } from '../../kernel/errors';
import { Id, UserId, component, noQuery, object, pagingQuery, pathParams, queryParams } from '../../kernel/http/contract';
import { RECORD_PAGE, RECORD_STATUSES, REQUIRED_PAGE, loadLearnerProgram, loadRecordOfLearning, loadRequiredLearning, type RecordFilter } from './learner-data';
import { REQUIRED_ORDER } from './store/learner-data';
import { cursorQuery, pagePosition } from '../../kernel/http/paging';

/** The largest page of the Record of Learning's lists. */
const MAX_RECORD_PAGE = 500;

const id = Id;
const isoTime = { type: 'string', format: 'date-time' } as const;
const nullableIsoTime = { anyOf: [isoTime, { type: 'null' }] } as const;

const dateTime = { type: ['string', 'null'], format: 'date-time' };

const requiredLearningSchema: JsonSchema = component('RequiredLearning', {
  type: 'object',
  required: ['userId', 'programs', 'nextCursor'],
  properties: {
    userId: { type: 'integer' },
    nextCursor: { type: ['string', 'null'], description: 'Pass as `cursor` for the next page; null on the last' },
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

const recordStatus = { enum: ['in_progress', 'complete', 'past'] } as const;

const recordOfLearningSchema: JsonSchema = component(
  'RecordOfLearning',
  object({
    userId: { type: 'integer' },
    status: { enum: [...RECORD_STATUSES] },
    programs: {
      type: 'array',
      items: object({
        id: { type: 'integer' },
        fullname: { type: 'string' },
        summary: { type: ['string', 'null'] },
        status: recordStatus,
        progress: { type: 'integer', minimum: 0, maximum: 100 },
        assignedAt: dateTime,
        dueAt: dateTime,
        overdue: { type: 'boolean' },
        completedAt: dateTime,
      }),
    },
    courses: {
      type: 'array',
      items: object({
        id: { type: 'integer' },
        fullname: { type: 'string' },
        status: recordStatus,
        progress: { type: 'integer', minimum: 0, maximum: 100 },
        completedAt: dateTime,
        source: { type: ['string', 'null'] },
      }),
    },
    history: {
      type: 'array',
      items: object({
        kind: { enum: ['program', 'course'] },
        id: { type: 'integer' },
        fullname: { type: 'string' },
        completedAt: isoTime,
        reason: {
          type: 'string',
          description: 'structure_change, recompleted, recurrence (a period ended), recurrence_late (a period finished after it ended), ...',
        },
        archivedAt: isoTime,
        period: { type: ['string', 'null'], description: "A recurring program's period the completion belonged to, e.g. 2026" },
      }),
    },
    totals: object({ programs: { type: 'integer', minimum: 0 }, courses: { type: 'integer', minimum: 0 }, history: { type: 'integer', minimum: 0 } }),
    nextOffset: { type: ['integer', 'null'], minimum: 0 },
  }),
);

const recordQuery = queryParams({
  status: {
    enum: [...RECORD_STATUSES],
    default: 'all',
    description: 'in_progress: assigned or enrolled now, not complete; complete; past: assigned or enrolled before, not complete',
  },
  limit: { type: 'integer', minimum: 1, maximum: MAX_RECORD_PAGE, default: RECORD_PAGE, description: `Rows per list, 1..${MAX_RECORD_PAGE}` },
  offset: { ...pagingQuery.offset, default: 0, description: 'Rows to skip in each list (pass nextOffset back)' },
});

const courseSetLearnerView = object({
  id,
  label: { type: 'string' },
  open: { type: 'boolean' },
  complete: { type: 'boolean' },
  completedAt: nullableIsoTime,
  dueAt: nullableIsoTime,
  progress: { type: 'integer', minimum: 0, maximum: 100, description: "Share of the set's required work done" },
});

const learnerProgramView: JsonSchema = component(
  'LearnerProgramState',
  object({
    assigned: { type: 'boolean', description: 'false while an exception is open, dismissed, or after unassignment' },
    status: { enum: ['incomplete', 'complete'] },
    progress: {
      type: 'integer',
      minimum: 0,
      maximum: 100,
      description: 'Share of the required work done (docs/programs.md); 100 exactly when complete. The same number as Required Learning and the program page',
    },
    dueAt: nullableIsoTime,
    completedAt: nullableIsoTime,
    exception: {
      anyOf: [object({ id, type: { type: 'string' }, status: { type: 'string' }, raisedAt: isoTime, explanation: { type: 'string' } }), { type: 'null' }],
    },
    courseSets: { type: 'array', items: courseSetLearnerView },
  }),
);

const userParams = pathParams({ id: UserId });

/**
 * The user whose learning is asked for: a learner may ask about themselves, their manager (direct or
 * indirect, through the management tree) about them, an administrator about anyone.
 */
async function subject(context: LearnerViewsContext, req: ApiRequest): Promise<number> {
  const userId = req.params.id!;
  await mayReadLearning(context, req.user, userId);
  await context.services.users.get(userId);
  return userId;
}

/** 403 unless `viewer` is the learner, one of their managers (direct or indirect) or an administrator. */
export async function mayReadLearning(
  context: LearnerViewsContext,
  viewer: { id: number; isAdmin: boolean } | null | undefined,
  userId: number,
): Promise<void> {
  if (!viewer) throw forbidden('You may only read your own learning');
  if (viewer.isAdmin || viewer.id === userId) return;
  if (await context.services.jobAssignments.manages(viewer.id, userId)) return;
  throw forbidden("You may only read your own learning or your team's");
}

/**
 * `GET /users/{id}/required-learning`, `/record-of-learning` and `/programs/{id}/learners/{userId}`:
 * the learner pages as JSON, from the same loaders as the pages.
 */
export function learnerRoutes(context: LearnerViewsContext): ApiRoute[] {
  return [
    {
      method: 'get',
      path: '/users/:id/required-learning',
      summary: "A learner's Required Learning: assigned, incomplete programs with progress, due date and next course",
      tags: ['learners'],
      access: 'user',
      params: userParams,
      query: queryParams(cursorQuery(REQUIRED_PAGE)),
      response: requiredLearningSchema,
      handler: async (req) => {
        const { userId, programs, nextCursor } = await loadRequiredLearning(
          context,
          await subject(context, req),
          pagePosition(REQUIRED_ORDER, req.query, REQUIRED_PAGE),
        );
        return { body: { userId, programs, nextCursor } };
      },
    },
    {
      method: 'get',
      path: '/users/:id/record-of-learning',
      summary:
        "A learner's Record of Learning: every program and course they have or had (in progress, complete, past) with progress, due and completion dates, and earlier completions; filtered by status, paged",
      tags: ['learners'],
      access: 'user',
      params: userParams,
      query: recordQuery,
      response: recordOfLearningSchema,
      handler: async (req) => {
        const userId = await subject(context, req);
        const query = { status: req.query.status as RecordFilter, limit: req.query.limit as number, offset: req.query.offset as number };
        return { body: await loadRecordOfLearning(context, userId, query) };
      },
    },
    {
      method: 'get',
      path: '/programs/:id/learners/:userId',
      summary: "A learner's state in a program",
      tags: ['programs'],
      access: 'user',
      params: pathParams({ id, userId: UserId }),
      query: noQuery,
      response: learnerProgramView,
      handler: async (req) => {
        const programId = req.params.id!;
        const userId = req.params.userId!;
        if (!req.user?.isAdmin && req.user?.id !== userId) throw forbidden('You may only read your own program progress');
        await context.services.users.get(userId);
        const program = await loadLearnerProgram(context, programId, userId, { viewer: req.user!.isAdmin ? 'operator' : 'learner' });
        const assignment = await context.services.assignment.learnerAssignment(programId, userId);
        return {
          body: {
            assigned: assignment.assigned,
            status: program.status,
            progress: program.progress,
            dueAt: assignment.dueAt ?? program.dueAt,
            completedAt: program.completedAt,
            exception: assignment.exception,
            courseSets: program.courseSets.map((set) => ({
              id: set.id,
              label: set.label,
              open: set.open,
              complete: set.complete,
              completedAt: set.completedAt,
              dueAt: set.dueAt,
              progress: set.progress,
            })),
          },
        };
      },
    },
  ];
}
