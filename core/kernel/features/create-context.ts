import type { KernelCore as Kernel } from '../parts';
import type { FeatureContext } from './context';
import type { ServiceDeps } from './services';

export interface FeatureIdentity<D extends ServiceDeps> {
  id: string;
  /** Hooks the feature may tap. */
  hooks: readonly string[];
  deps: D;
  /** Plugins' job and schedule names must start with `<id>.`; core modules keep their historical names. */
  namespaced: boolean;
}

/** Builds a feature's context: its declared services, logger, database and registrars, nothing more. */
export function createFeatureContext<D extends ServiceDeps>(kernel: Kernel, feature: FeatureIdentity<D>): FeatureContext<D> {
  const { id } = feature;
  return {
    id,
    logger: kernel.logger.child(feature.namespaced ? { plugin: id } : { module: id }),
    db: kernel.db,
    hooks: kernel.hooks.forPlugin(id, feature.hooks),
    routes: kernel.routes.registrarFor(id),
    jobs: kernel.jobs.registrarFor(id, { namespaced: feature.namespaced }),
    queue: kernel.jobs,
    theme: kernel.themes.registrarFor(id),
    extensions: {
      contribute: (point, key, value) => {
        kernel.extensions.contribute(id, point, key, value);
      },
      list: (point) => kernel.extensions.list(point),
      get: (point, key) => kernel.extensions.get(point, key),
    },
    deps: kernel.registry.resolve(id, feature.deps),
    timezone: kernel.config.timezone,
  };
}
