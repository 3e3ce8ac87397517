import type { Migration } from '../../core/kernel/db/migrations';

/** Named leases held by one process at a time (SQLite's job worker: one writer, so one runner). */
export const workerLeases: Migration = {
  name: '0011_worker_leases',
  async up(knex) {
    await knex.schema.createTable('worker_leases', (t) => {
      t.string('name', 100).primary();
      t.string('holder', 255).notNullable();
      t.bigInteger('expires_at').notNullable();
    });
  },
  async down(knex) {
    await knex.schema.dropTable('worker_leases');
  },
};
