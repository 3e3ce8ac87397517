/**
 * Benchmark: recomputing a dynamic audience whose members are assigned a program, against a raw
 * INSERT ... SELECT of the same rows in the same run (the targets and results are in docs/benchmarks.md).
 *
 *   npx tsx scripts/bench/audiences.ts                                   # SQLite, 10,000 members
 *   TEST_MYSQL_URL=mysql://root@127.0.0.1:3306 BENCH_DB=mysql npx tsx scripts/bench/audiences.ts
 *   BENCH_MEMBERS=2000 npx tsx scripts/bench/audiences.ts                # a quicker run
 *
 * The site has 2 x MEMBERS users, half with preferred language `aa`, half `bb`, interleaved by id;
 * a dynamic audience "language is aa" (MEMBERS members); a one-course program assigned to that
 * audience (the rule job has run, so MEMBERS learners are assigned), with the assign_audience and
 * enrol_program plugins on (assignment enrols each learner in the course, unassignment suspends).
 *
 * Each round edits the rules to the other language and times the recompute job's body
 * (`audiences.recompute`): MEMBERS learners leave, MEMBERS join, and the program follows (MEMBERS
 * assignments ended, MEMBERS made). The baseline, timed in the same round, is one transaction of raw
 * INSERT ... SELECT statements writing the same number of rows into identically indexed copies of
 * the three tables the recompute adds rows to (audience members, rule members, assignments). Rounds
 * alternate recompute and baseline; the medians and their ratio are printed, with the statements the
 * recompute ran (BENCH_ROUNDS, default 3).
 */
import type { Site } from '../../core/site';
import type { Dialect } from '../../core/kernel/db/database';
import { median, seedNumberedUsers, withBenchSite } from './support';

