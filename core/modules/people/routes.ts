import type { Database } from '../../kernel/db/database';
import type { ApiRequest, ApiRoute, JsonSchema } from '../../kernel/http/routes';
import { conflict, forbidden, invalid } from '../../kernel/errors';
import { Id, UserId, component, dateTime, noParams, noQuery, nullableDateTime, object, pathParams, queryParams } from '../../kernel/http/contract';
import { isoOrNull as iso } from '../../kernel/db/values';
import type { PeopleServices } from './services';
import { parseIsoDate } from './profile-fields';
import type { KeysetPage } from '../../kernel/db/keyset';
import { cursorQuery, listResponse, pagePosition, pickOrder, sortQuery } from '../../kernel/http/paging';
import { USER_ORDERS } from './store/users';
import { NODE_ORDERS } from './store/hierarchy';
import { AUDIENCE_ORDERS, MEMBER_ORDERS } from './store/audiences';
import type {
  Audience,
  AudienceType,
  AudienceRuleNode,
  HierarchyKind,
  HierarchyNode,
  JobAssignment,
  JobAssignmentInput,
  ProfileField,
  ProfileFieldType,
  ProfileInput,
  ProfileValue,
  User,
} from './types';

const id = { type: 'integer', minimum: 1 } as const;
const nullableId = { type: ['integer', 'null'], minimum: 1 } as const;
const nullableDate = { type: ['string', 'null'], minLength: 1, description: 'ISO-8601 date or date-time (UTC when no offset)' } as const;
const profileSchema = {
  type: 'object',
  description: 'Custom profile values by field shortname; null clears a value. Dates are ISO-8601 strings.',
  additionalProperties: { type: ['string', 'boolean', 'number', 'null'] },
} as const;

export const userBody: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['username', 'email', 'fullname'],
  properties: {
    username: { type: 'string', minLength: 1, maxLength: 100 },
    email: { type: 'string', minLength: 3, maxLength: 255 },
    fullname: { type: 'string', minLength: 1, maxLength: 255 },
    password: { type: 'string', minLength: 8, maxLength: 1024 },
    lang: { type: 'string', minLength: 2, maxLength: 20 },
    timezone: { type: 'string', minLength: 1, maxLength: 64 },
    profile: profileSchema,
  },
};

export const userPatchBody: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    email: { type: 'string', minLength: 3, maxLength: 255 },
    fullname: { type: 'string', minLength: 1, maxLength: 255 },
    password: { type: 'string', minLength: 8, maxLength: 1024 },
    lang: { type: 'string', minLength: 2, maxLength: 20 },
    timezone: { type: 'string', minLength: 1, maxLength: 64 },
    suspended: { type: 'boolean' },
    profile: profileSchema,
  },
};

const userResponse: JsonSchema = component('User', {
  type: 'object',
  required: ['id', 'username', 'email', 'fullname', 'isAdmin', 'lang', 'timezone', 'suspended', 'deleted', 'firstLoginAt', 'createdAt', 'updatedAt', 'profile'],
  properties: {
    id,
    username: { type: 'string' },
    email: { type: 'string' },
    fullname: { type: 'string' },
    isAdmin: { type: 'boolean' },
    lang: { type: 'string' },
    timezone: { type: 'string' },
    suspended: { type: 'boolean' },
    deleted: { type: 'boolean' },
    firstLoginAt: { type: ['string', 'null'], format: 'date-time' },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
    profile: {
      type: 'object',
      description: 'Custom profile values by field shortname (dates as ISO-8601)',
      additionalProperties: { type: ['string', 'boolean'] },
    },
  },
});

const profileFieldResponse: JsonSchema = component('ProfileField', {
  type: 'object',
  required: ['id', 'shortname', 'name', 'type', 'createdAt', 'updatedAt'],
  properties: {
    id,
    shortname: { type: 'string' },
    name: { type: 'string' },
    type: { enum: ['text', 'menu', 'date', 'checkbox'] },
    options: { type: 'array', items: { type: 'string' }, description: 'Menu choices (menu fields only)' },
    createdAt: dateTime,
    updatedAt: dateTime,
  },
});

