import type { Migration } from '../../core/db/migrations';

export const programs: Migration = {
  name: '0005_programs',
  async up() {},
  async down() {},
};
