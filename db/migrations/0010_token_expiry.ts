import type { Migration } from '../../core/kernel/db/migrations';

/** API tokens may expire: null is "until revoked". */
export const tokenExpiry: Migration = {
  name: '0010_token_expiry',
  async up(knex) {
    await knex.schema.alterTable('api_tokens', (t) => {
      t.bigInteger('expires_at').nullable();
    });
  },
  async down(knex) {
    await knex.schema.alterTable('api_tokens', (t) => {
      t.dropColumn('expires_at');
    });
  },
};
