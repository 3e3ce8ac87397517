/**
 * Regenerates the committed schema snapshots (db/schema/sqlite.sql and db/schema/mysql.sql) from a
 * fresh database migrated with core and every shipped plugin. Run after adding a migration:
 *   npx tsx scripts/schema-dump.ts            (SQLite, and MariaDB when TEST_MYSQL_URL is set)
 */
import fs from 'node:fs';
import path from 'node:path';
import { createTestDatabase } from '../test/utils/db';
import { migratedSchema } from '../test/utils/schema';

const root = path.resolve(import.meta.dirname, '..');
const dialects = process.env.TEST_MYSQL_URL ? (['sqlite', 'mysql'] as const) : (['sqlite'] as const);
for (const dialect of dialects) {
  const db = await createTestDatabase(dialect);
  try {
    const schema = await migratedSchema(db.url);
    const file = path.join(root, 'db', 'schema', `${dialect}.sql`);
    fs.writeFileSync(file, schema);
    console.log(`wrote ${path.relative(root, file)}`);
  } finally {
    await db.drop();
  }
}
