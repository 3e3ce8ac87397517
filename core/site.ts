import { loadConfig, type SiteConfig } from './kernel/config';
import { createDatabase, type Database } from './kernel/db/database';
import { migrateLatest } from './kernel/db/migrations';
import { coreMigrations } from '../db/migrations/index';
import { createLogger, type Logger } from './kernel/logging';
import { createHookBus, type HookBus } from './kernel/hooks/index';
import { ExtensionRegistry } from './kernel/extensions';
import { RouteTable } from './kernel/http/routes';
import { JobQueue } from './kernel/jobs/queue';
import { PluginManager } from './kernel/plugins/manager';
import { ThemeEngine } from './kernel/themes/engine';
import { createCoreServices, type CoreServices } from './services';
import { registerCoreRoutes } from './api-index';
import { applyStoredTheme, registerWebPages } from './modules/learner-views/index';
import { registerAssignmentCore } from './modules/assignment/index';
import { registerLaunchCore } from './modules/launch/index';
import { registerSessionCleanup } from './kernel/auth/sessions';

/**
 * The running site: every core service, wired once. Tests build one per database; the CLI builds
 * one per process. Nothing here listens on a port (see createApp / the serve command).
 */
export interface Site {
  readonly config: SiteConfig;
  readonly logger: Logger;
  readonly db: Database;
  readonly hooks: HookBus;
  readonly extensions: ExtensionRegistry;
  readonly routes: RouteTable;
  readonly jobs: JobQueue;
  readonly themes: ThemeEngine;
  readonly plugins: PluginManager;
  /** Domain services (users, hierarchy, audiences, courses, completion, programs, ...). */
  readonly services: CoreServices;
  /** Applies core migrations, then installs/upgrades plugins in dependency order. */
  migrate(): Promise<void>;
  /** migrate() then register and start every enabled plugin; starts watching plugin state. */
  start(): Promise<void>;
  /** Stops plugins and workers and closes the database. */
  stop(): Promise<void>;
}

export interface CreateSiteOptions {
  config?: Partial<SiteConfig>;
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  /** Watch the plugins table for changes made by other processes (servers do; CLI one-shots don't). */
  watchPlugins?: boolean;
}

export function createSite(options: CreateSiteOptions = {}): Site {
  const config = loadConfig(options.env ?? process.env, options.config);
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const db = createDatabase(config.databaseUrl, logger);
  const hooks = createHookBus(logger);
  const extensions = new ExtensionRegistry();
  const routes = new RouteTable();
  const jobs = new JobQueue(db, logger);
  const themes = new ThemeEngine({ themesDir: config.themesDir, theme: config.theme, logger });

  let stopped = false;
  const site: Site = {
    config,
    logger,
    db,
    hooks,
    extensions,
    routes,
    jobs,
    themes,
    plugins: undefined as unknown as PluginManager,
    services: undefined as unknown as CoreServices,
    async migrate() {
      await migrateLatest(db.knex, coreMigrations);
      await site.plugins.install();
    },
    async start() {
      await migrateLatest(db.knex, coreMigrations);
      await site.plugins.boot({ watch: options.watchPlugins ?? false });
      // The operator's theme choice (admin page) outlives restarts and wins over WAYMARK_THEME.
      await applyStoredTheme(site);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await site.plugins.shutdown();
      await jobs.stop();
      await db.close();
    },
  };
  Object.assign(site, { plugins: new PluginManager(site), services: createCoreServices(site) });
  registerCoreRoutes(site);
  registerAssignmentCore(site);
  registerWebPages(site);
  registerSessionCleanup(site);
  registerLaunchCore(site);
  return site;
}
