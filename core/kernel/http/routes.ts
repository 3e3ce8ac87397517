import type { Request, RequestHandler, Response } from 'express';
import type { Logger } from '../logging';

/** A JSON Schema object (draft 2020-12 subset that Ajv and OpenAPI 3.1 share). */
export type JsonSchema = Record<string, unknown>;

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

export interface ApiRequest<Body = unknown> {
  params: Record<string, string>;
  query: Record<string, unknown>;
  /** Already validated against the route's `body` schema. */
  body: Body;
  /** null only on `public` routes. */
  user: AuthUser | null;
  reqId: string;
  logger: Logger;
}

export interface ApiResponse {
  status?: number;
  body?: unknown;
}

/**
 * A REST route under `/api/v1`. The same schemas validate requests (Ajv) and describe the route
 * in `/api/v1/openapi.json`, so the document can never drift from what is enforced.
 */
export interface ApiRoute<Body = unknown> {
  method: HttpMethod;
  /** Express-style path below /api/v1, e.g. `/programs/:id`. */
  path: string;
  summary: string;
  tags?: string[];
  access: RouteAccess;
  body?: JsonSchema;
  /** Response body schema for status 200/201 (documentation). */
  response?: JsonSchema;
  /** Status code of a successful call; default 200. */
  successStatus?: number;
  handler(req: ApiRequest<Body>): Promise<ApiResponse> | ApiResponse;
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
  api<Body = unknown>(route: ApiRoute<Body>): void;
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
        this.apiRoutes.push({ ...(route as ApiRoute), owner });
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

export type { RequestHandler };
