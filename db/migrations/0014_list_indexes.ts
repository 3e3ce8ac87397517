import type { Knex } from 'knex';
import type { Migration } from '../../core/kernel/db/migrations';

/**
 * Indexes for the lists of the API and the admin pages (issue 14 item 6): each named order of a
 * list reads an index in its order, so a page costs the same at 100,000 rows as at 100, and the
 * `q` name search (a case-insensitive prefix, `LIKE 'text%'`) is an index range.
 *
 * MariaDB compares names case-insensitively (the utf8mb4 general collation), so one (name, id)
 * index serves both the order and the prefix search. SQLite orders by BINARY but runs LIKE
 * case-insensitively, and uses an index for LIKE only when that index is NOCASE: it gets both.
 */
const NAME_INDEXES: Array<{ table: string; columns: string[]; nocase: string[] }> = [
  // `deleted` first: every user list leaves deleted users out (or shows only them), so the order by
  // name is an index range for that equality rather than a filesort of the table.
  { table: 'users', columns: ['deleted', 'fullname', 'id'], nocase: ['fullname', 'username'] },
  { table: 'courses', columns: ['fullname', 'id'], nocase: ['fullname', 'shortname'] },
  { table: 'programs', columns: ['fullname', 'id'], nocase: ['fullname', 'shortname'] },
  { table: 'audiences', columns: ['name', 'id'], nocase: ['name'] },
  { table: 'hierarchy_nodes', columns: ['kind', 'name', 'id'], nocase: ['name'] },
];

const isSqlite = (knex: Knex): boolean => /sqlite/.test(String(knex.client.config.client));

export const listIndexes: Migration = {
  name: '0014_list_indexes',
  async up(knex) {
    for (const { table, columns, nocase } of NAME_INDEXES) {
      await knex.schema.alterTable(table, (t) => {
        t.index(columns, `${table}_${columns.join('_')}_list`);
      });
      if (isSqlite(knex)) {
        for (const column of nocase) await knex.raw(`CREATE INDEX ${table}_${column}_nocase ON ${table} (${column} COLLATE NOCASE)`);
      }
    }
  },
  async down(knex) {
    for (const { table, columns, nocase } of NAME_INDEXES) {
      if (isSqlite(knex)) {
        for (const column of nocase) await knex.raw(`DROP INDEX ${table}_${column}_nocase`);
      }
      await knex.schema.alterTable(table, (t) => {
        t.dropIndex(columns, `${table}_${columns.join('_')}_list`);
      });
    }
  },
};
