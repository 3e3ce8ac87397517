import type { Request, Response } from 'express';
import type { RouteRegistrar } from '../../kernel/http/routes';
import { WaymarkError, invalid, type ErrorDetail } from '../../kernel/errors';
import { field, pageId, renderView } from '../../kernel/http/render';
import { inputOf, type GradingMethod, type QuestionInput, type QuizService } from './quizzes';
import { QUIZ_LIST_ORDER } from './store/quizzes';
import { pageLinks, pagePositionOf } from '../../kernel/http/paging';

const PAGE_SIZE = 50;
const GRADING_METHODS: ReadonlyArray<{ value: GradingMethod; label: string }> = [
  { value: 'highest', label: 'Highest attempt' },
  { value: 'last', label: 'Last attempt' },
  { value: 'average', label: 'Average of the attempts' },
];

/** A number typed in a form ('' when absent), or a 422 naming the field. */
function numberField(body: unknown, name: string, label: string, problems: ErrorDetail[]): number | undefined {
  const text = field(body, name).replace(',', '.');
  if (text === '') return undefined;
  if (!/^-?\d+(\.\d+)?$/.test(text)) {
    problems.push({ path: name, code: 'NOT_A_NUMBER', message: `${label}: enter a number` });
    return undefined;
  }
  return Number(text);
}

/**
 * The "add a question" form as a question. Choices are one per line; a line starting with `*` is a
 * right answer (so a plain textarea carries both, and the form works without JavaScript).
 */
function questionFromForm(body: unknown): QuestionInput {
  const problems: ErrorDetail[] = [];
  const type = field(body, 'type');
  const text = field(body, 'text');
  if (!text) problems.push({ path: 'text', code: 'REQUIRED', message: 'Enter the question' });
  const marks = numberField(body, 'marks', 'Marks', problems) ?? 1;
  if (marks <= 0) problems.push({ path: 'marks', code: 'OUT_OF_RANGE', message: 'Marks must be more than 0' });
  let question: QuestionInput | null = null;
  if (type === 'multichoice') {
    const lines = field(body, 'choices')
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l !== '');
    const choices = lines.map((l) => ({ text: l.replace(/^\*\s*/, ''), correct: l.startsWith('*') }));
    if (choices.length < 2) problems.push({ path: 'choices', code: 'TOO_FEW', message: 'Enter at least two choices, one per line' });
    else if (!choices.some((c) => c.correct)) problems.push({ path: 'choices', code: 'QUIZ_NO_RIGHT_ANSWER', message: 'Start the right choice(s) with *' });
    question = { type, text, marks, choices };
  } else if (type === 'truefalse') {
    question = { type, text, marks, correct: field(body, 'correct') === 'true' };
  } else if (type === 'numeric') {
    const answer = numberField(body, 'answer', 'Right answer', problems);
    const tolerance = numberField(body, 'tolerance', 'Tolerance', problems) ?? 0;
    if (answer === undefined && !problems.some((p) => p.path === 'answer'))
      problems.push({ path: 'answer', code: 'REQUIRED', message: 'Enter the right answer' });
    if (tolerance < 0) problems.push({ path: 'tolerance', code: 'OUT_OF_RANGE', message: 'Tolerance cannot be negative' });
    question = { type, text, marks, answer: answer ?? 0, tolerance };
  } else {
    problems.push({ path: 'type', code: 'REQUIRED', message: 'Choose the kind of question' });
  }
  if (problems.length) throw invalid(problems[0]!.code!, problems[0]!.message, problems);
  return question!;
}

