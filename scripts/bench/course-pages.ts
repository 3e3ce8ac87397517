/**
 * Benchmark: the operator's course list (/admin/courses, the HTML page) at 100,000 courses (issue
 * 14 item 1: "stays fast at 100,000 rows"), in process over supertest with a signed-in session,
 * against a baseline measured in the same run: 51 course rows read straight from the table by
 * primary key, the cheapest read of a page there is.
 *
 *   npx tsx scripts/bench/course-pages.ts                                            # SQLite
 *   BENCH_DB=mysql TEST_MYSQL_URL=mysql://root@127.0.0.1:3306 npx tsx scripts/bench/course-pages.ts
 *   options: --courses <n> (default 100000) --runs <n> (default 30)
 */
import { option, primaryKeyBaseline, ratioLine, signedInAgent, time, withBenchSite } from './support';

const COURSES = option('courses', 100_000);
const RUNS = option('runs', 30);
const TOPICS = ['Safety', 'Customer care', 'Data protection', 'Leadership', 'Sales', 'Finance', 'Onboarding', 'Quality', 'Security', 'Wellbeing'];
const PASSWORD = 'correct horse battery';

async function main(): Promise<void> {
  await withBenchSite('bench-course-pages-0123456789', async (site, dialect) => {
    await site.services.users.create({ username: 'operator', email: 'operator@example.com', fullname: 'Olive Operator', isAdmin: true, password: PASSWORD });
    const now = Date.now();
    const rows = Array.from({ length: COURSES }, (_, i) => ({
      shortname: `C${String(i).padStart(6, '0')}`,
      fullname: `${TOPICS[i % TOPICS.length]} ${Math.floor(i / TOPICS.length)}`,
      summary: null,
      visible: i % 7 !== 0,
      start_date: null,
      score: 0,
      created_at: now,
      updated_at: now,
    }));
    const seeded = performance.now();
    for (let i = 0; i < rows.length; i += 400) await site.db.knex('courses').insert(rows.slice(i, i + 400));
    await site.db.knex.raw(dialect === 'mysql' ? 'ANALYZE TABLE courses' : 'ANALYZE');
    console.log(`${dialect}: ${COURSES.toLocaleString('en')} courses seeded in ${((performance.now() - seeded) / 1000).toFixed(1)} s`);

    const agent = await signedInAgent(site, 'operator', PASSWORD);
    const page = (url: string) => agent.get(url).set('Accept', 'text/html').expect(200);

    const baseline = await primaryKeyBaseline(site, 'courses', COURSES, RUNS);
    const first = await time(RUNS, () => page('/admin/courses'));
    // A page deep in the list, by the "Next" link as an operator paging that far follows it.
    let next: string | null = '/admin/courses';
    for (let n = 0; n < 200 && next; n++) {
      const html: string = (await page(next)).text;
      next = /rel="next" href="([^"]+)"/.exec(html)?.[1]?.replace(/&amp;/g, '&') ?? null;
    }
    const deep = next ? await time(RUNS, () => page(next!)) : NaN;
    const searches = ['saf', 'Customer care 12', 'data', 'lead', 'C0999', 'wellbeing 9'];
    const search = await time(RUNS, (i) => page(`/admin/courses?q=${encodeURIComponent(searches[i % searches.length]!)}`));
    const hidden = await time(RUNS, () => page('/admin/courses?visible=no'));
    const byShortname = await time(RUNS, () => page('/admin/courses?sort=shortname'));
    const newest = await time(RUNS, () => page('/admin/courses?sort=-id'));

    const line = ratioLine(baseline, 58);
    console.log(`median of ${RUNS} runs`);
    line('baseline: 51 rows by primary key, straight from the table', baseline);
    line('/admin/courses (first page, by full name)', first);
    line('/admin/courses?cursor=… (page 201)', deep);
    line('/admin/courses?q=… (name prefix)', search);
    line('/admin/courses?visible=no (hidden only)', hidden);
    line('/admin/courses?sort=shortname', byShortname);
    line('/admin/courses?sort=-id (newest first)', newest);
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
