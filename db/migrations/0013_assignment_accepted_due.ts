import type { Migration } from '../../core/kernel/db/migrations';

/**
 * The due date an operator accepted for a learner by resolving a time-allowance exception with
 * `assign` (issue 11 item 3): while the assignment lasts, a due date at or after it raises no new
 * time-allowance exception. Null when there is no such decision; cleared when the assignment ends.
 */
export const assignmentAcceptedDue: Migration = {
  name: '0013_assignment_accepted_due',
  async up(knex) {
    await knex.schema.alterTable('program_user_assignments', (t) => {
      t.bigInteger('accepted_due_at').nullable();
    });
  },
  async down(knex) {
    await knex.schema.alterTable('program_user_assignments', (t) => {
      t.dropColumn('accepted_due_at');
    });
  },
};
