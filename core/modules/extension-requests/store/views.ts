import { tableView } from '../../../kernel/db/views';

/** Relations other modules and plugins may join in a set-based read (columns are the contract). */
export const extensionRequestViews = {
  requests: tableView('program_extension_requests', [
    'id',
    'program_id',
    'user_id',
    'status',
    'due_at',
    'requested_due_at',
    'reason',
    'requested_at',
    'decided_by',
    'decided_at',
    'approved_due_at',
    'decision_reason',
  ] as const),
};
