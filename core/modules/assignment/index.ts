import { defineModule } from '../../kernel/features/module';
import { createServiceRef } from '../../kernel/features/services';
import { programServices } from '../programs/index';
import { registerAssignmentPages } from './pages';
import { registerUserAssignmentPages } from './user-pages';
import { BULK_RESOLVE_JOB, resolveMatching, type BulkResolvePayload } from './bulk-resolve';
import { peopleServices } from '../people/index';
import { assignmentHooks } from './hooks';
import { programAssignmentCondition } from './audience-conditions';
import { assignmentViews } from './store/views';

export type { ProgramAssignmentArgs, ExceptionRaisedArgs, ExceptionsRaisedArgs, ExceptionType } from './hooks';
import { coreDueDateEvents } from './events';
import { assignmentRoutes } from './routes';
import {
  RECONCILE_JOB,
  RULE_SYNC_JOB,
  RULES_SYNC_JOB,
  createAssignmentService,
  type RulesSyncPayload,
  withoutOpenExceptions,
  type AssignmentService,
} from './service';

export * from './types';
export { createHierarchySource, type HierarchyInstance } from './hierarchy-source';
export { instancePicker } from './pickers';
export type { LaunchCandidate, LaunchState } from './launch-state';
export { RECONCILE_JOB, type AssignmentHistoryEntry, type AssignmentService } from './service';

/** Nightly reconcile time (UTC): after midnight HR feeds, before the working day. */
export const RECONCILE_CRON = '30 2 * * *';

/** The assignment service, by ref. */
export const assignmentServices = {
  assignment: createServiceRef<AssignmentService>('assignment.assignment'),
};

/**
 * The assignment module: rules from assignment sources (an extension point), due dates (the core
 * due-date events), the rule and reconcile jobs and nightly schedule, incremental sync inside the
 * transaction of every `onAssignmentChange`, exceptions, and their REST routes and operator pages.
 * It tells the programs module who is assigned (programs cannot depend on assignment).
 */
export const assignmentModule = defineModule({
  id: 'assignment',
  tables: ['program_assignment_rules', 'program_rule_members', 'program_exceptions', 'program_user_assignments'],
  deps: { programs: programServices.programs, users: peopleServices.users, hierarchy: peopleServices.hierarchy },
  declares: assignmentHooks,
  hooks: ['onAssignmentChange', 'onAudienceMembershipBatch'],
  provides: assignmentServices,
  register(ctx) {
    const context = { db: ctx.db, hooks: ctx.hooks, queue: ctx.queue, extensions: ctx.extensions, programs: ctx.deps.programs, timezone: ctx.timezone };
    const service = createAssignmentService(context);
    ctx.deps.programs.useAssignmentState({
      selectTargets: withoutOpenExceptions,
      assignmentsView: assignmentViews.programUserAssignments,
      startCycles: (trx, programId, rows, at) => service.startCycles(trx, programId, rows, at),
    });
    for (const [key, event] of Object.entries(coreDueDateEvents())) ctx.extensions.contribute('dueDateEvents', key, event);
    ctx.extensions.contribute('audienceRuleConditions', 'program_assignment', programAssignmentCondition());
    ctx.jobs.define<{ ruleId: number; fullDue?: boolean }>({
      name: RULE_SYNC_JOB,
      handler: async (job) =>
        service.syncRule(Number(job.payload.ruleId), { fullDue: job.payload.fullDue === true, progress: (d, t, m) => job.progress(d, t, m) }),
    });
    ctx.jobs.define<RulesSyncPayload>({
      name: RULES_SYNC_JOB,
      handler: async ({ payload, progress }) =>
        service.syncRules(payload.programId, payload.ruleIds, { ...(payload.users ? { users: payload.users } : {}), progress }),
    });
    ctx.jobs.define({ name: RECONCILE_JOB, handler: async (job) => service.reconcile({ progress: (d, t, m) => job.progress(d, t, m) }) });
    ctx.jobs.schedule({ name: RECONCILE_JOB, cron: RECONCILE_CRON, job: RECONCILE_JOB });
    ctx.jobs.define<BulkResolvePayload>({
      name: BULK_RESOLVE_JOB,
      handler: (job) => resolveMatching(service, ctx.db.knex, job.payload, (d, t, m) => job.progress(d, t, m)),
    });
    // Incremental sync runs inside the transaction that made the change, so the change and the
    // assignments it causes commit or roll back together.
    ctx.hooks.tap('onAssignmentChange', async ({ change }, trx) => {
      await service.syncUser(trx, change);
    });
    // A recompute batch's flips arrive as one signal per audience: re-synced set-based for its range.
    ctx.hooks.tap('onAudienceMembershipBatch', async ({ batch }, trx) => {
      await service.syncAudienceBatch(trx, batch);
    });
    for (const route of assignmentRoutes(() => service)) ctx.routes.api(route);
    registerAssignmentPages(context, ctx.routes, service);
    registerUserAssignmentPages(
      {
        db: ctx.db,
        service,
        users: ctx.deps.users,
        hierarchy: ctx.deps.hierarchy,
        extensions: ctx.extensions,
        queue: ctx.queue,
        jobs: ctx.jobs,
        timezone: ctx.timezone,
      },
      ctx.routes,
    );
    return { assignment: service };
  },
});

/** Relations other modules may join in a set-based read (columns are the contract). */
export { assignmentViews } from './store/views';
