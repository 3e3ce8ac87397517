import crypto from 'node:crypto';
import {
  placeholders,
  queryRows,
  runStatement,
  type Database,
  type JobContext,
  type Logger,
  type NotificationChannel,
  type OutgoingNotification,
} from '../../core/index';
import { loadContext, type DeliveryContext, type Person } from './context';
import { formatDate, type TemplateRenderer, type TemplateValues } from './templates';
import { EXTENSION_TYPES, REMINDER_TYPES, type MessageType } from './types';

/** Deliveries claimed and sent together: one set of context reads per chunk. */
const CHUNK = 100;
/** After this many failed attempts a delivery is `failed` (shown to operators) and not tried again. */
export const MAX_DELIVERY_ATTEMPTS = 10;

interface ClaimedRow {
  id: number;
  message_id: number;
  program_id: number;
  user_id: number;
  course_set_id: number;
  cycle: number;
  recipient_id: number;
  role: 'learner' | 'manager' | 'operator';
  attempts: number;
  data: string | null;
  type: MessageType | null;
  subject: string | null;
  body: string | null;
  manager_subject: string | null;
  manager_body: string | null;
}

/** The dedupe key of a delivery; the email Message-ID is derived from it, so a resend carries the same id. */
export function dedupeKey(row: { message_id: number; user_id: number; course_set_id: number; cycle: number; recipient_id: number }): string {
  return `np-${Number(row.message_id)}-${Number(row.user_id)}-${Number(row.course_set_id)}-${Number(row.cycle)}-${Number(row.recipient_id)}`;
}

export interface SenderDeps {
  db: Database;
  logger: Logger;
  renderer: TemplateRenderer;
  /** The channels contributed now (email, in-app, any plugin's), by key. */
  channels(): Array<{ key: string; value: NotificationChannel }>;
}

/**
 * Why a delivery must not go out now (DOMAIN 7: eligibility is re-checked at send time), or null.
 * A learner message needs the learner still assigned in the same cycle (active, no open or
 * dismissed exception) and not suspended; reminders also need the program (or course set)
 * incomplete; `unassigned` needs the assignment still ended.
 */
export function skipReason(row: ClaimedRow, ctx: DeliveryContext): string | null {
  if (row.type === null) return 'message_deleted';
  const recipient = ctx.people.get(Number(row.recipient_id));
  if (!recipient?.active) return 'recipient_inactive';
  if (!ctx.programs.has(Number(row.program_id))) return 'program_deleted';
  if (row.role === 'operator') {
    const open = exceptionIdsOf(row).filter((id) => ctx.exceptions.get(id)?.open);
    return open.length ? null : 'exceptions_resolved';
  }
  const learner = ctx.people.get(Number(row.user_id));
  if (!learner?.active) return 'learner_inactive';
  if (EXTENSION_TYPES.has(row.type)) {
    // About a request, not an assignment cycle: a request already decided needs no decision.
    const request = ctx.extensions.get(Number(row.cycle));
    if (!request) return 'request_deleted';
    return row.type === 'extension_request' && request.status !== 'pending' ? 'request_decided' : null;
  }
  const assignment = ctx.assignments.get(`${Number(row.program_id)}:${Number(row.user_id)}`);
  if (row.type === 'unassigned') {
    if (!assignment) return 'not_assigned';
    return assignment.status === 'active' ? 'reassigned' : null;
  }
  if (!assignment || assignment.status !== 'active') return 'not_assigned';
  if (assignment.assignedAt !== Number(row.cycle)) return 'cycle_ended';
  if (assignment.blocked) return 'exception_open';
  if (REMINDER_TYPES.has(row.type)) {
    if (ctx.completed.has(`${Number(row.program_id)}:${Number(row.user_id)}`)) return 'completed';
    if (Number(row.course_set_id) && ctx.sets.get(`${Number(row.course_set_id)}:${Number(row.user_id)}`)?.complete) return 'completed';
  }
  return null;
}

function exceptionIdsOf(row: ClaimedRow): number[] {
  if (!row.data) return [];
  try {
    const ids = (JSON.parse(row.data) as { exceptionIds?: unknown }).exceptionIds;
    return Array.isArray(ids) ? ids.filter((id): id is number => Number.isSafeInteger(id)) : [];
  } catch {
    return [];
  }
}

const EXCEPTION_REASONS: Record<string, string> = {
  already_assigned: 'already assigned by another route',
  completion_time_unknown: 'completion time unknown',
  time_allowance: 'not enough time before the due date',
};

