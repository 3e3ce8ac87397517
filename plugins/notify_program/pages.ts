import type { Request, Response } from 'express';
import {
  assignmentViews,
  notFound,
  pageLinks,
  pagePositionOf,
  parseId,
  peopleViews,
  pickState,
  PickError,
  programViews,
  queryRows,
  resolvePick,
  WaymarkError,
  type AuthUser,
  type Picker,
  type PickState,
  type PageAccess,
  type FeatureContext,
  type ThemeRegistrar,
  type Database,
} from '../../core/index';
import type { NotificationStatus } from './api';
import { INBOX_ORDER, type Inbox } from './inbox';
import type { MessageStore } from './messages';
import type { Preferences } from './preferences';
import type { Rendered } from './preview';
import { PLACEHOLDERS } from './templates';
import { MESSAGE_TYPES, TIMED_RULES, TIMED_TYPES, TYPE_LABELS, type Message, type MessageInput, type MessageType } from './types';

export interface PageDeps {
  db: Database;
  pages: PageAccess;
  messages: MessageStore;
  inbox: Inbox;
  preferences: Preferences;
  channels(): Array<{ key: string; label: string }>;
  preview(message: Message, userId: number, viewer: AuthUser): Promise<{ learner: Rendered; manager: Rendered | null }>;
  status(): Promise<NotificationStatus>;
  /** The `users` picker: the preview's learner is picked by name. */
  users(): Picker;
  /** The `programs` picker: the program whose messages are shown. */
  programs(): Picker;
}

/** Redirect notices: fixed texts chosen by key, so a crafted link cannot put words on the page. */
const NOTICES: Record<string, string> = {
  created: 'The message was added.',
  saved: 'The message was saved.',
  deleted: 'The message was deleted.',
  read: 'Marked as read.',
  'all-read': 'All notifications are marked as read.',
  preferences: 'Your notification preferences were saved.',
};

const ADMIN = `<div class="wrap wide">
  <h1>Program notifications</h1>
  {{> admin-nav}}
  {{#if notice}}<p class="notice" role="status">{{notice}}</p>{{/if}}
  <div class="callout">
    <p><strong>Email:</strong> {{email}}</p>
    <p><strong>Deliveries:</strong> {{status.deliveries.sent}} sent, {{status.deliveries.pending}} waiting, {{status.deliveries.skipped}} skipped, {{status.deliveries.failed}} failed.</p>
  </div>
  <form class="filters" method="get" action="/admin/notifications">
    <div>
      {{> pick name="program" picker="programs" label="Program" state=programPick}}
    </div>
    <button type="submit" class="button button-quiet">Show messages</button>
  </form>
  {{#if program}}
  <h2>Messages of {{program.fullname}}</h2>
  {{#if messages.length}}
  <ul class="cards">
    {{#each messages}}
    <li class="card">
      <h3><a href="/admin/notifications/messages/{{id}}">{{typeLabel}}</a></h3>
      <p>{{subject}}</p>
      <p class="meta">{{when}}{{#if managerCopy}} · with a manager copy{{/if}}</p>
      <form method="post" action="/admin/notifications/messages/{{id}}/delete">{{> csrf}}<button type="submit" class="link-button">Delete<span class="sr-only"> {{typeLabel}}</span></button></form>
    </li>
    {{/each}}
  </ul>
  {{else}}<p class="empty">This program sends no messages.</p>{{/if}}
  <h2>Add a message</h2>
{{> notify_program/message-form}}
  {{/if}}
</div>`;

