import type express from 'express';
import type { Request, Response } from 'express';
import type { LaunchContext } from './context';
import { notFound, WaymarkError } from '../../kernel/errors';
import type { GuardOutcome } from '../../kernel/hooks/hook-map';
import { wantsLoginRedirect } from '../../kernel/http/app';
import type { RouteRegistrar } from '../../kernel/http/routes';
import { loginRedirectFor } from '../../kernel/auth/login';
import { courseName as findCourseName, courseOfActivity } from './store/lookups';
import { checkCourseLaunch, COURSE_HIDDEN } from './guard';
import { parseId } from '../../kernel/http/contract';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Locals {
      /** The course the launch guard already let this request into, so the page behind the gate does not ask twice. */
      courseGranted?: number;
    }
  }
}

/** The 403 a learner gets when the guard chain refuses a course, with the reasons as details. */
export function courseAccessDenied(outcome: GuardOutcome): WaymarkError {
  return new WaymarkError(
    outcome.code ?? 'COURSE_LAUNCH_DENIED',
    'You cannot open this course yet',
    403,
    outcome.reasons.map((message) => ({ code: outcome.code, message })),
  );
}

/**
 * Lets the viewer of a request into a course or throws: 401 when nobody is signed in, 403
 * (details = the learner-readable reasons) when the launch guard chain refuses. Site
 * administrators may look at every course. Pages showing a course or one of its activities call
 * this first, so typing a URL never gets around the program order; when the guard allows, the
 * learner may have just been enrolled (exactly as by the launch link).
 */
export async function requireCourseAccess(context: LaunchContext, req: Request, courseId: number): Promise<void> {
  const user = req.user === undefined ? await context.pages.resolveUser(req) : req.user;
  req.user = user;
  if (!user) throw new WaymarkError('UNAUTHENTICATED', 'Log in to open this course', 401);
  if (user.isAdmin || req.res?.locals.courseGranted === courseId) return;
  const outcome = await checkCourseLaunch(context, user.id, courseId);
  // A hidden course is not revealed to a learner with no link to it: the 404 of no course.
  if (outcome.code === COURSE_HIDDEN) throw notFound('Course', courseId);
  if (!outcome.allowed) throw courseAccessDenied(outcome);
  if (req.res) req.res.locals.courseGranted = courseId;
}

/** The course's id and full name, or null when there is no such course. */
export async function courseName(context: LaunchContext, courseId: number): Promise<{ id: number; fullname: string } | null> {
  const row = await findCourseName(context.db.knex, courseId);
  return row ? { id: Number(row.id), fullname: row.fullname } : null;
}

/** Renders the "you can't open this course yet" page (403) with the guard's reasons. */
export function renderLaunchDenied(context: LaunchContext, req: Request, res: Response, course: { id: number; fullname: string }, outcome: GuardOutcome): void {
  context.pages.render(
    req,
    res,
    'launch/denied',
    { title: `Can’t open ${course.fullname}`, course, reasons: outcome.reasons, code: outcome.code },
    { status: 403 },
  );
}

/**
 * Guards a course page or activity page before whoever renders it runs: anonymous browsers go to
 * the login page, a refused learner gets the 403 page with the reasons, an unknown course falls
 * through to the 404.
 */
async function gate(context: LaunchContext, req: Request, res: Response, next: express.NextFunction, courseId: number): Promise<void> {
  req.user = await context.pages.resolveUser(req);
  if (!req.user) {
    if (wantsLoginRedirect(req)) return res.redirect(302, loginRedirectFor(req));
    throw new WaymarkError('UNAUTHENTICATED', 'Log in to open this course', 401);
  }
  if (req.user.isAdmin) return next();
  const outcome = await checkCourseLaunch(context, req.user.id, courseId);
  if (outcome.allowed) {
    res.locals.courseGranted = courseId;
    return next();
  }
  if (outcome.code === COURSE_HIDDEN) throw notFound('Course', courseId);
  // Only a refusal needs the course: an allowed launch implies it exists.
  const course = await courseName(context, courseId);
  if (!course) return next();
  renderLaunchDenied(context, req, res, course, outcome);
}

/** Installs the launch guard in front of GET /courses/:id and GET /activities/:id, whoever renders them. */
export function registerCourseGate(context: LaunchContext, routes: RouteRegistrar): void {
  // Each path names a course by its own id; an id that names nothing falls through to the page's 404.
  const gateOn = (path: string, courseOf: (id: number) => Promise<number | null>): void =>
    routes.stage({
      phase: 'gate',
      method: 'get',
      path,
      handler: async (req, res, next) => {
        try {
          const id = parseId(req.params.id);
          const courseId = id === null ? null : await courseOf(id);
          if (courseId === null) return next();
          await gate(context, req, res, next, courseId);
        } catch (error) {
          next(error);
        }
      },
    });
  gateOn('/courses/:id', async (courseId) => courseId);
  gateOn('/activities/:id', (activityId) => courseOfActivity(context.db.knex, activityId));
}
