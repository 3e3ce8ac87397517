CREATE TABLE `activities` (
  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `course_id` int(10) unsigned NOT NULL,
  `sortorder` int(11) NOT NULL,
  `type` varchar(50) NOT NULL,
  `name` varchar(255) NOT NULL,
  `completion_tracked` tinyint(1) NOT NULL DEFAULT 0,
  `max_grade` decimal(10,2) NOT NULL DEFAULT 0.00,
  `availability` text DEFAULT NULL,
  `created_at` bigint(20) NOT NULL,
  `section_id` int(10) unsigned DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `activities_course_id_sortorder_unique` (`course_id`,`sortorder`),
  KEY `activities_section_id_index` (`section_id`),
  KEY `activities_type_name_list` (`type`,`name`,`id`),
  CONSTRAINT `activities_course_id_foreign` FOREIGN KEY (`course_id`) REFERENCES `courses` (`id`) ON DELETE CASCADE,
  CONSTRAINT `activities_section_id_foreign` FOREIGN KEY (`section_id`) REFERENCES `course_sections` (`id`) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `activity_completions` (
  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `user_id` int(10) unsigned NOT NULL,
  `activity_id` int(10) unsigned NOT NULL,
  `completed_at` bigint(20) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `activity_completions_user_id_activity_id_unique` (`user_id`,`activity_id`),
  KEY `activity_completions_activity_id_index` (`activity_id`),
  CONSTRAINT `activity_completions_activity_id_foreign` FOREIGN KEY (`activity_id`) REFERENCES `activities` (`id`) ON DELETE CASCADE,
  CONSTRAINT `activity_completions_user_id_foreign` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `api_tokens` (
  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `user_id` int(10) unsigned NOT NULL,
  `token_hash` varchar(64) NOT NULL,
  `name` varchar(100) NOT NULL DEFAULT 'cli',
  `created_at` bigint(20) NOT NULL,
  `last_used_at` bigint(20) DEFAULT NULL,
  `expires_at` bigint(20) DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `api_tokens_token_hash_unique` (`token_hash`),
  KEY `api_tokens_user_id_foreign` (`user_id`),
  CONSTRAINT `api_tokens_user_id_foreign` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `assign_audience_migrations` (
  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `name` varchar(255) DEFAULT NULL,
  `batch` int(11) DEFAULT NULL,
  `migration_time` timestamp NULL DEFAULT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `assign_audience_migrations_lock` (
  `index` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `is_locked` int(11) DEFAULT NULL,
  PRIMARY KEY (`index`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `assign_individual_migrations` (
  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `name` varchar(255) DEFAULT NULL,
  `batch` int(11) DEFAULT NULL,
  `migration_time` timestamp NULL DEFAULT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `assign_individual_migrations_lock` (
  `index` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `is_locked` int(11) DEFAULT NULL,
  PRIMARY KEY (`index`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `assign_manager_migrations` (
  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `name` varchar(255) DEFAULT NULL,
  `batch` int(11) DEFAULT NULL,
  `migration_time` timestamp NULL DEFAULT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `assign_manager_migrations_lock` (
  `index` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `is_locked` int(11) DEFAULT NULL,
  PRIMARY KEY (`index`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `assign_organisation_migrations` (
  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `name` varchar(255) DEFAULT NULL,
  `batch` int(11) DEFAULT NULL,
  `migration_time` timestamp NULL DEFAULT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `assign_organisation_migrations_lock` (
  `index` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `is_locked` int(11) DEFAULT NULL,
  PRIMARY KEY (`index`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `assign_position_migrations` (
  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `name` varchar(255) DEFAULT NULL,
  `batch` int(11) DEFAULT NULL,
  `migration_time` timestamp NULL DEFAULT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `assign_position_migrations_lock` (
  `index` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `is_locked` int(11) DEFAULT NULL,
  PRIMARY KEY (`index`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `assign_profile_migrations` (
  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `name` varchar(255) DEFAULT NULL,
  `batch` int(11) DEFAULT NULL,
  `migration_time` timestamp NULL DEFAULT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `assign_profile_migrations_lock` (
  `index` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `is_locked` int(11) DEFAULT NULL,
  PRIMARY KEY (`index`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `audience_members` (
  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `audience_id` int(10) unsigned NOT NULL,
  `user_id` int(10) unsigned NOT NULL,
  `source` varchar(20) NOT NULL,
  `added_at` bigint(20) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `audience_members_audience_id_user_id_unique` (`audience_id`,`user_id`),
  KEY `audience_members_user_id_index` (`user_id`),
  CONSTRAINT `audience_members_audience_id_foreign` FOREIGN KEY (`audience_id`) REFERENCES `audiences` (`id`) ON DELETE CASCADE,
  CONSTRAINT `audience_members_user_id_foreign` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `audiences` (
  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `name` varchar(255) NOT NULL,
  `type` varchar(20) NOT NULL,
  `rules` text DEFAULT NULL,
  `created_at` bigint(20) NOT NULL,
  `updated_at` bigint(20) NOT NULL,
  PRIMARY KEY (`id`),
  KEY `audiences_name_id_list` (`name`,`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `course_completion_criteria` (
  `course_id` int(10) unsigned NOT NULL,
  `mode` varchar(20) NOT NULL,
  `activity_ids` text DEFAULT NULL,
  `min_grade` decimal(5,2) DEFAULT NULL,
  `updated_at` bigint(20) NOT NULL,
  PRIMARY KEY (`course_id`),
  CONSTRAINT `course_completion_criteria_course_id_foreign` FOREIGN KEY (`course_id`) REFERENCES `courses` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `course_completion_history` (
  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `user_id` int(10) unsigned NOT NULL,
  `course_id` int(10) unsigned NOT NULL,
  `completed_at` bigint(20) NOT NULL,
  `source` varchar(20) NOT NULL,
  `action` varchar(20) NOT NULL,
  `recorded_at` bigint(20) NOT NULL,
  PRIMARY KEY (`id`),
  KEY `course_completion_history_course_id_foreign` (`course_id`),
  KEY `course_completion_history_user_id_course_id_index` (`user_id`,`course_id`),
  CONSTRAINT `course_completion_history_course_id_foreign` FOREIGN KEY (`course_id`) REFERENCES `courses` (`id`) ON DELETE CASCADE,
  CONSTRAINT `course_completion_history_user_id_foreign` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `course_completions` (
  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `user_id` int(10) unsigned NOT NULL,
  `course_id` int(10) unsigned NOT NULL,
  `completed_at` bigint(20) NOT NULL,
  `source` varchar(20) NOT NULL,
  `created_at` bigint(20) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `course_completions_user_id_course_id_unique` (`user_id`,`course_id`),
  KEY `course_completions_course_id_index` (`course_id`),
  CONSTRAINT `course_completions_course_id_foreign` FOREIGN KEY (`course_id`) REFERENCES `courses` (`id`) ON DELETE CASCADE,
  CONSTRAINT `course_completions_user_id_foreign` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `course_sections` (
  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `course_id` int(10) unsigned NOT NULL,
  `sortorder` int(11) NOT NULL,
  `name` varchar(255) NOT NULL,
  `availability` text DEFAULT NULL,
  `created_at` bigint(20) NOT NULL,
  `updated_at` bigint(20) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `course_sections_course_id_sortorder_unique` (`course_id`,`sortorder`),
  CONSTRAINT `course_sections_course_id_foreign` FOREIGN KEY (`course_id`) REFERENCES `courses` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `course_set_completions` (
  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `course_set_id` int(10) unsigned NOT NULL,
  `program_id` int(10) unsigned NOT NULL,
  `user_id` int(10) unsigned NOT NULL,
  `status` varchar(20) NOT NULL,
  `completed_at` bigint(20) DEFAULT NULL,
  `opened_at` bigint(20) DEFAULT NULL,
  `due_at` bigint(20) DEFAULT NULL,
  `created_at` bigint(20) NOT NULL,
  `updated_at` bigint(20) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `course_set_completions_course_set_id_user_id_unique` (`course_set_id`,`user_id`),
  KEY `course_set_completions_user_id_foreign` (`user_id`),
  KEY `course_set_completions_program_id_user_id_index` (`program_id`,`user_id`),
  KEY `course_set_completions_program_due` (`program_id`,`due_at`),
  CONSTRAINT `course_set_completions_course_set_id_foreign` FOREIGN KEY (`course_set_id`) REFERENCES `program_course_sets` (`id`) ON DELETE CASCADE,
  CONSTRAINT `course_set_completions_program_id_foreign` FOREIGN KEY (`program_id`) REFERENCES `programs` (`id`) ON DELETE CASCADE,
  CONSTRAINT `course_set_completions_user_id_foreign` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `courses` (
  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `shortname` varchar(100) NOT NULL,
  `fullname` varchar(255) NOT NULL,
  `summary` text DEFAULT NULL,
  `visible` tinyint(1) NOT NULL DEFAULT 1,
  `start_date` bigint(20) DEFAULT NULL,
  `score` int(11) NOT NULL DEFAULT 0,
  `created_at` bigint(20) NOT NULL,
  `updated_at` bigint(20) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `courses_shortname_unique` (`shortname`),
  KEY `courses_fullname_id_list` (`fullname`,`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `enrol_program_migrations` (
  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `name` varchar(255) DEFAULT NULL,
  `batch` int(11) DEFAULT NULL,
  `migration_time` timestamp NULL DEFAULT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `enrol_program_migrations_lock` (
  `index` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `is_locked` int(11) DEFAULT NULL,
  PRIMARY KEY (`index`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `enrolments` (
  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `user_id` int(10) unsigned NOT NULL,
  `course_id` int(10) unsigned NOT NULL,
  `method` varchar(100) NOT NULL,
  `status` varchar(20) NOT NULL,
  `created_at` bigint(20) NOT NULL,
  `updated_at` bigint(20) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `enrolments_user_id_course_id_method_unique` (`user_id`,`course_id`,`method`),
  KEY `enrolments_course_id_index` (`course_id`),
  CONSTRAINT `enrolments_course_id_foreign` FOREIGN KEY (`course_id`) REFERENCES `courses` (`id`) ON DELETE CASCADE,
  CONSTRAINT `enrolments_user_id_foreign` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `grades` (
  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `user_id` int(10) unsigned NOT NULL,
  `activity_id` int(10) unsigned NOT NULL,
  `grade` decimal(10,2) NOT NULL,
  `graded_at` bigint(20) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `grades_user_id_activity_id_unique` (`user_id`,`activity_id`),
  KEY `grades_activity_id_index` (`activity_id`),
  CONSTRAINT `grades_activity_id_foreign` FOREIGN KEY (`activity_id`) REFERENCES `activities` (`id`) ON DELETE CASCADE,
  CONSTRAINT `grades_user_id_foreign` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `hierarchy_nodes` (
  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `kind` varchar(20) NOT NULL,
  `name` varchar(255) NOT NULL,
  `parent_id` int(10) unsigned DEFAULT NULL,
  `path` varchar(500) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  `depth` int(11) NOT NULL,
  `created_at` bigint(20) NOT NULL,
  `updated_at` bigint(20) NOT NULL,
  PRIMARY KEY (`id`),
  KEY `hierarchy_nodes_kind_path_index` (`kind`,`path`),
  KEY `hierarchy_nodes_parent_id_index` (`parent_id`),
  KEY `hierarchy_nodes_kind_name_id_list` (`kind`,`name`,`id`),
  CONSTRAINT `hierarchy_nodes_parent_id_foreign` FOREIGN KEY (`parent_id`) REFERENCES `hierarchy_nodes` (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `job_assignments` (
  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `user_id` int(10) unsigned NOT NULL,
  `position_id` int(10) unsigned DEFAULT NULL,
  `organisation_id` int(10) unsigned DEFAULT NULL,
  `manager_job_assignment_id` int(10) unsigned DEFAULT NULL,
  `manager_user_id` int(10) unsigned DEFAULT NULL,
  `manager_path` varchar(500) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  `start_date` bigint(20) DEFAULT NULL,
  `position_assigned_date` bigint(20) DEFAULT NULL,
  `created_at` bigint(20) NOT NULL,
  `updated_at` bigint(20) NOT NULL,
  PRIMARY KEY (`id`),
  KEY `job_assignments_user_id_index` (`user_id`),
  KEY `job_assignments_manager_user_id_index` (`manager_user_id`),
  KEY `job_assignments_position_id_user_id_index` (`position_id`,`user_id`),
  KEY `job_assignments_organisation_id_user_id_index` (`organisation_id`,`user_id`),
  KEY `job_assignments_manager_job_assignment_id_user_id_index` (`manager_job_assignment_id`,`user_id`),
  KEY `job_assignments_manager_path_user_id_index` (`manager_path`,`user_id`),
  CONSTRAINT `job_assignments_manager_job_assignment_id_foreign` FOREIGN KEY (`manager_job_assignment_id`) REFERENCES `job_assignments` (`id`),
  CONSTRAINT `job_assignments_manager_user_id_foreign` FOREIGN KEY (`manager_user_id`) REFERENCES `users` (`id`),
  CONSTRAINT `job_assignments_organisation_id_foreign` FOREIGN KEY (`organisation_id`) REFERENCES `hierarchy_nodes` (`id`),
  CONSTRAINT `job_assignments_position_id_foreign` FOREIGN KEY (`position_id`) REFERENCES `hierarchy_nodes` (`id`),
  CONSTRAINT `job_assignments_user_id_foreign` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `job_schedules` (
  `name` varchar(150) NOT NULL,
  `cron` varchar(100) NOT NULL,
  `job` varchar(150) NOT NULL,
  `last_tick_at` bigint(20) DEFAULT NULL,
  `last_run_at` bigint(20) DEFAULT NULL,
  `last_job_id` int(10) unsigned DEFAULT NULL,
  `next_run_at` bigint(20) DEFAULT NULL,
  `updated_at` bigint(20) NOT NULL,
  PRIMARY KEY (`name`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `jobs` (
  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `name` varchar(150) NOT NULL,
  `payload` text DEFAULT NULL,
  `state` varchar(10) NOT NULL,
  `priority` int(11) NOT NULL DEFAULT 0,
  `run_at` bigint(20) NOT NULL,
  `attempts` int(11) NOT NULL DEFAULT 0,
  `max_attempts` int(11) NOT NULL,
  `dedupe_key` varchar(191) DEFAULT NULL,
  `locked_by` varchar(100) DEFAULT NULL,
  `lock_expires_at` bigint(20) DEFAULT NULL,
  `progress_done` int(11) DEFAULT NULL,
  `progress_total` int(11) DEFAULT NULL,
  `progress_message` varchar(255) DEFAULT NULL,
  `result` text DEFAULT NULL,
  `last_error` text DEFAULT NULL,
  `created_at` bigint(20) NOT NULL,
  `started_at` bigint(20) DEFAULT NULL,
  `finished_at` bigint(20) DEFAULT NULL,
  `updated_at` bigint(20) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `jobs_dedupe_key_unique` (`dedupe_key`),
  KEY `jobs_claim_idx` (`state`,`priority` DESC,`run_at`,`id`),
  KEY `jobs_lock_idx` (`state`,`lock_expires_at`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `notify_program_deliveries` (
  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `message_id` int(10) unsigned NOT NULL,
  `program_id` int(10) unsigned NOT NULL,
  `user_id` int(10) unsigned NOT NULL,
  `course_set_id` int(10) unsigned NOT NULL DEFAULT 0,
  `cycle` bigint(20) NOT NULL,
  `recipient_id` int(10) unsigned NOT NULL,
  `role` varchar(10) NOT NULL,
  `state` varchar(10) NOT NULL,
  `batch` varchar(40) NOT NULL,
  `data` text DEFAULT NULL,
  `attempts` int(11) NOT NULL DEFAULT 0,
  `claimed_by` varchar(40) DEFAULT NULL,
  `claimed_at` bigint(20) DEFAULT NULL,
  `sent_at` bigint(20) DEFAULT NULL,
  `skip_reason` varchar(40) DEFAULT NULL,
  `last_error` text DEFAULT NULL,
  `created_at` bigint(20) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `notify_program_deliveries_dedupe` (`message_id`,`user_id`,`course_set_id`,`cycle`,`recipient_id`),
  KEY `notify_program_deliveries_batch` (`batch`,`state`),
  KEY `notify_program_deliveries_state` (`state`,`created_at`),
  KEY `notify_program_deliveries_claim` (`claimed_by`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `notify_program_inbox` (
  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `user_id` int(10) unsigned NOT NULL,
  `delivery_id` int(10) unsigned NOT NULL,
  `type` varchar(30) NOT NULL,
  `program_id` int(10) unsigned NOT NULL,
  `subject` varchar(255) NOT NULL,
  `body` text NOT NULL,
  `created_at` bigint(20) NOT NULL,
  `read_at` bigint(20) DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `notify_program_inbox_delivery` (`delivery_id`),
  KEY `notify_program_inbox_user` (`user_id`,`id`),
  KEY `notify_program_inbox_unread` (`user_id`,`read_at`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `notify_program_messages` (
  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `program_id` int(10) unsigned NOT NULL,
  `type` varchar(30) NOT NULL,
  `subject` varchar(255) NOT NULL,
  `body` text NOT NULL,
  `manager_copy` tinyint(1) NOT NULL DEFAULT 0,
  `manager_subject` varchar(255) DEFAULT NULL,
  `manager_body` text DEFAULT NULL,
  `trigger_offset` varchar(40) DEFAULT NULL,
  `trigger_direction` varchar(6) DEFAULT NULL,
  `active_from` bigint(20) NOT NULL,
  `created_at` bigint(20) NOT NULL,
  `updated_at` bigint(20) NOT NULL,
  PRIMARY KEY (`id`),
  KEY `notify_program_messages_program` (`program_id`,`type`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `notify_program_migrations` (
  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `name` varchar(255) DEFAULT NULL,
  `batch` int(11) DEFAULT NULL,
  `migration_time` timestamp NULL DEFAULT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `notify_program_migrations_lock` (
  `index` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `is_locked` int(11) DEFAULT NULL,
  PRIMARY KEY (`index`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `notify_program_preferences` (
  `user_id` int(10) unsigned NOT NULL,
  `type` varchar(30) NOT NULL,
  `channel` varchar(40) NOT NULL,
  PRIMARY KEY (`user_id`,`type`,`channel`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `notify_program_programs` (
  `program_id` int(10) unsigned NOT NULL,
  `defaults_at` bigint(20) NOT NULL,
  PRIMARY KEY (`program_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `notify_program_scan` (
  `id` int(10) unsigned NOT NULL,
  `last_scan_at` bigint(20) NOT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `plugins` (
  `id` varchar(100) NOT NULL,
  `version` varchar(50) DEFAULT NULL,
  `enabled` tinyint(1) NOT NULL,
  `state` varchar(20) NOT NULL,
  `error_code` varchar(60) DEFAULT NULL,
  `error_message` text DEFAULT NULL,
  `installed_at` bigint(20) DEFAULT NULL,
  `updated_at` bigint(20) NOT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `profile_fields` (
  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `shortname` varchar(100) NOT NULL,
  `name` varchar(255) NOT NULL,
  `type` varchar(20) NOT NULL,
  `options` text DEFAULT NULL,
  `created_at` bigint(20) NOT NULL,
  `updated_at` bigint(20) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `profile_fields_shortname_unique` (`shortname`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `program_assignment_rules` (
  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `program_id` int(10) unsigned NOT NULL,
  `source` varchar(100) NOT NULL,
  `instance` text NOT NULL,
  `due_kind` varchar(10) NOT NULL,
  `due_date` bigint(20) DEFAULT NULL,
  `due_within` varchar(50) DEFAULT NULL,
  `due_event` varchar(100) DEFAULT NULL,
  `due_instance_id` int(11) DEFAULT NULL,
  `version` int(11) NOT NULL DEFAULT 1,
  `deleted_at` bigint(20) DEFAULT NULL,
  `created_at` bigint(20) NOT NULL,
  `updated_at` bigint(20) NOT NULL,
  `instance_id` int(11) DEFAULT NULL,
  PRIMARY KEY (`id`),
  KEY `program_assignment_rules_program_id_index` (`program_id`),
  KEY `program_assignment_rules_source_index` (`source`),
  KEY `program_assignment_rules_instance` (`program_id`,`source`,`instance_id`),
  CONSTRAINT `program_assignment_rules_program_id_foreign` FOREIGN KEY (`program_id`) REFERENCES `programs` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `program_completion_history` (
  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `program_id` int(10) unsigned NOT NULL,
  `user_id` int(10) unsigned NOT NULL,
  `completed_at` bigint(20) NOT NULL,
  `reason` varchar(30) NOT NULL,
  `archived_at` bigint(20) NOT NULL,
  `period_label` varchar(60) DEFAULT NULL,
  PRIMARY KEY (`id`),
  KEY `program_completion_history_user_id_foreign` (`user_id`),
  KEY `program_completion_history_program_id_user_id_index` (`program_id`,`user_id`),
  CONSTRAINT `program_completion_history_program_id_foreign` FOREIGN KEY (`program_id`) REFERENCES `programs` (`id`) ON DELETE CASCADE,
  CONSTRAINT `program_completion_history_user_id_foreign` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `program_completions` (
  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `program_id` int(10) unsigned NOT NULL,
  `user_id` int(10) unsigned NOT NULL,
  `status` varchar(20) NOT NULL,
  `completed_at` bigint(20) DEFAULT NULL,
  `due_at` bigint(20) DEFAULT NULL,
  `created_at` bigint(20) NOT NULL,
  `updated_at` bigint(20) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `program_completions_program_id_user_id_unique` (`program_id`,`user_id`),
  KEY `program_completions_user_id_index` (`user_id`),
  KEY `program_completions_due_order` (`program_id`,`due_at`,`user_id`),
  CONSTRAINT `program_completions_program_id_foreign` FOREIGN KEY (`program_id`) REFERENCES `programs` (`id`) ON DELETE CASCADE,
  CONSTRAINT `program_completions_user_id_foreign` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `program_course_set_courses` (
  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `course_set_id` int(10) unsigned NOT NULL,
  `course_id` int(10) unsigned NOT NULL,
  `sortorder` int(11) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `program_course_set_courses_course_set_id_course_id_unique` (`course_set_id`,`course_id`),
  KEY `program_course_set_courses_course_id_course_set_id_index` (`course_id`,`course_set_id`),
  CONSTRAINT `program_course_set_courses_course_id_foreign` FOREIGN KEY (`course_id`) REFERENCES `courses` (`id`) ON DELETE CASCADE,
  CONSTRAINT `program_course_set_courses_course_set_id_foreign` FOREIGN KEY (`course_set_id`) REFERENCES `program_course_sets` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `program_course_sets` (
  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `program_id` int(10) unsigned NOT NULL,
  `sortorder` int(11) NOT NULL,
  `label` varchar(255) NOT NULL,
  `rule` varchar(20) NOT NULL,
  `min_courses` int(11) NOT NULL DEFAULT 0,
  `min_score` int(11) NOT NULL DEFAULT 0,
  `min_time` varchar(50) DEFAULT NULL,
  `operator` varchar(10) DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `program_course_sets_program_id_sortorder_unique` (`program_id`,`sortorder`),
  CONSTRAINT `program_course_sets_program_id_foreign` FOREIGN KEY (`program_id`) REFERENCES `programs` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `program_exceptions` (
  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `program_id` int(10) unsigned NOT NULL,
  `user_id` int(10) unsigned NOT NULL,
  `type` varchar(30) NOT NULL,
  `status` varchar(20) NOT NULL,
  `raised_at` bigint(20) NOT NULL,
  `resolved_at` bigint(20) DEFAULT NULL,
  `resolution` varchar(30) DEFAULT NULL,
  `resolved_by` int(10) unsigned DEFAULT NULL,
  `explanation` text NOT NULL,
  PRIMARY KEY (`id`),
  KEY `program_exceptions_user_id_foreign` (`user_id`),
  KEY `program_exceptions_program_id_status_index` (`program_id`,`status`),
  KEY `program_exceptions_program_id_user_id_index` (`program_id`,`user_id`),
  CONSTRAINT `program_exceptions_program_id_foreign` FOREIGN KEY (`program_id`) REFERENCES `programs` (`id`) ON DELETE CASCADE,
  CONSTRAINT `program_exceptions_user_id_foreign` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `program_extension_requests` (
  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `program_id` int(10) unsigned NOT NULL,
  `user_id` int(10) unsigned NOT NULL,
  `status` varchar(10) NOT NULL,
  `due_at` bigint(20) NOT NULL,
  `requested_due_at` bigint(20) NOT NULL,
  `reason` text NOT NULL,
  `requested_at` bigint(20) NOT NULL,
  `decided_by` int(10) unsigned DEFAULT NULL,
  `decided_at` bigint(20) DEFAULT NULL,
  `approved_due_at` bigint(20) DEFAULT NULL,
  `decision_reason` text DEFAULT NULL,
  PRIMARY KEY (`id`),
  KEY `program_extension_requests_program_id_foreign` (`program_id`),
  KEY `program_extension_requests_decided_by_foreign` (`decided_by`),
  KEY `program_extension_requests_learner` (`user_id`,`program_id`,`status`),
  KEY `program_extension_requests_status` (`status`,`id`),
  CONSTRAINT `program_extension_requests_decided_by_foreign` FOREIGN KEY (`decided_by`) REFERENCES `users` (`id`) ON DELETE SET NULL,
  CONSTRAINT `program_extension_requests_program_id_foreign` FOREIGN KEY (`program_id`) REFERENCES `programs` (`id`) ON DELETE CASCADE,
  CONSTRAINT `program_extension_requests_user_id_foreign` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `program_recurrence_learners` (
  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `period_id` int(10) unsigned NOT NULL,
  `program_id` int(10) unsigned NOT NULL,
  `user_id` int(10) unsigned NOT NULL,
  `status` varchar(12) NOT NULL,
  `due_at` bigint(20) DEFAULT NULL,
  `completed_at` bigint(20) DEFAULT NULL,
  `archived_at` bigint(20) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `program_recurrence_learners_period_id_user_id_unique` (`period_id`,`user_id`),
  KEY `program_recurrence_learners_program_id_foreign` (`program_id`),
  KEY `program_recurrence_learners_user_id_status_index` (`user_id`,`status`),
  CONSTRAINT `program_recurrence_learners_period_id_foreign` FOREIGN KEY (`period_id`) REFERENCES `program_recurrence_periods` (`id`) ON DELETE CASCADE,
  CONSTRAINT `program_recurrence_learners_program_id_foreign` FOREIGN KEY (`program_id`) REFERENCES `programs` (`id`) ON DELETE CASCADE,
  CONSTRAINT `program_recurrence_learners_user_id_foreign` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `program_recurrence_periods` (
  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `program_id` int(10) unsigned NOT NULL,
  `seq` int(11) NOT NULL,
  `label` varchar(60) NOT NULL,
  `course_id` int(10) unsigned NOT NULL,
  `starts_at` bigint(20) NOT NULL,
  `ends_at` bigint(20) NOT NULL,
  `status` varchar(10) NOT NULL,
  `created_at` bigint(20) NOT NULL,
  `switched_at` bigint(20) DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `program_recurrence_periods_program_id_seq_unique` (`program_id`,`seq`),
  KEY `program_recurrence_periods_course_id_index` (`course_id`),
  CONSTRAINT `program_recurrence_periods_course_id_foreign` FOREIGN KEY (`course_id`) REFERENCES `courses` (`id`),
  CONSTRAINT `program_recurrence_periods_program_id_foreign` FOREIGN KEY (`program_id`) REFERENCES `programs` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `program_rule_members` (
  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `program_id` int(10) unsigned NOT NULL,
  `rule_id` int(10) unsigned NOT NULL,
  `user_id` int(10) unsigned NOT NULL,
  `due_state` varchar(10) NOT NULL,
  `event_at` bigint(20) DEFAULT NULL,
  `due_at` bigint(20) DEFAULT NULL,
  `created_at` bigint(20) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `program_rule_members_rule_id_user_id_unique` (`rule_id`,`user_id`),
  KEY `program_rule_members_program_id_user_id_index` (`program_id`,`user_id`),
  KEY `program_rule_members_user_id_rule_id_index` (`user_id`,`rule_id`),
  CONSTRAINT `program_rule_members_program_id_foreign` FOREIGN KEY (`program_id`) REFERENCES `programs` (`id`) ON DELETE CASCADE,
  CONSTRAINT `program_rule_members_rule_id_foreign` FOREIGN KEY (`rule_id`) REFERENCES `program_assignment_rules` (`id`) ON DELETE CASCADE,
  CONSTRAINT `program_rule_members_user_id_foreign` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `program_user_assignments` (
  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `program_id` int(10) unsigned NOT NULL,
  `user_id` int(10) unsigned NOT NULL,
  `status` varchar(20) NOT NULL,
  `due_at` bigint(20) DEFAULT NULL,
  `rule_state` varchar(10) DEFAULT NULL,
  `rule_due_at` bigint(20) DEFAULT NULL,
  `assigned_at` bigint(20) DEFAULT NULL,
  `exception_id` int(10) unsigned DEFAULT NULL,
  `created_at` bigint(20) NOT NULL,
  `updated_at` bigint(20) NOT NULL,
  `accepted_due_at` bigint(20) DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `program_user_assignments_program_id_user_id_unique` (`program_id`,`user_id`),
  KEY `program_user_assignments_exception_id_foreign` (`exception_id`),
  KEY `program_user_assignments_user_id_status_index` (`user_id`,`status`),
  KEY `program_user_assignments_program_id_status_index` (`program_id`,`status`),
  KEY `program_user_assignments_due_order` (`program_id`,`status`,`due_at`,`id`),
  CONSTRAINT `program_user_assignments_exception_id_foreign` FOREIGN KEY (`exception_id`) REFERENCES `program_exceptions` (`id`) ON DELETE SET NULL,
  CONSTRAINT `program_user_assignments_program_id_foreign` FOREIGN KEY (`program_id`) REFERENCES `programs` (`id`) ON DELETE CASCADE,
  CONSTRAINT `program_user_assignments_user_id_foreign` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `programs` (
  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `shortname` varchar(100) NOT NULL,
  `fullname` varchar(255) NOT NULL,
  `summary` text DEFAULT NULL,
  `available` tinyint(1) NOT NULL DEFAULT 1,
  `available_from` bigint(20) DEFAULT NULL,
  `available_until` bigint(20) DEFAULT NULL,
  `structure_version` int(11) NOT NULL DEFAULT 1,
  `created_at` bigint(20) NOT NULL,
  `updated_at` bigint(20) NOT NULL,
  `allow_extension_requests` tinyint(1) NOT NULL DEFAULT 0,
  `recurrence_period` varchar(30) DEFAULT NULL,
  `recurrence_lead` varchar(30) DEFAULT NULL,
  `recurrence_start` bigint(20) DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `programs_shortname_unique` (`shortname`),
  KEY `programs_fullname_id_list` (`fullname`,`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `quiz_attempts` (
  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `activity_id` int(10) unsigned NOT NULL,
  `user_id` int(10) unsigned NOT NULL,
  `attempt` int(11) NOT NULL,
  `answers` text NOT NULL,
  `results` text NOT NULL,
  `marks` decimal(10,2) NOT NULL,
  `max_marks` decimal(10,2) NOT NULL,
  `grade` decimal(10,2) NOT NULL,
  `submitted_at` bigint(20) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `quiz_attempts_activity_id_user_id_attempt_unique` (`activity_id`,`user_id`,`attempt`),
  KEY `quiz_attempts_user_id_index` (`user_id`),
  CONSTRAINT `quiz_attempts_activity_id_foreign` FOREIGN KEY (`activity_id`) REFERENCES `activities` (`id`) ON DELETE CASCADE,
  CONSTRAINT `quiz_attempts_user_id_foreign` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `quiz_questions` (
  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `activity_id` int(10) unsigned NOT NULL,
  `sortorder` int(11) NOT NULL,
  `type` varchar(20) NOT NULL,
  `text` text NOT NULL,
  `choices` text DEFAULT NULL,
  `answer` text NOT NULL,
  `marks` decimal(10,2) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `quiz_questions_activity_id_sortorder_unique` (`activity_id`,`sortorder`),
  CONSTRAINT `quiz_questions_activity_id_foreign` FOREIGN KEY (`activity_id`) REFERENCES `activities` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `quiz_settings` (
  `activity_id` int(10) unsigned NOT NULL,
  `attempts_allowed` int(11) NOT NULL DEFAULT 0,
  `grading_method` varchar(10) NOT NULL DEFAULT 'highest',
  `review_after_submission` tinyint(1) NOT NULL DEFAULT 1,
  `updated_at` bigint(20) NOT NULL,
  PRIMARY KEY (`activity_id`),
  CONSTRAINT `quiz_settings_activity_id_foreign` FOREIGN KEY (`activity_id`) REFERENCES `activities` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `rate_limits` (
  `key` varchar(191) NOT NULL,
  `hits` int(11) NOT NULL,
  `reset_at` bigint(20) NOT NULL,
  PRIMARY KEY (`key`),
  KEY `rate_limits_reset_at_index` (`reset_at`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `restrict_access_migrations` (
  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `name` varchar(255) DEFAULT NULL,
  `batch` int(11) DEFAULT NULL,
  `migration_time` timestamp NULL DEFAULT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `restrict_access_migrations_lock` (
  `index` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `is_locked` int(11) DEFAULT NULL,
  PRIMARY KEY (`index`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `saved_reports` (
  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `name` varchar(120) NOT NULL,
  `report` varchar(64) NOT NULL,
  `query` text NOT NULL,
  `on_dashboard` tinyint(1) NOT NULL DEFAULT 0,
  `created_by` int(10) unsigned DEFAULT NULL,
  `created_at` bigint(20) NOT NULL,
  `updated_at` bigint(20) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `saved_reports_name` (`name`),
  KEY `saved_reports_created_by_foreign` (`created_by`),
  KEY `saved_reports_dashboard` (`on_dashboard`,`name`),
  CONSTRAINT `saved_reports_created_by_foreign` FOREIGN KEY (`created_by`) REFERENCES `users` (`id`) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `sessions` (
  `sid` varchar(128) NOT NULL,
  `user_id` int(10) unsigned DEFAULT NULL,
  `data` text NOT NULL,
  `expires_at` bigint(20) NOT NULL,
  PRIMARY KEY (`sid`),
  KEY `sessions_expires_at_index` (`expires_at`),
  KEY `sessions_user_id_index` (`user_id`),
  CONSTRAINT `sessions_user_id_foreign` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `site_config` (
  `name` varchar(100) NOT NULL,
  `value` text NOT NULL,
  `updated_at` bigint(20) NOT NULL,
  PRIMARY KEY (`name`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `tool_learningplan_items` (
  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `user_id` int(10) unsigned NOT NULL,
  `program_id` int(10) unsigned NOT NULL,
  `added_by` int(10) unsigned DEFAULT NULL,
  `added_at` bigint(20) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `tool_learningplan_items_user_id_program_id_unique` (`user_id`,`program_id`),
  KEY `tool_learningplan_items_program_id_user_id_index` (`program_id`,`user_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `tool_learningplan_migrations` (
  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `name` varchar(255) DEFAULT NULL,
  `batch` int(11) DEFAULT NULL,
  `migration_time` timestamp NULL DEFAULT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `tool_learningplan_migrations_lock` (
  `index` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `is_locked` int(11) DEFAULT NULL,
  PRIMARY KEY (`index`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `tool_sitestats_migrations` (
  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `name` varchar(255) DEFAULT NULL,
  `batch` int(11) DEFAULT NULL,
  `migration_time` timestamp NULL DEFAULT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `tool_sitestats_migrations_lock` (
  `index` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `is_locked` int(11) DEFAULT NULL,
  PRIMARY KEY (`index`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `tool_sitestats_snapshots` (
  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `users` int(10) unsigned NOT NULL,
  `enabled_plugins` int(10) unsigned NOT NULL,
  `jobs` text NOT NULL,
  `taken_at` bigint(20) NOT NULL,
  PRIMARY KEY (`id`),
  KEY `tool_sitestats_snapshots_taken_at_index` (`taken_at`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `user_profile_values` (
  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `user_id` int(10) unsigned NOT NULL,
  `field_id` int(10) unsigned NOT NULL,
  `value_text` varchar(255) DEFAULT NULL,
  `value_date` bigint(20) DEFAULT NULL,
  `updated_at` bigint(20) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `user_profile_values_user_id_field_id_unique` (`user_id`,`field_id`),
  KEY `user_profile_values_field_id_value_text_index` (`field_id`,`value_text`),
  KEY `user_profile_values_field_id_value_date_index` (`field_id`,`value_date`),
  CONSTRAINT `user_profile_values_field_id_foreign` FOREIGN KEY (`field_id`) REFERENCES `profile_fields` (`id`) ON DELETE CASCADE,
  CONSTRAINT `user_profile_values_user_id_foreign` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `users` (
  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `username` varchar(100) NOT NULL,
  `email` varchar(255) NOT NULL,
  `fullname` varchar(255) NOT NULL,
  `password_hash` varchar(255) DEFAULT NULL,
  `is_admin` tinyint(1) NOT NULL DEFAULT 0,
  `lang` varchar(20) NOT NULL DEFAULT 'en',
  `timezone` varchar(64) NOT NULL DEFAULT 'UTC',
  `suspended` tinyint(1) NOT NULL DEFAULT 0,
  `deleted` tinyint(1) NOT NULL DEFAULT 0,
  `first_login_at` bigint(20) DEFAULT NULL,
  `created_at` bigint(20) NOT NULL,
  `updated_at` bigint(20) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `users_username_unique` (`username`),
  KEY `users_deleted_fullname_id_list` (`deleted`,`fullname`,`id`),
  KEY `users_fullname_id_index` (`fullname`,`id`),
  KEY `users_email_index` (`email`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `waymark_migrations` (
  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `name` varchar(255) DEFAULT NULL,
  `batch` int(11) DEFAULT NULL,
  `migration_time` timestamp NULL DEFAULT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `waymark_migrations_lock` (
  `index` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `is_locked` int(11) DEFAULT NULL,
  PRIMARY KEY (`index`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `worker_leases` (
  `name` varchar(100) NOT NULL,
  `holder` varchar(255) NOT NULL,
  `expires_at` bigint(20) NOT NULL,
  PRIMARY KEY (`name`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
