import { defineModule } from '../../kernel/features/module';
import { createServiceRef } from '../../kernel/features/services';
import { createCoursesService, createEnrolmentsService, type CoursesService, type EnrolmentsService } from './courses';
import { createCompletionService, type CompletionService } from './completion';
import { learningRoutes } from './routes';
import { learningHooks } from './hooks';

export type { CompletionArgs, CompletionsArgs } from './hooks';

/** The learning services, by ref: courses and activities, enrolments, activity and course completion. */
export const learningServices = {
  courses: createServiceRef<CoursesService>('learning.courses'),
  enrolments: createServiceRef<EnrolmentsService>('learning.enrolments'),
  completion: createServiceRef<CompletionService>('learning.completion'),
};

/**
 * The learning module: courses, activities, enrolments and completion records. What a course
 * completion completes further (course sets, programs) is the programs module's follow-up, plugged
 * into the completion service, so this module knows nothing of programs.
 */
export const learningModule = defineModule({
  id: 'learning',
  deps: {},
  declares: learningHooks,
  provides: learningServices,
  register(ctx) {
    const services = {
      courses: createCoursesService(ctx),
      enrolments: createEnrolmentsService(ctx),
      completion: createCompletionService(ctx),
    };
    for (const route of learningRoutes({ db: ctx.db, services })) ctx.routes.api(route);
    return services;
  },
});

export type { CoursesService, EnrolmentsService, CompletionService };