// Include this partial at the start of a line: Handlebars indents every line of a standalone partial
// by the whitespace before it, which would add spaces inside the textareas' text.
const FORM = `{{#if errors.length}}<div class="error-summary" role="alert"><p>The message was not saved:</p><ul>{{#each errors}}<li>{{this}}</li>{{/each}}</ul></div>{{/if}}
<form class="form" method="post" action="{{action}}">
  {{> csrf}}
  <fieldset>
    <legend>Message</legend>
    <label for="np-type">Type</label>
    <select id="np-type" name="type">{{#each types}}<option value="{{value}}"{{#if selected}} selected{{/if}}>{{label}}</option>{{/each}}</select>
    <div class="row">
      <div>
        <label for="np-offset">Send (timed types)</label>
        <input id="np-offset" name="triggerOffset" value="{{form.triggerOffset}}" placeholder="e.g. P3D" aria-describedby="np-offset-hint">
        <p id="np-offset-hint" class="hint">ISO-8601 duration: P3D is three days, P1W a week. Due reminders are sent before the due date, overdue and follow-up messages after it.</p>
      </div>
      <div>
        <label for="np-direction">Before or after</label>
        <select id="np-direction" name="triggerDirection"><option value="">As the type says</option><option value="before"{{#if (eq form.triggerDirection "before")}} selected{{/if}}>Before</option><option value="after"{{#if (eq form.triggerDirection "after")}} selected{{/if}}>After</option></select>
      </div>
    </div>
    <label for="np-subject">Subject</label>
    <input id="np-subject" name="subject" value="{{form.subject}}" required maxlength="255">
    <label for="np-body">Body</label>
    <textarea id="np-body" name="body" rows="8" required aria-describedby="np-placeholders">{{form.body}}</textarea>
  </fieldset>
  <fieldset>
    <legend>Manager copy</legend>
    <label class="check"><input type="checkbox" name="managerCopy" value="1"{{#if form.managerCopy}} checked{{/if}}> Also send a copy to the learner’s managers</label>
    <label for="np-msubject">Manager subject</label>
    <input id="np-msubject" name="managerSubject" value="{{form.managerSubject}}" maxlength="255" placeholder="The learner’s subject">
    <label for="np-mbody">Manager body</label>
    <textarea id="np-mbody" name="managerBody" rows="6" placeholder="The learner’s body">{{form.managerBody}}</textarea>
  </fieldset>
  <details id="np-placeholders"><summary>Placeholders</summary>
    <dl>{{#each placeholders}}<dt><code>{{name}}</code></dt><dd>{{description}}</dd>{{/each}}</dl>
    <p class="hint">Write them in double braces. <code>#if</code> / <code>#unless</code> blocks may test them. Values are always escaped.</p>
  </details>
  <div class="actions"><button type="submit" class="button">{{submitLabel}}</button></div>
</form>`;

const EDIT = `<div class="wrap wide">
  <p class="breadcrumb"><a href="/admin/notifications?program={{program.id}}">Messages of {{program.fullname}}</a></p>
  <h1>{{typeLabel}}</h1>
  {{#if notice}}<p class="notice" role="status">{{notice}}</p>{{/if}}
{{> notify_program/message-form}}
  <h2 id="preview">Preview</h2>
  <form class="filters" method="get" action="/admin/notifications/messages/{{messageId}}#preview">
    <div>
      {{> pick name="preview" picker="users" label="For learner (one assigned to this program)" state=previewState}}
    </div>
    <button type="submit" class="button button-quiet">Preview</button>
  </form>
  {{#if preview}}
  <section class="card" aria-label="Preview for the learner">
    <h3>{{preview.learner.subject}}</h3>
    <p style="white-space: pre-wrap">{{preview.learner.text}}</p>
  </section>
  {{#if preview.manager}}
  <section class="card" aria-label="Preview of the manager copy">
    <h3>Manager copy: {{preview.manager.subject}}</h3>
    <p style="white-space: pre-wrap">{{preview.manager.text}}</p>
  </section>
  {{/if}}
  {{/if}}
  <form method="post" action="/admin/notifications/messages/{{messageId}}/delete">{{> csrf}}<button type="submit" class="button button-quiet">Delete this message</button></form>
</div>`;

const INBOX = `<div class="wrap">
  <h1>Notifications</h1>
  {{#if notice}}<p class="notice" role="status">{{notice}}</p>{{/if}}
  {{#if unread}}<form method="post" action="/my/notifications/read-all">{{> csrf}}<button type="submit" class="button button-quiet">Mark all {{unread}} as read</button></form>{{/if}}
  {{#if items.length}}
  <ul class="cards" style="grid-template-columns: 1fr">
    {{#each items}}
    <li class="card">
      <h2>{{#unless readAt}}<span class="badge badge-open">New</span> {{/unless}}{{subject}}</h2>
      <p class="meta">{{formatDate createdAt format="datetime"}}</p>
      <p style="white-space: pre-wrap">{{body}}</p>
      {{#unless readAt}}<form method="post" action="/my/notifications/{{id}}/read">{{> csrf}}<button type="submit" class="link-button">Mark as read<span class="sr-only">: {{subject}}</span></button></form>{{/unless}}
    </li>
    {{/each}}
  </ul>
  {{#if pager.shown}}<nav class="pager" aria-label="Pages">{{#if pager.prev}}<a class="button button-quiet" rel="prev" href="{{pager.prev}}">Newer notifications</a>{{/if}}{{#if pager.next}}<a class="button button-quiet" rel="next" href="{{pager.next}}">Older notifications</a>{{/if}}</nav>{{/if}}
  {{else}}<p class="empty">You have no notifications.</p>{{/if}}
  <h2>How you are notified</h2>
  <form class="form" method="post" action="/my/notifications/preferences">
    {{> csrf}}
    <div class="table-scroll" role="region" aria-labelledby="np-prefs-caption" tabindex="0">
    <table class="table">
      <caption id="np-prefs-caption">Channels per kind of message</caption>
      <thead><tr><th scope="col">Message</th>{{#each channels}}<th scope="col">{{label}}</th>{{/each}}</tr></thead>
      <tbody>
        {{#each preferences}}
        <tr><th scope="row">{{label}}</th>{{#each cells}}<td data-label="{{channel}}"><input type="checkbox" name="on" value="{{value}}" aria-label="{{../label}}: {{channel}}"{{#if enabled}} checked{{/if}}></td>{{/each}}</tr>
        {{/each}}
      </tbody>
    </table>
    </div>
    <div class="actions"><button type="submit" class="button">Save preferences</button></div>
  </form>
</div>`;

