/**
 * Benchmark: dynamic program assignment at scale (the targets are in docs/benchmarks.md).
 *
 *   npx tsx scripts/bench/assignment.ts                                   # SQLite, 100k and 10k users
 *   BENCH_DIALECTS=sqlite,mysql TEST_MYSQL_URL=mysql://root@127.0.0.1:3306 npx tsx scripts/bench/assignment.ts
 *   BENCH_USERS=20000 npx tsx scripts/bench/assignment.ts                 # a quicker run
 *
 * On MariaDB the run gives the server a 1 GiB buffer pool for its duration (withBufferPool below).
 *
 * The synthetic site is generated with set-based INSERT ... SELECT statements: N users, 100
 * positions and 100 organisations (20 roots with 4 children each), a two-level management chain
 * (10 top managers, 990 middle managers, everyone else in a middle manager's team), 200 static
 * audiences, 200 programs and 1,000 rules (one of each of the five core source types per program;
 * due rules: none, a fixed date, within P3M of first login, within P6M of the assignment date).
 *
 * Measured, per dialect:
 *  1. full sync from nothing (the reconcile job body) vs a raw bulk INSERT of the same number of
 *     membership rows into an identically indexed table (multi-row VALUES, 1,000 rows a statement);
 *  2. the same full sync again with nothing changed: rows written (must be 0) and time ratio;
 *  3. adding an 8,000-member audience to a program: the REST request time and the job time;
 *  4. one user's job-assignment change (position and manager move): median time of the whole
 *     service call and of the incremental sync inside it, on this site and on a 10,000-user site;
 *  5. peak RSS of the process during the full sync.
 *
 * Diagnostics: BENCH_BATCH (users per batch), BENCH_CONCURRENCY (reconcile lanes on MariaDB, default 2), BENCH_ONLY_FULL / BENCH_ONLY_INCREMENTAL /
 * BENCH_ONLY_AUDIENCE (one phase), BENCH_PROFILE=1 (statements of one incremental change and of the
 * audience request), BENCH_PROFILE_FIRST / BENCH_PROFILE_SYNC (statements of one program's first /
 * repeated sync), BENCH_PROFILE_FULL / BENCH_PROFILE_RERUN (statement totals of the first / repeated
 * full sync), BENCH_KEEP=1 (stop after the full sync and keep the database), BENCH_PROFILE_MIN (only statements slower than this many ms).
 * BENCH_EVENT_SUBSCRIBER=1 attaches a no-op subscriber to every core event hook (afterProgramAssigned,
 * afterProgramUnassigned, afterExceptionRaised, afterCompletion), so the syncs record their events in
 * the outbox as they would with a notifications plugin; the run reports the delivery jobs queued
 * and how long draining them takes.
 */
import os from 'node:os';
import knexFactory from 'knex';
import path from 'node:path';
import winston from 'winston';
import request from 'supertest';
import { createSite, type Site } from '../../core/site';
import { createApp } from '../../core/kernel/http/app';
import { createApiToken } from '../../core/kernel/auth/tokens';

import { loadRules, totalWrites } from '../../core/modules/assignment/sync';
import { createTestDatabase } from '../../test/utils/db';
import type { Dialect } from '../../core/kernel/db/database';
import { statementTrace } from '../../core/kernel/db/statements';

const PROGRAMS = 200;
const AUDIENCES = 200;
const ROOTS = 20;
const CHILDREN = 4;
const TOP_MANAGERS = 10;
const MIDDLE_MANAGERS = 990;
const pluginsDir = path.resolve(import.meta.dirname, '../../plugins');
const EVENT_HOOKS = ['afterProgramAssigned', 'afterProgramUnassigned', 'afterExceptionRaised', 'afterCompletion'] as const;
const withEventSubscriber = process.env.BENCH_EVENT_SUBSCRIBER === '1';

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const cat = (dialect: Dialect, ...parts: string[]): string => (dialect === 'mysql' ? `CONCAT(${parts.join(', ')})` : parts.join(' || '));
const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

interface BuiltSite {
  site: Site;
  drop(): Promise<void>;
  users: number;
  programIds: number[];
}