const nodeProperties = {
  id,
  kind: { enum: ['organisation', 'position'] },
  name: { type: 'string' },
  parentId: nullableId,
  path: { type: 'string', description: 'Ids from the root down to this node, e.g. /1/4/9/' },
  depth: { type: 'integer', minimum: 1 },
  createdAt: dateTime,
  updatedAt: dateTime,
};
const nodeResponse: JsonSchema = component('HierarchyNode', object(nodeProperties));
/** Direct children shown with a node; the rest are paged on the list (`?parentId=`). */
const CHILDREN_SHOWN = 100;

const nodeWithChildren: JsonSchema = component(
  'HierarchyNodeWithChildren',
  object({
    ...nodeProperties,
    children: {
      type: 'array',
      maxItems: CHILDREN_SHOWN,
      items: object({ id, name: { type: 'string' } }),
      description: `The first ${CHILDREN_SHOWN} direct children by name`,
    },
    moreChildren: { type: 'boolean', description: 'There are more direct children: page through them all with `?parentId=` on the list' },
  }),
);

const jobAssignmentResponse: JsonSchema = component(
  'JobAssignment',
  object({
    id,
    userId: id,
    positionId: nullableId,
    organisationId: nullableId,
    managerJobAssignmentId: nullableId,
    managerUserId: nullableId,
    startDate: nullableDateTime,
    positionAssignedDate: nullableDateTime,
    createdAt: dateTime,
    updatedAt: dateTime,
  }),
);

const audienceResponse: JsonSchema = component('Audience', {
  type: 'object',
  required: ['id', 'name', 'type', 'createdAt', 'updatedAt'],
  properties: {
    id,
    name: { type: 'string' },
    type: { enum: ['static', 'dynamic'] },
    rules: { type: 'array', items: { type: 'object' }, description: 'The rule tree of a dynamic audience (as saved)' },
    description: { type: 'string', description: 'The rules in words' },
    createdAt: dateTime,
    updatedAt: dateTime,
  },
});

const membershipResponse: JsonSchema = object({ audienceId: id, userId: id, member: { type: 'boolean' }, changed: { type: 'boolean' } });

const idParams = pathParams(['id']);
const userParams = pathParams({ id: UserId });

/** A user in a list: the account, without profile values (read one user for those). */
const userSummary: JsonSchema = component(
  'UserSummary',
  object({
    id,
    username: { type: 'string' },
    email: { type: 'string' },
    fullname: { type: 'string' },
    isAdmin: { type: 'boolean' },
    suspended: { type: 'boolean' },
    deleted: { type: 'boolean' },
    firstLoginAt: nullableDateTime,
    createdAt: dateTime,
  }),
);

/** `?q=`: a name prefix, any case (an index range at any size: docs/api.md "Lists"). */
const nameSearch: JsonSchema = { type: 'string', minLength: 1, maxLength: 100, description: 'Names starting with this text, any case' };

function userSummaryJson(u: User): Record<string, unknown> {
  return {
    id: u.id,
    username: u.username,
    email: u.email,
    fullname: u.fullname,
    isAdmin: u.isAdmin,
    suspended: u.suspended,
    deleted: u.deleted,
    firstLoginAt: iso(u.firstLoginAt),
    createdAt: iso(u.createdAt),
  };
}

const pageJson = <T>(page: KeysetPage<T>, json: (item: T) => Record<string, unknown>): Record<string, unknown> => ({
  items: page.items.map(json),
  nextCursor: page.nextCursor,
});

const profileFieldBody: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['shortname', 'name', 'type'],
  properties: {
    shortname: { type: 'string', pattern: '^[a-z][a-z0-9_]{0,99}$' },
    name: { type: 'string', minLength: 1, maxLength: 255 },
    type: { enum: ['text', 'menu', 'date', 'checkbox'] },
    options: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 255 }, minItems: 1, uniqueItems: true },
  },
};

export const nodeBody: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: { name: { type: 'string', minLength: 1, maxLength: 255 }, parentId: nullableId },
};

export const nodePatchBody: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: { name: { type: 'string', minLength: 1, maxLength: 255 }, parentId: nullableId },
};

