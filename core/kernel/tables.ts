/**
 * The tables the kernel owns (plugin state, settings, jobs, sessions, tokens, rate limits). Modules
 * declare theirs in `defineModule({ tables })`; a plugin owns the tables named `<plugin id>_*`.
 */
export const kernelTables = ['site_config', 'plugins', 'jobs', 'job_schedules', 'sessions', 'api_tokens', 'rate_limits', 'worker_leases'] as const;
