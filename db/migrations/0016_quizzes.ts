import type { Migration } from '../../core/kernel/db/migrations';

/**
 * Quizzes the server grades (issue 13 item 5): a quiz activity's settings, its questions (the right
 * answers stay on the server) and the learners' submitted attempts. Owned by the learning module.
 */
export const quizzes: Migration = {
  name: '0016_quizzes',
  async up(knex) {
    await knex.schema.createTable('quiz_settings', (t) => {
      t.integer('activity_id').unsigned().primary().references('activities.id').onDelete('CASCADE');
      // 0: unlimited.
      t.integer('attempts_allowed').notNullable().defaultTo(0);
      t.string('grading_method', 10).notNullable().defaultTo('highest'); // highest | last | average
      t.boolean('review_after_submission').notNullable().defaultTo(true);
      t.bigInteger('updated_at').notNullable();
    });
    await knex.schema.createTable('quiz_questions', (t) => {
      t.increments('id');
      t.integer('activity_id').unsigned().notNullable().references('activities.id').onDelete('CASCADE');
      t.integer('sortorder').notNullable();
      t.string('type', 20).notNullable(); // multichoice | truefalse | numeric
      t.text('text').notNullable();
      // JSON: the choices' texts (multichoice), else null.
      t.text('choices').nullable();
      // JSON: the right answer (choice indexes, a boolean, or {value, tolerance}).
      t.text('answer').notNullable();
      t.decimal('marks', 10, 2).notNullable();
      t.unique(['activity_id', 'sortorder']);
    });
    await knex.schema.createTable('quiz_attempts', (t) => {
      t.increments('id');
      t.integer('activity_id').unsigned().notNullable().references('activities.id').onDelete('CASCADE');
      t.integer('user_id').unsigned().notNullable().references('users.id').onDelete('CASCADE');
      t.integer('attempt').notNullable();
      // JSON: the submitted answers by question id, and each question's marks as graded.
      t.text('answers').notNullable();
      t.text('results').notNullable();
      t.decimal('marks', 10, 2).notNullable();
      t.decimal('max_marks', 10, 2).notNullable();
      // In the activity's grade scale (0..max_grade).
      t.decimal('grade', 10, 2).notNullable();
      t.bigInteger('submitted_at').notNullable();
      // Also what makes two concurrent submissions of the same attempt number fail instead of both counting.
      t.unique(['activity_id', 'user_id', 'attempt']);
      t.index(['user_id']);
    });
  },
  async down(knex) {
    for (const table of ['quiz_attempts', 'quiz_questions', 'quiz_settings']) await knex.schema.dropTableIfExists(table);
  },
};
