import type { Request, Response } from 'express';
import type { LearnerViewsContext } from './context';
import type { RouteRegistrar } from '../../kernel/http/routes';
import { WaymarkError, invalid } from '../../kernel/errors';
import { field, pageId, renderView } from '../../kernel/http/render';
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
} from './learner-data';
import { historyLines, recordView } from './record-view';

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
      const data = await loadRequiredLearning(context, viewer(req).id);
      renderView(req, res, 'learner/required-learning', { title: 'Required learning', nav: 'required', programs: data.programs });
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

  pages.page({
    method: 'get',
    path: '/programs/:id',
    access: 'user',
    async handler(req, res) {
      const programId = pageId(req.params.id, 'Program');
      const program = await loadLearnerProgram(context, programId, viewer(req).id);
      const assignment = await context.services.assignment.learnerAssignment(programId, viewer(req).id);
      renderView(req, res, 'learner/program', { title: program.fullname, program, history: historyLines(assignment.history, false) });
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
        previous: course.activities[index - 1] ?? null,
        next: course.activities[index + 1] ?? null,
        ...extra,
      },
      status,
    );
  };

  pages.page({ method: 'get', path: '/activities/:id', access: 'user', handler: (req, res) => showActivity(req, res) });

  pages.page({
    method: 'post',
    path: '/activities/:id/grade',
    access: 'user',
    async handler(req, res) {
      const user = viewer(req);
      const activityId = pageId(req.params.id, 'Activity');
      const activity = await context.services.courses.getActivity(activityId);
      await openActivity(req, activity);
      const text = field(req.body, 'grade');
      try {
        if (!/^\d+(\.\d+)?$/.test(text))
          throw invalid('GRADE_INVALID', `Enter a score between 0 and ${activity.maxGrade}`, [
            { path: 'grade', code: 'NOT_A_NUMBER', message: `Enter a score between 0 and ${activity.maxGrade}` },
          ]);
        await context.services.completion.recordGrade(activityId, user.id, Number(text));
      } catch (error) {
        if (error instanceof WaymarkError && error.status === 422) {
          await showActivity(req, res, { error: error.message, gradeValue: text }, 422);
          return;
        }
        throw error;
      }
      // Post/redirect/get: a reload does not submit the grade again.
      res.redirect(303, `/activities/${activityId}?notice=grade-saved`);
    },
  });
}
