import type { Migration } from '../../core/db/migrations';

export const learning: Migration = {
  name: '0004_learning',
  async up() {},
  async down() {},
};
