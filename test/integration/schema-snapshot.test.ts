import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { createTestDatabase, testDialect } from '../utils/db';
import { migratedSchema } from '../utils/schema';

describe(`schema snapshot (${testDialect})`, function () {
  this.timeout(120_000);

  it('migrations produce exactly the committed schema (run scripts/schema-dump.ts after adding one)', async () => {
    const db = await createTestDatabase();
    try {
      const actual = await migratedSchema(db.url);
      const committed = fs.readFileSync(path.resolve(import.meta.dirname, '../../db/schema', `${testDialect}.sql`), 'utf8');
      expect(actual).to.equal(committed);
    } finally {
      await db.drop();
    }
  });
});
