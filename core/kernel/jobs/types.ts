import type { Logger } from '../logging';
import type { Executor } from '../db/database';

export type JobState = 'queued' | 'running' | 'done' | 'dead';

export interface JobContext<Payload = unknown> {
  id: number;
  name: string;
  payload: Payload;
  /** 1 on the first try. */
  attempt: number;
  logger: Logger;
  /** Records progress visible through GET /api/v1/jobs/{id} and CLI progress bars. */
  progress(done: number, total: number, message?: string): Promise<void>;
}

export type JobHandler<Payload = unknown> = (job: JobContext<Payload>) => Promise<unknown> | unknown;

export interface JobDefinition<Payload = unknown> {
  /** Unique name; plugin jobs are named `<pluginId>.<name>`. */
  name: string;
  handler: JobHandler<Payload>;
  /** Attempts before the job goes dead; default 5. */
  maxAttempts?: number;
  /** First retry delay; doubles each attempt; default 1000 ms. */
  backoffMs?: number;
}

export interface EnqueueOptions {
  /** Enqueue inside this transaction so the job exists only if the caller's work commits. */
  trx?: Executor;
  /** At most one queued/running job per key; enqueueing a duplicate returns the existing id. */
  dedupeKey?: string;
  /** Epoch ms; default now. */
  runAt?: number;
  /** Higher is claimed first; default 0. */
  priority?: number;
  maxAttempts?: number;
}

export interface ScheduleDefinition {
  /** Unique name; plugin schedules are named `<pluginId>.<name>`. */
  name: string;
  /** Five-field cron expression, in UTC. */
  cron: string;
  /** Job to enqueue at each tick. */
  job: string;
  payload?: unknown;
}

export interface JobStatus {
  id: number;
  name: string;
  state: JobState;
  attempts: number;
  maxAttempts: number;
  progress: { done: number; total: number; message: string | null } | null;
  result: unknown;
  lastError: string | null;
  /** When the job is (next) due; for a queued retry, the end of its backoff. */
  runAt: string;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

/** A filter and page for listing jobs (operators looking for dead work). */
export interface JobListOptions {
  /** Only jobs in this state; default every state. */
  state?: JobState;
  /** Page size, 1 to 200; default 50. */
  limit?: number;
  /** The `nextCursor` of the previous page; omit for the first (newest) page. */
  cursor?: string;
}

/** One page of jobs, newest first; `nextCursor` is null on the last page. */
export interface JobPage {
  items: JobStatus[];
  nextCursor: string | null;
}

/** What register() may declare about background work. */
export interface JobRegistrar {
  define<Payload = unknown>(definition: JobDefinition<Payload>): void;
  schedule(definition: ScheduleDefinition): void;
}

export interface WorkerOptions {
  /** Jobs run at the same time by this worker; default 1. */
  concurrency?: number;
  /** How long an idle worker waits before looking for work again; default 1000 ms. */
  pollMs?: number;
  /** Recorded in jobs.locked_by; default `<hostname>:<pid>:<random>`. */
  workerId?: string;
  /** How long a claim lasts without a heartbeat before another process may recover the job; default 120000 ms. */
  lockMs?: number;
  /**
   * SQLite only: claim only while holding the site's worker lease, so one worker runs jobs and the
   * others stand by (default true: SQLite admits one writer, and competing claimers halve the
   * throughput). False lets several workers claim side by side, as they always do on MySQL.
   */
  leased?: boolean;
}

export interface DrainOptions {
  /** Stop claiming after this long and throw JOB_DRAIN_TIMEOUT; default 60000 ms. */
  timeoutMs?: number;
  /**
   * Treat the retry backoff of failed jobs as already elapsed (default true), so one drain runs a
   * failing job through all its attempts. Jobs enqueued with a future runAt still wait. Pass false
   * to run only what is due at `db.now()` (tests that check backoff advance the database clock).
   */
  skipBackoff?: boolean;
  /**
   * Called after each job with the jobs finished so far in this drain and an estimate of the total
   * (finished + still runnable), e.g. to drive a CLI progress bar.
   */
  onProgress?(done: number, total: number): void;
}

/** A running worker loop; stop() waits for its in-flight jobs. */
export interface JobWorker {
  readonly id: string;
  stop(): Promise<void>;
}
