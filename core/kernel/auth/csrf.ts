import { csrfSync } from 'csrf-sync';
import type { Request, RequestHandler } from 'express';
import { WaymarkError } from '../errors';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Locals {
      /** The CSRF token for forms on this page: `<input type="hidden" name="_csrf" value="{{csrfToken}}">`. */
      csrfToken?: LazyCsrfToken;
    }
  }
}

/** Form field that carries the token (`<input type="hidden" name="_csrf" value="{{csrfToken}}">`). */
export const CSRF_FIELD = '_csrf';
/** Header that carries the token for scripted (fetch) form posts. */
export const CSRF_HEADER = 'x-csrf-token';

const csrf = csrfSync({
  getTokenFromRequest: (req) => {
    const body = req.body as Record<string, unknown> | undefined;
    const fromBody = body && typeof body[CSRF_FIELD] === 'string' ? (body[CSRF_FIELD] as string) : undefined;
    const header = req.headers[CSRF_HEADER];
    return fromBody ?? (typeof header === 'string' ? header : undefined);
  },
  // The REST API authenticates with bearer tokens, never cookies, so a forged cross-site request has nothing to ride on.
  skipCsrfProtection: (req) => req.originalUrl.startsWith('/api/'),
});

/** The error every page form post without a valid token gets (rendered as the 403 page). */
export const csrfInvalid = (): WaymarkError =>
  new WaymarkError('CSRF_INVALID', 'This form has expired or did not come from this site. Go back, reload the page and try again.', 403);

/**
 * Synchroniser-token CSRF protection (csrf-sync) for every state-changing request outside the
 * API: POST, PUT, PATCH and DELETE need the session's token in the `_csrf` field or the
 * `X-CSRF-Token` header, or they are refused with 403 CSRF_INVALID before any handler runs.
 * Must run after the session middleware and the body parsers.
 */
export function createCsrfMiddleware(): RequestHandler {
  return (req, res, next) => {
    csrf.csrfSynchronisedProtection(req, res, (error?: unknown) => {
      if (error) return next(csrfInvalid());
      res.locals.csrfToken = csrfTokenFor(req);
      next();
    });
  };
}

/**
 * A value that renders as the request's CSRF token. It is created only when a template prints it:
 * a page without a form then stores nothing in the session, so anonymous visitors cost no write.
 */
export interface LazyCsrfToken {
  toString(): string;
}

export function csrfTokenFor(req: Request): LazyCsrfToken {
  let token: string | undefined;
  return {
    toString: () => (token ??= req.session ? csrf.generateToken(req) : ''),
    // Handlebars escapes by calling toString on objects; toJSON keeps JSON views honest too.
    toJSON: () => (token ??= req.session ? csrf.generateToken(req) : ''),
  } as LazyCsrfToken;
}

/** A new token for the session (after login, so a token seen before signing in cannot be replayed). */
export function rotateCsrfToken(req: Request): string {
  return csrf.generateToken(req, true);
}
