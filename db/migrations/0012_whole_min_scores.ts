import type { Migration } from '../../core/kernel/db/migrations';

/**
 * Course-set `min_score` becomes a whole number everywhere (issue 10 item 2). The API used to accept
 * a fractional minScore; SQLite kept it (MariaDB's integer column had already rounded it), and the
 * program form then refused to save the program. Course scores are whole numbers, so a sum of them
 * reaches x exactly when it reaches ceil(x): rounding up changes no learner's completion.
 */
export const wholeMinScores: Migration = {
  name: '0012_whole_min_scores',
  async up(knex) {
    const fractional = (await knex('program_course_sets').select('id', 'min_score').whereRaw('min_score <> ROUND(min_score)')) as Array<{
      id: number;
      min_score: number;
    }>;
    for (const row of fractional)
      await knex('program_course_sets')
        .where({ id: row.id })
        .update({ min_score: Math.ceil(Number(row.min_score)) });
  },
  async down() {
    // Nothing to undo: the rounded values are equivalent.
  },
};
