/**
 * Benchmark: the people console at 100,000 users (issue 14 items 1 and 3): the pick-by-name
 * type-ahead (`GET /admin/pick/users?q=`, and a manager by name) and the operator's user list
 * (`/admin/users`: first page, a deep page by keyset, a name search, an audience filter of 10,000
 * members), served in process as pages to a signed-in operator, next to a baseline measured in the
 * same run: the same number of rows read straight from the table by primary key.
 *
 *   npx tsx scripts/bench/people.ts                                            # SQLite
 *   BENCH_DB=mysql TEST_MYSQL_URL=mysql://root@127.0.0.1:3306 npx tsx scripts/bench/people.ts
 *   options: --users <n> (default 100000) --runs <n> (default 20)
 */
import { option, primaryKeyBaseline, ratioLine, signedInAgent, time, withBenchSite } from './support';

const USERS = option('users', 100_000);
const RUNS = option('runs', 20);
const PASSWORD = 'correct horse battery';
const FIRST = ['Anna', 'Bruno', 'Chloé', 'David', 'Emma', 'Farid', 'Giulia', 'Hugo', 'Inès', 'Jonas', 'Kenji', 'Lina', 'Marek', 'Nora', 'Omar', 'Paula'];
const LAST = ['Martin', 'Bernard', 'Dubois', 'Thomas', 'Robert', 'Richard', 'Petit', 'Durand', 'Leroy', 'Moreau', 'Simon', 'Laurent', 'Lefebvre', 'Michel'];

async function main(): Promise<void> {
  await withBenchSite('bench-people-secret-0123456789abcdef', async (site, dialect) => {
    await site.services.users.create({ username: 'operator', email: 'operator@example.com', fullname: 'Olive Operator', isAdmin: true, password: PASSWORD });
    const now = Date.now();
    const seeded = performance.now();
    for (let i = 0; i < USERS; i += 400) {
      const rows = Array.from({ length: Math.min(400, USERS - i) }, (_, k) => {
        const n = i + k;
        return {
          username: `user${n}`,
          email: `user${n}@example.com`,
          fullname: `${FIRST[n % FIRST.length]} ${LAST[Math.floor(n / FIRST.length) % LAST.length]} ${n}`,
          created_at: now,
          updated_at: now,
        };
      });
      await site.db.knex('users').insert(rows);
    }
    // A static audience of every tenth user, and a job for every hundredth (managers by name).
    const audience = await site.services.audiences.create({ name: 'Every tenth' });
    await site.db.knex.raw(`INSERT INTO audience_members (audience_id, user_id, source, added_at) SELECT ?, id, 'manual', ? FROM users WHERE id % 10 = 0`, [
      audience.id,
      now,
    ]);
    await site.db.knex.raw(`INSERT INTO job_assignments (user_id, manager_path, created_at, updated_at) SELECT id, '/', ?, ? FROM users WHERE id % 100 = 0`, [
      now,
      now,
    ]);
    await site.db.knex.raw(dialect === 'mysql' ? 'ANALYZE TABLE users, audience_members, job_assignments' : 'ANALYZE');
    console.log(`${dialect}: ${USERS.toLocaleString('en')} users seeded in ${((performance.now() - seeded) / 1000).toFixed(1)} s`);

    const agent = await signedInAgent(site, 'operator', PASSWORD);
    const page = (url: string) => agent.get(url).set('Accept', 'text/html').expect(200);
    const json = (url: string) => agent.get(url).set('Accept', 'application/json').expect(200);

    const baseline = await primaryKeyBaseline(site, 'users', USERS, RUNS);
    const prefixes = ['ann', 'Hugo S', 'inès', 'kenji m', 'omar', 'PAULA', 'user123', 'emma b'];
    const pick = await time(RUNS, (i) => json(`/admin/pick/users?q=${encodeURIComponent(prefixes[i % prefixes.length]!)}`));
    const managers = await time(RUNS, (i) => json(`/admin/pick/managers?q=${encodeURIComponent(prefixes[i % prefixes.length]!)}`));
    const first = await time(RUNS, () => page('/admin/users'));
    let next: string | null = '/admin/users';
    for (let n = 0; n < 200 && next; n++) next = /rel="next" href="([^"]+)"/.exec((await page(next)).text)?.[1]?.replace(/&amp;/g, '&') ?? null;
    const deep = next ? await time(RUNS, () => page(next!)) : NaN;
    const search = await time(RUNS, (i) => page(`/admin/users?q=${encodeURIComponent(prefixes[i % prefixes.length]!)}`));
    const byAudience = await time(RUNS, () => page(`/admin/users?audience=${audience.id}&audience_q=Every%20tenth&audience_was=Every%20tenth`));

    const line = ratioLine(baseline, 62);
    console.log(`median of ${RUNS} runs`);
    line('baseline: 51 rows by primary key, straight from the table', baseline);
    line('GET /admin/pick/users?q=… (type-ahead, 20 names)', pick);
    line('GET /admin/pick/managers?q=… (jobs of people by name)', managers);
    line('GET /admin/users (first page of 50, by name, with "select all")', first);
    line('GET /admin/users?cursor=… (page 201)', deep);
    line('GET /admin/users?q=… (name or email prefix)', search);
    line('GET /admin/users?audience=… (10% of users, counted for "all")', byAudience);
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
