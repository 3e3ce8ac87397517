import type { HookKind } from '../hooks/hook-map';
import type { FeatureContext } from './context';
import type { ResolvedDeps, ServiceDeps } from './services';

/**
 * A core module: one of the site's own features, defined on the same contract as a plugin
 * (declared deps, registrars, its own tables), except that it is always on and may provide services
 * that other modules and plugins declare as deps.
 */
export interface ModuleDefinition<D extends ServiceDeps = ServiceDeps, P extends ServiceDeps = ServiceDeps> {
  /** A plain word (`people`, `programs`): plugin ids are `type_name`, so the two never clash. */
  id: string;
  deps: D;
  /**
   * The tables this module owns. Only its store (`store.ts` or `store/`) touches them; another
   * module reads them through the services or the SQL views this module's index exports
   * (`scripts/check-table-owners.ts` enforces it in `npm test`).
   */
  tables: readonly string[];
  /** Hooks the module taps (tapping anything else throws, as for plugins). */
  hooks?: readonly string[];
  /**
   * The hook points this module owns, with their kinds: declared on the bus before any module
   * registers, so running one with the wrong runner fails at run time as well as compile time.
   * Their payload types are declared by merging into HookMap in the module's hooks.ts.
   */
  declares?: Readonly<Record<string, HookKind>>;
  /** The services this module provides, by ref. */
  provides: P;
  /** Declares routes, jobs, hooks; builds and returns the provided services. Touches no database. */
  register(ctx: FeatureContext<D>): ResolvedDeps<P>;
}

/** Identity function for type checking: `deps` and `provides` type the context and the return value. */
export function defineModule<D extends ServiceDeps, P extends ServiceDeps>(definition: ModuleDefinition<D, P>): ModuleDefinition<D, P> {
  return definition;
}
