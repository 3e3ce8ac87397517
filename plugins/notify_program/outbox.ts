import crypto from 'node:crypto';
import { DateTime, Duration } from 'luxon';
import {
  assignmentViews,
  chunk,
  extensionRequestViews,
  parseDuration,
  peopleViews,
  placeholders,
  programViews,
  queryRows,
  runStatement,
  type Database,
  type Dialect,
  type Knex,
  type StatementBinding,
} from '../../core/index';
import type { MessageType } from './types';

/**
 * The outbox: `notify_program_deliveries`, one row per (message, learner, course set or 0, cycle,
 * recipient), unique. Every path that decides someone should get a message (an event subscriber,
 * the timed scan) inserts with insert-or-ignore in one set-based INSERT … SELECT, so a redelivered
 * event or a second run of the scan adds nothing. Rows carry a batch token; whoever inserts them
 * enqueues one send job for that batch in the same transaction (sender.ts).
 */

const COLUMNS = 'message_id, program_id, user_id, course_set_id, cycle, recipient_id, role, state, batch, created_at';
/** Learners per statement: keeps IN lists well under every driver's parameter limit. */
const USERS_PER_STATEMENT = 500;

/** A fresh batch token (the send job that will deliver the rows inserted with it). */
export function newBatch(): string {
  return crypto.randomUUID();
}

/** `INSERT … SELECT` that skips rows whose dedupe key exists, on either database. */
function insertIgnore(dialect: Dialect, select: string): string {
  return dialect === 'mysql'
    ? `INSERT IGNORE INTO notify_program_deliveries (${COLUMNS}) ${select}`
    : `INSERT INTO notify_program_deliveries (${COLUMNS}) ${select} ON CONFLICT DO NOTHING`;
}

const A = assignmentViews.programUserAssignments;
const E = assignmentViews.programExceptions;
const J = peopleViews.jobAssignments;
const U = peopleViews.users;
const PC = programViews.programCompletions;
const CSC = programViews.courseSetCompletions;
const R = extensionRequestViews.requests;

/** The learner is assigned (DOMAIN 4.1: active, no open or dismissed exception) and may sign in. */
const ASSIGNED = `a.status = 'active' AND a.assigned_at IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM ${E.as('e')} WHERE e.program_id = a.program_id AND e.user_id = a.user_id AND e.status IN ('open', 'dismissed'))`;
const ACTIVE_USER = `EXISTS (SELECT 1 FROM ${U.as('u')} WHERE u.id = a.user_id AND u.suspended = 0 AND u.deleted = 0)`;
const PROGRAM_INCOMPLETE = `NOT EXISTS (SELECT 1 FROM ${PC.as('pc')} WHERE pc.program_id = a.program_id AND pc.user_id = a.user_id AND pc.status = 'complete')`;

/**
 * The learner rows and the manager copies for one candidate set: `from` joins the messages `m` and
 * assignments `a` (and whatever else), `where` picks the candidates; `setColumn` is the course set.
 */
function learnerAndManagers(from: string, where: string, setColumn: string): string {
  return `SELECT m.id, m.program_id, a.user_id, ${setColumn}, a.assigned_at, a.user_id, 'learner', 'pending', ?, ?
      FROM ${from} WHERE ${where}
    UNION ALL
    SELECT m.id, m.program_id, a.user_id, ${setColumn}, a.assigned_at, j.manager_user_id, 'manager', 'pending', ?, ?
      FROM ${from} JOIN ${J.as('j')} ON j.user_id = a.user_id
     WHERE ${where} AND m.manager_copy = 1 AND j.manager_user_id IS NOT NULL AND j.manager_user_id <> a.user_id`;
}

export interface LearnerEvent {
  programId: number;
  type: MessageType;
  userIds: readonly number[];
  /** The course set the event is about; 0 for program-level types. */
  courseSetId?: number;
  /**
   * `assigned`: the learner must be assigned now (the cycle is their assignment time);
   * `ended`: the assignment must have ended (`unassigned`: the cycle is the one that ended).
   */
  assignment: 'assigned' | 'ended';
}

