import os from 'node:os';
import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { isRetryableConflict, isUniqueViolation, type Database, type Executor } from '../db/database';
import { WaymarkError, notFound } from '../errors';
import { isoOrNull as iso } from '../db/values';
import { placeholders, queryRows, runStatement } from '../db/statements';
import type { Logger } from '../logging';
import { Lease } from './lease';
import { assertCron, latestTick, nextTick, retryDelayMs } from './timing';
import type {
  DrainOptions,
  EnqueueOptions,
  JobContext,
  JobDefinition,
  JobHandler,
  JobListOptions,
  JobPage,
  JobRegistrar,
  JobState,
  JobStatus,
  JobWorker,
  ScheduleDefinition,
  WorkerOptions,
} from './types';

/** The worker handle returned by {@link JobQueue.startWorker}. */

const DEFAULT_MAX_ATTEMPTS = 5;
const DEFAULT_BACKOFF_MS = 1000;
const DEFAULT_LOCK_MS = 120_000;
const DEFAULT_POLL_MS = 1000;
/** How long a SQLite worker's lease lasts without renewal: a crashed holder's jobs wait at most this. */
const WORKER_LEASE_MS = 10_000;
/** How often a standby worker (SQLite, lease held elsewhere) looks again. */
const STANDBY_POLL_MS = 1000;
const MAX_ERROR_CHARS = 8000;
const INSERT_CHUNK = 500;
const FLUSH_CHUNK = 200;
const DRAIN_BATCH = 10;
/** Upper bound on jobs claimed in one statement (a worker never claims more than its free slots). */
const MAX_CLAIM_BATCH = 200;
/** How long a worker buffers finished jobs' outcomes, hoping its next claim carries them. */
const WORKER_FLUSH_DELAY_MS = 5;
export const JOB_STATES: readonly JobState[] = ['queued', 'running', 'done', 'dead'];
const DEFAULT_LIST_LIMIT = 50;
const MAX_LIST_LIMIT = 200;
const NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,149}$/;

interface Definition {
  owner: string;
  name: string;
  handler: JobHandler<unknown>;
  maxAttempts?: number;
  backoffMs: number;
}

interface Schedule extends ScheduleDefinition {
  owner: string;
}

interface ClaimedJob {
  id: number;
  name: string;
  payload: string | null;
  /** Including the attempt just claimed. */
  attempts: number;
  maxAttempts: number;
}

type Outcome =
  | { id: number; kind: 'done'; result: string }
  | { id: number; kind: 'retry'; runAt: number; error: string }
  | { id: number; kind: 'dead'; error: string }
  /** The handler vanished between claim and run (owner removed): give the attempt back. */
  | { id: number; kind: 'release' };

interface JobRow {
  id: number;
  name: string;
  state: JobState;
  attempts: number;
  max_attempts: number;
  progress_done: number | null;
  progress_total: number | null;
  progress_message: string | null;
  result: string | null;
  last_error: string | null;
  run_at: number | string;
  created_at: number | string;
  started_at: number | string | null;
  finished_at: number | string | null;
}

function toStatus(row: JobRow): JobStatus {
  return {
    id: Number(row.id),
    name: row.name,
    state: row.state,
    attempts: Number(row.attempts),
    maxAttempts: Number(row.max_attempts),
    progress:
      row.progress_total === null || row.progress_total === undefined
        ? null
        : { done: Number(row.progress_done ?? 0), total: Number(row.progress_total), message: row.progress_message ?? null },
    result: row.result === null || row.result === undefined ? null : JSON.parse(row.result),
    lastError: row.last_error ?? null,
    runAt: iso(row.run_at) as string,
    createdAt: iso(row.created_at) as string,
    startedAt: iso(row.started_at),
    finishedAt: iso(row.finished_at),
  };
}

function errorText(error: unknown): string {
  const text = error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error);
  return text.length > MAX_ERROR_CHARS ? `${text.slice(0, MAX_ERROR_CHARS)}…` : text;
}

function toJson(value: unknown, what: string): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(value === undefined ? null : value);
  } catch (error) {
    throw new WaymarkError('JOB_PAYLOAD_INVALID', `${what} is not JSON-serialisable: ${(error as Error).message}`, 422);
  }
  if (json === undefined) throw new WaymarkError('JOB_PAYLOAD_INVALID', `${what} is not JSON-serialisable`, 422);
  return json;
}

