import type { Response } from 'express';
import type { Request } from 'express';
import type { LaunchContext } from './context';
import { defineModule } from '../../kernel/features/module';
import { createServiceRef } from '../../kernel/features/services';
import { kernelServices } from '../../kernel/features/kernel-services';
import type { GuardOutcome } from '../../kernel/hooks/hook-map';
import { createLaunchFastPath } from './fast-path';
import { launchHooks } from './hooks';

export type { CourseLaunchArgs } from './hooks';
import { notFound, invalid } from '../../kernel/errors';
import type { RouteRegistrar } from '../../kernel/http/routes';
import { courseSummary, userSummary } from './store/lookups';
import { registerCoreLaunchGuard, checkCourseLaunch, explainCourseLaunch, COURSE_HIDDEN } from './guard';
import { courseName, registerCourseGate, renderLaunchDenied, requireCourseAccess } from './pages';
import { Id, UserId, component, noQuery, object, parseId, pathParams } from '../../kernel/http/contract';

/** What the launch diagnostics (page and API) report. */
export interface LaunchCheckReport {
  user: { id: number; username: string; fullname: string };
  course: { id: number; shortname: string; fullname: string };
  outcome: { allowed: boolean; decidedBy: string | null; code: string | null; reasons: string[] };
  decisions: Array<{ plugin: string; priority: number; verdict: string; reasons: string[]; code: string | null; error: string | null; durationMs: number }>;
}

/** Runs every guard in dry-run mode for (user, course) and reports each decision; 404 for an unknown user or course. */
export async function launchCheck(context: LaunchContext, userId: number, courseId: number): Promise<LaunchCheckReport> {
  const knex = context.db.knex;
  const user = await userSummary(knex, userId);
  if (!user) throw notFound('User', userId);
  const course = await courseSummary(knex, courseId);
  if (!course) throw notFound('Course', courseId);
  const { outcome, decisions } = await explainCourseLaunch(context, userId, courseId);
  return {
    user: { id: Number(user.id), username: user.username, fullname: user.fullname },
    course: { id: Number(course.id), shortname: course.shortname, fullname: course.fullname },
    outcome: { allowed: outcome.allowed, decidedBy: outcome.decidedBy ?? null, code: outcome.code ?? null, reasons: outcome.reasons },
    decisions: decisions.map((d) => ({
      plugin: d.plugin,
      priority: d.priority,
      verdict: d.verdict,
      reasons: d.reasons,
      code: d.code ?? null,
      error: d.error ?? null,
      durationMs: Math.round(d.durationMs * 100) / 100,
    })),
  };
}

/** A bodiless 302: res.redirect() would negotiate a body format on the hot path for nobody to read. */
function redirect(res: Response, location: string): void {
  res.status(302).location(location).end();
}

const reportSchema = component('LaunchCheck', {
  type: 'object',
  required: ['user', 'course', 'outcome', 'decisions'],
  properties: {
    user: object({ id: Id, username: { type: 'string' }, fullname: { type: 'string' } }),
    course: object({ id: Id, shortname: { type: 'string' }, fullname: { type: 'string' } }),
    outcome: {
      type: 'object',
      properties: {
        allowed: { type: 'boolean' },
        decidedBy: { type: ['string', 'null'] },
        code: { type: ['string', 'null'] },
        reasons: { type: 'array', items: { type: 'string' } },
      },
    },
    decisions: {
      type: 'array',
      items: object({
        plugin: { type: 'string' },
        priority: { type: 'integer' },
        verdict: { type: 'string' },
        reasons: { type: 'array', items: { type: 'string' } },
        code: { type: ['string', 'null'] },
        error: { type: ['string', 'null'] },
        durationMs: { type: 'number', minimum: 0 },
      }),
    },
  },
});

/**
 * Core launch: the "existing active enrolment allows" guard, GET /courses/:id/launch, the
 * operator diagnostics page GET /admin/launch-check and GET /api/v1/courses/:id/launch-check/:userId.
 */
