import type { HelperDelegate } from 'handlebars';

/** What a plugin may contribute to themes; names are namespaced by the plugin id. */
export interface ThemeRegistrar {
  /** Registers helper `<pluginId>_<name>`. */
  helper(name: string, fn: HelperDelegate): void;
  /** Registers partial `<pluginId>/<name>`. */
  partial(name: string, template: string): void;
  /**
   * Shows the feature's partial `name` (registered with `partial`) in a slot the theme renders with
   * `{{slot "header.nav"}}`, so a theme makes room for plugins without naming any. Slots today:
   * `header.nav` (items of the main navigation, `<li>` elements, for signed-in people).
   */
  slot(slot: string, name: string): void;
}
