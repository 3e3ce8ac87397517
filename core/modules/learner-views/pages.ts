import type { Request, Response } from 'express';
import type { LearnerViewsContext } from './context';
import type { RouteRegistrar } from '../../kernel/http/routes';
import { WaymarkError, forbidden, invalid } from '../../kernel/errors';
import { field, fields, pageId, renderView } from '../../kernel/http/render';
import type { Question } from '../learning/index';
import { parseId } from '../../kernel/http/contract';
import type { ActivityView } from '../learning/index';
import {
  RECORD_PAGE,
  RECORD_STATUSES,
  type LearnerCourseView,
  loadLearnerCourse,
  loadLearnerProgram,
  loadRecordOfLearning,
  loadRequiredLearning,
  REQUIRED_PAGE,
} from './learner-data';
import { historyLines, recordView } from './record-view';
import { REQUIRED_ORDER } from './store/learner-data';
import { pageLinks, pagePositionOf } from '../../kernel/http/paging';
import { mayReadLearning } from './api';

/** Activity types completed by opening them (quizzes complete through their grade instead). */
const COMPLETE_ON_VIEW = new Set(['page', 'resource', 'url']);

function viewer(req: Request): { id: number; isAdmin: boolean } {
  // Page routes declared with access 'user' never run without a user.
  if (!req.user) throw new WaymarkError('UNAUTHENTICATED', 'Log in to see this page', 401);
  return req.user;
}

