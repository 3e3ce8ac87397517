import type { Knex } from 'knex';
import type { Executor } from '../../../kernel/db/database';
import { insertId } from './insert';
import { whereUnder } from './paths';
import { peopleViews } from './views';
import { readPage, wherePrefix, type KeysetOrder, type KeysetPage, type PagePosition, type SortKey } from '../../../kernel/db/keyset';

/** A `users` row as stored (the password hash included: only this module reads it). */
export interface UserRow {
  id: number;
  username: string;
  email: string;
  fullname: string;
  password_hash: string | null;
  is_admin: number | boolean;
  lang: string;
  timezone: string;
  suspended: number | boolean;
  deleted: number | boolean;
  first_login_at: number | null;
  created_at: number;
  updated_at: number;
}

/** The user with this id, or undefined. */
export async function findUserRow(executor: Executor, id: number): Promise<UserRow | undefined> {
  return (await executor('users').where({ id }).first()) as UserRow | undefined;
}

/** The user with this username, or undefined. */
export async function findUserRowByUsername(executor: Executor, username: string): Promise<UserRow | undefined> {
  return (await executor('users').where({ username }).first()) as UserRow | undefined;
}

/** Whether a user row with this id exists (deleted users included). */
export async function userRowExists(executor: Executor, id: number): Promise<boolean> {
  return !!(await executor('users').where({ id }).first('id'));
}

/** The stored password hash of a user, or null (no password, or no such user). */
export async function userPasswordHash(executor: Executor, id: number): Promise<string | null> {
  const row = (await executor('users').where({ id }).first('password_hash')) as { password_hash: string | null } | undefined;
  return row?.password_hash ?? null;
}

/** How many users are not deleted. */
export async function countUndeletedUsers(executor: Executor): Promise<number> {
  const [row] = (await executor('users').where({ deleted: false }).count({ n: '*' })) as Array<{ n: number | string }>;
  return Number(row?.n ?? 0);
}

/** Inserts a user; a taken username fails with the database's unique violation. Returns the new id. */
export function insertUser(trx: Knex.Transaction, row: Omit<UserRow, 'id' | 'first_login_at'>): Promise<number> {
  return insertId(trx, 'users', row);
}

/** Writes `changes` (columns of `users`) to one user. */
export async function updateUser(trx: Knex.Transaction, id: number, changes: Record<string, unknown>): Promise<void> {
  await trx('users').where({ id }).update(changes);
}

/**
 * Sets first_login_at unless it is already set; the number of rows changed (0 or 1). The IS NULL
 * condition makes "first" exact even when two logins race.
 */
export function setFirstLogin(trx: Knex.Transaction, id: number, at: number): Promise<number> {
  return trx('users').where({ id }).whereNull('first_login_at').update({ first_login_at: at });
}

/** The named orders of the user list (`?sort=`); each ends in the unique id. */
export const USER_ORDERS: readonly KeysetOrder[] = [
  { name: 'fullname', keys: [{ ...asc('fullname'), caseInsensitive: true }, asc('id')] },
  // Read without regard to case so that on SQLite the NOCASE index (migration 0028) serves both the
  // prefix range and the order. Usernames are lower case (users.ts), so this is the same order, and
  // still unique: no tiebreak needed.
  { name: 'username', keys: [{ ...asc('username'), caseInsensitive: true }] },
  { name: 'id', keys: [asc('id')] },
  { name: '-id', keys: [{ column: 'id', direction: 'desc' }] },
];

export interface UserListFilter {
  /** Prefix of the full name, any case. */
  q?: string;
  /** Prefix of the username. */
  username?: string;
  suspended?: boolean;
  /** Deleted users are left out unless this is true. */
  deleted?: boolean;
  /** Prefix of the email address, any case. */
  email?: string;
  /** Members of this audience. */
  audienceId?: number;
  /** Holders of a job at the position with this materialised path, or below it. */
  positionPath?: string;
  /** Holders of a job in the organisation with this materialised path, or below it. */
  organisationPath?: string;
  /** Holders of a job at exactly this position / in exactly this organisation. */
  positionId?: number;
  organisationId?: number;
  /** Direct reports of this user (through any of their jobs). */
  managerUserId?: number;
  /** Only these users (a bulk selection). */
  ids?: readonly number[];
}

export type UserListRow = Omit<UserRow, 'password_hash'>;

/** One page of users, filtered, in `order`. */
export function userPage(executor: Executor, filter: UserListFilter, order: KeysetOrder, position: PagePosition): Promise<KeysetPage<UserListRow>> {
  return readPage<UserListRow>(userListQuery(executor, filter), order, position);
}

/** The user list's rows before ordering and paging (exported for the index-use test). */
export function userListQuery(executor: Executor, filter: UserListFilter): Knex.QueryBuilder {
  // The list reads exactly the columns people publishes for users.
  const query = executor('users').select(...peopleViews.users.columns);
  query.where('deleted', filter.deleted === true);
  if (filter.suspended !== undefined) query.where('suspended', filter.suspended);
  // One column each, so each is one index range read in the list's order (an OR of the two would
  // read every match and sort them: the cost of the matches, not of the page).
  if (filter.q) wherePrefix(query, ['fullname'], filter.q);
  if (filter.username) wherePrefix(query, ['username'], filter.username);
  if (filter.email) wherePrefix(query, ['email'], filter.email);
  // Each filter is a semi-join on an indexed column, so the page is still read in the list's order.
  if (filter.audienceId !== undefined) query.whereIn('id', executor('audience_members').where('audience_id', filter.audienceId).select('user_id'));
  for (const [column, kind, path] of [
    ['position_id', 'position', filter.positionPath],
    ['organisation_id', 'organisation', filter.organisationPath],
  ] as const) {
    if (path === undefined) continue;
    const nodes = whereUnder(executor('hierarchy_nodes').where('kind', kind).select('id'), 'path', path, true);
    query.whereIn('id', executor('job_assignments').whereIn(column, nodes).select('user_id'));
  }
  if (filter.positionId !== undefined) query.whereIn('id', executor('job_assignments').where('position_id', filter.positionId).select('user_id'));
  if (filter.organisationId !== undefined) query.whereIn('id', executor('job_assignments').where('organisation_id', filter.organisationId).select('user_id'));
  if (filter.managerUserId !== undefined) query.whereIn('id', executor('job_assignments').where('manager_user_id', filter.managerUserId).select('user_id'));
  if (filter.ids !== undefined) query.whereIn('id', filter.ids.length ? [...filter.ids] : [0]);
  return query;
}

/** How many users match `filter` (for "select all N matching this filter"). */
export async function countUserRows(executor: Executor, filter: UserListFilter): Promise<number> {
  const row = (await userListQuery(executor, filter).clearSelect().count({ n: '*' }).first()) as { n: number | string } | undefined;
  return Number(row?.n ?? 0);
}

function asc(column: string): SortKey {
  return { column, direction: 'asc' };
}
