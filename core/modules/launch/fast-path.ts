import { LAUNCH_EXTRA_COLUMNS } from './store/lookups';
import type { RequestHandler } from 'express';
import { parse as parseCookies } from 'cookie';
import { unsign } from 'cookie-signature';
import { SESSION_COOKIE } from '../../kernel/auth/sessions';
import { parseId } from '../../kernel/http/contract';
import { checkCourseLaunch } from './guard';
import type { LaunchContext } from './context';

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

/**
 * GET /courses/:id/launch for a signed-in learner whom the guard chain lets in, answered before the
 * page stack (body parsers, express-session's load/save cycle, CSRF, page routing) that a bodiless
 * redirect does not need. It is the hottest learner route; everything else (anonymous visitors,
 * admins, refusals with their reasons page, a bad cookie) falls through to the full route, which
 * behaves exactly as before. Security is unchanged: the same signed cookie (parsed and verified by
 * `cookie` and `cookie-signature`, as express-session does), the same session expiry and
 * active-user checks, the same guard chain, the same security headers.
 */
export function createLaunchFastPath(context: LaunchContext): RequestHandler {
  const store = context.sessions.store;
  const secret = context.sessions.secret;
  // Whether the learner already holds an active enrolment, and whether the course is visible (a
  // hidden one is refused to a learner it is not linked to), read with the session and the user.
  const activeLearner = store.activeUserLookup<{ enrolled: number | null; visible: number | boolean | null }>(LAUNCH_EXTRA_COLUMNS);
  const cookies = new VerifiedSessionCookies();
  return (req, res, next) => {
    const courseId = parseId(req.params.id);
    if (courseId === null || !req.headers.cookie) return next();
    const known = secret.current();
    if (known === undefined) {
      // The stored secret is read once per process; the first launch takes the full route meanwhile.
      secret.get().catch(() => undefined);
      return next();
    }
    const sid = cookies.sessionId(req.headers.cookie, known);
    if (sid === null) return next();
    activeLearner(sid, [courseId, courseId])
      .then(async (learner) => {
        if (!learner || learner.user.isAdmin) return next();
        const visible = learner.extra.visible;
        const outcome = await checkCourseLaunch(context, learner.user.id, courseId, {
          enrolled: learner.extra.enrolled !== null,
          // Null: no such course; the guard then decides as on the full route.
          ...(visible === null ? {} : { visible: visible === true || Number(visible) === 1 }),
        });
        if (!outcome.allowed) return next();
        await store.slideExpiry(sid);
        // Helmet ran before the early stages, so this bodiless redirect carries the security headers too.
        res
          .status(302)
          .set({ Location: `/courses/${courseId}`, 'Cache-Control': 'no-store' })
          .end();
      })
      .catch(next);
  };
}
