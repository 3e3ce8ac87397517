import crypto from 'node:crypto';
import type { Database } from '../db/database';

/** site_config key holding the generated session-signing secret (used when SESSION_SECRET is unset). */
export const SESSION_SECRET_SETTING = 'session_secret';

/**
 * The secret that signs session cookies, agreed by every process of a site: `SESSION_SECRET` when
 * set, otherwise one generated once and stored in `site_config`. Processes starting at the same
 * moment each offer a fresh secret with an insert-if-absent and all read back the one that won, so
 * a cookie signed by one web process verifies in every other one, and after a restart.
 *
 * One object per app; the value is read once and kept, because the stored secret never changes
 * while the site runs (rotating it means deleting the row, or setting SESSION_SECRET, and
 * restarting every process: it signs everyone out).
 */
export class SessionSecret {
  private pending: Promise<string> | undefined;
  private value: string | undefined;

  constructor(
    private readonly db: Database,
    /** SESSION_SECRET (or a test's fixed secret); undefined means "the stored one". */
    private readonly configured: string | undefined,
  ) {
    this.value = configured || undefined;
  }

  /** The secret, when already known (the configured one, or the stored one once read). */
  current(): string | undefined {
    return this.value;
  }

  /** The secret, reading or creating the stored one on first use. */
  get(): Promise<string> {
    if (this.value !== undefined) return Promise.resolve(this.value);
    this.pending ??= loadOrCreateSessionSecret(this.db).then(
      (secret) => (this.value = secret),
      (error: unknown) => {
        // A failed read (database briefly away) is retried by the next request.
        this.pending = undefined;
        throw error;
      },
    );
    return this.pending;
  }
}

/** Reads the stored session secret, creating it first if absent (race-free across processes). */
export async function loadOrCreateSessionSecret(db: Database): Promise<string> {
  const candidate = crypto.randomBytes(48).toString('base64url');
  await db.knex('site_config').insert({ name: SESSION_SECRET_SETTING, value: candidate, updated_at: db.now() }).onConflict('name').ignore();
  const row = (await db.knex('site_config').where({ name: SESSION_SECRET_SETTING }).first('value')) as { value: string } | undefined;
  if (!row?.value) throw new Error('The stored session secret could not be read back');
  return row.value;
}
