import type { Site } from '../site';
import { platformRoutes } from './platform';
import { domainRoutes } from './domain';
import { learnerRoutes } from './learner';

/** Registers every core REST route (owner `core`, never disabled). */
export function registerCoreRoutes(site: Site): void {
  const registrar = site.routes.registrarFor('core');
  for (const route of [...platformRoutes(site), ...domainRoutes(site), ...learnerRoutes(site)]) registrar.api(route);
}
