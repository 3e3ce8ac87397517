import type { Knex } from 'knex';
import type { Executor } from '../../../kernel/db/database';
import { chunk } from '../../../kernel/db/sql';
import { learningViews } from '../../learning/index';
import type { AudienceMemberSource } from '../types';
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

/** A rule resolved against the database: what the SQL condition needs. */
export type CompiledRule =
  | { type: 'profile_field'; fieldId: number; column: 'value_text' | 'value_date'; value: string | number }
  | { type: 'user_field'; column: 'lang' | 'timezone'; value: string }
  | { type: 'hierarchy'; column: 'position_id' | 'organisation_id'; kind: string; nodeId: number; path: string | null }
  | { type: 'audience'; audienceId: number }
  | { type: 'course_completed'; courseId: number };

/** Which users a recomputation looks at: these ids, a subquery of ids, or everyone (null). */
export type UserScope = number[] | Knex.QueryBuilder | null;

/** The audience with this id, or undefined. */
export async function findAudienceRow(executor: Executor, id: number): Promise<AudienceRow | undefined> {
  return (await executor('audiences').where({ id }).first()) as AudienceRow | undefined;
}

/** Every dynamic audience, by id (a rule may only name an older audience). */
export async function dynamicAudienceRows(trx: Knex.Transaction): Promise<AudienceRow[]> {
  return (await trx('audiences').where('type', 'dynamic').orderBy('id')) as AudienceRow[];
}

/** Inserts an audience and returns its id. */
export function insertAudience(trx: Knex.Transaction, row: Omit<AudienceRow, 'id'>): Promise<number> {
  return insertId(trx, 'audiences', row);
}

/** Whether a course exists, for "completed course" rules (learning's published courses view). */
export async function courseExists(executor: Executor, courseId: number): Promise<boolean> {
  return !!(await executor(learningViews.courses.as('c')).where('c.id', courseId).first('c.id'));
}

/** Narrows `qb` (over `users as u`) to users matching every rule. */
function applyRules(qb: Knex.QueryBuilder, executor: Executor, rules: CompiledRule[]): Knex.QueryBuilder {
  qb.where('u.deleted', false);
  for (const rule of rules) {
    switch (rule.type) {
      case 'profile_field':
        qb.whereExists(
          executor('user_profile_values as v')
            .select(executor.raw('1'))
            .whereRaw('v.user_id = u.id')
            .where('v.field_id', rule.fieldId)
            .where(`v.${rule.column}`, rule.value),
        );
        break;
      case 'user_field':
        qb.where(`u.${rule.column}`, rule.value);
        break;
      case 'hierarchy': {
        const sub = executor('job_assignments as j').select(executor.raw('1')).whereRaw('j.user_id = u.id');
        if (rule.path === null) sub.where(`j.${rule.column}`, rule.nodeId);
        else sub.whereIn(`j.${rule.column}`, idsUnderPathQuery(executor, rule.kind, rule.path));
        qb.whereExists(sub);
        break;
      }
      case 'audience':
        qb.whereExists(executor('audience_members as am').select(executor.raw('1')).whereRaw('am.user_id = u.id').where('am.audience_id', rule.audienceId));
        break;
      case 'course_completed':
        qb.whereExists(
          executor(learningViews.courseCompletions.as('cc')).select(executor.raw('1')).whereRaw('cc.user_id = u.id').where('cc.course_id', rule.courseId),
        );
        break;
    }
  }
  return qb;
}

function scoped(qb: Knex.QueryBuilder, column: string, users: UserScope): Knex.QueryBuilder {
  if (users === null) return qb;
  return qb.whereIn(column, users as readonly number[]);
}

/** The users in scope that match every rule: a subquery of `u.id`. */
function matchingUsers(trx: Knex.Transaction, rules: CompiledRule[], users: UserScope): Knex.QueryBuilder {
  return applyRules(scoped(trx('users as u'), 'u.id', users), trx, rules).select('u.id');
}

/** Users in scope who match the rules but are not members of the audience yet. */
export async function usersToAdd(trx: Knex.Transaction, audienceId: number, rules: CompiledRule[], users: UserScope): Promise<number[]> {
  const rows = (await matchingUsers(trx, rules, users).whereNotExists(
    trx('audience_members as cur').select(trx.raw('1')).whereRaw('cur.user_id = u.id').where('cur.audience_id', audienceId),
  )) as Array<{ id: number }>;
  return rows.map((r) => Number(r.id));
}

/** Members in scope who no longer match the rules. */
export async function usersToRemove(trx: Knex.Transaction, audienceId: number, rules: CompiledRule[], users: UserScope): Promise<number[]> {
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
