/**
 * What the page benchmarks share: command-line options, the median of timed runs, and a site on a
 * fresh database of the chosen dialect (BENCH_DB=mysql with TEST_MYSQL_URL, else SQLite) with no
 * plugins, dropped afterwards.
 */
import winston from 'winston';
import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import { createSite, type Site } from '../../core/site';
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

/** Runs `body` on a started site over a fresh database, then stops it and drops the database. */
export async function withBenchSite(sessionSecret: string, body: (site: Site, dialect: Dialect) => Promise<void>): Promise<void> {
  const dialect: Dialect = process.env.BENCH_DB === 'mysql' ? 'mysql' : 'sqlite';
  const database = await createTestDatabase(dialect);
  const pluginsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'waymark-bench-plugins-'));
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
