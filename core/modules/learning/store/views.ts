import { tableView } from '../../../kernel/db/views';

/**
 * The learning module's published read views: relations other modules and plugins may join in a
 * set-based statement (docs/architecture.md, "Who owns which table"). Their columns are this
 * module's read contract; the tables behind them are its own business.
 */
export const learningViews = {
  courses: tableView('courses', ['id', 'shortname', 'fullname', 'summary', 'visible', 'start_date', 'score', 'created_at', 'updated_at'] as const),
  activities: tableView('activities', [
    'id',
    'course_id',
    'sortorder',
    'type',
    'name',
    'completion_tracked',
    'max_grade',
    'availability',
    'section_id',
    'created_at',
  ] as const),
  enrolments: tableView('enrolments', ['id', 'user_id', 'course_id', 'method', 'status', 'created_at', 'updated_at'] as const),
  courseCompletions: tableView('course_completions', ['id', 'user_id', 'course_id', 'completed_at', 'source', 'created_at'] as const),
  courseCompletionHistory: tableView('course_completion_history', ['id', 'user_id', 'course_id', 'completed_at', 'source', 'action', 'recorded_at'] as const),
  activityCompletions: tableView('activity_completions', ['id', 'user_id', 'activity_id', 'completed_at'] as const),
  grades: tableView('grades', ['id', 'user_id', 'activity_id', 'grade', 'graded_at'] as const),
};
