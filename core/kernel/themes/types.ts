import type { HelperDelegate } from 'handlebars';

/** What a plugin may contribute to themes; names are namespaced by the plugin id. */
export interface ThemeRegistrar {
  /** Registers helper `<pluginId>_<name>`. */
  helper(name: string, fn: HelperDelegate): void;
  /** Registers partial `<pluginId>/<name>`. */
  partial(name: string, template: string): void;
}
