import type { ApiRequest, ApiRoute, JsonSchema } from '../../kernel/http/routes';
import { forbidden } from '../../kernel/errors';
import { component, Id, object, pathParams, noQuery, queryParams } from '../../kernel/http/contract';
import { ATTEMPTS_PAGE, type Attempt, type AttemptOutcome, type QuestionInput, type QuizService, type QuizSettings } from './quizzes';
import { NEWEST_ATTEMPT_FIRST } from './store/quizzes';
import { cursorQuery, pagePosition } from '../../kernel/http/paging';

const id = { type: 'integer', minimum: 1 } as const;
const text = { type: 'string', minLength: 1, maxLength: 4000 } as const;
const marks = { type: 'number', exclusiveMinimum: 0, maximum: 1000 } as const;

const questionInput: JsonSchema = {
  oneOf: [
    {
      type: 'object',
      additionalProperties: false,
      required: ['type', 'text', 'choices'],
      properties: {
        type: { const: 'multichoice' },
        text,
        marks,
        choices: {
          type: 'array',
          minItems: 2,
          maxItems: 20,
          items: { type: 'object', additionalProperties: false, required: ['text', 'correct'], properties: { text, correct: { type: 'boolean' } } },
        },
      },
    },
    {
      type: 'object',
      additionalProperties: false,
      required: ['type', 'text', 'correct'],
      properties: { type: { const: 'truefalse' }, text, marks, correct: { type: 'boolean' } },
    },
    {
      type: 'object',
      additionalProperties: false,
      required: ['type', 'text', 'answer'],
      properties: { type: { const: 'numeric' }, text, marks, answer: { type: 'number' }, tolerance: { type: 'number', minimum: 0 } },
    },
  ],
};

const settingsProperties = {
  attemptsAllowed: { type: 'integer', minimum: 0, maximum: 100, description: '0: unlimited' },
  gradingMethod: { enum: ['highest', 'last', 'average'], description: 'How the attempts make the grade on record' },
  reviewAfterSubmission: { type: 'boolean', description: 'Show right answers and marks per question after submitting' },
};

const questionView: JsonSchema = component(
  'QuizQuestion',
  object(
    {
      id,
      position: { type: 'integer', minimum: 1 },
      type: { enum: ['multichoice', 'truefalse', 'numeric'] },
      text: { type: 'string' },
      marks: { type: 'number' },
      choices: { type: 'array', items: { type: 'string' } },
      multipleAnswers: { type: 'boolean' },
      answer: { type: 'object', description: 'The right answer (operators, and reviews): {choices}, {correct} or {value, tolerance}' },
    },
    ['id', 'position', 'type', 'text', 'marks'],
  ),
);

const quizView: JsonSchema = component(
  'Quiz',
  object({ activityId: id, maxGrade: { type: 'number' }, ...settingsProperties, questions: { type: 'array', items: questionView } }),
);

const resultView = object({ questionId: id, marks: { type: 'number' }, maxMarks: { type: 'number' }, correct: { type: 'boolean' } });
const attemptView: JsonSchema = component(
  'QuizAttempt',
  object(
    {
      attempt: { type: 'integer', minimum: 1 },
      marks: { type: 'number' },
      maxMarks: { type: 'number' },
      grade: { type: 'number', description: "In the activity's grade scale" },
      submittedAt: { type: 'string', format: 'date-time' },
      answers: { type: 'object', description: 'By question id: choice indexes, a boolean or a number' },
      results: { type: 'array', items: resultView, description: 'Per-question marks, when the quiz shows a review' },
    },
    ['attempt', 'marks', 'maxMarks', 'grade', 'submittedAt', 'answers'],
  ),
);

const attemptJson = (a: Attempt): Record<string, unknown> => ({ ...a, submittedAt: new Date(a.submittedAt).toISOString() });

