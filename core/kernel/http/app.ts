import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import express, { type ErrorRequestHandler, type NextFunction, type Request, type RequestHandler, type Response, type Router } from 'express';
import helmet from 'helmet';
import type { KernelCore as Kernel } from '../parts';
import { projectRoot } from '../config';
import { WaymarkError, notFound, type ErrorDetail } from '../errors';
import { resolveApiToken } from '../auth/tokens';
import { kernelServices } from '../features/kernel-services';
import {
  paramsSchemaOf,
  querySchemaOf,
  type AuthUser,
  type OwnedApiRoute,
  type OwnedPageRoute,
  type RouteAccess,
  type RouteParams,
  type StreamedBody,
} from './routes';
import { noQuery, resolveMe } from './contract';
import { ERROR_SCHEMA, buildOpenApiDocument } from './openapi';
import {
  createBodyValidator,
  createRequestValidator,
  createResponseChecker,
  type BodyValidator,
  type RequestValidator,
  type ResponseChecker,
} from './validation';
import { boundBodies, boundUrls } from './input-limits';
import { createSessionMiddleware } from '../auth/sessions';
import { createCsrfMiddleware } from '../auth/csrf';
import { createAuthRouter, loginRedirectFor } from '../auth/login';

export { renderPage } from './render-page';
import { renderPage } from './render-page';

/** The most fields one form post may have (body-parser's default is 1,000; a 10,000-set program form has ~100,000). */
export const FORM_FIELD_LIMIT = 250_000;

export interface AppOptions {
  /** Largest accepted JSON request body; default `1mb`. */
  bodyLimit?: string;
  /**
   * Largest accepted form (urlencoded) body; default `4mb`, with up to `FORM_FIELD_LIMIT` fields.
   * A form must carry back anything the API accepted in a JSON body (the program form at 10,000
   * course sets), and urlencoding costs up to about 3.5 times the bytes of JSON.
   */
  formBodyLimit?: string;
  /**
   * Check every API response body against the matched route's declared schema (errors against the
   * error shape). A mismatch becomes a 500 RESPONSE_SCHEMA_MISMATCH naming the route and the schema
   * path, so a test that meets it fails loudly. Default: on when WAYMARK_VALIDATE_RESPONSES=1 (the
   * test suites set it), off in production.
   */
  validateResponses?: boolean;
}

const API_BASE = '/api/v1';
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const THEME_NAME = /^[a-z][a-z0-9_-]*$/;

