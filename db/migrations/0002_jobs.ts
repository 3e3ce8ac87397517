import type { Migration } from '../../core/db/migrations';

export const jobs: Migration = {
  name: '0002_jobs',
  async up() {},
  async down() {},
};
