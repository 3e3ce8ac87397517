import type { Knex } from 'knex';
import { IANAZone } from 'luxon';
import { hashPassword } from '../../kernel/auth/passwords';
import { isUniqueViolation, type Executor } from '../../kernel/db/database';
import { invalid, WaymarkError } from '../../kernel/errors';
import { bool, num, numOrNull, type PeopleContext } from './context';
import {
  countUndeletedUsers,
  countUserRows,
  findUserRow,
  findUserRowByUsername,
  insertUser,
  setFirstLogin,
  updateUser,
  userPage,
  userPasswordHash,
  type UserListFilter,
  type UserRow,
} from './store/users';
import type { KeysetOrder, KeysetPage, PagePosition } from '../../kernel/db/keyset';
import type { ProfileFieldService, ProfileValueChange } from './profile-fields';
import type { CredentialRevoker } from '../../kernel/features/kernel-services';
import type { Credential } from '../../kernel/http/routes';
import type { CreateUserInput, UpdateUserInput, User } from './types';

export interface UserService {
  /** Creates a user (and profile values); 409 USERNAME_TAKEN when the username exists. */
  create(input: CreateUserInput, trx?: Executor): Promise<User>;
  /**
   * Changes a user; fires user/profile_field changes for what actually changed. A new password, a
   * suspension or a deletion ends the user's sessions and API tokens in the same transaction,
   * except `keep`, the credential making the change, when it is the user's own.
   */
  update(id: number, patch: UpdateUserInput, trx?: Executor, options?: { keep?: Credential | null }): Promise<User>;
  /** 404 USER_NOT_FOUND when missing. */
  get(id: number, executor?: Executor): Promise<User>;
  find(id: number, executor?: Executor): Promise<User | null>;
  findByUsername(username: string, executor?: Executor): Promise<User | null>;
  /** The stored password hash (for login), or null. Never part of User. */
  passwordHash(id: number, executor?: Executor): Promise<string | null>;
  /** Sets first_login_at the first time only (race-safe) and then fires a user/first_login change. */
  recordLogin(id: number, trx?: Executor): Promise<User>;
  /** How many users exist (deleted ones excluded). */
  count(): Promise<number>;
  /** One page of users (name or username prefix, suspended, deleted), in a named order of {@link USER_ORDERS}. */
  list(filter: UserListFilter, order: KeysetOrder, position: PagePosition): Promise<KeysetPage<User>>;
  /** How many users match a list filter (the admin list's "select all N matching this filter"). */
  countMatching(filter: UserListFilter): Promise<number>;
}

export interface UserDeps {
  profileFields: ProfileFieldService;
  /** Ends a user's sessions and API tokens (the kernel's tables). */
  credentials: CredentialRevoker;
  /** Recomputes dynamic audience membership for these users. */
  usersChanged(trx: Knex.Transaction, userIds: number[]): Promise<void>;
}

function toUser(row: Omit<UserRow, 'password_hash'>): User {
  return {
    id: num(row.id),
    username: row.username,
    email: row.email,
    fullname: row.fullname,
    isAdmin: bool(row.is_admin),
    lang: row.lang,
    timezone: row.timezone,
    suspended: bool(row.suspended),
    deleted: bool(row.deleted),
    firstLoginAt: numOrNull(row.first_login_at),
    createdAt: num(row.created_at),
    updatedAt: num(row.updated_at),
  };
}

const USERNAME = /^[a-z0-9][a-z0-9._@-]{0,99}$/;
const LANG = /^[a-z]{2,3}(?:[_-][A-Za-z0-9]{2,8})*$/;
const EMAIL = /^[^\s@]+@[^\s@]+$/;

function fieldError(code: string, path: string, message: string): WaymarkError {
  return invalid(code, message, [{ path, code, message }]);
}

function validate(input: Partial<CreateUserInput & UpdateUserInput>): void {
  if (input.username !== undefined && !USERNAME.test(input.username)) {
    throw fieldError('USERNAME_INVALID', 'username', 'username must be lowercase letters, digits and . _ @ - (at most 100)');
  }
  if (input.email !== undefined && (input.email.length > 255 || !EMAIL.test(input.email)))
    throw fieldError('EMAIL_INVALID', 'email', 'email is not a valid address');
  if (input.fullname !== undefined && (!input.fullname.trim() || input.fullname.length > 255))
    throw fieldError('FULLNAME_INVALID', 'fullname', 'fullname is required (at most 255)');
  if (input.lang !== undefined && !LANG.test(input.lang)) throw fieldError('LANG_INVALID', 'lang', 'lang must be a language code such as en or fr_ca');
  if (input.timezone !== undefined && !IANAZone.isValidZone(input.timezone))
    throw fieldError('TIMEZONE_INVALID', 'timezone', 'timezone must be an IANA zone such as Europe/Paris');
  if (input.password !== undefined && input.password.length < 8) throw fieldError('PASSWORD_TOO_SHORT', 'password', 'password must have at least 8 characters');
}

