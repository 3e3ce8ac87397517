import type { Site } from '../site';
import type { ApiRoute } from '../http/routes';

/** REST routes of the learning model (users, hierarchy, audiences, courses, completion, programs). */
export function domainRoutes(_site: Site): ApiRoute[] {
  return [];
}
