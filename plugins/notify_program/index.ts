import { DateTime } from 'luxon';
import { definePlugin, kernelServices, parseDuration, peopleServices, pickerOf, queryRows, type AuthUser, type Knex } from '../../core/index';
import { apiRoutes, type NotificationStatus } from './api';
import { EmailChannel } from './email';
import { Inbox } from './inbox';
import { MessageStore } from './messages';
import { notifications } from './migrations/0001_notifications';
import { newBatch, Outbox, type LearnerEvent } from './outbox';
import { registerPages } from './pages';
import { Preferences } from './preferences';
import { previewMessage } from './preview';
import { MAX_DELIVERY_ATTEMPTS, Sender } from './sender';
import { TemplateRenderer } from './templates';
import type { Message, MessageType } from './types';

/** Sends the deliveries of one batch (payload `{ batch }`). */
const SEND_JOB = 'notify_program.send';
/** Finds timed candidates (due, overdue, follow-up) and re-queues stale deliveries. */
const SCAN_JOB = 'notify_program.scan';
/** A delivery claimed or waiting longer than this is given to a new send job by the scan. */
const STALE_MS = 15 * 60_000;
const PRUNE_JOB = 'notify_program.prune';
/** Delivery records are kept at least this long, whatever the setting says. */
const MIN_KEEP_MS = 30 * 86_400_000;

/**
 * The creation time before which final delivery records may go. A record is the dedupe key that
 * stops a second send, so it outlives anything that could ask again: the scan's catch-up window
 * (plus a day) and a month for event retries, whatever the operator set.
 */
function pruneBefore(now: number, keep: string, catchUp: string): number {
  const ago = (iso: string): number => {
    const duration = parseDuration(iso);
    return duration ? now - DateTime.fromMillis(now, { zone: 'utc' }).minus(duration).toMillis() : 0;
  };
  return now - Math.max(ago(keep), ago(catchUp) + 86_400_000, MIN_KEEP_MS);
}

/**
 * Program notifications (DOMAIN 7, issue 12). Messages per program and type with Handlebars
 * templates checked when saved; event types queued by subscribers of the `after*` event hooks,
 * timed types by a scheduled set-based scan; an outbox of deliveries with a unique dedupe key
 * (message, learner, course set, cycle, recipient) written with insert-or-ignore, sent after commit
 * by jobs that re-check eligibility; channels (email over SMTP, in-app) on the
 * `notificationChannels` extension point. See docs/notifications.md.
 */
