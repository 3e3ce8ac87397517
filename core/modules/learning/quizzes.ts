import type { KeysetPage, PagePosition } from '../../kernel/db/keyset';
import type { Database } from '../../kernel/db/database';
import { isUniqueViolation } from '../../kernel/db/database';
import { conflict, forbidden, invalid, notFound, type ErrorDetail } from '../../kernel/errors';
import type { Logger } from '../../kernel/logging';
import type { CompletionService } from './completion';
import { activityById } from './store/courses';
import { hasActiveEnrolment } from './store/enrolments';
import {
  attemptCount,
  attemptTotals,
  attemptsPage,
  type AttemptTotals,
  insertAttempt,
  questionsOf,
  quizSettingsOf,
  quizPage,
  replaceQuestions,
  saveQuizSettings,
  type QuizAttemptRow,
  type QuizQuestionRow,
} from './store/quizzes';

export type GradingMethod = 'highest' | 'last' | 'average';

/** A question as an operator writes it; `marks` defaults to 1. */
export type QuestionInput =
  /** One right answer, or several (then each right choice is worth an equal share). */
  | { type: 'multichoice'; text: string; choices: Array<{ text: string; correct: boolean }>; marks?: number }
  | { type: 'truefalse'; text: string; correct: boolean; marks?: number }
  /** Right when within `tolerance` (absolute, default 0) of `answer`. */
  | { type: 'numeric'; text: string; answer: number; tolerance?: number; marks?: number };

/** A question as stored and shown: `choices` for multichoice; the right answer only to operators and in a review. */
export interface Question {
  id: number;
  position: number;
  type: QuestionInput['type'];
  text: string;
  marks: number;
  choices?: string[];
  /** True when more than one choice is right (the learner may tick several). */
  multipleAnswers?: boolean;
  answer?: { choices: number[] } | { correct: boolean } | { value: number; tolerance: number };
}

export interface QuizSettings {
  /** 0: unlimited. */
  attemptsAllowed: number;
  gradingMethod: GradingMethod;
  /** Whether the learner sees right answers and marks per question after submitting. */
  reviewAfterSubmission: boolean;
}

export interface Quiz extends QuizSettings {
  activityId: number;
  maxGrade: number;
  questions: Question[];
}

/** A learner's answer: chosen choice indexes (multichoice), a boolean (true/false) or a number. */
export type AnswerValue = number[] | boolean | number;

export interface QuestionResult {
  questionId: number;
  marks: number;
  maxMarks: number;
  correct: boolean;
}

export interface Attempt {
  attempt: number;
  marks: number;
  maxMarks: number;
  /** In the activity's grade scale. */
  grade: number;
  submittedAt: number;
  answers: Record<string, AnswerValue>;
  /** Per-question marks; present when the quiz shows a review after submission (or to operators). */
  results?: QuestionResult[];
}

export interface AttemptOutcome {
  attempt: Attempt;
  /** The grade now on record for the learner (by the grading method over every attempt). */
  grade: number;
  attemptsUsed: number;
  /** null when unlimited. */
  attemptsLeft: number | null;
  /** Right answers, when the quiz shows a review after submission. */
  review: Question[] | null;
  courseCompletedAt: number | null;
}

export interface QuizService {
  /** The quiz with its right answers when `withAnswers` (operators); 404, or 422 QUIZ_NOT_A_QUIZ for another activity type. */
  get(activityId: number, options?: { withAnswers?: boolean }): Promise<Quiz>;
  /**
   * Replaces the settings and, when given, the questions. Questions cannot change once someone
   * has attempted the quiz (409 QUIZ_HAS_ATTEMPTS): their attempts were graded against them.
   */
  save(activityId: number, input: Partial<QuizSettings> & { questions?: QuestionInput[] }): Promise<Quiz>;
  /**
   * Grades the learner's answers, records the attempt and the resulting grade (highest / last /
   * average of the attempts) through the completion service, in one transaction: the grade
   * completes the activity and the course like any other. 409 QUIZ_NO_ATTEMPTS_LEFT, 409 QUIZ_HAS_NO_QUESTIONS.
   */
  submit(activityId: number, userId: number, answers: Record<string, unknown>): Promise<AttemptOutcome>;
  /** A keyset page of quiz activities (operators) whose name starts with `q`, by name, with question and attempt counts. */
  list(q: string, position: PagePosition): Promise<KeysetPage<{ id: number; name: string; course: string; questions: number; attempts: number }>>;
  /** Whether anyone has attempted the quiz (its questions are then frozen). */
  attempted(activityId: number): Promise<boolean>;
  /** 403 unless the user has an active enrolment in the quiz's course (learners take quizzes of courses they are in). */
  requireEnrolled(activityId: number, userId: number): Promise<void>;
  /**
   * A page of the learner's attempts, newest first (results included when the quiz shows reviews or
   * `withResults`), with the grade on record and the attempts left, counted over every attempt.
   */
  attempts(
    activityId: number,
    userId: number,
    options?: { withResults?: boolean; position?: PagePosition },
  ): Promise<{ attempts: Attempt[]; nextCursor: string | null; grade: number | null; attemptsUsed: number; attemptsLeft: number | null }>;
}

