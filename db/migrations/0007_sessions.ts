import type { Migration } from '../../core/kernel/db/migrations';

/** Browser sessions, stored in the database so every server process shares them. */
export const sessions: Migration = {
  name: '0007_sessions',
  async up(knex) {
    await knex.schema.createTable('sessions', (t) => {
      // express-session ids are 32 url-safe characters; 128 leaves room for other generators.
      t.string('sid', 128).primary();
      // Denormalised from data so "sign this user out everywhere" is one indexed delete.
      t.integer('user_id').unsigned().nullable().references('users.id').onDelete('CASCADE');
      t.text('data').notNullable();
      t.bigInteger('expires_at').notNullable();
      t.index(['expires_at']);
      t.index(['user_id']);
    });
  },
  async down(knex) {
    await knex.schema.dropTableIfExists('sessions');
  },
};
