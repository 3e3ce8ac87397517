import type { Request, Response } from 'express';
import type { ExtensionRegistrar, JobRunner } from '../../kernel/features/context';
import type { JobRegistrar } from '../../kernel/jobs/types';
import type { RouteRegistrar } from '../../kernel/http/routes';
import { WaymarkError, invalid, type ErrorDetail } from '../../kernel/errors';
import { field, fields, pageId, renderView } from '../../kernel/http/render';
import { parseId } from '../../kernel/http/contract';
import { createBodyValidator } from '../../kernel/http/validation';
import { pageLinks, pagePositionOf, pickOrder } from '../../kernel/http/paging';
import { PickError, pickerOf, pickState, postedPickState, resolvePick, type PickState } from '../../kernel/pickers';
import { USER_ORDERS, type UserListFilter } from './store/users';
import { jobBody, jobPatchBody, userBody, userPatchBody } from './routes';
import type { PeopleServices } from './services';
import type { JobAssignment, ProfileField, ProfileInput, ProfileValue, User } from './types';

/** Users per page of the operator's list. */
const PAGE_SIZE = 50;
/** A bulk change of at most this many ticked users runs at once; more, or "all matching", runs as a job. */
const INLINE_BULK = 100;
/** Users changed per batch (and per progress report) of a bulk job. */
const BULK_BATCH = 200;
/** The user page shows this many audiences and section lines before linking to the rest. */
const SECTION_LINES = 20;

export const BULK_SUSPEND_JOB = 'people.bulk_suspend';

const SORTS = [
  { value: 'fullname', label: 'Name' },
  { value: 'username', label: 'Username' },
  { value: '-id', label: 'Newest first' },
  { value: 'id', label: 'Oldest first' },
] as const;

/** The filter of the user list as chosen by name; travels as JSON in bulk forms ("all matching this filter"). */
export interface UserFilterChoice {
  q?: string;
  status?: 'active' | 'suspended';
  audienceId?: number;
  positionId?: number;
  organisationId?: number;
  managerUserId?: number;
}

const PICKS = [
  { name: 'audience', picker: 'audiences', label: 'Audience', key: 'audienceId' },
  { name: 'position', picker: 'positions', label: 'Position (and below)', key: 'positionId' },
  { name: 'organisation', picker: 'organisations', label: 'Organisation (and below)', key: 'organisationId' },
  { name: 'manager', picker: 'users', label: 'Manager (direct reports)', key: 'managerUserId' },
] as const;

export interface PeoplePagesDeps {
  services: () => PeopleServices;
  extensions: Pick<ExtensionRegistrar, 'get' | 'list'>;
  queue: JobRunner;
  jobs: JobRegistrar;
}

/**
 * What a bulk form under the user list posts: the ticked users, or "all matching" with the list's
 * filter. 422 when nothing is ticked (`verb`: "Tick the users to <verb>") or the filter is unreadable.
 */
export function bulkSelectionOf(body: unknown, verb: string): { choice: UserFilterChoice; ids?: number[] } {
  const all = field(body, 'scope') === 'all';
  const choice = all ? filterChoiceOf(field(body, 'filter')) : {};
  if (!choice)
    throw invalid('BULK_FILTER_INVALID', 'The filter of this list could not be read; filter the list again', [{ path: 'filter', message: 'unreadable' }]);
  if (all) return { choice };
  const ids = fields(body, 'userIds')
    .map((v) => parseId(v))
    .filter((v): v is number => v !== null);
  if (!ids.length)
    throw invalid('BULK_EMPTY', `Tick the users to ${verb}, or choose all matching this filter`, [{ path: 'userIds', message: 'Nothing selected' }]);
  return { choice, ids };
}

