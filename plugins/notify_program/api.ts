import {
  cursorQuery,
  forbidden,
  Id,
  listResponse,
  pagePosition,
  invalid,
  noQuery,
  object,
  pathParams,
  queryParams,
  UserId,
  type ApiRequest,
  type ApiRoute,
  type AuthUser,
  type JsonSchema,
} from '../../core/index';
import { INBOX_ORDER, type Inbox } from './inbox';
import type { MessageStore } from './messages';
import type { Preference, Preferences } from './preferences';
import type { Rendered } from './preview';
import { MESSAGE_TYPES, type Message, type MessageInput } from './types';

const string = (maxLength: number, minLength = 0): JsonSchema => ({ type: 'string', minLength, maxLength });
const nullable = (schema: JsonSchema): JsonSchema => ({ ...schema, type: [schema.type as string, 'null'] });
const dateTime: JsonSchema = { type: 'string', format: 'date-time' };

/** Template fields: Handlebars text, checked for unknown placeholders when saved (422 naming them). */
const messageFields: Record<string, JsonSchema> = {
  type: { enum: [...MESSAGE_TYPES], description: 'The message type (DOMAIN 7)' },
  subject: { ...string(255, 1), description: 'Subject template (Handlebars placeholders, see docs/notifications.md)' },
  body: { ...string(20_000, 1), description: 'Body template (plain text with placeholders)' },
  managerCopy: { type: 'boolean', description: "Also send a copy to the learner's managers" },
  managerSubject: { ...nullable(string(255, 1)), description: "The manager copy's subject (default: the learner's)" },
  managerBody: { ...nullable(string(20_000, 1)), description: "The manager copy's body (default: the learner's)" },
  triggerOffset: { ...nullable(string(40, 1)), description: 'Timed types: an ISO-8601 duration (P3D)' },
  triggerDirection: { enum: ['before', 'after', null], description: 'Timed types: before or after the moment the type counts from' },
};

const messageView = object({
  id: Id,
  programId: Id,
  type: { enum: [...MESSAGE_TYPES] },
  subject: { type: 'string' },
  body: { type: 'string' },
  managerCopy: { type: 'boolean' },
  managerSubject: { type: ['string', 'null'] },
  managerBody: { type: ['string', 'null'] },
  triggerOffset: { type: ['string', 'null'] },
  triggerDirection: { enum: ['before', 'after', null] },
  createdAt: dateTime,
  updatedAt: dateTime,
});

const rendered = object({ subject: { type: 'string' }, text: { type: 'string' }, html: { type: 'string' } });

const notificationView = object({
  id: Id,
  type: { type: 'string' },
  programId: { type: 'integer' },
  subject: { type: 'string' },
  body: { type: 'string' },
  createdAt: dateTime,
  readAt: { type: ['string', 'null'], format: 'date-time' },
});

const preferenceView = object({ type: { enum: [...MESSAGE_TYPES] }, channel: { type: 'string' }, enabled: { type: 'boolean' } });

export interface ApiDeps {
  messages: MessageStore;
  inbox: Inbox;
  preferences: Preferences;
  channelKeys(): string[];
  preview(message: Message, userId: number, viewer: AuthUser): Promise<{ learner: Rendered; manager: Rendered | null }>;
  status(): Promise<NotificationStatus>;
  /** 404 when there is no such user. */
  userExists(userId: number): Promise<void>;
}

export interface NotificationStatus {
  emailSending: boolean;
  channels: Array<{ key: string; label: string; description: string }>;
  deliveries: Record<'pending' | 'sending' | 'sent' | 'skipped' | 'failed', number>;
}

/** A learner may act on their own notifications and preferences; an administrator on anyone's (404 for no such user). */
async function selfOrAdmin(deps: ApiDeps, req: ApiRequest, what: string): Promise<number> {
  const userId = req.params.id!;
  if (!req.user?.isAdmin && req.user?.id !== userId) throw forbidden(`You may only ${what} your own notifications`);
  await deps.userExists(userId);
  return userId;
}

