import type { Migration } from '../../core/kernel/db/migrations';

/** Site-wide tables: configuration, plugin state, users and API tokens. */
export const platform: Migration = {
  name: '0001_platform',
  async up(knex) {
    await knex.schema.createTable('site_config', (t) => {
      t.string('name', 100).primary();
      t.text('value').notNullable();
      t.bigInteger('updated_at').notNullable();
    });
    await knex.schema.createTable('plugins', (t) => {
      t.string('id', 100).primary();
      t.string('version', 50).nullable(); // installed schema version; null until first install
      t.boolean('enabled').notNullable();
      t.string('state', 20).notNullable(); // enabled | disabled | errored | missing
      t.string('error_code', 60).nullable();
      t.text('error_message').nullable();
      t.bigInteger('installed_at').nullable();
      t.bigInteger('updated_at').notNullable();
    });
    await knex.schema.createTable('users', (t) => {
      t.increments('id');
      t.string('username', 100).notNullable().unique();
      t.string('email', 255).notNullable();
      t.string('fullname', 255).notNullable();
      t.string('password_hash', 255).nullable();
      t.boolean('is_admin').notNullable().defaultTo(false);
      t.string('lang', 20).notNullable().defaultTo('en');
      t.string('timezone', 64).notNullable().defaultTo('UTC');
      t.boolean('suspended').notNullable().defaultTo(false);
      t.boolean('deleted').notNullable().defaultTo(false);
      t.bigInteger('first_login_at').nullable();
      t.bigInteger('created_at').notNullable();
      t.bigInteger('updated_at').notNullable();
    });
    await knex.schema.createTable('api_tokens', (t) => {
      t.increments('id');
      t.integer('user_id').unsigned().notNullable().references('users.id').onDelete('CASCADE');
      // Only a SHA-256 of the token is stored: a leaked table does not leak credentials.
      t.string('token_hash', 64).notNullable().unique();
      t.string('name', 100).notNullable().defaultTo('cli');
      t.bigInteger('created_at').notNullable();
      t.bigInteger('last_used_at').nullable();
    });
  },
  async down(knex) {
    await knex.schema.dropTableIfExists('api_tokens');
    await knex.schema.dropTableIfExists('users');
    await knex.schema.dropTableIfExists('plugins');
    await knex.schema.dropTableIfExists('site_config');
  },
};