const MEMBERS = Number(process.env.BENCH_MEMBERS ?? 10_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const dialect: Dialect = process.env.BENCH_DB === 'mysql' ? 'mysql' : 'sqlite';
const PLUGINS = ['assign_audience', 'enrol_program'];

const s = (ms: number): string => (ms < 1000 ? `${ms.toFixed(0)} ms` : `${(ms / 1000).toFixed(2)} s`);

async function seed(site: Site): Promise<{ audienceId: number; programId: number; ruleId: number }> {
  const knex = site.db.knex;
  await seedNumberedUsers(site, dialect, 2 * MEMBERS, "CASE WHEN n % 2 = 0 THEN 'aa' ELSE 'bb' END");
  const audience = await site.services.audiences.create({ name: 'Speakers', rules: [{ type: 'user_field', field: 'lang', value: 'aa' }] });
  const course = await site.services.courses.create({ shortname: 'bench-course', fullname: 'Bench course' });
  const { program } = await site.services.programs.create({
    shortname: 'bench-p',
    fullname: 'Bench program',
    courseSets: [{ courseIds: [course.id], rule: 'all' }],
  });
  const { rule } = await site.services.assignment.addRule(program.id, { source: 'audience', instanceId: audience.id });
  await site.jobs.drain();

  // Identically indexed copies of the three tables the recompute adds rows to, for the baseline.
  for (const table of ['audience_members', 'program_rule_members', 'program_user_assignments']) {
    const copy = `bench_${table}`;
    if (dialect === 'mysql') await knex.raw(`CREATE TABLE ${copy} LIKE ${table}`);
    else {
      const [{ sql }] = (await knex.raw(`SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?`, [table])) as Array<{ sql: string }>;
      await knex.raw(sql.replace(/^CREATE TABLE [`"]?\w+[`"]?/, `CREATE TABLE ${copy}`));
      const indexes = (await knex.raw(`SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL`, [table])) as Array<{
        sql: string;
      }>;
      for (const index of indexes)
        await knex.raw(index.sql.replace(/INDEX [`"]?(\w+)[`"]?/, (_m, name: string) => `INDEX bench_${name}`).replace(/ ON [`"]?\w+[`"]?/, ` ON ${copy}`));
    }
  }
  return { audienceId: audience.id, programId: program.id, ruleId: rule.id };
}

/** The rows a recompute adds, written raw: MEMBERS audience members, rule members and assignments, one transaction. */
async function baseline(site: Site, round: number, ids: { audienceId: number; programId: number; ruleId: number }): Promise<number> {
  const knex = site.db.knex;
  for (const table of ['audience_members', 'program_rule_members', 'program_user_assignments']) await knex(`bench_${table}`).delete();
  const now = site.db.now();
  const parity = round % 2;
  const started = performance.now();
  await site.db.transaction(async (trx) => {
    await trx.raw(`INSERT INTO bench_audience_members (audience_id, user_id, source, added_at) SELECT ?, n, 'rules', ? FROM bench_seq WHERE n % 2 = ?`, [
      ids.audienceId,
      now,
      parity,
    ]);
    await trx.raw(
      `INSERT INTO bench_program_rule_members (program_id, rule_id, user_id, due_state, event_at, due_at, created_at)
       SELECT ?, ?, n, 'known', NULL, NULL, ? FROM bench_seq WHERE n % 2 = ?`,
      [ids.programId, ids.ruleId, now, parity],
    );
    await trx.raw(
      `INSERT INTO bench_program_user_assignments (program_id, user_id, status, due_at, rule_state, rule_due_at, assigned_at, exception_id, accepted_due_at, created_at, updated_at)
       SELECT ?, n, 'active', NULL, 'known', NULL, ?, NULL, NULL, ?, ? FROM bench_seq WHERE n % 2 = ?`,
      [ids.programId, now, now, now, parity],
    );
  });
  return performance.now() - started;
}

async function main(): Promise<void> {
  await withBenchSite(
    'bench-audiences-secret-0123456789',
    async (site) => {
      const seeded = performance.now();
      const ids = await seed(site);
      const { audienceId, programId } = ids;
      console.log(`${dialect}: ${2 * MEMBERS} users, audience of ${MEMBERS} assigned a program, seeded in ${s(performance.now() - seeded)}`);
      const recomputes: number[] = [];
      const baselines: number[] = [];
      let statements = 0;
      const count = () => statements++;
      for (let round = 0; round < ROUNDS; round++) {
        baselines.push(await baseline(site, round, ids));
        const lang = round % 2 === 0 ? 'bb' : 'aa';
        await site.services.audiences.update(audienceId, { rules: [{ type: 'user_field', field: 'lang', value: lang }] });
        statements = 0;
        // Where the time goes: the assignment module's answer to the batches (enrolment included), and
        // enrol_program's (un)enrolment inside it.
        const inHooks = { batch: 0, enrolment: 0 };
        const stopIntercepting = site.hooks.intercept((event) => {
          if (event.hook === 'onAudienceMembershipBatch' || event.hook === 'onAssignmentChange') inHooks.batch += event.durationMs;
          if (event.hook === 'onProgramAssigned' || event.hook === 'onProgramUnassigned') inHooks.enrolment += event.durationMs;
        });
        site.db.knex.on('query', count);
        const started = performance.now();
        const counts = await site.services.audiences.recompute(audienceId);
        recomputes.push(performance.now() - started);
        site.db.knex.off('query', count);
        stopIntercepting();
        const [{ n }] = (await site.db.knex('program_user_assignments').where({ program_id: programId, status: 'active' }).count({ n: '*' })) as Array<{
          n: number | string;
        }>;
        if (counts.added !== MEMBERS || counts.removed !== MEMBERS || Number(n) !== MEMBERS)
          throw new Error(`round ${round}: added ${counts.added}, removed ${counts.removed}, assigned ${n}; expected ${MEMBERS} each`);
        console.log(
          `  round ${round + 1}: baseline ${s(baselines[round]!)}, recompute ${s(recomputes[round]!)} (${counts.added} in, ${counts.removed} out, ${statements} statements; assignment ${s(inHooks.batch)}, of which enrolment ${s(inHooks.enrolment)})`,
        );
        // The queued recompute job (a no-op now) and the events' deliveries, outside the timing.
        await site.jobs.drain();
      }
      const r = median(recomputes);
      const b = median(baselines);
      console.log(`  median: baseline ${s(b)}, recompute ${s(r)}, recompute / baseline ${(r / b).toFixed(1)}x`);
    },
    PLUGINS,
  );
}

await main();