export function createUserService(ctx: PeopleContext, deps: UserDeps): UserService {
  const knex = ctx.db.knex;

  async function find(id: number, executor: Executor = knex): Promise<User | null> {
    if (!Number.isInteger(id)) return null;
    const row = await findUserRow(executor, id);
    return row ? toUser(row) : null;
  }

  async function emitProfile(trx: Knex.Transaction, userId: number, changes: ProfileValueChange[]): Promise<void> {
    for (const c of changes) await ctx.changed(trx, { type: 'profile_field', userId, field: c.field, old: c.old, new: c.new });
  }

  const service: UserService = {
    async create(input, trx) {
      validate(input);
      // Hash before the transaction: scrypt is slow and must not hold the write lock.
      const passwordHash = input.password ? await hashPassword(input.password) : null;
      return ctx.tx(trx, async (t) => {
        const now = ctx.db.now();
        let id: number;
        try {
          id = await insertUser(t, {
            username: input.username,
            email: input.email,
            fullname: input.fullname.trim(),
            password_hash: passwordHash,
            is_admin: input.isAdmin ?? false,
            lang: input.lang ?? 'en',
            timezone: input.timezone ?? 'UTC',
            suspended: false,
            deleted: false,
            created_at: now,
            updated_at: now,
          });
        } catch (error) {
          if (isUniqueViolation(error)) {
            throw new WaymarkError('USERNAME_TAKEN', `The username "${input.username}" is taken`, 409, [
              { path: 'username', code: 'USERNAME_TAKEN', message: 'taken' },
            ]);
          }
          throw error;
        }
        const changes = await deps.profileFields.write(t, id, input.profile ?? {});
        await ctx.changed(t, { type: 'user', userId: id, field: 'created', old: null, new: now });
        await emitProfile(t, id, changes);
        await deps.usersChanged(t, [id]);
        return (await find(id, t))!;
      });
    },

    async update(id, patch, trx, options = {}) {
      validate(patch);
      const passwordHash = patch.password ? await hashPassword(patch.password) : undefined;
      return ctx.tx(trx, async (t) => {
        const user = await service.get(id, t);
        const row: Record<string, unknown> = {};
        if (patch.email !== undefined) row.email = patch.email;
        if (patch.fullname !== undefined) row.fullname = patch.fullname.trim();
        if (patch.isAdmin !== undefined) row.is_admin = patch.isAdmin;
        if (passwordHash !== undefined) row.password_hash = passwordHash;
        const watched = (['suspended', 'deleted', 'lang', 'timezone'] as const).filter((k) => patch[k] !== undefined && patch[k] !== user[k]);
        for (const k of watched) row[k] = patch[k];
        const profileChanges = await deps.profileFields.write(t, id, patch.profile ?? {});
        if (Object.keys(row).length === 0 && profileChanges.length === 0) return user;
        await updateUser(t, id, { ...row, updated_at: ctx.db.now() });
        for (const k of watched) await ctx.changed(t, { type: 'user', userId: id, field: k, old: user[k], new: patch[k] });
        await emitProfile(t, id, profileChanges);
        if (watched.length > 0 || profileChanges.length > 0) await deps.usersChanged(t, [id]);
        // Both directions of suspended/deleted: un-suspending then also drops anything that predates
        // the suspension (credentials from before this rule existed), so it never brings old ones back.
        const locked = watched.includes('suspended') || watched.includes('deleted');
        if (passwordHash !== undefined || locked) await deps.credentials.endAll(t, id, options.keep);
        return (await find(id, t))!;
      });
    },

    async get(id, executor) {
      const user = await find(id, executor);
      if (!user) throw new WaymarkError('USER_NOT_FOUND', `User ${id} not found`, 404);
      return user;
    },

    find,
    async count() {
      return countUndeletedUsers(knex);
    },

    async list(filter, order, position) {
      const page = await userPage(knex, filter, order, position);
      return { ...page, items: page.items.map(toUser) };
    },

    countMatching(filter) {
      return countUserRows(knex, filter);
    },

    async findByUsername(username, executor = knex) {
      const row = await findUserRowByUsername(executor, username);
      return row ? toUser(row) : null;
    },

    async passwordHash(id, executor = knex) {
      return userPasswordHash(executor, id);
    },

    async recordLogin(id, trx) {
      return ctx.tx(trx, async (t) => {
        await service.get(id, t);
        const now = ctx.db.now();
        // Only the first login sets it, even when two logins race.
        const changed = await setFirstLogin(t, id, now);
        if (changed) await ctx.changed(t, { type: 'user', userId: id, field: 'first_login', old: null, new: now });
        return (await find(id, t))!;
      });
    },
  };
  return service;
}
