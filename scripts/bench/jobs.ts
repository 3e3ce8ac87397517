/**
 * Job queue throughput: jobs/s claimed + completed by 1, 2 and 4 worker processes on SQLite and
 * MariaDB/MySQL, next to a raw multi-row INSERT baseline into a similar table measured in the same
 * run (right before each worker run). `npx tsx scripts/bench/jobs.ts`; env BENCH_MYSQL_URL
 * (default mysql://root@127.0.0.1:3306; a database is created and dropped), BENCH_JOBS (default
 * 20000: at 10,000 a SQLite run lasts under half a second and single runs swing by half),
 * BENCH_CONCURRENCY (per process, default 64: a worker claims at most its free slots, so this is
 * the claim batch), BENCH_DBS (default "sqlite,mysql"), BENCH_PROCESSES (default "1,2,4"),
 * BENCH_REPEATS (default 3 rounds, each running every process count once; medians are reported,
 * with the spread of the ratio and each count's speed relative to one process in the same round).
 *
 * Internally re-runs itself as a worker process: `jobs.ts --worker <url> <jobs> <concurrency>`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { spawn } from 'node:child_process';
import knexFactory from 'knex';
import { createDatabase, type Database } from '../../core/kernel/db/database';
import { migrateLatest } from '../../core/kernel/db/migrations';
import { coreMigrations } from '../../db/migrations/index';
import { createLogger } from '../../core/kernel/logging';
import { JobQueue } from '../../core/kernel/jobs/queue';

const JOB = 'bench.noop';
const logger = createLogger({ silent: true });

const doneCount = async (db: Database) =>
  Number(((await db.knex('jobs').where({ name: JOB, state: 'done' }).count({ n: '*' }).first()) as { n: number | string }).n);
// An index-only existence probe: polling must not steal the CPU being measured.
const pending = async (db: Database) => (await db.knex('jobs').whereIn('state', ['queued', 'running']).first('id')) !== undefined;

async function workerMain(url: string, concurrency: number): Promise<void> {
  const db = createDatabase(url);
  const queue = new JobQueue(db, logger);
  queue.registrarFor('core').define({ name: JOB, handler: () => null });
  process.stdout.write('ready\n');
  // Start only on "go", so process start-up is not part of the measurement.
  await new Promise<void>((resolve) => readline.createInterface({ input: process.stdin }).once('line', () => resolve()));
  const worker = queue.startWorker({ concurrency, pollMs: 5, workerId: `bench-${process.pid}` });
  while (await pending(db)) await new Promise((resolve) => setTimeout(resolve, 100));
  await worker.stop();
  await db.close();
}

interface Row {
  db: string;
  workers: number;
  /** One entry per repeat: a baseline measured right before a worker run. */
  samples: Array<{ jobsPerSec: number; baselinePerSec: number }>;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

async function baseline(db: Database, total: number): Promise<number> {
  await db.knex.schema.dropTableIfExists('bench_baseline');
  await db.knex.schema.createTable('bench_baseline', (t) => {
    t.increments('id');
    t.string('name', 150).notNullable();
    t.text('payload').nullable();
    t.string('state', 10).notNullable();
    t.integer('priority').notNullable();
    t.bigInteger('run_at').notNullable();
    t.integer('attempts').notNullable();
    t.integer('max_attempts').notNullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at').notNullable();
    t.index(['state', 'priority', 'run_at', 'id']);
  });
  const now = Date.now();
  const rows = Array.from({ length: total }, (_, i) => ({
    name: JOB,
    payload: JSON.stringify({ i }),
    state: 'queued',
    priority: 0,
    run_at: now,
    attempts: 0,
    max_attempts: 5,
    created_at: now,
    updated_at: now,
  }));
  const started = performance.now();
  for (let i = 0; i < rows.length; i += 500) await db.knex('bench_baseline').insert(rows.slice(i, i + 500));
  return total / ((performance.now() - started) / 1000);
}

