import { defineModule } from '../../kernel/features/module';
import { kernelServices } from '../../kernel/features/kernel-services';
import { createServiceRef } from '../../kernel/features/services';
import { createCoursesService, createEnrolmentsService, type CoursesService, type EnrolmentsService } from './courses';
import { createCompletionService, type CompletionService } from './completion';
import { learningRoutes } from './routes';
import { createQuizService, type QuizService } from './quizzes';
import { quizRoutes } from './quiz-routes';
import { registerQuizPages } from './quiz-pages';
import { registerCoursePages } from './pages';
import { learningHooks } from './hooks';
import { coursePicker } from './store/picks';

export type { CompletionArgs, CompletionsArgs } from './hooks';
export type { ActivityAccess, ActivityAccessProvider, RestrictedCourse, RestrictionCondition, ConditionNode, ConditionLoad } from './availability';

/** The learning services, by ref: courses and activities, enrolments, activity and course completion. */
export const learningServices = {
  courses: createServiceRef<CoursesService>('learning.courses'),
  enrolments: createServiceRef<EnrolmentsService>('learning.enrolments'),
  completion: createServiceRef<CompletionService>('learning.completion'),
  quizzes: createServiceRef<QuizService>('learning.quizzes'),
};

/**
 * The learning module: courses, activities, enrolments and completion records. What a course
 * completion completes further (course sets, programs) is the programs module's follow-up, plugged
 * into the completion service, so this module knows nothing of programs.
 */
export const learningModule = defineModule({
  id: 'learning',
  tables: [
    'courses',
    'activities',
    'course_completion_criteria',
    'enrolments',
    'activity_completions',
    'grades',
    'course_completions',
    'course_completion_history',
    'quiz_settings',
    'quiz_questions',
    'quiz_attempts',
    'course_sections',
  ],
  deps: { identity: kernelServices.identity },
  declares: learningHooks,
  provides: learningServices,
  register(ctx) {
    const completion = createCompletionService({ db: ctx.db, hooks: ctx.hooks, identity: ctx.deps.identity });
    const services = {
      courses: createCoursesService({ db: ctx.db, timezone: ctx.timezone, extensions: ctx.extensions, logger: ctx.logger }),
      enrolments: createEnrolmentsService(ctx),
      completion,
      quizzes: createQuizService({ db: ctx.db, logger: ctx.logger, completion }),
    };
    for (const route of learningRoutes({ db: ctx.db, timezone: ctx.timezone, services })) ctx.routes.api(route);
    for (const route of quizRoutes(services.quizzes)) ctx.routes.api(route);
    registerQuizPages(ctx.routes, services.quizzes);
    registerCoursePages({ db: ctx.db, timezone: ctx.timezone, courses: services.courses, extensions: ctx.extensions }, ctx.routes);
    ctx.extensions.contribute(
      'pickers',
      'courses',
      coursePicker(() => ctx.db.knex),
    );
    return services;
  },
});

export type { CoursesService, EnrolmentsService, CompletionService, QuizService };
export type { Question } from './quizzes';
export type { ActivityView } from './courses';

/** Relations other modules may join in a set-based read (columns are the contract). */
export { learningViews } from './store/views';
/** Learners' current course completions, for the set-based reads of programs, assignment and the learner views. */
export { courseCompletionsOfUsers } from './store/completions';