function assertInteger(value: unknown, field: string, min: number, max: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new WaymarkError('JOB_OPTIONS_INVALID', `${field} must be an integer between ${min} and ${max}`, 422, [
      { path: field, message: `got ${String(value)}` },
    ]);
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface PendingOutcome {
  outcome: Outcome;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Writes job outcomes in batches. Outcomes wait up to `delayMs` (0: until the next macrotask) or
 * until FLUSH_CHUNK of them are pending, then go out in one transaction; a worker's next claim
 * takes whatever is pending and writes it in the claim's own transaction (see Runner.claim), so a
 * busy worker pays one commit (one fsync on MySQL) per batch for completing and claiming together.
 */
class OutcomeWriter {
  private pending: PendingOutcome[] = [];
  private flushing: Promise<void> | null = null;
  /** Cancels the scheduled flush, when one is scheduled. */
  private cancelTimer: (() => void) | null = null;

  constructor(
    private readonly db: Database,
    private readonly workerId: string,
    private readonly logger: Logger,
    private readonly delayMs: number,
  ) {}

  write(outcome: Outcome): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ outcome, resolve, reject });
      this.schedule();
    });
  }

  /** Hands the pending outcomes to a caller that writes them in its own transaction. */
  take(): PendingOutcome[] {
    if (this.pending.length === 0) return [];
    const taken = this.pending.splice(0, FLUSH_CHUNK);
    if (this.pending.length === 0) this.unschedule();
    return taken;
  }

  /** Takes back outcomes whose carrying transaction failed; they are written on their own. */
  giveBack(batch: PendingOutcome[]): void {
    this.pending.unshift(...batch);
    this.schedule();
  }

  private schedule(): void {
    if (this.flushing) return;
    if (this.pending.length >= FLUSH_CHUNK) {
      this.unschedule();
      this.flushNow();
      return;
    }
    if (this.cancelTimer) return;
    const fire = () => {
      this.cancelTimer = null;
      this.flushNow();
    };
    // setTimeout(0) would still wait ~1 ms; setImmediate lets jobs finishing in the same tick share the transaction.
    if (this.delayMs > 0) {
      const timer = setTimeout(fire, this.delayMs);
      this.cancelTimer = () => clearTimeout(timer);
    } else {
      const immediate = setImmediate(fire);
      this.cancelTimer = () => clearImmediate(immediate);
    }
  }

  private unschedule(): void {
    this.cancelTimer?.();
    this.cancelTimer = null;
  }

  private flushNow(): void {
    if (this.flushing || this.pending.length === 0) return;
    this.flushing = this.flushAll().finally(() => {
      this.flushing = null;
      if (this.pending.length > 0) this.schedule();
    });
  }

  private async flushAll(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, FLUSH_CHUNK);
      try {
        const lost = await this.db.transaction((trx) =>
          persistOutcomes(
            trx,
            this.workerId,
            this.db.now(),
            batch.map((b) => b.outcome),
          ),
        );
        settleOutcomes(batch, this.logger, this.workerId, lost);
      } catch (error) {
        settleOutcomes(batch, this.logger, this.workerId, 0, error);
      }
    }
  }
}

/**
 * Writes outcomes of jobs this worker holds, in the caller's transaction; returns how many were
 * not written because the job is no longer ours. Safe to repeat when the transaction is retried.
 */
async function persistOutcomes(trx: Knex.Transaction, workerId: string, now: number, outcomes: Outcome[]): Promise<number> {
  if (outcomes.length === 0) return 0;
  // Raw statements (cached prepared statements on SQLite): this runs once per claimed batch.
  const released = 'locked_by = NULL, lock_expires_at = NULL, updated_at = ?';
  const owned = (n: number) => `WHERE id IN (${placeholders(n)}) AND locked_by = ? AND state = 'running'`;
  let lost = 0;
  // Most jobs return nothing: one UPDATE per distinct result covers them all.
  const doneByResult = new Map<string, number[]>();
  for (const o of outcomes) {
    if (o.kind === 'done') {
      const ids = doneByResult.get(o.result) ?? [];
      ids.push(o.id);
      doneByResult.set(o.result, ids);
    }
  }
  for (const [result, ids] of doneByResult) {
    // Keys are released by a separate statement touching only rows that have one: SQLite rewrites
    // every index whose column is SET, even to the same NULL, and most jobs have no key.
    await runStatement(trx, `UPDATE jobs SET dedupe_key = NULL ${owned(ids.length)} AND dedupe_key IS NOT NULL`, [...ids, workerId]);
    const n = await runStatement(trx, `UPDATE jobs SET state = 'done', result = ?, finished_at = ?, ${released} ${owned(ids.length)}`, [
      result,
      now,
      now,
      ...ids,
      workerId,
    ]);
    lost += ids.length - n;
  }
  // Failures stay one statement per job: each has its own error text and backoff.
  for (const o of outcomes) {
    let n = 1;
    if (o.kind === 'retry') {
      n = await runStatement(trx, `UPDATE jobs SET state = 'queued', run_at = ?, last_error = ?, ${released} ${owned(1)}`, [
        o.runAt,
        o.error,
        now,
        o.id,
        workerId,
      ]);
    } else if (o.kind === 'dead') {
      n = await runStatement(trx, `UPDATE jobs SET state = 'dead', last_error = ?, finished_at = ?, dedupe_key = NULL, ${released} ${owned(1)}`, [
        o.error,
        now,
        now,
        o.id,
        workerId,
      ]);
    } else if (o.kind === 'release') {
      n = await runStatement(trx, `UPDATE jobs SET state = 'queued', attempts = attempts - 1, ${released} ${owned(1)}`, [now, o.id, workerId]);
    }
    lost += 1 - n;
  }
  return lost;
}

function settleOutcomes(batch: PendingOutcome[], logger: Logger, workerId: string, lost: number, error?: unknown): void {
  if (error !== undefined) {
    for (const b of batch) b.reject(error);
    return;
  }
  if (lost > 0) {
    // Another process recovered these jobs after our lock expired (a stalled event loop?): its
    // copy of the job owns the row now, so our outcome is dropped rather than overwriting it.
    logger.warn('job outcome discarded: lock lost', { workerId, count: lost });
  }
  for (const b of batch) b.resolve();
}

/**
 * Claims and runs jobs under one lock owner id (a worker or a drain call), heartbeating the locks
 * of everything it has in flight.
 */
class Runner {
  readonly inFlight = new Set<number>();
  private readonly writer: OutcomeWriter;
  private heartbeat: NodeJS.Timeout | null = null;

