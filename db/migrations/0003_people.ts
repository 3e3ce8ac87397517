import type { Migration } from '../../core/kernel/db/migrations';

/**
 * People: custom profile fields, the organisation and position trees, job assignments (the
 * management tree) and audiences. Every lookup an assignment source makes has an index here:
 * hierarchy path ranges, manager path ranges, members by audience, profile values by field+value.
 */
export const people: Migration = {
  name: '0003_people',
  async up(knex) {
    await knex.schema.createTable('profile_fields', (t) => {
      t.increments('id');
      t.string('shortname', 100).notNullable().unique();
      t.string('name', 255).notNullable();
      t.string('type', 20).notNullable(); // text | menu | date | checkbox
      t.text('options').nullable(); // JSON array of menu options
      t.bigInteger('created_at').notNullable();
      t.bigInteger('updated_at').notNullable();
    });

    await knex.schema.createTable('user_profile_values', (t) => {
      t.increments('id');
      t.integer('user_id').unsigned().notNullable().references('users.id').onDelete('CASCADE');
      t.integer('field_id').unsigned().notNullable().references('profile_fields.id').onDelete('CASCADE');
      // text, menu and checkbox ('1'/'0') live in value_text; dates in value_date (epoch ms), so
      // "field = value" and "date within" are both indexed lookups.
      t.string('value_text', 255).nullable();
      t.bigInteger('value_date').nullable();
      t.bigInteger('updated_at').notNullable();
      t.unique(['user_id', 'field_id']);
      t.index(['field_id', 'value_text']);
      t.index(['field_id', 'value_date']);
    });

    // One table for both trees: the code that walks them is identical, and `kind` leads every index.
    await knex.schema.createTable('hierarchy_nodes', (t) => {
      t.increments('id');
      t.string('kind', 20).notNullable(); // organisation | position
      t.string('name', 255).notNullable();
      t.integer('parent_id').unsigned().nullable().references('hierarchy_nodes.id');
      // Materialised path of ids from the root, e.g. `/1/4/9/`: the subtree of 4 is the range
      // ['/1/4/', '/1/4/~'). Binary collation on MySQL keeps '/' < digits < '~' whatever the
      // database default is, so the range is exact and uses the index on both databases.
      t.string('path', 500).notNullable().collate('utf8mb4_bin');
      t.integer('depth').notNullable(); // root = 1
      t.bigInteger('created_at').notNullable();
      t.bigInteger('updated_at').notNullable();
      t.index(['kind', 'path']);
      t.index(['parent_id']);
    });

    await knex.schema.createTable('job_assignments', (t) => {
      t.increments('id');
      t.integer('user_id').unsigned().notNullable().references('users.id').onDelete('CASCADE');
      t.integer('position_id').unsigned().nullable().references('hierarchy_nodes.id');
      t.integer('organisation_id').unsigned().nullable().references('hierarchy_nodes.id');
      t.integer('manager_job_assignment_id').unsigned().nullable().references('job_assignments.id');
      // Denormalised from the manager's job assignment so "my team" joins skip a hop.
      t.integer('manager_user_id').unsigned().nullable().references('users.id');
      // Job assignment ids from the top of the management chain down to this one: `/3/17/42/`.
      t.string('manager_path', 500).notNullable().collate('utf8mb4_bin');
      t.bigInteger('start_date').nullable();
      t.bigInteger('position_assigned_date').nullable();
      t.bigInteger('created_at').notNullable();
      t.bigInteger('updated_at').notNullable();
      t.index(['user_id']);
      t.index(['position_id']);
      t.index(['organisation_id']);
      t.index(['manager_job_assignment_id']);
      t.index(['manager_user_id']);
      t.index(['manager_path']);
    });

    await knex.schema.createTable('audiences', (t) => {
      t.increments('id');
      t.string('name', 255).notNullable();
      t.string('type', 20).notNullable(); // static | dynamic
      t.text('rules').nullable(); // JSON, dynamic only
      t.bigInteger('created_at').notNullable();
      t.bigInteger('updated_at').notNullable();
    });

    await knex.schema.createTable('audience_members', (t) => {
      t.increments('id');
      t.integer('audience_id').unsigned().notNullable().references('audiences.id').onDelete('CASCADE');
      t.integer('user_id').unsigned().notNullable().references('users.id').onDelete('CASCADE');
      t.string('source', 20).notNullable(); // manual | rules
      t.bigInteger('added_at').notNullable();
      t.unique(['audience_id', 'user_id']);
      t.index(['user_id']);
    });
  },
  async down(knex) {
    await knex.schema.dropTableIfExists('audience_members');
    await knex.schema.dropTableIfExists('audiences');
    await knex.schema.dropTableIfExists('job_assignments');
    await knex.schema.dropTableIfExists('hierarchy_nodes');
    await knex.schema.dropTableIfExists('user_profile_values');
    await knex.schema.dropTableIfExists('profile_fields');
  },
};
