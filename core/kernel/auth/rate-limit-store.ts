import crypto from 'node:crypto';
import type { ClientRateLimitInfo, Options, Store } from 'express-rate-limit';
import type { Database } from '../db/database';
import type { KernelCore } from '../parts';

/** Longest key the `rate_limits.key` column holds as is. */
const KEY_LENGTH = 191;
const CLEANUP_BATCH = 1000;

/**
 * An express-rate-limit Store on the `rate_limits` table, so every server process of a site (and
 * every app built on one database) counts against the same budget. An increment is one atomic
 * upsert (a window that has ended starts again at 1) followed, in the same transaction, by reading
 * the row back: no read-then-write race on SQLite (IMMEDIATE write transactions) or MariaDB (the
 * upsert holds the row lock until commit).
 */
export class DatabaseRateLimitStore implements Store {
  /** Keys mean nothing outside the database, so express-rate-limit must not assume they are per process. */
  readonly localKeys = false;
  private windowMs = 60_000;
  private readonly upsertSql: string;

  constructor(
    private readonly db: Database,
    /** Distinguishes this limiter's keys from other limiters' in the shared table. */
    readonly prefix: string,
  ) {
    this.upsertSql =
      db.dialect === 'mysql'
        ? // Assignments run left to right: `hits` reads the old reset_at, which is assigned after it.
          'INSERT INTO rate_limits (`key`, hits, reset_at) VALUES (?, 1, ?) ON DUPLICATE KEY UPDATE hits = IF(reset_at <= ?, 1, hits + 1), reset_at = IF(reset_at <= ?, VALUES(reset_at), reset_at)'
        : 'INSERT INTO rate_limits ("key", hits, reset_at) VALUES (?, 1, ?) ON CONFLICT ("key") DO UPDATE SET hits = CASE WHEN rate_limits.reset_at <= ? THEN 1 ELSE rate_limits.hits + 1 END, reset_at = CASE WHEN rate_limits.reset_at <= ? THEN excluded.reset_at ELSE rate_limits.reset_at END';
  }

  init(options: Options): void {
    this.windowMs = options.windowMs;
  }

  async get(key: string): Promise<ClientRateLimitInfo | undefined> {
    const row = (await this.db
      .knex('rate_limits')
      .where({ key: this.keyOf(key) })
      .first('hits', 'reset_at')) as { hits: number; reset_at: number | string } | undefined;
    if (!row || Number(row.reset_at) <= this.db.now()) return undefined;
    return { totalHits: Number(row.hits), resetTime: new Date(Number(row.reset_at)) };
  }

  async increment(key: string): Promise<ClientRateLimitInfo> {
    const stored = this.keyOf(key);
    const now = this.db.now();
    const row = await this.db.transaction(async (trx) => {
      await trx.raw(this.upsertSql, [stored, now + this.windowMs, now, now]);
      return (await trx('rate_limits').where({ key: stored }).first('hits', 'reset_at')) as { hits: number; reset_at: number | string };
    });
    return { totalHits: Number(row.hits), resetTime: new Date(Number(row.reset_at)) };
  }

  async decrement(key: string): Promise<void> {
    await this.db
      .knex('rate_limits')
      .where({ key: this.keyOf(key) })
      .andWhere('hits', '>', 0)
      .decrement('hits', 1);
  }

  async resetKey(key: string): Promise<void> {
    await this.db
      .knex('rate_limits')
      .where({ key: this.keyOf(key) })
      .delete();
  }

  private keyOf(key: string): string {
    const full = `${this.prefix}${key}`;
    return full.length <= KEY_LENGTH ? full : `${this.prefix}sha256:${crypto.createHash('sha256').update(key).digest('hex')}`.slice(0, KEY_LENGTH);
  }
}

/** Deletes counters whose window has ended (they would restart at 1 anyway); returns how many went. */
export async function deleteExpiredRateLimits(db: Database, now = db.now()): Promise<number> {
  let total = 0;
  for (;;) {
    const keys = (await db.knex('rate_limits').where('reset_at', '<=', now).limit(CLEANUP_BATCH).pluck('key')) as string[];
    if (!keys.length) return total;
    total += await db.knex('rate_limits').whereIn('key', keys).andWhere('reset_at', '<=', now).delete();
    if (keys.length < CLEANUP_BATCH) return total;
  }
}

/** Name of the scheduled job that deletes ended rate-limit windows. */
export const RATE_LIMIT_CLEANUP_JOB = 'core.rate_limits_cleanup';

/** Declares the cleanup job and its schedule (hourly) on the site's queue. */
export function registerRateLimitCleanup(site: KernelCore): void {
  const registrar = site.jobs.registrarFor('core');
  registrar.define({ name: RATE_LIMIT_CLEANUP_JOB, handler: async () => ({ deleted: await deleteExpiredRateLimits(site.db) }) });
  registrar.schedule({ name: RATE_LIMIT_CLEANUP_JOB, cron: '7 * * * *', job: RATE_LIMIT_CLEANUP_JOB });
}
