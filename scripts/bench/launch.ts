/**
 * Benchmark: GET /courses/{id}/launch through the real app (sessions, launch guard chain,
 * enrol_program) against a bare Express route returning 200, measured with autocannon in the same
 * run on the same machine. The servers run in a child process so the load generator does not
 * share their event loop.
 *
 *   npx tsx scripts/bench/launch.ts                                   # SQLite
 *   BENCH_DB=mysql TEST_MYSQL_URL=mysql://root@127.0.0.1:3306 npx tsx scripts/bench/launch.ts
 *   options: --duration <s> (default 10) --connections <n> (default 10, autocannon's default)
 *   BENCH_PROFILE=<dir>: CPU profile of the whole server process; BENCH_PROFILE_RUN=enrolled|first
 *   (with BENCH_PROFILE_DIR, default the system temp dir): of that run only
 *
 * Synthetic site (set-based batched INSERTs): 10,000 learners, 500 courses, 200 programs of two
 * groups ({2 courses} all, then {1 course} any). Every learner is assigned to one program. 2,000
 * learners are already enrolled in their program's first course (scenario "enrolled"); the others
 * launch the two courses of their open first set for the first time (scenario "first launch":
 * every request creates one enrolment). Targets: enrolled >= 60% of bare with p99 < 15 ms;
 * first launch >= 30% of bare.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import inspector from 'node:inspector';
import os from 'node:os';
import path from 'node:path';
import { fork } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import autocannon from 'autocannon';
import express from 'express';
import winston from 'winston';
import { createSite } from '../../core/site';
import { createApp } from '../../core/kernel/http/app';
import { projectRoot } from '../../core/kernel/config';
import { hashPassword } from '../../core/kernel/auth/passwords';
import { SESSION_COOKIE, SESSION_MAX_AGE_MS } from '../../core/kernel/auth/sessions';
import { createTestDatabase } from '../../test/utils/db';
import type { Dialect } from '../../core/kernel/db/database';

const LEARNERS = 10_000;
const COURSES = 500;
const PROGRAMS = 200;
const ENROLLED = 2_000;
const SECRET = 'bench-session-secret-0123456789';

interface Target {
  cookie: string;
  courseId: number;
}
interface ServerInfo {
  launchPort: number;
  barePort: number;
  enrolled: Target[];
  fresh: Target[];
}

// ---------------------------------------------------------------------------------------------
// Child: build the site and serve it
// ---------------------------------------------------------------------------------------------

/** express-session's cookie value: `s:<sid>.<base64 HMAC-SHA256 without padding>` (cookie-signature). */
function signedCookie(sid: string): string {
  const mac = crypto.createHmac('sha256', SECRET).update(sid).digest('base64').replace(/=+$/, '');
  return `${SESSION_COOKIE}=${encodeURIComponent(`s:${sid}.${mac}`)}`;
}

async function batchInsert(knex: import('knex').Knex, table: string, rows: Record<string, unknown>[], size = 500): Promise<void> {
  for (let i = 0; i < rows.length; i += size) await knex(table).insert(rows.slice(i, i + size));
}

