import { loadConfig, type SiteConfig } from './config';
import { createDatabase, type Database } from './db/database';
import { migrateLatest } from './db/migrations';
import { coreMigrations } from '../db/migrations/index';
import { createLogger, type Logger } from './logging';
import { createHookBus, type HookBus } from './hooks/index';
import { ExtensionRegistry } from './extensions';
import { RouteTable } from './http/routes';
import { JobQueue } from './jobs/queue';
import { PluginManager } from './plugins/manager';
import { ThemeEngine } from './themes/engine';
import { StoredThemeWatcher } from './themes/stored-theme';
import { createCoreServices, type CoreServices } from './services';
import { registerCoreRoutes } from './api/index';
import { applyStoredTheme, registerWebPages } from './web/index';
import { registerAssignmentCore } from './assignment/index';
import { registerLaunchCore } from './launch/index';
import { registerSessionCleanup } from './auth/sessions';
import { registerRateLimitCleanup } from './auth/rate-limit-store';

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
  /**
   * Watch the plugins table and the theme choice for changes made by other processes (servers do;
   * CLI one-shots don't), every `pluginPollMs`.
   */
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
  const themeWatcher = new StoredThemeWatcher(db, themes, config.theme, logger);

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
      if (options.watchPlugins) themeWatcher.start(config.pluginPollMs);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      themeWatcher.stop();
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
  registerRateLimitCleanup(site);
  registerLaunchCore(site);
  return site;
}
