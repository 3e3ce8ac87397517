import type { Knex } from 'knex';
import type { Migration } from '../../core/kernel/db/migrations';

/**
 * Picking a user by name (core/kernel/pickers.ts) searches the full name and the email by prefix,
 * any case, on every keystroke; the user list searches emails too. The full name has its index
 * (migrations 0014 and 0017); this makes the email an index range too at 100,000 users. On SQLite,
 * LIKE is case-insensitive and uses only NOCASE indexes, so it is declared that way there.
 */
const isSqlite = (knex: Knex): boolean => /sqlite/.test(String(knex.client.config.client));

export const userPickIndexes: Migration = {
  name: '0022_user_pick_indexes',
  async up(knex) {
    if (isSqlite(knex)) {
      await knex.raw('CREATE INDEX users_email_nocase ON users (email COLLATE NOCASE)');
    } else {
      await knex.schema.alterTable('users', (t) => {
        t.index(['email'], 'users_email_index');
      });
    }
  },
  async down(knex) {
    if (isSqlite(knex)) {
      await knex.raw('DROP INDEX users_email_nocase');
    } else {
      await knex.schema.alterTable('users', (t) => {
        t.dropIndex(['email'], 'users_email_index');
      });
    }
  },
};
