import type { Migration } from '../../core/kernel/db/migrations';

/**
 * Program assignment (DOMAIN 4, 4.1): rules, materialised rule memberships, one effective
 * assignment per (program, user), and assignment exceptions. Every index here serves a statement
 * of the sync: range scans by (rule_id, user_id) for the set difference, (program_id, user_id) for
 * the effective-assignment aggregate, and (user_id) for one user's incremental sync.
 */
export const assignment: Migration = {
  name: '0006_assignment',
  async up(knex) {
    await knex.schema.createTable('program_assignment_rules', (t) => {
      t.increments('id');
      t.integer('program_id').unsigned().notNullable().references('programs.id').onDelete('CASCADE');
      t.string('source', 100).notNullable();
      t.text('instance').notNullable(); // JSON: { instanceId, includeChildren?, ...source extras }
      t.string('due_kind', 10).notNullable(); // none | fixed | relative
      t.bigInteger('due_date').nullable();
      t.string('due_within', 50).nullable(); // ISO-8601 duration
      t.string('due_event', 100).nullable();
      t.integer('due_instance_id').nullable();
      // Bumped on every change, so a sync job that started before an edit runs again.
      t.integer('version').notNullable().defaultTo(1);
      // Set when the rule is being removed: its job deletes memberships, then the row.
      t.bigInteger('deleted_at').nullable();
      t.bigInteger('created_at').notNullable();
      t.bigInteger('updated_at').notNullable();
      t.index(['program_id']);
      t.index(['source']);
    });

    await knex.schema.createTable('program_rule_members', (t) => {
      t.increments('id');
      t.integer('program_id').unsigned().notNullable().references('programs.id').onDelete('CASCADE');
      t.integer('rule_id').unsigned().notNullable().references('program_assignment_rules.id').onDelete('CASCADE');
      t.integer('user_id').unsigned().notNullable().references('users.id').onDelete('CASCADE');
      // known: due_at is this rule's due date (NULL = no due date); future: the relative event
      // has not happened yet and will; unknown: the relative event has no date (exception).
      t.string('due_state', 10).notNullable();
      t.bigInteger('event_at').nullable();
      t.bigInteger('due_at').nullable();
      t.bigInteger('created_at').notNullable();
      t.unique(['rule_id', 'user_id']);
      t.index(['program_id', 'user_id']);
      t.index(['user_id']);
    });

    await knex.schema.createTable('program_exceptions', (t) => {
      t.increments('id');
      t.integer('program_id').unsigned().notNullable().references('programs.id').onDelete('CASCADE');
      t.integer('user_id').unsigned().notNullable().references('users.id').onDelete('CASCADE');
      t.string('type', 30).notNullable(); // already_assigned | completion_time_unknown | time_allowance
      t.string('status', 20).notNullable(); // open | dismissed | resolved
      t.bigInteger('raised_at').notNullable();
      t.bigInteger('resolved_at').nullable();
      // set_realistic_due_date | assign | dismiss | recheck | unassigned
      t.string('resolution', 30).nullable();
      t.integer('resolved_by').unsigned().nullable();
      t.text('explanation').notNullable();
      t.index(['program_id', 'status']);
      t.index(['program_id', 'user_id']);
    });

    await knex.schema.createTable('program_user_assignments', (t) => {
      t.increments('id');
      t.integer('program_id').unsigned().notNullable().references('programs.id').onDelete('CASCADE');
      t.integer('user_id').unsigned().notNullable().references('users.id').onDelete('CASCADE');
      t.string('status', 20).notNullable(); // active | future | exception | unassigned
      // The effective due date: latest of the rules' dates, never moved earlier automatically.
      t.bigInteger('due_at').nullable();
      // What the rules said last time (state and latest due); the sync compares against these so
      // an unchanged learner costs no write.
      t.string('rule_state', 10).nullable(); // known | future | unknown | NULL (no rule)
      t.bigInteger('rule_due_at').nullable();
      t.bigInteger('assigned_at').nullable();
      t.integer('exception_id').unsigned().nullable().references('program_exceptions.id').onDelete('SET NULL');
      t.bigInteger('created_at').notNullable();
      t.bigInteger('updated_at').notNullable();
      t.unique(['program_id', 'user_id']);
      t.index(['user_id', 'status']);
      t.index(['program_id', 'status']);
    });
  },
  async down(knex) {
    await knex.schema.dropTableIfExists('program_user_assignments');
    await knex.schema.dropTableIfExists('program_exceptions');
    await knex.schema.dropTableIfExists('program_rule_members');
    await knex.schema.dropTableIfExists('program_assignment_rules');
  },
};
