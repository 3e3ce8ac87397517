import type { Site } from './site';
import { createPeopleServices, type PeopleServices } from './modules/people/index';
import { createLearningServices, type LearningServices } from './modules/learning/index';

/** The domain services every route, job and plugin uses. */
export interface CoreServices extends PeopleServices, LearningServices {}

export function createCoreServices(site: Site): CoreServices {
  return { ...createPeopleServices(site), ...createLearningServices(site) };
}
