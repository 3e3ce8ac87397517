/**
 * Benchmark: the program completion report (issue 14).
 *
 *   npx tsx scripts/bench/reports.ts [rows]                # SQLite, default 1,000,000 rows
 *   BENCH_DB=mysql TEST_MYSQL_URL=mysql://root@127.0.0.1:3306 npx tsx scripts/bench/reports.ts 200000
 *
 * 1. Export: a program with `rows` assigned learners is exported to CSV (/dev/null) through the
 *    reports service, exactly as `GET /reports/program_completion.csv` and `waymark report export`
 *    do (SQLite: keyset batches of 5,000; MariaDB: one streamed statement, presented 5,000 rows at a
 *    time; the learners' progress inputs as columns of the read; CSV text with backpressure). Next to
 *    it, in the same run, the raw baseline: the export's own statement (`exportStatement`: same rows,
 *    joins and columns) streamed by the driver to /dev/null, one joined line per row. Rows/s of each
 *    (median of 3 alternating rounds), their ratio, the peak RSS of each phase sampled every 20 ms,
 *    and the same ratio by CPU time (on SQLite the whole cost; a loaded host's wait for a CPU left
 *    out). The rounds run in a child process (BENCH_CHILD) that only starts a site on the seeded
 *    database: its RSS is the export's, not the seeding's.
 * 2. Paging: a second program with 100,000 learners (or `rows` when fewer): every order (by name, by
 *    due date, by assignment), first pages and 21st pages by cursor, the status and due filters, and
 *    searches matching a few users and most of them; median of 7 reads of each, 50 rows.
 *    BENCH_SKIP_EXPORT=1 runs the paging part only; BENCH_EXPLAIN=1 prints the name page's plan.
 *
 * Data: 1 in 10 learners completed the first course, 1 in 5 has 2 of the second course's 4 tracked
 * activities, 1 in 20 has a complete program record; due dates are past (1 in 4), future or none.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import Database from 'better-sqlite3';
import type { Knex } from 'knex';
import winston from 'winston';
import { createSite, type Site } from '../../core/site';
import { createTestDatabase } from '../../test/utils/db';
import type { Dialect } from '../../core/kernel/db/database';

const ROWS = Number(process.argv[2] ?? 1_000_000);
const PAGE_LEARNERS = Math.min(100_000, ROWS);
const DIALECT: Dialect = process.env.BENCH_DB === 'mysql' ? 'mysql' : 'sqlite';
const DAY = 86_400_000;
/** BENCH_SKIP_EXPORT=1: only the paging measurements. */
const SKIP_EXPORT = process.env.BENCH_SKIP_EXPORT === '1';

/** Peak RSS while `work` runs (sampled every 20 ms), with the RSS before it. */
async function measured<T>(work: () => Promise<T>): Promise<{ result: T; ms: number; cpuMs: number; rssBefore: number; rssPeak: number }> {
  (globalThis as { gc?: () => void }).gc?.();
  const rssBefore = process.memoryUsage().rss;
  let rssPeak = rssBefore;
  const timer = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 20);
  const started = performance.now();
  const cpu = process.cpuUsage();
  try {
    const result = await work();
    rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
    const used = process.cpuUsage(cpu);
    return { result, ms: performance.now() - started, cpuMs: (used.user + used.system) / 1000, rssBefore, rssPeak };
  } finally {
    clearInterval(timer);
  }
}

/** /dev/null as a stream that honours backpressure like a socket or a file would. */
const devNull = (): Writable => fs.createWriteStream('/dev/null');

async function insertBatched(site: Site, table: string, rows: Array<Record<string, unknown>>): Promise<void> {
  const size = DIALECT === 'mysql' ? 2000 : 500;
  await site.db.knex.transaction(async (trx) => {
    for (let i = 0; i < rows.length; i += size) await trx(table).insert(rows.slice(i, i + size));
  });
}

