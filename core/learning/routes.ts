import type { Site } from '../site';
import type { ApiRoute } from '../http/routes';

export function learningRoutes(_site: Site): ApiRoute[] {
  return [];
}