/** REST routes for quizzes: operators write questions and settings; learners submit attempts the server grades. */
export function quizRoutes(quizzes: QuizService): ApiRoute[] {
  return [
    {
      method: 'get',
      path: '/activities/:id/quiz',
      summary: "A quiz's settings and questions (right answers to administrators only)",
      tags: ['quizzes'],
      access: 'user',
      params: pathParams(['id']),
      query: noQuery,
      response: quizView,
      handler: async (req) => {
        if (!req.user!.isAdmin) await quizzes.requireEnrolled(req.params.id!, req.user!.id);
        return { body: await quizzes.get(req.params.id!, { withAnswers: req.user!.isAdmin }) };
      },
    },
    {
      method: 'put',
      path: '/activities/:id/quiz',
      summary: "Replace a quiz's settings and, when given, its questions (409 once learners have attempted it)",
      tags: ['quizzes'],
      access: 'admin',
      params: pathParams(['id']),
      query: noQuery,
      response: quizView,
      body: {
        type: 'object',
        additionalProperties: false,
        minProperties: 1,
        properties: { ...settingsProperties, questions: { type: 'array', maxItems: 200, items: questionInput } },
      },
      handler: async (req: ApiRequest<Partial<QuizSettings> & { questions?: QuestionInput[] }>) => ({ body: await quizzes.save(req.params.id!, req.body) }),
    },
    {
      method: 'post',
      path: '/activities/:id/attempts',
      summary: "Submit the caller's answers as a new attempt; the server grades it and records the grade (highest/last/average)",
      tags: ['quizzes'],
      access: 'user',
      params: pathParams(['id']),
      query: noQuery,
      successStatus: 201,
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['answers'],
        properties: {
          answers: {
            type: 'object',
            maxProperties: 200,
            description: 'By question id: an array of choice indexes (multichoice), a boolean (truefalse) or a number (numeric); unanswered questions score 0',
            propertyNames: { pattern: '^[0-9]{1,10}$' },
            additionalProperties: { anyOf: [{ type: 'array', maxItems: 20, items: { type: 'integer', minimum: 0 } }, { type: 'boolean' }, { type: 'number' }] },
          },
        },
      },
      response: object(
        {
          attempt: attemptView,
          grade: { type: 'number', description: 'The grade now on record' },
          attemptsUsed: { type: 'integer', minimum: 1 },
          attemptsLeft: { type: ['integer', 'null'], minimum: 0 },
          review: { type: ['array', 'null'], items: questionView, description: 'Questions with right answers, when the quiz shows a review' },
          courseCompletedAt: { type: ['string', 'null'], format: 'date-time' },
        },
        ['attempt', 'grade', 'attemptsUsed', 'attemptsLeft', 'review', 'courseCompletedAt'],
      ),
      handler: async (req: ApiRequest<{ answers: Record<string, unknown> }>) => {
        await quizzes.requireEnrolled(req.params.id!, req.user!.id);
        const outcome: AttemptOutcome = await quizzes.submit(req.params.id!, req.user!.id, req.body.answers);
        return {
          status: 201,
          body: {
            ...outcome,
            attempt: attemptJson(outcome.attempt),
            courseCompletedAt: outcome.courseCompletedAt === null ? null : new Date(outcome.courseCompletedAt).toISOString(),
          },
        };
      },
    },
    {
      method: 'get',
      path: '/activities/:id/attempts',
      summary: "A learner's attempts at a quiz (?userId= for administrators; the caller's own otherwise)",
      tags: ['quizzes'],
      access: 'user',
      params: pathParams(['id']),
      query: queryParams({ userId: Id, ...cursorQuery(ATTEMPTS_PAGE) }),
      response: object({
        userId: id,
        grade: { type: ['number', 'null'] },
        attemptsUsed: { type: 'integer', minimum: 0 },
        attemptsLeft: { type: ['integer', 'null'] },
        attempts: { type: 'array', items: attemptView, description: 'Newest first, a page at a time' },
        nextCursor: { type: ['string', 'null'] },
      }),
      handler: async (req) => {
        const asked = (req.query as { userId?: number }).userId;
        const userId = asked ?? req.user!.id;
        if (userId !== req.user!.id && !req.user!.isAdmin) throw forbidden('You may only read your own attempts');
        const position = pagePosition(NEWEST_ATTEMPT_FIRST, req.query, ATTEMPTS_PAGE);
        const result = await quizzes.attempts(req.params.id!, userId, { withResults: req.user!.isAdmin, position });
        return {
          body: {
            userId,
            grade: result.grade,
            attemptsUsed: result.attemptsUsed,
            attemptsLeft: result.attemptsLeft,
            attempts: result.attempts.map(attemptJson),
            nextCursor: result.nextCursor,
          },
        };
      },
    },
  ];
}