/** A scan window for one timed message: its candidates' reference times lie in (from, to]. */
interface TimedWindow {
  messageId: number;
  type: MessageType;
  from: number;
  to: number;
}

export class Outbox {
  constructor(private readonly db: Database) {}

  /**
   * Queues a program's messages of one type for learners an event names (assigned, unassigned,
   * completed...), with manager copies. Set-based, in chunks of learners, in `trx`. Returns how
   * many rows were new.
   */
  async queueForLearners(trx: Knex.Transaction, event: LearnerEvent, batch: string): Promise<number> {
    const now = this.db.now();
    const state = event.assignment === 'assigned' ? ASSIGNED : `a.status <> 'active' AND a.assigned_at IS NOT NULL`;
    let added = 0;
    for (const users of chunk([...new Set(event.userIds)], USERS_PER_STATEMENT)) {
      const where = `m.program_id = ? AND m.type = ? AND a.user_id IN (${placeholders(users.length)}) AND ${state}`;
      const whereBindings: StatementBinding[] = [event.programId, event.type, ...users];
      const select = learnerAndManagers(`notify_program_messages m JOIN ${A.as('a')} ON a.program_id = m.program_id`, where, '?');
      const setId = event.courseSetId ?? 0;
      added += await runStatement(trx, insertIgnore(this.db.dialect, select), [setId, batch, now, ...whereBindings, setId, batch, now, ...whereBindings]);
    }
    return added;
  }

  /**
   * Queues a recurring program's `recurring_course` messages for a period that started at
   * `startsAt`: every learner whose cycle that switch started (their assignment time is the period's
   * start), with manager copies. The cycle is that time, so each period's message goes once.
   */
  async queueRecurrence(trx: Knex.Transaction, programId: number, startsAt: number, batch: string): Promise<number> {
    const where = `m.program_id = ? AND m.type = 'recurring_course' AND a.assigned_at = ? AND ${ASSIGNED}`;
    const bindings: StatementBinding[] = [programId, startsAt];
    const select = learnerAndManagers(`notify_program_messages m JOIN ${A.as('a')} ON a.program_id = m.program_id`, where, '0');
    return runStatement(trx, insertIgnore(this.db.dialect, select), [batch, this.db.now(), ...bindings, batch, this.db.now(), ...bindings]);
  }

  /**
   * Queues a program's messages about one extension request (its id is the cycle, so each request
   * and each decision is sent once): `extension_request` to the learner's managers, who decide;
   * `extension_decided` to the learner, with manager copies when the message asks for them.
   */
  async queueExtension(trx: Knex.Transaction, type: 'extension_request' | 'extension_decided', requestId: number, batch: string): Promise<number> {
    const from = `notify_program_messages m JOIN ${R.as('r')} ON r.program_id = m.program_id`;
    const where = `m.type = ? AND r.id = ?`;
    const managers = `SELECT m.id, m.program_id, r.user_id, 0, r.id, j.manager_user_id, 'manager', 'pending', ?, ?
      FROM ${from} JOIN ${J.as('j')} ON j.user_id = r.user_id
     WHERE ${where} AND j.manager_user_id IS NOT NULL AND j.manager_user_id <> r.user_id`;
    const now = this.db.now();
    if (type === 'extension_request') return runStatement(trx, insertIgnore(this.db.dialect, managers), [batch, now, type, requestId]);
    const learner = `SELECT m.id, m.program_id, r.user_id, 0, r.id, r.user_id, 'learner', 'pending', ?, ? FROM ${from} WHERE ${where}`;
    return runStatement(trx, insertIgnore(this.db.dialect, `${learner} UNION ALL ${managers} AND m.manager_copy = 1`), [
      batch,
      now,
      type,
      requestId,
      batch,
      now,
      type,
      requestId,
    ]);
  }

