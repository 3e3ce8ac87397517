import { tableView } from '../../../kernel/db/views';

/**
 * The assignment module's published read views: relations other modules and plugins may join in a
 * set-based statement (docs/architecture.md, "Who owns which table"). Their columns are this
 * module's read contract; the tables behind them are its own business.
 */
export const assignmentViews = {
  programUserAssignments: tableView('program_user_assignments', [
    'id',
    'program_id',
    'user_id',
    'status',
    'due_at',
    'rule_state',
    'rule_due_at',
    'assigned_at',
    'exception_id',
    'created_at',
    'updated_at',
  ] as const),
  programExceptions: tableView('program_exceptions', [
    'id',
    'program_id',
    'user_id',
    'type',
    'status',
    'raised_at',
    'resolved_at',
    'resolution',
    'resolved_by',
    'explanation',
  ] as const),
};
