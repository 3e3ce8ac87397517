import type { Site } from './site';

/** The domain services every route, job and plugin uses. */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface CoreServices {}

export function createCoreServices(_site: Site): CoreServices {
  return {};
}