const INBOX_LINK = `<li><a href="/my/notifications"{{#if (eq @root.nav "notifications")}} aria-current="page"{{/if}}>Notifications{{#if (notify_program_unread)}} <span class="badge badge-open">{{notify_program_unread}}<span class="sr-only"> unread</span></span>{{/if}}</a></li>`;

const field = (body: unknown, name: string): string => {
  const value = (body as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value : '';
};

/** The admin form read into the API's body shape, so one validation applies to both. */
function inputFromForm(body: unknown): MessageInput {
  const text = (name: string): string | null => field(body, name).replace(/\r\n/g, '\n') || null;
  const direction = field(body, 'triggerDirection');
  return {
    type: field(body, 'type') as MessageType,
    subject: field(body, 'subject'),
    body: field(body, 'body').replace(/\r\n/g, '\n'),
    managerCopy: field(body, 'managerCopy') !== '',
    managerSubject: text('managerSubject'),
    managerBody: text('managerBody'),
    triggerOffset: text('triggerOffset')?.trim().toUpperCase() ?? null,
    triggerDirection: direction === 'before' || direction === 'after' ? direction : null,
  };
}

/** The message types a user can receive: exception reports go to administrators only. */
const shownTypes = (user: AuthUser): MessageType[] => MESSAGE_TYPES.filter((t) => t !== 'exception_report' || user.isAdmin);

function pageId(value: unknown, what: string): number {
  const id = parseId(value);
  if (id === null) throw notFound(what, String(value));
  return id;
}

function when(m: Message): string {
  if (!TIMED_TYPES.has(m.type) || !m.triggerOffset) return 'When it happens';
  return `${m.triggerOffset} ${m.triggerDirection ?? ''} ${TIMED_RULES[m.type]!.from}`;
}

/**
 * Pages: the operator's messages page (programs picked by name, messages listed, added, edited,
 * deleted and previewed for a chosen learner), the learner's inbox with preferences, and the
 * inbox link with its unread count in the theme header.
 */
export function registerPages(deps: PageDeps, routes: FeatureContext['routes'], theme: ThemeRegistrar): void {
  theme.partial('admin', ADMIN);
  theme.partial('message-form', FORM);
  theme.partial('edit', EDIT);
  theme.partial('inbox', INBOX);
  theme.partial('inbox-link', INBOX_LINK);
  theme.slot('header.nav', 'inbox-link');

  // The header's unread count: Handlebars helpers are synchronous, so a gate stage counts before
  // the page renders, for HTML requests of signed-in users, and the helper reads that count by the
  // request id (entries live until the response ends).
  const unread = new Map<string, number>();
  theme.helper('unread', (options: { data?: { root?: { reqId?: string } } }) => unread.get(options?.data?.root?.reqId ?? '') ?? 0);
  routes.stage({
    phase: 'gate',
    method: 'get',
    path: '/{*path}',
    handler: async (req, res, next) => {
      try {
        if ((req.get('accept') ?? '').includes('text/html')) {
          const user = await deps.pages.resolveUser(req);
          if (user) {
            unread.set(req.reqId, await deps.inbox.unreadCount(user.id));
            res.once('close', () => unread.delete(req.reqId));
          }
        }
        next();
      } catch (error) {
        next(error);
      }
    },
  });

  const programNamed = async (id: number) =>
    (
      await queryRows<{ id: number; fullname: string; shortname: string }>(
        deps.db.knex,
        `SELECT p.id, p.fullname, p.shortname FROM ${programViews.programs.as('p')} WHERE p.id = ?`,
        [id],
      )
    )[0];

  const formData = (form: Partial<MessageInput>, action: string, submitLabel: string) => ({
    form,
    action,
    submitLabel,
    types: MESSAGE_TYPES.map((value) => ({ value, label: TYPE_LABELS[value], selected: value === form.type })),
    placeholders: Object.entries(PLACEHOLDERS).map(([name, description]) => ({ name: `{{${name}}}`, description })),
  });

  const showAdmin = async (req: Request, res: Response, errors: string[] = [], status?: number): Promise<void> => {
    // The program is picked by name (any number of programs); the message forms post to its id.
    let programId: number | null = null;
    let programPick: PickState;
    const problems = [...errors];
    try {
      programId =
        req.method === 'POST' ? parseId(req.params.programId) : ((await resolvePick(deps.programs(), req.query, 'program', { label: 'Program' }))?.id ?? null);
      programPick = await pickState(deps.programs(), programId);
      // A link to a program that does not exist is a 404, as before names were typed.
      const linked = parseId(req.query.program);
      if (req.method !== 'POST' && programId === null && linked !== null) throw notFound('Program', linked);
    } catch (error) {
      if (!(error instanceof PickError)) throw error;
      programPick = error.state;
      problems.push(error.message);
    }
    const program = programId === null ? undefined : await programNamed(programId);
    if (programId !== null && !program) throw notFound('Program', programId);
    const messages = program ? (await deps.messages.list(programId!)).map((m) => ({ ...m, typeLabel: TYPE_LABELS[m.type], when: when(m) })) : [];
    const s = await deps.status();
    const email = s.channels.find((c) => c.key === 'email');
    const form = req.method === 'POST' ? inputFromForm(req.body) : { type: 'assigned' as MessageType };
    res.locals.render(
      'notify_program/admin',
      {
        title: 'Program notifications',
        adminNav: 'notifications',
        notice: NOTICES[String(req.query.notice ?? '')] ?? null,
        email: email?.description ?? 'No email channel.',
        status: s,
        programPick,
        program,
        messages,
        errors: problems,
        ...(program ? formData(form, `/admin/notifications/programs/${program.id}/messages`, 'Add the message') : {}),
      },
      { status: status ?? 200 },
    );
  };

  const showEdit = async (req: Request, res: Response, errors: string[] = [], status?: number): Promise<void> => {
    const id = pageId(req.params.id, 'Message');
    const message = await deps.messages.find(id);
    if (!message) throw notFound('Message', id);
    const [program] = await queryRows<{ id: number; fullname: string }>(
      deps.db.knex,
      `SELECT p.id, p.fullname FROM ${programViews.programs.as('p')} WHERE p.id = ?`,
      [message.programId],
    );
    // The learner is picked by name (any of the program's learners, however many); `?preview=<id>` links still work.
    let previewState: PickState = await pickState(deps.users(), null);
    let preview = null;
    try {
      const learner = await resolvePick(deps.users(), req.query, 'preview', { label: 'For learner' });
      if (learner) {
        previewState = await pickState(deps.users(), learner.id);
        const assigned = await queryRows<{ id: number }>(
          deps.db.knex,
          `SELECT a.user_id AS id FROM ${assignmentViews.programUserAssignments.as('a')} JOIN ${peopleViews.users.as('u')} ON u.id = a.user_id
            WHERE a.program_id = ? AND a.user_id = ?`,
          [message.programId, learner.id],
        );
        if (assigned.length) preview = await deps.preview(message, learner.id, req.user!);
        else previewState = { ...previewState, error: `For learner: ${learner.label} is not assigned to this program` };
      }
    } catch (error) {
      if (!(error instanceof PickError)) throw error;
      previewState = error.state;
    }
    const form = req.method === 'POST' ? inputFromForm(req.body) : message;
    res.locals.render(
      'notify_program/edit',
      {
        title: `${TYPE_LABELS[message.type]}: ${program?.fullname ?? ''}`,
        adminNav: 'notifications',
        notice: NOTICES[String(req.query.notice ?? '')] ?? null,
        typeLabel: TYPE_LABELS[message.type],
        program: program ?? { id: message.programId, fullname: `Program ${message.programId}` },
        messageId: id,
        previewState,
        preview,
        errors,
        ...formData(form, `/admin/notifications/messages/${id}`, 'Save the message'),
      },
      { status: status ?? 200 },
    );
  };

  /** A 422 from validation re-renders the form with the problems; anything else is an error page. */
  const onInvalid = async (error: unknown, show: () => Promise<void>): Promise<void> => {
    if (error instanceof WaymarkError && (error.status === 422 || error.status === 400)) return show();
    throw error;
  };
  const messagesOf = (error: unknown): string[] => {
    const e = error as WaymarkError;
    return e.details?.length ? e.details.map((d) => d.message) : [e.message];
  };

  routes.page({ method: 'get', path: '/admin/notifications', access: 'admin', handler: (req, res) => showAdmin(req, res) });
  routes.page({
    method: 'post',
    path: '/admin/notifications/programs/:programId/messages',
    access: 'admin',
    async handler(req, res) {
      const programId = pageId(req.params.programId, 'Program');
      try {
        await deps.messages.create(programId, inputFromForm(req.body));
      } catch (error) {
        return onInvalid(error, () => showAdmin(req, res, messagesOf(error), 422));
      }
      res.redirect(303, `/admin/notifications?program=${programId}&notice=created`);
    },
  });
  routes.page({ method: 'get', path: '/admin/notifications/messages/:id', access: 'admin', handler: (req, res) => showEdit(req, res) });
  routes.page({
    method: 'post',
    path: '/admin/notifications/messages/:id',
    access: 'admin',
    async handler(req, res) {
      const id = pageId(req.params.id, 'Message');
      try {
        await deps.messages.update(id, inputFromForm(req.body));
      } catch (error) {
        return onInvalid(error, () => showEdit(req, res, messagesOf(error), 422));
      }
      res.redirect(303, `/admin/notifications/messages/${id}?notice=saved`);
    },
  });
  routes.page({
    method: 'post',
    path: '/admin/notifications/messages/:id/delete',
    access: 'admin',
    async handler(req, res) {
      const message = await deps.messages.get(pageId(req.params.id, 'Message'));
      await deps.messages.remove(message.id);
      res.redirect(303, `/admin/notifications?program=${message.programId}&notice=deleted`);
    },
  });

  // ---- the learner's inbox ----
  routes.page({
    method: 'get',
    path: '/my/notifications',
    access: 'user',
    async handler(req, res) {
      const user = req.user!;
      const position = pagePositionOf(INBOX_ORDER, req.query as Record<string, unknown>, 50);
      const page = await deps.inbox.list(user.id, {}, position);
      const channels = deps.channels();
      const prefs = await deps.preferences.list(
        user.id,
        channels.map((c) => c.key),
      );
      const preferences = shownTypes(user).map((type) => ({
        label: TYPE_LABELS[type],
        cells: channels.map((c) => ({
          channel: c.label,
          value: `${type}:${c.key}`,
          enabled: prefs.find((p) => p.type === type && p.channel === c.key)?.enabled ?? true,
        })),
      }));
      res.locals.render('notify_program/inbox', {
        title: 'Notifications',
        nav: 'notifications',
        notice: NOTICES[String(req.query.notice ?? '')] ?? null,
        items: page.items,
        pager: pageLinks('/my/notifications', {}, page, position, 50),
        unread: await deps.inbox.unreadCount(user.id),
        channels,
        preferences,
      });
    },
  });
  routes.page({
    method: 'post',
    path: '/my/notifications/read-all',
    access: 'user',
    async handler(req, res) {
      await deps.inbox.markAllRead(req.user!.id);
      res.redirect(303, '/my/notifications?notice=all-read');
    },
  });
  routes.page({
    method: 'post',
    path: '/my/notifications/preferences',
    access: 'user',
    async handler(req, res) {
      const raw = (req.body as Record<string, unknown> | undefined)?.on;
      const on = new Set((Array.isArray(raw) ? raw : [raw]).filter((v): v is string => typeof v === 'string'));
      const keys = deps.channels().map((c) => c.key);
      await deps.preferences.set(
        req.user!.id,
        shownTypes(req.user!).flatMap((type) => keys.map((channel) => ({ type, channel, enabled: on.has(`${type}:${channel}`) }))),
      );
      res.redirect(303, '/my/notifications?notice=preferences');
    },
  });
  routes.page({
    method: 'post',
    path: '/my/notifications/:id/read',
    access: 'user',
    async handler(req, res) {
      await deps.inbox.markRead(pageId(req.params.id, 'Notification'), req.user!.id);
      res.redirect(303, '/my/notifications?notice=read');
    },
  });
}
