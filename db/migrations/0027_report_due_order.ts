import type { Migration } from '../../core/kernel/db/migrations';

/**
 * The program completion report by due date (issue 14: a page under 200 ms at 100,000 learners).
 * The report's due date is the assignment's, else the program completion record's; a page in that
 * order is read as index ranges in order (core/modules/reports/store/rows.ts, `dueOrderedBranches`):
 * the program's active assignments by their own due date (this first index; the trailing id is the
 * order's tie-break, implicit in InnoDB's secondary indexes and SQLite's rowid, declared for
 * clarity), and the few whose due date comes from the completion record by that date (the second).
 */
export const reportDueOrder: Migration = {
  name: '0027_report_due_order',
  async up(knex) {
    await knex.schema.alterTable('program_user_assignments', (t) => {
      t.index(['program_id', 'status', 'due_at', 'id'], 'program_user_assignments_due_order');
    });
    await knex.schema.alterTable('program_completions', (t) => {
      t.index(['program_id', 'due_at', 'user_id'], 'program_completions_due_order');
    });
  },
  async down(knex) {
    await knex.schema.alterTable('program_completions', (t) => {
      t.dropIndex(['program_id', 'due_at', 'user_id'], 'program_completions_due_order');
    });
    await knex.schema.alterTable('program_user_assignments', (t) => {
      t.dropIndex(['program_id', 'status', 'due_at', 'id'], 'program_user_assignments_due_order');
    });
  },
};
