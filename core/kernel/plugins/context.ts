import type { KernelCore } from '../parts';

/** The kernel as plugin contexts see it: its parts, and where plugin settings are read. */
type Kernel = KernelCore & { readonly plugins: { currentSettings(id: string): Record<string, unknown> } };
import { createFeatureContext } from '../features/create-context';
import type { ServiceDeps } from '../features/services';
import type { PluginDefinition, PluginManifest, PluginRegisterContext, PluginRuntimeContext } from './types';

/**
 * The context register() receives: the plugin's declared services and registrars recorded against
 * its id, so one call per registry removes everything it declared (see removeRegistrations). Taps
 * are limited to the manifest's `hooks`; an absent list means the plugin taps nothing.
 */
export function createRegisterContext<D extends ServiceDeps>(
  kernel: Kernel,
  manifest: PluginManifest,
  definition: PluginDefinition<D>,
): PluginRegisterContext<D> {
  const feature = createFeatureContext(kernel, { id: manifest.id, hooks: manifest.hooks ?? [], deps: definition.deps ?? ({} as D), namespaced: true });
  return { ...feature, manifest, settings: () => kernel.plugins.currentSettings(manifest.id) };
}

/** The context start() and stop() receive. */
export function createRuntimeContext<D extends ServiceDeps>(
  kernel: Kernel,
  manifest: PluginManifest,
  definition: PluginDefinition<D>,
  settings: Record<string, unknown>,
): PluginRuntimeContext<D> {
  return {
    id: manifest.id,
    manifest,
    logger: kernel.logger.child({ plugin: manifest.id }),
    db: kernel.db,
    deps: kernel.registry.resolve(manifest.id, definition.deps ?? ({} as D)),
    settings,
  };
}

/** Removes every hook, route, job, schedule, theme helper/partial and extension contribution of a plugin. */
export function removeRegistrations(kernel: KernelCore, id: string): void {
  kernel.hooks.removePlugin(id);
  kernel.routes.removeOwner(id);
  kernel.jobs.removeOwner(id);
  kernel.themes.removeOwner(id);
  kernel.extensions.removePlugin(id);
}
