import type { Migration } from '../../core/kernel/db/migrations';

/** Programs, their course sets, and program / course-set completion. */
export const programs: Migration = {
  name: '0005_programs',
  async up(knex) {
    await knex.schema.createTable('programs', (t) => {
      t.increments('id');
      t.string('shortname', 100).notNullable().unique();
      t.string('fullname', 255).notNullable();
      t.text('summary').nullable();
      t.boolean('available').notNullable().defaultTo(true);
      t.bigInteger('available_from').nullable();
      t.bigInteger('available_until').nullable();
      // Bumped on every structure change; in-process caches compare it to notice edits by any process.
      t.integer('structure_version').notNullable().defaultTo(1);
      t.bigInteger('created_at').notNullable();
      t.bigInteger('updated_at').notNullable();
    });
    await knex.schema.createTable('program_course_sets', (t) => {
      t.increments('id');
      t.integer('program_id').unsigned().notNullable().references('programs.id').onDelete('CASCADE');
      t.integer('sortorder').notNullable();
      t.string('label', 255).notNullable();
      t.string('rule', 20).notNullable(); // all | any | some | optional
      t.integer('min_courses').notNullable().defaultTo(0);
      t.integer('min_score').notNullable().defaultTo(0);
      t.string('min_time', 50).nullable(); // ISO-8601 duration
      t.string('operator', 10).nullable(); // then | and | or; null on the last set
      t.unique(['program_id', 'sortorder']);
    });
    await knex.schema.createTable('program_course_set_courses', (t) => {
      t.increments('id');
      t.integer('course_set_id').unsigned().notNullable().references('program_course_sets.id').onDelete('CASCADE');
      t.integer('course_id').unsigned().notNullable().references('courses.id').onDelete('CASCADE');
      t.integer('sortorder').notNullable();
      t.unique(['course_set_id', 'course_id']);
      // "Every program containing this course": the first step of completion recalculation.
      t.index(['course_id', 'course_set_id']);
    });
    await knex.schema.createTable('program_completions', (t) => {
      t.increments('id');
      t.integer('program_id').unsigned().notNullable().references('programs.id').onDelete('CASCADE');
      t.integer('user_id').unsigned().notNullable().references('users.id').onDelete('CASCADE');
      t.string('status', 20).notNullable(); // incomplete | complete
      t.bigInteger('completed_at').nullable();
      t.bigInteger('due_at').nullable();
      t.bigInteger('created_at').notNullable();
      t.bigInteger('updated_at').notNullable();
      t.unique(['program_id', 'user_id']);
      t.index(['user_id']);
    });
    await knex.schema.createTable('course_set_completions', (t) => {
      t.increments('id');
      t.integer('course_set_id').unsigned().notNullable().references('program_course_sets.id').onDelete('CASCADE');
      t.integer('program_id').unsigned().notNullable().references('programs.id').onDelete('CASCADE');
      t.integer('user_id').unsigned().notNullable().references('users.id').onDelete('CASCADE');
      t.string('status', 20).notNullable(); // incomplete | complete
      t.bigInteger('completed_at').nullable();
      t.bigInteger('opened_at').nullable();
      t.bigInteger('due_at').nullable();
      t.bigInteger('created_at').notNullable();
      t.bigInteger('updated_at').notNullable();
      t.unique(['course_set_id', 'user_id']);
      t.index(['program_id', 'user_id']);
    });
    await knex.schema.createTable('program_completion_history', (t) => {
      t.increments('id');
      t.integer('program_id').unsigned().notNullable().references('programs.id').onDelete('CASCADE');
      t.integer('user_id').unsigned().notNullable().references('users.id').onDelete('CASCADE');
      t.bigInteger('completed_at').notNullable();
      t.string('reason', 30).notNullable(); // structure_change | recompleted
      t.bigInteger('archived_at').notNullable();
      t.index(['program_id', 'user_id']);
    });
  },
  async down(knex) {
    for (const table of [
      'program_completion_history',
      'course_set_completions',
      'program_completions',
      'program_course_set_courses',
      'program_course_sets',
      'programs',
    ]) {
      await knex.schema.dropTableIfExists(table);
    }
  },
};