  /**
   * Queues the program's exception reports for one batch of raised exceptions: one row per report
   * message and site administrator, the cycle being the batch's lowest exception id (stable across
   * redeliveries of the event), the exceptions kept in `data` for the report's text.
   */
  async queueExceptionReport(
    trx: Knex.Transaction,
    programId: number,
    exceptions: ReadonlyArray<{ userId: number; exceptionId: number }>,
    batch: string,
  ): Promise<number> {
    if (!exceptions.length) return 0;
    const cycle = Math.min(...exceptions.map((x) => x.exceptionId));
    const data = JSON.stringify({ exceptionIds: exceptions.map((x) => x.exceptionId) });
    const select = `SELECT m.id, m.program_id, 0, 0, ?, u.id, 'operator', 'pending', ?, ?
      FROM notify_program_messages m JOIN ${U.as('u')} ON u.is_admin = 1 AND u.suspended = 0 AND u.deleted = 0
     WHERE m.program_id = ? AND m.type = 'exception_report'`;
    const added = await runStatement(trx, insertIgnore(this.db.dialect, select), [cycle, batch, this.db.now(), programId]);
    if (added) await trx('notify_program_deliveries').where({ batch, role: 'operator' }).update({ data });
    return added;
  }

  /**
   * The timed scan (program and course-set due and overdue, follow-up): for each timed message,
   * one INSERT … SELECT of the learners whose trigger moment falls in the message's window (see
   * windows()). Runs in `trx`, which also moves the watermark. Returns the rows added.
   */
  async scanTimed(trx: Knex.Transaction, now: number, catchUp: string, batch: string): Promise<{ added: number; messages: number }> {
    if (this.db.dialect === 'mysql') await trx.raw('SELECT last_scan_at FROM notify_program_scan WHERE id = 1 FOR UPDATE');
    const [state] = await queryRows<{ last_scan_at: number }>(trx, 'SELECT last_scan_at FROM notify_program_scan WHERE id = 1');
    const last = state ? Number(state.last_scan_at) : null;
    const messages = await queryRows<{ id: number; type: MessageType; trigger_offset: string; trigger_direction: string; active_from: number }>(
      trx,
      `SELECT id, type, trigger_offset, trigger_direction, active_from FROM notify_program_messages
        WHERE type IN ('program_due', 'program_overdue', 'courseset_due', 'courseset_overdue', 'followup') AND trigger_offset IS NOT NULL`,
    );
    let added = 0;
    for (const window of windows(messages, now, last, catchUp)) added += await this.insertWindow(trx, window, batch, now);
    if (state) await runStatement(trx, 'UPDATE notify_program_scan SET last_scan_at = ? WHERE id = 1 AND last_scan_at < ?', [now, now]);
    else await trx('notify_program_scan').insert({ id: 1, last_scan_at: now });
    return { added, messages: messages.length };
  }

  private async insertWindow(trx: Knex.Transaction, w: TimedWindow, batch: string, now: number): Promise<number> {
    let from: string;
    let where: string;
    let setColumn = '0';
    const M = 'notify_program_messages m';
    switch (w.type) {
      case 'program_due':
      case 'program_overdue':
        from = `${M} JOIN ${A.as('a')} ON a.program_id = m.program_id`;
        where = `m.id = ? AND a.due_at > ? AND a.due_at <= ? AND ${ASSIGNED} AND ${ACTIVE_USER} AND ${PROGRAM_INCOMPLETE}`;
        break;
      case 'courseset_due':
      case 'courseset_overdue':
        from = `${M} JOIN ${CSC.as('cs')} ON cs.program_id = m.program_id JOIN ${A.as('a')} ON a.program_id = cs.program_id AND a.user_id = cs.user_id`;
        where = `m.id = ? AND cs.due_at > ? AND cs.due_at <= ? AND cs.status <> 'complete' AND ${ASSIGNED} AND ${ACTIVE_USER} AND ${PROGRAM_INCOMPLETE}`;
        setColumn = 'cs.course_set_id';
        break;
      default:
        from = `${M} JOIN ${PC.as('pd')} ON pd.program_id = m.program_id JOIN ${A.as('a')} ON a.program_id = pd.program_id AND a.user_id = pd.user_id`;
        where = `m.id = ? AND pd.status = 'complete' AND pd.completed_at > ? AND pd.completed_at <= ? AND ${ASSIGNED} AND ${ACTIVE_USER}`;
    }
    const bindings: StatementBinding[] = [w.messageId, w.from, w.to];
    return runStatement(trx, insertIgnore(this.db.dialect, learnerAndManagers(from, where, setColumn)), [batch, now, ...bindings, batch, now, ...bindings]);
  }

