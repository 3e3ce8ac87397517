import type { Knex } from 'knex';
import type { Migration } from '../../core/kernel/db/migrations';

/**
 * Picking a user by name (core/kernel/pickers.ts) searches the full name, the email and the
 * username by prefix, any case, on every keystroke. The full name has its index (migrations 0014
 * and 0017); these make the other two an index range too at 100,000 users. On SQLite, LIKE is
 * case-insensitive and uses only NOCASE indexes, so both are declared that way there; on MariaDB
 * the collation is case-insensitive already and the username's unique index serves.
 */
const isSqlite = (knex: Knex): boolean => /sqlite/.test(String(knex.client.config.client));

export const userPickIndexes: Migration = {
  name: '0022_user_pick_indexes',
  async up(knex) {
    if (isSqlite(knex)) {
      await knex.raw('CREATE INDEX users_email_nocase ON users (email COLLATE NOCASE)');
      await knex.raw('CREATE INDEX users_username_nocase ON users (username COLLATE NOCASE)');
    } else {
      await knex.schema.alterTable('users', (t) => {
        t.index(['email'], 'users_email_index');
      });
    }
  },
  async down(knex) {
    if (isSqlite(knex)) {
      await knex.raw('DROP INDEX users_email_nocase');
      await knex.raw('DROP INDEX users_username_nocase');
    } else {
      await knex.schema.alterTable('users', (t) => {
        t.dropIndex(['email'], 'users_email_index');
      });
    }
  },
};