async function runWorkers(db: Database, url: string, total: number, processes: number, concurrency: number): Promise<number> {
  await db.knex('jobs').del();
  const queue = new JobQueue(db, logger);
  queue.registrarFor('core').define({ name: JOB, handler: () => null });
  await queue.enqueueMany(
    JOB,
    Array.from({ length: total }, (_, i) => ({ i })),
  );
  const children = Array.from({ length: processes }, () =>
    spawn(process.execPath, ['--import', 'tsx', import.meta.filename, '--worker', url, String(total), String(concurrency)], {
      stdio: ['pipe', 'pipe', 'inherit'],
    }),
  );
  const exits = children.map((c) => new Promise<number | null>((resolve) => c.on('exit', resolve)));
  await Promise.all(children.map((c) => new Promise<void>((resolve) => c.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve()))));
  const started = performance.now();
  for (const child of children) child.stdin.write('go\n');
  // A benchmark may poll: 20 ms granularity on multi-second runs.
  while (await pending(db)) await new Promise((resolve) => setTimeout(resolve, 20));
  const seconds = (performance.now() - started) / 1000;
  if ((await doneCount(db)) !== total) throw new Error('not every job finished done');
  const codes = await Promise.all(exits);
  if (codes.some((c) => c !== 0)) throw new Error(`a worker exited with ${codes.join(', ')}`);
  return total / seconds;
}

async function benchDialect(dialect: 'sqlite' | 'mysql', total: number, concurrency: number, repeats: number): Promise<Row[]> {
  let url: string;
  let drop: () => Promise<void>;
  if (dialect === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'waymark-bench-'));
    url = `sqlite:${path.join(dir, 'bench.sqlite')}`;
    drop = async () => fs.rmSync(dir, { recursive: true, force: true });
  } else {
    const server = (process.env.BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306').replace(/\/+$/, '');
    const name = `waymark_bench_${process.pid}`;
    const admin = knexFactory({ client: 'mysql2', connection: { uri: server } as never });
    await admin.raw(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
    url = `${server}/${name}`;
    drop = async () => {
      await admin.raw(`DROP DATABASE IF EXISTS \`${name}\``);
      await admin.destroy();
    };
  }
  const db = createDatabase(url);
  try {
    await migrateLatest(db.knex, coreMigrations);
    const counts = (process.env.BENCH_PROCESSES ?? '1,2,4').split(',').map(Number);
    const rows: Row[] = counts.map((processes) => ({ db: dialect === 'sqlite' ? 'SQLite' : 'MariaDB', workers: processes, samples: [] }));
    // Rounds, not blocks: each round runs every process count once, so load that drifts over the
    // minutes of a run hits them alike, and "N processes vs 1" compares runs seconds apart.
    for (let i = 0; i < repeats; i++) {
      for (const row of rows) {
        // The baseline is measured right before each run: on a shared machine the load drifts, and
        // the ratio of two figures taken seconds apart is steadier than either figure.
        const baselinePerSec = await baseline(db, total);
        row.samples.push({ baselinePerSec, jobsPerSec: await runWorkers(db, url, total, row.workers, concurrency) });
      }
    }
    return rows;
  } finally {
    await db.close();
    await drop();
  }
}

async function main(): Promise<void> {
  const total = Number(process.env.BENCH_JOBS ?? 20_000);
  const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 64);
  const dialects = (process.env.BENCH_DBS ?? 'sqlite,mysql').split(',') as Array<'sqlite' | 'mysql'>;
  const repeats = Number(process.env.BENCH_REPEATS ?? 3);
  console.log(
    `Job queue benchmark: ${total} no-op jobs per run, ${concurrency} concurrent jobs per worker process; ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), Node ${process.version}`,
  );
  const rows: Row[] = [];
  for (const dialect of dialects) rows.push(...(await benchDialect(dialect, total, concurrency, repeats)));
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  console.log(
    `\nMedians of ${repeats} rounds; "ratio min–max" is the spread of the per-run ratio; "÷ 1 process" divides each run by the one-process run of the same round.`,
  );
  console.log('\n| database | worker processes | jobs/s (claim+complete) | baseline INSERT rows/s | jobs/s ÷ baseline | ratio min–max | ÷ 1 process |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const ratios = r.samples.map((s) => s.jobsPerSec / s.baselinePerSec);
    const single = rows.find((o) => o.db === r.db && o.workers === 1);
    const vsOne = single ? median(r.samples.map((s, i) => s.jobsPerSec / single.samples[i]!.jobsPerSec)).toFixed(2) : '–';
    console.log(
      `| ${r.db} | ${r.workers} | ${fmt(median(r.samples.map((s) => s.jobsPerSec)))} | ${fmt(median(r.samples.map((s) => s.baselinePerSec)))} | ${median(ratios).toFixed(3)} | ${Math.min(...ratios).toFixed(3)}–${Math.max(...ratios).toFixed(3)} | ${vsOne} |`,
    );
  }
}

if (process.argv[2] === '--worker') {
  await workerMain(process.argv[3], Number(process.argv[5]));
  process.exit(0);
} else {
  await main();
}