const jobProperties = {
  positionId: nullableId,
  organisationId: nullableId,
  managerJobAssignmentId: nullableId,
  startDate: nullableDate,
  positionAssignedDate: nullableDate,
};
export const jobBody: JsonSchema = { type: 'object', additionalProperties: false, properties: jobProperties };
export const jobPatchBody: JsonSchema = { type: 'object', additionalProperties: false, minProperties: 1, properties: jobProperties };

// Each node is checked by the people module against the conditions contributed to the extension
// point (a plugin can add one at run time), so a bad node is a 422 naming its path, e.g. rules/1/rules/0/courseId.
const rulesSchema: JsonSchema = {
  type: 'array',
  minItems: 1,
  maxItems: 100,
  'x-maxJsonBytes': 65536,
  description:
    'A rule tree, an implicit "and" of its nodes. A node is a condition ({type: "profile_field" | "user_field" | "position" | "organisation" | "audience" | "course_completed" | "program_completed" | "program_assignment" | <plugin type>, ...}), {op: "and" | "or", rules: [nodes]} or {op: "not", rule: node}.',
  items: { type: 'object' },
};

const audienceBody: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 255 },
    rules: rulesSchema,
  },
};

const audiencePatchBody: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: { name: { type: 'string', minLength: 1, maxLength: 255 }, rules: rulesSchema },
};

/** A user as the API shows it: camelCase, ISO times, profile values, never the password hash. */
export function userJson(user: User, profile: Record<string, ProfileValue>, fields: ProfileField[]): Record<string, unknown> {
  const types = new Map<string, ProfileFieldType>(fields.map((f) => [f.shortname, f.type]));
  const shown: Record<string, string | boolean> = {};
  for (const [name, value] of Object.entries(profile)) shown[name] = types.get(name) === 'date' ? iso(Number(value))! : (value as string | boolean);
  return {
    id: user.id,
    username: user.username,
    email: user.email,
    fullname: user.fullname,
    isAdmin: user.isAdmin,
    lang: user.lang,
    timezone: user.timezone,
    suspended: user.suspended,
    deleted: user.deleted,
    firstLoginAt: iso(user.firstLoginAt),
    createdAt: iso(user.createdAt),
    updatedAt: iso(user.updatedAt),
    profile: shown,
  };
}

function profileFieldJson(f: ProfileField): Record<string, unknown> {
  return {
    id: f.id,
    shortname: f.shortname,
    name: f.name,
    type: f.type,
    options: f.type === 'menu' ? f.options : undefined,
    createdAt: iso(f.createdAt),
    updatedAt: iso(f.updatedAt),
  };
}

function nodeJson(n: HierarchyNode, children?: HierarchyNode[]): Record<string, unknown> {
  const shown = children?.slice(0, CHILDREN_SHOWN);
  return {
    id: n.id,
    kind: n.kind,
    name: n.name,
    parentId: n.parentId,
    path: n.path,
    depth: n.depth,
    createdAt: iso(n.createdAt),
    updatedAt: iso(n.updatedAt),
    ...(children && shown ? { children: shown.map((c) => ({ id: c.id, name: c.name })), moreChildren: children.length > shown.length } : {}),
  };
}

/** A job assignment as the API shows it (ISO dates). */
export function jobAssignmentJson(j: JobAssignment): Record<string, unknown> {
  return {
    id: j.id,
    userId: j.userId,
    positionId: j.positionId,
    organisationId: j.organisationId,
    managerJobAssignmentId: j.managerJobAssignmentId,
    managerUserId: j.managerUserId,
    startDate: iso(j.startDate),
    positionAssignedDate: iso(j.positionAssignedDate),
    createdAt: iso(j.createdAt),
    updatedAt: iso(j.updatedAt),
  };
}

function audienceJson(a: Audience, description?: string): Record<string, unknown> {
  return { id: a.id, name: a.name, type: a.type, rules: a.rules ?? undefined, description, createdAt: iso(a.createdAt), updatedAt: iso(a.updatedAt) };
}

function dateParam(value: string | null | undefined, path: string): number | null | undefined {
  if (value === undefined || value === null) return value;
  const ms = parseIsoDate(value);
  if (ms === null) throw invalid('DATE_INVALID', `${path} is not an ISO-8601 date`, [{ path, code: 'DATE_INVALID', message: 'not an ISO-8601 date' }]);
  return ms;
}

