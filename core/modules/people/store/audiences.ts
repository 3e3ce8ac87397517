import type { Knex } from 'knex';
import type { Executor } from '../../../kernel/db/database';
import { chunk } from '../../../kernel/db/sql';
import { learningViews } from '../../learning/index';
import type { AudienceMemberSource } from '../types';
import type { ResolvedNode } from '../audience-rules';
import { insertId } from './insert';
import { readPage, wherePrefix, type KeysetOrder, type KeysetPage, type PagePosition } from '../../../kernel/db/keyset';
import { idsUnderPathQuery } from './hierarchy';

/** An `audiences` row (`rules` is the JSON rule list of a dynamic audience). */
export interface AudienceRow {
  id: number;
  name: string;
  type: string;
  rules: string | null;
  created_at: number;
  updated_at: number;
}

/** Which users a recomputation looks at: these ids, a subquery of ids, or everyone (null). */
export type UserScope = number[] | Knex.QueryBuilder | null;

/** The audience with this id, or undefined. */
export async function findAudienceRow(executor: Executor, id: number): Promise<AudienceRow | undefined> {
  return (await executor('audiences').where({ id }).first()) as AudienceRow | undefined;
}

/** Every dynamic audience, by id (a rule may only name an older audience). */
export async function dynamicAudienceRows(executor: Executor): Promise<AudienceRow[]> {
  return (await executor('audiences').where('type', 'dynamic').orderBy('id')) as AudienceRow[];
}

/** Inserts an audience and returns its id. */
export function insertAudience(trx: Knex.Transaction, row: Omit<AudienceRow, 'id'>): Promise<number> {
  return insertId(trx, 'audiences', row);
}

/** A course's name, for describing a rule; null when it does not exist. */
export async function courseName(executor: Executor, courseId: number): Promise<string | null> {
  const row = (await executor(learningViews.courses.as('c')).where('c.id', courseId).first('c.fullname')) as { fullname: string } | undefined;
  return row?.fullname ?? null;
}

/** Saves an audience's name and rules. */
export async function updateAudienceRow(trx: Knex.Transaction, id: number, patch: Partial<Pick<AudienceRow, 'name' | 'rules'>>, at: number): Promise<void> {
  await trx('audiences')
    .where({ id })
    .update({ ...patch, updated_at: at });
}

/** How many members each of these audiences has: one grouped read of the (audience, user) index. */
export async function memberCounts(executor: Executor, audienceIds: readonly number[]): Promise<Map<number, number>> {
  if (!audienceIds.length) return new Map();
  const rows = (await executor('audience_members')
    .whereIn('audience_id', audienceIds)
    .groupBy('audience_id')
    .select('audience_id')
    .count({ n: '*' })) as Array<{
    audience_id: number;
    n: number | string;
  }>;
  return new Map(rows.map((r) => [Number(r.audience_id), Number(r.n)]));
}

/** User ids after `afterId` in id order, one batch of a full recompute. */
export async function userIdBatch(executor: Executor, afterId: number, limit: number): Promise<number[]> {
  const rows = (await executor('users').where('id', '>', afterId).orderBy('id').limit(limit).select('id')) as Array<{ id: number }>;
  return rows.map((r) => Number(r.id));
}

/** How many users there are (the total of a recompute's progress). */
export async function countUsers(executor: Executor): Promise<number> {
  const [{ total }] = (await executor('users').count({ total: '*' })) as Array<{ total: number | string }>;
  return Number(total);
}

// The built-in conditions' member subqueries (each selects one column, `user_id`).

/** Users whose profile field has this stored value. */
export function profileValueMembers(executor: Executor, fieldId: number, column: 'value_text' | 'value_date', value: string | number): Knex.QueryBuilder {
  return executor('user_profile_values').where('field_id', fieldId).where(column, value).select('user_id');
}

/** Users whose lang or timezone is this value. */
export function userFieldMembers(executor: Executor, column: 'lang' | 'timezone', value: string): Knex.QueryBuilder {
  return executor('users').where(column, value).select('id as user_id');
}

