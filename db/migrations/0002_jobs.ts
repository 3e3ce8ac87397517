import type { Migration } from '../../core/kernel/db/migrations';

/** The background job queue and the run bookkeeping of scheduled tasks (see core/kernel/jobs/queue.ts). */
export const jobs: Migration = {
  name: '0002_jobs',
  async up(knex) {
    await knex.schema.createTable('jobs', (t) => {
      t.increments('id');
      t.string('name', 150).notNullable();
      t.text('payload').nullable(); // JSON
      t.string('state', 10).notNullable(); // queued | running | done | dead
      t.integer('priority').notNullable().defaultTo(0);
      t.bigInteger('run_at').notNullable();
      t.integer('attempts').notNullable().defaultTo(0); // counted when claimed
      t.integer('max_attempts').notNullable();
      // Unique while the job is queued/running; set NULL when it finishes so the key can be reused.
      t.string('dedupe_key', 191).nullable().unique('jobs_dedupe_key_unique');
      t.string('locked_by', 100).nullable();
      t.bigInteger('lock_expires_at').nullable();
      t.integer('progress_done').nullable();
      t.integer('progress_total').nullable();
      t.string('progress_message', 255).nullable();
      t.text('result').nullable(); // JSON
      t.text('last_error').nullable();
      t.bigInteger('created_at').notNullable();
      t.bigInteger('started_at').nullable();
      t.bigInteger('finished_at').nullable();
      t.bigInteger('updated_at').notNullable();
    });
    // The claim query is `WHERE state = 'queued' AND run_at <= ? ORDER BY priority DESC, run_at, id
    // LIMIT n FOR UPDATE SKIP LOCKED`. The index must deliver rows already in that order: with a
    // filesort InnoDB would lock every matching row before sorting, and SKIP LOCKED would then make
    // a second worker see an empty queue. Hence the DESC column (MariaDB >= 10.8, MySQL 8, SQLite).
    await knex.raw('CREATE INDEX jobs_claim_idx ON jobs (state, priority DESC, run_at, id)');
    // Stale-lock recovery scans running jobs by lock expiry.
    await knex.raw('CREATE INDEX jobs_lock_idx ON jobs (state, lock_expires_at)');

    await knex.schema.createTable('job_schedules', (t) => {
      t.string('name', 150).primary();
      t.string('cron', 100).notNullable();
      t.string('job', 150).notNullable();
      // The cron tick last enqueued: a conditional update on it lets exactly one process win a tick.
      t.bigInteger('last_tick_at').nullable();
      t.bigInteger('last_run_at').nullable();
      t.integer('last_job_id').unsigned().nullable();
      t.bigInteger('next_run_at').nullable();
      t.bigInteger('updated_at').notNullable();
    });
  },
  async down(knex) {
    await knex.schema.dropTableIfExists('job_schedules');
    await knex.schema.dropTableIfExists('jobs');
  },
};
