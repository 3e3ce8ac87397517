import type { Request, Response } from 'express';
import type { KernelCore } from '../parts';
import type { PluginManager } from '../plugins/manager';

type Kernel = KernelCore & { readonly plugins: PluginManager };
import { WaymarkError, type ErrorDetail } from '../errors';
import { readSchemaForm, savedPicks, schemaForm, schemaProblems } from './schema-form';
import type { PickState } from '../pickers';
import { createBodyValidator } from './validation';
import { field, renderView } from './render';
import { saveTheme } from '../themes/theme-setting';
import { PICK_LIMIT } from '../pickers';

/** Ids in URLs of plugin actions: frankenstyle, nothing that could escape a path. */
const PLUGIN_ID = /^[a-z][a-z0-9]*_[a-z0-9_]+$/;

function pluginId(req: Request): string {
  const id = String(req.params.id);
  if (!PLUGIN_ID.test(id)) throw new WaymarkError('NOT_FOUND', `Plugin ${id} not found`, 404);
  return id;
}

/** The platform's operator pages: the admin index, plugins and the theme (site administrators only). */
export function registerPlatformPages(site: Kernel): void {
  const pages = site.routes.registrarFor('core');
  const validator = createBodyValidator();
  pages.page({
    method: 'get',
    path: '/admin',
    access: 'admin',
    async handler(req, res) {
      const panels = await Promise.all(
        site.extensions
          .list('dashboardPanels')
          .map((c) => c.value)
          .sort((a, b) => (a.order ?? 100) - (b.order ?? 100) || a.title.localeCompare(b.title))
          .map(async (panel) => ({ title: panel.title, empty: panel.empty, more: panel.more, entries: await panel.entries() })),
      );
      // Pages that enabled plugins add under /admin/ are listed here and vanish when a plugin is disabled.
      const pluginPages = site.routes
        .pages()
        .filter((r) => r.owner !== 'core' && !site.moduleIds.has(r.owner) && r.method === 'get' && r.path.startsWith('/admin/') && !r.path.includes(':'))
        .map((r) => ({ owner: r.owner, path: r.path }));
      renderView(req, res, 'admin/index', { title: 'Administration', adminNav: 'index', panels, pluginPages });
    },
  });

  // ---- plugins -------------------------------------------------------------------------------
  pages.page({
    method: 'get',
    path: '/admin/plugins',
    access: 'admin',
    async handler(req, res) {
      const plugins = (await site.plugins.list()).map((p) => ({
        ...p,
        canEnable: !p.enabled && p.state !== 'invalid' && p.state !== 'missing',
        canDisable: p.enabled,
        hasSettings: Boolean(site.plugins.manifestOf(p.id)?.settingsSchema),
      }));
      renderView(req, res, 'admin/plugins', { title: 'Plugins', adminNav: 'plugins', plugins });
    },
  });
  for (const action of ['enable', 'disable'] as const) {
    pages.page({
      method: 'post',
      path: `/admin/plugins/:id/${action}`,
      access: 'admin',
      async handler(req, res) {
        const id = pluginId(req);
        await (action === 'enable' ? site.plugins.enable(id) : site.plugins.disable(id));
        res.redirect(303, `/admin/plugins?notice=plugin-${action}d`);
      },
    });
  }

  // ---- plugin settings, a form generated from the manifest's settingsSchema ----------------
  const showSettings = async (
    req: Request,
    res: Response,
    id: string,
    values?: Record<string, unknown>,
    errors: ErrorDetail[] = [],
    status?: number,
    posted?: Map<string, PickState>,
  ): Promise<void> => {
    const manifest = site.plugins.manifestOf(id);
    if (!manifest?.settingsSchema) throw new WaymarkError('NOT_FOUND', `Plugin ${id} has no settings`, 404);
    const current = values ?? (await site.plugins.getSettings(id));
    const picks = posted ?? (await savedPicks(manifest.settingsSchema, current, site.extensions));
    renderView(
      req,
      res,
      'admin/plugin-settings',
      {
        title: `${manifest.name} settings`,
        adminNav: 'plugins',
        plugin: { id, name: manifest.name },
        fields: schemaForm(manifest.settingsSchema, current, errors, { picks }),
        errors: schemaProblems(manifest.settingsSchema, errors),
      },
      status,
    );
  };
  pages.page({
    method: 'get',
    path: '/admin/plugins/:id/settings',
    access: 'admin',
    handler: (req, res) => showSettings(req, res, pluginId(req)),
  });
  pages.page({
    method: 'post',
    path: '/admin/plugins/:id/settings',
    access: 'admin',
    async handler(req, res) {
      const id = pluginId(req);
      const schema = site.plugins.manifestOf(id)?.settingsSchema;
      if (!schema) throw new WaymarkError('NOT_FOUND', `Plugin ${id} has no settings`, 404);
      const { value: values, picks, problems } = await readSchemaForm(schema, (req.body ?? {}) as Record<string, unknown>, site.extensions);
      try {
        if (problems.length) throw new WaymarkError('VALIDATION_FAILED', problems[0]!.message, 422, problems);
        // The schema's own check first: its details name the fields in words on the form.
        validator.validate(schema, values);
        await site.plugins.setSettings(id, values);
      } catch (error) {
        if (error instanceof WaymarkError && (error.status === 422 || error.code === 'VALIDATION_FAILED'))
          return showSettings(req, res, id, values, error.details, 422, picks);
        throw error;
      }
      res.redirect(303, `/admin/plugins?notice=plugin-settings-saved`);
    },
  });

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

  // ---- pick by name: the type-ahead's suggestions -------------------------------------------
  // A page route (session, CSRF-free GET) rather than an API one: the form's script calls it with
  // the operator's cookie. Bounded to PICK_LIMIT names, admins only, like every form it serves.
  pages.page({
    method: 'get',
    path: '/admin/pick/:picker',
    access: 'admin',
    async handler(req, res) {
      const key = String(req.params.picker);
      const picker = /^[a-z][a-z0-9_]{0,63}$/.test(key) ? site.extensions.get('pickers', key)?.value : undefined;
      if (!picker) throw new WaymarkError('NOT_FOUND', `No picker ${key}`, 404);
      const q = typeof req.query.q === 'string' ? req.query.q.trim().slice(0, 255) : '';
      const items = q === '' ? [] : await picker.search(q, PICK_LIMIT);
      res.set('Cache-Control', 'no-store').json({ items: items.map((i) => ({ id: i.id, label: i.label, hint: i.hint ?? null })) });
    },
  });

  // ---- a background job's progress (bulk changes started from a page redirect here) -----------
  pages.page({
    method: 'get',
    path: '/admin/jobs/:id',
    access: 'admin',
    async handler(req, res) {
      const id = /^[1-9][0-9]{0,15}$/.test(String(req.params.id)) ? Number(req.params.id) : null;
      const job = id === null ? null : await site.jobs.status(id);
      if (!job) throw new WaymarkError('NOT_FOUND', `Job ${String(req.params.id)} not found`, 404);
      const running = job.state === 'queued' || job.state === 'running';
      renderView(req, res, 'admin/job', {
        title: `Job ${job.id}`,
        adminNav: 'index',
        job,
        running,
        percent: job.progress && job.progress.total > 0 ? Math.floor((job.progress.done / job.progress.total) * 100) : null,
        result: job.result === null || job.result === undefined ? null : JSON.stringify(job.result),
      });
    },
  });
}