async function buildSite(dialect: Dialect, users: number): Promise<BuiltSite> {
  const database = await createTestDatabase(dialect);
  const site = createSite({
    config: { databaseUrl: database.url, pluginsDir },
    logger: winston.createLogger({ silent: true, transports: [new winston.transports.Console()] }),
  });
  await site.start();
  const knex = site.db.knex;
  const now = site.db.now();
  const started = performance.now();

  await knex.schema.createTable('bench_seq', (t) => t.integer('n').primary());
  for (let i = 1; i <= users; i += 500) {
    const n = Math.min(500, users - i + 1);
    await knex.raw(
      `INSERT INTO bench_seq (n) VALUES ${new Array(n).fill('(?)').join(', ')}`,
      Array.from({ length: n }, (_, k) => i + k),
    );
  }
  // Users 1..N (a fresh database numbers them in insert order); 10% never logged in.
  await knex.raw(
    `INSERT INTO users (username, email, fullname, is_admin, lang, timezone, suspended, deleted, first_login_at, created_at, updated_at)
     SELECT ${cat(dialect, "'u'", 'n')}, ${cat(dialect, "'u'", 'n', "'@example.com'")}, ${cat(dialect, "'User '", 'n')}, 0, 'en', 'UTC', 0, 0,
            CASE WHEN n % 10 = 0 THEN NULL ELSE ? END, ?, ? FROM bench_seq ORDER BY n`,
    [now - 30 * 86_400_000, now, now],
  );
  const [{ lo, hi }] = (await knex('users').min({ lo: 'id' }).max({ hi: 'id' })) as [{ lo: number; hi: number }];
  if (Number(lo) !== 1 || Number(hi) !== users) throw new Error(`expected user ids 1..${users}, got ${lo}..${hi}`);

  // Positions and organisations: idx 0..99; root r is idx r*5, its children r*5+1..r*5+4.
  const hierarchy: Record<'position' | 'organisation', number[]> = { position: [], organisation: [] };
  for (const kind of ['position', 'organisation'] as const) {
    for (let r = 0; r < ROOTS; r++) {
      const root = await site.services.hierarchy.create(kind, { name: `${kind} ${r}` });
      hierarchy[kind].push(root.id);
      for (let c = 0; c < CHILDREN; c++)
        hierarchy[kind].push((await site.services.hierarchy.create(kind, { name: `${kind} ${r}.${c}`, parentId: root.id })).id);
    }
  }
  await knex.schema.createTable('bench_nodes', (t) => {
    t.integer('idx').primary();
    t.integer('position_id');
    t.integer('organisation_id');
  });
  await knex('bench_nodes').insert(hierarchy.position.map((id, idx) => ({ idx, position_id: id, organisation_id: hierarchy.organisation[idx] })));

  // One job assignment per user (id = user id), then the management chain and its paths.
  await knex.raw(
    `INSERT INTO job_assignments (user_id, position_id, organisation_id, manager_path, start_date, position_assigned_date, created_at, updated_at)
     SELECT s.n, b.position_id, b.organisation_id, '/', ?, ?, ?, ? FROM bench_seq s JOIN bench_nodes b ON b.idx = s.n % 100 ORDER BY s.n`,
    [now - 400 * 86_400_000, now - 200 * 86_400_000, now, now],
  );
  const middleOf = `((user_id % ${MIDDLE_MANAGERS}) + ${TOP_MANAGERS + 1})`;
  const topOf = (m: string) => `((${m} % ${TOP_MANAGERS}) + 1)`;
  await knex.raw(`UPDATE job_assignments SET manager_path = ${cat(dialect, "'/'", 'id', "'/'")} WHERE user_id <= ${TOP_MANAGERS}`);
  await knex.raw(
    `UPDATE job_assignments SET manager_job_assignment_id = ${topOf('user_id')}, manager_user_id = ${topOf('user_id')},
       manager_path = ${cat(dialect, "'/'", topOf('user_id'), "'/'", 'id', "'/'")}
     WHERE user_id > ${TOP_MANAGERS} AND user_id <= ${TOP_MANAGERS + MIDDLE_MANAGERS}`,
  );
  await knex.raw(
    `UPDATE job_assignments SET manager_job_assignment_id = ${middleOf}, manager_user_id = ${middleOf},
       manager_path = ${cat(dialect, "'/'", topOf(middleOf), "'/'", middleOf, "'/'", 'id', "'/'")}
     WHERE user_id > ${TOP_MANAGERS + MIDDLE_MANAGERS}`,
  );

  // Static audiences: audience a holds the users with n % 200 = a.
  for (let a = 0; a < AUDIENCES; a++) await knex('audiences').insert({ name: `Audience ${a}`, type: 'static', created_at: now, updated_at: now });
  await knex.raw(
    `INSERT INTO audience_members (audience_id, user_id, source, added_at)
     SELECT a.id, s.n, 'manual', ? FROM bench_seq s JOIN audiences a ON a.id = (s.n % ${AUDIENCES}) + 1`,
    [now],
  );

  const course = await site.services.courses.create({ shortname: 'bench-course', fullname: 'Bench course' });
  const programIds: number[] = [];
  for (let p = 0; p < PROGRAMS; p++) {
    programIds.push(
      (await site.services.programs.create({ shortname: `bench-p${p}`, fullname: `Program ${p}`, courseSets: [{ courseIds: [course.id], rule: 'all' }] }))
        .program.id,
    );
  }
  const rules: Array<Record<string, unknown>> = [];
  const rule = (programId: number, source: string, instance: Record<string, unknown>, due: Record<string, unknown>) =>
    rules.push({
      program_id: programId,
      source,
      instance: JSON.stringify(instance),
      instance_id: instance.instanceId,
      due_date: null,
      due_within: null,
      due_event: null,
      due_instance_id: null,
      ...due,
      version: 1,
      created_at: now,
      updated_at: now,
    });
  const none = { due_kind: 'none' };
  for (const [p, programId] of programIds.entries()) {
    const root = p % 10 === 0;
    rule(programId, 'audience', { instanceId: (p % AUDIENCES) + 1 }, { due_kind: 'relative', due_within: 'P3M', due_event: 'first_login' });
    rule(
      programId,
      'position',
      root ? { instanceId: hierarchy.position[((p / 10) % ROOTS) * 5]!, includeChildren: true } : { instanceId: hierarchy.position[p % 100]! },
      none,
    );
    rule(
      programId,
      'organisation',
      root
        ? { instanceId: hierarchy.organisation[((p / 10 + 3) % ROOTS) * 5]!, includeChildren: true }
        : { instanceId: hierarchy.organisation[(p + 3) % 100]! },
      { due_kind: 'fixed', due_date: Date.UTC(2035, 0, 1) },
    );
    rule(
      programId,
      'manager',
      p % 10 === 5 ? { instanceId: (p % TOP_MANAGERS) + 1, includeChildren: true } : { instanceId: TOP_MANAGERS + 1 + ((p * 7) % MIDDLE_MANAGERS) },
      { due_kind: 'relative', due_within: 'P6M', due_event: 'assignment_date' },
    );
    rule(programId, 'individual', { instanceId: ((p * 37) % users) + 1 }, none);
  }
  for (let i = 0; i < rules.length; i += 100) await knex('program_assignment_rules').insert(rules.slice(i, i + 100));
  console.log(`  built ${users} users, ${PROGRAMS} programs, ${rules.length} rules in ${s(performance.now() - started)}`);
  return {
    site,
    users,
    programIds,
    async drop() {
      await site.stop();
      await database.drop();
    },
  };
}

