import type { KernelCore as Kernel } from '../parts';
import type { ApiRequest, ApiRoute, AuthUser, JsonSchema } from '../http/routes';
import { component, dateTime, nullableDateTime, noQuery, object, pathParams, queryParams, UserId } from '../http/contract';
import { cursorQuery, listResponse, pagePosition } from '../http/paging';
import { forbidden, notFound } from '../errors';
import { kernelServices } from '../features/kernel-services';
import { isoOrNull } from '../db/values';
import { apiTokensPage, findApiToken, issueApiToken, parseTokenExpiry, revokeApiTokenById, TOKENS_NEWEST, type ApiTokenInfo } from './tokens';

const tokenSchema: JsonSchema = component('ApiToken', {
  type: 'object',
  required: ['id', 'userId', 'name', 'createdAt', 'lastUsedAt', 'expiresAt', 'expired'],
  additionalProperties: false,
  properties: {
    id: { type: 'integer' },
    userId: { type: 'integer' },
    name: { type: 'string' },
    createdAt: dateTime,
    lastUsedAt: { ...nullableDateTime, description: 'To the minute; null when never used' },
    expiresAt: { ...nullableDateTime, description: 'null: until revoked' },
    expired: { type: 'boolean' },
  },
});

const newTokenSchema: JsonSchema = object({ token: { type: 'string', description: 'Shown this once' }, info: tokenSchema });

const createBody: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 100 },
    expires: {
      type: 'string',
      minLength: 1,
      maxLength: 64,
      description: 'ISO-8601 duration from now (P90D), a date (end of that day, UTC) or a date-time with an offset',
    },
  },
};

function tokenJson(token: ApiTokenInfo, now: number) {
  return {
    id: token.id,
    userId: token.userId,
    name: token.name,
    createdAt: new Date(token.createdAt).toISOString(),
    lastUsedAt: isoOrNull(token.lastUsedAt),
    expiresAt: isoOrNull(token.expiresAt),
    expired: token.expiresAt !== null && token.expiresAt <= now,
  };
}

/** Administrators act on anyone's tokens; anyone else only on their own. */
function mayManage(user: AuthUser | null, userId: number): void {
  if (!user?.isAdmin && user?.id !== userId) throw forbidden('You may only manage your own API tokens');
}

/** 404 unless the user exists; users are people's, asked through the kernel's identity port. */
async function userExists(site: Kernel, userId: number): Promise<void> {
  const { identity } = site.registry.resolve('core', { identity: kernelServices.identity });
  if (!(await identity.exists(userId))) throw notFound('User', userId);
}

/** REST routes for API tokens: the kernel owns `api_tokens`. */
export function registerTokenRoutes(site: Kernel): void {
  const registrar = site.routes.registrarFor('core');
  for (const route of tokenRoutes(site)) registrar.api(route);
}

function tokenRoutes(site: Kernel): ApiRoute[] {
  const userParams = pathParams({ id: UserId });
  const list: ApiRoute = {
    method: 'get',
    path: '/users/:id/tokens',
    summary: "A user's API tokens, newest first: name, created, last used, expiry (administrators, or the user themself)",
    tags: ['tokens'],
    access: 'user',
    params: userParams,
    query: queryParams(cursorQuery(50)),
    response: listResponse(tokenSchema),
    async handler(req) {
      const userId = req.params.id!;
      mayManage(req.user, userId);
      await userExists(site, userId);
      const now = site.db.now();
      const page = await apiTokensPage(site.db, userId, pagePosition(TOKENS_NEWEST, req.query, 50));
      return { body: { items: page.items.map((t) => tokenJson(t, now)), nextCursor: page.nextCursor } };
    },
  };
  const create: ApiRoute<{ name?: string; expires?: string }> = {
    method: 'post',
    path: '/users/:id/tokens',
    summary: 'Create an API token for a user, optionally expiring; the token is in the answer only (administrators, or the user themself)',
    tags: ['tokens'],
    access: 'user',
    params: userParams,
    query: noQuery,
    body: createBody,
    response: newTokenSchema,
    successStatus: 201,
    async handler(req: ApiRequest<{ name?: string; expires?: string }>) {
      const userId = req.params.id!;
      mayManage(req.user, userId);
      const now = site.db.now();
      const expiresAt = req.body.expires === undefined ? null : parseTokenExpiry(req.body.expires, now, site.config.timezone);
      await userExists(site, userId);
      const { token, info } = await issueApiToken(site.db, userId, { name: req.body.name ?? 'api', expiresAt });
      return { status: 201, body: { token, info: tokenJson(info, now) } };
    },
  };
  const revoke: ApiRoute = {
    method: 'delete',
    path: '/tokens/:id',
    summary: 'Revoke an API token (administrators, or the user it belongs to)',
    tags: ['tokens'],
    access: 'user',
    query: noQuery,
    successStatus: 204,
    async handler(req) {
      const token = await findApiToken(site.db, req.params.id!);
      if (!token) throw notFound('Token', req.params.id);
      mayManage(req.user, token.userId);
      await revokeApiTokenById(site.db, token.id);
      return { status: 204 };
    },
  };
  return [list, create, revoke];
}
