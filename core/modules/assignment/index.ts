import type { Site } from '../../site';
import { coreDueDateEvents } from './events';
import { assignmentRoutes } from './routes';
import { RECONCILE_JOB, RULE_SYNC_JOB, createAssignmentService, type AssignmentService } from './service';

export * from './types';
export { coreDueDateEvents, ASSIGNMENT_DATE_EVENT } from './events';
export {
  RECONCILE_JOB,
  RULE_SYNC_JOB,
  createAssignmentService,
  isEffectivelyAssigned,
  learnerAssignmentOf,
  withoutOpenExceptions,
  type AssignmentRuleInput,
  type AssignmentService,
  type ExceptionAction,
  type ExceptionView,
  type LearnerAssignment,
  type RuleStatus,
  type RuleView,
  type SyncOptions,
} from './service';
export { AssignmentSync, humanDuration, type SyncCounters, type LoadedRule, type UserScope } from './sync';

const services = new WeakMap<Site, AssignmentService>();

/** The site's assignment service (after {@link registerAssignmentCore}). */
export function assignmentService(site: Site): AssignmentService {
  const service = services.get(site);
  if (!service) throw new Error('registerAssignmentCore(site) has not run for this site');
  return service;
}

/** Nightly reconcile time (UTC): after midnight HR feeds, before the working day. */
export const RECONCILE_CRON = '30 2 * * *';

/**
 * Wires assignment into a site (owner `core`): the core due-date events, the rule and reconcile
 * jobs and nightly schedule, incremental sync on `onAssignmentChange`, and the REST routes.
 */
export function registerAssignmentCore(site: Site): AssignmentService {
  const existing = services.get(site);
  if (existing) return existing;
  const service = createAssignmentService(site);
  services.set(site, service);
  for (const [key, event] of Object.entries(coreDueDateEvents())) site.extensions.contribute('core', 'dueDateEvents', key, event);
  const jobs = site.jobs.registrarFor('core');
  jobs.define<{ ruleId: number; fullDue?: boolean }>({
    name: RULE_SYNC_JOB,
    handler: async (job) => service.syncRule(Number(job.payload.ruleId), { fullDue: job.payload.fullDue === true, progress: (d, t, m) => job.progress(d, t, m) }),
  });
  jobs.define({ name: RECONCILE_JOB, handler: async (job) => service.reconcile({ progress: (d, t, m) => job.progress(d, t, m) }) });
  jobs.schedule({ name: RECONCILE_JOB, cron: RECONCILE_CRON, job: RECONCILE_JOB });
  // Incremental sync runs inside the transaction that made the change, so the change and the
  // assignments it causes commit or roll back together.
  site.hooks.add('core', 'onAssignmentChange', async ({ trx, change }) => {
    await service.syncUser(trx, change);
  });
  const registrar = site.routes.registrarFor('core');
  for (const route of assignmentRoutes(site, () => service)) registrar.api(route);
  return service;
}
