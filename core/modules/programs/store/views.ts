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
  programCompletionHistory: tableView('program_completion_history', [
    'id',
    'program_id',
    'user_id',
    'completed_at',
    'reason',
    'archived_at',
    'period_label',
  ] as const),
  /** Periods of recurring programs: each one's course (the launch guard finds past periods' copies here). */
  programRecurrencePeriods: tableView('program_recurrence_periods', [
    'id',
    'program_id',
    'seq',
    'label',
    'course_id',
    'starts_at',
    'ends_at',
    'status',
    'created_at',
    'switched_at',
  ] as const),
  /** Who was assigned when a period ended, and whether they had completed it (or did later). */
  programRecurrenceLearners: tableView('program_recurrence_learners', [
    'id',
    'period_id',
    'program_id',
    'user_id',
    'status',
    'due_at',
    'completed_at',
    'archived_at',
  ] as const),
};
