import type { Logger } from '../logging';
import type { Database } from '../db/database';
import type { Migration } from '../db/migrations';
import type { PluginHooks } from '../hooks/bus';
import type { RouteRegistrar } from '../http/routes';
import type { JobRegistrar } from '../jobs/types';
import type { ThemeRegistrar } from '../themes/types';
import type { ExtensionPointMap, ExtensionPointName } from '../extensions';
import type { Site } from '../../site';

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

export interface ExtensionRegistrar {
  contribute<P extends ExtensionPointName>(point: P, key: string, value: ExtensionPointMap[P]): void;
}

/**
 * Handed to register(): declare things, touch nothing. Everything declared is recorded against the
 * plugin id so disabling the plugin removes it at once.
 */
export interface PluginRegisterContext {
  id: string;
  manifest: PluginManifest;
  logger: Logger;
  hooks: PluginHooks;
  routes: RouteRegistrar;
  jobs: JobRegistrar;
  theme: ThemeRegistrar;
  extensions: ExtensionRegistrar;
  /**
   * The site, for handlers to use when they run (a request, a job, a hook call). register() itself
   * must not query through it: the contract suite fails a plugin whose register() touches the database.
   */
  site: Site;
}

/** Handed to start() and stop(): the running site. */
export interface PluginRuntimeContext {
  id: string;
  manifest: PluginManifest;
  logger: Logger;
  db: Database;
  site: Site;
  settings: Record<string, unknown>;
}

export interface PluginDefinition {
  id: string;
  /** The plugin's own migrations, run with their own migration table `<id>_migrations`. */
  migrations?: readonly Migration[];
  register(ctx: PluginRegisterContext): void;
  start?(ctx: PluginRuntimeContext): Promise<void>;
  stop?(ctx: PluginRuntimeContext): Promise<void>;
}

/** Identity function that gives plugin authors type checking and editor help. */
export function definePlugin(definition: PluginDefinition): PluginDefinition {
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
