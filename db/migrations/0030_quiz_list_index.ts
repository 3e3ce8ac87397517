import type { Knex } from 'knex';
import type { Migration } from '../../core/kernel/db/migrations';

/**
 * The operator's quiz list reads quiz activities by name (searched by the start of the name, paged
 * by keyset): one index range of (type, name, id) instead of sorting every activity. SQLite's
 * case-insensitive prefix search needs the name NOCASE; MariaDB's collation is already.
 */
const isSqlite = (knex: Knex): boolean => /sqlite/.test(String(knex.client.config.client));

export const quizListIndex: Migration = {
  name: '0030_quiz_list_index',
  async up(knex) {
    if (isSqlite(knex)) await knex.raw('CREATE INDEX activities_type_name_list ON activities (type, name COLLATE NOCASE, id)');
    else await knex.raw('CREATE INDEX activities_type_name_list ON activities (type, name, id)');
  },
  async down(knex) {
    if (isSqlite(knex)) await knex.raw('DROP INDEX activities_type_name_list');
    else await knex.raw('DROP INDEX activities_type_name_list ON activities');
  },
};