/** A filter choice read back from a bulk form's JSON; anything unexpected is dropped (never widened). */
export function filterChoiceOf(text: string): UserFilterChoice | null {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return null;
  const r = raw as Record<string, unknown>;
  const choice: UserFilterChoice = {};
  if (typeof r.q === 'string' && r.q.length <= 100) choice.q = r.q;
  if (r.status === 'active' || r.status === 'suspended') choice.status = r.status;
  for (const key of ['audienceId', 'positionId', 'organisationId', 'managerUserId'] as const) {
    const id = typeof r[key] === 'number' ? parseId(String(r[key])) : null;
    if (id !== null) choice[key] = id;
  }
  return choice;
}

/** The list filter a choice means: a text with "@" searches emails, other text full names; nodes include those below. */
export async function listFilterOf(people: Pick<PeopleServices, 'hierarchy'>, choice: UserFilterChoice): Promise<UserListFilter> {
  const filter: UserListFilter = {};
  if (choice.q) {
    if (choice.q.includes('@')) filter.email = choice.q;
    else filter.q = choice.q;
  }
  if (choice.status) filter.suspended = choice.status === 'suspended';
  if (choice.audienceId !== undefined) filter.audienceId = choice.audienceId;
  if (choice.positionId !== undefined) filter.positionPath = (await people.hierarchy.get('position', choice.positionId)).path;
  if (choice.organisationId !== undefined) filter.organisationPath = (await people.hierarchy.get('organisation', choice.organisationId)).path;
  if (choice.managerUserId !== undefined) filter.managerUserId = choice.managerUserId;
  return filter;
}

const label = (name: string): string =>
  ({ fullname: 'Full name', email: 'Email', username: 'Username', password: 'Password', lang: 'Language', timezone: 'Time zone', suspended: 'Suspended' })[
    name
  ] ?? name;

