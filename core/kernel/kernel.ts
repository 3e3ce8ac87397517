import { DEFAULT_DATABASE_URL, loadConfig, type SiteConfig } from './config';
import type { KernelCore } from './parts';
import { createDatabase } from './db/database';
import { migrateLatest, type MigrationSet } from './db/migrations';
import { createLogger, type Logger } from './logging';
import { createHookBus } from './hooks/index';
import { installHookOutbox } from './hooks/outbox';
import { ExtensionRegistry } from './extensions';
import { RouteTable } from './http/routes';
import { JobQueue } from './jobs/queue';
import { PluginManager } from './plugins/manager';
import { ThemeEngine } from './themes/engine';
import { registerPlatformRoutes } from './http/platform-routes';
import { registerPlatformPages } from './http/platform-pages';
import { applyStoredTheme } from './themes/theme-setting';
import { registerSessionCleanup, SiteSessions } from './auth/sessions';
import { registerRateLimitCleanup } from './auth/rate-limit-store';
import { StoredThemeWatcher } from './themes/stored-theme';
import { renderPage, resolvePageUser } from './http/app';
import { kernelServices } from './features/kernel-services';
import { createFeatureContext } from './features/create-context';
import type { ModuleDefinition } from './features/module';
import { ServiceRegistry } from './features/services';
import { orderModules } from './features/order';
import { registerSecurityPage } from './auth/security-page';
import { registerTokenRoutes } from './auth/token-routes';
import { createCredentialRevoker } from './auth/credentials';

/**
 * The kernel: everything a feature stands on (hooks, plugins, database, jobs, HTTP routes, themes,
 * auth, config, logging), knowing no feature. Core modules are handed in as data by the composition
 * root (core/site.ts); the kernel registers them in dependency order, then boots the plugins.
 */
export interface Kernel extends KernelCore {
  readonly plugins: PluginManager;
  /** Applies core migrations, then installs/upgrades plugins in dependency order; reports what it applied. */
  migrate(): Promise<MigrationReport>;
  /** migrate() then register and start every enabled plugin; starts watching plugin state. */
  start(): Promise<void>;
  /** Stops plugins and workers and closes the database. */
  stop(): Promise<void>;
}

/** What `migrate()` applied: core migration names, and per plugin the names of its migrations. */
export interface MigrationReport {
  core: string[];
  plugins: Array<{ id: string; applied: string[] }>;
}

export interface CreateKernelOptions {
  config?: Partial<SiteConfig>;
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  /**
   * Watch the plugins table and the theme choice for changes made by other processes (servers do;
   * CLI one-shots don't), every `pluginPollMs`.
   */
  watchPlugins?: boolean;
  /** Core schema migrations, applied before any plugin's. */
  migrations: MigrationSet;
  /** The core modules, in any order: they are registered in dependency order. */
  modules: readonly ModuleDefinition[];
}

export function createKernel(options: CreateKernelOptions): Kernel {
  const config = loadConfig(options.env ?? process.env, options.config);
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const db = createDatabase(config.databaseUrl, logger, { createFolder: config.databaseUrl === DEFAULT_DATABASE_URL });
  const hooks = createHookBus(logger);
  const jobs = new JobQueue(db, logger);
  const themes = new ThemeEngine({ themesDir: config.themesDir, theme: config.theme, logger });
  const themeWatcher = new StoredThemeWatcher(db, themes, config.theme, logger);

  let stopped = false;
  const kernel: Kernel = {
    config,
    logger,
    db,
    hooks,
    extensions: new ExtensionRegistry(),
    routes: new RouteTable(),
    jobs,
    themes,
    plugins: undefined as unknown as PluginManager,
    registry: new ServiceRegistry(),
    moduleIds: new Set(options.modules.map((m) => m.id)),
    sessions: new SiteSessions(db, config.sessionSecret, () => kernel.registry.resolve('core', { identity: kernelServices.identity }).identity.usersView),
    async migrate() {
      await db.verify();
      const core = await migrateLatest(db.knex, options.migrations);
      const plugins = await kernel.plugins.install();
      return { core, plugins };
    },
    async start() {
      await db.verify();
      await migrateLatest(db.knex, options.migrations);
      await kernel.plugins.boot({ watch: options.watchPlugins ?? false });
      // The operator's theme choice (admin page) outlives restarts and wins over WAYMARK_THEME.
      await applyStoredTheme(kernel);
      if (options.watchPlugins) themeWatcher.start(config.pluginPollMs);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      themeWatcher.stop();
      await kernel.plugins.shutdown();
      await jobs.stop();
      await db.close();
    },
  };
  Object.assign(kernel, { plugins: new PluginManager(kernel) });
  installHookOutbox({
    bus: hooks,
    queue: jobs,
    logger,
    subscriberState: async (id) => {
      if (kernel.moduleIds.has(id)) return 'active';
      const enabled = await kernel.plugins.storedEnabled(id);
      return enabled === null ? 'gone' : enabled ? 'active' : 'disabled';
    },
  });
  registerPlatformRoutes(kernel);
  registerTokenRoutes(kernel);
  registerSecurityPage(kernel);
  registerPlatformPages(kernel);
  registerSessionCleanup(kernel);
  registerRateLimitCleanup(kernel);
  kernel.registry.provide('core', kernelServices.pages, {
    resolveUser: (req) => resolvePageUser(kernel, req),
    render: (req, res, view, data, renderOptions) => renderPage(kernel, req, res, view, data, renderOptions),
  });
  // One store and one secret per site process, shared by the session middleware and the launch fast path.
  kernel.registry.provide('core', kernelServices.sessions, kernel.sessions);
  kernel.registry.provide('core', kernelServices.credentials, createCredentialRevoker(kernel.sessions.store));
  kernel.registry.provide('core', kernelServices.platform, {
    enabledPlugins: async () => (await kernel.plugins.list()).filter((p) => p.enabled && p.state === 'enabled').length,
    jobsByState: () => jobs.countByState(),
  });
  for (const module of options.modules) for (const [name, kind] of Object.entries(module.declares ?? {})) hooks.declare(name, kind);
  for (const module of orderModules(options.modules, (ref) => kernel.registry.has(ref))) {
    const ctx = createFeatureContext(kernel, { id: module.id, hooks: module.hooks ?? [], deps: module.deps, namespaced: false });
    const provided = module.register(ctx);
    for (const [name, ref] of Object.entries(module.provides)) kernel.registry.provide(module.id, ref, provided[name]);
  }
  return kernel;
}
