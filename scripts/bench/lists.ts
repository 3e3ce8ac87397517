/**
 * Benchmark: the user list at 100,000 users (issue 14 item 6: "name search must stay fast"), through
 * the API in process (supertest), against a baseline measured in the same run: the same number of
 * rows read straight from the table by primary key (`SELECT ... WHERE id > ? ORDER BY id LIMIT 101`),
 * the cheapest read of a page there is. Also shows what a substring search would cost instead (a
 * `LIKE '%text%'` count, which no B-tree index can serve).
 *
 *   npx tsx scripts/bench/lists.ts                                            # SQLite
 *   BENCH_DB=mysql TEST_MYSQL_URL=mysql://root@127.0.0.1:3306 npx tsx scripts/bench/lists.ts
 *   options: --users <n> (default 100000) --runs <n> (default 30)
 */
import request from 'supertest';
import { option, time, withBenchSite } from './support';
import { createApp } from '../../core/kernel/http/app';
import { createApiToken } from '../../core/kernel/auth/tokens';

const USERS = option('users', 100_000);
const RUNS = option('runs', 30);
const FIRST = ['Anna', 'Bruno', 'Chloé', 'David', 'Emma', 'Farid', 'Giulia', 'Hugo', 'Inès', 'Jonas', 'Kenji', 'Lina', 'Marek', 'Nora', 'Omar', 'Paula'];
const LAST = ['Martin', 'Bernard', 'Dubois', 'Thomas', 'Robert', 'Richard', 'Petit', 'Durand', 'Leroy', 'Moreau', 'Simon', 'Laurent', 'Lefebvre', 'Michel'];

async function main(): Promise<void> {
  await withBenchSite('bench-lists-secret-0123456789abcdef', async (site, dialect) => {
    const admin = await site.services.users.create({ username: 'operator', email: 'operator@example.com', fullname: 'Olive Operator', isAdmin: true });
    const token = await createApiToken(site.db, admin.id);
    const now = Date.now();
    const rows = Array.from({ length: USERS }, (_, i) => ({
      username: `user${i}`,
      email: `user${i}@example.com`,
      fullname: `${FIRST[i % FIRST.length]} ${LAST[Math.floor(i / FIRST.length) % LAST.length]} ${i}`,
      created_at: now,
      updated_at: now,
    }));
    const seeded = performance.now();
    for (let i = 0; i < rows.length; i += 400) await site.db.knex('users').insert(rows.slice(i, i + 400));
    await site.db.knex.raw(dialect === 'mysql' ? 'ANALYZE TABLE users' : 'ANALYZE');
    console.log(`${dialect}: ${USERS.toLocaleString('en')} users seeded in ${((performance.now() - seeded) / 1000).toFixed(1)} s`);

    const app = createApp(site);
    const api = (url: string) => request(app).get(`/api/v1${url}`).set('Authorization', `Bearer ${token}`).expect(200);
    const baseline = await time(RUNS, (i) =>
      site.db
        .knex('users')
        .where('id', '>', (i * 997) % USERS)
        .orderBy('id')
        .limit(101),
    );
    const first = await time(RUNS, () => api('/users?limit=100'));
    // A page deep in the list: the cursor of the 500th page, as a client paging that far holds it.
    let cursor: string | null = null;
    for (let page = 0; page < 500 && (page === 0 || cursor !== null); page++) {
      cursor = ((await api(`/users?limit=100${cursor ? `&cursor=${cursor}` : ''}`)).body as { nextCursor: string | null }).nextCursor;
    }
    const deep = await time(RUNS, () => api(`/users?limit=100&cursor=${cursor}`));
    const prefixes = ['ann', 'Hugo S', 'inès', 'kenji m', 'omar', 'PAULA'];
    const search = await time(RUNS, (i) => api(`/users?limit=100&q=${encodeURIComponent(prefixes[i % prefixes.length]!)}`));
    const substring = await time(Math.min(RUNS, 10), () => site.db.knex('users').where('fullname', 'like', '%ura%').count({ n: '*' }));

    const line = (what: string, ms: number) =>
      console.log(`${what.padEnd(58)} ${ms.toFixed(2).padStart(8)} ms   ${(ms / baseline).toFixed(1).padStart(6)} x baseline`);
    console.log(`median of ${RUNS} runs`);
    line('baseline: 101 rows by primary key, straight from the table', baseline);
    line('GET /users?limit=100 (first page, by name)', first);
    line('GET /users?limit=100&cursor=… (page 501)', deep);
    line('GET /users?limit=100&q=… (name prefix)', search);
    line("for comparison: LIKE '%text%' count (a full scan)", substring);
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
