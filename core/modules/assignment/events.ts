import type { ErrorDetail } from '../../kernel/errors';
import type { DueDateEvent, SourceContext } from './types';

/** The event whose time is the membership's own creation time (handled by the sync itself). */
export const ASSIGNMENT_DATE_EVENT = 'assignment_date';

async function exists(ctx: SourceContext, table: string, id: number | undefined, what: string, extra: Record<string, unknown> = {}): Promise<ErrorDetail[]> {
  if (id === undefined || !Number.isInteger(id)) return [{ path: 'due/instanceId', code: 'REQUIRED', message: `due.instanceId must name the ${what}` }];
  const row = (await ctx
    .db(table)
    .where({ id, ...extra })
    .first('id')) as unknown;
  return row ? [] : [{ path: 'due/instanceId', code: 'NOT_FOUND', message: `${what} ${id} does not exist` }];
}

async function nameOf(ctx: SourceContext, table: string, column: string, id: number | undefined): Promise<string> {
  const row = (await ctx.db(table).where({ id }).first(column)) as Record<string, string> | undefined;
  return row?.[column] ?? `#${id}`;
}

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
      eventTimes: (users, _instance, ctx) => ctx.db('users').select('id as user_id', 'first_login_at as event_at').whereIn('id', users),
    },
    [ASSIGNMENT_DATE_EVENT]: {
      label: 'assignment date',
      needsInstance: false,
      // Never missing: the sync uses the time the rule first matched the learner.
      affectedBy: () => false,
      eventTimes: (users, _instance, ctx) => ctx.db('users').select('id as user_id', ctx.db.raw('NULL AS event_at')).whereIn('id', users),
    },
    position_assigned_date: {
      label: 'position assigned date',
      needsInstance: false,
      affectedBy: (change) => change.type === 'job_assignment',
      validate: async (instanceId, ctx) => (instanceId === undefined ? [] : exists(ctx, 'hierarchy_nodes', instanceId, 'position', { kind: 'position' })),
      describe: async (instanceId, ctx) =>
        instanceId === undefined ? 'position assigned date' : `assignment to position ${await nameOf(ctx, 'hierarchy_nodes', 'name', instanceId)}`,
      // Latest of the learner's job assignments (with that position, when named): the later date
      // is the generous one, like "several rules give the latest due date".
      eventTimes: (users, instanceId, ctx) => {
        const qb = ctx
          .db('job_assignments')
          .select('user_id', ctx.db.raw('MAX(position_assigned_date) AS event_at'))
          .whereIn('user_id', users)
          .whereNotNull('position_id')
          .whereNotNull('position_assigned_date')
          .groupBy('user_id');
        return instanceId === undefined ? qb : qb.where('position_id', instanceId);
      },
    },
    job_start_date: {
      label: 'job start date',
      needsInstance: false,
      affectedBy: (change) => change.type === 'job_assignment',
      eventTimes: (users, _instance, ctx) =>
        ctx
          .db('job_assignments')
          .select('user_id', ctx.db.raw('MAX(start_date) AS event_at'))
          .whereIn('user_id', users)
          .whereNotNull('start_date')
          .groupBy('user_id'),
    },
    course_completion: {
      label: 'completion of course',
      needsInstance: true,
      affectedBy: (change, instanceId) => change.type === 'course_completion' && change.courseId === instanceId,
      validate: (instanceId, ctx) => exists(ctx, 'courses', instanceId, 'course'),
      describe: async (instanceId, ctx) => `completion of course ${await nameOf(ctx, 'courses', 'fullname', instanceId)}`,
      eventTimes: (users, instanceId, ctx) =>
        ctx
          .db('course_completions')
          .select('user_id', 'completed_at as event_at')
          .where('course_id', instanceId ?? 0)
          .whereIn('user_id', users),
    },
    program_completion: {
      label: 'completion of program',
      needsInstance: true,
      affectedBy: (change, instanceId) => change.type === 'program_completion' && change.programId === instanceId,
      validate: (instanceId, ctx) => exists(ctx, 'programs', instanceId, 'program'),
      describe: async (instanceId, ctx) => `completion of program ${await nameOf(ctx, 'programs', 'fullname', instanceId)}`,
      eventTimes: (users, instanceId, ctx) =>
        ctx
          .db('program_completions')
          .select('user_id', 'completed_at as event_at')
          .where({ program_id: instanceId ?? 0, status: 'complete' })
          .whereIn('user_id', users),
    },
    profile_field_date: {
      label: 'profile date',
      needsInstance: true,
      affectedBy: (change) => change.type === 'profile_field',
      validate: async (instanceId, ctx) => {
        const problems = await exists(ctx, 'profile_fields', instanceId, 'profile field');
        if (problems.length) return problems;
        const row = (await ctx.db('profile_fields').where({ id: instanceId }).first('type')) as { type: string };
        return row.type === 'date' ? [] : [{ path: 'due/instanceId', code: 'NOT_A_DATE_FIELD', message: `profile field ${instanceId} is not a date field` }];
      },
      describe: async (instanceId, ctx) => `the date in profile field ${await nameOf(ctx, 'profile_fields', 'name', instanceId)}`,
      eventTimes: (users, instanceId, ctx) =>
        ctx
          .db('user_profile_values')
          .select('user_id', 'value_date as event_at')
          .where('field_id', instanceId ?? 0)
          .whereNotNull('value_date')
          .whereIn('user_id', users),
    },
  };
}
