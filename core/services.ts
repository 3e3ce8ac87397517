import type { Site } from './site';
import { createPeopleServices, type PeopleServices } from './people/index';
import { createLearningServices, type LearningServices } from './learning/index';

/** The domain services every route, job and plugin uses. */
export interface CoreServices extends PeopleServices, LearningServices {}

export function createCoreServices(site: Site): CoreServices {
  return { ...createPeopleServices(site), ...createLearningServices(site) };
}