/** Learner pages: Required Learning, Record of Learning, program, course and activity pages. */
export function registerLearnerPages(context: LearnerViewsContext, pages: RouteRegistrar): void {
  pages.page({
    method: 'get',
    path: '/my/required-learning',
    access: 'user',
    async handler(req, res) {
      const position = pagePositionOf(REQUIRED_ORDER, req.query as Record<string, unknown>, REQUIRED_PAGE);
      const data = await loadRequiredLearning(context, viewer(req).id, position);
      renderView(req, res, 'learner/required-learning', {
        title: 'Required learning',
        nav: 'required',
        programs: data.programs,
        pager: pageLinks('/my/required-learning', {}, { ...data, items: data.programs }, position, REQUIRED_PAGE),
      });
    },
  });

  pages.page({
    method: 'get',
    path: '/my/record-of-learning',
    access: 'user',
    async handler(req, res) {
      // A plain GET form filters, so it works without JavaScript; anything unknown shows everything.
      const status = RECORD_STATUSES.find((s) => s === req.query.status) ?? 'all';
      const page = parseId(req.query.page) ?? 1;
      const data = await loadRecordOfLearning(context, viewer(req).id, { status, limit: RECORD_PAGE, offset: (page - 1) * RECORD_PAGE });
      renderView(req, res, 'learner/record-of-learning', { title: 'Record of learning', nav: 'record', ...recordView(data, page) });
    },
  });

  // A learner's record as their manager (or an administrator) sees it, from the team page: the same
  // loader, checked the same way as the API (403 outside the viewer's team).
  pages.page({
    method: 'get',
    path: '/users/:id/record-of-learning',
    access: 'user',
    async handler(req, res) {
      const userId = pageId(req.params.id, 'User');
      await mayReadLearning(context, req.user, userId);
      const subject = await context.services.users.get(userId);
      const status = RECORD_STATUSES.find((s) => s === req.query.status) ?? 'all';
      const page = parseId(req.query.page) ?? 1;
      const data = await loadRecordOfLearning(context, userId, { status, limit: RECORD_PAGE, offset: (page - 1) * RECORD_PAGE });
      renderView(req, res, 'learner/record-of-learning', {
        title: `Record of learning: ${subject.fullname}`,
        nav: 'team',
        subject: { id: subject.id, fullname: subject.fullname },
        ...recordView(data, page, `/users/${userId}/record-of-learning`),
      });
    },
  });

  pages.page({
    method: 'get',
    path: '/programs/:id',
    access: 'user',
    async handler(req, res) {
      const programId = pageId(req.params.id, 'Program');
      const program = await loadLearnerProgram(context, programId, viewer(req).id, { viewer: req.user?.isAdmin ? 'operator' : 'learner' });
      const assignment = await context.services.assignment.learnerAssignment(programId, viewer(req).id);
      // A recurring program's earlier period the learner has not finished: its course stays theirs to launch.
      const owed = assignment.assigned ? await context.services.programs.owedPeriods(programId, viewer(req).id) : [];
      renderView(req, res, 'learner/program', { title: program.fullname, program, owed, history: historyLines(assignment.history, false) });
    },
  });

  pages.page({
    method: 'get',
    path: '/courses/:id',
    access: 'user',
    async handler(req, res) {
      const courseId = pageId(req.params.id, 'Course');
      await context.services.launch.requireCourseAccess(req, courseId);
      const user = viewer(req);
      const course = await loadLearnerCourse(context, courseId, user.id, { restrictions: !user.isAdmin });
      renderView(req, res, 'learner/course', { title: course.fullname, course });
    },
  });

  /**
   * The course as this learner sees it, once the launch guard and the activity's restriction tree
   * let them open the activity: a hidden or locked activity is refused (403) with the explanation,
   * however its URL was reached.
   */
  const openActivity = async (req: Request, activity: ActivityView): Promise<LearnerCourseView> => {
    const user = viewer(req);
    await context.services.launch.requireCourseAccess(req, activity.courseId);
    const course = await loadLearnerCourse(context, activity.courseId, user.id, { restrictions: !user.isAdmin });
    const state = course.activities.find((a) => a.id === activity.id);
    if (!state || !state.available) {
      const message = (state?.restriction ?? course.hidden.find((h) => h.id === activity.id)?.restriction) || 'This activity is not available to you.';
      throw new WaymarkError('ACTIVITY_RESTRICTED', message, 403, [{ path: 'availability', code: 'ACTIVITY_RESTRICTED', message }]);
    }
    return course;
  };

  const showActivity = async (req: Request, res: Response, extra: Record<string, unknown> = {}, status?: number): Promise<void> => {
    const user = viewer(req);
    const activity = await context.services.courses.getActivity(pageId(req.params.id, 'Activity'));
    let course = await openActivity(req, activity);
    const quiz = activity.type === 'quiz' ? await quizView(context, activity.id, user.id) : null;
    if (COMPLETE_ON_VIEW.has(activity.type) && activity.completionTracked) {
      // Opening the page is what completes it; recording twice is a no-op. A new completion may unlock others: read again.
      const { created } = await context.services.completion.recordActivityCompletion(activity.id, user.id);
      if (created) course = await loadLearnerCourse(context, activity.courseId, user.id, { restrictions: !user.isAdmin });
    }
    const state = course.activities.find((a) => a.id === activity.id)!;
    const index = course.activities.findIndex((a) => a.id === activity.id);
    renderView(
      req,
      res,
      'learner/activity',
      {
        title: activity.name,
        course,
        activity: { ...state, isQuiz: activity.type === 'quiz' },
        quiz,
        previous: course.activities[index - 1] ?? null,
        next: course.activities[index + 1] ?? null,
        ...extra,
      },
      status,
    );
  };

  pages.page({ method: 'get', path: '/activities/:id', access: 'user', handler: (req, res) => showActivity(req, res) });

  // Learners no longer type in their own quiz score: the server grades their answers (issue 13).
  // Operators record offline or imported results through POST /api/v1/activities/{id}/grades.
  pages.page({
    method: 'post',
    path: '/activities/:id/grade',
    access: 'user',
    handler: async () => {
      throw forbidden('Quiz grades come from your answers: submit the quiz instead');
    },
  });

  pages.page({
    method: 'post',
    path: '/activities/:id/attempt',
    access: 'user',
    async handler(req, res) {
      const user = viewer(req);
      const activityId = pageId(req.params.id, 'Activity');
      const activity = await context.services.courses.getActivity(activityId);
      await openActivity(req, activity);
      const quiz = await context.services.quizzes.get(activityId);
      try {
        await context.services.quizzes.requireEnrolled(activityId, user.id);
        await context.services.quizzes.submit(activityId, user.id, answersFromForm(quiz.questions, req.body));
      } catch (error) {
        if (error instanceof WaymarkError && (error.status === 422 || error.status === 409)) {
          await showActivity(req, res, { error: error.message }, error.status);
          return;
        }
        throw error;
      }
      // Post/redirect/get: a reload does not submit another attempt.
      res.redirect(303, `/activities/${activityId}?notice=attempt-graded`);
    },
  });
}

