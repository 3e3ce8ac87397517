import type { KernelCore as Kernel } from '../parts';
import { renderView } from '../http/render';
import { parseId } from '../http/contract';
import { apiTokensPage, findApiToken, revokeApiTokenById, revokeUserApiTokens, TOKENS_NEWEST } from './tokens';
import { SESSIONS_NEWEST } from './sessions';
import { pagePosition } from '../http/paging';
import type { KeysetOrder, KeysetPage } from '../db/keyset';

/**
 * A signed-in person's own "sessions and tokens" page (`/my/security`) and its "log out
 * everywhere" form. The kernel's, as sessions and tokens are.
 */
/** Sessions and tokens shown a page at a time. */
const LIST_PAGE = 50;

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
      // Two lists, each paged on its own: `sessions` / `tokens` carry the cursor of each.
      const query = req.query as Record<string, unknown>;
      const position = (order: KeysetOrder, name: string) =>
        pagePosition(order, { limit: LIST_PAGE, cursor: query[name], before: query[`${name}Before`] }, LIST_PAGE);
      const links = (name: string, page: KeysetPage<unknown>) => {
        const kept = Object.fromEntries(
          Object.entries(query).filter(
            ([k, v]) => typeof v === 'string' && (k === 'sessions' || k === 'tokens' || k === 'sessionsBefore' || k === 'tokensBefore') && !k.startsWith(name),
          ),
        ) as Record<string, string>;
        const link = (param: string, cursor: string | null) =>
          cursor === null ? null : `/my/security?${new URLSearchParams({ ...kept, [param]: cursor }).toString()}#${name}`;
        return { prev: link(`${name}Before`, page.prevCursor), next: link(name, page.nextCursor), shown: page.prevCursor !== null || page.nextCursor !== null };
      };
      const sessionPage = await site.sessions.store.userSessions(user.id, position(SESSIONS_NEWEST, 'sessions'));
      const sessions = sessionPage.items.map((s) => ({
        handle: s.handle,
        createdAt: s.createdAt === null ? null : new Date(s.createdAt).toISOString(),
        lastSeenAt: new Date(s.lastSeenAt).toISOString(),
        current: s.sid === current,
      }));
      const tokenPage = await apiTokensPage(site.db, user.id, position(TOKENS_NEWEST, 'tokens'));
      const tokens = tokenPage.items.map((t) => ({
        id: t.id,
        name: t.name,
        createdAt: new Date(t.createdAt).toISOString(),
        lastUsedAt: t.lastUsedAt === null ? null : new Date(t.lastUsedAt).toISOString(),
        expiresAt: t.expiresAt === null ? null : new Date(t.expiresAt).toISOString(),
        expired: t.expiresAt !== null && t.expiresAt <= now,
      }));
      const done = typeof req.query.done === 'string' && DONE_NOTICES.has(req.query.done) ? req.query.done : null;
      renderView(req, res, 'auth/security', {
        title: 'Sessions and tokens',
        nav: 'security',
        sessions,
        tokens,
        sessionPager: links('sessions', sessionPage),
        tokenPager: links('tokens', tokenPage),
        done,
      });
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
      res.redirect(303, '/my/security?done=everywhere');
    },
  });
  pages.page({
    method: 'post',
    path: '/my/security/sessions/end',
    access: 'user',
    async handler(req, res) {
      const user = req.user!;
      const handle = typeof req.body?.session === 'string' ? req.body.session : '';
      // Only the signed-in person's own sessions can be named: another's handle matches nothing.
      const ended = handle ? await site.sessions.store.destroyUserSession(user.id, handle) : false;
      if (ended) req.logger?.info('session ended from the security page', { userId: user.id });
      res.redirect(303, `/my/security?done=${ended ? 'session' : 'gone'}`);
    },
  });
  pages.page({
    method: 'post',
    path: '/my/security/tokens/revoke',
    access: 'user',
    async handler(req, res) {
      const user = req.user!;
      const id = parseId(typeof req.body?.token === 'string' ? req.body.token : '');
      const token = id === null ? null : await findApiToken(site.db, id);
      // Another user's token is treated as missing: the page never reveals which ids exist.
      const revoked = token !== null && token.userId === user.id && (await revokeApiTokenById(site.db, token.id));
      if (revoked) req.logger?.info('token revoked from the security page', { userId: user.id, tokenId: id });
      res.redirect(303, `/my/security?done=${revoked ? 'token' : 'gone'}`);
    },
  });
}

/** The outcomes the page can report after a form (anything else in `done` is ignored). */
const DONE_NOTICES = new Set(['everywhere', 'session', 'token', 'gone']);
