import type { Site } from '../../site';
import { registerLearnerPages } from './pages';
import { registerAdminPages } from '../programs/pages';

export { applyStoredTheme, saveTheme, THEME_SETTING } from '../../kernel/themes/theme-setting';

/**
 * Registers the server-rendered learner and operator pages (owner `core`, never disabled).
 * Declares only; nothing touches the database until a request arrives.
 */
export function registerWebPages(site: Site): void {
  const pages = site.routes.registrarFor('core');
  registerLearnerPages(site, pages);
  registerAdminPages(site, pages);
}
