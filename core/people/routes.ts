import type { Site } from '../site';
import type { ApiRoute } from '../http/routes';

export function peopleRoutes(_site: Site): ApiRoute[] {
  return [];
}
