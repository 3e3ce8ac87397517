import type { MigrationSet } from '../../core/kernel/db/migrations';
import { platform } from './0001_platform';
import { jobs } from './0002_jobs';
import { people } from './0003_people';
import { learning } from './0004_learning';
import { programs } from './0005_programs';
import { assignment } from './0006_assignment';
import { sessions } from './0007_sessions';
import { assignmentIndexes } from './0008_assignment_indexes';
import { rateLimits } from './0009_rate_limits';
import { tokenExpiry } from './0010_token_expiry';
import { workerLeases } from './0011_worker_leases';
import { wholeMinScores } from './0012_whole_min_scores';
import { assignmentAcceptedDue } from './0013_assignment_accepted_due';
import { listIndexes } from './0014_list_indexes';
import { courseSections } from './0015_course_sections';
import { quizzes } from './0016_quizzes';
import { usersNameOrder } from './0017_users_name_order';
import { courseSetDueDates } from './0018_course_set_due_dates';
import { extensionRequests } from './0019_extension_requests';
import { programRecurrence } from './0020_program_recurrence';
import { userPickIndexes } from './0022_user_pick_indexes';
import { savedReports } from './0025_saved_reports';
import { reportDueOrder } from './0027_report_due_order';
import { usernamePickIndex } from './0028_username_pick_index';
import { ruleInstanceIds } from './0029_rule_instance_ids';
import { quizListIndex } from './0030_quiz_list_index';

/** Core migrations, in order. Add new ones at the end; never edit one that has shipped. */
export const coreMigrations: MigrationSet = {
  tableName: 'waymark_migrations',
  migrations: [
    platform,
    jobs,
    people,
    learning,
    programs,
    assignment,
    sessions,
    assignmentIndexes,
    rateLimits,
    tokenExpiry,
    workerLeases,
    wholeMinScores,
    assignmentAcceptedDue,
    listIndexes,
    courseSections,
    quizzes,
    usersNameOrder,
    courseSetDueDates,
    extensionRequests,
    programRecurrence,
    userPickIndexes,
    savedReports,
    reportDueOrder,
    usernamePickIndex,
    ruleInstanceIds,
    quizListIndex,
  ],
};
