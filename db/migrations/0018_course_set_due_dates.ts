import type { Migration } from '../../core/kernel/db/migrations';

/**
 * Course-set due dates are now written (DOMAIN 3.2: a timed set is due its minimum time after its
 * group opened). notify_program's scan looks for sets falling due in a window per program, so it
 * reads them by (program, due date) rather than visiting every set row of the program.
 */
export const courseSetDueDates: Migration = {
  name: '0018_course_set_due_dates',
  async up(knex) {
    await knex.schema.alterTable('course_set_completions', (t) => {
      t.index(['program_id', 'due_at'], 'course_set_completions_program_due');
    });
  },
  async down(knex) {
    await knex.schema.alterTable('course_set_completions', (t) => {
      t.dropIndex(['program_id', 'due_at'], 'course_set_completions_program_due');
    });
  },
};
