import { expect } from 'chai';
import type { Site } from '../../core/site';
import { seek } from '../../core/kernel/db/keyset';
import { USER_ORDERS, userListQuery } from '../../core/modules/people/store/users';
import { createTestSite, type TestSite } from '../utils/site';
import { testDialect } from '../utils/db';

/**
 * The user list stays fast at 100,000 users because each of its reads is an index range, never a
 * scan of the table: checked on the plan the database itself chooses (a timing would be flaky).
 */
describe(`list indexes (${testDialect})`, function () {
  let t: TestSite;
  let site: Site;

  before(async function () {
    t = await createTestSite();
    site = t.site;
    // Enough rows that the planner prefers an index to a scan.
    const now = site.db.now();
    const rows = Array.from({ length: 3000 }, (_, i) => ({
      username: `u${i}`,
      email: `u${i}@example.com`,
      fullname: `${String.fromCharCode(65 + (i % 26))}name ${i}`,
      created_at: now,
      updated_at: now,
    }));
    for (let i = 0; i < rows.length; i += 500) await site.db.knex('users').insert(rows.slice(i, i + 500));
    if (testDialect === 'mysql') await site.db.knex.raw('ANALYZE TABLE users');
    else await site.db.knex.raw('ANALYZE');
  });

  after(async function () {
    await t?.close();
  });

  async function plan(filter: { q?: string }, sort: string): Promise<string> {
    const order = USER_ORDERS.find((o) => o.name === sort)!;
    const { sql, bindings } = seek(userListQuery(site.db.knex, filter), order, { limit: 50, from: null }).toSQL();
    const rows = (await site.db.knex.raw(`EXPLAIN ${testDialect === 'sqlite' ? 'QUERY PLAN ' : ''}${sql}`, bindings)) as unknown;
    const list = (testDialect === 'mysql' ? (rows as unknown[][])[0] : rows) as Array<Record<string, unknown>>;
    return JSON.stringify(list);
  }

  it('searches names by prefix through an index', async function () {
    const text = await plan({ q: 'Kname 1' }, 'fullname');
    if (testDialect === 'sqlite') {
      expect(text).to.match(/users_fullname_nocase/);
      expect(text).to.not.match(/SCAN users\b(?! USING)/);
    } else {
      expect(text).to.match(/users_deleted_fullname_id_list|users_username_unique/);
      expect(text).to.not.match(/"type":"ALL"/);
    }
  });

  it('reads the first page in name order from the index, without sorting the table', async function () {
    const text = await plan({}, 'fullname');
    if (testDialect === 'sqlite') {
      expect(text).to.match(/users_deleted_fullname_id_list/);
      expect(text).to.not.match(/TEMP B-TREE/);
    } else {
      expect(text).to.match(/users_deleted_fullname_id_list/);
      expect(text).to.not.match(/filesort/);
    }
  });
});
