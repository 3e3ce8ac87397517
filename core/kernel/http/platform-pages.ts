import type { Request, Response } from 'express';
import type { KernelCore } from '../parts';
import type { PluginManager } from '../plugins/manager';

type Kernel = KernelCore & { readonly plugins: PluginManager };
import { WaymarkError } from '../errors';
import { field, renderView } from './render';
import { saveTheme } from '../themes/theme-setting';

/** Ids in URLs of plugin actions: frankenstyle, nothing that could escape a path. */
const PLUGIN_ID = /^[a-z][a-z0-9]*_[a-z0-9_]+$/;

/** The platform's operator pages: the admin index, plugins and the theme (site administrators only). */
export function registerPlatformPages(site: Kernel): void {
  const pages = site.routes.registrarFor('core');
  pages.page({
    method: 'get',
    path: '/admin',
    access: 'admin',
    handler(req, res) {
      // Pages that enabled plugins add under /admin/ are listed here and vanish when a plugin is disabled.
      const pluginPages = site.routes
        .pages()
        .filter((r) => r.owner !== 'core' && !site.moduleIds.has(r.owner) && r.method === 'get' && r.path.startsWith('/admin/') && !r.path.includes(':'))
        .map((r) => ({ owner: r.owner, path: r.path }));
      renderView(req, res, 'admin/index', { title: 'Administration', adminNav: 'index', pluginPages });
    },
  });

  // ---- plugins -------------------------------------------------------------------------------
  pages.page({
    method: 'get',
    path: '/admin/plugins',
    access: 'admin',
    async handler(req, res) {
      const plugins = (await site.plugins.list()).map((p) => ({ ...p, canEnable: !p.enabled && p.state !== 'invalid' && p.state !== 'missing', canDisable: p.enabled }));
      renderView(req, res, 'admin/plugins', { title: 'Plugins', adminNav: 'plugins', plugins });
    },
  });
  for (const action of ['enable', 'disable'] as const) {
    pages.page({
      method: 'post',
      path: `/admin/plugins/:id/${action}`,
      access: 'admin',
      async handler(req, res) {
        const id = String(req.params.id);
        if (!PLUGIN_ID.test(id)) throw new WaymarkError('NOT_FOUND', `Plugin ${id} not found`, 404);
        await (action === 'enable' ? site.plugins.enable(id) : site.plugins.disable(id));
        res.redirect(303, `/admin/plugins?notice=plugin-${action}d`);
      },
    });
  }

  // ---- theme ---------------------------------------------------------------------------------
  const showThemes = (req: Request, res: Response, error?: string, status?: number): void => {
    const active = site.themes.activeTheme();
    const themes = site.themes.listThemes().map((name) => ({ name, active: name === active }));
    renderView(req, res, 'admin/theme', { title: 'Theme', adminNav: 'theme', themes, effective: site.themes.effectiveTheme(), active, error }, status);
  };
  pages.page({ method: 'get', path: '/admin/theme', access: 'admin', handler: (req, res) => showThemes(req, res) });
  pages.page({
    method: 'post',
    path: '/admin/theme',
    access: 'admin',
    async handler(req, res) {
      try {
        await saveTheme(site, field(req.body, 'theme'));
      } catch (error) {
        if (error instanceof WaymarkError && error.status === 422) return showThemes(req, res, error.message, 422);
        throw error;
      }
      res.redirect(303, '/admin/theme?notice=theme-saved');
    },
  });

}
