import type { Database } from '../db/database';
import { affectedRows } from '../db/sql';

/**
 * A named lease that one process holds at a time, renewed while it lives and taken over once it
 * lapses (a crashed holder blocks others for at most `ttlMs`). The job worker holds one on SQLite,
 * where the database admits one writer at a time: a second process claiming jobs only adds lock
 * handoffs (each waiter sleeps in SQLite's busy handler), so two processes drained the queue at half
 * the rate of one. With the lease the others stand by, ready to take over.
 */
/** The most a standby waits before taking a free lease (see held()). */
const TAKE_OVER_JITTER_MS = 25;

export class Lease {
  private heldUntil = 0;
  private lastAttempt = 0;

  constructor(
    private readonly db: Database,
    private readonly name: string,
    private readonly holder: string,
    private readonly ttlMs: number,
  ) {}

  /** Whether this process holds the lease now; takes or renews it when a third of its time has passed. */
  async held(): Promise<boolean> {
    const now = this.db.now();
    if (this.heldUntil - now > (this.ttlMs * 2) / 3) return true;
    // A standby asks at most a few times per lease period, however often it is woken.
    if (!this.heldUntil && now - this.lastAttempt < this.ttlMs / 10) return false;
    this.lastAttempt = now;
    const knex = this.db.knex;
    if (!this.heldUntil) {
      // A standby reads before it writes: while the holder lives, standing by costs no write. (A
      // write would wait in SQLite's busy handler behind the holder's claims, then hold up its next
      // claim in turn: that is how a second process used to slow the first down.)
      if (await this.heldElsewhere(now)) return false;
      // Free. Processes started together all see that at once: each waits a moment at random and
      // looks again, so the first to act takes it and the others stand by without having written.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * TAKE_OVER_JITTER_MS));
      if (await this.heldElsewhere(this.db.now())) return false;
    }
    await knex('worker_leases').insert({ name: this.name, holder: this.holder, expires_at: 0 }).onConflict('name').ignore();
    const taken = affectedRows(
      await knex.raw('UPDATE worker_leases SET holder = ?, expires_at = ? WHERE name = ? AND (holder = ? OR expires_at <= ?)', [
        this.holder,
        now + this.ttlMs,
        this.name,
        this.holder,
        now,
      ]),
    );
    this.heldUntil = taken ? now + this.ttlMs : 0;
    return taken > 0;
  }

  private async heldElsewhere(now: number): Promise<boolean> {
    const current = (await this.db.knex('worker_leases').where({ name: this.name }).first('holder', 'expires_at')) as
      { holder: string; expires_at: number | string } | undefined;
    return current !== undefined && current.holder !== this.holder && Number(current.expires_at) > now;
  }

  /** Gives the lease up at once (a clean stop), so a standby process takes over without waiting. */
  async release(): Promise<void> {
    if (!this.heldUntil) return;
    this.heldUntil = 0;
    await this.db.knex('worker_leases').where({ name: this.name, holder: this.holder }).update({ expires_at: 0 });
  }
}