interface JobBody {
  positionId?: number | null;
  organisationId?: number | null;
  managerJobAssignmentId?: number | null;
  startDate?: string | null;
  positionAssignedDate?: string | null;
}

function jobInput(body: JobBody): JobAssignmentInput {
  const input: JobAssignmentInput = {};
  if (body.positionId !== undefined) input.positionId = body.positionId;
  if (body.organisationId !== undefined) input.organisationId = body.organisationId;
  if (body.managerJobAssignmentId !== undefined) input.managerJobAssignmentId = body.managerJobAssignmentId;
  if (body.startDate !== undefined) input.startDate = dateParam(body.startDate, 'startDate');
  if (body.positionAssignedDate !== undefined) input.positionAssignedDate = dateParam(body.positionAssignedDate, 'positionAssignedDate');
  return input;
}

/** REST routes for users, profile fields, organisations, positions, job assignments and audiences. */
export function peopleRoutes(site: { db: Database; services: PeopleServices }): ApiRoute[] {
  const people = (): PeopleServices => site.services;

  async function showUser(userId: number): Promise<Record<string, unknown>> {
    const p = people();
    const user = await p.users.get(userId);
    return userJson(user, await p.profileFields.valuesOf(userId), await p.profileFields.list());
  }

  const nodeRoutes = (kind: HierarchyKind, plural: string, tag: string): ApiRoute[] => [
    {
      method: 'get',
      path: `/${plural}`,
      summary: `List ${plural}: name prefix (q), a parent's children (parentId) or the roots (root), sorted and paged`,
      tags: [tag],
      access: 'user',
      params: noParams,
      query: queryParams({
        ...cursorQuery(),
        ...sortQuery(NODE_ORDERS),
        q: nameSearch,
        parentId: { ...id, description: 'Only the direct children of this node' },
        root: { type: 'boolean', description: 'true: only the roots; false: only nodes with a parent' },
      }),
      response: listResponse(nodeResponse),
      async handler(req) {
        const query = req.query as { sort?: string; q?: string; parentId?: number; root?: boolean };
        const order = pickOrder(NODE_ORDERS, query.sort);
        const page = await people().hierarchy.list(kind, { q: query.q, parentId: query.parentId, root: query.root }, order, pagePosition(order, req.query));
        return { body: pageJson(page, (n) => nodeJson(n)) };
      },
    },
    {
      method: 'post',
      path: `/${plural}`,
      summary: `Create ${kind === 'organisation' ? 'an organisation' : 'a position'} (optionally below a parent)`,
      tags: [tag],
      access: 'admin',
      params: noParams,
      query: noQuery,
      response: nodeResponse,
      body: nodeBody,
      successStatus: 201,
      async handler(req: ApiRequest<{ name: string; parentId?: number | null }>) {
        const node = await people().hierarchy.create(kind, { name: req.body.name, parentId: req.body.parentId ?? null });
        return { status: 201, body: nodeJson(node) };
      },
    },
    {
      method: 'get',
      path: `/${plural}/:id`,
      summary: `Read ${kind === 'organisation' ? 'an organisation' : 'a position'} and its direct children`,
      tags: [tag],
      access: 'user',
      params: idParams,
      query: noQuery,
      response: nodeWithChildren,
      async handler(req) {
        const nodeId = req.params.id!;
        const node = await people().hierarchy.get(kind, nodeId);
        // One more than is shown, to know whether there are more.
        return { body: nodeJson(node, await people().hierarchy.children(kind, nodeId, undefined, CHILDREN_SHOWN + 1)) };
      },
    },
    {
      method: 'patch',
      path: `/${plural}/:id`,
      summary: `Rename or move ${kind === 'organisation' ? 'an organisation' : 'a position'} (parentId null makes it a root)`,
      tags: [tag],
      access: 'admin',
      params: idParams,
      query: noQuery,
      response: nodeResponse,
      body: nodePatchBody,
      async handler(req: ApiRequest<{ name?: string; parentId?: number | null }>) {
        const nodeId = req.params.id!;
        const node = await site.db.transaction(async (trx) => {
          if (req.body.name !== undefined) await people().hierarchy.rename(kind, nodeId, req.body.name, trx);
          if (req.body.parentId !== undefined) await people().hierarchy.move(kind, nodeId, req.body.parentId, trx);
          return people().hierarchy.get(kind, nodeId, trx);
        });
        return { body: nodeJson(node) };
      },
    },
  ];

  return [
    {
      method: 'get',
      path: '/users',
      summary: 'List users (administrators): full-name prefix (q), username prefix, suspended, deleted; sorted and paged',
      tags: ['people'],
      access: 'admin',
      params: noParams,
      query: queryParams({
        ...cursorQuery(),
        ...sortQuery(USER_ORDERS),
        q: { ...nameSearch, description: 'Full names starting with this text, any case' },
        username: { ...nameSearch, description: 'Usernames starting with this text (best with sort=username)' },
        suspended: { type: 'boolean', description: 'Only suspended (true) or only active (false) users' },
        deleted: { type: 'boolean', default: false, description: 'Deleted users instead of the others' },
      }),
      response: listResponse(userSummary),
      async handler(req) {
        const query = req.query as { sort?: string; q?: string; username?: string; suspended?: boolean; deleted?: boolean };
        const order = pickOrder(USER_ORDERS, query.sort);
        const filter = { q: query.q, username: query.username, suspended: query.suspended, deleted: query.deleted };
        const page = await people().users.list(filter, order, pagePosition(order, req.query));
        return { body: pageJson(page, userSummaryJson) };
      },
    },
    {
      method: 'post',
      path: '/users',
      summary: 'Create a user, with custom profile values',
      tags: ['people'],
      access: 'admin',
      params: noParams,
      query: noQuery,
      body: userBody,
      response: userResponse,
      successStatus: 201,
      async handler(
        req: ApiRequest<{ username: string; email: string; fullname: string; password?: string; lang?: string; timezone?: string; profile?: ProfileInput }>,
      ) {
        const user = await people().users.create(req.body);
        return { status: 201, body: await showUser(user.id) };
      },
    },
    {
      method: 'get',
      path: '/users/:id',
      summary: 'Read a user (administrators, or the user themself)',
      tags: ['people'],
      access: 'user',
      params: userParams,
      query: noQuery,
      response: userResponse,
      async handler(req) {
        const userId = req.params.id!;
        if (!req.user?.isAdmin && req.user?.id !== userId) throw forbidden('You may only read your own user record');
        return { body: await showUser(userId) };
      },
    },
    {
      method: 'patch',
      path: '/users/:id',
      summary: 'Change a user: profile values, lang, timezone, suspended, fullname, email, password',
      tags: ['people'],
      access: 'admin',
      params: userParams,
      query: noQuery,
      body: userPatchBody,
      response: userResponse,
      async handler(
        req: ApiRequest<{
          email?: string;
          fullname?: string;
          password?: string;
          lang?: string;
          timezone?: string;
          suspended?: boolean;
          profile?: ProfileInput;
        }>,
      ) {
        const userId = req.params.id!;
        // As the user form does: an administrator cannot lock themselves out (their last way back in).
        if (req.body.suspended === true && userId === req.user!.id) throw conflict('USER_SUSPEND_SELF', 'You cannot suspend your own account');
        // The caller's own token survives a change to their own password; every other credential of the user ends.
        await people().users.update(userId, req.body, undefined, { keep: req.credential });
        return { body: await showUser(userId) };
      },
    },
    {
      method: 'get',
      path: '/profile-fields',
      summary: 'List custom profile fields',
      tags: ['people'],
      access: 'user',
      params: noParams,
      query: noQuery,
      response: object({ profileFields: { type: 'array', items: profileFieldResponse } }),
      async handler() {
        return { body: { profileFields: (await people().profileFields.list()).map(profileFieldJson) } };
      },
    },
    {
      method: 'post',
      path: '/profile-fields',
      summary: 'Define a custom profile field (text, menu, date or checkbox)',
      tags: ['people'],
      access: 'admin',
      params: noParams,
      query: noQuery,
      response: profileFieldResponse,
      body: profileFieldBody,
      successStatus: 201,
      async handler(req: ApiRequest<{ shortname: string; name: string; type: ProfileFieldType; options?: string[] }>) {
        return { status: 201, body: profileFieldJson(await people().profileFields.create(req.body)) };
      },
    },
    ...nodeRoutes('organisation', 'organisations', 'hierarchy'),
    ...nodeRoutes('position', 'positions', 'hierarchy'),
    {
      method: 'get',
      path: '/users/:id/job-assignments',
      summary: "A user's job assignments (administrators, or the user themself)",
      tags: ['people'],
      access: 'user',
      params: userParams,
      query: noQuery,
      response: object({ jobAssignments: { type: 'array', items: jobAssignmentResponse } }),
      async handler(req) {
        const userId = req.params.id!;
        if (!req.user?.isAdmin && req.user?.id !== userId) throw forbidden('You may only read your own job assignments');
        await people().users.get(userId);
        return { body: { jobAssignments: (await people().jobAssignments.listForUser(userId)).map(jobAssignmentJson) } };
      },
    },
    {
      method: 'post',
      path: '/users/:id/job-assignments',
      summary: 'Add a job assignment (position, organisation, manager, dates); positionAssignedDate defaults to now',
      tags: ['people'],
      access: 'admin',
      params: userParams,
      query: noQuery,
      response: jobAssignmentResponse,
      body: jobBody,
      successStatus: 201,
      async handler(req: ApiRequest<JobBody>) {
        const userId = req.params.id!;
        const job = await people().jobAssignments.create(userId, jobInput(req.body));
        return { status: 201, body: jobAssignmentJson(job) };
      },
    },
    {
      method: 'get',
      path: '/job-assignments/:id',
      summary: 'Read a job assignment',
      tags: ['people'],
      access: 'admin',
      params: idParams,
      query: noQuery,
      response: jobAssignmentResponse,
      async handler(req) {
        return { body: jobAssignmentJson(await people().jobAssignments.get(req.params.id!)) };
      },
    },
    {
      method: 'patch',
      path: '/job-assignments/:id',
      summary: 'Change a job assignment; a new manager moves everyone below it too',
      tags: ['people'],
      access: 'admin',
      params: idParams,
      query: noQuery,
      response: jobAssignmentResponse,
      body: jobPatchBody,
      async handler(req: ApiRequest<JobBody>) {
        const job = await people().jobAssignments.update(req.params.id!, jobInput(req.body));
        return { body: jobAssignmentJson(job) };
      },
    },
    {
      method: 'delete',
      path: '/job-assignments/:id',
      summary: 'Delete a job assignment; its direct reports are left without a manager',
      tags: ['people'],
      access: 'admin',
      params: idParams,
      query: noQuery,
      successStatus: 204,
      async handler(req) {
        await people().jobAssignments.remove(req.params.id!);
        return { status: 204 };
      },
    },
    {
      method: 'get',
      path: '/audiences',
      summary: 'List audiences (administrators): name prefix (q), type; sorted and paged',
      tags: ['audiences'],
      access: 'admin',
      params: noParams,
      query: queryParams({ ...cursorQuery(), ...sortQuery(AUDIENCE_ORDERS), q: nameSearch, type: { enum: ['static', 'dynamic'] } }),
      response: listResponse(audienceResponse),
      async handler(req) {
        const query = req.query as { sort?: string; q?: string; type?: AudienceType };
        const order = pickOrder(AUDIENCE_ORDERS, query.sort);
        const page = await people().audiences.list({ q: query.q, type: query.type }, order, pagePosition(order, req.query));
        // The rules in words, as every other audience response carries them (a few name reads per audience on the page).
        const described = await Promise.all(page.items.map(async (a) => audienceJson(a, await people().audiences.describe(a))));
        return { body: { items: described, nextCursor: page.nextCursor } };
      },
    },
    {
      method: 'post',
      path: '/audiences',
      summary: 'Create a static audience ({name}) or a dynamic one ({name, rules})',
      tags: ['audiences'],
      access: 'admin',
      params: noParams,
      query: noQuery,
      response: audienceResponse,
      body: audienceBody,
      successStatus: 201,
      async handler(req: ApiRequest<{ name: string; rules?: AudienceRuleNode[] }>) {
        const audience = await people().audiences.create(req.body);
        return { status: 201, body: audienceJson(audience, await people().audiences.describe(audience)) };
      },
    },
    {
      method: 'patch',
      path: '/audiences/:id',
      summary: "Rename an audience or replace a dynamic audience's rule tree (202: membership is recomputed by the returned job)",
      tags: ['audiences'],
      access: 'admin',
      params: idParams,
      query: noQuery,
      response: object({
        audience: audienceResponse,
        jobId: { type: ['integer', 'null'], description: 'people.audience_recompute job; its result is {added, removed}' },
      }),
      body: audiencePatchBody,
      async handler(req: ApiRequest<{ name?: string; rules?: AudienceRuleNode[] }>) {
        const { audience, jobId } = await people().audiences.update(req.params.id!, req.body);
        return { status: jobId === null ? 200 : 202, body: { audience: audienceJson(audience, await people().audiences.describe(audience)), jobId } };
      },
    },
    {
      method: 'post',
      path: '/audiences/count-matching',
      summary: "How many users a rule tree matches now (the rule editor's live count); changes nothing",
      tags: ['audiences'],
      access: 'admin',
      params: noParams,
      query: noQuery,
      response: object({ count: { type: 'integer', minimum: 0 } }),
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['rules'],
        properties: { rules: rulesSchema, audienceId: { ...id, description: 'The audience being edited (a rule may only name older audiences)' } },
      },
      async handler(req: ApiRequest<{ rules: AudienceRuleNode[]; audienceId?: number }>) {
        return { status: 200, body: { count: await people().audiences.countMatching(req.body.rules, req.body.audienceId ?? null) } };
      },
    },
    {
      method: 'get',
      path: '/audiences/:id',
      summary: 'Read an audience',
      tags: ['audiences'],
      access: 'admin',
      params: idParams,
      query: noQuery,
      response: audienceResponse,
      async handler(req) {
        const audience = await people().audiences.get(req.params.id!);
        return { body: audienceJson(audience, await people().audiences.describe(audience)) };
      },
    },
    {
      method: 'get',
      path: '/audiences/:id/members',
      summary: 'Members of an audience: name or username prefix (q); by user id or full name; paged',
      tags: ['audiences'],
      access: 'admin',
      params: idParams,
      query: queryParams({
        ...cursorQuery(),
        ...sortQuery(MEMBER_ORDERS),
        q: { ...nameSearch, description: 'Full names or usernames starting with this text, any case' },
      }),
      response: listResponse(
        object({ userId: id, username: { type: 'string' }, fullname: { type: 'string' }, source: { enum: ['manual', 'rules'] }, addedAt: dateTime }),
      ),
      async handler(req) {
        const query = req.query as { sort?: string; q?: string };
        const order = pickOrder(MEMBER_ORDERS, query.sort);
        const page = await people().audiences.members(req.params.id!, { q: query.q }, order, pagePosition(order, req.query));
        return { body: pageJson(page, (m) => ({ ...m, addedAt: iso(m.addedAt) })) };
      },
    },
    {
      method: 'put',
      path: '/audiences/:id/members/:userId',
      summary: 'Add a user to a static audience (idempotent; 409 on a dynamic audience)',
      tags: ['audiences'],
      access: 'admin',
      params: pathParams({ id: Id, userId: UserId }),
      query: noQuery,
      response: membershipResponse,
      async handler(req) {
        const audienceId = req.params.id!;
        const userId = req.params.userId!;
        const added = await people().audiences.addMember(audienceId, userId);
        return { status: 200, body: { audienceId, userId, member: true, changed: added } };
      },
    },
    {
      method: 'delete',
      path: '/audiences/:id/members/:userId',
      summary: 'Remove a user from a static audience (idempotent; 409 on a dynamic audience)',
      tags: ['audiences'],
      access: 'admin',
      params: pathParams({ id: Id, userId: UserId }),
      query: noQuery,
      response: membershipResponse,
      async handler(req) {
        const audienceId = req.params.id!;
        const userId = req.params.userId!;
        const removed = await people().audiences.removeMember(audienceId, userId);
        return { status: 200, body: { audienceId, userId, member: false, changed: removed } };
      },
    },
  ];
}
