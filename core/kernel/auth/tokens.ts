import crypto from 'node:crypto';
import type { Database } from '../db/database';
import type { AuthUser } from '../http/routes';
import { notFound } from '../errors';

/** Prefix that makes a leaked token easy to recognise (secret scanners, logs). */
export const TOKEN_PREFIX = 'wm_';

/** last_used_at is refreshed at most this often, so the hot path rarely writes. */
const LAST_USED_RESOLUTION_MS = 60_000;

/** SHA-256 hex of a token: the only form stored. Tokens are 256 random bits, so no salt or slow hash is needed. */
export function hashApiToken(token: string): string {
  return crypto.createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Creates an API token for the user and returns it; it cannot be shown again. */
export async function createApiToken(db: Database, userId: number, name = 'cli'): Promise<string> {
  const token = TOKEN_PREFIX + crypto.randomBytes(32).toString('base64url');
  const user = await db.knex('users').where({ id: userId }).first('id');
  if (!user) throw notFound('User', userId);
  await db.knex('api_tokens').insert({ user_id: userId, token_hash: hashApiToken(token), name: name.slice(0, 100), created_at: db.now(), last_used_at: null });
  return token;
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
 * The active user a bearer token belongs to, or null (unknown token, suspended or deleted user).
 * One indexed query on the request path; a write only when last_used_at is over a minute old.
 */
export async function resolveApiToken(db: Database, token: string): Promise<AuthUser | null> {
  if (!token.startsWith(TOKEN_PREFIX) || token.length > 200) return null;
  const row = (await db
    .knex('api_tokens as t')
    .join('users as u', 'u.id', 't.user_id')
    .where('t.token_hash', hashApiToken(token))
    .andWhere('u.suspended', false)
    .andWhere('u.deleted', false)
    .first('t.id as token_id', 't.last_used_at', 'u.id', 'u.username', 'u.fullname', 'u.is_admin', 'u.lang', 'u.timezone')) as TokenRow | undefined;
  if (!row) return null;
  const now = db.now();
  if (row.last_used_at === null || Number(row.last_used_at) < now - LAST_USED_RESOLUTION_MS) {
    // Conditional so concurrent requests with one token write once, not once each.
    await db
      .knex('api_tokens')
      .where('id', row.token_id)
      .andWhere((q) => q.whereNull('last_used_at').orWhere('last_used_at', '<', now - LAST_USED_RESOLUTION_MS))
      .update({ last_used_at: now });
  }
  return {
    id: Number(row.id),
    username: row.username,
    fullname: row.fullname,
    isAdmin: Boolean(row.is_admin),
    lang: row.lang,
    timezone: row.timezone,
  };
}

/** Deletes a token given the token itself; true when one was deleted. */
export async function revokeApiToken(db: Database, token: string): Promise<boolean> {
  const deleted = await db.knex('api_tokens').where('token_hash', hashApiToken(token)).del();
  return deleted > 0;
}
