import express, { type Request, type Response, type Router } from 'express';
import { rateLimit, ipKeyGenerator } from 'express-rate-limit';
import type { KernelCore as Kernel } from '../parts';
import { verifyPassword } from './passwords';
import { kernelServices, type IdentityProvider } from '../features/kernel-services';
import { rotateCsrfToken } from './csrf';
import { SESSION_COOKIE } from './sessions';
import { renderPage } from '../http/render-page';

/** Failed sign-ins allowed per (IP address, username) in {@link LOGIN_WINDOW_MS}. */
export const LOGIN_ATTEMPTS = 10;
export const LOGIN_WINDOW_MS = 15 * 60 * 1000;

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
  renderPage(site, req, res, 'auth/login', { title: 'Log in', error: data.error, username: data.username ?? '', next: data.next }, { status: data.status ?? 200 });
}

/**
 * GET /login (the form), POST /login and POST /logout. Mount after the session and CSRF
 * middleware: the login form is itself CSRF-protected (login CSRF would otherwise let another site
 * sign a victim into the attacker's account).
 */
export function createAuthRouter(site: Kernel): Router {
  const router = express.Router();

  const limiter = rateLimit({
    windowMs: LOGIN_WINDOW_MS,
    limit: LOGIN_ATTEMPTS,
    // Only failures count, so a person signing in and out all day is never locked out.
    skipSuccessfulRequests: true,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    // Per address and account: one attacker cannot lock everyone out of one account from elsewhere,
    // nor spray one address's attempts across accounts unnoticed per account.
    keyGenerator: (req) => `${ipKeyGenerator(req.ip ?? '')}|${String((req.body as Record<string, unknown> | undefined)?.username ?? '').trim().toLowerCase()}`,
    handler: (req, res) => {
      const minutes = Math.round(LOGIN_WINDOW_MS / 60_000);
      req.logger?.warn('login rate limit reached', { ip: req.ip });
      renderLogin(site, req, res, {
        error: `Too many failed sign-in attempts. Wait ${minutes} minutes before trying again.`,
        username: String((req.body as Record<string, unknown> | undefined)?.username ?? ''),
        next: safeNext((req.body as Record<string, unknown> | undefined)?.next),
        status: 429,
      });
    },
  });

  router.get('/login', (req, res) => {
    req.user = null;
    renderLogin(site, req, res, { next: safeNext(req.query.next) });
  });

  const identity = (): IdentityProvider => site.registry.resolve('core', { identity: kernelServices.identity }).identity;
  router.post('/login', limiter, async (req, res, next) => {
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