async function serve(): Promise<void> {
  const dialect: Dialect = process.env.BENCH_DB === 'mysql' ? 'mysql' : 'sqlite';
  const database = await createTestDatabase(dialect);
  const pluginsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'waymark-bench-plugins-'));
  fs.symlinkSync(path.join(projectRoot, 'plugins', 'enrol_program'), path.join(pluginsDir, 'enrol_program'), 'dir');
  const site = createSite({
    config: { databaseUrl: database.url, pluginsDir, sessionSecret: SECRET, logLevel: 'error' },
    logger: winston.createLogger({ level: 'error', transports: [new winston.transports.Console()] }),
  });
  await site.start();
  const knex = site.db.knex;
  const now = site.db.now();

  // One scrypt hash shared by every learner: generating 10,000 would only measure scrypt.
  const hash = await hashPassword('bench');
  await batchInsert(
    knex,
    'users',
    Array.from({ length: LEARNERS }, (_, i) => ({
      username: `l${i}`,
      email: `l${i}@example.com`,
      fullname: `Learner ${i}`,
      password_hash: hash,
      created_at: now,
      updated_at: now,
    })),
  );
  await batchInsert(
    knex,
    'courses',
    Array.from({ length: COURSES }, (_, i) => ({ shortname: `c${i}`, fullname: `Course ${i}`, created_at: now, updated_at: now })),
  );
  await batchInsert(
    knex,
    'programs',
    Array.from({ length: PROGRAMS }, (_, i) => ({ shortname: `p${i}`, fullname: `Program ${i}`, created_at: now, updated_at: now })),
  );
  const userIds = ((await knex('users').orderBy('id').pluck('id')) as number[]).map(Number);
  const courseIds = ((await knex('courses').orderBy('id').pluck('id')) as number[]).map(Number);
  const programIds = ((await knex('programs').orderBy('id').pluck('id')) as number[]).map(Number);
  // Program p: set 1 = courses (2p, 2p+1) mod 500, all, then set 2 = course (2p+2) mod 500, any.
  // Neighbouring programs share courses, so a course is in several programs as on a real site.
  await batchInsert(
    knex,
    'program_course_sets',
    programIds.flatMap((pid) => [
      { program_id: pid, sortorder: 0, label: 'Foundations', rule: 'all', operator: 'then' },
      { program_id: pid, sortorder: 1, label: 'Practice', rule: 'any', operator: null },
    ]),
  );
  const sets = (await knex('program_course_sets').orderBy(['program_id', 'sortorder']).select('id', 'program_id', 'sortorder')) as Array<{
    id: number;
    program_id: number;
    sortorder: number;
  }>;
  const courseOf = (p: number, k: number): number => courseIds[(2 * p + k) % COURSES]!;
  const firstCourses = new Map<number, [number, number]>();
  await batchInsert(
    knex,
    'program_course_set_courses',
    sets.flatMap((s) => {
      const p = programIds.indexOf(Number(s.program_id));
      if (s.sortorder === 0) {
        firstCourses.set(Number(s.program_id), [courseOf(p, 0), courseOf(p, 1)]);
        return [
          { course_set_id: s.id, course_id: courseOf(p, 0), sortorder: 0 },
          { course_set_id: s.id, course_id: courseOf(p, 1), sortorder: 1 },
        ];
      }
      return [{ course_set_id: s.id, course_id: courseOf(p, 2), sortorder: 0 }];
    }),
  );
  // Assignments written directly (the assignment engine has its own benchmark).
  const programFor = (i: number): number => programIds[i % PROGRAMS]!;
  await batchInsert(
    knex,
    'program_user_assignments',
    userIds.map((uid, i) => ({ program_id: programFor(i), user_id: uid, status: 'active', assigned_at: now, created_at: now, updated_at: now })),
  );
  await batchInsert(
    knex,
    'enrolments',
    userIds.slice(0, ENROLLED).map((uid, i) => ({
      user_id: uid,
      course_id: firstCourses.get(programFor(i))![0],
      method: 'program',
      status: 'active',
      created_at: now,
      updated_at: now,
    })),
  );
  // Sessions as a login would leave them (logging 10,000 people in would only measure scrypt).
  const expires = new Date(now + SESSION_MAX_AGE_MS).toISOString();
  const sids = userIds.map(() => crypto.randomBytes(24).toString('base64url'));
  await batchInsert(
    knex,
    'sessions',
    userIds.map((uid, i) => ({
      sid: sids[i],
      user_id: uid,
      data: JSON.stringify({ cookie: { originalMaxAge: SESSION_MAX_AGE_MS, expires, httpOnly: true, path: '/', sameSite: 'lax' }, userId: uid }),
      expires_at: now + SESSION_MAX_AGE_MS,
    })),
  );

  const enrolled = userIds.slice(0, ENROLLED).map((_, i) => ({ cookie: signedCookie(sids[i]!), courseId: firstCourses.get(programFor(i))![0] }));
  const fresh: Target[] = [];
  for (const k of [0, 1]) {
    for (let i = ENROLLED; i < LEARNERS; i++) fresh.push({ cookie: signedCookie(sids[i]!), courseId: firstCourses.get(programFor(i))![k] });
  }

  // A trivial page in the same app: everything a page pays (helmet, session middleware, CSRF, routing)
  // but no session lookup and no guard, to separate the launch's own cost from the app's.
  site.routes.registrarFor('core').page({ method: 'get', path: '/bench/ok', access: 'public', handler: (_req, res) => void res.sendStatus(200) });
  const launchServer = http.createServer(createApp(site));
  const bare = express();
  bare.get('/', (_req, res) => {
    res.sendStatus(200);
  });
  const bareServer = http.createServer(bare);
  await Promise.all([launchServer, bareServer].map((s) => new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))));

  // BENCH_PROFILE_RUN: a CPU profile of one run only.
  const profiler = process.env.BENCH_PROFILE_RUN ? new inspector.Session() : null;
  profiler?.connect();
  const post = (method: string) =>
    new Promise<unknown>((resolve, reject) => profiler!.post(method, (error, result) => (error ? reject(error) : resolve(result))));
  process.on('message', async (message: unknown) => {
    if (message === 'profile-start' && profiler) {
      await post('Profiler.enable');
      await post('Profiler.start');
      process.send!({});
    }
    if (message === 'profile-stop' && profiler) {
      const { profile } = (await post('Profiler.stop')) as { profile: unknown };
      const file = path.join(process.env.BENCH_PROFILE_DIR ?? os.tmpdir(), `${process.env.BENCH_PROFILE_RUN}-${Date.now()}.cpuprofile`);
      fs.writeFileSync(file, JSON.stringify(profile));
      process.send!({ file });
    }
    if (message === 'cpu') {
      const usage = process.cpuUsage();
      process.send!({ cpuMicros: usage.user + usage.system });
    }
    if (message === 'count') {
      const [{ n }] = (await knex('enrolments').count({ n: '*' })) as Array<{ n: number | string }>;
      process.send!({ enrolments: Number(n) });
    }
    if (message === 'stop') {
      await Promise.all([launchServer, bareServer].map((s) => new Promise((resolve) => s.close(resolve))));
      await site.stop();
      await database.drop();
      fs.rmSync(pluginsDir, { recursive: true, force: true });
      process.exit(0);
    }
  });
  const info: ServerInfo = {
    launchPort: (launchServer.address() as AddressInfo).port,
    barePort: (bareServer.address() as AddressInfo).port,
    enrolled,
    fresh,
  };
  process.send!(info);
}