function registerLaunchRoutes(context: LaunchContext, routes: RouteRegistrar): void {
  registerCoreLaunchGuard(context);
  routes.stage({ phase: 'early', method: 'get', path: '/courses/:id/launch', handler: createLaunchFastPath(context) });
  registerCourseGate(context, routes);

  routes.page({
    method: 'get',
    path: '/courses/:id/launch',
    access: 'user',
    async handler(req, res) {
      const courseId = parseId(req.params.id);
      if (courseId === null) throw notFound('Course', String(req.params.id));
      const user = req.user!;
      const outcome = await checkCourseLaunch(context, user.id, courseId);
      // An allowed launch implies the course exists (enrolments reference it), so only refusals look it up.
      if (outcome.allowed) return redirect(res, `/courses/${courseId}`);
      const course = await courseName(context, courseId);
      if (!course) throw notFound('Course', courseId);
      // Operators may look at any course without being enrolled.
      if (user.isAdmin) return redirect(res, `/courses/${courseId}`);
      if (outcome.code === COURSE_HIDDEN) throw notFound('Course', courseId);
      renderLaunchDenied(context, req, res, course, outcome);
    },
  });

  routes.page({
    method: 'get',
    path: '/admin/launch-check',
    access: 'admin',
    async handler(req, res) {
      const userId = parseId(req.query.userId);
      const courseId = parseId(req.query.courseId);
      const asked = req.query.userId !== undefined || req.query.courseId !== undefined;
      if (asked && (userId === null || courseId === null)) {
        throw invalid('LAUNCH_CHECK_INVALID', 'userId and courseId must both be positive whole numbers');
      }
      const result = userId !== null && courseId !== null ? await launchCheck(context, userId, courseId) : null;
      context.pages.render(req, res, 'launch/check', { title: 'Launch check', userId: userId ?? '', courseId: courseId ?? '', result });
    },
  });

  routes.api({
    method: 'get',
    path: '/courses/:id/launch-check/:userId',
    summary: 'Why can (not) this learner open this course? Every launch guard’s decision, without enrolling',
    tags: ['launch'],
    access: 'admin',
    params: pathParams({ id: Id, userId: UserId }),
    query: noQuery,
    response: reportSchema,
    async handler(req) {
      return { body: await launchCheck(context, req.params.userId!, req.params.id!) };
    },
  });
}

/** Course launch as other features use it: the guard chain for one learner and course. */
export interface LaunchService {
  /** Runs the onCourseLaunch guard chain (enrolling where a guard does). */
  check(userId: number, courseId: number): Promise<GuardOutcome>;
  /** Every guard's decision in dry-run mode, for the operator's diagnostics. */
  explain(userId: number, courseId: number): Promise<LaunchCheckReport>;
  /** Throws the page error (login redirect or 403 with reasons) unless the page's user may open the course. */
  requireCourseAccess(req: Request, courseId: number): Promise<void>;
}

export const launchServices = {
  launch: createServiceRef<LaunchService>('launch.launch'),
};

/**
 * The launch module: the core "already enrolled" guard, GET /courses/:id/launch (with its fast path
 * as an early pipeline stage), the guard in front of course and activity pages, and the operator's
 * launch diagnostics (page and API).
 */
export const launchModule = defineModule({
  id: 'launch',
  tables: [],
  deps: { pages: kernelServices.pages, sessions: kernelServices.sessions },
  declares: launchHooks,
  hooks: ['onCourseLaunch'],
  provides: launchServices,
  register(ctx) {
    const context: LaunchContext = { db: ctx.db, hooks: ctx.hooks, pages: ctx.deps.pages, sessions: ctx.deps.sessions };
    registerLaunchRoutes(context, ctx.routes);
    return {
      launch: {
        check: (userId, courseId) => checkCourseLaunch(context, userId, courseId),
        explain: (userId, courseId) => launchCheck(context, userId, courseId),
        requireCourseAccess: (req, courseId) => requireCourseAccess(context, req, courseId),
      },
    };
  },
});
