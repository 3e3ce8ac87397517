/**
 * What the page benchmarks share: command-line options, the median of timed runs, and a site on a
 * fresh database of the chosen dialect (BENCH_DB=mysql with TEST_MYSQL_URL, else SQLite) with no
 * plugins, dropped afterwards.
 */
import winston from 'winston';
import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { createSite, type Site } from '../../core/site';
import { createApp } from '../../core/kernel/http/app';
import { createTestDatabase } from '../../test/utils/db';
import type { Dialect } from '../../core/kernel/db/database';

/** `--name <number>` from the command line, or the fallback. */
export function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** The median time in ms of `runs` sequential calls of `work`. */
export async function time(runs: number, work: (i: number) => Promise<unknown>): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await work(i);
    samples.push(performance.now() - started);
  }
  return median(samples);
}

/**
 * Runs `body` on a started site over a fresh database, with these shipped plugins (none by
 * default), then stops it and drops the database.
 */
export async function withBenchSite(
  sessionSecret: string,
  body: (site: Site, dialect: Dialect) => Promise<void>,
  plugins: readonly string[] = [],
): Promise<void> {
  const dialect: Dialect = process.env.BENCH_DB === 'mysql' ? 'mysql' : 'sqlite';
  const database = await createTestDatabase(dialect);
  const pluginsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'waymark-bench-plugins-'));
  for (const id of plugins) fs.symlinkSync(path.resolve(import.meta.dirname, '../../plugins', id), path.join(pluginsDir, id));
  const site = createSite({
    config: { databaseUrl: database.url, pluginsDir, logLevel: 'error', sessionSecret },
    logger: winston.createLogger({ level: 'error', transports: [new winston.transports.Console()] }),
  });
  await site.start();
  try {
    await body(site, dialect);
  } finally {
    await site.stop();
    await database.drop();
    fs.rmSync(pluginsDir, { recursive: true, force: true });
  }
}

/** A supertest agent signed in through the login form, as the operator the page benchmarks create. */
export async function signedInAgent(site: Site, username: string, password: string) {
  const agent = request.agent(createApp(site));
  const login = await agent.get('/login').set('Accept', 'text/html').expect(200);
  const csrf = /name="_csrf" value="([^"]+)"/.exec(login.text)![1]!;
  await agent.post('/login').type('form').send({ username, password, _csrf: csrf, next: '/' }).expect(303);
  return agent;
}

/** The baseline of a page benchmark: 51 rows of `table` read by primary key, from a different place each run. */
export function primaryKeyBaseline(site: Site, table: string, rows: number, runs: number): Promise<number> {
  return time(runs, (i) =>
    site.db
      .knex(table)
      .where('id', '>', (i * 997) % rows)
      .orderBy('id')
      .limit(51),
  );
}

/** Prints "what  ms  N x baseline", `what` padded to `width`. */
export const ratioLine = (baseline: number, width: number) => (what: string, ms: number) =>
  console.log(`${what.padEnd(width)} ${ms.toFixed(2).padStart(8)} ms   ${(ms / baseline).toFixed(1).padStart(6)} x baseline`);

/**
 * Inserts `count` users u1..uN (ids in that order), set-based, with `lang` an SQL expression of
 * their number `n` (default 'en'); leaves `bench_seq` (1..count) for further seeding.
 */
export async function seedNumberedUsers(site: Site, dialect: Dialect, count: number, lang = "'en'"): Promise<void> {
  const knex = site.db.knex;
  const now = site.db.now();
  const cat = (...parts: string[]): string => (dialect === 'mysql' ? `CONCAT(${parts.join(', ')})` : parts.join(' || '));
  await knex.schema.createTable('bench_seq', (t) => t.integer('n').primary());
  for (let i = 1; i <= count; i += 500) {
    const n = Math.min(500, count - i + 1);
    await knex.raw(
      `INSERT INTO bench_seq (n) VALUES ${new Array(n).fill('(?)').join(', ')}`,
      Array.from({ length: n }, (_, k) => i + k),
    );
  }
  await knex.raw(
    `INSERT INTO users (username, email, fullname, is_admin, lang, timezone, suspended, deleted, first_login_at, created_at, updated_at)
     SELECT ${cat("'u'", 'n')}, ${cat("'u'", 'n', "'@example.com'")}, ${cat("'User '", 'n')}, 0, ${lang}, 'UTC', 0, 0, ?, ?, ?
     FROM bench_seq ORDER BY n`,
    [now, now, now],
  );
}