/** Operator pages for quizzes: the list of quiz activities and the question editor. */
export function registerQuizPages(pages: RouteRegistrar, quizzes: QuizService): void {
  pages.page({
    method: 'get',
    path: '/admin/quizzes',
    access: 'admin',
    async handler(req, res) {
      const query = req.query as Record<string, unknown>;
      const q = typeof query.q === 'string' ? query.q.trim().slice(0, 100) : '';
      const position = pagePositionOf(QUIZ_LIST_ORDER, query, PAGE_SIZE);
      const page = await quizzes.list(q, position);
      renderView(req, res, 'admin/quizzes', {
        title: 'Quizzes',
        adminNav: 'quizzes',
        quizzes: page.items,
        q,
        pager: pageLinks('/admin/quizzes', q ? { q } : {}, page, position, PAGE_SIZE),
      });
    },
  });

  const showQuiz = async (req: Request, res: Response, errors: string[] = [], status?: number): Promise<void> => {
    const activityId = pageId(req.params.id, 'Quiz');
    const quiz = await quizzes.get(activityId, { withAnswers: true });
    const frozen = await quizzes.attempted(activityId);
    const questions = quiz.questions.map((q) => {
      const input = inputOf(q);
      return {
        ...q,
        right:
          input.type === 'multichoice'
            ? input.choices.map((c) => ({ text: c.text, correct: c.correct }))
            : input.type === 'truefalse'
              ? [{ text: input.correct ? 'True' : 'False', correct: true }]
              : [{ text: input.tolerance ? `${input.answer} (± ${input.tolerance})` : String(input.answer), correct: true }],
      };
    });
    renderView(
      req,
      res,
      'admin/quiz-edit',
      {
        title: `Quiz ${activityId}`,
        adminNav: 'quizzes',
        quiz,
        questions,
        frozen,
        methods: GRADING_METHODS.map((m) => ({ ...m, selected: m.value === quiz.gradingMethod })),
        values: req.method === 'POST' ? req.body : {},
        errors,
      },
      status,
    );
  };

  const editing = (handler: (req: Request, activityId: number) => Promise<string>) => async (req: Request, res: Response) => {
    const activityId = pageId(req.params.id, 'Quiz');
    try {
      const notice = await handler(req, activityId);
      res.redirect(303, `/admin/quizzes/${activityId}?notice=${notice}`);
    } catch (error) {
      if (error instanceof WaymarkError && (error.status === 422 || error.status === 409 || error.status === 400)) {
        const messages = error.details.length ? error.details.map((d) => d.message) : [error.message];
        return showQuiz(req, res, messages, error.status === 409 ? 409 : 422);
      }
      throw error;
    }
  };

  pages.page({ method: 'get', path: '/admin/quizzes/:id', access: 'admin', handler: (req, res) => showQuiz(req, res) });

  pages.page({
    method: 'post',
    path: '/admin/quizzes/:id/settings',
    access: 'admin',
    handler: editing(async (req, activityId) => {
      const problems: ErrorDetail[] = [];
      const attempts = numberField(req.body, 'attemptsAllowed', 'Attempts allowed', problems) ?? 0;
      if (!Number.isInteger(attempts) || attempts < 0 || attempts > 100)
        problems.push({ path: 'attemptsAllowed', code: 'OUT_OF_RANGE', message: 'Attempts allowed: a whole number from 0 (unlimited) to 100' });
      const method = GRADING_METHODS.find((m) => m.value === field(req.body, 'gradingMethod'))?.value;
      if (!method) problems.push({ path: 'gradingMethod', code: 'REQUIRED', message: 'Choose how attempts are graded' });
      if (problems.length) throw invalid(problems[0]!.code!, problems[0]!.message, problems);
      await quizzes.save(activityId, { attemptsAllowed: attempts, gradingMethod: method!, reviewAfterSubmission: field(req.body, 'review') !== '' });
      return 'quiz-saved';
    }),
  });

  pages.page({
    method: 'post',
    path: '/admin/quizzes/:id/questions',
    access: 'admin',
    handler: editing(async (req, activityId) => {
      const added = questionFromForm(req.body);
      const quiz = await quizzes.get(activityId, { withAnswers: true });
      await quizzes.save(activityId, { questions: [...quiz.questions.map(inputOf), added] });
      return 'quiz-saved';
    }),
  });

  pages.page({
    method: 'post',
    path: '/admin/quizzes/:id/questions/:questionId/delete',
    access: 'admin',
    handler: editing(async (req, activityId) => {
      const questionId = pageId(req.params.questionId, 'Question');
      const quiz = await quizzes.get(activityId, { withAnswers: true });
      if (!quiz.questions.some((q) => q.id === questionId)) throw new WaymarkError('NOT_FOUND', `Question ${questionId} is not in this quiz`, 404);
      await quizzes.save(activityId, { questions: quiz.questions.filter((q) => q.id !== questionId).map(inputOf) });
      return 'quiz-saved';
    }),
  });
}
