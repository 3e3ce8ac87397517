import type { Migration } from '../../core/kernel/db/migrations';

/**
 * Every rule names an instance (`instanceId`: the user, audience, position...), until now only
 * inside the rule's JSON. As a column of its own, indexed with the program and source, "which of
 * these users already have an individual rule on this program" is an index probe per user rather
 * than a read of every rule of the program: "Assign a program" to a page of a thousand users no
 * longer slows down as the program's individual rules grow.
 */
export const ruleInstanceIds: Migration = {
  name: '0029_rule_instance_ids',
  async up(knex) {
    await knex.schema.alterTable('program_assignment_rules', (t) => {
      t.integer('instance_id').nullable();
    });
    // Set-based: both SQLite's json1 and MariaDB read the JSON in place.
    await knex.raw(`UPDATE program_assignment_rules SET instance_id = json_extract(instance, '$.instanceId')`);
    await knex.schema.alterTable('program_assignment_rules', (t) => {
      t.index(['program_id', 'source', 'instance_id'], 'program_assignment_rules_instance');
    });
  },
  async down(knex) {
    await knex.schema.alterTable('program_assignment_rules', (t) => {
      t.dropIndex(['program_id', 'source', 'instance_id'], 'program_assignment_rules_instance');
    });
    await knex.schema.alterTable('program_assignment_rules', (t) => {
      t.dropColumn('instance_id');
    });
  },
};