const DEFAULTS: QuizSettings = { attemptsAllowed: 0, gradingMethod: 'highest', reviewAfterSubmission: true };
const round2 = (n: number): number => Math.round(n * 100) / 100;

function toQuestion(row: QuizQuestionRow, position: number, withAnswer: boolean): Question {
  const answer = JSON.parse(row.answer) as Question['answer'];
  const q: Question = { id: Number(row.id), position, type: row.type as Question['type'], text: row.text, marks: Number(row.marks) };
  if (row.type === 'multichoice') {
    q.choices = JSON.parse(row.choices ?? '[]') as string[];
    q.multipleAnswers = (answer as { choices: number[] }).choices.length > 1;
  }
  if (withAnswer) q.answer = answer;
  return q;
}

/** Marks for one answer. Several right choices: each right one ticked earns a share, each wrong one ticked loses a share, never below 0. */
export function markAnswer(question: Question & { answer: NonNullable<Question['answer']> }, given: AnswerValue | undefined): number {
  if (given === undefined) return 0;
  switch (question.type) {
    case 'truefalse':
      return given === (question.answer as { correct: boolean }).correct ? question.marks : 0;
    case 'numeric': {
      const { value, tolerance } = question.answer as { value: number; tolerance: number };
      return typeof given === 'number' && Math.abs(given - value) <= tolerance + 1e-9 ? question.marks : 0;
    }
    case 'multichoice': {
      const right = new Set((question.answer as { choices: number[] }).choices);
      const ticked = new Set(given as number[]);
      if (right.size === 1) return ticked.size === 1 && right.has([...ticked][0]!) ? question.marks : 0;
      const wrongCount = (question.choices?.length ?? 0) - right.size;
      let score = 0;
      for (const choice of ticked) score += right.has(choice) ? 1 / right.size : -1 / Math.max(wrongCount, 1);
      return round2(Math.max(0, Math.min(1, score)) * question.marks);
    }
  }
}

/** A stored question as the input that would recreate it (to edit a quiz's list of questions). */
export function inputOf(q: Question): QuestionInput {
  const answer = q.answer!;
  if (q.type === 'multichoice') {
    const right = new Set((answer as { choices: number[] }).choices);
    return { type: 'multichoice', text: q.text, marks: q.marks, choices: (q.choices ?? []).map((text, i) => ({ text, correct: right.has(i) })) };
  }
  if (q.type === 'truefalse') return { type: 'truefalse', text: q.text, marks: q.marks, correct: (answer as { correct: boolean }).correct };
  const { value, tolerance } = answer as { value: number; tolerance: number };
  return { type: 'numeric', text: q.text, marks: q.marks, answer: value, tolerance };
}

/** The grade on record from the attempts' grades. */
/** The grade on record from every attempt's totals (see `attemptTotals`): the highest, the last, or their average. */
export function gradeOnRecord(method: GradingMethod, totals: AttemptTotals): number | null {
  if (totals.count === 0) return null;
  if (method === 'last') return totals.last;
  if (method === 'average') return round2(totals.sum / totals.count);
  return totals.highest;
}

/** Attempts a page shows at a time. */
export const ATTEMPTS_PAGE = 50;

