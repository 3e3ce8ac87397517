import express, { type Request, type RequestHandler, type Response, type Router } from 'express';
import { rateLimit, ipKeyGenerator } from 'express-rate-limit';
import type { KernelCore as Kernel } from '../parts';
import { DatabaseRateLimitStore } from './rate-limit-store';
import { verifyPassword } from './passwords';
import { kernelServices, type IdentityProvider } from '../features/kernel-services';
import { rotateCsrfToken } from './csrf';
import { SESSION_COOKIE } from './sessions';
import { renderPage } from '../http/render-page';

/** Failed sign-ins allowed per (IP address, username) in {@link LOGIN_WINDOW_MS}. */
export const LOGIN_ATTEMPTS = 10;
/**
 * Failed sign-ins allowed per IP address across all usernames in {@link LOGIN_WINDOW_MS}: one
 * address can no longer spray a few guesses at each of many accounts.
 */
export const LOGIN_IP_ATTEMPTS = 30;
export const LOGIN_WINDOW_MS = 15 * 60 * 1000;
/** Error code of the 429 answer once a sign-in budget is spent. */
export const LOGIN_RATE_LIMITED = 'LOGIN_RATE_LIMITED';

/** A hash of a random password: verifying against it makes "no such user" cost as much as "wrong password". */
const DUMMY_HASH = 'scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

/**
 * Where to go after signing in: only a same-site path (`/x...`). Absolute URLs, protocol-relative
 * `//host` and backslash tricks fall back to `/`, so the login page cannot be used as an open redirect.
 */
export function safeNext(value: unknown): string {
  if (typeof value !== 'string' || value.length > 2000) return '/';
  if (!value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) return '/';
  // Control characters and backslashes could turn the target into another host in some browsers.
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\\]/.test(value)) return '/';
  if (value === '/login' || value.startsWith('/login?') || value.startsWith('/logout')) return '/';
  return value;
}

/** `/login?next=<where the person was going>`. */
export function loginRedirectFor(req: Request): string {
  return `/login?next=${encodeURIComponent(safeNext(req.originalUrl))}`;
}

function regenerate(req: Request): Promise<void> {
  return new Promise((resolve, reject) => req.session.regenerate((err: unknown) => (err ? reject(err) : resolve())));
}
function save(req: Request): Promise<void> {
  return new Promise((resolve, reject) => req.session.save((err: unknown) => (err ? reject(err) : resolve())));
}
function destroy(req: Request): Promise<void> {
  return new Promise((resolve, reject) => req.session.destroy((err: unknown) => (err ? reject(err) : resolve())));
}

function renderLogin(site: Kernel, req: Request, res: Response, data: { error?: string; username?: string; next: string; status?: number }): void {
  renderPage(
    site,
    req,
    res,
    'auth/login',
    { title: 'Log in', error: data.error, username: data.username ?? '', next: data.next },
    { status: data.status ?? 200 },
  );
}

/**
 * GET /login (the form), POST /login and POST /logout. Mount after the session and CSRF
 * middleware: the login form is itself CSRF-protected (login CSRF would otherwise let another site
 * sign a victim into the attacker's account).
 */
export function createAuthRouter(site: Kernel): Router {
  const router = express.Router();

  const minutes = Math.round(LOGIN_WINDOW_MS / 60_000);
  const usernameOf = (req: Request): string => String((req.body as Record<string, unknown> | undefined)?.username ?? '');
  const limited = (scope: string) => (req: Request, res: Response) => {
    req.logger?.warn('login rate limit reached', { ip: req.ip, scope });
    const message = `Too many failed sign-in attempts. Wait ${minutes} minutes before trying again.`;
    // Scripts and API clients get the documented error JSON; browsers the login page with the message.
    if (req.accepts(['html', 'json']) === 'json') {
      res.status(429).json({ error: { code: LOGIN_RATE_LIMITED, message, details: [] } });
      return;
    }
    renderLogin(site, req, res, {
      error: message,
      username: usernameOf(req),
      next: safeNext((req.body as Record<string, unknown> | undefined)?.next),
      status: 429,
    });
  };
  // Counters live in the database (rate_limits), so every server process counts together.
  const limiter = (prefix: string, limit: number, keyGenerator: (req: Request) => string): RequestHandler =>
    rateLimit({
      windowMs: LOGIN_WINDOW_MS,
      limit,
      // Only failures count, so a person signing in and out all day is never locked out.
      skipSuccessfulRequests: true,
      standardHeaders: 'draft-8',
      legacyHeaders: false,
      identifier: prefix,
      store: new DatabaseRateLimitStore(site.db, `login-${prefix}:`),
      keyGenerator,
      handler: limited(prefix),
    });
  // Per address across every account: spraying many usernames from one address is slowed too.
  const perAddress = limiter('ip', LOGIN_IP_ATTEMPTS, (req) => ipKeyGenerator(req.ip ?? ''));
  // Per address and account: one attacker cannot lock everyone out of one account from elsewhere,
  // nor spray one address's attempts across accounts unnoticed per account.
  const perAccount = limiter('account', LOGIN_ATTEMPTS, (req) => `${ipKeyGenerator(req.ip ?? '')}|${usernameOf(req).trim().toLowerCase()}`);

  router.get('/login', (req, res) => {
    req.user = null;
    renderLogin(site, req, res, { next: safeNext(req.query.next) });
  });

  const identity = (): IdentityProvider => site.registry.resolve('core', { identity: kernelServices.identity }).identity;
  router.post('/login', perAddress, perAccount, async (req, res, next) => {
    try {
      req.user = null;
      const body = (req.body ?? {}) as Record<string, unknown>;
      const username = typeof body.username === 'string' ? body.username.trim() : '';
      const password = typeof body.password === 'string' ? body.password : '';
      const target = safeNext(body.next);
      const user = username ? await identity().findByUsername(username) : null;
      const hash = user ? await identity().passwordHash(user.id) : null;
      const ok = await verifyPassword(password, hash ?? DUMMY_HASH);
      if (!user || !hash || !ok || user.suspended || user.deleted) {
        renderLogin(site, req, res, { error: 'That username and password do not match an active account.', username, next: target, status: 401 });
        return;
      }
      // A fresh session id at the privilege change defeats session fixation.
      await regenerate(req);
      req.session.userId = user.id;
      req.session.loginAt = site.db.now();
      rotateCsrfToken(req);
      await save(req);
      await identity().recordLogin(user.id);
      req.logger?.info('login', { userId: user.id });
      res.redirect(303, target);
    } catch (error) {
      next(error);
    }
  });

  router.post('/logout', async (req, res, next) => {
    try {
      await destroy(req);
      res.clearCookie(SESSION_COOKIE, { path: '/' });
      res.redirect(303, '/login');
    } catch (error) {
      next(error);
    }
  });

  return router;
}
