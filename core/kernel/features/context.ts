import type { Database } from '../db/database';
import type { Contribution, ExtensionPointMap, ExtensionPointName } from '../extensions';
import type { JobQueue } from '../jobs/queue';
import type { PluginHooks } from '../hooks/bus';
import type { RouteRegistrar } from '../http/routes';
import type { JobRegistrar } from '../jobs/types';
import type { Logger } from '../logging';
import type { ThemeRegistrar } from '../themes/types';
import type { ResolvedDeps, ServiceDeps } from './services';

export interface ExtensionRegistrar {
  contribute<P extends ExtensionPointName>(point: P, key: string, value: ExtensionPointMap[P]): void;
  /** Every current contribution to a point (a disabled plugin's are gone). */
  list<P extends ExtensionPointName>(point: P): Contribution<ExtensionPointMap[P]>[];
  get<P extends ExtensionPointName>(point: P, key: string): Contribution<ExtensionPointMap[P]> | undefined;
}

/** Queueing work: the part of the job queue a feature uses at run time (definitions go through `jobs`). */
export type JobRunner = Pick<JobQueue, 'enqueue' | 'status'>;

/**
 * What a feature (a core module or a plugin) is handed: exactly the services it declared, plus its
 * own logger and database handle and registrars that record everything against its id, so a plugin
 * can be unhooked at once. Nothing here reaches another feature's internals or the whole site.
 */
export interface FeatureContext<D extends ServiceDeps = ServiceDeps> {
  /** The module or plugin id every registration is recorded against. */
  id: string;
  logger: Logger;
  /** The database. A feature writes only its own tables; other owners' data changes through their services. */
  db: Database;
  /** Tap the hooks the feature declared; run core hooks and the feature's own `<id>.*` hooks. */
  hooks: PluginHooks;
  routes: RouteRegistrar;
  jobs: JobRegistrar;
  queue: JobRunner;
  theme: ThemeRegistrar;
  extensions: ExtensionRegistrar;
  /** The declared services, resolved. */
  deps: ResolvedDeps<D>;
  /**
   * The site's time zone (WAYMARK_TIMEZONE): dates typed without a time or an offset are read in it
   * (`parseDateInput` in the SDK).
   */
  timezone: string;
}
