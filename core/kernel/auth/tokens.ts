import { parseDateInput } from '../dates';
import crypto from 'node:crypto';
import type { Database, Executor } from '../db/database';
import { isForeignKeyViolation } from '../db/sql';
import { readPage, type KeysetOrder, type KeysetPage, type PagePosition } from '../db/keyset';
import type { SqlView } from '../db/views';
import type { AuthUser } from '../http/routes';
import { DateTime, Duration } from 'luxon';
import { invalid, notFound } from '../errors';

/** Prefix that makes a leaked token easy to recognise (secret scanners, logs). */
export const TOKEN_PREFIX = 'wm_';

/** last_used_at is refreshed at most this often, so the hot path rarely writes. */
const LAST_USED_RESOLUTION_MS = 60_000;

/** SHA-256 hex of a token: the only form stored. Tokens are 256 random bits, so no salt or slow hash is needed. */
export function hashApiToken(token: string): string {
  return crypto.createHash('sha256').update(token, 'utf8').digest('hex');
}

/** An API token as operators see it: never the token itself, which is shown once at creation. */
export interface ApiTokenInfo {
  id: number;
  userId: number;
  name: string;
  createdAt: number;
  /** Epoch ms, to the minute (the request path writes it at most once a minute); null if never used. */
  lastUsedAt: number | null;
  /** Epoch ms after which the token no longer answers; null: until revoked. */
  expiresAt: number | null;
}

export interface CreateTokenOptions {
  name?: string;
  /** Epoch ms; null or absent: the token lasts until revoked. */
  expiresAt?: number | null;
}

/** Creates an API token for the user and returns it; it cannot be shown again. */
export async function createApiToken(db: Database, userId: number, name = 'cli'): Promise<string> {
  return (await issueApiToken(db, userId, { name })).token;
}

/**
 * Creates an API token and returns it (shown this once) with what operators see of it. An unknown
 * user is 404: the token's foreign key to its user answers that, so the kernel reads no user here.
 */
export async function issueApiToken(db: Database, userId: number, options: CreateTokenOptions = {}): Promise<{ token: string; info: ApiTokenInfo }> {
  const { name = 'cli', expiresAt = null } = options;
  const token = TOKEN_PREFIX + crypto.randomBytes(32).toString('base64url');
  const hash = hashApiToken(token);
  try {
    await db
      .knex('api_tokens')
      .insert({ user_id: userId, token_hash: hash, name: name.slice(0, 100), created_at: db.now(), last_used_at: null, expires_at: expiresAt });
  } catch (error) {
    if (isForeignKeyViolation(error)) throw notFound('User', userId);
    throw error;
  }
  const row = (await db.knex('api_tokens').where('token_hash', hash).first(TOKEN_COLUMNS)) as TokenInfoRow;
  return { token, info: toInfo(row) };
}

const TOKEN_COLUMNS = ['id', 'user_id', 'name', 'created_at', 'last_used_at', 'expires_at'];

interface TokenInfoRow {
  id: number;
  user_id: number;
  name: string;
  created_at: number | string;
  last_used_at: number | string | null;
  expires_at: number | string | null;
}

function toInfo(row: TokenInfoRow): ApiTokenInfo {
  return {
    id: Number(row.id),
    userId: Number(row.user_id),
    name: row.name,
    createdAt: Number(row.created_at),
    lastUsedAt: row.last_used_at === null ? null : Number(row.last_used_at),
    expiresAt: row.expires_at === null ? null : Number(row.expires_at),
  };
}

/** A user's tokens, newest first, expired ones included (so operators see what lapsed). */
/** Newest first: the id alone orders a user's tokens. */
export const TOKENS_NEWEST: KeysetOrder = { name: 'newest', keys: [{ column: 'id', direction: 'desc' }] };

/** One page of a user's tokens, newest first (a script may have made thousands). */
export async function apiTokensPage(db: Database, userId: number, position: PagePosition): Promise<KeysetPage<ApiTokenInfo>> {
  const page = await readPage<TokenInfoRow>(db.knex('api_tokens').where('user_id', userId).select(TOKEN_COLUMNS), TOKENS_NEWEST, position);
  return { ...page, items: page.items.map(toInfo) };
}

