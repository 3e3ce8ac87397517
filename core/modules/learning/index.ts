import type { Site } from '../../site';
import { createCoursesService, createEnrolmentsService, type CoursesService, type EnrolmentsService } from './courses';
import { createCompletionService, type CompletionService } from './completion';
import { createProgramsService, PROGRAM_RECOMPUTE_JOB, type ProgramsService } from '../programs/service';
import { learnerAssignmentOf, withoutOpenExceptions } from '../assignment/service';

/** Courses, activities, enrolments, completion, programs and program completion. */
export interface LearningServices {
  courses: CoursesService;
  enrolments: EnrolmentsService;
  completion: CompletionService;
  programs: ProgramsService;
}

/** Builds the learning services and declares the program recompute job on the site's queue. */
export function createLearningServices(site: Site): LearningServices {
  // Issue 4: the learner view shows the effective assignment, and no completion is recalculated
  // while an assignment exception is open or dismissed.
  const programs = createProgramsService(site, { assignmentOf: learnerAssignmentOf, selectTargets: withoutOpenExceptions });
  const completion = createCompletionService(site, () => programs);
  site.jobs.registrarFor('core').define<{ programId: number }>({
    name: PROGRAM_RECOMPUTE_JOB,
    handler: async (job) => programs.recomputeProgram(Number(job.payload.programId), (done, total) => job.progress(done, total)),
  });
  return { courses: createCoursesService(site), enrolments: createEnrolmentsService(site), completion, programs };
}

export type { CoursesService, EnrolmentsService, CompletionService, ProgramsService };
export type { CompletionCriteria, CourseInput, ActivityInput, CourseView, ActivityView, EnrolmentView } from './courses';
export type { CourseCompletionResult, ActivityCompletionResult, GradeResult, CourseCompletionSource } from './completion';
export type { ProgramInput, ProgramPatch, ProgramView, CourseSetInput, LearnerProgramView } from '../programs/service';
