import type { Knex } from 'knex';
import type { Executor } from '../../../kernel/db/database';
import { learningViews } from '../../learning/index';
import { peopleViews } from '../../people/index';
import { programViews } from '../../programs/index';

/**
 * The core due-date events' times, as subqueries selecting `user_id` and `event_at` for the users of
 * the subquery `users`. Set-based reads over the people, learning and programs modules' views: the
 * due-date sync joins them to every membership row of a rule at once.
 */

/** When each user first logged in (NULL: not yet). */
export function firstLoginTimes(executor: Executor, users: Knex.QueryBuilder): Knex.QueryBuilder {
  return executor(peopleViews.users.as('u')).select('u.id as user_id', 'u.first_login_at as event_at').whereIn('u.id', users);
}

/** Every user with no event time: the sync uses the membership's own creation time instead. */
export function noEventTimes(executor: Executor, users: Knex.QueryBuilder): Knex.QueryBuilder {
  return executor(peopleViews.users.as('u')).select('u.id as user_id', executor.raw('NULL AS event_at')).whereIn('u.id', users);
}

/** The latest date a position was assigned to each user (of one position, when given). */
export function positionAssignedTimes(executor: Executor, users: Knex.QueryBuilder, positionId: number | undefined): Knex.QueryBuilder {
  const qb = executor(peopleViews.jobAssignments.as('ja'))
    .select('ja.user_id', executor.raw('MAX(ja.position_assigned_date) AS event_at'))
    .whereIn('ja.user_id', users)
    .whereNotNull('ja.position_id')
    .whereNotNull('ja.position_assigned_date')
    .groupBy('ja.user_id');
  return positionId === undefined ? qb : qb.where('ja.position_id', positionId);
}

/** The latest start date of each user's job assignments. */
export function jobStartTimes(executor: Executor, users: Knex.QueryBuilder): Knex.QueryBuilder {
  return executor(peopleViews.jobAssignments.as('ja'))
    .select('ja.user_id', executor.raw('MAX(ja.start_date) AS event_at'))
    .whereIn('ja.user_id', users)
    .whereNotNull('ja.start_date')
    .groupBy('ja.user_id');
}

/** When each user completed the course. */
export function courseCompletionTimes(executor: Executor, users: Knex.QueryBuilder, courseId: number): Knex.QueryBuilder {
  return executor(learningViews.courseCompletions.as('cc'))
    .select('cc.user_id', 'cc.completed_at as event_at')
    .where('cc.course_id', courseId)
    .whereIn('cc.user_id', users);
}

/** When each user completed the program. */
export function programCompletionTimes(executor: Executor, users: Knex.QueryBuilder, programId: number): Knex.QueryBuilder {
  return executor(programViews.programCompletions.as('pc'))
    .select('pc.user_id', 'pc.completed_at as event_at')
    .where({ 'pc.program_id': programId, 'pc.status': 'complete' })
    .whereIn('pc.user_id', users);
}

/** The date each user has in a date profile field. */
export function profileDateTimes(executor: Executor, users: Knex.QueryBuilder, fieldId: number): Knex.QueryBuilder {
  return executor(peopleViews.userProfileValues.as('v'))
    .select('v.user_id', 'v.value_date as event_at')
    .where('v.field_id', fieldId)
    .whereNotNull('v.value_date')
    .whereIn('v.user_id', users);
}
