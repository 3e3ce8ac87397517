import type { Site } from './site';
import type { ApiRoute } from './kernel/http/routes';
import { peopleRoutes } from './modules/people/routes';
import { learningRoutes } from './modules/learning/routes';

/** REST routes of the learning model. */
export function domainRoutes(site: Site): ApiRoute[] {
  return [...peopleRoutes(site), ...learningRoutes(site)];
}