/** Users with a job assignment at the node, or anywhere under `path` when given. */
export function hierarchyMembers(executor: Executor, kind: 'position' | 'organisation', nodeId: number, path: string | null): Knex.QueryBuilder {
  const column = `${kind}_id`;
  const qb = executor('job_assignments').select('user_id');
  return path === null ? qb.where(column, nodeId) : qb.whereIn(column, idsUnderPathQuery(executor, kind, path));
}

/** Members of another audience. */
export function audienceMembers(executor: Executor, audienceId: number): Knex.QueryBuilder {
  return executor('audience_members').where('audience_id', audienceId).select('user_id');
}

/** Users with a current completion of the course (learning's published view). */
export function courseCompletedMembers(executor: Executor, courseId: number): Knex.QueryBuilder {
  return executor(learningViews.courseCompletions.as('cc')).where('cc.course_id', courseId).select('cc.user_id');
}

/** Narrows `qb` (over `users as u`) to users matching the resolved rule tree. */
function applyTree(qb: Knex.QueryBuilder, node: ResolvedNode): void {
  switch (node.kind) {
    case 'condition':
      qb.whereIn('u.id', node.members);
      return;
    case 'and':
      for (const child of node.children) qb.where((inner) => applyTree(inner, child));
      return;
    case 'or':
      qb.where((group) => {
        for (const child of node.children) group.orWhere((inner) => applyTree(inner, child));
      });
      return;
    case 'not':
      qb.whereNot((inner) => applyTree(inner, node.child));
      return;
  }
}

function scoped(qb: Knex.QueryBuilder, column: string, users: UserScope): Knex.QueryBuilder {
  if (users === null) return qb;
  return qb.whereIn(column, users as readonly number[]);
}

/** The users in scope that match every rule: a subquery of `u.id`. */
function matchingUsers(executor: Executor, rules: ResolvedNode, users: UserScope): Knex.QueryBuilder {
  const qb = scoped(executor('users as u'), 'u.id', users).where('u.deleted', false);
  qb.where((inner) => applyTree(inner, rules));
  return qb.select('u.id');
}

/** How many users match the rules now (the "who matches" count of the rule editor). */
export async function countMatching(executor: Executor, rules: ResolvedNode): Promise<number> {
  const [row] = (await executor.from(matchingUsers(executor, rules, null).as('m')).count({ total: '*' })) as Array<{ total: number | string }>;
  return Number(row?.total ?? 0);
}

/** Users in scope who match the rules but are not members of the audience yet. */
export async function usersToAdd(trx: Knex.Transaction, audienceId: number, rules: ResolvedNode, users: UserScope): Promise<number[]> {
  const rows = (await matchingUsers(trx, rules, users).whereNotExists(
    trx('audience_members as cur').select(trx.raw('1')).whereRaw('cur.user_id = u.id').where('cur.audience_id', audienceId),
  )) as Array<{ id: number }>;
  return rows.map((r) => Number(r.id));
}

/** Members in scope who no longer match the rules. */
export async function usersToRemove(trx: Knex.Transaction, audienceId: number, rules: ResolvedNode, users: UserScope): Promise<number[]> {
  const rows = (await scoped(trx('audience_members as m'), 'm.user_id', users)
    .where('m.audience_id', audienceId)
    .whereNotIn('m.user_id', matchingUsers(trx, rules, users))
    .select('m.user_id')) as Array<{ user_id: number }>;
  return rows.map((r) => Number(r.user_id));
}

/** Adds members that come from the audience's rules (batched). */
export async function insertRuleMembers(trx: Knex.Transaction, audienceId: number, userIds: readonly number[], at: number): Promise<void> {
  for (const batch of chunk(userIds)) {
    await trx('audience_members').insert(batch.map((userId) => ({ audience_id: audienceId, user_id: userId, source: 'rules', added_at: at })));
  }
}

