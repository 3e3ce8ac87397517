/**
 * Benchmark: recording one course completion for a learner whose course is in 20 programs,
 * including the program recalculation, as a ratio to one indexed INSERT on the same database in
 * the same run (medians of many iterations).
 *
 *   npx tsx scripts/bench/completion.ts                 # SQLite
 *   TEST_MYSQL_URL=mysql://root@127.0.0.1:3306 npx tsx scripts/bench/completion.ts   # + MariaDB/MySQL
 *
 * Two scenarios: "no change" (the course is one of two required courses in each program, so the
 * recalculation evaluates 20 programs and writes nothing) and "completes a set" (the course alone
 * makes up the first set of each program, so 20 course-set rows are written and 20 hooks fire).
 * Time spent in other modules' hook handlers (audiences, assignment sync) is reported separately.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import winston from 'winston';
import { createSite, type Site } from '../../core/site';
import { createTestDatabase, type TestDatabase } from '../../test/utils/db';
import type { Dialect } from '../../core/kernel/db/database';

const PROGRAMS = 20;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function users(site: Site, prefix: string, n: number): Promise<number[]> {
  const now = site.db.now();
  const rows = Array.from({ length: n }, (_, i) => ({
    username: `${prefix}${i}`,
    email: `${prefix}${i}@example.com`,
    fullname: `${prefix} ${i}`,
    created_at: now,
    updated_at: now,
  }));
  for (let i = 0; i < rows.length; i += 200) await site.db.knex('users').insert(rows.slice(i, i + 200));
  return (await site.db.knex('users').where('username', 'like', `${prefix}%`).orderBy('id').select('id')).map((r) => Number(r.id));
}

let baselineSeq = 0;

/** One indexed autocommit INSERT: the unit the completion cost is compared with. */
async function baselineInsert(site: Site): Promise<number> {
  const started = performance.now();
  await site.db.knex.raw('INSERT INTO bench_baseline (user_id, course_id, completed_at) VALUES (?, ?, ?)', [++baselineSeq, 1, Date.now()]);
  return performance.now() - started;
}

/**
 * Alternates one baseline INSERT and one completion per iteration, so both see the same machine
 * load (other processes, GC) and the ratio stays meaningful on a busy machine.
 */
async function scenario(site: Site, name: string, firstSetOnly: boolean, iterations: number): Promise<{ insert: number; completion: number; own: number }> {
  const target = (await site.services.courses.create({ shortname: `${name}-target`, fullname: 'Target' })).id;
  for (let p = 0; p < PROGRAMS; p++) {
    const other = (await site.services.courses.create({ shortname: `${name}-other${p}`, fullname: `Other ${p}` })).id;
    await site.services.programs.create({
      shortname: `${name}-p${p}`,
      fullname: `Program ${p}`,
      courseSets: firstSetOnly
        ? [
            { courseIds: [target], rule: 'all', operator: 'then' },
            { courseIds: [other], rule: 'all' },
          ]
        : [{ courseIds: [target, other], rule: 'all' }],
    });
  }
  const learners = await users(site, `${name}u`, iterations + 50);
  const inserts: number[] = [];
  const times: number[] = [];
  const own: number[] = [];
  // Time spent in other modules' hook handlers (audiences, assignment sync) reacting to the completion.
  let handlerMs = 0;
  const stopIntercepting = site.hooks.intercept((event) => {
    handlerMs += event.durationMs;
  });
  for (const [i, userId] of learners.entries()) {
    const insert = await baselineInsert(site);
    handlerMs = 0;
    const started = performance.now();
    const result = await site.services.completion.recordCourseCompletion(target, userId, { completedAt: Date.UTC(2026, 0, 1) + i });
    const elapsed = performance.now() - started;
    if (i === 0) {
      const expected = firstSetOnly ? PROGRAMS : 0;
      if (result.events.length !== expected) throw new Error(`${name}: expected ${expected} completion events, got ${result.events.length}`);
    }
    // The first 50 warm the structure cache, prepared statements and the JIT.
    if (i >= 50) {
      inserts.push(insert);
      times.push(elapsed);
      own.push(elapsed - handlerMs);
    }
  }
  stopIntercepting();
  return { insert: median(inserts), completion: median(times), own: median(own) };
}

async function run(dialect: Dialect, iterations: number): Promise<void> {
  const database: TestDatabase = await createTestDatabase(dialect);
  const pluginsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'waymark-bench-'));
  const site = createSite({
    config: { databaseUrl: database.url, pluginsDir },
    logger: winston.createLogger({ silent: true, transports: [new winston.transports.Console()] }),
  });
  try {
    await site.start();
    await site.db.knex.schema.createTable('bench_baseline', (t) => {
      t.increments('id');
      t.integer('user_id').notNullable();
      t.integer('course_id').notNullable();
      t.bigInteger('completed_at').notNullable();
      t.unique(['user_id', 'course_id']);
    });
    const fmt = (ms: number) => `${(ms * 1000).toFixed(0).padStart(6)} µs`;
    console.log(`\n${dialect} (${iterations} iterations, medians; each completion is timed next to one INSERT):`);
    for (const [label, name, firstSetOnly] of [
      ['no change (reads only)', 'nochange', false],
      ['completes a set in each', 'sets', true],
    ] as const) {
      const r = await scenario(site, name, firstSetOnly, iterations);
      console.log(`  ${PROGRAMS} programs, ${label.padEnd(24)} INSERT ${fmt(r.insert)}`);
      console.log(`    completion + recalculation, hooks excluded ${fmt(r.own)}  ratio ${(r.own / r.insert).toFixed(1)}x`);
      console.log(`    with every hook handler of the site       ${fmt(r.completion)}  ratio ${(r.completion / r.insert).toFixed(1)}x`);
    }
  } finally {
    await site.stop();
    await database.drop();
    fs.rmSync(pluginsDir, { recursive: true, force: true });
  }
}

await run('sqlite', Number(process.env.BENCH_ITERATIONS ?? 2000));
if (process.env.TEST_MYSQL_URL) await run('mysql', Number(process.env.BENCH_ITERATIONS_MYSQL ?? 500));