/** The form's answers as the quiz service takes them: `q<id>` fields; an unreadable number is a 422 naming the question. */
function answersFromForm(questions: Question[], body: unknown): Record<string, unknown> {
  const answers: Record<string, unknown> = {};
  for (const q of questions) {
    const name = `q${q.id}`;
    if (q.type === 'multichoice') {
      const chosen = fields(body, name);
      if (chosen.length) answers[q.id] = chosen.map((c) => (/^\d{1,3}$/.test(c) ? Number(c) : -1));
    } else if (q.type === 'truefalse') {
      const value = field(body, name);
      if (value === 'true' || value === 'false') answers[q.id] = value === 'true';
    } else {
      const value = field(body, name).replace(',', '.');
      if (value === '') continue;
      if (!/^-?\d+(\.\d+)?$/.test(value))
        throw invalid('QUIZ_ANSWER_INVALID', `Question ${q.position}: enter a number`, [
          { path: `answers/${q.id}`, code: 'QUIZ_ANSWER_INVALID', message: 'enter a number' },
        ]);
      answers[q.id] = Number(value);
    }
  }
  return answers;
}

/** What the quiz part of the activity page shows: the questions to answer, the attempts so far and the last attempt's review. */
async function quizView(context: LearnerViewsContext, activityId: number, userId: number): Promise<Record<string, unknown>> {
  const quiz = await context.services.quizzes.get(activityId, { withAnswers: true });
  const mine = await context.services.quizzes.attempts(activityId, userId);
  // Newest first: the first is the last one submitted.
  const last = mine.attempts[0];
  const choiceText = (q: Question, indexes: number[]): string => indexes.map((i) => q.choices?.[i] ?? '?').join(', ');
  const rightAnswer = (q: Question): string => {
    const answer = q.answer!;
    if ('choices' in answer) return choiceText(q, answer.choices);
    if ('correct' in answer) return answer.correct ? 'True' : 'False';
    return answer.tolerance ? `${answer.value} (± ${answer.tolerance})` : String(answer.value);
  };
  const given = (q: Question, value: unknown): string => {
    if (value === undefined) return 'No answer';
    if (q.type === 'multichoice') return choiceText(q, value as number[]);
    if (q.type === 'truefalse') return value ? 'True' : 'False';
    return String(value);
  };
  const review =
    last && last.results
      ? quiz.questions.map((q) => {
          const result = last.results!.find((r) => r.questionId === q.id);
          return {
            position: q.position,
            text: q.text,
            marks: result?.marks ?? 0,
            maxMarks: q.marks,
            correct: result?.correct ?? false,
            yourAnswer: given(q, last.answers[String(q.id)]),
            rightAnswer: rightAnswer(q),
          };
        })
      : null;
  return {
    // The right answers never reach the form: only what a learner needs to answer.
    questions: quiz.questions.map((q) => ({
      id: q.id,
      position: q.position,
      type: q.type,
      text: q.text,
      marks: q.marks,
      choices: q.choices,
      multipleAnswers: q.multipleAnswers,
    })),
    hasQuestions: quiz.questions.length > 0,
    canAttempt: quiz.questions.length > 0 && (mine.attemptsLeft === null || mine.attemptsLeft > 0),
    attemptsLeft: mine.attemptsLeft,
    attemptsAllowed: quiz.attemptsAllowed,
    gradingMethod: quiz.gradingMethod,
    attempts: mine.attempts.map((a) => ({
      attempt: a.attempt,
      grade: a.grade,
      marks: a.marks,
      maxMarks: a.maxMarks,
      submittedAt: new Date(a.submittedAt).toISOString(),
    })),
    attemptsUsed: mine.attemptsUsed,
    // The page shows the latest page of attempts; older ones are in the API (`?cursor=`).
    moreAttempts: mine.nextCursor !== null,
    grade: mine.grade,
    review,
  };
}