  constructor(
    private readonly queue: JobQueue,
    private readonly db: Database,
    private readonly logger: Logger,
    readonly workerId: string,
    private readonly lockMs: number,
    flushDelayMs: number,
  ) {
    this.writer = new OutcomeWriter(db, workerId, logger, flushDelayMs);
  }

  startHeartbeat(): void {
    if (this.heartbeat) return;
    this.heartbeat = setInterval(
      () => {
        void this.extendLocks().catch((error) => this.logger.warn('job lock heartbeat failed', { workerId: this.workerId, error: errorText(error) }));
      },
      Math.max(250, Math.floor(this.lockMs / 4)),
    );
    this.heartbeat.unref();
  }

  stopHeartbeat(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
  }

  private async extendLocks(): Promise<void> {
    const ids = [...this.inFlight];
    if (ids.length === 0) return;
    const now = this.db.now();
    await this.db
      .knex('jobs')
      .whereIn('id', ids)
      .andWhere({ locked_by: this.workerId, state: 'running' })
      .update({ lock_expires_at: now + this.lockMs, updated_at: now });
  }

  /**
   * Claims up to `limit` runnable jobs whose names are in `names`, in order of priority (highest
   * first), run_at, id. Outcomes waiting to be written go out in the same transaction.
   */
  async claim(names: string[], limit: number, skipBackoff = false): Promise<ClaimedJob[]> {
    const carried = this.writer.take();
    if ((names.length === 0 || limit <= 0) && carried.length === 0) return [];
    const now = this.db.now();
    const namePlaceholders = names.length === 0 ? '' : placeholders(names.length);
    // drain() may run retries before their backoff ends; a future runAt given at enqueue still waits.
    const due = skipBackoff ? '(run_at <= ? OR attempts > 0)' : 'run_at <= ?';
    const lockExpires = now + this.lockMs;
    const take = names.length === 0 ? 0 : Math.max(0, Math.min(limit, MAX_CLAIM_BATCH));
    const outcomes = carried.map((c) => c.outcome);
    let result: { rows: ClaimedJob[]; lost: number };
    try {
      result =
        this.db.dialect === 'mysql'
          ? await this.claimMysql(outcomes, names, namePlaceholders, due, now, take, lockExpires)
          : await this.claimSqlite(outcomes, names, namePlaceholders, due, now, take, lockExpires);
    } catch (error) {
      if (carried.length > 0) this.writer.giveBack(carried);
      throw error;
    }
    settleOutcomes(carried, this.logger, this.workerId, result.lost);
    for (const row of result.rows) this.inFlight.add(row.id);
    return result.rows;
  }

  /**
   * A cheap, lock-free look for runnable work (an index probe, no write transaction): an idle worker
   * asks this before claiming, so polling an empty queue neither takes SQLite's write lock nor
   * commits on MySQL.
   */
  async hasRunnable(names: string[]): Promise<boolean> {
    if (names.length === 0) return false;
    const row = await this.db.knex('jobs').where('state', 'queued').andWhere('run_at', '<=', this.db.now()).whereIn('name', names).first('id');
    return row !== undefined;
  }

  private async claimMysql(
    outcomes: Outcome[],
    names: string[],
    namePlaceholders: string,
    due: string,
    now: number,
    limit: number,
    lockExpires: number,
  ): Promise<{ rows: ClaimedJob[]; lost: number }> {
    for (let attempt = 0; ; attempt++) {
      try {
        // READ COMMITTED: no gap locks, so a claim never blocks a concurrent enqueue.
        return await this.db.knex.transaction(
          async (trx) => {
            const lost = await persistOutcomes(trx, this.workerId, now, outcomes);
            if (limit === 0) return { rows: [], lost };
            const rows = await queryRows<{ id: number; name: string; payload: string | null; attempts: number; max_attempts: number }>(
              trx,
              `SELECT id, name, payload, attempts, max_attempts FROM jobs
               WHERE state = 'queued' AND ${due} AND name IN (${namePlaceholders})
               ORDER BY priority DESC, run_at, id LIMIT ? FOR UPDATE SKIP LOCKED`,
              [now, ...names, limit],
            );
            if (rows.length === 0) return { rows: [], lost };
            await runStatement(
              trx,
              `UPDATE jobs SET state = 'running', locked_by = ?, lock_expires_at = ?, attempts = attempts + 1,
                 started_at = COALESCE(started_at, ?), progress_done = NULL, progress_total = NULL, progress_message = NULL, updated_at = ?
               WHERE id IN (${placeholders(rows.length)})`,
              [this.workerId, lockExpires, now, now, ...rows.map((r) => r.id)],
            );
            return { rows: rows.map((r) => ({ id: r.id, name: r.name, payload: r.payload, attempts: r.attempts + 1, maxAttempts: r.max_attempts })), lost };
          },
          { isolationLevel: 'read committed' },
        );
      } catch (error) {
        if (attempt >= 5 || !isRetryableConflict(error)) throw error;
        await sleep(Math.round(10 * 2 ** attempt * (0.5 + Math.random())));
      }
    }
  }

