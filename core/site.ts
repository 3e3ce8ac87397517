import { createKernel, type CreateKernelOptions, type Kernel } from './kernel/kernel';
import { coreMigrations } from '../db/migrations/index';
import { coreModules } from './modules/index';
import { peopleServices, type PeopleServices } from './modules/people/index';
import { learningServices, type CompletionService, type CoursesService, type EnrolmentsService, type QuizService } from './modules/learning/index';
import { programServices, type ProgramsService } from './modules/programs/index';
import { assignmentServices, type AssignmentService } from './modules/assignment/index';
import { launchServices, type LaunchService } from './modules/launch/index';
import { reportServices, type ReportsService, type SavedReportsService } from './modules/reports/index';

/** Every core module's services, for the CLI, the demo seed, benchmarks and tests (plugins declare deps instead). */
export interface CoreServices extends PeopleServices {
  courses: CoursesService;
  enrolments: EnrolmentsService;
  completion: CompletionService;
  quizzes: QuizService;
  programs: ProgramsService;
  assignment: AssignmentService;
  launch: LaunchService;
  reports: ReportsService;
  savedReports: SavedReportsService;
}

/**
 * The running site: the kernel with the core modules registered. Tests build one per database; the
 * CLI builds one per process. Nothing here listens on a port (see createApp / the serve command).
 */
export interface Site extends Kernel {
  readonly services: CoreServices;
}

export type CreateSiteOptions = Omit<CreateKernelOptions, 'migrations' | 'modules'>;

/** The composition root: the only place that knows both the kernel and the list of core modules. */
export function createSite(options: CreateSiteOptions = {}): Site {
  const kernel = createKernel({ ...options, migrations: coreMigrations, modules: coreModules });
  const services = kernel.registry.resolve('site', {
    ...peopleServices,
    ...learningServices,
    ...programServices,
    ...assignmentServices,
    ...launchServices,
    ...reportServices,
  });
  return Object.assign(kernel, { services });
}
