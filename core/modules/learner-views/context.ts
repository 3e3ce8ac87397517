import type { Database } from '../../kernel/db/database';
import type { AssignmentService } from '../assignment/index';
import type { CompletionService, CoursesService, QuizService } from '../learning/index';
import type { LaunchService } from '../launch/index';
import type { JobAssignmentService, UserService } from '../people/index';
import type { ProgramsService } from '../programs/index';

/** What the learner views read: the module's database and the services of the modules they show. */
export interface LearnerViewsContext {
  db: Database;
  services: {
    users: UserService;
    jobAssignments: JobAssignmentService;
    courses: CoursesService;
    completion: CompletionService;
    quizzes: QuizService;
    programs: ProgramsService;
    assignment: AssignmentService;
    launch: LaunchService;
  };
}
