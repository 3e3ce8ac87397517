/**
 * Benchmark: GET /admin/programs/{id}/edit for a 1,000-set program, over real HTTP (the app on an
 * ephemeral port, signed in through the real login form), against a trivial admin page (the theme
 * page) measured in the same run. Also times a form save that changes only the name (the page's
 * own fields posted back, as a browser would).
 *
 *   npx tsx scripts/bench/program-form.ts                                   # SQLite
 *   BENCH_DB=mysql TEST_MYSQL_URL=mysql://root@127.0.0.1:3306 npx tsx scripts/bench/program-form.ts
 *   options: --sets <n> (default 1000) --courses <n> (default 2000) --runs <n> (default 15)
 *
 * Target (issue 10 item 2): the edit page under 300 ms at 1,000 sets.
 */
import http from 'node:http';
import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import winston from 'winston';
import { createSite } from '../../core/site';
import { createApp } from '../../core/kernel/http/app';
import { createTestDatabase } from '../../test/utils/db';
import { formEntries } from '../../test/utils/forms';
import type { Dialect } from '../../core/kernel/db/database';
import type { CourseSetInput } from '../../core/modules/programs/service';

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
}

const SETS = option('sets', 1000);
const COURSES = option('courses', 2000);
const RUNS = option('runs', 15);
const PASSWORD = 'bench password 123';

interface Timing {
  ms: number[];
  bytes: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function main(): Promise<void> {
  const dialect: Dialect = process.env.BENCH_DB === 'mysql' ? 'mysql' : 'sqlite';
  const database = await createTestDatabase(dialect);
  const pluginsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'waymark-bench-plugins-'));
  const site = createSite({
    config: { databaseUrl: database.url, pluginsDir, sessionSecret: 'bench-session-secret-0123456789', logLevel: 'error' },
    logger: winston.createLogger({ level: 'error', transports: [new winston.transports.Console()] }),
  });
  await site.start();
  const server = http.createServer(createApp(site));
  try {
    const { users, courses, programs } = site.services;
    await users.create({ username: 'operator', email: 'operator@example.com', fullname: 'Olive Operator', password: PASSWORD, isAdmin: true });
    const courseIds: number[] = [];
    for (let i = 0; i < COURSES; i++)
      courseIds.push((await courses.create({ shortname: `c${i}`, fullname: `Course <${i}> ${'é'.repeat(i % 3)}`, score: 2 })).id);
    const courseSets: CourseSetInput[] = Array.from({ length: SETS }, (_, i) => ({
      label: i % 7 === 0 ? `  Set ${i} <b>&amp;</b>  ` : `Set ${i} ✓`,
      courseIds: [courseIds[(3 * i) % COURSES]!, courseIds[(3 * i + 1) % COURSES]!, courseIds[(3 * i + 2) % COURSES]!],
      rule: i % 4 === 0 ? 'some' : 'all',
      ...(i % 4 === 0 ? { minCourses: 1, minScore: 3 } : {}),
      minTime: i % 5 === 0 ? 'P1W' : null,
      operator: i === SETS - 1 ? null : i % 3 === 0 ? 'then' : i % 3 === 1 ? 'and' : 'or',
    }));
    const { program } = await programs.create({ shortname: 'big', fullname: 'A big program', courseSets });

    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    let cookie = '';
    const keepCookie = (res: Response): void => {
      const set = res.headers.getSetCookie().map((c) => c.split(';')[0]!);
      if (set.length) cookie = set.join('; ');
    };
    const csrfOf = (html: string): string => /name="_csrf" value="([^"]+)"/.exec(html)![1]!;
    const login = await fetch(`${base}/login`, { headers: { accept: 'text/html' } });
    keepCookie(login);
    const signedIn = await fetch(`${base}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { accept: 'text/html', cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: 'operator', password: PASSWORD, _csrf: csrfOf(await login.text()), next: '/admin' }),
    });
    keepCookie(signedIn);
    if (signedIn.status !== 303) throw new Error(`login failed: ${signedIn.status}`);

    const time = async (url: string): Promise<Timing & { html: string }> => {
      const ms: number[] = [];
      let html = '';
      for (let i = 0; i < RUNS + 3; i++) {
        const started = performance.now();
        const res = await fetch(`${base}${url}`, { headers: { accept: 'text/html', cookie } });
        html = await res.text();
        if (res.status !== 200) throw new Error(`${url}: ${res.status}`);
        if (i >= 3) ms.push(performance.now() - started);
      }
      return { ms, bytes: Buffer.byteLength(html), html };
    };

    const baseline = await time('/admin/theme');
    const edit = await time(`/admin/programs/${program.id}/edit`);

    // A name-only save: every field of the page as a browser would post it, with a new full name.
    const form = new URLSearchParams(formEntries(edit.html, 'class="form program-form"'));
    form.set('fullname', 'A big program, renamed');
    form.set('action', 'save');
    const started = performance.now();
    const saved = await fetch(`${base}/admin/programs/${program.id}/edit`, {
      method: 'POST',
      redirect: 'manual',
      headers: { accept: 'text/html', cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: form,
    });
    const saveMs = performance.now() - started;
    if (saved.status !== 303) console.log((await saved.text()).slice(0, 3000));
    const after = await programs.get(program.id);

    const line = (name: string, t: Timing): string =>
      `${name.padEnd(28)} median ${median(t.ms).toFixed(1).padStart(7)} ms   max ${Math.max(...t.ms)
        .toFixed(1)
        .padStart(7)} ms   ${(t.bytes / 1024).toFixed(0).padStart(6)} KB`;
    console.log(`program form benchmark (${dialect}): ${SETS} sets, ${COURSES} courses, ${RUNS} runs each, ${os.cpus().length} CPUs`);
    console.log(line('baseline GET /admin/theme', baseline));
    console.log(line(`GET edit (${SETS} sets)`, edit));
    console.log(`ratio edit / baseline         ${(median(edit.ms) / median(baseline.ms)).toFixed(1)}x`);
    console.log(`target: edit median < 300 ms  ${median(edit.ms) < 300 ? 'met' : 'NOT met'}`);
    console.log(
      `name-only save               ${saved.status} in ${saveMs.toFixed(0)} ms (${(Buffer.byteLength(form.toString()) / 1024).toFixed(0)} KB posted); ` +
        `sets ${after.courseSets.length}, structureVersion ${program.structureVersion} -> ${after.structureVersion}, name "${after.fullname}"`,
    );
  } finally {
    await new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));
    await site.stop();
    await database.drop();
    fs.rmSync(pluginsDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