async function seed(site: Site): Promise<{ big: number; paged: number }> {
  const now = site.db.now();
  const c1 = (await site.services.courses.create({ shortname: 'bench-c1', fullname: 'Course one' })).id;
  const c2 = (await site.services.courses.create({ shortname: 'bench-c2', fullname: 'Course two' })).id;
  const activities: number[] = [];
  for (let i = 0; i < 4; i++) activities.push((await site.services.courses.addActivity(c2, { type: 'page', name: `Step ${i}`, completionTracked: true })).id);
  const structure = [{ courseIds: [c1, c2], rule: 'all' as const }];
  const big = (await site.services.programs.create({ shortname: 'bench-big', fullname: 'Compliance', courseSets: structure })).program.id;
  const paged = (await site.services.programs.create({ shortname: 'bench-paged', fullname: 'Onboarding', courseSets: structure })).program.id;

  const CHUNK = 50_000;
  for (let start = 0; start < ROWS; start += CHUNK) {
    const n = Math.min(CHUNK, ROWS - start);
    const users = Array.from({ length: n }, (_, k) => {
      const i = start + k;
      // Names in no particular id order, so the name order is not the id order.
      const name = `${String.fromCharCode(65 + ((i * 7) % 26))}${String.fromCharCode(97 + ((i * 13) % 26))} Learner ${i}`;
      return { username: `bench${i}`, email: `bench${i}@example.com`, fullname: name, created_at: now, updated_at: now };
    });
    await insertBatched(site, 'users', users);
    process.stderr.write(`seeded ${start + n} users\r`);
  }
  const firstId = Number((await site.db.knex('users').where('username', 'bench0').first('id')).id);
  const userId = (i: number) => firstId + i;
  const due = (i: number) => (i % 4 === 0 ? now - ((i % 90) + 1) * DAY : i % 4 === 1 ? null : now + ((i % 300) + 1) * DAY);

  for (let start = 0; start < ROWS; start += 50_000) {
    const n = Math.min(50_000, ROWS - start);
    const idx = Array.from({ length: n }, (_, k) => start + k);
    const assignment = (programId: number) => (i: number) => ({
      program_id: programId,
      user_id: userId(i),
      status: 'active',
      due_at: due(i),
      rule_state: 'known',
      assigned_at: now - 100 * DAY,
      created_at: now,
      updated_at: now,
    });
    await insertBatched(site, 'program_user_assignments', idx.map(assignment(big)));
    await insertBatched(site, 'program_user_assignments', idx.filter((i) => i < PAGE_LEARNERS).map(assignment(paged)));
    await insertBatched(
      site,
      'course_completions',
      idx.filter((i) => i % 10 === 0).map((i) => ({ user_id: userId(i), course_id: c1, completed_at: now - DAY, source: 'api', created_at: now })),
    );
    await insertBatched(
      site,
      'activity_completions',
      idx.filter((i) => i % 5 === 1).flatMap((i) => activities.slice(0, 2).map((a) => ({ user_id: userId(i), activity_id: a, completed_at: now - DAY }))),
    );
    await insertBatched(
      site,
      'program_completions',
      idx
        .filter((i) => i % 20 === 0)
        .flatMap((i) =>
          [big, ...(i < PAGE_LEARNERS ? [paged] : [])].map((p) => ({
            program_id: p,
            user_id: userId(i),
            status: 'complete',
            completed_at: now - DAY,
            due_at: null,
            created_at: now,
            updated_at: now,
          })),
        ),
    );
    process.stderr.write(`seeded ${start + n} assignments\r`);
  }
  process.stderr.write('\n');
  // Statistics as a site that has been running has them (InnoDB recomputes them in the background
  // after bulk inserts, so a plan chosen right after seeding would see a table of one row).
  if (DIALECT === 'sqlite') await site.db.knex.raw('ANALYZE');
  else await site.db.knex.raw('ANALYZE TABLE users, program_user_assignments, program_completions, course_completions, activity_completions');
  return { big, paged };
}

/**
 * The raw SELECT streamed to /dev/null, one line per row: the driver's own streaming, no batches,
 * nothing computed. The statement is the export's own read (the service's `exportStatement`: the
 * same rows, joins and columns, the learners' progress inputs included), so the ratio measures what
 * the export adds to reading its data.
 */
