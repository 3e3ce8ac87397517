import type { Migration } from '../../core/kernel/db/migrations';

/** Courses, activities, completion criteria, enrolments, activity/course completion and grades. */
export const learning: Migration = {
  name: '0004_learning',
  async up(knex) {
    await knex.schema.createTable('courses', (t) => {
      t.increments('id');
      t.string('shortname', 100).notNullable().unique();
      t.string('fullname', 255).notNullable();
      t.text('summary').nullable();
      t.boolean('visible').notNullable().defaultTo(true);
      t.bigInteger('start_date').nullable();
      // Weight used by the program rule `some` (minScore).
      t.integer('score').notNullable().defaultTo(0);
      t.bigInteger('created_at').notNullable();
      t.bigInteger('updated_at').notNullable();
    });
    await knex.schema.createTable('activities', (t) => {
      t.increments('id');
      t.integer('course_id').unsigned().notNullable().references('courses.id').onDelete('CASCADE');
      t.integer('sortorder').notNullable();
      t.string('type', 50).notNullable();
      t.string('name', 255).notNullable();
      t.boolean('completion_tracked').notNullable().defaultTo(false);
      t.decimal('max_grade', 10, 2).notNullable().defaultTo(0);
      // Restriction tree (issue 8); stored as JSON text so both dialects agree.
      t.text('availability').nullable();
      t.bigInteger('created_at').notNullable();
      t.unique(['course_id', 'sortorder']);
    });
    await knex.schema.createTable('course_completion_criteria', (t) => {
      t.integer('course_id').unsigned().primary().references('courses.id').onDelete('CASCADE');
      t.string('mode', 20).notNullable(); // all_tracked | subset | min_grade
      t.text('activity_ids').nullable(); // JSON array, mode subset
      t.decimal('min_grade', 5, 2).nullable(); // percent, mode min_grade
      t.bigInteger('updated_at').notNullable();
    });
    await knex.schema.createTable('enrolments', (t) => {
      t.increments('id');
      t.integer('user_id').unsigned().notNullable().references('users.id').onDelete('CASCADE');
      t.integer('course_id').unsigned().notNullable().references('courses.id').onDelete('CASCADE');
      t.string('method', 100).notNullable();
      t.string('status', 20).notNullable(); // active | suspended
      t.bigInteger('created_at').notNullable();
      t.bigInteger('updated_at').notNullable();
      t.unique(['user_id', 'course_id', 'method']);
      t.index(['course_id']);
    });
    await knex.schema.createTable('activity_completions', (t) => {
      t.increments('id');
      t.integer('user_id').unsigned().notNullable().references('users.id').onDelete('CASCADE');
      t.integer('activity_id').unsigned().notNullable().references('activities.id').onDelete('CASCADE');
      t.bigInteger('completed_at').notNullable();
      t.unique(['user_id', 'activity_id']);
      t.index(['activity_id']);
    });
    await knex.schema.createTable('grades', (t) => {
      t.increments('id');
      t.integer('user_id').unsigned().notNullable().references('users.id').onDelete('CASCADE');
      t.integer('activity_id').unsigned().notNullable().references('activities.id').onDelete('CASCADE');
      t.decimal('grade', 10, 2).notNullable();
      t.bigInteger('graded_at').notNullable();
      t.unique(['user_id', 'activity_id']);
      t.index(['activity_id']);
    });
    await knex.schema.createTable('course_completions', (t) => {
      t.increments('id');
      t.integer('user_id').unsigned().notNullable().references('users.id').onDelete('CASCADE');
      t.integer('course_id').unsigned().notNullable().references('courses.id').onDelete('CASCADE');
      t.bigInteger('completed_at').notNullable();
      t.string('source', 20).notNullable(); // activity | api | import
      t.bigInteger('created_at').notNullable();
      // (user_id, course_id) serves "this learner's completions in these courses": the hot path.
      t.unique(['user_id', 'course_id']);
      t.index(['course_id']);
    });
    await knex.schema.createTable('course_completion_history', (t) => {
      t.increments('id');
      t.integer('user_id').unsigned().notNullable().references('users.id').onDelete('CASCADE');
      t.integer('course_id').unsigned().notNullable().references('courses.id').onDelete('CASCADE');
      t.bigInteger('completed_at').notNullable();
      t.string('source', 20).notNullable();
      t.string('action', 20).notNullable(); // completed | backdated
      t.bigInteger('recorded_at').notNullable();
      t.index(['user_id', 'course_id']);
    });
  },
  async down(knex) {
    for (const table of [
      'course_completion_history',
      'course_completions',
      'grades',
      'activity_completions',
      'enrolments',
      'course_completion_criteria',
      'activities',
      'courses',
    ]) {
      await knex.schema.dropTableIfExists(table);
    }
  },
};
