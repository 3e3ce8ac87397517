import type { Migration } from '../../core/kernel/db/migrations';

/**
 * Saved reports (issue 14): a report name with its filters and order, saved under a name an
 * operator chose, optionally shown on the administration dashboard. Shared by every site
 * administrator, as Totara's saved searches are shared with the report's audience.
 */
export const savedReports: Migration = {
  name: '0025_saved_reports',
  async up(knex) {
    await knex.schema.createTable('saved_reports', (t) => {
      t.increments('id');
      t.string('name', 120).notNullable();
      t.string('report', 64).notNullable();
      // The report's query values (filters and order) as the report page sends them: JSON text.
      t.text('query').notNullable();
      t.boolean('on_dashboard').notNullable().defaultTo(false);
      t.integer('created_by').unsigned().nullable().references('users.id').onDelete('SET NULL');
      t.bigInteger('created_at').notNullable();
      t.bigInteger('updated_at').notNullable();
      t.unique(['name'], { indexName: 'saved_reports_name' });
      t.index(['on_dashboard', 'name'], 'saved_reports_dashboard');
    });
  },
  async down(knex) {
    await knex.schema.dropTableIfExists('saved_reports');
  },
};
