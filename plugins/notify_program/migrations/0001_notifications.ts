import type { Knex, Migration } from '../../../core/index';

/**
 * Messages per program, the outbox of deliveries (one row per message, learner, course set, cycle
 * and recipient, unique), the in-app inbox, per-user channel preferences and the scan watermark.
 * Index names are explicit: Knex's generated names exceed MySQL's 64-character limit here.
 */
export const notifications: Migration = {
  name: '0001_notifications',
  async up(knex: Knex) {
    await knex.schema.createTable('notify_program_messages', (t) => {
      t.increments('id');
      t.integer('program_id').unsigned().notNullable();
      t.string('type', 30).notNullable();
      t.string('subject', 255).notNullable();
      t.text('body').notNullable();
      t.boolean('manager_copy').notNullable().defaultTo(false);
      t.string('manager_subject', 255).nullable();
      t.text('manager_body').nullable();
      // Timed types: an ISO-8601 duration before or after the moment the type counts from.
      t.string('trigger_offset', 40).nullable();
      t.string('trigger_direction', 6).nullable(); // before | after
      // When the trigger last changed (creation, or an edit of type/offset/direction): reminders whose
      // trigger fell before this are only sent inside the catch-up window.
      t.bigInteger('active_from').notNullable();
      t.bigInteger('created_at').notNullable();
      t.bigInteger('updated_at').notNullable();
      t.index(['program_id', 'type'], 'notify_program_messages_program');
    });
    // A program gets its default messages once; this row says it has (deleting them all keeps it so).
    await knex.schema.createTable('notify_program_programs', (t) => {
      t.integer('program_id').unsigned().primary();
      t.bigInteger('defaults_at').notNullable();
    });
    await knex.schema.createTable('notify_program_deliveries', (t) => {
      t.increments('id');
      t.integer('message_id').unsigned().notNullable();
      t.integer('program_id').unsigned().notNullable();
      // The learner the message is about (0 for an operator report about several learners).
      t.integer('user_id').unsigned().notNullable();
      t.integer('course_set_id').unsigned().notNullable().defaultTo(0);
      // The assignment cycle: the learner's assigned_at (a re-assignment starts a new one); for an
      // exception report, the lowest exception id of the batch it reports.
      t.bigInteger('cycle').notNullable();
      t.integer('recipient_id').unsigned().notNullable();
      t.string('role', 10).notNullable(); // learner | manager | operator
      t.string('state', 10).notNullable(); // pending | sending | sent | skipped | failed
      // The send job that owns the row (a random token per insert; recovery gives stale rows a new one).
      t.string('batch', 40).notNullable();
      t.text('data').nullable(); // JSON, e.g. the exception ids an exception report lists
      t.integer('attempts').notNullable().defaultTo(0);
      t.string('claimed_by', 40).nullable();
      t.bigInteger('claimed_at').nullable();
      t.bigInteger('sent_at').nullable();
      t.string('skip_reason', 40).nullable();
      t.text('last_error').nullable();
      t.bigInteger('created_at').notNullable();
      t.unique(['message_id', 'user_id', 'course_set_id', 'cycle', 'recipient_id'], { indexName: 'notify_program_deliveries_dedupe' });
      t.index(['batch', 'state'], 'notify_program_deliveries_batch');
      t.index(['state', 'created_at'], 'notify_program_deliveries_state');
      t.index(['claimed_by'], 'notify_program_deliveries_claim');
    });
    await knex.schema.createTable('notify_program_inbox', (t) => {
      t.increments('id');
      t.integer('user_id').unsigned().notNullable();
      t.integer('delivery_id').unsigned().notNullable();
      t.string('type', 30).notNullable();
      t.integer('program_id').unsigned().notNullable();
      t.string('subject', 255).notNullable();
      t.text('body').notNullable();
      t.bigInteger('created_at').notNullable();
      t.bigInteger('read_at').nullable();
      t.unique(['delivery_id'], { indexName: 'notify_program_inbox_delivery' });
      t.index(['user_id', 'id'], 'notify_program_inbox_user');
      t.index(['user_id', 'read_at'], 'notify_program_inbox_unread');
    });
    // Only what a user switched off is stored: no row means the channel is on.
    await knex.schema.createTable('notify_program_preferences', (t) => {
      t.integer('user_id').unsigned().notNullable();
      t.string('type', 30).notNullable();
      t.string('channel', 40).notNullable();
      t.primary(['user_id', 'type', 'channel'], 'notify_program_preferences_pk');
    });
    await knex.schema.createTable('notify_program_scan', (t) => {
      t.integer('id').unsigned().primary();
      t.bigInteger('last_scan_at').notNullable();
    });
  },
  async down(knex: Knex) {
    for (const table of [
      'notify_program_scan',
      'notify_program_preferences',
      'notify_program_inbox',
      'notify_program_deliveries',
      'notify_program_programs',
      'notify_program_messages',
    ]) {
      await knex.schema.dropTableIfExists(table);
    }
  },
};