/** Removes members (batched). */
export async function deleteMembers(trx: Knex.Transaction, audienceId: number, userIds: readonly number[]): Promise<void> {
  for (const batch of chunk(userIds)) {
    await trx('audience_members').where('audience_id', audienceId).whereIn('user_id', batch).delete();
  }
}

/** Adds one member by hand; an existing membership fails with the database's unique violation. */
export async function insertManualMember(trx: Knex.Transaction, audienceId: number, userId: number, at: number): Promise<void> {
  await trx('audience_members').insert({ audience_id: audienceId, user_id: userId, source: 'manual' satisfies AudienceMemberSource, added_at: at });
}

/** Removes one member; the number of rows deleted (0 or 1). */
export function deleteMember(trx: Knex.Transaction, audienceId: number, userId: number): Promise<number> {
  return trx('audience_members').where({ audience_id: audienceId, user_id: userId }).delete();
}

/** Whether the user is a member of the audience. */
export async function isMember(executor: Executor, audienceId: number, userId: number): Promise<boolean> {
  return !!(await executor('audience_members').where({ audience_id: audienceId, user_id: userId }).first('id'));
}

/** A subquery of the audience's member user ids (index on audience_id, user_id). */
export function memberIdsQuery(executor: Executor, audienceId: number): Knex.QueryBuilder {
  return executor('audience_members').where('audience_id', audienceId).select('user_id');
}

/** The named orders of an audience's member list (`?sort=`). */
export const MEMBER_ORDERS: readonly KeysetOrder[] = [
  { name: 'userId', keys: [{ column: 'm.user_id', direction: 'asc' }] },
  {
    name: 'fullname',
    keys: [
      { column: 'u.fullname', direction: 'asc', caseInsensitive: true },
      { column: 'm.user_id', direction: 'asc' },
    ],
  },
];

export interface MemberRow {
  user_id: number;
  username: string;
  fullname: string;
  source: AudienceMemberSource;
  added_at: number;
}

/** One keyset page of an audience's members with their names (name or username prefix `q`). */
export function memberPage(
  executor: Executor,
  audienceId: number,
  filter: { q?: string },
  order: KeysetOrder,
  position: PagePosition,
): Promise<KeysetPage<MemberRow>> {
  const query = executor('audience_members as m')
    .join('users as u', 'u.id', 'm.user_id')
    .where('m.audience_id', audienceId)
    .select('m.user_id', 'u.username', 'u.fullname', 'm.source', 'm.added_at');
  if (filter.q) wherePrefix(query, ['u.fullname', 'u.username'], filter.q);
  return readPage<MemberRow>(query, order, position);
}

/** The ids of the audiences the user belongs to, ascending. */
export async function audienceIdsOf(executor: Executor, userId: number): Promise<number[]> {
  const rows = (await executor('audience_members').where('user_id', userId).orderBy('audience_id').select('audience_id')) as Array<{ audience_id: number }>;
  return rows.map((r) => Number(r.audience_id));
}

/** The named orders of the audience list (`?sort=`). */
export const AUDIENCE_ORDERS: readonly KeysetOrder[] = [
  {
    name: 'name',
    keys: [
      { column: 'name', direction: 'asc', caseInsensitive: true },
      { column: 'id', direction: 'asc' },
    ],
  },
  { name: 'id', keys: [{ column: 'id', direction: 'asc' }] },
  { name: '-id', keys: [{ column: 'id', direction: 'desc' }] },
];

/** One page of audiences (name prefix `q`, `type`), in `order`. */
export function audiencePage(
  executor: Executor,
  filter: { q?: string; type?: string },
  order: KeysetOrder,
  position: PagePosition,
): Promise<KeysetPage<AudienceRow>> {
  const query = executor('audiences').select('id', 'name', 'type', 'rules', 'created_at', 'updated_at');
  if (filter.type !== undefined) query.where('type', filter.type);
  if (filter.q) wherePrefix(query, ['name'], filter.q);
  return readPage<AudienceRow>(query, order, position);
}
