import type { Migration } from '../../core/kernel/db/migrations';

/**
 * Recurring programs (DOMAIN 9, issue 15 item 1). A program whose only course set holds one course
 * may recur: `recurrence_period` (ISO-8601, `P1Y`) from `recurrence_start`, the next period's copy
 * made `recurrence_lead` (`P1M`) ahead. Each period is a row with its course (the original for the
 * first, a copy after), and each learner who was assigned when a period ended has a row saying
 * whether they had completed it (the launch guard lets them finish an unfinished one). Completions
 * moved to history by a period switch carry the period's label.
 */
export const programRecurrence: Migration = {
  name: '0020_program_recurrence',
  async up(knex) {
    await knex.schema.alterTable('programs', (t) => {
      t.string('recurrence_period', 30).nullable();
      t.string('recurrence_lead', 30).nullable();
      // Where period boundaries are counted from: the first period's start, or the start of the
      // period in force when the operator last changed the period length.
      t.bigInteger('recurrence_start').nullable();
    });
    await knex.schema.createTable('program_recurrence_periods', (t) => {
      t.increments('id');
      t.integer('program_id').unsigned().notNullable().references('programs.id').onDelete('CASCADE');
      t.integer('seq').notNullable();
      t.string('label', 60).notNullable();
      t.integer('course_id').unsigned().notNullable().references('courses.id');
      t.bigInteger('starts_at').notNullable();
      t.bigInteger('ends_at').notNullable();
      t.string('status', 10).notNullable(); // upcoming | current | past
      t.bigInteger('created_at').notNullable();
      t.bigInteger('switched_at').nullable();
      t.unique(['program_id', 'seq']);
      t.index(['course_id']);
    });
    await knex.schema.createTable('program_recurrence_learners', (t) => {
      t.increments('id');
      t.integer('period_id').unsigned().notNullable().references('program_recurrence_periods.id').onDelete('CASCADE');
      t.integer('program_id').unsigned().notNullable().references('programs.id').onDelete('CASCADE');
      t.integer('user_id').unsigned().notNullable().references('users.id').onDelete('CASCADE');
      t.string('status', 12).notNullable(); // complete | incomplete
      t.bigInteger('due_at').nullable();
      t.bigInteger('completed_at').nullable();
      t.bigInteger('archived_at').notNullable();
      t.unique(['period_id', 'user_id']);
      t.index(['user_id', 'status']);
    });
    await knex.schema.alterTable('program_completion_history', (t) => {
      t.string('period_label', 60).nullable();
    });
  },
  async down(knex) {
    await knex.schema.alterTable('program_completion_history', (t) => {
      t.dropColumn('period_label');
    });
    await knex.schema.dropTableIfExists('program_recurrence_learners');
    await knex.schema.dropTableIfExists('program_recurrence_periods');
    await knex.schema.alterTable('programs', (t) => {
      t.dropColumn('recurrence_start');
      t.dropColumn('recurrence_lead');
      t.dropColumn('recurrence_period');
    });
  },
};
