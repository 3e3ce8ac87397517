import type { Migration } from '../../core/kernel/db/migrations';

/**
 * Covering indexes for assignment sync. The sources' member queries look users up by node, manager
 * or management path and read `user_id`; with `user_id` in the index they never touch the table rows, and a
 * one-user probe (incremental sync) is a single index lookup whatever the team or node size. The
 * incremental sync reads a user's rule ids, which `(user_id, rule_id)` answers from the index.
 * Each composite index starts with the old single column, so it also serves the foreign key.
 */
const REPLACED: Array<{ table: string; old: string[]; composite: string[] }> = [
  { table: 'job_assignments', old: ['position_id'], composite: ['position_id', 'user_id'] },
  { table: 'job_assignments', old: ['organisation_id'], composite: ['organisation_id', 'user_id'] },
  { table: 'job_assignments', old: ['manager_job_assignment_id'], composite: ['manager_job_assignment_id', 'user_id'] },
  { table: 'job_assignments', old: ['manager_path'], composite: ['manager_path', 'user_id'] },
  { table: 'program_rule_members', old: ['user_id'], composite: ['user_id', 'rule_id'] },
];

export const assignmentIndexes: Migration = {
  name: '0008_assignment_indexes',
  async up(knex) {
    for (const { table, old, composite } of REPLACED) {
      // The new index first: MySQL refuses to drop the only index a foreign key can use.
      await knex.schema.alterTable(table, (t) => t.index(composite));
      await knex.schema.alterTable(table, (t) => t.dropIndex(old));
    }
  },
  async down(knex) {
    for (const { table, old, composite } of REPLACED) {
      await knex.schema.alterTable(table, (t) => t.index(old));
      await knex.schema.alterTable(table, (t) => t.dropIndex(composite));
    }
  },
};