/** The plugin's REST routes: program messages (admin), the in-app inbox and preferences (the user or an admin). */
export function apiRoutes(deps: ApiDeps): ApiRoute[] {
  const tags = ['notify_program'];
  const programParams = pathParams({ programId: Id });
  const messageParams = pathParams({ id: Id });
  return [
    {
      method: 'get',
      path: '/notify_program/programs/:programId/messages',
      summary: "A program's notification messages (a program seen for the first time gets the default ones)",
      tags,
      access: 'admin',
      params: programParams,
      query: noQuery,
      response: object({ items: { type: 'array', items: messageView } }),
      handler: async (req) => ({ body: { items: await deps.messages.list(req.params.programId!) } }),
    },
    {
      method: 'post',
      path: '/notify_program/programs/:programId/messages',
      summary: 'Add a message to a program (422 naming an unknown placeholder; nothing is stored then)',
      tags,
      access: 'admin',
      params: programParams,
      query: noQuery,
      body: { type: 'object', required: ['type', 'subject', 'body'], additionalProperties: false, properties: messageFields },
      response: messageView,
      successStatus: 201,
      handler: async (req) => ({ status: 201, body: await deps.messages.create(req.params.programId!, req.body as MessageInput) }),
    },
    {
      method: 'get',
      path: '/notify_program/messages/:id',
      summary: 'One program message',
      tags,
      access: 'admin',
      params: messageParams,
      query: noQuery,
      response: messageView,
      handler: async (req) => ({ body: await deps.messages.get(req.params.id!) }),
    },
    {
      method: 'patch',
      path: '/notify_program/messages/:id',
      summary: 'Change a program message (validated as a whole; 422 naming an unknown placeholder)',
      tags,
      access: 'admin',
      params: messageParams,
      query: noQuery,
      body: { type: 'object', minProperties: 1, additionalProperties: false, properties: messageFields },
      response: messageView,
      handler: async (req) => ({ body: await deps.messages.update(req.params.id!, req.body as Partial<MessageInput>) }),
    },
    {
      method: 'delete',
      path: '/notify_program/messages/:id',
      summary: 'Delete a program message (deliveries already queued for it are skipped)',
      tags,
      access: 'admin',
      params: messageParams,
      query: noQuery,
      successStatus: 204,
      handler: async (req) => {
        await deps.messages.remove(req.params.id!);
        return { status: 204 };
      },
    },
    {
      method: 'post',
      path: '/notify_program/messages/:id/preview',
      summary: 'Render a message for one learner as it would be sent now (writes nothing)',
      tags,
      access: 'admin',
      params: messageParams,
      query: noQuery,
      body: { type: 'object', required: ['userId'], additionalProperties: false, properties: { userId: Id } },
      response: object({ learner: rendered, manager: { anyOf: [rendered, { type: 'null' }] } }),
      handler: async (req) => {
        const message = await deps.messages.get(req.params.id!);
        return { body: await deps.preview(message, (req.body as { userId: number }).userId, req.user!) };
      },
    },
    {
      method: 'get',
      path: '/notify_program/status',
      summary: 'Where notifications go (channels, whether email is really sent) and deliveries by state',
      tags,
      access: 'admin',
      params: pathParams([]),
      query: noQuery,
      response: object({
        emailSending: { type: 'boolean' },
        channels: { type: 'array', items: object({ key: { type: 'string' }, label: { type: 'string' }, description: { type: 'string' } }) },
        deliveries: object(Object.fromEntries(['pending', 'sending', 'sent', 'skipped', 'failed'].map((s) => [s, { type: 'integer', minimum: 0 }]))),
      }),
      handler: async () => ({ body: await deps.status() }),
    },
    {
      method: 'get',
      path: '/notify_program/users/:id/preferences',
      summary: "A user's notification channels per message type (everything is on unless switched off)",
      tags,
      access: 'user',
      params: pathParams({ id: UserId }),
      query: noQuery,
      response: object({ items: { type: 'array', items: preferenceView } }),
      handler: async (req) => ({ body: { items: await deps.preferences.list(await selfOrAdmin(deps, req, 'read'), deps.channelKeys()) } }),
    },
    {
      method: 'put',
      path: '/notify_program/users/:id/preferences',
      summary: "Switch a user's channels on or off per message type (pairs not listed are unchanged)",
      tags,
      access: 'user',
      params: pathParams({ id: UserId }),
      query: noQuery,
      body: {
        type: 'object',
        required: ['items'],
        additionalProperties: false,
        properties: {
          items: {
            type: 'array',
            maxItems: 500,
            items: {
              type: 'object',
              required: ['type', 'channel', 'enabled'],
              additionalProperties: false,
              properties: { type: { enum: [...MESSAGE_TYPES] }, channel: { type: 'string', minLength: 1, maxLength: 40 }, enabled: { type: 'boolean' } },
            },
          },
        },
      },
      response: object({ items: { type: 'array', items: preferenceView } }),
      handler: async (req) => {
        const userId = await selfOrAdmin(deps, req, 'change');
        const keys = deps.channelKeys();
        const items = (req.body as { items: Preference[] }).items;
        const unknown = items.find((p) => !keys.includes(p.channel));
        if (unknown) {
          throw invalid('CHANNEL_UNKNOWN', `No notification channel "${unknown.channel}"; channels: ${keys.join(', ')}`, [
            { path: 'items', code: 'CHANNEL_UNKNOWN', message: `No notification channel "${unknown.channel}"` },
          ]);
        }
        await deps.preferences.set(userId, items);
        return { body: { items: await deps.preferences.list(userId, keys) } };
      },
    },
    {
      method: 'get',
      path: '/users/:id/notifications',
      summary: "A user's in-app notifications, newest first (the user or an admin; pass nextCursor back as cursor)",
      tags,
      access: 'user',
      params: pathParams({ id: UserId }),
      query: queryParams({ ...cursorQuery(50), unread: { type: 'boolean', description: 'Only unread notifications' } }),
      response: listResponse(notificationView),
      handler: async (req) => {
        const userId = await selfOrAdmin(deps, req, 'read');
        const page = await deps.inbox.list(userId, { unread: req.query.unread === true }, pagePosition(INBOX_ORDER, req.query, 50));
        return { body: { items: page.items, nextCursor: page.nextCursor } };
      },
    },
    {
      method: 'post',
      path: '/notifications/:id/read',
      summary: 'Mark an in-app notification read (its recipient only)',
      tags,
      access: 'user',
      params: pathParams({ id: Id }),
      query: noQuery,
      response: notificationView,
      handler: async (req) => ({ body: await deps.inbox.markRead(req.params.id!, req.user!.id) }),
    },
  ];
}
