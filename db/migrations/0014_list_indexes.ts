import type { Knex } from 'knex';
import type { Migration } from '../../core/kernel/db/migrations';

/**
 * Indexes for the lists of the API and the admin pages (issue 14 item 6): each named order of a
 * list reads an index in its order, so a page costs the same at 100,000 rows as at 100, and the
 * `q` name search (a case-insensitive prefix, `LIKE 'text%'`) is an index range.
 *
 * Name orders are case-insensitive (`SortKey.caseInsensitive`). MariaDB compares names that way
 * already (the utf8mb4 general collation), so one (…, name, id) index serves both the order and the
 * prefix search. On SQLite the same index declares the name `COLLATE NOCASE`: the order reads it
 * as it stands, and LIKE (case-insensitive there) uses only NOCASE indexes. Other searched columns
 * (a short name) get a NOCASE index of their own on SQLite; usernames are lower case, so their
 * unique index serves.
 */
const NAME_INDEXES: Array<{ table: string; columns: string[]; name: string; nocase: string[] }> = [
  // `deleted` first: every user list leaves deleted users out (or shows only them), so the order by
  // name is an index range for that equality rather than a filesort of the table.
  { table: 'users', columns: ['deleted', 'fullname', 'id'], name: 'fullname', nocase: [] },
  { table: 'courses', columns: ['fullname', 'id'], name: 'fullname', nocase: ['shortname'] },
  { table: 'programs', columns: ['fullname', 'id'], name: 'fullname', nocase: ['shortname'] },
  { table: 'audiences', columns: ['name', 'id'], name: 'name', nocase: [] },
  { table: 'hierarchy_nodes', columns: ['kind', 'name', 'id'], name: 'name', nocase: [] },
];

const isSqlite = (knex: Knex): boolean => /sqlite/.test(String(knex.client.config.client));

export const listIndexes: Migration = {
  name: '0014_list_indexes',
  async up(knex) {
    for (const { table, columns, name, nocase } of NAME_INDEXES) {
      const indexName = `${table}_${columns.join('_')}_list`;
      if (isSqlite(knex)) {
        const list = columns.map((c) => (c === name ? `${c} COLLATE NOCASE` : c)).join(', ');
        await knex.raw(`CREATE INDEX ${indexName} ON ${table} (${list})`);
        for (const column of nocase) await knex.raw(`CREATE INDEX ${table}_${column}_nocase ON ${table} (${column} COLLATE NOCASE)`);
      } else {
        await knex.schema.alterTable(table, (t) => {
          t.index(columns, indexName);
        });
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
