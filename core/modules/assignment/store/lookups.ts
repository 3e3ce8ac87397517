import type { Knex } from 'knex';
import type { Executor } from '../../../kernel/db/database';
import { placeholders, queryRows } from '../../../kernel/db/sql';
import { num, numOrNull } from '../../../kernel/db/values';
import { learningViews } from '../../learning/index';
import { peopleViews } from '../../people/index';
import { programViews } from '../../programs/index';

/**
 * What the assignment module reads of other owners' rows, through their published views. Each runs
 * on the caller's executor, usually inside the assignment transaction (on SQLite a read through
 * another connection would wait on it).
 */

/** Whether the program exists. */
export async function programExists(executor: Executor, programId: number): Promise<boolean> {
  return !!(await executor(programViews.programs.as('p')).where({ 'p.id': programId }).first('p.id'));
}

/** The programs' structure versions (absent programs are left out). */
export async function programStructureVersions(executor: Executor, programIds: readonly number[]): Promise<Array<{ id: number; version: number }>> {
  const rows = await queryRows<{ id: number; structure_version: number }>(
    executor,
    `SELECT p.id, p.structure_version FROM ${programViews.programs.as('p')} WHERE p.id IN (${placeholders(programIds.length)})`,
    [...programIds],
  );
  return rows.map((v) => ({ id: num(v.id), version: num(v.structure_version) }));
}

/** The lowest and highest user id (null on an empty site): the span the sync batches cover. */
export async function userIdSpan(executor: Executor): Promise<{ lo: number | null; hi: number | null }> {
  const [range] = await queryRows<{ lo: number | null; hi: number | null }>(
    executor,
    `SELECT MIN(u.id) AS lo, MAX(u.id) AS hi FROM ${peopleViews.users.as('u')}`,
  );
  return { lo: numOrNull(range?.lo), hi: numOrNull(range?.hi) };
}

/** The user's suspended and deleted flags, or undefined when there is no such user. */
export async function userStanding(trx: Knex.Transaction, userId: number): Promise<{ suspended: unknown; deleted: unknown } | undefined> {
  return (await trx(peopleViews.users.as('u')).where({ 'u.id': userId }).first('u.suspended', 'u.deleted')) as
    { suspended: unknown; deleted: unknown } | undefined;
}

/** Completions of these courses by every learner whose id is in the range (one statement for a whole sync batch). */
export function courseCompletionsInRange(
  trx: Knex.Transaction,
  courseIds: readonly number[],
  range: { lo: number; hi: number },
): Promise<Array<{ user_id: number; course_id: number; completed_at: number }>> {
  return queryRows<{ user_id: number; course_id: number; completed_at: number }>(
    trx,
    `SELECT cc.user_id, cc.course_id, cc.completed_at FROM ${learningViews.courseCompletions.as('cc')} WHERE cc.course_id IN (${placeholders(courseIds.length)}) AND cc.user_id BETWEEN ? AND ?`,
    [...courseIds, range.lo, range.hi],
  );
}

/** Whether the position exists. */
export async function positionExists(executor: Executor, id: number): Promise<boolean> {
  return !!(await executor(peopleViews.hierarchyNodes.as('n')).where({ 'n.id': id, 'n.kind': 'position' }).first('n.id'));
}

/** The name of a hierarchy node (position or organisation), or undefined. */
export async function hierarchyNodeName(executor: Executor, id: number | undefined): Promise<string | undefined> {
  const row = (await executor(peopleViews.hierarchyNodes.as('n')).where({ 'n.id': id }).first('n.name')) as { name: string } | undefined;
  return row?.name;
}

/** Whether the course exists. */
export async function courseExists(executor: Executor, id: number): Promise<boolean> {
  return !!(await executor(learningViews.courses.as('c')).where({ 'c.id': id }).first('c.id'));
}

/** The course's full name, or undefined. */
export async function courseFullname(executor: Executor, id: number | undefined): Promise<string | undefined> {
  const row = (await executor(learningViews.courses.as('c')).where({ 'c.id': id }).first('c.fullname')) as { fullname: string } | undefined;
  return row?.fullname;
}

/** The program's full name, or undefined. */
export async function programFullname(executor: Executor, id: number | undefined): Promise<string | undefined> {
  const row = (await executor(programViews.programs.as('p')).where({ 'p.id': id }).first('p.fullname')) as { fullname: string } | undefined;
  return row?.fullname;
}

/** Whether the profile field exists. */
export async function profileFieldExists(executor: Executor, id: number): Promise<boolean> {
  return !!(await executor(peopleViews.profileFields.as('f')).where({ 'f.id': id }).first('f.id'));
}

/** The profile field's type (`date`, `text`...), or undefined. */
export async function profileFieldType(executor: Executor, id: number | undefined): Promise<string | undefined> {
  const row = (await executor(peopleViews.profileFields.as('f')).where({ 'f.id': id }).first('f.type')) as { type: string } | undefined;
  return row?.type;
}

/** The profile field's name, or undefined. */
export async function profileFieldName(executor: Executor, id: number | undefined): Promise<string | undefined> {
  const row = (await executor(peopleViews.profileFields.as('f')).where({ 'f.id': id }).first('f.name')) as { name: string } | undefined;
  return row?.name;
}

/**
 * Users with an open assignment to the program: assigned (active) and not complete; `overdue`
 * narrows to those whose due date is before `now`. Its own rows joined with programs' completions view.
 */
export function openAssignmentMembers(executor: Executor, programId: number, overdueAt: number | null): Knex.QueryBuilder {
  const qb = executor('program_user_assignments as a')
    .leftJoin(programViews.programCompletions.as('pc'), (j) => j.on('pc.program_id', 'a.program_id').andOn('pc.user_id', 'a.user_id'))
    .where('a.program_id', programId)
    .where('a.status', 'active')
    .where((w) => w.whereNull('pc.status').orWhereNot('pc.status', 'complete'))
    .select('a.user_id');
  if (overdueAt !== null) qb.whereNotNull('a.due_at').where('a.due_at', '<', overdueAt);
  return qb;
}
