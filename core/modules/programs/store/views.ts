import { tableView } from '../../../kernel/db/views';

/**
 * The programs module's published read views: relations other modules and plugins may join in a
 * set-based statement (docs/architecture.md, "Who owns which table"). Their columns are this
 * module's read contract; the tables behind them are its own business.
 */
export const programViews = {
  programs: tableView('programs', [
    'id',
    'shortname',
    'fullname',
    'summary',
    'available',
    'available_from',
    'available_until',
    'allow_extension_requests',
    'structure_version',
    'created_at',
    'updated_at',
  ] as const),
  programCourseSets: tableView('program_course_sets', [
    'id',
    'program_id',
    'sortorder',
    'label',
    'rule',
    'min_courses',
    'min_score',
    'min_time',
    'operator',
  ] as const),
  programCourseSetCourses: tableView('program_course_set_courses', ['id', 'course_set_id', 'course_id', 'sortorder'] as const),
  programCompletions: tableView('program_completions', [
    'id',
    'program_id',
    'user_id',
    'status',
    'completed_at',
    'due_at',
    'created_at',
    'updated_at',
  ] as const),
  courseSetCompletions: tableView('course_set_completions', [
    'id',
    'course_set_id',
    'program_id',
    'user_id',
    'status',
    'completed_at',
    'opened_at',
    'due_at',
    'created_at',
    'updated_at',
  ] as const),
  programCompletionHistory: tableView('program_completion_history', ['id', 'program_id', 'user_id', 'completed_at', 'reason', 'archived_at'] as const),
};