/** The placeholder values of one delivery, for its recipient (dates in their language and zone). */
export function valuesFor(
  row: Pick<ClaimedRow, 'program_id' | 'user_id' | 'course_set_id' | 'type'> & { exceptionIds: number[]; extensionId: number | null },
  recipient: Person,
  ctx: DeliveryContext,
): TemplateValues {
  const program = ctx.programs.get(Number(row.program_id));
  const learner = ctx.people.get(Number(row.user_id));
  const setId = Number(row.course_set_id);
  const assignment = ctx.assignments.get(`${Number(row.program_id)}:${Number(row.user_id)}`);
  const due = setId && row.type?.startsWith('courseset_') ? (ctx.sets.get(`${setId}:${Number(row.user_id)}`)?.dueAt ?? null) : (assignment?.dueAt ?? null);
  const exceptions = row.exceptionIds.map((id) => ctx.exceptions.get(id)).filter((x) => x?.open);
  const extension = row.extensionId === null ? undefined : ctx.extensions.get(row.extensionId);
  const extensionDue = extension ? (extension.status === 'pending' ? extension.requestedDueAt : extension.approvedDueAt) : null;
  return {
    program_fullname: program?.fullname ?? '',
    courseset_label: setId ? (program?.sets.get(setId) ?? '') : '',
    due_date: formatDate(due, recipient.lang, recipient.timezone),
    completion_criteria: program?.criteria ?? '',
    user_fullname: learner?.fullname ?? '',
    manager_names: (ctx.managers.get(Number(row.user_id)) ?? []).join(', '),
    recipient_fullname: recipient.fullname,
    exception_count: String(exceptions.length),
    exception_learners: exceptions.map((x) => `- ${x!.fullname}: ${EXCEPTION_REASONS[x!.type] ?? x!.type}`).join('\n'),
    extension_due_date: formatDate(extensionDue, recipient.lang, recipient.timezone),
    extension_reason: extension?.reason ?? '',
    extension_decision: extension && extension.status !== 'pending' ? extension.status : '',
    extension_decision_reason: extension?.decisionReason ?? '',
    recurring_course: program?.firstCourse ?? '',
  };
}

/**
 * Sends the deliveries of one batch: claims up to CHUNK pending rows at a time (an atomic
 * conditional UPDATE, so two workers never take the same row), reads their context in a few
 * statements, re-checks eligibility, renders, hands each to every channel the recipient has on
 * (in-app first: it is idempotent on the delivery; email last) and marks each row `sent` right
 * after its channels accepted it: a crash can only repeat the messages in flight at that moment,
 * and their email carries the same Message-ID. A failed row goes back to `pending` and the job
 * fails, so the queue retries it with backoff.
 */
export class Sender {
  constructor(private readonly deps: SenderDeps) {}

  async sendBatch(batch: string, job?: Pick<JobContext, 'progress'>): Promise<{ sent: number; skipped: number; failed: number }> {
    const totals = { sent: 0, skipped: 0, failed: 0 };
    try {
      for (;;) {
        const claimed = await this.claim(batch);
        if (!claimed.rows.length) break;
        const outcome = await this.deliver(claimed.rows, claimed.token);
        totals.sent += outcome.sent;
        totals.skipped += outcome.skipped;
        totals.failed += outcome.failed;
        const done = totals.sent + totals.skipped + totals.failed;
        await job?.progress(done, done + (claimed.rows.length === CHUNK ? CHUNK : 0));
      }
    } finally {
      for (const channel of this.deps.channels()) await channel.value.flush?.();
    }
    if (totals.failed) throw new Error(`${totals.failed} notification(s) of batch ${batch} could not be delivered; they will be retried`);
    return totals;
  }

  private async claim(batch: string): Promise<{ token: string; rows: ClaimedRow[] }> {
    const { db } = this.deps;
    const token = crypto.randomUUID();
    const now = db.now();
    const set = `SET state = 'sending', claimed_by = ?, claimed_at = ?, attempts = attempts + 1`;
    const claimed =
      db.dialect === 'mysql'
        ? await runStatement(db.knex, `UPDATE notify_program_deliveries ${set} WHERE batch = ? AND state = 'pending' ORDER BY id LIMIT ${CHUNK}`, [
            token,
            now,
            batch,
          ])
        : await runStatement(
            db.knex,
            `UPDATE notify_program_deliveries ${set} WHERE id IN (SELECT id FROM notify_program_deliveries WHERE batch = ? AND state = 'pending' ORDER BY id LIMIT ${CHUNK})`,
            [token, now, batch],
          );
    if (!claimed) return { token, rows: [] };
    const rows = await queryRows<ClaimedRow>(
      db.knex,
      `SELECT d.id, d.message_id, d.program_id, d.user_id, d.course_set_id, d.cycle, d.recipient_id, d.role, d.attempts, d.data,
              m.type, m.subject, m.body, m.manager_subject, m.manager_body
         FROM notify_program_deliveries d LEFT JOIN notify_program_messages m ON m.id = d.message_id
        WHERE d.claimed_by = ? AND d.state = 'sending' ORDER BY d.id`,
      [token],
    );
    return { token, rows };
  }