async function rawSelect(site: Site, databaseFile: string | null, statement: { sql: string; bindings: readonly unknown[] }): Promise<number> {
  let rows = 0;
  const line = (r: Record<string, unknown>) => {
    rows++;
    return `${Object.values(r).join(',')}\n`;
  };
  if (databaseFile) {
    // better-sqlite3's iterator: one row at a time (knex's SQLite stream would read every row first).
    const db = new Database(databaseFile, { readonly: true });
    try {
      const out = devNull();
      for (const r of db.prepare(statement.sql).iterate(...statement.bindings) as Iterable<Record<string, unknown>>) {
        if (!out.write(line(r))) await new Promise((resolve) => out.once('drain', resolve));
      }
      out.end();
      await new Promise((resolve) => out.once('close', resolve));
    } finally {
      db.close();
    }
    return rows;
  }
  const source = site.db.knex.raw(statement.sql, statement.bindings as Knex.RawBinding[]).stream();
  await pipeline(
    source,
    async function* (input: AsyncIterable<Record<string, unknown>>) {
      for await (const r of input) yield line(r);
    },
    devNull(),
  );
  return rows;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

async function pageTimes(site: Site, programId: number): Promise<void> {
  const reports = site.services.reports;
  const time = async (label: string, query: Record<string, string>) => {
    const request = await reports.parse('program_completion', { programId: String(programId), limit: '50', ...query });
    const times: number[] = [];
    let items = 0;
    for (let i = 0; i < 7; i++) {
      const started = performance.now();
      items = (await reports.page('program_completion', request)).items.length;
      times.push(performance.now() - started);
    }
    console.log(`  ${label.padEnd(44)} ${median(times).toFixed(1).padStart(7)} ms  (${items} rows)`);
  };
  // A cursor 20 pages in, by name and by due date.
  const twentyIn = async (query: Record<string, string>): Promise<string> => {
    let cursor: string | null = null;
    for (let i = 0; i < 20; i++) {
      const request = await reports.parse('program_completion', { programId: String(programId), limit: '50', ...query, ...(cursor ? { cursor } : {}) });
      cursor = (await reports.page('program_completion', request)).nextCursor;
    }
    return cursor!;
  };
  const cursor = await twentyIn({});
  const dueCursor = await twentyIn({ sort: 'due' });
  if (process.env.BENCH_EXPLAIN === '1') {
    // The plan of the first page by name (diagnostics): the statement the service runs, explained.
    const seen: Array<{ sql: string; bindings: unknown[] }> = [];
    const capture = (q: { sql: string; bindings: unknown[] }) => seen.push(q);
    site.db.knex.on('query', capture);
    await reports.page('program_completion', await reports.parse('program_completion', { programId: String(programId), limit: '50' }));
    site.db.knex.off('query', capture);
    const page = seen.find((q) => /order by/i.test(q.sql))!;
    console.log(page.sql);
    const plan = (await site.db.knex.raw(`${DIALECT === 'mysql' ? 'EXPLAIN' : 'EXPLAIN QUERY PLAN'} ${page.sql}`, page.bindings as never[])) as unknown;
    console.log(JSON.stringify(DIALECT === 'mysql' ? (plan as unknown[])[0] : plan, null, 1));
  }
  console.log(`Paging a ${PAGE_LEARNERS.toLocaleString('en')}-learner program (median of 7, 50 rows a page, service level):`);
  await time('first page, by learner name', {});
  await time('page 21, by learner name (cursor)', { cursor });
  await time('first page, by learner name, status overdue', { status: 'overdue' });
  await time('first page, by learner name, due window', { dueFrom: new Date(Date.now() + 30 * DAY).toISOString().slice(0, 10) });
  await time('first page, by due date', { sort: 'due' });
  await time('page 21, by due date (cursor)', { sort: 'due', cursor: dueCursor });
  await time('first page, by due date, status overdue', { sort: 'due', status: 'overdue' });
  await time('first page, search "learner 4321"', { search: 'learner 4321' });
  await time('first page, search "learner 4321", by due date', { search: 'learner 4321', sort: 'due' });
  await time('first page, search "learner 1" (most users)', { search: 'learner 1' });
  await time('first page, search "learner 1", by due date', { search: 'learner 1', sort: 'due' });
  await time('first page, assignment order', { sort: 'id' });
}

type Measured = Awaited<ReturnType<typeof measured<number>>>;

/**
 * The export rounds, in a process of their own (BENCH_CHILD): a site started on the seeded database
 * and nothing else, so its RSS is what serving the export takes, not what seeding left behind.
 * Raw and export alternate, three rounds: both see the same machine load (other processes, a warm
 * cache), and the ratio of the medians is what to read on a busy machine.
 */
async function exportRounds(url: string, big: number): Promise<{ raws: Measured[]; exps: Measured[] }> {
  const pluginsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'waymark-bench-noplugins-'));
  const site = createSite({
    config: { databaseUrl: url, pluginsDir },
    logger: winston.createLogger({ silent: true, transports: [new winston.transports.Console()] }),
  });
  await site.start();
  try {
    const file = DIALECT === 'sqlite' ? url.replace(/^sqlite:/, '') : null;
    const request = await site.services.reports.parse('program_completion', { programId: String(big) }, 'export');
    const statement = await site.services.reports.exportStatement('program_completion', request);
    const raws: Measured[] = [];
    const exps: Measured[] = [];
    for (let i = 0; i < 3; i++) {
      const raw = await measured(() => rawSelect(site, file, statement));
      const exp = await measured(() => site.services.reports.exportCsv('program_completion', request, devNull()));
      if (raw.result !== ROWS || exp.result !== ROWS) throw new Error(`expected ${ROWS} rows, raw ${raw.result}, export ${exp.result}`);
      raws.push(raw);
      exps.push(exp);
    }
    return { raws, exps };
  } finally {
    await site.stop();
    fs.rmSync(pluginsDir, { recursive: true, force: true });
  }
}

