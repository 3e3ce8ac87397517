/**
 * Benchmark: "assign a program to all matching users" from the user list (one individual rule per
 * user, the `assignment.bulk_assign` job), against assigning a program to the same users through
 * one audience rule, timed in the same run (results in docs/benchmarks.md).
 *
 *   npx tsx scripts/bench/bulk-assign.ts                                  # SQLite, 10,000 users
 *   TEST_MYSQL_URL=mysql://root@127.0.0.1:3306 BENCH_DB=mysql npx tsx scripts/bench/bulk-assign.ts
 *   BENCH_USERS=2000 npx tsx scripts/bench/bulk-assign.ts                 # a quicker run
 *
 * The site has USERS users, all members of one static audience, and the assign_individual and
 * assign_audience plugins on. Each round creates two one-course programs: the baseline assigns the
 * first to the audience (one rule, its sync job); the measured run assigns the second to every user
 * through the bulk job, with every job it queues drained. Both end with USERS learners assigned.
 * Rounds alternate; the medians and their ratio are printed (BENCH_ROUNDS, default 3).
 */
import type { Site } from '../../core/site';
import { BULK_ASSIGN_JOB } from '../../core/modules/assignment/user-pages';
import type { Dialect } from '../../core/kernel/db/database';
import { median, seedNumberedUsers, withBenchSite } from './support';

const USERS = Number(process.env.BENCH_USERS ?? 10_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const dialect: Dialect = process.env.BENCH_DB === 'mysql' ? 'mysql' : 'sqlite';
const PLUGINS = ['assign_individual', 'assign_audience'];

const s = (ms: number): string => (ms < 1000 ? `${ms.toFixed(0)} ms` : `${(ms / 1000).toFixed(2)} s`);

async function seed(site: Site): Promise<{ audienceId: number; courseId: number }> {
  const knex = site.db.knex;
  const now = site.db.now();
  await seedNumberedUsers(site, dialect, USERS);
  const audience = await site.services.audiences.create({ name: 'Everyone' });
  await knex.raw(`INSERT INTO audience_members (audience_id, user_id, source, added_at) SELECT ?, id, 'manual', ? FROM users`, [audience.id, now]);
  const course = await site.services.courses.create({ shortname: 'bench-course', fullname: 'Bench course' });
  return { audienceId: audience.id, courseId: course.id };
}

async function assigned(site: Site, programId: number): Promise<number> {
  const [row] = await site.db.knex('program_user_assignments').where({ program_id: programId, status: 'active' }).count({ n: '*' });
  return Number(row!.n);
}

async function main(): Promise<void> {
  await withBenchSite(
    'bench-bulk-assign-secret-0123456789',
    async (site) => {
      const seeded = performance.now();
      const { audienceId, courseId } = await seed(site);
      console.log(`${dialect}: ${USERS} users in one audience, seeded in ${s(performance.now() - seeded)}`);
      const program = async (name: string) =>
        (await site.services.programs.create({ shortname: name, fullname: name, courseSets: [{ courseIds: [courseId], rule: 'all' }] })).program.id;
      const bulk: number[] = [];
      const audience: number[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const viaAudience = await program(`audience-${round}`);
        let started = performance.now();
        await site.services.assignment.addRule(viaAudience, { source: 'audience', instanceId: audienceId });
        await site.jobs.drain();
        audience.push(performance.now() - started);

        const viaBulk = await program(`bulk-${round}`);
        started = performance.now();
        await site.jobs.enqueue(BULK_ASSIGN_JOB, { programId: viaBulk, choice: {} });
        await site.jobs.drain();
        bulk.push(performance.now() - started);

        const counts = [await assigned(site, viaAudience), await assigned(site, viaBulk)];
        if (counts.some((n) => n !== USERS)) throw new Error(`expected ${USERS} assigned by each route, got ${counts.join(' and ')}`);
        console.log(`round ${round + 1}: audience rule ${s(audience[round]!)}, bulk assign ${s(bulk[round]!)}`);
      }
      const [a, b] = [median(audience), median(bulk)];
      console.log(`median: audience rule ${s(a)}, bulk assign of ${USERS} individual rules ${s(b)}: ${(b / a).toFixed(2)} x the audience rule`);
    },
    PLUGINS,
  );
}

await main();
