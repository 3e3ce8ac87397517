import { tableView } from '../../../kernel/db/views';

/**
 * The people module's published read views: relations other modules and plugins may join in a
 * set-based statement (docs/architecture.md, "Who owns which table"). Their columns are this
 * module's read contract; the tables behind them are its own business.
 */
export const peopleViews = {
  users: tableView('users', [
    'id',
    'username',
    'email',
    'fullname',
    'is_admin',
    'lang',
    'timezone',
    'suspended',
    'deleted',
    'first_login_at',
    'created_at',
    'updated_at',
  ] as const),
  jobAssignments: tableView('job_assignments', [
    'id',
    'user_id',
    'position_id',
    'organisation_id',
    'manager_job_assignment_id',
    'manager_user_id',
    'manager_path',
    'start_date',
    'position_assigned_date',
    'created_at',
    'updated_at',
  ] as const),
  hierarchyNodes: tableView('hierarchy_nodes', ['id', 'kind', 'name', 'parent_id', 'path', 'depth', 'created_at', 'updated_at'] as const),
  profileFields: tableView('profile_fields', ['id', 'shortname', 'name', 'type', 'options', 'created_at', 'updated_at'] as const),
  userProfileValues: tableView('user_profile_values', ['id', 'user_id', 'field_id', 'value_text', 'value_date', 'updated_at'] as const),
  audiences: tableView('audiences', ['id', 'name', 'type', 'created_at', 'updated_at'] as const),
  audienceMembers: tableView('audience_members', ['id', 'audience_id', 'user_id', 'source', 'added_at'] as const),
};