const packageVersion = (() => {
  try {
    return (JSON.parse(fs.readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as { version?: string }).version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
})();

const unauthenticated = (message = 'A valid bearer token is required'): WaymarkError => new WaymarkError('UNAUTHENTICATED', message, 401);

/**
 * True for requests the JSON error format applies to: anything below `/api` in any letter case. The
 * API itself only answers the exact lower-case prefix, so `/API/v1/...` is a JSON 404.
 */
function isApiRequest(req: Request): boolean {
  return /^\/api(?:[/?]|$)/i.test(req.originalUrl);
}

/**
 * The user named by an `Authorization: Bearer` header; null when there is no header. A header that
 * is present but wrong is an error, so a client with a revoked token hears about it even on a
 * public route instead of silently acting anonymously.
 */
export async function resolveBearerUser(site: Kernel, req: Request): Promise<AuthUser | null> {
  return (await resolveBearer(site, req))?.user ?? null;
}

async function resolveBearer(site: Kernel, req: Request): Promise<{ user: AuthUser; tokenId: number } | null> {
  const header = req.get('authorization');
  if (!header) return null;
  const match = /^Bearer[ ]+([^\s]+)[ ]*$/i.exec(header);
  if (!match) throw unauthenticated('The Authorization header must be "Bearer <token>"');
  const { identity } = site.registry.resolve('core', { identity: kernelServices.identity });
  const resolved = await resolveApiToken(site.db, identity.usersView, match[1]!);
  if (!resolved) throw unauthenticated('The bearer token is invalid, expired, revoked, or belongs to a suspended user');
  return resolved;
}

/**
 * Who is looking at a page: the signed-in user of the session cookie, or (for scripts and tests)
 * the same bearer token as the API. A bad token just means "anonymous".
 */
export async function resolvePageUser(site: Kernel, req: Request): Promise<AuthUser | null> {
  if (req.get('authorization')) {
    try {
      return await resolveBearerUser(site, req);
    } catch (error) {
      if (error instanceof WaymarkError && error.status === 401) return null;
      throw error;
    }
  }
  return site.sessions.userOf(req);
}

/**
 * A browser (it asks for HTML) sent to a page it must sign in for: send it to the login page and
 * back afterwards. Other clients keep getting a plain 401.
 */
export function wantsLoginRedirect(req: Request): boolean {
  return (req.method === 'GET' || req.method === 'HEAD') && (req.get('accept') ?? '').includes('text/html');
}

function checkAccess(access: RouteAccess, user: AuthUser | null): void {
  if (access === 'public') return;
  if (!user) throw unauthenticated();
  if (access === 'admin' && !user.isAdmin) throw new WaymarkError('FORBIDDEN', 'This needs the site administrator capability', 403);
}

/** Rebuilds an express Router whenever the route table changes; requests use the router current when they arrive. */
function dynamicRouter(site: Kernel, build: () => Router): RequestHandler {
  let revision = -1;
  let router: Router = express.Router();
  return (req, res, next) => {
    if (site.routes.revision !== revision) {
      router = build();
      revision = site.routes.revision;
    }
    router(req, res, next);
  };
}

/** The features' middleware for one phase of the pipeline, in registration order (see StageRoute). */
function stageRouter(site: Kernel, phase: 'early' | 'gate'): RequestHandler {
  return dynamicRouter(site, () => {
    const router = express.Router();
    for (const route of site.routes.stages(phase)) mount(site, router, route, route.handler);
    return router;
  });
}

function mount(site: Kernel, router: Router, route: { method: string; path: string; owner: string }, handler: RequestHandler): void {
  try {
    router[route.method as 'get'](route.path, handler);
  } catch (error) {
    // One bad path must not take every other route down with it.
    site.logger.error('route path is invalid; route skipped', { owner: route.owner, method: route.method, path: route.path, error: (error as Error).message });
  }
}

interface ApiValidators {
  body: BodyValidator;
  request: RequestValidator;
  responses: ResponseChecker | null;
}

/** The 500 a response that does not match its declared schema becomes under `validateResponses`. */
function responseMismatch(route: string, status: number, mismatches: ReturnType<ResponseChecker['check']>): WaymarkError {
  return new WaymarkError(
    'RESPONSE_SCHEMA_MISMATCH',
    `The ${status} response of ${route} does not match its declared schema: ${mismatches.map((m) => `${m.path} ${m.message} (schema ${m.schemaPath})`).join('; ')}`,
    500,
    mismatches.map((m) => ({ path: m.path, code: m.schemaPath, message: m.message })),
  );
}

function apiHandler(site: Kernel, route: OwnedApiRoute, validators: ApiValidators): RequestHandler {
  const name = `${route.method.toUpperCase()} ${API_BASE}${route.path}`;
  const paramsSchema = paramsSchemaOf(route);
  const querySchema = querySchemaOf(route);
  return async (req, res, next) => {
    try {
      const bearer = await resolveBearer(site, req);
      const user = bearer?.user ?? null;
      checkAccess(route.access, user);
      const params = validators.request.params(paramsSchema, resolveMe(paramsSchema, req.params as Record<string, string>, user?.id ?? null));
      const query = validators.request.query(querySchema, req.query as Record<string, unknown>);
      const body = route.body ? validators.body.validate(route.body, req.body) : req.body;
      const result = await route.handler({
        params: params as RouteParams,
        query,
        body,
        user,
        credential: bearer ? { kind: 'token', id: bearer.tokenId } : null,
        reqId: req.reqId,
        logger: req.logger,
      });
      const status = result?.status ?? route.successStatus ?? 200;
      if (result?.stream) {
        await sendStream(res, status, result.stream, req.logger);
        return;
      }
      if (validators.responses && status !== 204) {
        const mismatches = route.response
          ? validators.responses.check(name, status, route.response, result?.body)
          : [{ route: name, status, path: '/', schemaPath: '#', message: 'the route declares no response schema' }];
        if (mismatches.length) {
          const error = responseMismatch(name, status, mismatches);
          // Also on stderr: a test that only reports "expected 200, got 500" still shows why.
          process.emitWarning(error.message, 'ResponseSchemaMismatch');
          throw error;
        }
      }
      if (result?.body === undefined) res.status(status).end();
      else res.status(status).json(result.body);
    } catch (error) {
      next(error);
    }
  };
}

/** Sends a streamed body; once bytes are out an error can only cut the connection (and is logged). */
async function sendStream(res: Response, status: number, stream: StreamedBody, logger: { error(message: string, meta?: object): void }): Promise<void> {
  res.status(status).setHeader('Content-Type', stream.contentType);
  if (stream.filename) res.setHeader('Content-Disposition', `attachment; filename="${stream.filename.replace(/[^A-Za-z0-9._-]/g, '_')}"`);
  res.setHeader('Cache-Control', 'no-store');
  try {
    await stream.write(res);
  } catch (error) {
    logger.error('streamed response failed', { error: (error as Error).message });
    if (!res.headersSent) throw error;
    res.destroy(error as Error);
  }
}

function pageHandler(site: Kernel, route: OwnedPageRoute): RequestHandler {
  return async (req, res, next) => {
    try {
      req.user = await resolvePageUser(site, req);
      if (!req.user && route.access !== 'public' && wantsLoginRedirect(req)) {
        res.redirect(302, loginRedirectFor(req));
        return;
      }
      checkAccess(route.access, req.user);
      await route.handler(req, res);
    } catch (error) {
      next(error);
    }
  };
}

/** Turns anything thrown into a WaymarkError, keeping 4xx errors from Express's own middleware. */
function toWaymarkError(error: unknown): WaymarkError | null {
  if (error instanceof WaymarkError) return error;
  const e = error as { type?: string; status?: number; statusCode?: number; expose?: boolean; message?: string } | null;
  if (e?.type === 'entity.parse.failed') return new WaymarkError('MALFORMED_JSON', `The request body is not valid JSON: ${e.message ?? ''}`.trim(), 400);
  if (e?.type === 'entity.too.large') return Object.assign(new WaymarkError('PAYLOAD_TOO_LARGE', 'The request body is too large', 400), { httpStatus: 413 });
  const status = e?.status ?? e?.statusCode;
  if (e?.expose && typeof status === 'number' && status >= 400 && status < 500) {
    return Object.assign(new WaymarkError('BAD_REQUEST', e.message ?? 'Bad request', 400), { httpStatus: status });
  }
  return null;
}

/**
 * The HTTP app: request ids, security headers, JSON bodies, health check, OpenAPI, the API and
 * page dispatchers (always reading the current route table), theme assets and one error handler.
 * It does not listen; the serve command and tests decide how to run it.
 */
export function createApp(site: Kernel, options: AppOptions = {}): express.Express {
  const app = express();
  const validateResponses = options.validateResponses ?? process.env.WAYMARK_VALIDATE_RESPONSES === '1';
  const validators: ApiValidators = {
    body: createBodyValidator(site.logger),
    request: createRequestValidator(site.logger),
    responses: validateResponses ? createResponseChecker() : null,
  };
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');

  app.use((req, res, next) => {
    const incoming = req.get('x-request-id');
    req.reqId = incoming && REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
    req.logger = site.logger.child({ reqId: req.reqId });
    res.setHeader('X-Request-Id', req.reqId);
    res.locals.render = (view, data, renderOptions) => renderPage(site, req, res, view, data, renderOptions);
    // Winston pushes even filtered-out lines through its stream pipeline; at `info` (the default)
    // skipping the disabled `http` line keeps that cost off every request.
    if (site.logger.isLevelEnabled('http')) {
      const started = process.hrtime.bigint();
      res.on('finish', () => {
        req.logger.http('request', { method: req.method, path: req.originalUrl, status: res.statusCode, ms: Number(process.hrtime.bigint() - started) / 1e6 });
      });
    }
    next();
  });
  app.use(boundUrls());
  // One set of security headers for every response, the launch fast path's redirects included.
  app.use(helmet({ contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } }));
  app.use(stageRouter(site, 'early'));
  const limit = options.bodyLimit ?? '1mb';
  app.use(express.json({ limit, type: ['application/json', 'application/*+json'] }));
  app.use(express.urlencoded({ extended: false, limit: options.formBodyLimit ?? '4mb', parameterLimit: FORM_FIELD_LIMIT }));
  app.use(boundBodies());

  app.get('/healthz', async (req, res) => {
    try {
      await site.db.knex.raw('select 1');
      res.json({ status: 'ok' });
    } catch (error) {
      req.logger.error('health check: database unreachable', { error: (error as Error).message });
      res.status(503).json({ status: 'unavailable', error: { code: 'DATABASE_UNAVAILABLE', message: 'The database is not reachable' } });
    }
  });

  // The API prefix is case-sensitive (Express matches case-insensitively by default): `/API/v1/...`
  // is not the API, and falls through to the JSON 404 below.
  const exactApiPrefix = (req: Request): boolean => req.originalUrl.startsWith(`${API_BASE}/`) || req.originalUrl.startsWith(`${API_BASE}?`);
  app.get(`${API_BASE}/openapi.json`, (req, res, next) => {
    if (!exactApiPrefix(req)) return next();
    try {
      validators.request.query(noQuery, req.query as Record<string, unknown>);
    } catch (error) {
      return next(error);
    }
    res.json(buildOpenApiDocument(site.routes.api(), { version: packageVersion, basePath: API_BASE }));
  });

  const apiDispatch = dynamicRouter(site, () => {
    const router = express.Router({ caseSensitive: true });
    for (const route of site.routes.api()) mount(site, router, route, apiHandler(site, route, validators));
    return router;
  });
  app.use(API_BASE, (req, res, next) => (exactApiPrefix(req) ? apiDispatch(req, res, next) : next()));
  app.use('/api', (req, _res, next) => next(new WaymarkError('NOT_FOUND', `No API route ${req.method} ${req.originalUrl.split('?')[0]}`, 404)));

  app.use(
    '/theme/:name',
    (() => {
      const statics = new Map<string, RequestHandler>();
      const serve = (dir: string): RequestHandler => {
        let handler = statics.get(dir);
        if (!handler) {
          handler = express.static(dir, { fallthrough: true, index: false, maxAge: '1h' });
          statics.set(dir, handler);
        }
        return handler;
      };
      return (req: Request, res: Response, next: NextFunction) => {
        const name = String(req.params.name);
        if (!THEME_NAME.test(name)) return next();
        const dirs = [path.join(site.config.themesDir, name, 'assets'), path.join(site.config.themesDir, 'default', 'assets')];
        // Theme assets first, then the default theme's, as with templates.
        serve(dirs[0]!)(req, res, (err?: unknown) => (err ? next(err) : serve(dirs[1]!)(req, res, next)));
      };
    })(),
  );

  // Pages only: the API authenticates with bearer tokens and never reads or writes a session.
  app.use(createSessionMiddleware(site));
  app.use(createCsrfMiddleware());
  app.use(createAuthRouter(site));
  app.use(stageRouter(site, 'gate'));

  app.use(
    dynamicRouter(site, () => {
      const router = express.Router();
      for (const route of site.routes.pages()) mount(site, router, route, pageHandler(site, route));
      return router;
    }),
  );

  app.use((req, _res, next) => next(notFound('Page', req.path)));

  const errorHandler: ErrorRequestHandler = (error: unknown, req, res, next) => {
    if (res.headersSent) return next(error);
    const logger = req.logger ?? site.logger;
    const known = toWaymarkError(error);
    let status: number;
    let body: { error: { code: string; message: string; details: ErrorDetail[]; requestId?: string } };
    if (known && known.status < 500) {
      status = (known as WaymarkError & { httpStatus?: number }).httpStatus ?? known.status;
      body = known.toJSON();
    } else {
      const e = error as Error;
      logger.error('request failed', { method: req.method, path: req.originalUrl, error: e?.message, stack: e?.stack, code: known?.code });
      status = known?.status ?? 500;
      // Internal details stay in the log; the client gets the id to quote when reporting it.
      body = known
        ? { error: { ...known.toJSON().error, requestId: req.reqId } }
        : { error: { code: 'INTERNAL', message: `Internal error; quote request id ${req.reqId} when reporting it`, details: [], requestId: req.reqId } };
    }
    if (status === 401) res.setHeader('WWW-Authenticate', 'Bearer');
    if (isApiRequest(req)) {
      if (validators.responses) {
        const mismatches = validators.responses.check(`${req.method} ${req.originalUrl.split('?')[0]}`, status, ERROR_SCHEMA, body);
        if (mismatches.length) {
          const mismatch = responseMismatch(`the error response to ${req.method} ${req.originalUrl.split('?')[0]}`, status, mismatches);
          process.emitWarning(mismatch.message, 'ResponseSchemaMismatch');
          res.status(500).json(mismatch.toJSON());
          return;
        }
      }
      res.status(status).json(body);
      return;
    }
    try {
      renderPage(
        site,
        req,
        res,
        'error',
        { title: body.error.message, status, code: body.error.code, message: body.error.message, details: body.error.details },
        { status },
      );
    } catch (renderError) {
      logger.error('error page failed to render', { error: (renderError as Error).message });
      res
        .status(status)
        .type('html')
        .send(`<!doctype html><html lang="en"><title>Error ${status}</title><h1>Error ${status}</h1><p>${escapeHtml(body.error.message)}</p>`);
    }
  };
  app.use(errorHandler);
  return app;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
