import {
  forbidden,
  notFound,
  queryRows,
  readPage,
  type Database,
  type KeysetOrder,
  type KeysetPage,
  type NotificationChannel,
  type OutgoingNotification,
  type PagePosition,
} from '../../core/index';

/** One in-app notification as the API and the inbox page show it. */
export interface InboxItem {
  id: number;
  type: string;
  programId: number;
  subject: string;
  body: string;
  createdAt: string;
  readAt: string | null;
}

interface InboxRow {
  id: number;
  user_id: number;
  type: string;
  program_id: number;
  subject: string;
  body: string;
  created_at: number;
  read_at: number | null;
}

const iso = (ms: number | string | null): string | null => (ms === null ? null : new Date(Number(ms)).toISOString());

function toItem(row: InboxRow): InboxItem {
  return {
    id: Number(row.id),
    type: row.type,
    programId: Number(row.program_id),
    subject: row.subject,
    body: row.body,
    createdAt: iso(row.created_at)!,
    readAt: iso(row.read_at),
  };
}

/** The in-app inbox: stored notifications (plain text; pages escape them), newest first. */
/** The inbox's one order: newest first (ids grow with time). */
export const INBOX_ORDER: KeysetOrder = { name: '-id', keys: [{ column: 'id', direction: 'desc' }] };

export class Inbox {
  constructor(private readonly db: Database) {}

  /** The in-app channel: one row per delivery (unique), so a retried delivery stores nothing twice. */
  channel(): NotificationChannel {
    return {
      label: 'In-app',
      describe: () => 'Stored in the learner’s inbox (/my/notifications), with the unread count in the page header.',
      send: async (n: OutgoingNotification) => {
        await this.db
          .knex('notify_program_inbox')
          .insert({
            user_id: n.recipient.id,
            delivery_id: n.deliveryId,
            type: n.type,
            program_id: n.programId,
            subject: n.subject.slice(0, 255),
            body: n.text,
            created_at: this.db.now(),
            read_at: null,
          })
          .onConflict('delivery_id')
          .ignore();
      },
    };
  }

  /** A keyset page of the user's notifications, newest first (the SDK's cursor convention). */
  async list(userId: number, filter: { unread?: boolean }, position: PagePosition): Promise<KeysetPage<InboxItem>> {
    const query = this.db.knex('notify_program_inbox').where({ user_id: userId });
    if (filter.unread) query.whereNull('read_at');
    const page = await readPage<InboxRow>(query, INBOX_ORDER, position);
    return { ...page, items: page.items.map(toItem) };
  }

  async unreadCount(userId: number): Promise<number> {
    const [row] = await queryRows<{ n: number }>(this.db.knex, 'SELECT COUNT(*) AS n FROM notify_program_inbox WHERE user_id = ? AND read_at IS NULL', [
      userId,
    ]);
    return Number(row?.n ?? 0);
  }

  /** Marks one notification read; only its owner may (403), an unknown id is 404. Reading twice keeps the first time. */
  async markRead(id: number, userId: number): Promise<InboxItem> {
    const row = await this.db.knex<InboxRow>('notify_program_inbox').where({ id }).first();
    if (!row) throw notFound('Notification', id);
    if (Number(row.user_id) !== userId) throw forbidden('Only its recipient may mark a notification read');
    if (row.read_at === null) {
      const now = this.db.now();
      await this.db.knex('notify_program_inbox').where({ id }).whereNull('read_at').update({ read_at: now });
      row.read_at = now;
    }
    return toItem((await this.db.knex<InboxRow>('notify_program_inbox').where({ id }).first()) ?? row);
  }

  async markAllRead(userId: number): Promise<number> {
    return this.db.knex('notify_program_inbox').where({ user_id: userId }).whereNull('read_at').update({ read_at: this.db.now() });
  }
}