  private async claimSqlite(
    outcomes: Outcome[],
    names: string[],
    namePlaceholders: string,
    due: string,
    now: number,
    limit: number,
    lockExpires: number,
  ): Promise<{ rows: ClaimedJob[]; lost: number }> {
    // SQLite has one writer at a time (BEGIN IMMEDIATE), so the conditional update cannot race.
    return this.db.transaction(async (trx) => {
      const lost = await persistOutcomes(trx, this.workerId, now, outcomes);
      if (limit === 0) return { rows: [], lost };
      const rows = await queryRows<{
        id: number;
        name: string;
        payload: string | null;
        attempts: number;
        max_attempts: number;
        priority: number;
        run_at: number;
      }>(
        trx,
        `UPDATE jobs SET state = 'running', locked_by = ?, lock_expires_at = ?, attempts = attempts + 1,
           started_at = COALESCE(started_at, ?), progress_done = NULL, progress_total = NULL, progress_message = NULL, updated_at = ?
         WHERE state = 'queued' AND id IN (
           SELECT id FROM jobs WHERE state = 'queued' AND ${due} AND name IN (${namePlaceholders})
           ORDER BY priority DESC, run_at, id LIMIT ?)
         RETURNING id, name, payload, attempts, max_attempts, priority, run_at`,
        [this.workerId, lockExpires, now, now, now, ...names, limit],
      );
      // RETURNING gives rows in no promised order: run them in claim order.
      rows.sort((a, b) => b.priority - a.priority || a.run_at - b.run_at || a.id - b.id);
      return { rows: rows.map((r) => ({ id: r.id, name: r.name, payload: r.payload, attempts: r.attempts, maxAttempts: r.max_attempts })), lost };
    });
  }

  /** Runs one claimed job and persists its outcome. */
  async run(job: ClaimedJob, onExecuted?: () => void): Promise<Outcome['kind']> {
    try {
      const outcome = await this.execute(job);
      onExecuted?.();
      await this.writer.write(outcome);
      return outcome.kind;
    } finally {
      this.inFlight.delete(job.id);
    }
  }

  private async execute(job: ClaimedJob): Promise<Outcome> {
    const definition = this.queue.definitionOf(job.name);
    if (!definition) return { id: job.id, kind: 'release' };
    // A child logger per job is made only when something logs: most jobs never do.
    let jobLogger: Logger | null = null;
    const log = () => (jobLogger ??= this.logger.child({ job: job.name, jobId: job.id, attempt: job.attempts }));
    const context: JobContext<unknown> = {
      id: job.id,
      name: job.name,
      payload: job.payload === null ? null : JSON.parse(job.payload),
      attempt: job.attempts,
      get logger() {
        return log();
      },
      progress: (done, total, message) => this.progress(job.id, done, total, message),
    };
    const started = Date.now();
    try {
      const value = await definition.handler(context);
      let result = 'null';
      if (value !== undefined && value !== null) {
        try {
          result = toJson(value, 'result');
        } catch {
          log().warn('job result is not JSON-serialisable; stored as null');
        }
      }
      if (this.logger.isDebugEnabled()) log().debug('job done', { ms: Date.now() - started });
      return { id: job.id, kind: 'done', result };
    } catch (error) {
      const text = errorText(error);
      if (job.attempts >= job.maxAttempts) {
        log().error('job failed; no attempts left, now dead', { error: text, attempts: job.attempts });
        return { id: job.id, kind: 'dead', error: text };
      }
      const delay = retryDelayMs(definition.backoffMs, job.attempts);
      log().warn('job failed; will retry', { error: text, attempts: job.attempts, retryInMs: delay });
      return { id: job.id, kind: 'retry', runAt: this.db.now() + delay, error: text };
    }
  }

  private async progress(id: number, done: number, total: number, message?: string): Promise<void> {
    if (!Number.isFinite(done) || !Number.isFinite(total) || done < 0 || total < 0) {
      throw new WaymarkError('JOB_PROGRESS_INVALID', `progress(${done}, ${total}) needs two non-negative numbers`, 422);
    }
    const now = this.db.now();
    // Progress doubles as a heartbeat: a job reporting progress is alive.
    await this.db
      .knex('jobs')
      .where({ id, locked_by: this.workerId, state: 'running' })
      .update({
        progress_done: Math.round(done),
        progress_total: Math.round(total),
        progress_message: message === undefined ? null : String(message).slice(0, 255),
        lock_expires_at: now + this.lockMs,
        updated_at: now,
      });
  }
}

class WorkerLoop implements JobWorker {
  private running = true;
  /** Jobs whose handler is running. */
  private readonly slots = new Set<Promise<void>>();
  /** Jobs not finished until their outcome is written (a superset of slots). */
  private readonly writing = new Set<Promise<unknown>>();
  private wakeUp: (() => void) | null = null;
  private woken = false;
  private wokenByEnqueue = false;
  private readonly done: Promise<void>;

  constructor(
    private readonly queue: JobQueue,
    private readonly runner: Runner,
    private readonly logger: Logger,
    private readonly concurrency: number,
    private readonly pollMs: number,
    private readonly recoverEveryMs: number,
    /** On SQLite, the lease that lets one worker at a time claim (see Lease). */
    private readonly lease: Lease | null,
  ) {
    this.runner.startHeartbeat();
    this.done = this.loop();
  }

  get id(): string {
    return this.runner.workerId;
  }

  /** Ends an idle wait early because this process enqueued work: claim without probing first. */
  wakeForWork(): void {
    this.wokenByEnqueue = true;
    this.wake();
  }

  /** Ends an idle wait early (new local work, a finished job, stop()). */
  wake(): void {
    const wake = this.wakeUp;
    this.wakeUp = null;
    if (wake) wake();
    else this.woken = true; // the loop is busy claiming: make its next wait return at once
  }

