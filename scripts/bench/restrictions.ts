/**
 * Benchmark (issue 13): the learner's course page, GET /courses/{id}, for a course of 200
 * activities each carrying a 3-condition availability tree (grade range on the course's quiz, and
 * either preferred language or audience membership), against the same page of an identical course
 * without restrictions, measured with autocannon in the same run. The server runs in a child process
 * so the load generator does not share its event loop.
 *
 *   npx tsx scripts/bench/restrictions.ts                                   # SQLite
 *   BENCH_DB=mysql TEST_MYSQL_URL=mysql://root@127.0.0.1:3306 npx tsx scripts/bench/restrictions.ts
 *   options: --duration <s> (default 10) --connections <n> (default 10) --activities <n> (default 200)
 *
 * 500 signed-in learners (sessions written as a login leaves them), enrolled in both courses, with
 * grades spread over 0..100 % and a third of them in the audience; requests rotate over them, so
 * every request evaluates the trees for a different learner. Target: restricted >= 70% of plain.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fork } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import autocannon from 'autocannon';
import winston from 'winston';
import type { Knex } from 'knex';
import { createSite } from '../../core/site';
import { createApp } from '../../core/kernel/http/app';
import { projectRoot } from '../../core/kernel/config';
import { SESSION_COOKIE, SESSION_MAX_AGE_MS } from '../../core/kernel/auth/sessions';
import { createTestDatabase } from '../../test/utils/db';
import type { Dialect } from '../../core/kernel/db/database';

const LEARNERS = 500;
const SECRET = 'bench-session-secret-0123456789';

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

interface ServerInfo {
  port: number;
  cookies: string[];
  plainCourse: number;
  restrictedCourse: number;
  /** Activities the first learner can open on the restricted page: proves the trees were evaluated. */
  sample: { open: number; locked: number; hidden: number };
}

/** express-session's cookie value: `s:<sid>.<base64 HMAC-SHA256 without padding>` (cookie-signature). */
function signedCookie(sid: string): string {
  const mac = crypto.createHmac('sha256', SECRET).update(sid).digest('base64').replace(/=+$/, '');
  return `${SESSION_COOKIE}=${encodeURIComponent(`s:${sid}.${mac}`)}`;
}

async function batchInsert(knex: Knex, table: string, rows: Record<string, unknown>[], size = 400): Promise<void> {
  for (let i = 0; i < rows.length; i += size) await knex(table).insert(rows.slice(i, i + size));
}

async function serve(): Promise<void> {
  const activities = option('activities', 200);
  const dialect: Dialect = process.env.BENCH_DB === 'mysql' ? 'mysql' : 'sqlite';
  const database = await createTestDatabase(dialect);
  const pluginsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'waymark-bench-plugins-'));
  fs.symlinkSync(path.join(projectRoot, 'plugins', 'restrict_access'), path.join(pluginsDir, 'restrict_access'), 'dir');
  const site = createSite({
    config: { databaseUrl: database.url, pluginsDir, sessionSecret: SECRET, logLevel: 'error' },
    logger: winston.createLogger({ level: 'error', transports: [new winston.transports.Console()] }),
  });
  await site.start();
  const knex = site.db.knex;
  const now = site.db.now();
  const { courses, audiences } = site.services;

  const audience = await audiences.create({ name: 'Bench audience' });
  const courseIds: number[] = [];
  for (const name of ['Plain', 'Restricted']) {
    const course = await courses.create({ shortname: name.toLowerCase(), fullname: `${name} course` });
    courseIds.push(course.id);
    const quiz = await courses.addActivity(course.id, { type: 'quiz', name: 'Knowledge check', maxGrade: 100, completionTracked: true });
    await batchInsert(
      knex,
      'activities',
      Array.from({ length: activities }, (_, i) => ({
        course_id: course.id,
        sortorder: i + 1,
        type: 'resource',
        name: `Resource ${i + 1}`,
        completion_tracked: false,
        max_grade: 0,
        availability:
          name === 'Plain'
            ? null
            : JSON.stringify({
                op: '&',
                c: [
                  { type: 'grade', id: quiz.id, min: i % 50, max: 50 + (i % 50) },
                  i % 2 ? { type: 'profile', sf: 'lang', op: 'isequalto', v: 'en' } : { type: 'audience', id: audience.id },
                  {
                    op: '|',
                    c: [
                      { type: 'completion', id: quiz.id, e: 'complete' },
                      { type: 'date', d: '<', t: '2000-01-01T00:00:00Z' },
                    ],
                  },
                ],
                showc: [true, i % 3 !== 0, true],
              }),
        created_at: now,
      })),
    );
  }

  await batchInsert(
    knex,
    'users',
    Array.from({ length: LEARNERS }, (_, i) => ({
      username: `l${i}`,
      email: `l${i}@example.com`,
      fullname: `Learner ${i}`,
      lang: i % 2 ? 'en' : 'fr',
      created_at: now,
      updated_at: now,
    })),
  );
  const userIds = ((await knex('users').orderBy('id').pluck('id')) as number[]).map(Number);
  await batchInsert(
    knex,
    'enrolments',
    userIds.flatMap((uid) => courseIds.map((cid) => ({ user_id: uid, course_id: cid, method: 'manual', status: 'active', created_at: now, updated_at: now }))),
  );
  const quizzes = ((await knex('activities').where({ type: 'quiz' }).orderBy('course_id').pluck('id')) as number[]).map(Number);
  for (const [i, uid] of userIds.entries()) {
    if (i % 3 === 0) await audiences.addMember(audience.id, uid);
  }
  const completion = site.services.completion;
  for (const [i, uid] of userIds.entries()) for (const quiz of quizzes) await completion.recordGrade(quiz, uid, i % 101);

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

  const restrictedView = await courses.get(courseIds[1]!);
  const access = await courses.accessOf(userIds[1]!, restrictedView);
  const sample = { open: 0, locked: 0, hidden: 0 };
  for (const a of restrictedView.activities) {
    const state = access.get(a.id);
    if (!state || state.available) sample.open++;
    else if (state.visible) sample.locked++;
    else sample.hidden++;
  }

  const server = http.createServer(createApp(site));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  process.on('message', async (message: unknown) => {
    if (message === 'stop') {
      await new Promise((resolve) => server.close(resolve));
      await site.stop();
      await database.drop();
      fs.rmSync(pluginsDir, { recursive: true, force: true });
      process.exit(0);
    }
  });
  const info: ServerInfo = {
    port: (server.address() as AddressInfo).port,
    cookies: sids.map(signedCookie),
    plainCourse: courseIds[0]!,
    restrictedCourse: courseIds[1]!,
    sample,
  };
  process.send!(info);
}

