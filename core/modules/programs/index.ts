import { programPicker } from './store/picks';
import { pickerOf } from '../../kernel/pickers';
import { defineModule } from '../../kernel/features/module';
import { createServiceRef } from '../../kernel/features/services';
import { kernelServices } from '../../kernel/features/kernel-services';
import { learningServices } from '../learning/index';
import { createProgramsService, PROGRAM_RECOMPUTE_JOB, type ProgramsService } from './service';
import { programRoutes } from './api';
import { registerProgramPages } from './pages';
import { programCompletedCondition } from './audience-conditions';
import { programHooks } from './hooks';

/** The job that makes recurring programs' next copies and switches them to new periods. */
export const RECURRENCE_JOB = 'program_recurrence';

/** The programs service, by ref. */
export const programServices = {
  programs: createServiceRef<ProgramsService>('programs.programs'),
};

/**
 * The programs module: programs and their course sets, the compiled-structure cache, program and
 * course-set completion. It follows every course completion in the completing transaction (the
 * learning module's completion follow-up) and recomputes learners in a job after structure edits.
 */
export const programsModule = defineModule({
  id: 'programs',
  tables: [
    'programs',
    'program_course_sets',
    'program_course_set_courses',
    'program_completions',
    'course_set_completions',
    'program_completion_history',
    'program_recurrence_periods',
    'program_recurrence_learners',
  ],
  deps: { completion: learningServices.completion, courses: learningServices.courses, identity: kernelServices.identity },
  declares: programHooks,
  hooks: [],
  provides: programServices,
  register(ctx) {
    const programs = createProgramsService({
      db: ctx.db,
      hooks: ctx.hooks,
      queue: ctx.queue,
      identity: ctx.deps.identity,
      timezone: ctx.timezone,
      courses: () => ctx.deps.courses,
    });
    ctx.deps.completion.followCourseCompletions({
      recalculate: (trx, userId, courseId) => programs.recalculateForCourse(trx, userId, courseId),
      announce: (trx, completions) => programs.fireEvents(trx, completions),
    });
    ctx.jobs.define<{ programId: number }>({
      name: PROGRAM_RECOMPUTE_JOB,
      handler: async (job) => programs.recomputeProgram(Number(job.payload.programId), (done, total) => job.progress(done, total)),
    });
    // Every quarter of an hour: a period starts within 15 minutes of its boundary; a late or
    // repeated run catches up each step once (recurrence.ts).
    ctx.jobs.define({ name: RECURRENCE_JOB, handler: async () => programs.advanceRecurrence(ctx.db.now()) });
    ctx.jobs.schedule({ name: RECURRENCE_JOB, cron: '*/15 * * * *', job: RECURRENCE_JOB });
    for (const route of programRoutes({ now: () => ctx.db.now(), services: { programs } })) ctx.routes.api(route);
    registerProgramPages({ db: ctx.db, programs, courses: () => pickerOf(ctx.extensions, 'courses') }, ctx.routes);
    ctx.extensions.contribute('audienceRuleConditions', 'program_completed', programCompletedCondition());
    ctx.extensions.contribute(
      'pickers',
      'programs',
      programPicker(() => ctx.db.knex),
    );
    return { programs };
  },
});

export type { ProgramsService } from './service';
export type { RecurrencePeriodStartedArgs } from './hooks';
export type { RecalcPair } from './recalc';
export { applyEvaluations, hasTimedSets, key, loadStoredState, loadStoredStateInRange } from './recalc';
export { addDuration, isValidDuration, parseDuration } from './durations';
export { compileProgram, evaluateProgram, canLaunch, progressPercent } from './engine';
export type { CompiledProgram, ProgramEvaluation, SetEvaluation, ProgramStructure, CourseSetDef, SetOperator, SetRule } from './engine';
export type { CachedStructure } from './structures';
export { availabilityAt, type Availability } from './availability';

/** Relations other modules may join in a set-based read (columns are the contract). */
export { programViews } from './store/views';
export { PROGRAM_ORDERS } from './store/programs';