  private wait(ms: number): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.wake(), ms);
      this.wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private async loop(): Promise<void> {
    let lastRecovery = 0;
    let idle = false;
    while (this.running) {
      if (Date.now() - lastRecovery >= this.recoverEveryMs) {
        lastRecovery = Date.now();
        await this.queue.recoverStale().catch((error) => this.logger.warn('stale job recovery failed', { error: errorText(error) }));
      }
      const free = this.concurrency - this.slots.size;
      if (free <= 0) {
        await Promise.race(this.slots);
        // Let every job finishing in this tick free its slot, so the next claim is one full batch
        // (carrying all their outcomes) rather than one job at a time.
        await new Promise<void>((resolve) => setImmediate(resolve));
        continue;
      }
      if (this.writing.size >= this.concurrency * 4) {
        // Outcome writes are falling behind: stop claiming until they catch up.
        await Promise.race(this.writing);
        continue;
      }
      let claimed = 0;
      try {
        if (this.lease && !(await this.lease.held())) {
          // Standing by: another worker holds the site's lease; take over when it lapses. The lease
          // is asked about at most once a second however short the poll, so waking sooner would only
          // take CPU from the holder (a stop() or a local enqueue still wakes this at once).
          if (!this.running) break;
          await this.wait(STANDBY_POLL_MS);
          continue;
        }
        const names = this.queue.handlerNames();
        // An idle worker looks before it claims: an empty poll then costs one indexed read.
        if (idle && !this.wokenByEnqueue && !(await this.runner.hasRunnable(names))) {
          if (!this.running) break;
          await this.wait(this.pollMs);
          continue;
        }
        this.wokenByEnqueue = false;
        const jobs = await this.runner.claim(names, free);
        claimed = jobs.length;
        for (const job of jobs) {
          // The slot frees when the handler returns, so the next claim overlaps the outcome write.
          let freeSlot!: () => void;
          const slot = new Promise<void>((resolve) => (freeSlot = resolve));
          this.slots.add(slot);
          const release = () => {
            if (this.slots.delete(slot)) freeSlot();
          };
          const writing: Promise<unknown> = this.runner
            .run(job, release)
            .catch((error) =>
              this.logger.error('job outcome could not be saved; the lock will expire and the job be retried', { jobId: job.id, error: errorText(error) }),
            )
            .finally(() => {
              release();
              this.writing.delete(writing);
            });
          this.writing.add(writing);
        }
      } catch (error) {
        this.logger.warn('job claim failed', { workerId: this.id, error: errorText(error) });
      }
      if (!this.running) break;
      idle = claimed < free;
      if (idle) await this.wait(this.pollMs);
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake();
    await this.done;
    await Promise.allSettled(this.writing);
    await this.lease?.release().catch((error) => this.logger.warn('worker lease release failed', { error: errorText(error) }));
    this.runner.stopHeartbeat();
    this.queue.forgetWorker(this);
  }
}

/**
 * The database-backed job queue: definitions and schedules declared in code by owners ('core' or a
 * plugin id), jobs and schedule bookkeeping in the `jobs` / `job_schedules` tables. Any number of
 * processes may enqueue, run workers and run schedules against one database.
 */
export class JobQueue {
  private readonly definitions = new Map<string, Definition>();
  private readonly schedules = new Map<string, Schedule>();
  private readonly workers = new Set<WorkerLoop>();

  constructor(
    private readonly db: Database,
    private readonly logger: Logger,
  ) {}

  /** What `register()` of `owner` may declare; everything is recorded against `owner` for removeOwner(). */
  registrarFor(owner: string, options: { namespaced?: boolean } = {}): JobRegistrar {
    // Plugin names are namespaced by their id; core modules keep the names stored jobs already carry.
    const namespaced = options.namespaced ?? owner !== 'core';
    return {
      define: <Payload>(definition: JobDefinition<Payload>) => this.define(owner, namespaced, definition as unknown as JobDefinition<unknown>),
      schedule: (definition: ScheduleDefinition) => this.addSchedule(owner, namespaced, definition),
    };
  }

  /**
   * Forgets every job handler and schedule of `owner` at once. Its queued jobs stay queued (no
   * worker of this process claims them any more); jobs already running finish.
   */
  removeOwner(owner: string): void {
    for (const [name, d] of this.definitions) if (d.owner === owner) this.definitions.delete(name);
    for (const [name, s] of this.schedules) if (s.owner === owner) this.schedules.delete(name);
  }

  /** Names of the jobs this process can run. */
  handlerNames(): string[] {
    return [...this.definitions.keys()];
  }

  /** Names of the schedules declared in this process. */
  scheduleNames(): string[] {
    return [...this.schedules.keys()];
  }

  /** @internal */
  definitionOf(name: string): Definition | undefined {
    return this.definitions.get(name);
  }

  /** @internal */
  forgetWorker(worker: WorkerLoop): void {
    this.workers.delete(worker);
  }

