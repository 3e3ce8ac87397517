import crypto from 'node:crypto';
import type { RequestHandler } from 'express';
import type { LaunchSite } from './site';
import { SESSION_COOKIE } from '../../kernel/auth/sessions';
import { checkCourseLaunch } from './guard';
import { parseId } from '../../kernel/http/contract';

/** Cookie values whose signature verified, per secret: a learner's next launches skip the HMAC. */
const verified = new Map<string, Map<string, string>>();
const VERIFIED_LIMIT = 10_000;

/**
 * The session id in a signed express-session cookie (`s:<sid>.<HMAC-SHA256, base64 without padding>`),
 * or null when the cookie is missing or its signature does not verify.
 */
export function signedSessionId(cookieHeader: string | undefined, secret: string): string | null {
  if (!cookieHeader) return null;
  const prefix = `${SESSION_COOKIE}=`;
  const raw = cookieHeader.split(';').map((part) => part.trim()).find((part) => part.startsWith(prefix));
  if (!raw) return null;
  let value: string;
  try {
    value = decodeURIComponent(raw.slice(prefix.length));
  } catch {
    return null;
  }
  if (!value.startsWith('s:')) return null;
  let known = verified.get(secret);
  const hit = known?.get(value);
  if (hit !== undefined) return hit;
  const dot = value.lastIndexOf('.');
  if (dot < 3) return null;
  const sid = value.slice(2, dot);
  const given = Buffer.from(value.slice(dot + 1));
  const expected = Buffer.from(crypto.createHmac('sha256', secret).update(sid).digest('base64').replace(/=+$/, ''));
  if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) return null;
  // Only values that verified are remembered, so a lookup can never accept a forged one.
  if (!known) verified.set(secret, (known = new Map()));
  if (known.size >= VERIFIED_LIMIT) known.clear();
  known.set(value, sid);
  return sid;
}

/**
 * GET /courses/:id/launch for a signed-in learner whom the guard chain lets in, answered before the
 * page stack (helmet's HTML headers, express-session's load/save cycle, CSRF, page routing) that a
 * bodiless redirect does not need. It is the hottest learner route; everything else (anonymous
 * visitors, admins, refusals with their reasons page, a bad cookie) falls through to the full route,
 * which behaves exactly as before. Security is unchanged: the same signed cookie, the same session
 * expiry and active-user checks, the same guard chain.
 */
export function createLaunchFastPath(site: LaunchSite): RequestHandler {
  const store = site.sessions.store;
  return (req, res, next) => {
    const courseId = parseId(req.params.id);
    const sid = courseId === null ? null : signedSessionId(req.headers.cookie, site.sessions.secret());
    if (courseId === null || sid === null) return next();
    store
      .activeLearner(sid, courseId)
      .then(async (learner) => {
        if (!learner || learner.user.isAdmin) return next();
        const outcome = await checkCourseLaunch(site, learner.user.id, courseId, { enrolled: learner.enrolled });
        if (!outcome.allowed) return next();
        await store.slideExpiry(sid);
        res.status(302).set({ Location: `/courses/${courseId}`, 'Cache-Control': 'no-store' }).end();
      })
      .catch(next);
  };
}