/** Problems in words, each naming its field ("Email: must NOT have fewer than 3 characters"). */
function readable(details: readonly ErrorDetail[], fallback: string): string[] {
  if (!details.length) return [fallback];
  return details.map((d) => {
    const path = (d.path ?? '').replace(/^\//, '');
    if (!path) return d.message;
    const [top, sub] = path.split('/');
    const name =
      top === 'profile' && sub
        ? `Profile field ${sub}`
        : top === 'positionId'
          ? 'Position'
          : top === 'organisationId'
            ? 'Organisation'
            : top === 'managerJobAssignmentId'
              ? 'Manager'
              : label(top!);
    return d.message.startsWith(name) ? d.message : `${name}: ${d.message}`;
  });
}

const dateText = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/** The custom profile fields as form fields, with the values shown (stored, or as posted). */
function profileView(fieldsList: ProfileField[], values: Record<string, ProfileValue | string>) {
  return fieldsList.map((f) => {
    const v = values[f.shortname];
    const text = v === undefined || v === null ? '' : f.type === 'date' && typeof v === 'number' ? dateText(v) : String(v);
    return {
      shortname: f.shortname,
      name: f.name,
      inputName: `profile_${f.shortname}`,
      isText: f.type === 'text',
      isDate: f.type === 'date',
      isMenu: f.type === 'menu',
      isCheckbox: f.type === 'checkbox',
      checked: v === true || v === 'true',
      value: text,
      options: f.options.map((o) => ({ value: o, selected: o === text })),
    };
  });
}

/** The profile part of a user body from the form: an empty box clears the value. */
function profileFromForm(body: unknown, fieldsList: ProfileField[]): ProfileInput {
  const profile: ProfileInput = {};
  for (const f of fieldsList) {
    const name = `profile_${f.shortname}`;
    if (f.type === 'checkbox') profile[f.shortname] = field(body, name) !== '';
    else {
      const text = field(body, name);
      profile[f.shortname] = text === '' ? null : text;
    }
  }
  return profile;
}

interface UserFormState {
  fullname: string;
  email: string;
  username: string;
  suspended: boolean;
  lang: string;
  timezone: string;
  profile: Record<string, ProfileValue | string>;
}

function formOfUser(user: User, profile: Record<string, ProfileValue>): UserFormState {
  return { fullname: user.fullname, email: user.email, username: user.username, suspended: user.suspended, lang: user.lang, timezone: user.timezone, profile };
}

function formOfBody(body: unknown, fieldsList: ProfileField[]): UserFormState {
  const profile: Record<string, string> = {};
  for (const f of fieldsList)
    profile[f.shortname] = f.type === 'checkbox' ? String(field(body, `profile_${f.shortname}`) !== '') : field(body, `profile_${f.shortname}`);
  return {
    fullname: field(body, 'fullname'),
    email: field(body, 'email'),
    username: field(body, 'username'),
    suspended: field(body, 'suspended') !== '',
    lang: field(body, 'lang'),
    timezone: field(body, 'timezone'),
    profile,
  };
}

/**
 * Operator pages for users: the list (search, filters picked by name, sorting, keyset paging, bulk
 * suspend with "all matching this filter"), create and edit (one validation with the API), job
 * assignments (position, organisation and manager picked by name), the user's audiences and what
 * other modules say about them (`userAdminSections`: the programs they are assigned to).
 */
export function registerUserPages(deps: PeoplePagesDeps, pages: RouteRegistrar): void {
  const people = deps.services;
  const validator = createBodyValidator();
  const picker = (key: string) => pickerOf(deps.extensions, key);

  deps.jobs.define<{ choice: UserFilterChoice; ids?: number[]; suspended: boolean; exceptUserId?: number }>({
    name: BULK_SUSPEND_JOB,
    handler: async (job) => {
      const { choice, ids, suspended, exceptUserId } = job.payload;
      const filter = { ...(await listFilterOf(people(), choice)), ...(ids ? { ids } : {}) };
      const total = await people().users.countMatching(filter);
      const order = pickOrder(USER_ORDERS, 'id');
      let done = 0;
      let changed = 0;
      let from: Array<string | number> | null = null;
      await job.progress(0, total, suspended ? 'Suspending' : 'Reactivating');
      for (;;) {
        const page = await people().users.list(filter, order, { limit: BULK_BATCH, from });
        for (const user of page.items) {
          if (user.id !== exceptUserId && user.suspended !== suspended) {
            await people().users.update(user.id, { suspended });
            changed++;
          }
        }
        done += page.items.length;
        await job.progress(Math.min(done, total), total, `${changed} changed`);
        const last = page.items[page.items.length - 1];
        if (!page.nextCursor || !last) break;
        from = [last.id];
      }
      return { changed, seen: done };
    },
  });

  // ---- the list ------------------------------------------------------------------------------
  const readChoice = async (query: Record<string, unknown>) => {
    const choice: UserFilterChoice = {};
    const states: Record<string, PickState> = {};
    const errors: string[] = [];
    const links: Record<string, string | undefined> = {};
    const q = typeof query.q === 'string' ? query.q.trim().slice(0, 100) : '';
    if (q) choice.q = links.q = q;
    if (query.status === 'active' || query.status === 'suspended') choice.status = links.status = query.status;
    for (const p of PICKS) {
      try {
        const picked = await resolvePick(picker(p.picker), query, p.name, { label: p.label });
        states[p.name] = await pickState(picker(p.picker), picked?.id ?? null);
        if (picked) {
          choice[p.key] = picked.id;
          Object.assign(links, { [p.name]: String(picked.id), [`${p.name}_q`]: picked.label, [`${p.name}_was`]: picked.label });
        }
      } catch (error) {
        if (!(error instanceof PickError)) throw error;
        states[p.name] = error.state;
        errors.push(error.message);
      }
    }
    return { choice, states, errors, links };
  };

  const showList = async (req: Request, res: Response): Promise<void> => {
    const query = req.query as Record<string, unknown>;
    const { choice, states, errors, links } = await readChoice(query);
    const order = pickOrder(USER_ORDERS, query.sort);
    if (order.name !== 'fullname') links.sort = order.name;
    const position = pagePositionOf(order, query, PAGE_SIZE);
    const filter = errors.length ? null : await listFilterOf(people(), choice);
    const page = filter ? await people().users.list(filter, order, position) : { items: [], nextCursor: null, prevCursor: null };
    const pager = pageLinks('/admin/users', links, page, position, PAGE_SIZE);
    // "Select all N": counted only when the filter spans more than this page.
    const matching = filter && pager.shown ? await people().users.countMatching(filter) : page.items.length;
    renderView(req, res, 'admin/users', {
      title: 'Users',
      adminNav: 'users',
      q: choice.q ?? '',
      statuses: [
        { value: '', label: 'Everyone', selected: !choice.status },
        { value: 'active', label: 'Active', selected: choice.status === 'active' },
        { value: 'suspended', label: 'Suspended', selected: choice.status === 'suspended' },
      ],
      sorts: SORTS.map((s) => ({ ...s, selected: s.value === order.name })),
      picks: states,
      errors,
      users: page.items,
      pager,
      matching,
      filterJson: JSON.stringify(choice),
      filtered: Object.keys(choice).length > 0,
      assignPick: { text: '', id: null, candidates: [], error: null },
    });
  };
  pages.page({ method: 'get', path: '/admin/users', access: 'admin', handler: showList });

  // ---- bulk suspend / reactivate ---------------------------------------------------------------
  pages.page({
    method: 'post',
    path: '/admin/users/bulk',
    access: 'admin',
    async handler(req, res) {
      const action = field(req.body, 'action');
      if (action !== 'suspend' && action !== 'unsuspend')
        throw invalid('BULK_ACTION_INVALID', 'Choose suspend or reactivate', [{ path: 'action', message: 'Choose an action' }]);
      const suspended = action === 'suspend';
      const { choice, ids } = bulkSelectionOf(req.body, 'change');
      // The operator's own account is never suspended by a bulk change: it would lock them out.
      const exceptUserId = req.user?.id;
      if (ids && ids.length <= INLINE_BULK) {
        for (const id of ids) if (id !== exceptUserId) await people().users.update(id, { suspended });
        return res.redirect(303, `/admin/users?notice=${suspended ? 'users-suspended' : 'users-reactivated'}`);
      }
      const jobId = await deps.queue.enqueue(BULK_SUSPEND_JOB, { choice, ...(ids ? { ids } : {}), suspended, exceptUserId });
      res.redirect(303, `/admin/jobs/${jobId}`);
    },
  });

  // ---- create and edit -------------------------------------------------------------------------
  const showUser = async (
    req: Request,
    res: Response,
    user: User | null,
    over: { form?: UserFormState; errors?: string[]; jobStates?: Record<string, PickState> } = {},
    status?: number,
  ): Promise<void> => {
    const profileFields = await people().profileFields.list();
    const form = over.form ?? (user ? formOfUser(user, await people().profileFields.valuesOf(user.id)) : null);
    const jobStates = over.jobStates ?? {};
    let jobs: unknown[] = [];
    let audiences: unknown[] = [];
    let moreAudiences = 0;
    let sections: unknown[] = [];
    if (user) {
      const list = await people().jobAssignments.listForUser(user.id);
      jobs = await Promise.all(
        list.map(async (j: JobAssignment, i) => ({
          id: j.id,
          number: i + 1,
          position: jobStates[`j${j.id}_position`] ?? (await pickState(picker('positions'), j.positionId)),
          organisation: jobStates[`j${j.id}_organisation`] ?? (await pickState(picker('organisations'), j.organisationId)),
          manager: jobStates[`j${j.id}_manager`] ?? (await pickState(picker('managers'), j.managerJobAssignmentId)),
          names: { position: `j${j.id}_position`, organisation: `j${j.id}_organisation`, manager: `j${j.id}_manager` },
        })),
      );
      const audienceIds = await people().audiences.audiencesOf(user.id);
      const labels = await picker('audiences').labelsOf(audienceIds.slice(0, SECTION_LINES));
      audiences = audienceIds.slice(0, SECTION_LINES).map((id) => ({ id, name: labels.get(id)?.label ?? `Audience ${id}` }));
      moreAudiences = Math.max(audienceIds.length - SECTION_LINES, 0);
      const contributed = deps.extensions.list('userAdminSections').sort((a, b) => (a.value.order ?? 100) - (b.value.order ?? 100));
      sections = await Promise.all(contributed.map(async (c) => ({ key: c.key, title: c.value.title, ...(await c.value.lines(user.id, SECTION_LINES)) })));
    }
    renderView(
      req,
      res,
      'admin/user-edit',
      {
        title: user ? user.fullname : 'New user',
        adminNav: 'users',
        // Not `user`: the layout's header shows the signed-in user under that name.
        account: user,
        form: form ?? { fullname: '', email: '', username: '', suspended: false, lang: '', timezone: '', profile: {} },
        profile: profileView(profileFields, form?.profile ?? {}),
        action: user ? `/admin/users/${user.id}` : '/admin/users/new',
        errors: over.errors ?? [],
        jobs,
        newJob: {
          position: jobStates.new_position ?? (await pickState(picker('positions'), null)),
          organisation: jobStates.new_organisation ?? (await pickState(picker('organisations'), null)),
          manager: jobStates.new_manager ?? (await pickState(picker('managers'), null)),
        },
        audiences,
        moreAudiences,
        sections,
      },
      status,
    );
  };

  const failed = (error: unknown): string[] | null => {
    if (error instanceof WaymarkError && (error.status === 400 || error.status === 409 || error.status === 422)) return readable(error.details, error.message);
    return null;
  };

  pages.page({ method: 'get', path: '/admin/users/new', access: 'admin', handler: (req, res) => showUser(req, res, null) });
  pages.page({
    method: 'post',
    path: '/admin/users/new',
    access: 'admin',
    async handler(req, res) {
      const profileFields = await people().profileFields.list();
      const body: Record<string, unknown> = {
        username: field(req.body, 'username'),
        email: field(req.body, 'email'),
        fullname: field(req.body, 'fullname'),
        profile: profileFromForm(req.body, profileFields),
      };
      const password = typeof req.body?.password === 'string' ? (req.body.password as string) : '';
      if (password !== '') body.password = password;
      for (const key of ['lang', 'timezone'] as const) if (field(req.body, key) !== '') body[key] = field(req.body, key);
      try {
        const user = await people().users.create(validator.validate(userBody, body));
        res.redirect(303, `/admin/users/${user.id}?notice=user-created`);
      } catch (error) {
        const errors = failed(error);
        if (!errors) throw error;
        await showUser(req, res, null, { form: formOfBody(req.body, profileFields), errors }, 422);
      }
    },
  });

  pages.page({
    method: 'get',
    path: '/admin/users/:id',
    access: 'admin',
    async handler(req, res) {
      await showUser(req, res, await people().users.get(pageId(req.params.id, 'User')));
    },
  });
  pages.page({
    method: 'post',
    path: '/admin/users/:id',
    access: 'admin',
    async handler(req, res) {
      const user = await people().users.get(pageId(req.params.id, 'User'));
      const profileFields = await people().profileFields.list();
      const body: Record<string, unknown> = {
        email: field(req.body, 'email'),
        fullname: field(req.body, 'fullname'),
        suspended: field(req.body, 'suspended') !== '',
        profile: profileFromForm(req.body, profileFields),
      };
      const password = typeof req.body?.password === 'string' ? (req.body.password as string) : '';
      if (password !== '') body.password = password;
      for (const key of ['lang', 'timezone'] as const) if (field(req.body, key) !== '') body[key] = field(req.body, key);
      try {
        if (user.id === req.user?.id && body.suspended === true)
          throw invalid('USER_SUSPEND_SELF', 'You cannot suspend your own account', [{ path: 'suspended', message: 'You cannot suspend your own account' }]);
        // Your own new password ends your other sessions, not the one you are changing it from.
        const keep = user.id === req.user?.id && req.sessionID ? { kind: 'session' as const, sid: req.sessionID } : null;
        await people().users.update(user.id, validator.validate(userPatchBody, body), undefined, { keep });
        res.redirect(303, `/admin/users/${user.id}?notice=user-saved`);
      } catch (error) {
        const errors = failed(error);
        if (!errors) throw error;
        await showUser(req, res, user, { form: { ...formOfBody(req.body, profileFields), username: user.username }, errors }, 422);
      }
    },
  });

  // ---- job assignments -------------------------------------------------------------------------
  /** A job form's three picks as a job body; unresolved names become errors that keep their candidates. */
  const jobFromForm = async (body: unknown, prefix: string) => {
    const states: Record<string, PickState> = {};
    const errors: string[] = [];
    const out: Record<string, number | null> = {};
    for (const [name, key, pickerKey, what] of [
      ['position', 'positionId', 'positions', 'Position'],
      ['organisation', 'organisationId', 'organisations', 'Organisation'],
      ['manager', 'managerJobAssignmentId', 'managers', 'Manager'],
    ] as const) {
      const fieldName = `${prefix}_${name}`;
      try {
        out[key] = (await resolvePick(picker(pickerKey), body, fieldName, { label: what }))?.id ?? null;
        states[fieldName] = postedPickState(body, fieldName);
        if (out[key] !== null) states[fieldName] = await pickState(picker(pickerKey), out[key]);
      } catch (error) {
        if (!(error instanceof PickError)) throw error;
        states[fieldName] = error.state;
        errors.push(error.message);
      }
    }
    return { job: out, states, errors };
  };

  pages.page({
    method: 'post',
    path: '/admin/users/:id/jobs',
    access: 'admin',
    async handler(req, res) {
      const user = await people().users.get(pageId(req.params.id, 'User'));
      const { job, states, errors } = await jobFromForm(req.body, 'new');
      if (errors.length) return showUser(req, res, user, { errors, jobStates: states }, 422);
      try {
        await people().jobAssignments.create(user.id, validator.validate(jobBody, job));
        res.redirect(303, `/admin/users/${user.id}?notice=job-saved#jobs`);
      } catch (error) {
        const messages = failed(error);
        if (!messages) throw error;
        await showUser(req, res, user, { errors: messages, jobStates: states }, 422);
      }
    },
  });

  pages.page({
    method: 'post',
    path: '/admin/users/:id/jobs/:jobId',
    access: 'admin',
    async handler(req, res) {
      const user = await people().users.get(pageId(req.params.id, 'User'));
      const existing = await people().jobAssignments.get(pageId(req.params.jobId, 'Job assignment'));
      if (existing.userId !== user.id) throw new WaymarkError('NOT_FOUND', `Job assignment ${existing.id} not found`, 404);
      if (field(req.body, 'action') === 'remove') {
        await people().jobAssignments.remove(existing.id);
        return res.redirect(303, `/admin/users/${user.id}?notice=job-removed#jobs`);
      }
      const { job, states, errors } = await jobFromForm(req.body, `j${existing.id}`);
      if (errors.length) return showUser(req, res, user, { errors, jobStates: states }, 422);
      try {
        await people().jobAssignments.update(existing.id, validator.validate(jobPatchBody, job));
        res.redirect(303, `/admin/users/${user.id}?notice=job-saved#jobs`);
      } catch (error) {
        const messages = failed(error);
        if (!messages) throw error;
        await showUser(req, res, user, { errors: messages, jobStates: states }, 422);
      }
    },
  });
}
