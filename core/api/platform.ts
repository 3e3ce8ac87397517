import type { Site } from '../site';
import type { ApiRoute } from '../http/routes';

/** REST routes of the platform (plugins, jobs). */
export function platformRoutes(_site: Site): ApiRoute[] {
  return [];
}
