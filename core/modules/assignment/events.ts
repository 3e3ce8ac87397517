import type { ErrorDetail } from '../../kernel/errors';
import type { DueDateEvent } from './types';
import type { JsonSchema } from '../../kernel/http/json-schema';
import {
  courseCompletionTimes,
  firstLoginTimes,
  jobStartTimes,
  noEventTimes,
  positionAssignedTimes,
  profileDateTimes,
  programCompletionTimes,
} from './store/due-events';
import {
  courseExists,
  courseFullname,
  hierarchyNodeName,
  positionExists,
  profileFieldExists,
  profileFieldName,
  profileFieldType,
  programExists,
  programFullname,
} from './store/lookups';

/** An event's fields: one `instanceId` naming a thing, required unless said otherwise. */
function instanceOf(annotations: JsonSchema, required = true): JsonSchema {
  return {
    type: 'object',
    additionalProperties: false,
    ...(required ? { required: ['instanceId'] } : {}),
    properties: { instanceId: { type: 'integer', minimum: 1, ...annotations } },
  };
}

/**
 * The schema of an event's fields: its own `instanceSchema`, else one `instanceId` (required when
 * the event needs it), picked with the event's `picker`; no fields when it takes no instance.
 */
export function dueEventSchema(event: DueDateEvent): JsonSchema {
  if (event.instanceSchema) return event.instanceSchema;
  if (!event.needsInstance && !event.picker) return { type: 'object', additionalProperties: false, properties: {} };
  return instanceOf({ title: 'Of', ...(event.picker ? { 'x-picker': event.picker } : {}) }, event.needsInstance);
}

/** The event whose time is the membership's own creation time (handled by the sync itself). */
export const ASSIGNMENT_DATE_EVENT = 'assignment_date';

/** No problem when the event's instance names an existing `what`; else REQUIRED or NOT_FOUND. */
async function exists(id: number | undefined, what: string, found: (id: number) => Promise<boolean>): Promise<ErrorDetail[]> {
  if (id === undefined || !Number.isInteger(id)) return [{ path: 'due/instanceId', code: 'REQUIRED', message: `due.instanceId must name the ${what}` }];
  return (await found(id)) ? [] : [{ path: 'due/instanceId', code: 'NOT_FOUND', message: `${what} ${id} does not exist` }];
}

/** What an operator reads for the event's instance: its name, else `#id`. */
const named = (name: string | undefined, id: number | undefined): string => name ?? `#${id}`;

/**
 * The core due-date events (owner `core`). Which missing events mean "future" and which mean
 * "completion time unknown" (DOMAIN 4 and 4.1): only first login is certain to happen for every
 * learner, so only it creates a future assignment; an empty profile date, a course or program not
 * completed, or no job assignment with a position / start date raise `completion_time_unknown`.
 */
export function coreDueDateEvents(): Record<string, DueDateEvent> {
  return {
    first_login: {
      label: 'first login',
      needsInstance: false,
      whenMissing: 'future',
      affectedBy: (change) => change.type === 'user' && (change.field === 'first_login' || change.field === 'created'),
      eventTimes: (users, _instance, ctx) => firstLoginTimes(ctx.db, users),
    },
    [ASSIGNMENT_DATE_EVENT]: {
      label: 'assignment date',
      needsInstance: false,
      // Never missing: the sync uses the time the rule first matched the learner.
      affectedBy: () => false,
      eventTimes: (users, _instance, ctx) => noEventTimes(ctx.db, users),
    },
    position_assigned_date: {
      label: 'position assigned date',
      needsInstance: false,
      instanceSchema: instanceOf({ title: 'Position', description: 'Only assignments to this position (optional)', 'x-picker': 'positions' }, false),
      affectedBy: (change) => change.type === 'job_assignment',
      validate: async (instanceId, ctx) => (instanceId === undefined ? [] : exists(instanceId, 'position', (id) => positionExists(ctx.db, id))),
      describe: async (instanceId, ctx) =>
        instanceId === undefined ? 'position assigned date' : `assignment to position ${named(await hierarchyNodeName(ctx.db, instanceId), instanceId)}`,
      // Latest of the learner's job assignments (with that position, when named): the later date
      // is the generous one, like "several rules give the latest due date".
      eventTimes: (users, instanceId, ctx) => positionAssignedTimes(ctx.db, users, instanceId),
    },
    job_start_date: {
      label: 'job start date',
      needsInstance: false,
      affectedBy: (change) => change.type === 'job_assignment',
      eventTimes: (users, _instance, ctx) => jobStartTimes(ctx.db, users),
    },
    course_completion: {
      label: 'completion of course',
      needsInstance: true,
      picker: 'courses',
      instanceSchema: instanceOf({ title: 'Course', 'x-picker': 'courses' }),
      affectedBy: (change, instanceId) =>
        (change.type === 'course_completion' || change.type === 'course_completion_removed') && change.courseId === instanceId,
      validate: (instanceId, ctx) => exists(instanceId, 'course', (id) => courseExists(ctx.db, id)),
      describe: async (instanceId, ctx) => `completion of course ${named(await courseFullname(ctx.db, instanceId), instanceId)}`,
      eventTimes: (users, instanceId, ctx) => courseCompletionTimes(ctx.db, users, instanceId ?? 0),
    },
    program_completion: {
      label: 'completion of program',
      needsInstance: true,
      picker: 'programs',
      instanceSchema: instanceOf({ title: 'Program', 'x-picker': 'programs' }),
      affectedBy: (change, instanceId) => change.type === 'program_completion' && change.programId === instanceId,
      validate: (instanceId, ctx) => exists(instanceId, 'program', (id) => programExists(ctx.db, id)),
      describe: async (instanceId, ctx) => `completion of program ${named(await programFullname(ctx.db, instanceId), instanceId)}`,
      eventTimes: (users, instanceId, ctx) => programCompletionTimes(ctx.db, users, instanceId ?? 0),
    },
    profile_field_date: {
      label: 'profile date',
      needsInstance: true,
      picker: 'profile_fields',
      instanceSchema: instanceOf({ title: 'Date field', description: 'A profile field of type date', 'x-picker': 'profile_fields' }),
      affectedBy: (change) => change.type === 'profile_field',
      validate: async (instanceId, ctx) => {
        const problems = await exists(instanceId, 'profile field', (id) => profileFieldExists(ctx.db, id));
        if (problems.length) return problems;
        const type = await profileFieldType(ctx.db, instanceId);
        return type === 'date' ? [] : [{ path: 'due/instanceId', code: 'NOT_A_DATE_FIELD', message: `profile field ${instanceId} is not a date field` }];
      },
      describe: async (instanceId, ctx) => `the date in profile field ${named(await profileFieldName(ctx.db, instanceId), instanceId)}`,
      eventTimes: (users, instanceId, ctx) => profileDateTimes(ctx.db, users, instanceId ?? 0),
    },
  };
}