// ---------------------------------------------------------------------------------------------
// Parent: drive the load
// ---------------------------------------------------------------------------------------------

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

interface Measured {
  /** Server process CPU time per completed request (µs): independent of what else loads the machine. */
  cpuPerRequest?: number;
  rps: number;
  p50: number;
  p99: number;
  statuses: Record<string, number>;
  errors: number;
}

async function run(url: string, options: { duration?: number; amount?: number; connections: number; targets?: Target[] }): Promise<Measured> {
  let next = 0;
  const targets = options.targets;
  const started = performance.now();
  let lastResponse = started;
  const result = await autocannon({
    url,
    connections: options.connections,
    ...(options.amount ? { amount: options.amount } : { duration: options.duration ?? 10 }),
    requests: targets
      ? [
          {
            method: 'GET',
            setupRequest: (req) => {
              const target = targets[next++ % targets.length]!;
              return { ...req, path: `/courses/${target.courseId}/launch`, headers: { ...req.headers, cookie: target.cookie } };
            },
            onResponse: () => {
              lastResponse = performance.now();
            },
          },
        ]
      : undefined,
  });
  const statuses: Record<string, number> = {};
  for (const [code, stat] of Object.entries(result.statusCodeStats ?? {})) statuses[code] = stat.count ?? 0;
  // A run of a fixed number of requests (first launches) is timed to its last response: autocannon
  // only notices the end at its next one-second sample, which would count up to a second of idling.
  const rps = options.amount ? result.requests.total / ((lastResponse - started) / 1000) : result.requests.average;
  return { rps, p50: result.latency.p50, p99: result.latency.p99, statuses, errors: result.errors };
}

function line(name: string, m: Measured): string {
  const cpu = m.cpuPerRequest === undefined ? '' : `   server CPU ${m.cpuPerRequest.toFixed(0).padStart(5)} µs/req`;
  return `${name.padEnd(26)} ${m.rps.toFixed(0).padStart(8)} req/s   p50 ${String(m.p50).padStart(4)} ms   p99 ${String(m.p99).padStart(4)} ms${cpu}   ${JSON.stringify(m.statuses)}${m.errors ? `   errors ${m.errors}` : ''}`;
}

