import type { Site } from '../../site';
import type { PluginManifest, PluginRegisterContext, PluginRuntimeContext } from './types';

/**
 * The context register() receives. Every registrar records against the plugin id, so one call per
 * registry removes everything the plugin declared (see removeRegistrations).
 */
export function createRegisterContext(site: Site, manifest: PluginManifest): PluginRegisterContext {
  const id = manifest.id;
  return {
    id,
    manifest,
    logger: site.logger.child({ plugin: id }),
    // An absent `hooks` list means the plugin taps nothing: tapping must be declared up front.
    hooks: site.hooks.forPlugin(id, manifest.hooks ?? []),
    routes: site.routes.registrarFor(id),
    jobs: site.jobs.registrarFor(id),
    theme: site.themes.registrarFor(id),
    extensions: {
      contribute: (point, key, value) => {
        site.extensions.contribute(id, point, key, value);
      },
    },
    site,
  };
}

/** The context start() and stop() receive. */
export function createRuntimeContext(site: Site, manifest: PluginManifest, settings: Record<string, unknown>): PluginRuntimeContext {
  return { id: manifest.id, manifest, logger: site.logger.child({ plugin: manifest.id }), db: site.db, site, settings };
}

/** Removes every hook, route, job, schedule, theme helper/partial and extension contribution of a plugin. */
export function removeRegistrations(site: Site, id: string): void {
  site.hooks.removePlugin(id);
  site.routes.removeOwner(id);
  site.jobs.removeOwner(id);
  site.themes.removeOwner(id);
  site.extensions.removePlugin(id);
}