/** Runs {@link exportRounds} in a child process (this script with BENCH_CHILD) and reads its results. */
function exportRoundsInChild(url: string, big: number): { raws: Measured[]; exps: Measured[] } {
  const result = spawnSync(process.execPath, [...process.execArgv, process.argv[1]!, String(ROWS)], {
    env: { ...process.env, BENCH_CHILD: JSON.stringify({ url, big }) },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1 << 20,
  });
  if (result.status !== 0) throw new Error(`export rounds failed (${result.status}): ${result.stdout}`);
  return JSON.parse(result.stdout.trim().split('\n').pop()!) as { raws: Measured[]; exps: Measured[] };
}

async function run(): Promise<void> {
  const database = await createTestDatabase(DIALECT);
  const pluginsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'waymark-bench-noplugins-'));
  const site = createSite({
    config: { databaseUrl: database.url, pluginsDir },
    logger: winston.createLogger({ silent: true, transports: [new winston.transports.Console()] }),
  });
  await site.start();
  try {
    console.log(`Reports benchmark on ${DIALECT}, ${ROWS.toLocaleString('en')} rows (${os.cpus().length} CPUs)`);
    const seeded = await measured(() => seed(site));
    console.log(`Seeded in ${(seeded.ms / 1000).toFixed(1)} s`);
    const { big, paged } = seeded.result;
    if (SKIP_EXPORT) {
      await pageTimes(site, paged);
      return;
    }
    const { raws, exps } = exportRoundsInChild(database.url, big);
    const mid = (list: typeof raws) => [...list].sort((a, b) => a.ms - b.ms)[1]!;
    const raw = mid(raws);
    const exp = mid(exps);
    const peak = (list: typeof raws) => Math.max(...list.map((m) => m.rssPeak));
    const rate = (m: { ms: number }) => ROWS / (m.ms / 1000);
    console.log(`Export of ${ROWS.toLocaleString('en')} rows to /dev/null (median of 3, alternating, in a process of their own):`);
    console.log(
      `  raw SELECT streamed         ${(raw.ms / 1000).toFixed(2).padStart(7)} s  ${Math.round(rate(raw)).toLocaleString('en').padStart(9)} rows/s  RSS ${mb(raws[0]!.rssBefore)} -> peak ${mb(peak(raws))}`,
    );
    console.log(
      `  program_completion CSV      ${(exp.ms / 1000).toFixed(2).padStart(7)} s  ${Math.round(rate(exp)).toLocaleString('en').padStart(9)} rows/s  RSS ${mb(exps[0]!.rssBefore)} -> peak ${mb(peak(exps))}`,
    );
    console.log(`  export rate / raw rate      ${((rate(exp) / rate(raw)) * 100).toFixed(0)}%  (target >= 50%)`);
    // On a shared host the wall clock includes waiting for a CPU; the process's own CPU time does
    // not (on SQLite the database works in this process, so it is the whole cost of each phase).
    const cpuMid = (list: typeof raws) => [...list].sort((a, b) => a.cpuMs - b.cpuMs)[1]!.cpuMs;
    console.log(
      `  by CPU time of this process: raw ${(cpuMid(raws) / 1000).toFixed(2)} s, export ${(cpuMid(exps) / 1000).toFixed(2)} s, rate ratio ${((cpuMid(raws) / cpuMid(exps)) * 100).toFixed(0)}%`,
    );
    console.log(`  rounds (raw s / export s):  ${raws.map((r, i) => `${(r.ms / 1000).toFixed(2)}/${(exps[i]!.ms / 1000).toFixed(2)}`).join('  ')}`);
    await pageTimes(site, paged);
  } finally {
    await site.stop();
    if (process.env.BENCH_KEEP === '1') console.log(`kept ${database.url}`);
    else await database.drop();
    fs.rmSync(pluginsDir, { recursive: true, force: true });
  }
}

if (process.env.BENCH_CHILD) {
  const { url, big } = JSON.parse(process.env.BENCH_CHILD) as { url: string; big: number };
  console.log(JSON.stringify(await exportRounds(url, big)));
} else {
  await run();
}
