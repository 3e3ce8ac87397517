import type { Migration } from '../../core/kernel/db/migrations';

/** Rate-limit counters (login throttling), in the database so every server process counts together. */
export const rateLimits: Migration = {
  name: '0009_rate_limits',
  async up(knex) {
    await knex.schema.createTable('rate_limits', (t) => {
      // `<limiter prefix><client key>`; keys longer than the column are stored as a SHA-256 digest.
      t.string('key', 191).primary();
      t.integer('hits').notNullable();
      // Epoch ms at which the window ends and the count starts again from zero.
      t.bigInteger('reset_at').notNullable();
      t.index(['reset_at']);
    });
  },
  async down(knex) {
    await knex.schema.dropTableIfExists('rate_limits');
  },
};