  /**
   * Deletes deliveries that reached a final state (sent, skipped, failed) before `before`, oldest
   * first, `batchSize` rows a statement so no transaction grows with the table. Pending and sending
   * rows are never pruned. Returns how many went.
   */
  async prune(before: number, batchSize = 5000): Promise<number> {
    let pruned = 0;
    for (;;) {
      const ids = (
        await queryRows<{ id: number }>(
          this.db.knex,
          `SELECT id FROM notify_program_deliveries WHERE state IN ('sent', 'skipped', 'failed') AND created_at < ? ORDER BY id LIMIT ${batchSize}`,
          [before],
        )
      ).map((r) => Number(r.id));
      if (!ids.length) return pruned;
      pruned += await runStatement(this.db.knex, `DELETE FROM notify_program_deliveries WHERE id IN (${placeholders(ids.length)})`, ids);
      if (ids.length < batchSize) return pruned;
    }
  }

  /**
   * Rows a crashed worker left `sending` (claimed longer than `staleMs` ago) or no job will send
   * (pending longer than `staleMs`, e.g. after their send job went dead) get a new batch. Returns
   * how many; the caller enqueues the send job for the batch.
   */
  async recoverStale(trx: Knex.Transaction, now: number, staleMs: number, batch: string): Promise<number> {
    const before = now - staleMs;
    return runStatement(
      trx,
      `UPDATE notify_program_deliveries SET state = 'pending', batch = ?, claimed_by = NULL
        WHERE (state = 'sending' AND claimed_at < ?) OR (state = 'pending' AND created_at < ? AND (claimed_at IS NULL OR claimed_at < ?))`,
      [batch, before, before, before],
    );
  }
}

/**
 * The window of each timed message, as a range of its reference times (due date, course-set due
 * date or completion time). A trigger is `reference ∓ offset`; it is sent when it lies in
 *
 *     (min(now − catch-up, max(last scan, message active since)), now]
 *
 * i.e. every trigger since the last scan that happened while the message existed, plus any inside
 * the operator's catch-up window. A message added to a live program therefore sends no reminder
 * whose moment passed before the window, and a first scan only looks back over the catch-up window.
 * Calendar offsets (P1M) move the window's ends; day and week offsets are exact.
 */
function windows(
  messages: ReadonlyArray<{ id: number; type: MessageType; trigger_offset: string; trigger_direction: string; active_from: number }>,
  now: number,
  last: number | null,
  catchUp: string,
): TimedWindow[] {
  const at = (ms: number) => DateTime.fromMillis(ms, { zone: 'utc' });
  const window = Duration.fromISO(catchUp);
  // The setting is schema-checked; a value that still does not parse counts as the default day.
  const catchUpFrom = at(now)
    .minus(window.isValid ? window : Duration.fromObject({ days: 1 }))
    .toMillis();
  const out: TimedWindow[] = [];
  for (const m of messages) {
    const offset = parseDuration(m.trigger_offset);
    if (!offset) continue;
    const sinceLast = last === null ? now : Math.max(last, Number(m.active_from));
    const from = Math.min(catchUpFrom, sinceLast);
    if (from >= now) continue;
    // trigger = reference - offset (before) or reference + offset (after); solve for the reference.
    const shift = (ms: number) => (m.trigger_direction === 'before' ? at(ms).plus(offset) : at(ms).minus(offset)).toMillis();
    out.push({ messageId: Number(m.id), type: m.type, from: shift(from), to: shift(now) });
  }
  return out;
}
