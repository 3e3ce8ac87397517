/**
 * Benchmark: notify_program's timed-message scan and its delivery throughput (issue 12).
 *
 *   npx tsx scripts/bench/notifications.ts                       # 1,000,000 assignments, 2,000 messages
 *   BENCH_ASSIGNMENTS=100000 BENCH_MESSAGES=1000 npx tsx scripts/bench/notifications.ts
 *
 * 1. The scan: a SQLite site with BENCH_ASSIGNMENTS active assignments spread over 20 programs, due
 *    dates spread over a year, and two timed messages per program (a due reminder P3D before, an
 *    overdue message P1D after). Timed: one run of the scan (every timed message's INSERT … SELECT
 *    into the outbox, in one transaction) with a one-day catch-up window. Baseline, same run, same
 *    rows: one plain `INSERT … SELECT` of the active assignments due in the same windows into a bare
 *    table (what reading the candidates costs with no eligibility checks, dedupe or manager copies).
 *    Target: < 10 s at 1,000,000 assignments.
 * 2. Delivery throughput: BENCH_MESSAGES assigned messages sent by the plugin's send job (claim,
 *    context reads, eligibility, rendering, in-app row, email, marking sent) to a local SMTP server
 *    (smtp-server), in messages per second, next to raw nodemailer sends of as many messages of the
 *    same size over the same kind of pooled transport to the same server.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import nodemailer from 'nodemailer';
import winston from 'winston';
import { createSite, type Site } from '../../core/site';
import { createTestDatabase } from '../../test/utils/db';
import { SmtpSink } from '../../test/utils/smtp-sink';
import { MessageStore } from '../../plugins/notify_program/messages';
import { newBatch, Outbox } from '../../plugins/notify_program/outbox';

const ASSIGNMENTS = Number(process.env.BENCH_ASSIGNMENTS ?? 1_000_000);
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 2_000);
const PROGRAMS = 20;
const DAY = 86_400_000;

const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await work();
  return { ms: performance.now() - started, value };
}

/** `count` users named `<prefix>N`, inserted set-based; returns the id range. */
async function bulkUsers(site: Site, prefix: string, count: number): Promise<{ lo: number; hi: number }> {
  const now = site.db.now();
  await site.db.knex.raw(
    `WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < ?)
     INSERT INTO users (username, email, fullname, created_at, updated_at)
     SELECT ? || n, ? || n || '@example.com', 'Learner ' || n, ?, ? FROM seq`,
    [count, prefix, prefix, now, now],
  );
  const row = (await site.db.knex('users').where('username', 'like', `${prefix}%`).min({ lo: 'id' }).max({ hi: 'id' }).first()) as { lo: number; hi: number };
  return { lo: Number(row.lo), hi: Number(row.hi) };
}

async function programs(site: Site, prefix: string, n: number): Promise<number[]> {
  const course = await site.services.courses.create({ shortname: `${prefix}-course`, fullname: 'Bench course' });
  const ids: number[] = [];
  for (let i = 0; i < n; i++) {
    const { program } = await site.services.programs.create({
      shortname: `${prefix}-p${i}`,
      fullname: `Bench program ${i}`,
      courseSets: [{ courseIds: [course.id], rule: 'all' }],
    });
    ids.push(program.id);
  }
  return ids;
}