interface Measured {
  rps: number;
  p50: number;
  p99: number;
  statuses: Record<string, number>;
}

async function run(info: ServerInfo, courseId: number, duration: number, connections: number): Promise<Measured> {
  let next = 0;
  const result = await autocannon({
    url: `http://127.0.0.1:${info.port}`,
    connections,
    duration,
    requests: [
      {
        method: 'GET',
        setupRequest: (req) => ({
          ...req,
          path: `/courses/${courseId}`,
          headers: { ...req.headers, accept: 'text/html', cookie: info.cookies[next++ % info.cookies.length]! },
        }),
      },
    ],
  });
  const statuses: Record<string, number> = {};
  for (const [code, stat] of Object.entries(result.statusCodeStats ?? {})) statuses[code] = stat.count ?? 0;
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, statuses };
}

const line = (name: string, m: Measured): string =>
  `${name.padEnd(30)} ${m.rps.toFixed(0).padStart(7)} req/s   p50 ${String(m.p50).padStart(4)} ms   p99 ${String(m.p99).padStart(4)} ms   ${JSON.stringify(m.statuses)}`;

async function drive(): Promise<void> {
  const duration = option('duration', 10);
  const connections = option('connections', 10);
  const child = fork(import.meta.filename, ['--serve', ...process.argv.slice(2)], { execArgv: ['--import', 'tsx'], stdio: 'inherit', env: process.env });
  const info = await new Promise<ServerInfo>((resolve, reject) => {
    child.once('message', (m) => resolve(m as ServerInfo));
    child.once('exit', (code) => reject(new Error(`server process exited with ${code}`)));
  });
  console.log(
    `restrictions benchmark (${process.env.BENCH_DB === 'mysql' ? 'mysql' : 'sqlite'}): course page with ${option('activities', 200)} activities, ${LEARNERS} learners; ${connections} connections, ${duration} s per run, node ${process.version}, ${os.cpus().length} CPUs`,
  );
  console.log(`one learner's restricted page: ${info.sample.open} open, ${info.sample.locked} greyed, ${info.sample.hidden} hidden`);
  // Warm-up: JIT, template cache, the database's page cache.
  await run(info, info.plainCourse, 2, connections);
  await run(info, info.restrictedCourse, 2, connections);
  // Interleaved, best of two each: drift on a shared machine hits both sides alike.
  const plain1 = await run(info, info.plainCourse, duration, connections);
  console.log(line('course page, no restrictions', plain1));
  const restricted1 = await run(info, info.restrictedCourse, duration, connections);
  console.log(line('course page, 3-condition trees', restricted1));
  const plain2 = await run(info, info.plainCourse, duration, connections);
  console.log(line('no restrictions (again)', plain2));
  const restricted2 = await run(info, info.restrictedCourse, duration, connections);
  console.log(line('3-condition trees (again)', restricted2));
  const ratio = Math.max(restricted1.rps, restricted2.rps) / Math.max(plain1.rps, plain2.rps);
  console.log(`ratio restricted / plain: ${(ratio * 100).toFixed(1)}% (target >= 70%: ${ratio >= 0.7 ? 'ok' : 'MISSED'})`);
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