  private async deliver(rows: ClaimedRow[], token: string): Promise<{ sent: number; skipped: number; failed: number }> {
    const { db } = this.deps;
    const withExceptions = rows.map((r) => ({
      ...r,
      exceptionIds: exceptionIdsOf(r),
      extensionId: r.type !== null && EXTENSION_TYPES.has(r.type) ? Number(r.cycle) : null,
    }));
    const ctx = await loadContext(db.knex, withExceptions);
    const off = await this.switchedOff(rows);
    const channels = this.deps
      .channels()
      .slice()
      .sort((a, b) => Number(a.key !== 'inapp') - Number(b.key !== 'inapp') || a.key.localeCompare(b.key));
    const outcome = { sent: 0, skipped: 0, failed: 0 };
    const skips = new Map<string, number[]>();
    await Promise.all(
      withExceptions.map(async (row) => {
        const reason = skipReason(row, ctx) ?? (channels.some((c) => !off.has(`${row.recipient_id}:${row.type}:${c.key}`)) ? null : 'no_channel');
        if (reason) {
          skips.set(reason, [...(skips.get(reason) ?? []), Number(row.id)]);
          outcome.skipped++;
          return;
        }
        try {
          const notification = this.render(row, ctx);
          for (const channel of channels) {
            if (!off.has(`${row.recipient_id}:${row.type}:${channel.key}`)) await channel.value.send(notification);
          }
          await runStatement(db.knex, `UPDATE notify_program_deliveries SET state = 'sent', sent_at = ?, last_error = NULL WHERE id = ? AND claimed_by = ?`, [
            db.now(),
            Number(row.id),
            token,
          ]);
          outcome.sent++;
        } catch (error) {
          outcome.failed++;
          const text = (error as Error)?.message ?? String(error);
          const state = Number(row.attempts) >= MAX_DELIVERY_ATTEMPTS ? 'failed' : 'pending';
          this.deps.logger.warn('notification delivery failed', { deliveryId: Number(row.id), state, error: text });
          await runStatement(db.knex, `UPDATE notify_program_deliveries SET state = ?, last_error = ? WHERE id = ? AND claimed_by = ?`, [
            state,
            text.slice(0, 2000),
            Number(row.id),
            token,
          ]);
        }
      }),
    );
    for (const [reason, ids] of skips) {
      await runStatement(
        db.knex,
        `UPDATE notify_program_deliveries SET state = 'skipped', skip_reason = ? WHERE claimed_by = ? AND id IN (${placeholders(ids.length)})`,
        [reason, token, ...ids],
      );
    }
    return outcome;
  }

  /** Channels recipients switched off for these types: `recipient:type:channel`. */
  private async switchedOff(rows: ClaimedRow[]): Promise<Set<string>> {
    const recipients = [...new Set(rows.map((r) => Number(r.recipient_id)))];
    const prefs = await queryRows<{ user_id: number; type: string; channel: string }>(
      this.deps.db.knex,
      `SELECT user_id, type, channel FROM notify_program_preferences WHERE user_id IN (${placeholders(recipients.length)})`,
      recipients,
    );
    return new Set(prefs.map((p) => `${Number(p.user_id)}:${p.type}:${p.channel}`));
  }

  private render(row: ClaimedRow & { exceptionIds: number[]; extensionId: number | null }, ctx: DeliveryContext): OutgoingNotification {
    const recipient = ctx.people.get(Number(row.recipient_id))!;
    // An extension request is written to the managers: its main text is theirs.
    const manager = row.role === 'manager' && row.type !== 'extension_request';
    const subject = (manager ? row.manager_subject : null) ?? row.subject ?? '';
    const body = (manager ? row.manager_body : null) ?? row.body ?? '';
    const rendered = this.deps.renderer.render(subject, body, valuesFor(row, recipient, ctx));
    return {
      key: dedupeKey(row),
      deliveryId: Number(row.id),
      type: row.type!,
      programId: Number(row.program_id),
      recipient: { id: recipient.id, email: recipient.email, fullname: recipient.fullname, lang: recipient.lang, timezone: recipient.timezone },
      ...rendered,
    };
  }
}