export default definePlugin({
  id: 'notify_program',
  deps: { pages: kernelServices.pages, users: peopleServices.users },
  migrations: [notifications],
  register(ctx) {
    const { db } = ctx;
    const messages = new MessageStore(db);
    const outbox = new Outbox(db);
    const inbox = new Inbox(db);
    const preferences = new Preferences(db);
    const renderer = new TemplateRenderer();
    const email = new EmailChannel(ctx.logger);

    ctx.extensions.contribute('notificationChannels', 'inapp', inbox.channel());
    ctx.extensions.contribute('notificationChannels', 'email', email);
    const channels = () => ctx.extensions.list('notificationChannels').map((c) => ({ key: c.key, value: c.value }));
    const sender = new Sender({ db, logger: ctx.logger, renderer, channels });

    /** Inserts in `trx` and queues the send job for what was new, in the same transaction. */
    const queue = async (work: (trx: Knex.Transaction, batch: string) => Promise<number>): Promise<number> =>
      db.transaction(async (trx) => {
        const batch = newBatch();
        const added = await work(trx, batch);
        if (added) await ctx.queue.enqueue(SEND_JOB, { batch }, { trx });
        return added;
      });
    const queueLearners = async (event: LearnerEvent): Promise<void> => {
      // Most events concern programs without such a message: one indexed read, no write transaction.
      const [known] = await queryRows<{ id: number }>(db.knex, 'SELECT id FROM notify_program_messages WHERE program_id = ? AND type = ? LIMIT 1', [
        event.programId,
        event.type,
      ]);
      if (known) await queue((trx, batch) => outbox.queueForLearners(trx, event, batch));
    };

    // Event types. Deliveries are at least once; the outbox's unique key makes a redelivery add nothing.
    ctx.hooks.tap('afterProgramAssigned', async ({ programId, userIds }) => {
      await messages.ensureDefaults(programId);
      await queueLearners({ programId, type: 'assigned', userIds, assignment: 'assigned' });
    });
    ctx.hooks.tap('afterProgramUnassigned', async ({ programId, userIds }) => {
      await queueLearners({ programId, type: 'unassigned', userIds, assignment: 'ended' });
    });
    ctx.hooks.tap('afterCompletion', async ({ completions }) => {
      const groups = new Map<string, LearnerEvent & { userIds: number[] }>();
      for (const c of completions) {
        if (c.subject.type === 'course') continue;
        const type: MessageType = c.subject.type === 'program' ? 'program_completed' : 'courseset_completed';
        const courseSetId = c.subject.type === 'course_set' ? c.subject.courseSetId : 0;
        const k = `${type}:${c.subject.programId}:${courseSetId}`;
        const group = groups.get(k) ?? { programId: c.subject.programId, type, courseSetId, userIds: [], assignment: 'assigned' as const };
        group.userIds.push(c.userId);
        groups.set(k, group);
      }
      for (const group of groups.values()) await queueLearners(group);
    });
    ctx.hooks.tap('afterExceptionRaised', async ({ programId, exceptions }) => {
      await messages.ensureDefaults(programId);
      await queue((trx, batch) => outbox.queueExceptionReport(trx, programId, exceptions, batch));
    });

    ctx.hooks.tap('afterExtensionRequested', async ({ programId, requestId }) => {
      await messages.ensureDefaults(programId);
      await queue((trx, batch) => outbox.queueExtension(trx, 'extension_request', requestId, batch));
    });
    ctx.hooks.tap('afterExtensionDecided', async ({ programId, requestId }) => {
      await messages.ensureDefaults(programId);
      await queue((trx, batch) => outbox.queueExtension(trx, 'extension_decided', requestId, batch));
    });

    ctx.hooks.tap('afterRecurrencePeriodStarted', async ({ programId, startsAt }) => {
      await messages.ensureDefaults(programId);
      await queue((trx, batch) => outbox.queueRecurrence(trx, programId, startsAt, batch));
    });

    ctx.jobs.define<{ batch: string }>({
      name: SEND_JOB,
      maxAttempts: MAX_DELIVERY_ATTEMPTS,
      backoffMs: 30_000,
      handler: (job) => sender.sendBatch(String(job.payload?.batch ?? ''), job),
    });
    ctx.jobs.define({
      name: SCAN_JOB,
      async handler() {
        const now = db.now();
        const catchUp = String(ctx.settings().catchUpWindow ?? 'P1D');
        let scanned = { added: 0, messages: 0 };
        const added = await queue(async (trx, batch) => {
          scanned = await outbox.scanTimed(trx, now, catchUp, batch);
          return scanned.added;
        });
        const recovered = await queue((trx, batch) => outbox.recoverStale(trx, now, STALE_MS, batch));
        return { timedMessages: scanned.messages, queued: added, recovered };
      },
    });
    ctx.jobs.schedule({ name: 'notify_program.scan_every_5_minutes', cron: '*/5 * * * *', job: SCAN_JOB });
    ctx.jobs.define({
      name: PRUNE_JOB,
      async handler() {
        const before = pruneBefore(db.now(), String(ctx.settings().keepDeliveries ?? 'P90D'), String(ctx.settings().catchUpWindow ?? 'P1D'));
        return { pruned: await outbox.prune(before) };
      },
    });
    ctx.jobs.schedule({ name: 'notify_program.prune_nightly', cron: '17 3 * * *', job: PRUNE_JOB });

    const status = async (): Promise<NotificationStatus> => {
      const rows = await queryRows<{ state: string; n: number }>(db.knex, 'SELECT state, COUNT(*) AS n FROM notify_program_deliveries GROUP BY state');
      const deliveries = { pending: 0, sending: 0, sent: 0, skipped: 0, failed: 0 };
      for (const r of rows) if (r.state in deliveries) deliveries[r.state as keyof typeof deliveries] = Number(r.n);
      return {
        emailSending: email.sending(),
        channels: channels().map((c) => ({ key: c.key, label: c.value.label, description: c.value.describe() })),
        deliveries,
      };
    };
    const preview = (message: Message, userId: number, viewer: AuthUser) => previewMessage(db, renderer, message, userId, viewer);

    const userExists = async (userId: number): Promise<void> => void (await ctx.deps.users.get(userId));
    for (const route of apiRoutes({ messages, inbox, preferences, channelKeys: () => channels().map((c) => c.key), preview, status, userExists }))
      ctx.routes.api(route);
    registerPages(
      {
        db,
        pages: ctx.deps.pages,
        messages,
        inbox,
        preferences,
        channels: () => channels().map((c) => ({ key: c.key, label: c.value.label })),
        preview,
        status,
        users: () => pickerOf(ctx.extensions, 'users'),
        programs: () => pickerOf(ctx.extensions, 'programs'),
      },
      ctx.routes,
      ctx.theme,
    );
  },
});
