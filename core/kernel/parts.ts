import type { SiteSessions } from './auth/sessions';
import type { SiteConfig } from './config';
import type { Database } from './db/database';
import type { ExtensionRegistry } from './extensions';
import type { ServiceRegistry } from './features/services';
import type { HookBus } from './hooks/bus';
import type { RouteTable } from './http/routes';
import type { JobQueue } from './jobs/queue';
import type { Logger } from './logging';
import type { ThemeEngine } from './themes/engine';

/**
 * The kernel's parts, without the plugin manager and the lifecycle: what the kernel's own pieces
 * (HTTP, auth, themes, plugin contexts) are handed, so none of them imports the kernel that
 * assembles them.
 */
export interface KernelCore {
  readonly config: SiteConfig;
  readonly logger: Logger;
  readonly db: Database;
  readonly hooks: HookBus;
  readonly extensions: ExtensionRegistry;
  readonly routes: RouteTable;
  readonly jobs: JobQueue;
  readonly themes: ThemeEngine;
  /** Services provided by modules, resolved by ref for modules and plugins that declare them. */
  readonly registry: ServiceRegistry;
  /** Ids of the core modules (always on; they rank before plugins on hook ties). */
  readonly moduleIds: ReadonlySet<string>;
  /** Sessions: store, signing secret and user lookup, shared by every reader in this process. */
  readonly sessions: SiteSessions;
}
