import type { Site } from '../site';
import type { ApiRoute } from '../http/routes';
import { peopleRoutes } from '../people/routes';
import { learningRoutes } from '../learning/routes';

/** REST routes of the learning model. */
export function domainRoutes(site: Site): ApiRoute[] {
  return [...peopleRoutes(site), ...learningRoutes(site)];
}
