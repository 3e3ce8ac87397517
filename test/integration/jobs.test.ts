import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { expect } from 'chai';
import { createDatabase, type Database } from '../../core/kernel/db/database';
import { migrateLatest } from '../../core/kernel/db/migrations';
import { coreMigrations } from '../../db/migrations/index';
import { createLogger } from '../../core/kernel/logging';
import { JobQueue } from '../../core/kernel/jobs/queue';
import { WaymarkError } from '../../core/kernel/errors';
import { createTestDatabase, testDialect, type TestDatabase } from '../utils/db';

const logger = createLogger({ silent: true });
const root = path.resolve(import.meta.dirname, '../..');

async function expectCode(promise: Promise<unknown> | (() => unknown), code: string): Promise<void> {
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (error) {
    expect(error).to.be.instanceOf(WaymarkError);
    expect((error as WaymarkError).code).to.equal(code);
    return;
  }
  expect.fail(`expected ${code}`);
}

describe(`job queue (${testDialect})`, function () {
  let testDb: TestDatabase;
  let db: Database;

  before(async () => {
    testDb = await createTestDatabase();
    db = createDatabase(testDb.url, logger);
    await migrateLatest(db.knex, coreMigrations);
  });

  after(async () => {
    await db.close();
    await testDb.drop();
  });

  beforeEach(async () => {
    await db.knex('jobs').del();
    await db.knex('job_schedules').del();
  });

  const jobCount = async (name: string) => Number(((await db.knex('jobs').where({ name }).count({ n: '*' }).first()) as { n: number | string }).n);

  it('keeps no job when the enqueuing transaction rolls back, and keeps it when it commits', async () => {
    const queue = new JobQueue(db, logger);
    queue.registrarFor('core').define({ name: 'core.outbox', handler: () => 'sent' });

    await db
      .transaction(async (trx) => {
        await queue.enqueue('core.outbox', { to: 'a' }, { trx });
        throw new Error('caller failed');
      })
      .catch(() => undefined);
    expect(await jobCount('core.outbox')).to.equal(0);

    const id = await db.transaction((trx) => queue.enqueue('core.outbox', { to: 'b' }, { trx }));
    expect((await queue.status(id))?.state).to.equal('queued');
    expect(await queue.drain()).to.deep.equal({ done: 1, dead: 0 });
    const status = await queue.status(id);
    expect(status?.state).to.equal('done');
    expect(status?.result).to.equal('sent');
  });

  it('returns the existing job for a duplicate dedupe key until that job finishes', async () => {
    const queue = new JobQueue(db, logger);
    const seen: unknown[] = [];
    queue.registrarFor('core').define({ name: 'core.rebuild', handler: (job) => void seen.push(job.payload) });

    const first = await queue.enqueue('core.rebuild', { n: 1 }, { dedupeKey: 'rebuild:7' });
    const again = await queue.enqueue('core.rebuild', { n: 2 }, { dedupeKey: 'rebuild:7' });
    const inTrx = await db.transaction((trx) => queue.enqueue('core.rebuild', { n: 3 }, { trx, dedupeKey: 'rebuild:7' }));
    expect(again).to.equal(first);
    expect(inTrx).to.equal(first);
    expect(await jobCount('core.rebuild')).to.equal(1);

    await queue.drain();
    expect(seen).to.deep.equal([{ n: 1 }]);
    // Finished jobs release their key: the next rebuild is a new job.
    const next = await queue.enqueue('core.rebuild', { n: 4 }, { dedupeKey: 'rebuild:7' });
    expect(next).to.not.equal(first);
    await queue.drain();
    expect(seen).to.deep.equal([{ n: 1 }, { n: 4 }]);
  });

  it('retries a failing job, then marks it dead with its last error kept', async () => {
    const queue = new JobQueue(db, logger);
    let flakyCalls = 0;
    queue.registrarFor('core').define({
      name: 'core.flaky',
      handler: (job) => {
        flakyCalls++;
        if (job.attempt < 3) throw new Error(`flaky failure ${job.attempt}`);
        return { attempt: job.attempt };
      },
    });
    queue.registrarFor('core').define({
      name: 'core.broken',
      maxAttempts: 3,
      handler: (job) => {
        throw new Error(`smtp down on attempt ${job.attempt}`);
      },
    });
    const flaky = await queue.enqueue('core.flaky');
    const broken = await queue.enqueue('core.broken', null, { maxAttempts: 2 });

    expect(await queue.drain()).to.deep.equal({ done: 1, dead: 1 });
    const ok = await queue.status(flaky);
    expect(ok).to.include({ state: 'done', attempts: 3 });
    expect(ok?.result).to.deep.equal({ attempt: 3 });
    expect(flakyCalls).to.equal(3);

    const dead = await queue.status(broken);
    expect(dead).to.include({ state: 'dead', attempts: 2, maxAttempts: 2 });
    expect(dead?.lastError).to.contain('smtp down on attempt 2');
    expect(dead?.finishedAt).to.be.a('string');
    // Dead jobs are not picked up again.
    expect(await queue.drain()).to.deep.equal({ done: 0, dead: 0 });
  });

  it('waits an exponentially growing backoff between attempts', async () => {
    let clock = Date.parse('2026-03-01T10:00:00Z');
    const clocked: Database = { ...db, now: () => clock };
    const queue = new JobQueue(clocked, logger);
    queue.registrarFor('core').define({ name: 'core.backoff', maxAttempts: 4, backoffMs: 1000, handler: () => Promise.reject(new Error('still failing')) });
    const id = await queue.enqueue('core.backoff');

    const delays: number[] = [];
    for (let attempt = 1; attempt <= 3; attempt++) {
      await queue.drain({ skipBackoff: false });
      const status = await queue.status(id);
      expect(status).to.include({ state: 'queued', attempts: attempt });
      delays.push(Date.parse(status!.runAt) - clock);
      // Not due yet: nothing runs.
      await queue.drain({ skipBackoff: false });
      expect((await queue.status(id))?.attempts).to.equal(attempt);
      clock = Date.parse(status!.runAt);
    }
    expect(delays[0]).to.be.within(800, 1200);
    expect(delays[1]).to.be.within(1600, 2400);
    expect(delays[2]).to.be.within(3200, 4800);

    await queue.drain({ skipBackoff: false });
    expect(await queue.status(id)).to.include({ state: 'dead', attempts: 4 });
  });

  it('shows progress reported by a running job through status()', async () => {
    const queue = new JobQueue(db, logger);
    let seenWhileRunning: Awaited<ReturnType<JobQueue['status']>> = null;
    queue.registrarFor('core').define({
      name: 'core.import',
      handler: async (job) => {
        await job.progress(40, 100, 'rows imported');
        seenWhileRunning = await queue.status(job.id);
        await job.progress(100, 100, 'done');
        return { rows: 100 };
      },
    });
    const id = await queue.enqueue('core.import');
    await queue.drain();
    expect(seenWhileRunning).to.deep.include({ state: 'running', progress: { done: 40, total: 100, message: 'rows imported' } });
    const final = await queue.status(id);
    expect(final).to.deep.include({ state: 'done', progress: { done: 100, total: 100, message: 'done' }, result: { rows: 100 } });
    expect(await queue.status(999_999)).to.equal(null);
  });

  it('recovers jobs whose worker died holding the lock', async () => {
    const queue = new JobQueue(db, logger);
    const ran: number[] = [];
    queue.registrarFor('core').define({ name: 'core.long', handler: (job) => void ran.push(job.id) });
    const orphan = await queue.enqueue('core.long');
    const exhausted = await queue.enqueue('core.long', null, { maxAttempts: 1 });
    const healthy = await queue.enqueue('core.long');
    const now = db.now();
    // What a crashed worker leaves behind: running rows whose lock nobody extends any more.
    await db
      .knex('jobs')
      .whereIn('id', [orphan, exhausted])
      .update({ state: 'running', attempts: 1, locked_by: 'crashed-worker', lock_expires_at: now - 1000 });
    await db
      .knex('jobs')
      .where('id', healthy)
      .update({ state: 'running', attempts: 1, locked_by: 'live-worker', lock_expires_at: now + 60_000 });

    expect(await queue.recoverStale(now)).to.equal(2);
    expect(await queue.status(orphan)).to.include({ state: 'queued', attempts: 1 });
    const dead = await queue.status(exhausted);
    expect(dead).to.include({ state: 'dead', attempts: 1 });
    expect(dead?.lastError).to.contain('lock expired');
    expect(await queue.status(healthy)).to.include({ state: 'running' });

    await queue.drain();
    expect(ran).to.deep.equal([orphan]);
    expect(await queue.status(orphan)).to.include({ state: 'done', attempts: 2 });
  });

  it('enqueues a scheduled task once per tick even when two processes run schedules at once', async () => {
    // Two JobQueue instances stand for two processes. On MySQL each transaction gets its own pooled
    // connection, so the calls really overlap; SQLite serialises writers by design.
    const queues = [new JobQueue(db, logger), new JobQueue(db, logger)];
    for (const queue of queues) {
      const registrar = queue.registrarFor('mod_digest');
      registrar.define({ name: 'mod_digest.send', handler: () => 'sent' });
      registrar.schedule({ name: 'mod_digest.hourly', cron: '0 * * * *', job: 'mod_digest.send', payload: { kind: 'hourly' } });
    }
    const ticks = [
      '2026-03-01T10:00:00Z',
      '2026-03-01T10:00:30Z',
      '2026-03-01T10:59:59Z',
      '2026-03-01T11:00:00Z',
      '2026-03-01T11:20:00Z',
      '2026-03-01T12:05:00Z',
    ];
    const fired: string[][] = [];
    for (const tick of ticks) {
      const results = await Promise.all(queues.flatMap((q) => [q.runDueSchedules(new Date(tick)), q.runDueSchedules(new Date(tick))]));
      fired.push(results.flat());
    }
    expect(fired.map((f) => f.length)).to.deep.equal([1, 0, 0, 1, 0, 1]);
    expect(await jobCount('mod_digest.send')).to.equal(3);
    const schedule = await db.knex('job_schedules').where('name', 'mod_digest.hourly').first();
    expect(new Date(Number(schedule.next_run_at)).toISOString()).to.equal('2026-03-01T13:00:00.000Z');

    expect(await queues[1].drain()).to.deep.equal({ done: 3, dead: 0 });
  });

  it('stops claiming the jobs of a removed owner, leaving them queued', async () => {
    const queue = new JobQueue(db, logger);
    const ran: string[] = [];
    const register = () => {
      const registrar = queue.registrarFor('mod_badge');
      registrar.define({ name: 'mod_badge.award', handler: () => void ran.push('award') });
      registrar.schedule({ name: 'mod_badge.nightly', cron: '0 2 * * *', job: 'mod_badge.award' });
    };
    register();
    queue.registrarFor('core').define({ name: 'core.keep', handler: () => void ran.push('core') });
    const award = await queue.enqueue('mod_badge.award');
    await queue.enqueue('core.keep');

    queue.removeOwner('mod_badge');
    expect(await queue.runDueSchedules(new Date('2026-03-02T02:00:00Z'))).to.deep.equal([]);
    const worker = queue.startWorker({ concurrency: 2, pollMs: 10 });
    await queue.drain();
    await worker.stop();
    expect(ran).to.deep.equal(['core']);
    expect(await queue.status(award)).to.include({ state: 'queued', attempts: 0 });
    await expectCode(queue.enqueue('mod_badge.award'), 'JOB_UNKNOWN');

    // Re-enabled: its queued job runs.
    register();
    await queue.drain();
    expect(await queue.status(award)).to.include({ state: 'done' });
  });

  it('runs jobs in a background worker and waits for in-flight jobs on stop()', async () => {
    const queue = new JobQueue(db, logger);
    const finished: number[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    queue.registrarFor('core').define({
      name: 'core.slow',
      handler: async (job) => {
        started();
        await gate;
        finished.push(job.id);
      },
    });
    queue.startWorker({ concurrency: 2, pollMs: 10 });
    const id = await queue.enqueue('core.slow');
    await running;
    expect(await queue.status(id)).to.include({ state: 'running' });
    const stopping = queue.stop();
    release();
    await stopping;
    expect(finished).to.deep.equal([id]);
    expect(await queue.status(id)).to.include({ state: 'done' });
  });

  it('rejects bad definitions and enqueue options with clear codes, writing nothing', async () => {
    const queue = new JobQueue(db, logger);
    const plugin = queue.registrarFor('mod_x');
    await expectCode(() => plugin.define({ name: 'unprefixed', handler: () => null }), 'JOB_NAME_INVALID');
    await expectCode(() => plugin.schedule({ name: 'mod_x.s', cron: '* * * * * *', job: 'mod_x.j' }), 'SCHEDULE_CRON_INVALID');
    await expectCode(() => plugin.schedule({ name: 'mod_x.s', cron: '61 * * * *', job: 'mod_x.j' }), 'SCHEDULE_CRON_INVALID');
    plugin.define({ name: 'mod_x.j', handler: () => null });
    await expectCode(() => plugin.define({ name: 'mod_x.j', handler: () => null }), 'JOB_DUPLICATE');
    await expectCode(queue.enqueue('nope'), 'JOB_UNKNOWN');
    await expectCode(queue.enqueue('mod_x.j', null, { priority: 1.5 }), 'JOB_OPTIONS_INVALID');
    await expectCode(queue.enqueue('mod_x.j', { big: 10n }), 'JOB_PAYLOAD_INVALID');
    expect(await jobCount('mod_x.j')).to.equal(0);
  });

  /** Resolves once `count()` reaches n; handlers call `bump()`. Not a sleep: it waits on the handlers themselves. */
  function counter() {
    let n = 0;
    const waiters: Array<{ at: number; resolve: () => void }> = [];
    return {
      bump() {
        n++;
        for (const w of waiters.filter((w) => w.at <= n)) w.resolve();
      },
      reached(at: number): Promise<void> {
        return at <= n ? Promise.resolve() : new Promise((resolve) => waiters.push({ at, resolve }));
      },
    };
  }

  it('claims no more jobs than a worker has free slots, highest priority then earliest run_at first', async () => {
    const started = counter();
    const order: number[][] = [[], []];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    // Two queues stand for two worker processes, each with 3 slots.
    const queues = [new JobQueue(db, logger), new JobQueue(db, logger)];
    queues.forEach((queue, i) =>
      queue.registrarFor('core').define({
        name: 'core.ordered',
        handler: async (job) => {
          order[i]!.push(job.id);
          started.bump();
          await gate;
        },
      }),
    );
    const now = db.now();
    const enqueue = (priority: number, runAt: number) => queues[0]!.enqueue('core.ordered', null, { priority, runAt });
    const low = await enqueue(0, now - 5000);
    const urgentLate = await enqueue(10, now - 1000);
    const normalEarly = await enqueue(5, now - 3000);
    const urgentEarly = await enqueue(10, now - 2000);
    const normalLate = await enqueue(5, now - 100);
    const lowLate = await enqueue(0, now - 10);
    const lowest = await enqueue(-5, now - 9000);
    const future = await enqueue(100, now + 3_600_000);

    const first = queues[0]!.startWorker({ concurrency: 3, pollMs: 10, leased: false });
    await started.reached(3);
    expect(order[0]).to.deep.equal([urgentEarly, urgentLate, normalEarly]);
    const running = async () => (await db.knex('jobs').where({ name: 'core.ordered', state: 'running' }).pluck('id')).map(Number).sort((a, b) => a - b);
    expect(await running()).to.deep.equal(
      [urgentLate, normalEarly, urgentEarly].sort((a, b) => a - b),
      'a full worker claims nothing more',
    );

    const second = queues[1]!.startWorker({ concurrency: 3, pollMs: 10, leased: false });
    await started.reached(6);
    expect(order[1]).to.deep.equal([normalLate, low, lowLate]);
    expect(await running()).to.have.length(6);
    expect((await queues[0]!.status(lowest))?.state).to.equal('queued');

    release();
    await started.reached(7);
    await Promise.all([first.stop(), second.stop()]);
    await queues[0]!.drain();
    expect([...order[0]!, ...order[1]!].sort((a, b) => a - b)).to.deep.equal(
      [low, urgentLate, normalEarly, urgentEarly, normalLate, lowLate, lowest].sort((a, b) => a - b),
    );
    expect((await queues[0]!.status(lowest))?.state).to.equal('done');
    expect(await queues[0]!.status(future)).to.include({ state: 'queued', attempts: 0 });
  });

  if (testDialect === 'sqlite') {
    it('on SQLite, one worker holds the lease and runs the jobs; a standby takes over when it stops', async () => {
      const ran = counter();
      const runBy: string[] = [];
      const queues = [new JobQueue(db, logger), new JobQueue(db, logger)];
      queues.forEach((queue, i) =>
        queue.registrarFor('core').define({
          name: 'core.leased',
          handler: () => {
            runBy.push(`w${i}`);
            ran.bump();
          },
        }),
      );
      const first = queues[0]!.startWorker({ pollMs: 10, workerId: 'w0' });
      await queues[0]!.enqueue('core.leased', { n: 1 });
      await ran.reached(1);
      const second = queues[1]!.startWorker({ pollMs: 10, workerId: 'w1' });
      for (let n = 2; n <= 20; n++) await queues[1]!.enqueue('core.leased', { n });
      await ran.reached(20);
      expect(new Set(runBy)).to.deep.equal(new Set(['w0']), 'the standby claimed nothing while the holder ran');

      await first.stop(); // a clean stop gives the lease up at once
      await queues[1]!.enqueue('core.leased', { n: 21 });
      await ran.reached(21);
      expect(runBy.at(-1)).to.equal('w1');
      await second.stop();
    });
  }

  it('in a background worker, retries a failing job with backoff, then marks it dead, and runs a flaky one to done once', async () => {
    const queue = new JobQueue(db, logger);
    const lastAttempts = counter();
    const calls = { broken: 0, flaky: 0, noop: 0 };
    const registrar = queue.registrarFor('core');
    registrar.define({
      name: 'core.w_broken',
      maxAttempts: 3,
      backoffMs: 0,
      handler: (job) => {
        calls.broken++;
        if (job.attempt === 3) lastAttempts.bump();
        throw new Error(`mail server down on attempt ${job.attempt}`);
      },
    });
    registrar.define({
      name: 'core.w_flaky',
      backoffMs: 0,
      handler: (job) => {
        calls.flaky++;
        if (job.attempt < 3) throw new Error(`flaky ${job.attempt}`);
        lastAttempts.bump();
        return { sentOn: job.attempt };
      },
    });
    registrar.define({ name: 'core.w_noop', handler: () => void calls.noop++ });
    const broken = await queue.enqueue('core.w_broken', null, { dedupeKey: 'mail:1' });
    const flaky = await queue.enqueue('core.w_flaky');
    await queue.enqueueMany(
      'core.w_noop',
      Array.from({ length: 20 }, (_, i) => ({ i })),
    );

    const worker = queue.startWorker({ concurrency: 4, pollMs: 10 });
    await lastAttempts.reached(2);
    await worker.stop(); // waits until the outcomes in flight are written

    const dead = await queue.status(broken);
    expect(dead).to.include({ state: 'dead', attempts: 3 });
    expect(dead?.lastError).to.contain('mail server down on attempt 3');
    expect(await queue.status(flaky)).to.deep.include({ state: 'done', attempts: 3, result: { sentOn: 3 } });
    expect(calls).to.deep.equal({ broken: 3, flaky: 3, noop: 20 });
    expect(await queue.drain()).to.deep.equal({ done: 0, dead: 0 });
    // The dead job released its dedupe key.
    expect(await queue.enqueue('core.w_broken', null, { dedupeKey: 'mail:1' })).to.not.equal(broken);
  });

  it('after a worker crashes mid-batch, stale-lock recovery re-runs only the jobs whose completion was not written', async function () {
    this.timeout(60_000);
    await db.knex.schema.dropTableIfExists('job_log');
    await db.knex.schema.createTable('job_log', (t) => {
      t.increments('id');
      t.integer('job_id').unsigned().notNullable();
      t.string('worker', 100).notNullable();
    });
    const queue = new JobQueue(db, logger);
    const reran: number[] = [];
    queue.registrarFor('core').define({
      name: 'test.crashy',
      handler: async (job) => {
        reran.push(job.id);
        await db.knex('job_log').insert({ job_id: job.id, worker: 'recovering' });
      },
    });
    const total = 40;
    await queue.enqueueMany(
      'test.crashy',
      Array.from({ length: total }, (_, i) => ({ i, crash: i === 29 })),
    );

    const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'test/fixtures/job-crash-worker.ts'), testDb.url], {
      cwd: root,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    const signal = await new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, sig) => resolve(sig)));
    expect(signal, stderr).to.equal('SIGKILL');

    const byState = async (state: string) => (await db.knex('jobs').where({ name: 'test.crashy', state }).orderBy('id').pluck('id')).map(Number);
    const doneBefore = await byState('done');
    const orphaned = await byState('running');
    expect(doneBefore.length, 'completions written before the crash').to.be.greaterThan(0);
    expect(orphaned.length, 'jobs the crashed worker still held').to.be.within(1, 4);

    // Its locks (1 s) expire; any worker's recovery puts the held jobs back, attempt counted.
    expect(await queue.recoverStale(db.now() + 5000)).to.equal(orphaned.length);
    const all = (await db.knex('jobs').where('name', 'test.crashy').orderBy('id').pluck('id')).map(Number);
    const crashed = all[29]!;
    expect(orphaned).to.include(crashed);
    expect(await queue.drain()).to.deep.equal({ done: total - doneBefore.length, dead: 0 });
    // Only what had no written completion runs again; a completed job never does.
    expect([...reran].sort((x, y) => x - y)).to.deep.equal(all.filter((id) => !doneBefore.includes(id)));
    for (const id of orphaned) expect(await queue.status(id)).to.include({ state: 'done', attempts: 2 });
    for (const id of doneBefore) expect(await queue.status(id)).to.include({ state: 'done', attempts: 1 });
    const runs = new Map(
      ((await db.knex('job_log').select('job_id').count({ n: '*' }).groupBy('job_id')) as Array<{ job_id: number; n: number | string }>).map((r) => [
        Number(r.job_id),
        Number(r.n),
      ]),
    );
    expect(runs.size).to.equal(total);
    for (const id of all) expect(runs.get(id), `runs of job ${id}`).to.equal(id === crashed ? 2 : orphaned.includes(id) ? runs.get(id) : 1);
  });

  it('lets two worker processes drain 10,000 jobs with no job run twice', async function () {
    this.timeout(90_000);
    const total = 10_000;
    await db.knex.schema.dropTableIfExists('job_log');
    await db.knex.schema.createTable('job_log', (t) => {
      t.increments('id');
      t.integer('job_id').unsigned().notNullable();
      t.string('worker', 100).notNullable();
    });
    const fixture = path.join(root, 'test/fixtures/job-worker.ts');
    const children: ChildProcess[] = [];
    const exits: Array<Promise<number | null>> = [];
    const readies: Array<Promise<void>> = [];
    for (let i = 0; i < 2; i++) {
      const child = spawn(process.execPath, ['--import', 'tsx', fixture, testDb.url, String(total), '16'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr!.on('data', (chunk) => (stderr += chunk));
      exits.push(
        new Promise((resolve) =>
          child.on('exit', (code) => {
            if (code !== 0) console.error(stderr);
            resolve(code);
          }),
        ),
      );
      readies.push(new Promise((resolve) => child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve())));
      children.push(child);
    }
    try {
      await Promise.race([Promise.all(readies), Promise.all(exits).then(() => expect.fail('workers exited before ready'))]);
      const queue = new JobQueue(db, logger);
      queue.registrarFor('core').define({ name: 'test.record', handler: () => expect.fail('the test process must not run these') });
      expect(
        await queue.enqueueMany(
          'test.record',
          Array.from({ length: total }, (_, i) => ({ i })),
        ),
      ).to.equal(total);
      expect(await Promise.all(exits)).to.deep.equal([0, 0]);
    } finally {
      for (const child of children) if (child.exitCode === null) child.kill();
    }

    const runs = Number(((await db.knex('job_log').count({ n: '*' }).first()) as { n: number | string }).n);
    const distinct = Number(((await db.knex('job_log').countDistinct({ n: 'job_id' }).first()) as { n: number | string }).n);
    const perWorker = (await db.knex('job_log').select('worker').count({ n: '*' }).groupBy('worker')) as Array<{ worker: string; n: number | string }>;
    expect(runs).to.equal(total);
    expect(distinct).to.equal(total);
    expect(perWorker).to.have.length(2, 'both processes ran jobs');
    expect(
      await db
        .knex('jobs')
        .where({ name: 'test.record', state: 'done' })
        .count({ n: '*' })
        .first()
        .then((r) => Number((r as { n: number | string }).n)),
    ).to.equal(total);
  });
});