export function createQuizService(site: { db: Database; logger: Logger; completion: CompletionService }): QuizService {
  const knex = () => site.db.knex;

  async function quizActivity(executor: Parameters<typeof activityById>[0], activityId: number): Promise<{ maxGrade: number; courseId: number }> {
    const row = await activityById(executor, activityId);
    if (!row) throw notFound('Activity', activityId);
    if (row.type !== 'quiz')
      throw invalid('QUIZ_NOT_A_QUIZ', `Activity ${activityId} is a ${row.type}, not a quiz`, [
        { path: 'activityId', code: 'QUIZ_NOT_A_QUIZ', message: 'not a quiz' },
      ]);
    return { maxGrade: Number(row.max_grade), courseId: Number(row.course_id) };
  }

  async function load(executor: Parameters<typeof activityById>[0], activityId: number, withAnswers: boolean): Promise<Quiz> {
    const { maxGrade } = await quizActivity(executor, activityId);
    const settings = await quizSettingsOf(executor, activityId);
    const questions = (await questionsOf(executor, activityId)).map((row, i) => toQuestion(row, i + 1, withAnswers));
    return {
      activityId,
      maxGrade,
      attemptsAllowed: settings ? Number(settings.attempts_allowed) : DEFAULTS.attemptsAllowed,
      gradingMethod: (settings?.grading_method as GradingMethod | undefined) ?? DEFAULTS.gradingMethod,
      reviewAfterSubmission: settings ? settings.review_after_submission === true || settings.review_after_submission === 1 : DEFAULTS.reviewAfterSubmission,
      questions,
    };
  }

  function questionRows(activityId: number, questions: QuestionInput[]): Array<Omit<QuizQuestionRow, 'id'>> {
    const problems: ErrorDetail[] = [];
    const rows = questions.map((q, i) => {
      const path = `questions/${i}`;
      let choices: string[] | null = null;
      let answer: unknown;
      if (q.type === 'multichoice') {
        choices = q.choices.map((c) => c.text);
        const right = q.choices.flatMap((c, index) => (c.correct ? [index] : []));
        if (right.length === 0) problems.push({ path: `${path}/choices`, code: 'QUIZ_NO_RIGHT_ANSWER', message: 'Mark at least one choice as right' });
        answer = { choices: right };
      } else if (q.type === 'truefalse') {
        answer = { correct: q.correct };
      } else {
        answer = { value: q.answer, tolerance: q.tolerance ?? 0 };
      }
      return {
        activity_id: activityId,
        sortorder: i + 1,
        type: q.type,
        text: q.text,
        choices: choices ? JSON.stringify(choices) : null,
        answer: JSON.stringify(answer),
        marks: q.marks ?? 1,
      };
    });
    if (problems.length) throw invalid(problems[0]!.code!, problems[0]!.message, problems);
    return rows;
  }

  /** Reads a learner's answers against the questions: unknown ids and wrong value types are 422. */
  function parseAnswers(questions: Question[], answers: Record<string, unknown>): Record<string, AnswerValue> {
    const byId = new Map(questions.map((q) => [String(q.id), q]));
    const out: Record<string, AnswerValue> = {};
    const problems: ErrorDetail[] = [];
    for (const [key, value] of Object.entries(answers)) {
      const q = byId.get(key);
      const path = `answers/${key}`;
      if (!q) {
        problems.push({ path, code: 'QUIZ_QUESTION_UNKNOWN', message: `Question ${key} is not in this quiz` });
        continue;
      }
      const ok =
        q.type === 'truefalse'
          ? typeof value === 'boolean'
          : q.type === 'numeric'
            ? typeof value === 'number' && Number.isFinite(value)
            : Array.isArray(value) && value.every((c) => Number.isInteger(c) && c >= 0 && c < (q.choices?.length ?? 0)) && new Set(value).size === value.length;
      if (!ok) {
        const expected = q.type === 'truefalse' ? 'true or false' : q.type === 'numeric' ? 'a number' : 'a list of distinct choice indexes';
        problems.push({ path, code: 'QUIZ_ANSWER_INVALID', message: `Question ${q.position} expects ${expected}` });
        continue;
      }
      if (q.type === 'multichoice' && !q.multipleAnswers && (value as number[]).length > 1) {
        problems.push({ path, code: 'QUIZ_ANSWER_INVALID', message: `Question ${q.position} takes one choice` });
        continue;
      }
      out[key] = value as AnswerValue;
    }
    if (problems.length) throw invalid(problems[0]!.code!, problems[0]!.message, problems);
    return out;
  }

  const attemptOf = (row: QuizAttemptRow, withResults: boolean): Attempt => ({
    attempt: Number(row.attempt),
    marks: Number(row.marks),
    maxMarks: Number(row.max_marks),
    grade: Number(row.grade),
    submittedAt: Number(row.submitted_at),
    answers: JSON.parse(row.answers) as Record<string, AnswerValue>,
    ...(withResults ? { results: JSON.parse(row.results) as QuestionResult[] } : {}),
  });

  return {
    get: (activityId, options = {}) => load(knex(), activityId, options.withAnswers === true),

    async save(activityId, input) {
      return site.db.transaction(async (trx) => {
        const current = await load(trx, activityId, true);
        if (input.questions !== undefined) {
          if ((await attemptCount(trx, activityId)) > 0)
            throw conflict(
              'QUIZ_HAS_ATTEMPTS',
              'Learners have attempted this quiz: its questions can no longer change (their grades were earned against them)',
            );
          await replaceQuestions(trx, activityId, questionRows(activityId, input.questions));
        }
        await saveQuizSettings(trx, {
          activity_id: activityId,
          attempts_allowed: input.attemptsAllowed ?? current.attemptsAllowed,
          grading_method: input.gradingMethod ?? current.gradingMethod,
          review_after_submission: input.reviewAfterSubmission ?? current.reviewAfterSubmission,
          updated_at: site.db.now(),
        });
        return load(trx, activityId, true);
      });
    },

    async list(q, position) {
      const page = await quizPage(knex(), q, position);
      return {
        ...page,
        items: page.items.map((r) => ({ id: Number(r.id), name: r.name, course: r.course, questions: Number(r.questions), attempts: Number(r.attempts) })),
      };
    },

    async attempted(activityId) {
      return (await attemptCount(knex(), activityId)) > 0;
    },

    async requireEnrolled(activityId, userId) {
      const { courseId } = await quizActivity(knex(), activityId);
      if (!(await hasActiveEnrolment(knex(), userId, courseId))) throw forbidden('Enrol in the course (open it from your program) before taking its quiz');
    },

    async submit(activityId, userId, answers) {
      return site.db.transaction(async (trx) => {
        const quiz = await load(trx, activityId, true);
        if (quiz.questions.length === 0) throw conflict('QUIZ_HAS_NO_QUESTIONS', 'This quiz has no questions yet');
        if (quiz.maxGrade <= 0) throw conflict('QUIZ_NOT_GRADED', 'This quiz has no maximum grade');
        const given = parseAnswers(quiz.questions, answers);
        const previous = await attemptTotals(trx, activityId, userId);
        if (quiz.attemptsAllowed > 0 && previous.count >= quiz.attemptsAllowed)
          throw conflict('QUIZ_NO_ATTEMPTS_LEFT', `You have used all ${quiz.attemptsAllowed} attempt${quiz.attemptsAllowed === 1 ? '' : 's'} at this quiz`);
        const results: QuestionResult[] = quiz.questions.map((q) => {
          const marks = markAnswer(q as Question & { answer: NonNullable<Question['answer']> }, given[String(q.id)]);
          return { questionId: q.id, marks, maxMarks: q.marks, correct: marks >= q.marks };
        });
        const marks = round2(results.reduce((sum, r) => sum + r.marks, 0));
        const maxMarks = round2(results.reduce((sum, r) => sum + r.maxMarks, 0));
        const grade = round2((marks / maxMarks) * quiz.maxGrade);
        const now = site.db.now();
        const row = {
          activity_id: activityId,
          user_id: userId,
          attempt: previous.count + 1,
          answers: JSON.stringify(given),
          results: JSON.stringify(results),
          marks,
          max_marks: maxMarks,
          grade,
          submitted_at: now,
        };
        try {
          await insertAttempt(trx, row);
        } catch (error) {
          // A concurrent submission took this attempt number: this one is refused, not counted twice.
          if (isUniqueViolation(error)) throw conflict('QUIZ_ATTEMPT_CONFLICT', 'Another attempt was submitted at the same time; reload and try again');
          throw error;
        }
        const onRecord = gradeOnRecord(quiz.gradingMethod, {
          count: previous.count + 1,
          highest: Math.max(previous.highest ?? grade, grade),
          sum: previous.sum + grade,
          last: grade,
        })!;
        // The grade goes through the completion service, so the activity and course complete (and
        // programs and audiences follow) in this same transaction.
        const recorded = await site.completion.recordGrade(activityId, userId, onRecord, { trx });
        site.logger.info('quiz attempt graded', { activityId, userId, attempt: row.attempt, grade, onRecord });
        const used = previous.count + 1;
        return {
          attempt: attemptOf({ id: 0, ...row }, quiz.reviewAfterSubmission),
          grade: onRecord,
          attemptsUsed: used,
          attemptsLeft: quiz.attemptsAllowed > 0 ? quiz.attemptsAllowed - used : null,
          review: quiz.reviewAfterSubmission ? quiz.questions : null,
          courseCompletedAt: recorded.course?.completedAt ?? null,
        };
      });
    },

    async attempts(activityId, userId, options = {}) {
      const quiz = await load(knex(), activityId, false);
      const page = await attemptsPage(knex(), activityId, userId, options.position ?? { limit: ATTEMPTS_PAGE, from: null });
      const totals = await attemptTotals(knex(), activityId, userId);
      const withResults = options.withResults === true || quiz.reviewAfterSubmission;
      return {
        attempts: page.items.map((r) => attemptOf(r, withResults)),
        nextCursor: page.nextCursor,
        grade: gradeOnRecord(quiz.gradingMethod, totals),
        attemptsUsed: totals.count,
        attemptsLeft: quiz.attemptsAllowed > 0 ? Math.max(0, quiz.attemptsAllowed - totals.count) : null,
      };
    },
  };
}
