import type { KernelCore as Kernel } from '../parts';
import { invalid } from '../errors';
import { THEME_SETTING_KEY } from '../themes/stored-theme';

/** site_config key holding the operator's theme choice (wins over the WAYMARK_THEME default). */
export const THEME_SETTING = THEME_SETTING_KEY;

/**
 * Applies the theme recorded in site_config, if any. Called at boot (site.start) so every process
 * renders with the operator's choice rather than the configured default; serving processes then
 * follow later changes with a StoredThemeWatcher (core/themes/stored-theme.ts).
 */
export async function applyStoredTheme(site: Kernel): Promise<void> {
  const row = (await site.db.knex('site_config').where({ name: THEME_SETTING }).first('value')) as { value: string } | undefined;
  if (row?.value) site.themes.setTheme(row.value);
}

/**
 * Records the operator's theme choice and switches this process to it at once. Only themes found
 * in the themes folder are accepted, so a typo cannot leave the site on a fallback.
 */
export async function saveTheme(site: Kernel, name: string): Promise<void> {
  if (!site.themes.listThemes().includes(name)) {
    throw invalid('THEME_UNKNOWN', `There is no theme called "${name}"`, [
      { path: 'theme', code: 'THEME_UNKNOWN', message: `There is no theme called "${name}"` },
    ]);
  }
  const now = site.db.now();
  await site.db.knex('site_config').insert({ name: THEME_SETTING, value: name, updated_at: now }).onConflict('name').merge(['value', 'updated_at']);
  site.themes.setTheme(name);
}
