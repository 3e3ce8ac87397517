import type { Migration } from '../../core/kernel/db/migrations';

/**
 * Due-date extension requests (DOMAIN 9, issue 15): a program says whether its learners may ask
 * (`programs.allow_extension_requests`, off by default as in Totara), and each request is kept with
 * its decision, so the table is also the history of who asked for what and who decided when.
 */
export const extensionRequests: Migration = {
  name: '0019_extension_requests',
  async up(knex) {
    await knex.schema.alterTable('programs', (t) => {
      t.boolean('allow_extension_requests').notNullable().defaultTo(false);
    });
    await knex.schema.createTable('program_extension_requests', (t) => {
      t.increments('id');
      t.integer('program_id').unsigned().notNullable().references('programs.id').onDelete('CASCADE');
      t.integer('user_id').unsigned().notNullable().references('users.id').onDelete('CASCADE');
      t.string('status', 10).notNullable(); // pending | approved | declined
      // The due date when the learner asked, and the date they asked for.
      t.bigInteger('due_at').notNullable();
      t.bigInteger('requested_due_at').notNullable();
      t.text('reason').notNullable();
      t.bigInteger('requested_at').notNullable();
      t.integer('decided_by').unsigned().nullable().references('users.id').onDelete('SET NULL');
      t.bigInteger('decided_at').nullable();
      // The date a manager approved (may differ from the one asked for); null when declined.
      t.bigInteger('approved_due_at').nullable();
      t.text('decision_reason').nullable();
      t.index(['user_id', 'program_id', 'status'], 'program_extension_requests_learner');
      t.index(['status', 'id'], 'program_extension_requests_status');
    });
  },
  async down(knex) {
    await knex.schema.dropTableIfExists('program_extension_requests');
    await knex.schema.alterTable('programs', (t) => {
      t.dropColumn('allow_extension_requests');
    });
  },
};