  private assertName(kind: 'Job' | 'Schedule', owner: string, namespaced: boolean, name: unknown): asserts name is string {
    const code = kind === 'Job' ? 'JOB_NAME_INVALID' : 'SCHEDULE_NAME_INVALID';
    if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
      throw new WaymarkError(code, `${kind} name "${String(name)}" is invalid: use letters, digits, _ . : - (at most 150)`, 422);
    }
    if (namespaced && !name.startsWith(`${owner}.`)) {
      throw new WaymarkError(code, `${kind} "${name}" of plugin ${owner} must be named "${owner}.<name>"`, 422);
    }
  }

  private define(owner: string, namespaced: boolean, definition: JobDefinition<unknown>): void {
    this.assertName('Job', owner, namespaced, definition?.name);
    if (typeof definition.handler !== 'function') throw new WaymarkError('JOB_DEFINITION_INVALID', `Job "${definition.name}" needs a handler function`, 422);
    if (definition.maxAttempts !== undefined) assertInteger(definition.maxAttempts, 'maxAttempts', 1, 1000);
    if (definition.backoffMs !== undefined) assertInteger(definition.backoffMs, 'backoffMs', 0, 86_400_000);
    const existing = this.definitions.get(definition.name);
    if (existing) throw new WaymarkError('JOB_DUPLICATE', `Job "${definition.name}" is already defined by ${existing.owner}`, 409);
    this.definitions.set(definition.name, {
      owner,
      name: definition.name,
      handler: definition.handler,
      maxAttempts: definition.maxAttempts,
      backoffMs: definition.backoffMs ?? DEFAULT_BACKOFF_MS,
    });
  }

  private addSchedule(owner: string, namespaced: boolean, definition: ScheduleDefinition): void {
    this.assertName('Schedule', owner, namespaced, definition?.name);
    assertCron(definition.name, definition.cron);
    if (typeof definition.job !== 'string' || !NAME_PATTERN.test(definition.job)) {
      throw new WaymarkError('SCHEDULE_JOB_INVALID', `Schedule "${definition.name}" names no valid job`, 422);
    }
    if (definition.payload !== undefined) toJson(definition.payload, `Payload of schedule "${definition.name}"`);
    const existing = this.schedules.get(definition.name);
    if (existing) throw new WaymarkError('SCHEDULE_DUPLICATE', `Schedule "${definition.name}" is already declared by ${existing.owner}`, 409);
    this.schedules.set(definition.name, { ...definition, cron: definition.cron.trim(), owner });
  }

  private buildRow(name: string, payload: unknown, options: EnqueueOptions, now: number): Record<string, unknown> {
    const definition = this.definitions.get(name);
    if (!definition) throw new WaymarkError('JOB_UNKNOWN', `No job named "${String(name)}" is defined`, 422);
    if (options.runAt !== undefined) assertInteger(options.runAt, 'runAt', 0, 8_640_000_000_000);
    if (options.priority !== undefined) assertInteger(options.priority, 'priority', -1_000_000, 1_000_000);
    if (options.maxAttempts !== undefined) assertInteger(options.maxAttempts, 'maxAttempts', 1, 1000);
    if (options.dedupeKey !== undefined && (typeof options.dedupeKey !== 'string' || options.dedupeKey.length === 0 || options.dedupeKey.length > 191)) {
      throw new WaymarkError('JOB_OPTIONS_INVALID', 'dedupeKey must be a string of 1 to 191 characters', 422, [{ path: 'dedupeKey', message: 'invalid' }]);
    }
    return {
      name,
      payload: toJson(payload, `Payload of job "${name}"`),
      state: 'queued',
      priority: options.priority ?? 0,
      run_at: options.runAt ?? now,
      attempts: 0,
      max_attempts: options.maxAttempts ?? definition.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
      dedupe_key: options.dedupeKey ?? null,
      created_at: now,
      updated_at: now,
    };
  }

  /**
   * Queues a job and returns its id. With `options.trx` the row is written in the caller's
   * transaction (outbox): it exists only if the caller commits. With `dedupeKey`, while a job with
   * that key is queued or running a second enqueue returns the existing job's id instead.
   */
  async enqueue(name: string, payload?: unknown, options: EnqueueOptions = {}): Promise<number> {
    const row = this.buildRow(name, payload, options, this.db.now());
    const executor: Executor = options.trx ?? this.db.knex;
    const id = options.dedupeKey === undefined ? await this.insert(executor, row) : await this.insertDeduped(executor, row, options.dedupeKey);
    if (!options.trx) this.wakeWorkers();
    return id;
  }

  /**
   * Queues one job per payload with multi-row inserts (all or nothing); returns how many were
   * queued. No dedupe key: use enqueue() for deduplicated jobs.
   */
  async enqueueMany(name: string, payloads: readonly unknown[], options: Omit<EnqueueOptions, 'dedupeKey'> = {}): Promise<number> {
    const now = this.db.now();
    const rows = payloads.map((payload) => this.buildRow(name, payload, { ...options, dedupeKey: undefined }, now));
    if (rows.length === 0) return 0;
    await this.db.transaction(
      async (trx) => {
        for (let i = 0; i < rows.length; i += INSERT_CHUNK) await trx('jobs').insert(rows.slice(i, i + INSERT_CHUNK));
      },
      { within: options.trx },
    );
    if (!options.trx) this.wakeWorkers();
    return rows.length;
  }

  private async insert(executor: Executor, row: Record<string, unknown>): Promise<number> {
    const [id] = (await executor('jobs').insert(row)) as number[];
    return Number(id);
  }

  private async insertDeduped(executor: Executor, row: Record<string, unknown>, key: string): Promise<number> {
    // The unique index decides; the loop covers the holder finishing between our insert and read.
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        return await this.insert(executor, row);
      } catch (error) {
        if (!isUniqueViolation(error)) throw error;
      }
      // A locking read on MySQL sees the latest committed row even inside an older snapshot.
      const query = executor('jobs').where('dedupe_key', key).first('id');
      const existing = (await (this.db.dialect === 'mysql' ? query.forShare() : query)) as { id: number } | undefined;
      if (existing) return Number(existing.id);
    }
    throw new WaymarkError('JOB_DEDUPE_CONFLICT', `Could not enqueue job with dedupe key "${key}": it keeps changing hands`, 409);
  }

  private wakeWorkers(): void {
    for (const worker of this.workers) worker.wakeForWork();
  }

  /** The job's state, attempts, progress and result, or null when there is no such job. */
  async status(id: number): Promise<JobStatus | null> {
    if (!Number.isSafeInteger(id) || id <= 0) return null;
    const row = (await this.db.knex('jobs').where('id', id).first()) as JobRow | undefined;
    return row ? toStatus(row) : null;
  }

  /** How many jobs are in each state (every state listed, zero included). */
  async countByState(): Promise<Record<JobState, number>> {
    const rows = (await this.db.knex('jobs').select('state').count({ n: '*' }).groupBy('state')) as Array<{ state: string; n: number | string }>;
    const counts = Object.fromEntries(JOB_STATES.map((state) => [state, 0])) as Record<JobState, number>;
    for (const row of rows) if ((JOB_STATES as readonly string[]).includes(row.state)) counts[row.state as JobState] = Number(row.n);
    return counts;
  }

  /**
   * Jobs newest first (by id), optionally in one state, a page at a time: pass the previous page's
   * `nextCursor` to get the next. Keyset paging, so a page costs the same however deep it is.
   */
  async list(options: JobListOptions = {}): Promise<JobPage> {
    const limit = options.limit ?? DEFAULT_LIST_LIMIT;
    assertInteger(limit, 'limit', 1, MAX_LIST_LIMIT);
    if (options.state !== undefined && !JOB_STATES.includes(options.state)) {
      throw new WaymarkError('JOB_OPTIONS_INVALID', `state must be one of ${JOB_STATES.join(', ')}`, 422, [
        { path: 'state', message: `got ${String(options.state)}` },
      ]);
    }
    let before: number | null = null;
    if (options.cursor !== undefined) {
      before = /^[1-9][0-9]{0,15}$/.test(options.cursor) ? Number(options.cursor) : NaN;
      if (!Number.isSafeInteger(before))
        throw new WaymarkError('JOB_OPTIONS_INVALID', 'cursor is not one this API returned', 422, [{ path: 'cursor', message: 'invalid' }]);
    }
    const query = this.db
      .knex('jobs')
      .orderBy('id', 'desc')
      .limit(limit + 1);
    if (options.state !== undefined) query.where('state', options.state);
    if (before !== null) query.where('id', '<', before);
    const rows = (await query) as JobRow[];
    const items = rows.slice(0, limit).map(toStatus);
    return { items, nextCursor: rows.length > limit ? String(items[items.length - 1]!.id) : null };
  }

  /**
   * Puts a dead job back in the queue with a fresh set of attempts, due now. Its last error stays
   * until the next attempt overwrites it. Throws 404 for no such job and 409 JOB_NOT_DEAD unless the
   * job is dead (a queued or running job is already going to run; a done one ran).
   */
  async retry(id: number): Promise<JobStatus> {
    const now = this.db.now();
    const changed =
      Number.isSafeInteger(id) && id > 0
        ? await this.db.knex('jobs').where({ id, state: 'dead' }).update({
            state: 'queued',
            attempts: 0,
            run_at: now,
            locked_by: null,
            lock_expires_at: null,
            finished_at: null,
            progress_done: null,
            progress_total: null,
            progress_message: null,
            updated_at: now,
          })
        : 0;
    const status = await this.status(id);
    if (!status) throw notFound('Job', id);
    if (changed === 0) throw new WaymarkError('JOB_NOT_DEAD', `Job ${id} is ${status.state}, not dead: only a dead job can be retried`, 409);
    this.logger.info('dead job put back in the queue', { jobId: id, job: status.name });
    this.wakeWorkers();
    return status;
  }

  private newRunner(prefix: string, workerId: string | undefined, lockMs: number, flushDelayMs: number): Runner {
    const id = (workerId ?? `${prefix}${os.hostname()}:${process.pid}:${crypto.randomBytes(3).toString('hex')}`).slice(0, 100);
    return new Runner(this, this.db, this.logger, id, lockMs, flushDelayMs);
  }

  /**
   * Runs every runnable job in this process, one at a time, until nothing is runnable (jobs queued by
   * handlers included). Retry backoff counts as elapsed unless `skipBackoff: false`; jobs enqueued
   * for a future runAt are left alone. Returns how many jobs finished done and how many went dead.
   */
  async drain(options: DrainOptions = {}): Promise<{ done: number; dead: number }> {
    const deadline = Date.now() + (options.timeoutMs ?? 60_000);
    const skipBackoff = options.skipBackoff ?? true;
    const runner = this.newRunner('drain:', undefined, DEFAULT_LOCK_MS, 0);
    await this.recoverStale();
    let done = 0;
    let dead = 0;
    runner.startHeartbeat();
    try {
      for (;;) {
        if (Date.now() > deadline) {
          throw new WaymarkError(
            'JOB_DRAIN_TIMEOUT',
            `drain() still had runnable jobs after ${options.timeoutMs ?? 60_000} ms (${done} done, ${dead} dead)`,
            500,
          );
        }
        const names = this.handlerNames();
        const jobs = await runner.claim(names, DRAIN_BATCH, skipBackoff);
        if (jobs.length === 0) break;
        const remaining = options.onProgress ? await this.countRunnable(names, skipBackoff) : 0;
        for (const [index, job] of jobs.entries()) {
          const kind = await runner.run(job);
          if (kind === 'done') done++;
          else if (kind === 'dead') dead++;
          options.onProgress?.(done + dead, done + dead + remaining + jobs.length - index - 1);
        }
      }
    } finally {
      runner.stopHeartbeat();
    }
    return { done, dead };
  }

  private async countRunnable(names: string[], skipBackoff: boolean): Promise<number> {
    const now = this.db.now();
    const row = (await this.db
      .knex('jobs')
      .where('state', 'queued')
      .whereIn('name', names)
      .andWhere((q) => (skipBackoff ? q.where('run_at', '<=', now).orWhere('attempts', '>', 0) : q.where('run_at', '<=', now)))
      .count({ n: '*' })
      .first()) as { n: number | string } | undefined;
    return Number(row?.n ?? 0);
  }

  /**
   * Starts a worker loop in this process: it claims jobs this process has handlers for, runs up to
   * `concurrency` at once, heartbeats their locks and periodically recovers stale locks.
   */
  startWorker(options: WorkerOptions = {}): JobWorker {
    const concurrency = options.concurrency ?? 1;
    const pollMs = options.pollMs ?? DEFAULT_POLL_MS;
    const lockMs = options.lockMs ?? DEFAULT_LOCK_MS;
    assertInteger(concurrency, 'concurrency', 1, 1000);
    assertInteger(pollMs, 'pollMs', 1, 3_600_000);
    assertInteger(lockMs, 'lockMs', 1000, 86_400_000);
    const runner = this.newRunner('', options.workerId, lockMs, WORKER_FLUSH_DELAY_MS);
    const lease = this.db.dialect === 'sqlite' && options.leased !== false ? new Lease(this.db, 'jobs.worker', runner.workerId, WORKER_LEASE_MS) : null;
    const worker = new WorkerLoop(this, runner, this.logger, concurrency, pollMs, Math.min(lockMs, 60_000), lease);
    this.workers.add(worker);
    return worker;
  }

  /** Stops every worker this queue started and waits for their in-flight jobs. */
  async stop(): Promise<void> {
    await Promise.all([...this.workers].map((w) => w.stop()));
  }

  /**
   * Enqueues each declared schedule whose latest cron tick at or before `now` has not been enqueued
   * yet, and returns their names. A conditional update of the schedule's `last_tick_at` in the same
   * transaction as the enqueue lets exactly one caller win each tick, across processes.
   */
  async runDueSchedules(now: Date = new Date(this.db.now())): Promise<string[]> {
    const nowMs = now.getTime();
    if (!Number.isFinite(nowMs)) throw new WaymarkError('SCHEDULE_TIME_INVALID', 'runDueSchedules needs a valid date', 422);
    const schedules = [...this.schedules.values()];
    if (schedules.length === 0) return [];
    const stamp = this.db.now();
    // Rows are bookkeeping for code-declared schedules: create missing ones, never delete.
    await this.db
      .knex('job_schedules')
      .insert(schedules.map((s) => ({ name: s.name, cron: s.cron, job: s.job, updated_at: stamp })))
      .onConflict('name')
      .ignore();
    const fired: string[] = [];
    for (const schedule of schedules) {
      const tick = latestTick(schedule.cron, nowMs);
      if (tick === null) continue;
      try {
        const won = await this.db.transaction(async (trx) => {
          const changed = await trx('job_schedules')
            .where('name', schedule.name)
            .andWhere((q) => q.whereNull('last_tick_at').orWhere('last_tick_at', '<', tick))
            .update({
              last_tick_at: tick,
              last_run_at: stamp,
              next_run_at: nextTick(schedule.cron, nowMs),
              cron: schedule.cron,
              job: schedule.job,
              updated_at: stamp,
            });
          if (changed === 0) return false;
          const jobId = await this.enqueue(schedule.job, schedule.payload ?? null, {
            trx,
            dedupeKey: `schedule:${schedule.name}:${new Date(tick).toISOString()}`,
          });
          await trx('job_schedules').where('name', schedule.name).update({ last_job_id: jobId });
          return true;
        });
        if (won) fired.push(schedule.name);
      } catch (error) {
        // One broken schedule (its job not defined here, say) must not stop the others.
        this.logger.error('scheduled task could not be enqueued', { schedule: schedule.name, job: schedule.job, error: errorText(error) });
      }
    }
    if (fired.length > 0) this.wakeWorkers();
    return fired;
  }

  /**
   * Jobs whose worker stopped heartbeating (lock expired before `now`) go back to queued, their
   * attempt counted, or dead when that was the last attempt. Returns how many were recovered.
   */
  async recoverStale(now: number = this.db.now()): Promise<number> {
    const message = `worker lock expired at recovery ${new Date(now).toISOString()} (the worker died or stalled)`;
    // Look before writing: nearly always nothing is stale, and on SQLite an empty write transaction
    // still takes the one write lock, which a busy worker in another process then queues behind.
    const anyStale = await this.db.knex('jobs').where('state', 'running').andWhere('lock_expires_at', '<', now).first('id');
    if (!anyStale) return 0;
    return this.db.transaction(async (trx) => {
      const stale = trx('jobs').where('state', 'running').andWhere('lock_expires_at', '<', now);
      const dead = await stale.clone().andWhere('attempts', '>=', trx.ref('max_attempts')).update({
        state: 'dead',
        locked_by: null,
        lock_expires_at: null,
        dedupe_key: null,
        last_error: message,
        finished_at: now,
        updated_at: now,
      });
      const requeued = await stale
        .clone()
        .update({ state: 'queued', locked_by: null, lock_expires_at: null, run_at: now, last_error: message, updated_at: now });
      if (dead + requeued > 0) this.logger.warn('recovered jobs with expired locks', { requeued, dead });
      return dead + requeued;
    });
  }
}
