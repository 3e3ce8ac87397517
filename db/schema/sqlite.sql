CREATE TABLE "activities" (`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL, `course_id` integer NOT NULL, `sortorder` integer NOT NULL, `type` varchar(50) NOT NULL, `name` varchar(255) NOT NULL, `completion_tracked` boolean NOT NULL DEFAULT '0', `max_grade` float NOT NULL DEFAULT '0', `availability` text NULL, `created_at` bigint NOT NULL, `section_id` integer NULL, FOREIGN KEY (`course_id`) REFERENCES `courses` (`id`) ON DELETE CASCADE, FOREIGN KEY (`section_id`) REFERENCES `course_sections` (`id`) ON DELETE SET NULL);

CREATE TABLE `activity_completions` (`id` integer not null primary key autoincrement, `user_id` integer not null, `activity_id` integer not null, `completed_at` bigint not null, foreign key(`user_id`) references `users`(`id`) on delete CASCADE, foreign key(`activity_id`) references `activities`(`id`) on delete CASCADE);

CREATE TABLE `api_tokens` (`id` integer not null primary key autoincrement, `user_id` integer not null, `token_hash` varchar(64) not null, `name` varchar(100) not null default 'cli', `created_at` bigint not null, `last_used_at` bigint null, `expires_at` bigint null, foreign key(`user_id`) references `users`(`id`) on delete CASCADE);

CREATE TABLE `assign_audience_migrations` (`id` integer not null primary key autoincrement, `name` varchar(255), `batch` integer, `migration_time` datetime);

CREATE TABLE `assign_audience_migrations_lock` (`index` integer not null primary key autoincrement, `is_locked` integer);

CREATE TABLE `assign_individual_migrations` (`id` integer not null primary key autoincrement, `name` varchar(255), `batch` integer, `migration_time` datetime);

CREATE TABLE `assign_individual_migrations_lock` (`index` integer not null primary key autoincrement, `is_locked` integer);

CREATE TABLE `assign_manager_migrations` (`id` integer not null primary key autoincrement, `name` varchar(255), `batch` integer, `migration_time` datetime);

CREATE TABLE `assign_manager_migrations_lock` (`index` integer not null primary key autoincrement, `is_locked` integer);

CREATE TABLE `assign_organisation_migrations` (`id` integer not null primary key autoincrement, `name` varchar(255), `batch` integer, `migration_time` datetime);

CREATE TABLE `assign_organisation_migrations_lock` (`index` integer not null primary key autoincrement, `is_locked` integer);

CREATE TABLE `assign_position_migrations` (`id` integer not null primary key autoincrement, `name` varchar(255), `batch` integer, `migration_time` datetime);

CREATE TABLE `assign_position_migrations_lock` (`index` integer not null primary key autoincrement, `is_locked` integer);

CREATE TABLE `assign_profile_migrations` (`id` integer not null primary key autoincrement, `name` varchar(255), `batch` integer, `migration_time` datetime);

CREATE TABLE `assign_profile_migrations_lock` (`index` integer not null primary key autoincrement, `is_locked` integer);

CREATE TABLE `audience_members` (`id` integer not null primary key autoincrement, `audience_id` integer not null, `user_id` integer not null, `source` varchar(20) not null, `added_at` bigint not null, foreign key(`audience_id`) references `audiences`(`id`) on delete CASCADE, foreign key(`user_id`) references `users`(`id`) on delete CASCADE);

CREATE TABLE `audiences` (`id` integer not null primary key autoincrement, `name` varchar(255) not null, `type` varchar(20) not null, `rules` text null, `created_at` bigint not null, `updated_at` bigint not null);

CREATE TABLE `course_completion_criteria` (`course_id` integer, `mode` varchar(20) not null, `activity_ids` text null, `min_grade` float null, `updated_at` bigint not null, foreign key(`course_id`) references `courses`(`id`) on delete CASCADE, primary key (`course_id`));

CREATE TABLE `course_completion_history` (`id` integer not null primary key autoincrement, `user_id` integer not null, `course_id` integer not null, `completed_at` bigint not null, `source` varchar(20) not null, `action` varchar(20) not null, `recorded_at` bigint not null, foreign key(`user_id`) references `users`(`id`) on delete CASCADE, foreign key(`course_id`) references `courses`(`id`) on delete CASCADE);

CREATE TABLE `course_completions` (`id` integer not null primary key autoincrement, `user_id` integer not null, `course_id` integer not null, `completed_at` bigint not null, `source` varchar(20) not null, `created_at` bigint not null, foreign key(`user_id`) references `users`(`id`) on delete CASCADE, foreign key(`course_id`) references `courses`(`id`) on delete CASCADE);

CREATE TABLE `course_sections` (`id` integer not null primary key autoincrement, `course_id` integer not null, `sortorder` integer not null, `name` varchar(255) not null, `availability` text null, `created_at` bigint not null, `updated_at` bigint not null, foreign key(`course_id`) references `courses`(`id`) on delete CASCADE);

CREATE TABLE `course_set_completions` (`id` integer not null primary key autoincrement, `course_set_id` integer not null, `program_id` integer not null, `user_id` integer not null, `status` varchar(20) not null, `completed_at` bigint null, `opened_at` bigint null, `due_at` bigint null, `created_at` bigint not null, `updated_at` bigint not null, foreign key(`course_set_id`) references `program_course_sets`(`id`) on delete CASCADE, foreign key(`program_id`) references `programs`(`id`) on delete CASCADE, foreign key(`user_id`) references `users`(`id`) on delete CASCADE);

CREATE TABLE `courses` (`id` integer not null primary key autoincrement, `shortname` varchar(100) not null, `fullname` varchar(255) not null, `summary` text null, `visible` boolean not null default '1', `start_date` bigint null, `score` integer not null default '0', `created_at` bigint not null, `updated_at` bigint not null);

CREATE TABLE `enrol_program_migrations` (`id` integer not null primary key autoincrement, `name` varchar(255), `batch` integer, `migration_time` datetime);

CREATE TABLE `enrol_program_migrations_lock` (`index` integer not null primary key autoincrement, `is_locked` integer);

CREATE TABLE `enrolments` (`id` integer not null primary key autoincrement, `user_id` integer not null, `course_id` integer not null, `method` varchar(100) not null, `status` varchar(20) not null, `created_at` bigint not null, `updated_at` bigint not null, foreign key(`user_id`) references `users`(`id`) on delete CASCADE, foreign key(`course_id`) references `courses`(`id`) on delete CASCADE);

CREATE TABLE `grades` (`id` integer not null primary key autoincrement, `user_id` integer not null, `activity_id` integer not null, `grade` float not null, `graded_at` bigint not null, foreign key(`user_id`) references `users`(`id`) on delete CASCADE, foreign key(`activity_id`) references `activities`(`id`) on delete CASCADE);

CREATE TABLE `hierarchy_nodes` (`id` integer not null primary key autoincrement, `kind` varchar(20) not null, `name` varchar(255) not null, `parent_id` integer null, `path` varchar(500) not null, `depth` integer not null, `created_at` bigint not null, `updated_at` bigint not null, foreign key(`parent_id`) references `hierarchy_nodes`(`id`));

CREATE TABLE `job_assignments` (`id` integer not null primary key autoincrement, `user_id` integer not null, `position_id` integer null, `organisation_id` integer null, `manager_job_assignment_id` integer null, `manager_user_id` integer null, `manager_path` varchar(500) not null, `start_date` bigint null, `position_assigned_date` bigint null, `created_at` bigint not null, `updated_at` bigint not null, foreign key(`user_id`) references `users`(`id`) on delete CASCADE, foreign key(`position_id`) references `hierarchy_nodes`(`id`), foreign key(`organisation_id`) references `hierarchy_nodes`(`id`), foreign key(`manager_job_assignment_id`) references `job_assignments`(`id`), foreign key(`manager_user_id`) references `users`(`id`));

CREATE TABLE `job_schedules` (`name` varchar(150), `cron` varchar(100) not null, `job` varchar(150) not null, `last_tick_at` bigint null, `last_run_at` bigint null, `last_job_id` integer null, `next_run_at` bigint null, `updated_at` bigint not null, primary key (`name`));

CREATE TABLE `jobs` (`id` integer not null primary key autoincrement, `name` varchar(150) not null, `payload` text null, `state` varchar(10) not null, `priority` integer not null default '0', `run_at` bigint not null, `attempts` integer not null default '0', `max_attempts` integer not null, `dedupe_key` varchar(191) null, `locked_by` varchar(100) null, `lock_expires_at` bigint null, `progress_done` integer null, `progress_total` integer null, `progress_message` varchar(255) null, `result` text null, `last_error` text null, `created_at` bigint not null, `started_at` bigint null, `finished_at` bigint null, `updated_at` bigint not null);

CREATE TABLE `notify_program_deliveries` (`id` integer not null primary key autoincrement, `message_id` integer not null, `program_id` integer not null, `user_id` integer not null, `course_set_id` integer not null default '0', `cycle` bigint not null, `recipient_id` integer not null, `role` varchar(10) not null, `state` varchar(10) not null, `batch` varchar(40) not null, `data` text null, `attempts` integer not null default '0', `claimed_by` varchar(40) null, `claimed_at` bigint null, `sent_at` bigint null, `skip_reason` varchar(40) null, `last_error` text null, `created_at` bigint not null);

CREATE TABLE `notify_program_inbox` (`id` integer not null primary key autoincrement, `user_id` integer not null, `delivery_id` integer not null, `type` varchar(30) not null, `program_id` integer not null, `subject` varchar(255) not null, `body` text not null, `created_at` bigint not null, `read_at` bigint null);

CREATE TABLE `notify_program_messages` (`id` integer not null primary key autoincrement, `program_id` integer not null, `type` varchar(30) not null, `subject` varchar(255) not null, `body` text not null, `manager_copy` boolean not null default '0', `manager_subject` varchar(255) null, `manager_body` text null, `trigger_offset` varchar(40) null, `trigger_direction` varchar(6) null, `active_from` bigint not null, `created_at` bigint not null, `updated_at` bigint not null);

CREATE TABLE `notify_program_migrations` (`id` integer not null primary key autoincrement, `name` varchar(255), `batch` integer, `migration_time` datetime);

CREATE TABLE `notify_program_migrations_lock` (`index` integer not null primary key autoincrement, `is_locked` integer);

CREATE TABLE `notify_program_preferences` (`user_id` integer not null, `type` varchar(30) not null, `channel` varchar(40) not null, constraint `notify_program_preferences_pk` primary key (`user_id`, `type`, `channel`));

CREATE TABLE `notify_program_programs` (`program_id` integer, `defaults_at` bigint not null, primary key (`program_id`));

CREATE TABLE `notify_program_scan` (`id` integer, `last_scan_at` bigint not null, primary key (`id`));

CREATE TABLE `plugins` (`id` varchar(100), `version` varchar(50) null, `enabled` boolean not null, `state` varchar(20) not null, `error_code` varchar(60) null, `error_message` text null, `installed_at` bigint null, `updated_at` bigint not null, primary key (`id`));

CREATE TABLE `profile_fields` (`id` integer not null primary key autoincrement, `shortname` varchar(100) not null, `name` varchar(255) not null, `type` varchar(20) not null, `options` text null, `created_at` bigint not null, `updated_at` bigint not null);

CREATE TABLE `program_assignment_rules` (`id` integer not null primary key autoincrement, `program_id` integer not null, `source` varchar(100) not null, `instance` text not null, `due_kind` varchar(10) not null, `due_date` bigint null, `due_within` varchar(50) null, `due_event` varchar(100) null, `due_instance_id` integer null, `version` integer not null default '1', `deleted_at` bigint null, `created_at` bigint not null, `updated_at` bigint not null, `instance_id` integer null, foreign key(`program_id`) references `programs`(`id`) on delete CASCADE);

CREATE TABLE `program_completion_history` (`id` integer not null primary key autoincrement, `program_id` integer not null, `user_id` integer not null, `completed_at` bigint not null, `reason` varchar(30) not null, `archived_at` bigint not null, `period_label` varchar(60) null, foreign key(`program_id`) references `programs`(`id`) on delete CASCADE, foreign key(`user_id`) references `users`(`id`) on delete CASCADE);

CREATE TABLE `program_completions` (`id` integer not null primary key autoincrement, `program_id` integer not null, `user_id` integer not null, `status` varchar(20) not null, `completed_at` bigint null, `due_at` bigint null, `created_at` bigint not null, `updated_at` bigint not null, foreign key(`program_id`) references `programs`(`id`) on delete CASCADE, foreign key(`user_id`) references `users`(`id`) on delete CASCADE);

CREATE TABLE `program_course_set_courses` (`id` integer not null primary key autoincrement, `course_set_id` integer not null, `course_id` integer not null, `sortorder` integer not null, foreign key(`course_set_id`) references `program_course_sets`(`id`) on delete CASCADE, foreign key(`course_id`) references `courses`(`id`) on delete CASCADE);

CREATE TABLE `program_course_sets` (`id` integer not null primary key autoincrement, `program_id` integer not null, `sortorder` integer not null, `label` varchar(255) not null, `rule` varchar(20) not null, `min_courses` integer not null default '0', `min_score` integer not null default '0', `min_time` varchar(50) null, `operator` varchar(10) null, foreign key(`program_id`) references `programs`(`id`) on delete CASCADE);

CREATE TABLE `program_exceptions` (`id` integer not null primary key autoincrement, `program_id` integer not null, `user_id` integer not null, `type` varchar(30) not null, `status` varchar(20) not null, `raised_at` bigint not null, `resolved_at` bigint null, `resolution` varchar(30) null, `resolved_by` integer null, `explanation` text not null, foreign key(`program_id`) references `programs`(`id`) on delete CASCADE, foreign key(`user_id`) references `users`(`id`) on delete CASCADE);

CREATE TABLE `program_extension_requests` (`id` integer not null primary key autoincrement, `program_id` integer not null, `user_id` integer not null, `status` varchar(10) not null, `due_at` bigint not null, `requested_due_at` bigint not null, `reason` text not null, `requested_at` bigint not null, `decided_by` integer null, `decided_at` bigint null, `approved_due_at` bigint null, `decision_reason` text null, foreign key(`program_id`) references `programs`(`id`) on delete CASCADE, foreign key(`user_id`) references `users`(`id`) on delete CASCADE, foreign key(`decided_by`) references `users`(`id`) on delete SET NULL);

CREATE TABLE `program_recurrence_learners` (`id` integer not null primary key autoincrement, `period_id` integer not null, `program_id` integer not null, `user_id` integer not null, `status` varchar(12) not null, `due_at` bigint null, `completed_at` bigint null, `archived_at` bigint not null, foreign key(`period_id`) references `program_recurrence_periods`(`id`) on delete CASCADE, foreign key(`program_id`) references `programs`(`id`) on delete CASCADE, foreign key(`user_id`) references `users`(`id`) on delete CASCADE);

CREATE TABLE `program_recurrence_periods` (`id` integer not null primary key autoincrement, `program_id` integer not null, `seq` integer not null, `label` varchar(60) not null, `course_id` integer not null, `starts_at` bigint not null, `ends_at` bigint not null, `status` varchar(10) not null, `created_at` bigint not null, `switched_at` bigint null, foreign key(`program_id`) references `programs`(`id`) on delete CASCADE, foreign key(`course_id`) references `courses`(`id`));

CREATE TABLE `program_rule_members` (`id` integer not null primary key autoincrement, `program_id` integer not null, `rule_id` integer not null, `user_id` integer not null, `due_state` varchar(10) not null, `event_at` bigint null, `due_at` bigint null, `created_at` bigint not null, foreign key(`program_id`) references `programs`(`id`) on delete CASCADE, foreign key(`rule_id`) references `program_assignment_rules`(`id`) on delete CASCADE, foreign key(`user_id`) references `users`(`id`) on delete CASCADE);

CREATE TABLE `program_user_assignments` (`id` integer not null primary key autoincrement, `program_id` integer not null, `user_id` integer not null, `status` varchar(20) not null, `due_at` bigint null, `rule_state` varchar(10) null, `rule_due_at` bigint null, `assigned_at` bigint null, `exception_id` integer null, `created_at` bigint not null, `updated_at` bigint not null, `accepted_due_at` bigint null, foreign key(`program_id`) references `programs`(`id`) on delete CASCADE, foreign key(`user_id`) references `users`(`id`) on delete CASCADE, foreign key(`exception_id`) references `program_exceptions`(`id`) on delete SET NULL);

CREATE TABLE `programs` (`id` integer not null primary key autoincrement, `shortname` varchar(100) not null, `fullname` varchar(255) not null, `summary` text null, `available` boolean not null default '1', `available_from` bigint null, `available_until` bigint null, `structure_version` integer not null default '1', `created_at` bigint not null, `updated_at` bigint not null, `allow_extension_requests` boolean not null default '0', `recurrence_period` varchar(30) null, `recurrence_lead` varchar(30) null, `recurrence_start` bigint null);

CREATE TABLE `quiz_attempts` (`id` integer not null primary key autoincrement, `activity_id` integer not null, `user_id` integer not null, `attempt` integer not null, `answers` text not null, `results` text not null, `marks` float not null, `max_marks` float not null, `grade` float not null, `submitted_at` bigint not null, foreign key(`activity_id`) references `activities`(`id`) on delete CASCADE, foreign key(`user_id`) references `users`(`id`) on delete CASCADE);

CREATE TABLE `quiz_questions` (`id` integer not null primary key autoincrement, `activity_id` integer not null, `sortorder` integer not null, `type` varchar(20) not null, `text` text not null, `choices` text null, `answer` text not null, `marks` float not null, foreign key(`activity_id`) references `activities`(`id`) on delete CASCADE);

CREATE TABLE `quiz_settings` (`activity_id` integer, `attempts_allowed` integer not null default '0', `grading_method` varchar(10) not null default 'highest', `review_after_submission` boolean not null default '1', `updated_at` bigint not null, foreign key(`activity_id`) references `activities`(`id`) on delete CASCADE, primary key (`activity_id`));

CREATE TABLE `rate_limits` (`key` varchar(191), `hits` integer not null, `reset_at` bigint not null, primary key (`key`));

CREATE TABLE `restrict_access_migrations` (`id` integer not null primary key autoincrement, `name` varchar(255), `batch` integer, `migration_time` datetime);

CREATE TABLE `restrict_access_migrations_lock` (`index` integer not null primary key autoincrement, `is_locked` integer);

CREATE TABLE `saved_reports` (`id` integer not null primary key autoincrement, `name` varchar(120) not null, `report` varchar(64) not null, `query` text not null, `on_dashboard` boolean not null default '0', `created_by` integer null, `created_at` bigint not null, `updated_at` bigint not null, foreign key(`created_by`) references `users`(`id`) on delete SET NULL);

CREATE TABLE `sessions` (`sid` varchar(128), `user_id` integer null, `data` text not null, `expires_at` bigint not null, foreign key(`user_id`) references `users`(`id`) on delete CASCADE, primary key (`sid`));

CREATE TABLE `site_config` (`name` varchar(100), `value` text not null, `updated_at` bigint not null, primary key (`name`));

CREATE TABLE `tool_learningplan_items` (`id` integer not null primary key autoincrement, `user_id` integer not null, `program_id` integer not null, `added_by` integer null, `added_at` bigint not null);

CREATE TABLE `tool_learningplan_migrations` (`id` integer not null primary key autoincrement, `name` varchar(255), `batch` integer, `migration_time` datetime);

CREATE TABLE `tool_learningplan_migrations_lock` (`index` integer not null primary key autoincrement, `is_locked` integer);

CREATE TABLE `tool_sitestats_migrations` (`id` integer not null primary key autoincrement, `name` varchar(255), `batch` integer, `migration_time` datetime);

CREATE TABLE `tool_sitestats_migrations_lock` (`index` integer not null primary key autoincrement, `is_locked` integer);

CREATE TABLE `tool_sitestats_snapshots` (`id` integer not null primary key autoincrement, `users` integer not null, `enabled_plugins` integer not null, `jobs` text not null, `taken_at` bigint not null);

CREATE TABLE `user_profile_values` (`id` integer not null primary key autoincrement, `user_id` integer not null, `field_id` integer not null, `value_text` varchar(255) null, `value_date` bigint null, `updated_at` bigint not null, foreign key(`user_id`) references `users`(`id`) on delete CASCADE, foreign key(`field_id`) references `profile_fields`(`id`) on delete CASCADE);

CREATE TABLE `users` (`id` integer not null primary key autoincrement, `username` varchar(100) not null, `email` varchar(255) not null, `fullname` varchar(255) not null, `password_hash` varchar(255) null, `is_admin` boolean not null default '0', `lang` varchar(20) not null default 'en', `timezone` varchar(64) not null default 'UTC', `suspended` boolean not null default '0', `deleted` boolean not null default '0', `first_login_at` bigint null, `created_at` bigint not null, `updated_at` bigint not null);

CREATE TABLE `waymark_migrations` (`id` integer not null primary key autoincrement, `name` varchar(255), `batch` integer, `migration_time` datetime);

CREATE TABLE `waymark_migrations_lock` (`index` integer not null primary key autoincrement, `is_locked` integer);

CREATE TABLE `worker_leases` (`name` varchar(100), `holder` varchar(255) not null, `expires_at` bigint not null, primary key (`name`));

CREATE UNIQUE INDEX `activities_course_id_sortorder_unique` on `activities` (`course_id`, `sortorder`);

CREATE INDEX `activities_section_id_index` on `activities` (`section_id`);

CREATE INDEX activities_type_name_list ON activities (type, name COLLATE NOCASE, id);

CREATE INDEX `activity_completions_activity_id_index` on `activity_completions` (`activity_id`);

CREATE UNIQUE INDEX `activity_completions_user_id_activity_id_unique` on `activity_completions` (`user_id`, `activity_id`);

CREATE UNIQUE INDEX `api_tokens_token_hash_unique` on `api_tokens` (`token_hash`);

CREATE UNIQUE INDEX `audience_members_audience_id_user_id_unique` on `audience_members` (`audience_id`, `user_id`);

CREATE INDEX `audience_members_user_id_index` on `audience_members` (`user_id`);

CREATE INDEX audiences_name_id_list ON audiences (name COLLATE NOCASE, id);

CREATE INDEX `course_completion_history_user_id_course_id_index` on `course_completion_history` (`user_id`, `course_id`);

CREATE INDEX `course_completions_course_id_index` on `course_completions` (`course_id`);

CREATE UNIQUE INDEX `course_completions_user_id_course_id_unique` on `course_completions` (`user_id`, `course_id`);

CREATE UNIQUE INDEX `course_sections_course_id_sortorder_unique` on `course_sections` (`course_id`, `sortorder`);

CREATE UNIQUE INDEX `course_set_completions_course_set_id_user_id_unique` on `course_set_completions` (`course_set_id`, `user_id`);

CREATE INDEX `course_set_completions_program_due` on `course_set_completions` (`program_id`, `due_at`);

CREATE INDEX `course_set_completions_program_id_user_id_index` on `course_set_completions` (`program_id`, `user_id`);

CREATE INDEX courses_fullname_id_list ON courses (fullname COLLATE NOCASE, id);

CREATE INDEX courses_shortname_nocase ON courses (shortname COLLATE NOCASE);

CREATE UNIQUE INDEX `courses_shortname_unique` on `courses` (`shortname`);

CREATE INDEX `enrolments_course_id_index` on `enrolments` (`course_id`);

CREATE UNIQUE INDEX `enrolments_user_id_course_id_method_unique` on `enrolments` (`user_id`, `course_id`, `method`);

CREATE INDEX `grades_activity_id_index` on `grades` (`activity_id`);

CREATE UNIQUE INDEX `grades_user_id_activity_id_unique` on `grades` (`user_id`, `activity_id`);

CREATE INDEX hierarchy_nodes_kind_name_id_list ON hierarchy_nodes (kind, name COLLATE NOCASE, id);

CREATE INDEX `hierarchy_nodes_kind_path_index` on `hierarchy_nodes` (`kind`, `path`);

CREATE INDEX `hierarchy_nodes_parent_id_index` on `hierarchy_nodes` (`parent_id`);

CREATE INDEX `job_assignments_manager_job_assignment_id_user_id_index` on `job_assignments` (`manager_job_assignment_id`, `user_id`);

CREATE INDEX `job_assignments_manager_path_user_id_index` on `job_assignments` (`manager_path`, `user_id`);

CREATE INDEX `job_assignments_manager_user_id_index` on `job_assignments` (`manager_user_id`);

CREATE INDEX `job_assignments_organisation_id_user_id_index` on `job_assignments` (`organisation_id`, `user_id`);

CREATE INDEX `job_assignments_position_id_user_id_index` on `job_assignments` (`position_id`, `user_id`);

CREATE INDEX `job_assignments_user_id_index` on `job_assignments` (`user_id`);

CREATE INDEX jobs_claim_idx ON jobs (state, priority DESC, run_at, id);

CREATE UNIQUE INDEX `jobs_dedupe_key_unique` on `jobs` (`dedupe_key`);

CREATE INDEX jobs_lock_idx ON jobs (state, lock_expires_at);

CREATE INDEX `notify_program_deliveries_batch` on `notify_program_deliveries` (`batch`, `state`);

CREATE INDEX `notify_program_deliveries_claim` on `notify_program_deliveries` (`claimed_by`);

CREATE UNIQUE INDEX `notify_program_deliveries_dedupe` on `notify_program_deliveries` (`message_id`, `user_id`, `course_set_id`, `cycle`, `recipient_id`);

CREATE INDEX `notify_program_deliveries_state` on `notify_program_deliveries` (`state`, `created_at`);

CREATE UNIQUE INDEX `notify_program_inbox_delivery` on `notify_program_inbox` (`delivery_id`);

CREATE INDEX `notify_program_inbox_unread` on `notify_program_inbox` (`user_id`, `read_at`);

CREATE INDEX `notify_program_inbox_user` on `notify_program_inbox` (`user_id`, `id`);

CREATE INDEX `notify_program_messages_program` on `notify_program_messages` (`program_id`, `type`);

CREATE UNIQUE INDEX `profile_fields_shortname_unique` on `profile_fields` (`shortname`);

CREATE INDEX `program_assignment_rules_instance` on `program_assignment_rules` (`program_id`, `source`, `instance_id`);

CREATE INDEX `program_assignment_rules_program_id_index` on `program_assignment_rules` (`program_id`);

CREATE INDEX `program_assignment_rules_source_index` on `program_assignment_rules` (`source`);

CREATE INDEX `program_completion_history_program_id_user_id_index` on `program_completion_history` (`program_id`, `user_id`);

CREATE INDEX `program_completions_due_order` on `program_completions` (`program_id`, `due_at`, `user_id`);

CREATE UNIQUE INDEX `program_completions_program_id_user_id_unique` on `program_completions` (`program_id`, `user_id`);

CREATE INDEX `program_completions_user_id_index` on `program_completions` (`user_id`);

CREATE INDEX `program_course_set_courses_course_id_course_set_id_index` on `program_course_set_courses` (`course_id`, `course_set_id`);

CREATE UNIQUE INDEX `program_course_set_courses_course_set_id_course_id_unique` on `program_course_set_courses` (`course_set_id`, `course_id`);

CREATE UNIQUE INDEX `program_course_sets_program_id_sortorder_unique` on `program_course_sets` (`program_id`, `sortorder`);

CREATE INDEX `program_exceptions_program_id_status_index` on `program_exceptions` (`program_id`, `status`);

CREATE INDEX `program_exceptions_program_id_user_id_index` on `program_exceptions` (`program_id`, `user_id`);

CREATE INDEX `program_extension_requests_learner` on `program_extension_requests` (`user_id`, `program_id`, `status`);

CREATE INDEX `program_extension_requests_status` on `program_extension_requests` (`status`, `id`);

CREATE UNIQUE INDEX `program_recurrence_learners_period_id_user_id_unique` on `program_recurrence_learners` (`period_id`, `user_id`);

CREATE INDEX `program_recurrence_learners_user_id_status_index` on `program_recurrence_learners` (`user_id`, `status`);

CREATE INDEX `program_recurrence_periods_course_id_index` on `program_recurrence_periods` (`course_id`);

CREATE UNIQUE INDEX `program_recurrence_periods_program_id_seq_unique` on `program_recurrence_periods` (`program_id`, `seq`);

CREATE INDEX `program_rule_members_program_id_user_id_index` on `program_rule_members` (`program_id`, `user_id`);

CREATE UNIQUE INDEX `program_rule_members_rule_id_user_id_unique` on `program_rule_members` (`rule_id`, `user_id`);

CREATE INDEX `program_rule_members_user_id_rule_id_index` on `program_rule_members` (`user_id`, `rule_id`);

CREATE INDEX `program_user_assignments_due_order` on `program_user_assignments` (`program_id`, `status`, `due_at`, `id`);

CREATE INDEX `program_user_assignments_program_id_status_index` on `program_user_assignments` (`program_id`, `status`);

CREATE UNIQUE INDEX `program_user_assignments_program_id_user_id_unique` on `program_user_assignments` (`program_id`, `user_id`);

CREATE INDEX `program_user_assignments_user_id_status_index` on `program_user_assignments` (`user_id`, `status`);

CREATE INDEX programs_fullname_id_list ON programs (fullname COLLATE NOCASE, id);

CREATE INDEX programs_shortname_nocase ON programs (shortname COLLATE NOCASE);

CREATE UNIQUE INDEX `programs_shortname_unique` on `programs` (`shortname`);

CREATE UNIQUE INDEX `quiz_attempts_activity_id_user_id_attempt_unique` on `quiz_attempts` (`activity_id`, `user_id`, `attempt`);

CREATE INDEX `quiz_attempts_user_id_index` on `quiz_attempts` (`user_id`);

CREATE UNIQUE INDEX `quiz_questions_activity_id_sortorder_unique` on `quiz_questions` (`activity_id`, `sortorder`);

CREATE INDEX `rate_limits_reset_at_index` on `rate_limits` (`reset_at`);

CREATE INDEX `saved_reports_dashboard` on `saved_reports` (`on_dashboard`, `name`);

CREATE UNIQUE INDEX `saved_reports_name` on `saved_reports` (`name`);

CREATE INDEX `sessions_expires_at_index` on `sessions` (`expires_at`);

CREATE INDEX `sessions_user_id_index` on `sessions` (`user_id`);

CREATE INDEX `tool_learningplan_items_program_id_user_id_index` on `tool_learningplan_items` (`program_id`, `user_id`);

CREATE UNIQUE INDEX `tool_learningplan_items_user_id_program_id_unique` on `tool_learningplan_items` (`user_id`, `program_id`);

CREATE INDEX `tool_sitestats_snapshots_taken_at_index` on `tool_sitestats_snapshots` (`taken_at`);

CREATE INDEX `user_profile_values_field_id_value_date_index` on `user_profile_values` (`field_id`, `value_date`);

CREATE INDEX `user_profile_values_field_id_value_text_index` on `user_profile_values` (`field_id`, `value_text`);

CREATE UNIQUE INDEX `user_profile_values_user_id_field_id_unique` on `user_profile_values` (`user_id`, `field_id`);

CREATE INDEX users_deleted_fullname_id_list ON users (deleted, fullname COLLATE NOCASE, id);

CREATE INDEX users_email_nocase ON users (email COLLATE NOCASE);

CREATE INDEX `users_fullname_id_index` on `users` (`fullname`, `id`);

CREATE INDEX users_username_nocase ON users (username COLLATE NOCASE);

CREATE UNIQUE INDEX `users_username_unique` on `users` (`username`);
