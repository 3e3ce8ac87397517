import type { LaunchContext } from './context';
import { abstain, allow, deny, type GuardExplanation, type GuardOutcome } from '../../kernel/hooks/hook-map';
import { prepareActiveEnrolmentQuery, prepareHiddenCourseQuery } from './store/enrolment';
import type { CourseLaunchArgs } from './hooks';

/** Priority of the core "already enrolled" guard: it runs before any plugin (default 100). */
export const CORE_LAUNCH_GUARD_PRIORITY = 1000;

/** The code of the core guard's refusal of a hidden course; pages answer it with 404 (they do not reveal the course). */
export const COURSE_HIDDEN = 'COURSE_HIDDEN';
export const COURSE_HIDDEN_REASON = 'This course is hidden from learners.';

/** Shown when nothing allowed the launch and no guard said why. */
export const NOT_ENROLLED_REASON = 'You are not enrolled in this course.';

/**
 * The core guard on onCourseLaunch: an active enrolment in the course, by any method, allows. A
 * hidden course is refused (COURSE_HIDDEN) to a learner it is not linked to (no enrolment of any
 * status, no completion), so no enrolment plugin can open it to them. Otherwise it abstains, leaving
 * the decision to enrolment plugins. One indexed lookup (the (user_id, course_id, method) unique
 * index), so an enrolled learner's launch is cheap; the hidden check runs only when the course's
 * visibility is not already known to be true (the fast path reads it with the session).
 */
export function registerCoreLaunchGuard(context: LaunchContext): () => void {
  const enrolled = prepareActiveEnrolmentQuery(context.db);
  const hidden = prepareHiddenCourseQuery(context.db);
  return context.hooks.tap(
    'onCourseLaunch',
    async (args) => {
      const isEnrolled = args.enrolled ?? (await enrolled(args.userId, args.courseId));
      if (isEnrolled) return allow('You are enrolled in this course.');
      if (args.visible !== true && (await hidden(args.userId, args.courseId))) return deny(COURSE_HIDDEN_REASON, COURSE_HIDDEN);
      return abstain([], 'CORE_NOT_ENROLLED');
    },
    { priority: CORE_LAUNCH_GUARD_PRIORITY },
  );
}

/** Reasons as a learner should read them (the bus's generic "Nothing allows this." becomes plain words). */
function readable(outcome: GuardOutcome): GuardOutcome {
  if (outcome.allowed) return outcome;
  const reasons = outcome.reasons.filter((r) => r !== 'Nothing allows this.');
  return { ...outcome, reasons: reasons.length ? reasons : [NOT_ENROLLED_REASON] };
}

/**
 * Runs the launch guard chain for a learner and a course: allowed means the learner may enter it
 * (and may have just been enrolled by a plugin, e.g. enrol_program). `known.enrolled` is the
 * learner's active enrolment in the course when the caller has just read it.
 */
export async function checkCourseLaunch(
  context: LaunchContext,
  userId: number,
  courseId: number,
  known?: { enrolled: boolean; visible?: boolean },
): Promise<GuardOutcome> {
  const args: CourseLaunchArgs = known ? { userId, courseId, ...known } : { userId, courseId };
  return readable(await context.hooks.guard('onCourseLaunch', args));
}

/** Every guard's decision, for operators; guards see `dryRun: true` and must not write. */
export async function explainCourseLaunch(
  context: LaunchContext,
  userId: number,
  courseId: number,
): Promise<{ outcome: GuardOutcome; decisions: GuardExplanation[] }> {
  const result = await context.hooks.explain('onCourseLaunch', { userId, courseId, dryRun: true });
  return { outcome: readable(result.outcome), decisions: result.decisions };
}
