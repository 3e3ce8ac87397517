import type { Knex } from 'knex';
import type { Dialect } from './database';

/**
 * A stable text rendering of the live schema (tables, columns, indexes), used for the committed
 * snapshot in db/schema/ and the test that fails when migrations drift from it.
 */
export async function dumpSchema(knex: Knex, dialect: Dialect): Promise<string> {
  if (dialect === 'sqlite') {
    const rows = (await knex.raw(
      "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY CASE type WHEN 'table' THEN 0 ELSE 1 END, name",
    )) as Array<{ sql: string }>;
    return rows.map((r) => `${r.sql.trim()};`).join('\n\n') + '\n';
  }
  const [tables] = (await knex.raw('SHOW FULL TABLES WHERE Table_type = ?', ['BASE TABLE'])) as [Array<Record<string, string>>];
  const names = tables.map((row) => Object.values(row)[0]!).sort();
  const parts: string[] = [];
  for (const name of names) {
    const [[created]] = (await knex.raw('SHOW CREATE TABLE ??', [name])) as [[Record<string, string>]];
    parts.push(`${created!['Create Table']!.replace(/ AUTO_INCREMENT=\d+/, '')};`);
  }
  return parts.join('\n\n') + '\n';
}
