import type { KernelCore as Kernel } from '../parts';
import { renderView } from '../http/render';
import { listApiTokens, revokeUserApiTokens } from './tokens';

/**
 * A signed-in person's own "sessions and tokens" page (`/my/security`) and its "log out
 * everywhere" form. The kernel's, as sessions and tokens are.
 */
export function registerSecurityPage(site: Kernel): void {
  const pages = site.routes.registrarFor('core');
  pages.page({
    method: 'get',
    path: '/my/security',
    access: 'user',
    async handler(req, res) {
      const user = req.user!;
      const now = site.db.now();
      const current = req.session?.userId === user.id ? req.sessionID : undefined;
      const sessions = (await site.sessions.store.userSessions(user.id)).map((s) => ({
        createdAt: s.createdAt === null ? null : new Date(s.createdAt).toISOString(),
        lastSeenAt: new Date(s.lastSeenAt).toISOString(),
        current: s.sid === current,
      }));
      const tokens = (await listApiTokens(site.db, user.id)).map((t) => ({
        name: t.name,
        createdAt: new Date(t.createdAt).toISOString(),
        lastUsedAt: t.lastUsedAt === null ? null : new Date(t.lastUsedAt).toISOString(),
        expiresAt: t.expiresAt === null ? null : new Date(t.expiresAt).toISOString(),
        expired: t.expiresAt !== null && t.expiresAt <= now,
      }));
      const done = req.query.done === '1';
      renderView(req, res, 'auth/security', { title: 'Sessions and tokens', nav: 'security', sessions, tokens, done });
    },
  });
  pages.page({
    method: 'post',
    path: '/my/security/logout-everywhere',
    access: 'user',
    async handler(req, res) {
      const user = req.user!;
      const keepSid = req.session?.userId === user.id ? req.sessionID : undefined;
      await site.db.transaction(async (trx) => {
        await site.sessions.store.destroyUserSessions(user.id, { executor: trx, keepSid });
        await revokeUserApiTokens(trx, user.id);
      });
      req.logger?.info('logged out everywhere', { userId: user.id });
      res.redirect(303, '/my/security?done=1');
    },
  });
}
