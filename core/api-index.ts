import type { Site } from './site';
import { platformRoutes } from './kernel/http/platform-routes';
import { domainRoutes } from './api-domain';
import { learnerRoutes } from './modules/learner-views/api';

/** Registers every core REST route (owner `core`, never disabled). */
export function registerCoreRoutes(site: Site): void {
  const registrar = site.routes.registrarFor('core');
  for (const route of [...platformRoutes(site), ...domainRoutes(site), ...learnerRoutes(site)]) registrar.api(route);
}
