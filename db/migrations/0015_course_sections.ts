import type { Migration } from '../../core/kernel/db/migrations';

/**
 * Course sections (issue 13 item 1): a course's activities grouped under named sections, each of
 * which may carry a restriction tree that applies to every activity in it (DOMAIN 8). An activity
 * without a section sits at the top of the course. Deleting a section leaves its activities
 * section-less rather than deleting them.
 */
export const courseSections: Migration = {
  name: '0015_course_sections',
  async up(knex) {
    await knex.schema.createTable('course_sections', (t) => {
      t.increments('id');
      t.integer('course_id').unsigned().notNullable().references('courses.id').onDelete('CASCADE');
      t.integer('sortorder').notNullable();
      t.string('name', 255).notNullable();
      // Restriction tree, as on activities: JSON text so both dialects agree.
      t.text('availability').nullable();
      t.bigInteger('created_at').notNullable();
      t.bigInteger('updated_at').notNullable();
      t.unique(['course_id', 'sortorder']);
    });
    await knex.schema.alterTable('activities', (t) => {
      t.integer('section_id').unsigned().nullable().references('course_sections.id').onDelete('SET NULL');
      t.index(['section_id']);
    });
  },
  async down(knex) {
    await knex.schema.alterTable('activities', (t) => {
      t.dropForeign(['section_id']);
      t.dropIndex(['section_id']);
      t.dropColumn('section_id');
    });
    await knex.schema.dropTableIfExists('course_sections');
  },
};