/** Raw bulk INSERT of `rows` membership-shaped rows into an identically indexed table. */
async function baseline(site: Site, rows: number): Promise<{ ms: number; cpu: number }> {
  const knex = site.db.knex;
  await knex.schema.createTable('bench_baseline', (t) => {
    t.increments('id');
    t.integer('program_id').unsigned().notNullable();
    t.integer('rule_id').unsigned().notNullable();
    t.integer('user_id').unsigned().notNullable();
    t.string('due_state', 10).notNullable();
    t.bigInteger('event_at').nullable();
    t.bigInteger('due_at').nullable();
    t.bigInteger('created_at').notNullable();
    t.unique(['rule_id', 'user_id']);
    t.index(['program_id', 'user_id']);
    t.index(['user_id']);
  });
  const now = Date.now();
  const started = performance.now();
  const cpu0 = process.cpuUsage();
  const perStatement = 1000;
  for (let i = 0; i < rows; i += perStatement * 50) {
    await site.db.transaction(async (trx) => {
      for (let j = i; j < Math.min(rows, i + perStatement * 50); j += perStatement) {
        const values: unknown[] = [];
        const n = Math.min(perStatement, rows - j);
        for (let k = j; k < j + n; k++) values.push((k % PROGRAMS) + 1, (k % 1000) + 1, Math.floor(k / 1000) + 1, 'known', null, now, now);
        await trx.raw(
          `INSERT INTO bench_baseline (program_id, rule_id, user_id, due_state, event_at, due_at, created_at) VALUES ${new Array(n).fill('(?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
          values as never[],
        );
      }
    });
  }
  return { ms: performance.now() - started, cpu: cpuMs(cpu0) };
}

const cpuMs = (since: NodeJS.CpuUsage): number => {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1000;
};

async function fullSync(
  site: Site,
): Promise<{ ms: number; cpu: number; peakRss: number; result: Awaited<ReturnType<Site['services']['assignment']['reconcile']>> }> {
  global.gc?.();
  let peakRss = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 20);
  const started = performance.now();
  const cpu0 = process.cpuUsage();
  const result = await site.services.assignment.reconcile({
    ...(process.env.BENCH_BATCH ? { batchSize: Number(process.env.BENCH_BATCH) } : {}),
    ...(process.env.BENCH_CONCURRENCY ? { concurrency: Number(process.env.BENCH_CONCURRENCY) } : {}),
  });
  const ms = performance.now() - started;
  const cpu = cpuMs(cpu0);
  clearInterval(timer);
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  return { ms, cpu, peakRss, result };
}

/**
 * BENCH_PROFILE=1: the statements run while profiling, with their durations. With `per` set, the
 * statements are aggregated by text over the whole profiled stretch and printed as the mean time
 * per unit of work (e.g. per incremental change), slowest first.
 */
function profileQueries(site: Site, per?: number): () => void {
  const min = Number(process.env.BENCH_PROFILE_MIN ?? 0.5);
  const totals = new Map<string, { ms: number; n: number }>();
  const seen = (sql: string, ms: number) => {
    const text = sql.replace(/\s+/g, ' ').slice(0, 200);
    if (per === undefined) {
      if (ms > min) console.log(`    ${ms.toFixed(2).padStart(8)} ms  ${text}`);
      return;
    }
    const t = totals.get(text) ?? { ms: 0, n: 0 };
    t.ms += ms;
    t.n += 1;
    totals.set(text, t);
  };
  const started = new Map<string, { sql: string; t: number }>();
  const onQuery = (q: { __knexQueryUid: string; sql: string }) => started.set(q.__knexQueryUid, { sql: q.sql, t: performance.now() });
  const onResponse = (_r: unknown, q: { __knexQueryUid: string }) => {
    const s0 = started.get(q.__knexQueryUid);
    if (s0) seen(s0.sql, performance.now() - s0.t);
  };
  site.db.knex.on('query', onQuery).on('query-response', onResponse);
  statementTrace.listener = seen;
  return () => {
    statementTrace.listener = null;
    site.db.knex.removeListener('query', onQuery);
    site.db.knex.removeListener('query-response', onResponse);
    if (per === undefined) return;
    let sum = 0;
    for (const [text, t] of [...totals].sort((a, b) => b[1].ms - a[1].ms)) {
      sum += t.ms;
      console.log(`    ${(t.ms / per).toFixed(3).padStart(8)} ms x${(t.n / per).toFixed(1).padStart(4)}  ${text}`);
    }
    console.log(`    ${(sum / per).toFixed(3).padStart(8)} ms in statements per unit`);
  };
}

/** Median of one user's job-assignment change: whole service call, and the sync inside it. */
async function incremental(site: Site, users: number, iterations: number): Promise<{ call: number; sync: number; samples: number }> {
  const engine = site.services.assignment.engine;
  const original = engine.syncUser.bind(engine);
  let syncMs = 0;
  engine.syncUser = async (trx, change) => {
    const t0 = performance.now();
    try {
      return await original(trx, change);
    } finally {
      syncMs += performance.now() - t0;
    }
  };
  const positions = (await site.db.knex('hierarchy_nodes').where({ kind: 'position' }).orderBy('id').select('id')).map((r) => Number(r.id));
  const calls: number[] = [];
  const syncs: number[] = [];
  let profile: (() => void) | undefined;
  try {
    for (let i = 0; i < iterations + 20; i++) {
      const userId = TOP_MANAGERS + MIDDLE_MANAGERS + 1 + ((i * 7919) % (users - TOP_MANAGERS - MIDDLE_MANAGERS));
      syncMs = 0;
      if (process.env.BENCH_PROFILE && i === 20) profile = profileQueries(site, iterations);
      const t0 = performance.now();
      await site.services.jobAssignments.update(userId, {
        positionId: positions[(i * 13) % positions.length]!,
        managerJobAssignmentId: TOP_MANAGERS + 1 + ((i * 31) % MIDDLE_MANAGERS),
      });
      const elapsed = performance.now() - t0;
      if (i >= 20) {
        calls.push(elapsed);
        syncs.push(syncMs);
      }
    }
  } finally {
    profile?.();
    engine.syncUser = original;
  }
  return { call: median(calls), sync: median(syncs), samples: calls.length };
}

async function audienceAdd(built: BuiltSite): Promise<{ requestMs: number; jobMs: number; members: number }> {
  const { site } = built;
  const knex = site.db.knex;
  const now = site.db.now();
  const [audienceId] = (await knex('audiences').insert({ name: 'Eight thousand', type: 'static', created_at: now, updated_at: now })) as [number];
  const size = Math.min(8000, Math.floor(built.users / 12));
  await knex.raw(`INSERT INTO audience_members (audience_id, user_id, source, added_at) SELECT ?, n * 12, 'manual', ? FROM bench_seq WHERE n <= ?`, [
    audienceId,
    now,
    size,
  ]);
  const course = (await knex('courses').first('id')) as { id: number };
  const program = await site.services.programs.create({
    shortname: 'bench-8k',
    fullname: '8k audience',
    courseSets: [{ courseIds: [course.id], rule: 'all' }],
  });
  const [adminId] = (await knex('users').insert({
    username: 'bench-admin',
    email: 'admin@example.com',
    fullname: 'Admin',
    is_admin: true,
    created_at: now,
    updated_at: now,
  })) as [number];
  const token = await createApiToken(site.db, Number(adminId));
  const app = createApp(site);
  // Steady state: fold the full sync's WAL back into the database first, so the request does not pay
  // for a checkpoint of earlier work; then warm the route table and validators with a rejected request.
  if (site.db.dialect === 'sqlite') await knex.raw('PRAGMA wal_checkpoint(TRUNCATE)');
  await request(app).post(`/api/v1/programs/${program.program.id}/assignments`).set('Authorization', `Bearer ${token}`).send({ source: 'nope', instanceId: 1 });
  const stop = process.env.BENCH_PROFILE ? profileQueries(site) : null;
  const t0 = performance.now();
  const res = await request(app)
    .post(`/api/v1/programs/${program.program.id}/assignments`)
    .set('Authorization', `Bearer ${token}`)
    .send({ source: 'audience', instanceId: Number(audienceId) });
  const requestMs = performance.now() - t0;
  stop?.();
  if (res.status !== 201) throw new Error(`POST assignments: ${res.status} ${JSON.stringify(res.body)}`);
  const t1 = performance.now();
  await site.jobs.drain();
  const jobMs = performance.now() - t1;
  const status = await site.jobs.status(res.body.jobId as number);
  if (status?.state !== 'done') throw new Error(`job ${status?.state}: ${status?.lastError}`);
  const assigned = await knex('program_user_assignments').where({ program_id: program.program.id, status: 'active' }).count({ n: '*' });
  return { requestMs, jobMs, members: Number((assigned as Array<{ n: number }>)[0]!.n) };
}

/** BENCH_PROFILE_FIRST / BENCH_PROFILE_SYNC: the statements of the first two programs' sync of users 1..hi. */
async function profileTwoPrograms(built: BuiltSite, hi: number): Promise<void> {
  const { engine } = built.site.services.assignment;
  for (const programId of built.programIds.slice(0, 2)) {
    const rules = await loadRules(built.site.db.knex, { programId });
    const stop = profileQueries(built.site);
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    await built.site.db.transaction((trx) => engine.syncProgramScope(trx, programId, rules, { lo: 1, hi }));
    stop();
    console.log(`  program ${programId}: ${(performance.now() - t0).toFixed(1)} ms wall, ${cpuMs(c0).toFixed(1)} ms cpu`);
  }
}

async function run(dialect: Dialect, users: number, small: number): Promise<void> {
  console.log(`\n== ${dialect}: ${users} users (${os.cpus().length} cores, node ${process.version}) ==`);
  const big = await buildSite(dialect, users);
  try {
    if (process.env.BENCH_PROFILE_FIRST) await profileTwoPrograms(big, 20_000);
    if (withEventSubscriber) for (const hook of EVENT_HOOKS) big.site.hooks.add('bench_subscriber', hook, () => undefined);
    const stopFirst = process.env.BENCH_PROFILE_FULL ? profileQueries(big.site, 1) : null;
    const first = await fullSync(big.site);
    stopFirst?.();
    if (withEventSubscriber) {
      const queued = Number(((await big.site.db.knex('jobs').where('name', 'core.hook_delivery').count({ n: '*' })) as Array<{ n: number }>)[0]!.n);
      const d0 = performance.now();
      const drained = await big.site.jobs.drain({ timeoutMs: 600_000 });
      console.log(
        `  no-op event subscriber attached  ${queued} delivery jobs queued by the full sync; drained in ${s(performance.now() - d0)} (${drained.done} done, ${drained.dead} dead)`,
      );
    }
    if (process.env.BENCH_KEEP) {
      // Leaves the synced site in place for EXPLAIN-style experiments by hand.
      console.log(`  kept: ${big.site.config.databaseUrl}`);
      await big.site.stop();
      return;
    }
    if (process.env.BENCH_PROFILE_SYNC) await profileTwoPrograms(big, big.users);
    if (process.env.BENCH_ONLY_AUDIENCE) {
      const add0 = await audienceAdd(big);
      console.log(`  add ${add0.members}-member audience: request ${add0.requestMs.toFixed(0)} ms, job ${add0.jobMs.toFixed(0)} ms`);
      await big.drop();
      return;
    }
    if (process.env.BENCH_ONLY_INCREMENTAL) {
      const inc0 = await incremental(big.site, users, 50);
      console.log(`  one job-assignment change        sync ${inc0.sync.toFixed(2)} ms median, whole call ${inc0.call.toFixed(2)} ms`);
      await big.drop();
      return;
    }
    if (dialect === 'mysql') {
      const [[size]] = (await big.site.db.knex.raw(
        'SELECT SUM(data_length + index_length) AS bytes FROM information_schema.tables WHERE table_schema = DATABASE()',
      )) as [[{ bytes: number }]];
      console.log(`  data and indexes after the sync  ${mb(Number(size.bytes))}`);
    }
    const members = Number(((await big.site.db.knex('program_rule_members').count({ n: '*' })) as Array<{ n: number }>)[0]!.n);
    const assignments = Number(((await big.site.db.knex('program_user_assignments').count({ n: '*' })) as Array<{ n: number }>)[0]!.n);
    const base = await baseline(big.site, members);
    const cpuNote =
      dialect === 'sqlite'
        ? ' (SQLite runs in-process, so CPU time is the work done; wall time includes waiting for a loaded machine)'
        : ' (client CPU only; the server works in another process)';
    console.log(
      `  full sync from nothing           wall ${s(first.ms)}, cpu ${s(first.cpu)}  (${members} memberships, ${assignments} assignments, ${first.result.exceptionsRaised} exceptions, ${first.result.batches} batches)`,
    );
    console.log(`  raw bulk INSERT of ${members} rows   wall ${s(base.ms)}, cpu ${s(base.cpu)}`);
    console.log(
      `  -> full sync / baseline          wall ${(first.ms / base.ms).toFixed(1)}x, cpu ${(first.cpu / base.cpu).toFixed(1)}x (target <= 5x)${cpuNote}`,
    );
    console.log(`  peak RSS during full sync        ${mb(first.peakRss)} (target < 400 MB)`);
    const stopProfile = process.env.BENCH_PROFILE_RERUN ? profileQueries(big.site, 1) : null;
    const again = await fullSync(big.site);
    stopProfile?.();
    console.log(
      `  re-run, nothing changed          wall ${s(again.ms)} = ${((100 * again.ms) / first.ms).toFixed(1)}%, cpu ${s(again.cpu)} = ${((100 * again.cpu) / first.cpu).toFixed(1)}% of the first run (target < 20%), rows written: ${totalWrites(again.result)}`,
    );
    if (process.env.BENCH_ONLY_FULL) {
      await big.drop();
      return;
    }
    const add = await audienceAdd(big);
    console.log(
      `  add ${add.members}-member audience: request ${add.requestMs.toFixed(0)} ms (target < 200 ms), job ${add.jobMs.toFixed(0)} ms (target < 2000 ms)`,
    );
    const inc = await incremental(big.site, users, 200);
    console.log(
      `  one job-assignment change        sync ${inc.sync.toFixed(2)} ms median, whole call ${inc.call.toFixed(2)} ms (n=${inc.samples}, target sync < 20 ms)`,
    );
    await big.drop();
    const little = await buildSite(dialect, small);
    try {
      await fullSync(little.site);
      const incSmall = await incremental(little.site, small, 200);
      console.log(
        `  same change on ${small} users      sync ${incSmall.sync.toFixed(2)} ms median, whole call ${incSmall.call.toFixed(2)} ms -> ${users}/${small} ratio ${(inc.sync / incSmall.sync).toFixed(2)}`,
      );
    } finally {
      await little.drop();
    }
  } catch (error) {
    await big.drop().catch(() => undefined);
    throw error;
  }
}

/**
 * MariaDB's default 128 MB buffer pool holds less than the 100,000-user site's working set (see the
 * "data and indexes" line), so every random read would wait for a page read and the incremental
 * figures would measure the cache, not the sync. A server for a site that size is given a pool that
 * holds its data, so the run sets one (BENCH_MYSQL_BUFFER_POOL, bytes, default 1 GiB; `server` keeps
 * the server's own setting) and puts the old value back at the end.
 */
async function withBufferPool<T>(work: () => Promise<T>): Promise<T> {
  const wanted = process.env.BENCH_MYSQL_BUFFER_POOL ?? String(1024 ** 3);
  const admin = knexFactory({ client: 'mysql2', connection: { uri: process.env.TEST_MYSQL_URL } as never });
  try {
    const [[row]] = (await admin.raw("SHOW VARIABLES LIKE 'innodb_buffer_pool_size'")) as [[{ Value: string }]];
    const before = Number(row.Value);
    let size = wanted === 'server' ? before : Number(wanted);
    if (size !== before) {
      await admin.raw('SET GLOBAL innodb_buffer_pool_size = ?', [size]).catch((error: Error) => {
        console.log(`\n  could not set innodb_buffer_pool_size (${error.message}); measuring with the server's setting`);
        size = before;
      });
    }
    console.log(`\n  MariaDB innodb_buffer_pool_size ${mb(size)} (server setting ${mb(before)})`);
    try {
      return await work();
    } finally {
      if (size !== before) await admin.raw('SET GLOBAL innodb_buffer_pool_size = ?', [before]);
    }
  } finally {
    await admin.destroy();
  }
}

const users = Number(process.env.BENCH_USERS ?? 100_000);
const small = Number(process.env.BENCH_SMALL_USERS ?? 10_000);
for (const dialect of (process.env.BENCH_DIALECTS ?? 'sqlite').split(',') as Dialect[]) {
  if (dialect === 'mysql') await withBufferPool(() => run(dialect, users, small));
  else await run(dialect, users, small);
}
