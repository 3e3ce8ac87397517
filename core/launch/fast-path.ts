import type { RequestHandler } from 'express';
import { parse as parseCookies } from 'cookie';
import { unsign } from 'cookie-signature';
import type { Site } from '../site';
import { SESSION_COOKIE, sessionStoreFor } from '../auth/sessions';
import { SessionSecret } from '../auth/session-secret';
import { checkCourseLaunch } from './guard';
import { routeId } from './pages';

const VERIFIED_LIMIT = 10_000;

/**
 * Session cookie values whose signature verified, so a learner's next launches skip the HMAC. Owned
 * by one fast path (one app, one secret). Invalidation: none is needed, because an entry is a pure
 * fact (this value carries a valid signature under this secret) and the session behind it is still
 * checked in the database on every launch; the map is bounded and emptied when full.
 */
export class VerifiedSessionCookies {
  private readonly verified = new Map<string, string>();

  constructor(private readonly limit = VERIFIED_LIMIT) {}

  /**
   * The session id in a signed express-session cookie header (`s:<sid>.<signature>`), or null when
   * the cookie is missing or its signature does not verify under `secret`.
   */
  sessionId(cookieHeader: string | undefined, secret: string): string | null {
    if (!cookieHeader) return null;
    const value = parseCookies(cookieHeader)[SESSION_COOKIE];
    if (!value || !value.startsWith('s:')) return null;
    const hit = this.verified.get(value);
    if (hit !== undefined) return hit;
    const sid = unsign(value.slice(2), secret);
    if (sid === false) return null;
    // Only values that verified are remembered, so a lookup can never accept a forged one.
    if (this.verified.size >= this.limit) this.verified.clear();
    this.verified.set(value, sid);
    return sid;
  }
}

export interface LaunchFastPathOptions {
  /** The app's session-signing secret (the one its session middleware uses). */
  secret?: SessionSecret;
  /** The security headers every page gets (helmet), sent on the fast path's redirect too. */
  securityHeaders?: RequestHandler;
}

/**
 * GET /courses/:id/launch for a signed-in learner whom the guard chain lets in, answered before the
 * page stack (body parsers, express-session's load/save cycle, CSRF, page routing) that a bodiless
 * redirect does not need. It is the hottest learner route; everything else (anonymous visitors,
 * admins, refusals with their reasons page, a bad cookie) falls through to the full route, which
 * behaves exactly as before. Security is unchanged: the same signed cookie (parsed and verified by
 * `cookie` and `cookie-signature`, as express-session does), the same session expiry and
 * active-user checks, the same guard chain, the same security headers.
 */
export function createLaunchFastPath(site: Site, options: LaunchFastPathOptions = {}): RequestHandler {
  const store = sessionStoreFor(site);
  const secret = options.secret ?? new SessionSecret(site.db, site.config.sessionSecret);
  const cookies = new VerifiedSessionCookies();
  const headers: RequestHandler = options.securityHeaders ?? ((_req, _res, next) => next());
  return (req, res, next) => {
    const courseId = routeId(req.params.id);
    if (courseId === null || !req.headers.cookie) return next();
    const known = secret.current();
    if (known === undefined) {
      // The stored secret is read once per app; the first launch takes the full route meanwhile.
      secret.get().catch(() => undefined);
      return next();
    }
    const sid = cookies.sessionId(req.headers.cookie, known);
    if (sid === null) return next();
    store
      .activeLearner(sid, courseId)
      .then(async (learner) => {
        if (!learner || learner.user.isAdmin) return next();
        const outcome = await checkCourseLaunch(site, learner.user.id, courseId, { enrolled: learner.enrolled });
        if (!outcome.allowed) return next();
        await store.slideExpiry(sid);
        headers(req, res, (error?: unknown) => {
          if (error) return next(error);
          res.status(302).set({ Location: `/courses/${courseId}`, 'Cache-Control': 'no-store' }).end();
        });
      })
      .catch(next);
  };
}