/** One token by id, or null. */
export async function findApiToken(db: Database, id: number): Promise<ApiTokenInfo | null> {
  const row = (await db.knex('api_tokens').where('id', id).first(TOKEN_COLUMNS)) as TokenInfoRow | undefined;
  return row ? toInfo(row) : null;
}

/** Deletes a token by id; true when one was deleted. */
export async function revokeApiTokenById(db: Database, id: number): Promise<boolean> {
  return (await db.knex('api_tokens').where('id', id).del()) > 0;
}

/** Deletes every token of a user except `keepId` (the one making the request); returns how many went. */
export async function revokeUserApiTokens(executor: Executor, userId: number, keepId?: number): Promise<number> {
  const query = executor('api_tokens').where('user_id', userId);
  if (keepId !== undefined) query.andWhereNot('id', keepId);
  return query.del();
}

/**
 * A token expiry given by an operator: an ISO-8601 duration from now (`P90D`, `PT12H`), or a date
 * or date-time read by {@link parseDateInput} (a date is the end of that day in the site's time
 * zone). Anything else, or a moment not in the future, is 422 naming `field`.
 */
export function parseTokenExpiry(value: string, now: number, zone: string, field = 'expires'): number {
  const text = value.trim();
  const fail = (message: string) => invalid('EXPIRY_INVALID', message, [{ path: field, code: 'EXPIRY_INVALID', message }]);
  let at: number;
  if (text.startsWith('P')) {
    const duration = Duration.fromISO(text);
    if (!duration.isValid) throw fail(`${field} must be an ISO-8601 duration such as P90D, or a date`);
    at = DateTime.fromMillis(now, { zone: 'utc' }).plus(duration).toMillis();
  } else {
    try {
      at = parseDateInput(text, { field, zone });
    } catch {
      throw fail(`${field} must be a duration (P90D), a date (2027-01-31) or a date-time (2027-01-31T17:00:00+01:00)`);
    }
  }
  if (!Number.isFinite(at) || at <= now) throw fail(`${field} must be in the future`);
  return at;
}

interface TokenRow {
  token_id: number;
  last_used_at: number | string | null;
  id: number;
  username: string;
  fullname: string;
  is_admin: number | boolean;
  lang: string;
  timezone: string;
}

/**
 * The active user a bearer token belongs to and the token's id, or null (unknown, expired or
 * revoked token, suspended or deleted user). One indexed query on the request path, joining
 * `users`, the identity port's users view; a write only when last_used_at is over a minute old.
 */
export async function resolveApiToken(db: Database, users: SqlView, token: string): Promise<{ user: AuthUser; tokenId: number } | null> {
  if (!token.startsWith(TOKEN_PREFIX) || token.length > 200) return null;
  const now = db.now();
  const row = (await db
    .knex('api_tokens as t')
    .join(users.as('u'), 'u.id', 't.user_id')
    .where('t.token_hash', hashApiToken(token))
    .andWhere((q) => q.whereNull('t.expires_at').orWhere('t.expires_at', '>', now))
    .andWhere('u.suspended', false)
    .andWhere('u.deleted', false)
    .first('t.id as token_id', 't.last_used_at', 'u.id', 'u.username', 'u.fullname', 'u.is_admin', 'u.lang', 'u.timezone')) as TokenRow | undefined;
  if (!row) return null;
  if (row.last_used_at === null || Number(row.last_used_at) < now - LAST_USED_RESOLUTION_MS) {
    // Conditional so concurrent requests with one token write once, not once each.
    await db
      .knex('api_tokens')
      .where('id', row.token_id)
      .andWhere((q) => q.whereNull('last_used_at').orWhere('last_used_at', '<', now - LAST_USED_RESOLUTION_MS))
      .update({ last_used_at: now });
  }
  return {
    tokenId: Number(row.token_id),
    user: {
      id: Number(row.id),
      username: row.username,
      fullname: row.fullname,
      isAdmin: Boolean(row.is_admin),
      lang: row.lang,
      timezone: row.timezone,
    },
  };
}

/** Deletes a token given the token itself; true when one was deleted. */
export async function revokeApiToken(db: Database, token: string): Promise<boolean> {
  const deleted = await db.knex('api_tokens').where('token_hash', hashApiToken(token)).del();
  return deleted > 0;
}
