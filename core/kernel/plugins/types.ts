import type { Logger } from '../logging';
import type { Database } from '../db/database';
import type { Migration } from '../db/migrations';
import type { FeatureContext } from '../features/context';
import type { ResolvedDeps, ServiceDeps } from '../features/services';

/** plugins/<id>/plugin.json, validated before any plugin code is imported. */
export interface PluginManifest {
  /** Frankenstyle `type_name`, e.g. `enrol_program`; equals the folder name. */
  id: string;
  name: string;
  /** Semver of the plugin. */
  version: string;
  /** Semver range of the core SDK the plugin works with. */
  sdk: string;
  /** Other plugins this one needs, with semver ranges. */
  requires?: Record<string, string>;
  /** Hooks the plugin taps. */
  hooks?: string[];
  /** JSON Schema of the plugin's settings. */
  settingsSchema?: Record<string, unknown>;
  defaultEnabled?: boolean;
  description?: string;
}

/**
 * Handed to register(): the plugin's declared services (`deps`), its own logger and database handle,
 * and registrars. Everything declared is recorded against the plugin id, so disabling the plugin
 * removes it at once. register() declares only: the contract suite fails a plugin whose register()
 * touches the database. Handlers use the context when they run (a request, a job, a hook call).
 */
export interface PluginRegisterContext<D extends ServiceDeps = ServiceDeps> extends FeatureContext<D> {
  manifest: PluginManifest;
  /**
   * The plugin's settings (stored values, settingsSchema defaults applied) as of its start or last
   * save; no database read, so handlers may call it inside a transaction.
   */
  settings(): Record<string, unknown>;
}

/** Handed to start() and stop(): the same services, with the settings as they were at start. */
export interface PluginRuntimeContext<D extends ServiceDeps = ServiceDeps> {
  id: string;
  manifest: PluginManifest;
  logger: Logger;
  db: Database;
  deps: ResolvedDeps<D>;
  settings: Record<string, unknown>;
}

export interface PluginDefinition<D extends ServiceDeps = ServiceDeps> {
  id: string;
  /**
   * The services the plugin needs, by ref (Backstage's `registerInit({ deps })`): the context hands
   * it exactly these, typed. A plugin changes another owner's data only through such a service.
   */
  deps?: D;
  /** The plugin's own migrations, run with their own migration table `<id>_migrations`. */
  migrations?: readonly Migration[];
  register(ctx: PluginRegisterContext<D>): void;
  start?(ctx: PluginRuntimeContext<D>): Promise<void>;
  stop?(ctx: PluginRuntimeContext<D>): Promise<void>;
}

/** Identity function that gives plugin authors type checking and editor help. */
export function definePlugin<D extends ServiceDeps = Record<never, never>>(definition: PluginDefinition<D>): PluginDefinition<D> {
  return definition;
}

/**
 * `invalid`: the package itself is broken (manifest, graph, code); `errored`: it failed to install
 * or start on this site; `missing`: installed, but its folder is gone.
 */
export type PluginState = 'enabled' | 'disabled' | 'errored' | 'invalid' | 'missing';

/** What the plugins list shows, CLI and admin page alike. */
export interface PluginInfo {
  id: string;
  name: string;
  version: string | null;
  installedVersion: string | null;
  state: PluginState;
  enabled: boolean;
  errorCode: string | null;
  errorMessage: string | null;
  requires: Record<string, string>;
}
