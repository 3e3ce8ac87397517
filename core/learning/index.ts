import type { Site } from '../site';

/** Courses, activities, enrolments, completion, programs and program completion. */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface LearningServices {}

export function createLearningServices(_site: Site): LearningServices {
  return {};
}