async function drive(): Promise<void> {
  const duration = option('duration', 10);
  const connections = option('connections', 10);
  const child = fork(import.meta.filename, ['--serve'], {
    execArgv: ['--import', 'tsx', ...(process.env.BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir=' + process.env.BENCH_PROFILE] : [])],
    stdio: 'inherit',
    env: process.env,
  });
  const info = await new Promise<ServerInfo>((resolve, reject) => {
    child.once('message', (m) => resolve(m as ServerInfo));
    child.once('exit', (code) => reject(new Error(`server process exited with ${code}`)));
  });
  const ask = <T>(message: string): Promise<T> =>
    new Promise((resolve) => {
      child.once('message', (m) => resolve(m as T));
      child.send(message);
    });
  const bareUrl = `http://127.0.0.1:${info.barePort}/`;
  const appUrl = `http://127.0.0.1:${info.launchPort}`;
  console.log(
    `launch benchmark (${process.env.BENCH_DB === 'mysql' ? 'mysql' : 'sqlite'}): ${LEARNERS} learners, ${PROGRAMS} programs, ${COURSES} courses; ${connections} connections, ${duration} s per run, node ${process.version}, ${os.cpus().length} CPUs`,
  );

  // Warm-up: JIT, the structure cache, the database's page cache.
  await run(bareUrl, { duration: 2, connections });
  await run(appUrl, { duration: 2, connections, targets: info.enrolled });

  const measured = async (go: () => Promise<Measured>): Promise<Measured> => {
    const before = (await ask<{ cpuMicros: number }>('cpu')).cpuMicros;
    const m = await go();
    const after = (await ask<{ cpuMicros: number }>('cpu')).cpuMicros;
    const done = Object.values(m.statuses).reduce((a, b) => a + b, 0);
    return { ...m, cpuPerRequest: done ? (after - before) / done : undefined };
  };
  const bare1 = await measured(() => run(bareUrl, { duration, connections }));
  console.log(line('bare express route', bare1));
  const profiled = async (name: string, go: () => Promise<Measured>): Promise<Measured> => {
    if (process.env.BENCH_PROFILE_RUN !== name) return go();
    await ask('profile-start');
    const m = await go();
    console.log(`profile of "${name}": ${(await ask<{ file: string }>('profile-stop')).file}`);
    return m;
  };
  const enrolled = await profiled('enrolled', () => measured(() => run(appUrl, { duration, connections, targets: info.enrolled })));
  console.log(line('launch, enrolled', enrolled));
  const bare2 = await measured(() => run(bareUrl, { duration, connections }));
  console.log(line('bare express route (again)', bare2));
  const page = await measured(() => run(`${appUrl}/bench/ok`, { duration, connections }));
  console.log(line('same app, trivial page', page));

  const before = (await ask<{ enrolments: number }>('count')).enrolments;
  // Every request is a distinct (learner, course) first launch: the run stops when they are used up.
  const amount = info.fresh.length;
  const first = await profiled('first', () => measured(() => run(appUrl, { amount, connections, targets: info.fresh })));
  const after = (await ask<{ enrolments: number }>('count')).enrolments;
  console.log(line('launch, first time', first));
  console.log(`first launches created ${after - before} enrolments for ${amount} requests`);

  const bare = Math.max(bare1.rps, bare2.rps);
  const enrolledRatio = enrolled.rps / bare;
  const firstRatio = first.rps / bare;
  const ok = (cond: boolean): string => (cond ? 'ok' : 'MISSED');
  console.log(
    `ratio enrolled / bare:     ${(enrolledRatio * 100).toFixed(1)}% (target >= 60%: ${ok(enrolledRatio >= 0.6)}), p99 ${enrolled.p99} ms (target < 15 ms: ${ok(enrolled.p99 < 15)})`,
  );
  console.log(`ratio first launch / bare: ${(firstRatio * 100).toFixed(1)}% (target >= 30%: ${ok(firstRatio >= 0.3)})`);
  console.log(
    `ratio enrolled / trivial page of the same app: ${((enrolled.rps / page.rps) * 100).toFixed(1)}%; first launch: ${((first.rps / page.rps) * 100).toFixed(1)}%`,
  );
  const bareCpu = Math.min(bare1.cpuPerRequest ?? Infinity, bare2.cpuPerRequest ?? Infinity);
  if (enrolled.cpuPerRequest && first.cpuPerRequest && Number.isFinite(bareCpu)) {
    console.log(
      `server CPU per request, bare / enrolled / first: ${bareCpu.toFixed(0)} / ${enrolled.cpuPerRequest.toFixed(0)} / ${first.cpuPerRequest.toFixed(0)} µs (CPU-bound ratios ${((bareCpu / enrolled.cpuPerRequest) * 100).toFixed(0)}% / ${((bareCpu / first.cpuPerRequest) * 100).toFixed(0)}%)`,
    );
  }
  child.send('stop');
  await new Promise((resolve) => child.once('exit', resolve));
}

if (process.argv.includes('--serve')) {
  serve().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
} else {
  drive().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