async function main(): Promise<void> {
  const sink = new SmtpSink();
  process.env.SMTP_URL = await sink.start();
  process.env.SMTP_FROM = 'Bench <bench@waymark.test>';
  const pluginsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'waymark-bench-notify-'));
  fs.symlinkSync(path.resolve(import.meta.dirname, '../../plugins/notify_program'), path.join(pluginsDir, 'notify_program'), 'dir');
  const db = await createTestDatabase('sqlite');
  const site = createSite({
    config: { databaseUrl: db.url, pluginsDir },
    logger: winston.createLogger({ silent: true, transports: [new winston.transports.Console()] }),
  });
  try {
    await site.start();
    const knex = site.db.knex;
    const now = site.db.now();
    console.log(`notify_program benchmark: ${ASSIGNMENTS.toLocaleString('en')} assignments, ${MESSAGES.toLocaleString('en')} messages (SQLite, ${db.url})`);

    // ---- 1. the timed scan ----
    const setup = await timed(async () => {
      const users = await bulkUsers(site, 'scan', ASSIGNMENTS);
      const programIds = await programs(site, 'scan', PROGRAMS);
      // Each user in one program; due dates spread over the next year; assigned a month ago.
      await knex.raw(
        `INSERT INTO program_user_assignments (program_id, user_id, status, due_at, rule_state, rule_due_at, assigned_at, created_at, updated_at)
         SELECT ? + ((id - ?) % ?), id, 'active', ? + ((id * 7919) % 365) * ? + (id % 86400) * 1000, 'known', NULL, ?, ?, ? FROM users WHERE id BETWEEN ? AND ?`,
        [programIds[0]!, users.lo, PROGRAMS, now, DAY, now - 30 * DAY, now, now, users.lo, users.hi],
      );
      for (const programId of programIds) {
        await knex('notify_program_programs').insert({ program_id: programId, defaults_at: now });
        for (const [type, offset, direction] of [
          ['program_due', 'P3D', 'before'],
          ['program_overdue', 'P1D', 'after'],
        ] as const) {
          await knex('notify_program_messages').insert({
            program_id: programId,
            type,
            subject: '{{program_fullname}}',
            body: 'Due {{due_date}}',
            manager_copy: false,
            trigger_offset: offset,
            trigger_direction: direction,
            active_from: now - 60 * DAY,
            created_at: now - 60 * DAY,
            updated_at: now - 60 * DAY,
          });
        }
      }
      await knex('notify_program_scan').insert({ id: 1, last_scan_at: now - 5 * 60_000 });
      await knex.raw('ANALYZE');
    });
    console.log(`  set-up (users, assignments, messages): ${seconds(setup.ms)}`);
    await knex.schema.createTable('bench_candidates', (t) => {
      t.integer('assignment_id').notNullable();
      t.integer('user_id').notNullable();
    });
    // The scan's windows at `now` with a one-day catch-up: due in (now + 3d - 1d, now + 3d], due in (now - 1d - 1d, now - 1d].
    const baseline = await timed(() =>
      site.db.transaction(async (trx) => {
        await trx.raw(
          `INSERT INTO bench_candidates (assignment_id, user_id)
           SELECT id, user_id FROM program_user_assignments
            WHERE status = 'active' AND ((due_at > ? AND due_at <= ?) OR (due_at > ? AND due_at <= ?))`,
          [now + 2 * DAY, now + 3 * DAY, now - 2 * DAY, now - DAY],
        );
        return Number(((await trx('bench_candidates').count({ n: '*' }).first()) as { n: number }).n);
      }),
    );
    const count = await timed(async () => Number(((await knex('program_user_assignments').count({ n: '*' }).first()) as { n: number }).n));
    const outbox = new Outbox(site.db);
    const scan = await timed(() => site.db.transaction((trx) => outbox.scanTimed(trx, now, 'P1D', newBatch())));
    console.log(`  COUNT(*) of the assignments: ${seconds(count.ms)} (${count.value.toLocaleString('en')} rows)`);
    console.log(`  baseline INSERT … SELECT of the candidates: ${seconds(baseline.ms)} (${baseline.value.toLocaleString('en')} rows)`);
    const at1M = ASSIGNMENTS >= 1_000_000 ? scan.ms : (scan.ms * 1_000_000) / ASSIGNMENTS;
    console.log(
      `  timed scan (${scan.value.messages} timed messages): ${seconds(scan.ms)}, ${scan.value.added.toLocaleString('en')} deliveries queued -> ${(scan.ms / baseline.ms).toFixed(1)}x the baseline`,
    );
    console.log(
      `  target < 10 s at 1,000,000 assignments: ${ASSIGNMENTS >= 1_000_000 ? 'measured' : 'extrapolated linearly'} ${seconds(at1M)} -> ${at1M < 10_000 ? 'met' : 'NOT met'}`,
    );
    const rescan = await timed(() => site.db.transaction((trx) => outbox.scanTimed(trx, now + 5 * 60_000, 'P1D', newBatch())));
    console.log(
      `  the next scan five minutes later: ${seconds(rescan.ms)}, ${rescan.value.added} new deliveries (the window overlaps the last one; dedupe adds nothing twice)`,
    );

    // ---- 2. delivery throughput ----
    await knex('notify_program_deliveries').delete();
    const users = await bulkUsers(site, 'send', MESSAGES);
    const [sendProgram] = await programs(site, 'send', 1);
    await knex.raw(
      `INSERT INTO program_user_assignments (program_id, user_id, status, due_at, assigned_at, created_at, updated_at)
       SELECT ?, id, 'active', ?, ?, ?, ? FROM users WHERE id BETWEEN ? AND ?`,
      [sendProgram!, now + 90 * DAY, now, now, now, users.lo, users.hi],
    );
    await site.jobs.drain();
    const userIds = Array.from({ length: users.hi - users.lo + 1 }, (_, i) => users.lo + i);
    // The default assigned message (created for the program) for every learner, one batch, one job.
    await site.db.transaction(async (trx) => {
      const batch = newBatch();
      await new MessageStore(site.db).ensureDefaults(sendProgram!, trx);
      await outbox.queueForLearners(trx, { programId: sendProgram!, type: 'assigned', userIds, assignment: 'assigned' }, batch);
      await site.jobs.enqueue('notify_program.send', { batch }, { trx });
    });
    sink.clear();
    const before = sink.connections;
    const delivery = await timed(() => site.jobs.drain({ timeoutMs: 3_600_000 }));
    const pluginCount = sink.count;
    const pluginRate = (pluginCount / delivery.ms) * 1000;
    const pluginConnections = sink.connections - before;
    const sample = (await sink.messages())[0]!.mail;

    sink.clear();
    const rawBefore = sink.connections;
    const transport = nodemailer.createTransport(`${process.env.SMTP_URL}?pool=true`);
    const raw = await timed(async () => {
      await Promise.all(
        userIds.map((id) =>
          transport.sendMail({
            from: process.env.SMTP_FROM,
            to: { name: `Learner ${id}`, address: `send${id}@example.com` },
            subject: sample.subject ?? '',
            text: sample.text ?? '',
            html: typeof sample.html === 'string' ? sample.html : '',
            messageId: `<raw-${id}@waymark.test>`,
          }),
        ),
      );
    });
    transport.close();
    const rawRate = (sink.count / raw.ms) * 1000;
    console.log(
      `  delivery through the plugin: ${pluginCount} messages in ${seconds(delivery.ms)} = ${pluginRate.toFixed(0)} messages/s over ${pluginConnections} SMTP connection(s)`,
    );
    console.log(
      `  raw nodemailer (pooled, same server, same messages): ${seconds(raw.ms)} = ${rawRate.toFixed(0)} messages/s over ${sink.connections - rawBefore} connection(s)`,
    );
    console.log(`  plugin / raw throughput: ${(pluginRate / rawRate).toFixed(2)}`);
  } finally {
    await site.stop();
    await db.drop();
    await sink.close();
    fs.rmSync(pluginsDir, { recursive: true, force: true });
  }
}

await main();
