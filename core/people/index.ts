import type { Site } from '../site';

/** Users, profile fields, organisations, positions, job assignments, audiences. */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface PeopleServices {}

export function createPeopleServices(_site: Site): PeopleServices {
  return {};
}
