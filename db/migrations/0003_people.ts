import type { Migration } from '../../core/db/migrations';

export const people: Migration = {
  name: '0003_people',
  async up() {},
  async down() {},
};
