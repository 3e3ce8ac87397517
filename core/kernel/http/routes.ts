import type { Writable } from 'node:stream';
import type { Request, RequestHandler, Response } from 'express';
import type { Logger } from '../logging';
import { noQuery, pathParams } from './contract';

import type { JsonSchema } from './json-schema';

export type { JsonSchema };

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** Who may call a route: anyone, any signed-in user, or a site administrator. */
export type RouteAccess = 'public' | 'user' | 'admin';

/** The caller, resolved from a bearer token (API) or a session (pages). */
export interface AuthUser {
  id: number;
  username: string;
  fullname: string;
  isAdmin: boolean;
  lang: string;
  timezone: string;
}

/**
 * What a request was authenticated with: the browser session it rode on, or the bearer token (by
 * id). Lets a credential change spare the credential that is making it.
 */
export type Credential = { kind: 'session'; sid: string } | { kind: 'token'; id: number };

/**
 * Path parameters after validation against the route's `params` schema: ids arrive as numbers,
 * other parameters as the types their schema declares.
 */
export type RouteParams = Readonly<Record<string, number>>;

export interface ApiRequest<Body = unknown, Params = RouteParams, Query = Record<string, unknown>> {
  /** Validated against the route's `params` schema (a mismatch is 404 before the handler runs). */
  params: Params;
  /** Validated against the route's `query` schema (unknown or invalid parameters are 400), defaults applied. */
  query: Query;
  /** Already validated against the route's `body` schema. */
  body: Body;
  /** null only on `public` routes. */
  user: AuthUser | null;
  /** The bearer token the caller used; null when anonymous. */
  credential: Credential | null;
  reqId: string;
  logger: Logger;
}

export interface ApiResponse {
  status?: number;
  body?: unknown;
  /**
   * A streamed body instead of JSON (a CSV export): the handler validates everything before it
   * returns, then `write` writes to the response, respecting backpressure. Errors after the first
   * byte end the connection (the status line is already sent).
   */
  stream?: StreamedBody;
}

export interface StreamedBody {
  contentType: string;
  /** Offered to the browser as the download's name (Content-Disposition: attachment). */
  filename?: string;
  write(out: Writable): Promise<unknown>;
}

/**
 * A REST route under `/api/v1`. The same schemas validate requests (Ajv) and describe the route
 * in `/api/v1/openapi.json`, so the document can never drift from what is enforced.
 */
export interface ApiRoute<Body = unknown, Params = RouteParams, Query = Record<string, unknown>> {
  method: HttpMethod;
  /** Express-style path below /api/v1, e.g. `/programs/:id`. */
  path: string;
  summary: string;
  tags?: string[];
  access: RouteAccess;
  /**
   * Path parameters as an object schema (see `pathParams()`); values are coerced from strings
   * strictly (plain decimal integers only) and anything that does not match is 404. Default: every
   * `:name` in the path is an id (positive integer).
   */
  params?: JsonSchema;
  /**
   * Query parameters as an object schema (see `queryParams()`); an unknown parameter or a value
   * outside its schema is 400. Default: no query parameters.
   */
  query?: JsonSchema;
  body?: JsonSchema;
  /**
   * Response body schema for the success status. Documented in the OpenAPI document and checked
   * against every response when the app runs with `validateResponses` (the test suites do).
   */
  response?: JsonSchema;
  /** Status code of a successful call; default 200. */
  successStatus?: number;
  handler(req: ApiRequest<Body, Params, Query>): Promise<ApiResponse> | ApiResponse;
}

/** A server-rendered page or form post; handlers use Express directly and render via res.locals.render. */
export interface PageRoute {
  method: HttpMethod;
  /** Express-style path, e.g. `/admin/plugins`. */
  path: string;
  access: RouteAccess;
  handler(req: Request, res: Response): Promise<void> | void;
}

/**
 * Express middleware that a feature places at a fixed point of the request pipeline:
 * - `early`: right after request ids, before security headers, body parsing and sessions: for a hot
 *   path that answers by itself when it can (the course launch fast path) and calls next() otherwise;
 * - `gate`: after sessions and CSRF, before page routes: for checks that guard several pages.
 */
export interface StageRoute {
  phase: 'early' | 'gate';
  method: 'get';
  path: string;
  handler: RequestHandler;
}

/** Where routes are declared; recorded against their owner (core, a module or a plugin id). */
export interface RouteRegistrar {
  api<Body = unknown, Params = RouteParams, Query = Record<string, unknown>>(route: ApiRoute<Body, Params, Query>): void;
  page(route: PageRoute): void;
  stage(route: StageRoute): void;
}

export interface OwnedApiRoute extends ApiRoute {
  owner: string;
}
export interface OwnedPageRoute extends PageRoute {
  owner: string;
}
export interface OwnedStageRoute extends StageRoute {
  owner: string;
}

/**
 * Every route of the site, by owner. The HTTP layer dispatches only to routes whose owner is
 * active, so disabling a plugin makes its routes 404 at once without rebuilding Express.
 */
export class RouteTable {
  private readonly apiRoutes: OwnedApiRoute[] = [];
  private readonly pageRoutes: OwnedPageRoute[] = [];
  private readonly stageRoutes: OwnedStageRoute[] = [];
  private version = 0;

  registrarFor(owner: string): RouteRegistrar {
    return {
      api: (route) => {
        const declared = route as unknown as ApiRoute;
        this.apiRoutes.push({ ...declared, owner, params: paramsSchemaOf(declared), query: querySchemaOf(declared) });
        this.version++;
      },
      page: (route) => {
        this.pageRoutes.push({ ...route, owner });
        this.version++;
      },
      stage: (route) => {
        this.stageRoutes.push({ ...route, owner });
        this.version++;
      },
    };
  }

  removeOwner(owner: string): void {
    for (const list of [this.apiRoutes, this.pageRoutes, this.stageRoutes] as Array<Array<{ owner: string }>>) {
      for (let i = list.length - 1; i >= 0; i--) if (list[i]!.owner === owner) list.splice(i, 1);
    }
    this.version++;
  }

  api(): readonly OwnedApiRoute[] {
    return this.apiRoutes;
  }
  pages(): readonly OwnedPageRoute[] {
    return this.pageRoutes;
  }
  stages(phase: StageRoute['phase']): readonly OwnedStageRoute[] {
    return this.stageRoutes.filter((r) => r.phase === phase);
  }
  /** Bumped on every change, so the HTTP layer knows when to rebuild its dispatch router. */
  get revision(): number {
    return this.version;
  }
}

/** A route's `params` schema: the declared one, or by default every `:name` in its path is an id. */
export function paramsSchemaOf(route: Pick<ApiRoute, 'path' | 'params'>): JsonSchema {
  return route.params ?? pathParams([...route.path.matchAll(/:([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]!));
}

/** A route's `query` schema: the declared one, or by default no query parameters at all. */
export function querySchemaOf(route: Pick<ApiRoute, 'query'>): JsonSchema {
  return route.query ?? noQuery;
}

export type { RequestHandler };
