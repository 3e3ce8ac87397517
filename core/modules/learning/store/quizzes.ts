import type { Knex } from 'knex';
import { readPage, wherePrefix, type KeysetOrder, type KeysetPage, type PagePosition } from '../../../kernel/db/keyset';
import type { Executor } from '../../../kernel/db/database';

/** A `quiz_settings` row. */
export interface QuizSettingsRow {
  activity_id: number;
  attempts_allowed: number;
  grading_method: string;
  review_after_submission: number | boolean;
  updated_at: number;
}

/** A `quiz_questions` row (`choices` and `answer` are JSON). */
export interface QuizQuestionRow {
  id: number;
  activity_id: number;
  sortorder: number;
  type: string;
  text: string;
  choices: string | null;
  answer: string;
  marks: number | string;
}

/** A `quiz_attempts` row (`answers` and `results` are JSON). */
export interface QuizAttemptRow {
  id: number;
  activity_id: number;
  user_id: number;
  attempt: number;
  answers: string;
  results: string;
  marks: number | string;
  max_marks: number | string;
  grade: number | string;
  submitted_at: number | string;
}

export async function quizSettingsOf(executor: Executor, activityId: number): Promise<QuizSettingsRow | undefined> {
  return (await executor('quiz_settings').where('activity_id', activityId).first()) as QuizSettingsRow | undefined;
}

/** Inserts or replaces the quiz's settings. */
export async function saveQuizSettings(trx: Knex.Transaction, row: QuizSettingsRow): Promise<void> {
  await trx('quiz_settings').insert(row).onConflict('activity_id').merge();
}

export async function questionsOf(executor: Executor, activityId: number): Promise<QuizQuestionRow[]> {
  return (await executor('quiz_questions').where('activity_id', activityId).orderBy('sortorder')) as QuizQuestionRow[];
}

/** Replaces the quiz's questions in one statement each way; returns nothing (ids are new). */
export async function replaceQuestions(trx: Knex.Transaction, activityId: number, rows: Array<Omit<QuizQuestionRow, 'id'>>): Promise<void> {
  await trx('quiz_questions').where('activity_id', activityId).delete();
  if (rows.length) await trx('quiz_questions').insert(rows);
}

/** A learner's attempts, newest first (the attempt number is unique per learner and quiz). */
export const NEWEST_ATTEMPT_FIRST: KeysetOrder = { name: 'newest', keys: [{ column: 'attempt', direction: 'desc' }] };

/** One page of the learner's attempts at the quiz, newest first (a quiz may allow unlimited attempts). */
export function attemptsPage(executor: Executor, activityId: number, userId: number, position: PagePosition): Promise<KeysetPage<QuizAttemptRow>> {
  return readPage<QuizAttemptRow>(executor('quiz_attempts').where({ activity_id: activityId, user_id: userId }).select('*'), NEWEST_ATTEMPT_FIRST, position);
}

/** What a grade on record is made of, whatever the number of attempts: one aggregate read. */
export interface AttemptTotals {
  count: number;
  highest: number | null;
  sum: number;
  last: number | null;
}

export async function attemptTotals(executor: Executor, activityId: number, userId: number): Promise<AttemptTotals> {
  const mine = () => executor('quiz_attempts').where({ activity_id: activityId, user_id: userId });
  const [totals] = (await mine().select(executor.raw('COUNT(*) as n'), executor.raw('MAX(grade) as highest'), executor.raw('SUM(grade) as total'))) as Array<{
    n: number | string;
    highest: number | string | null;
    total: number | string | null;
  }>;
  const last = (await mine().orderBy('attempt', 'desc').first('grade')) as { grade: number | string } | undefined;
  return {
    count: Number(totals?.n ?? 0),
    highest: totals?.highest == null ? null : Number(totals.highest),
    sum: Number(totals?.total ?? 0),
    last: last === undefined ? null : Number(last.grade),
  };
}

export async function insertAttempt(trx: Knex.Transaction, row: Omit<QuizAttemptRow, 'id'>): Promise<void> {
  await trx('quiz_attempts').insert(row);
}

/** How many attempts the quiz has from anyone (questions cannot be replaced once learners answered them). */
export async function attemptCount(executor: Executor, activityId: number): Promise<number> {
  const [{ total }] = (await executor('quiz_attempts').where('activity_id', activityId).count({ total: '*' })) as Array<{ total: number | string }>;
  return Number(total);
}

/** The quiz list's order: by quiz name, any case, then id (the `activities_type_name_list` index). */
export const QUIZ_LIST_ORDER: KeysetOrder = {
  name: 'name',
  keys: [
    { column: 'a.name', direction: 'asc', caseInsensitive: true },
    { column: 'a.id', direction: 'asc' },
  ],
};

/** A keyset page of quiz activities whose name starts with `q`, with their course and question and attempt counts. */
export function quizPage(
  executor: Executor,
  q: string,
  position: PagePosition,
): Promise<KeysetPage<{ id: number; name: string; course: string; questions: number | string; attempts: number | string }>> {
  const query = executor('activities as a')
    .join('courses as c', 'c.id', 'a.course_id')
    .where('a.type', 'quiz')
    .select(
      'a.id',
      'a.name',
      'c.fullname as course',
      executor('quiz_questions as q').count('*').whereRaw('q.activity_id = a.id').as('questions'),
      executor('quiz_attempts as t').count('*').whereRaw('t.activity_id = a.id').as('attempts'),
    );
  if (q) wherePrefix(query, ['a.name'], q);
  return readPage(query, QUIZ_LIST_ORDER, position);
}
