import { expect } from 'chai';
import type { Site } from '../../core/site';
import { seek, type KeyValue } from '../../core/kernel/db/keyset';
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

  async function plan(filter: { q?: string; username?: string }, sort: string, from: KeyValue[] | null = null): Promise<string> {
    const order = USER_ORDERS.find((o) => o.name === sort)!;
    const { sql, bindings } = seek(userListQuery(site.db.knex, filter), order, { limit: 50, from }).toSQL();
    const rows = (await site.db.knex.raw(`EXPLAIN ${testDialect === 'sqlite' ? 'QUERY PLAN ' : ''}${sql}`, bindings)) as unknown;
    const list = (testDialect === 'mysql' ? (rows as unknown[][])[0] : rows) as Array<Record<string, unknown>>;
    return JSON.stringify(list);
  }

  it('searches full names by prefix as one index range, read in the list order (no sort)', async function () {
    const text = await plan({ q: 'kname 1' }, 'fullname');
    if (testDialect === 'sqlite') {
      expect(text).to.match(/users_deleted_fullname_id_list \(deleted=\? AND fullname>\? AND fullname<\?\)/);
      expect(text).to.not.match(/TEMP B-TREE/);
    } else {
      expect(text).to.match(/users_deleted_fullname_id_list/);
      expect(text).to.match(/"type":"range"/);
      expect(text).to.not.match(/filesort/);
    }
  });

  it('searches usernames by prefix as an index range read in the list order (the user list and the user picker)', async function () {
    const text = await plan({ username: 'u12' }, 'username');
    expect(text, text).to.match(testDialect === 'sqlite' ? /users_username_nocase \(username>\? AND username<\?\)/ : /users_username_unique/);
    expect(text, text).to.not.match(testDialect === 'sqlite' ? /TEMP B-TREE/ : /filesort/);
  });

  it('starts a deep page at the cursor in the index, in name order, without sorting', async function () {
    const text = await plan({}, 'fullname', ['Mname 1234', 1234]);
    if (testDialect === 'sqlite') {
      expect(text).to.match(/users_deleted_fullname_id_list \(deleted=\? AND fullname>\?\)/);
      expect(text).to.not.match(/TEMP B-TREE/);
    } else {
      // MariaDB may choose a range from the cursor or (on a small table) the `deleted` prefix with
      // the cursor checked inside the index; either reads the index in order, never a filesort.
      expect(text).to.match(/"key":"users_deleted_fullname_id_list"/);
      expect(text).to.not.match(/filesort/);
    }
  });

  it('reads the first page in name order from the index, without sorting the table', async function () {
    const text = await plan({}, 'fullname');
    expect(text).to.match(/users_deleted_fullname_id_list/);
    expect(text, text).to.not.match(testDialect === 'sqlite' ? /TEMP B-TREE/ : /filesort/);
  });

  it('searches emails by prefix as an index range (the user list and the user picker, migration 0022)', async function () {
    const { sql, bindings } = seek(userListQuery(site.db.knex, { email: 'u12' }), USER_ORDERS[0]!, { limit: 50, from: null }).toSQL();
    const rows = (await site.db.knex.raw(`EXPLAIN ${testDialect === 'sqlite' ? 'QUERY PLAN ' : ''}${sql}`, bindings)) as unknown;
    const text = JSON.stringify(testDialect === 'mysql' ? (rows as unknown[][])[0] : rows);
    expect(text).to.match(testDialect === 'sqlite' ? /users_email_nocase \(email>\? AND email<\?\)/ : /users_email_index/);
  });

  describe('the program completion report by due date (migration 0027)', function () {
    let programId: number;

    before(async function () {
      const now = site.db.now();
      const course = await site.services.courses.create({ shortname: 'due-plan', fullname: 'Due plan' });
      programId = (await site.services.programs.create({ shortname: 'due-plan', fullname: 'Due plan', courseSets: [{ courseIds: [course.id], rule: 'all' }] }))
        .program.id;
      const users = (await site.db.knex('users').select('id').orderBy('id')) as Array<{ id: number }>;
      const rows = users.map(({ id }, i) => ({
        program_id: programId,
        user_id: id,
        status: 'active',
        due_at: i % 4 === 1 ? null : now + (i % 300) * 86_400_000,
        rule_state: 'known',
        assigned_at: now,
        created_at: now,
        updated_at: now,
      }));
      for (let i = 0; i < rows.length; i += 500) await site.db.knex('program_user_assignments').insert(rows.slice(i, i + 500));
      if (testDialect === 'mysql') await site.db.knex.raw('ANALYZE TABLE program_user_assignments, program_completions');
      else await site.db.knex.raw('ANALYZE');
    });

    /** The plan of the statement the reports service runs for a page (captured as it runs). */
    async function pagePlan(query: Record<string, string>): Promise<Array<Record<string, unknown>>> {
      const seen: Array<{ sql: string; bindings: unknown[] }> = [];
      const capture = (q: { sql: string; bindings: unknown[] }) => seen.push(q);
      site.db.knex.on('query', capture);
      try {
        const reports = site.services.reports;
        await reports.page(
          'program_completion',
          await reports.parse('program_completion', { programId: String(programId), sort: 'due', limit: '50', ...query }),
        );
      } finally {
        site.db.knex.off('query', capture);
      }
      const page = seen.find((q) => /union all/i.test(q.sql));
      expect(page, 'the page is read as index ranges').to.not.equal(undefined);
      const rows = (await site.db.knex.raw(`EXPLAIN ${testDialect === 'sqlite' ? 'QUERY PLAN ' : ''}${page!.sql}`, page!.bindings as never[])) as unknown;
      return (testDialect === 'mysql' ? (rows as unknown[][])[0] : rows) as Array<Record<string, unknown>>;
    }

    it("reads a page as ranges of the due-date index in order, never sorting the program's learners", async function () {
      for (const query of [{}, { status: 'overdue' }, { cursor: '' }] as Array<Record<string, string>>) {
        if (query.cursor === '') {
          // A page further on: the ranges start at the cursor.
          const reports = site.services.reports;
          query.cursor = (
            await reports.page('program_completion', await reports.parse('program_completion', { programId: String(programId), sort: 'due', limit: '50' }))
          ).nextCursor!;
        }
        const plan = await pagePlan(query);
        if (testDialect === 'sqlite') {
          // Each range is a co-routine reading the index in order: the only sorts are of the few
          // rows the ranges hand over (at most a page each) and of the completion-record range.
          const ranges = plan.filter((r) => /^CO-ROUTINE d[12]$/.test(String(r.detail)));
          expect(ranges).to.have.length(2);
          for (const range of ranges) {
            const steps = plan.filter((r) => r.parent === range.id).map((r) => String(r.detail));
            expect(steps.join('\n')).to.match(/SEARCH a USING INDEX program_user_assignments_due_order \(program_id=\? AND status=\? AND due_at[>=]/);
            expect(steps.join('\n')).to.not.match(/TEMP B-TREE/);
          }
        } else {
          const ranges = plan.filter((r) => r.table === 'a' && r.key === 'program_user_assignments_due_order');
          // Overdue rows all have a date: MariaDB reads nothing of the dateless range then.
          expect(ranges).to.have.length(query.status === 'overdue' ? 1 : 2);
          for (const range of ranges) {
            expect(
              plan
                .filter((r) => r.id === range.id)
                .map((r) => String(r.Extra))
                .join(' '),
            ).to.not.match(/filesort|temporary/);
          }
        }
      }
    });
  });
});
