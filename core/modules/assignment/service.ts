import { parseDateInput } from '../../kernel/dates';
import type { Knex } from 'knex';
import { Ajv2020 } from 'ajv/dist/2020';
import type { ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { AssignmentContext } from './context';
import { createLaunchStateReader, reachableElsewhere, type LaunchState } from './launch-state';
import type { Executor } from '../../kernel/db/database';
import type { AssignmentChange, AudienceMembershipBatch } from '../people/index';
import { WaymarkError, conflict, invalid, notFound, type ErrorDetail } from '../../kernel/errors';
import type { JsonSchema } from '../../kernel/http/routes';
import { toDetail } from '../../kernel/http/validation';
import { addFormKeywords } from '../../kernel/http/schema-form';
import { dueEventSchema } from './events';
import type { RecalcPair } from '../programs/index';
import { addDuration, isValidDuration } from '../programs/index';
import { AssignmentSync, addCounters, emptyCounters, humanDuration, loadRules, type LoadedRule, type SyncCounters, type UserScope } from './sync';
import type { DueRule, RuleInstance } from './types';
import { isoOrNull, num, numOrNull } from '../../kernel/db/values';
import { deleteRuleAtVersion, insertIndividualRules, insertRule, memberCountsByRule, updateRule, usersWithoutIndividualRule } from './store/rules';
import { activeUsersAmong } from './store/user-programs';
import { activateAssignments, learnerAssignmentRow, moveDueDate, pairsHeldByException, programsWithRuleWork, startCycles } from './store/assignments';
import { decideExceptions, EXCEPTION_ORDERS, exceptionHistory, exceptionPage, exceptionsWithCurrent } from './store/exceptions';
import type { KeysetOrder, KeysetPage, PagePosition } from '../../kernel/db/keyset';
import { programExists as programFound, userIdSpan } from './store/lookups';

/** Background job that applies one rule's add / change / removal in user-id batches. */
export const RULE_SYNC_JOB = 'assignment_rule_sync';
/** Background job that applies a batch of new rules of one program (`assignUsers`) together. */
export const RULES_SYNC_JOB = 'assignment_rules_sync';
/** Background job (scheduled nightly) that re-runs every rule; writes nothing when nothing changed. */
export const RECONCILE_JOB = 'assignment_reconcile';
/** The source `assignUsers` writes rules of: the assign_individual plugin's. */
const INDIVIDUAL_SOURCE = 'individual';

/** What the rules job is told: the program, its new rules, and the id range of the users they name, when known. */
export interface RulesSyncPayload {
  programId: number;
  ruleIds: number[];
  users?: UserScope;
}

/** `range` cut into consecutive ranges of at most `size` user ids. */
function splitRange(range: UserScope, size: number): UserScope[] {
  const out: UserScope[] = [];
  for (let start = range.lo; start <= range.hi; start += size) out.push({ lo: start, hi: Math.min(range.hi, start + size - 1) });
  return out;
}

/** POST /programs/{id}/assignments body: the source, its instance properties and the due rule. */
export interface AssignmentRuleInput {
  source: string;
  instanceId: number;
  includeChildren?: boolean;
  due?: DueRule;
  [extra: string]: unknown;
}

export type RuleStatus = 'active' | 'source_disabled' | 'removing';

export interface RuleView {
  id: number;
  programId: number;
  source: string;
  instance: RuleInstance;
  due: DueRule;
  /** Operator-facing: "Members of audience Support Analysts, due within 1 month of first login". */
  description: string;
  /** `source_disabled`: the source plugin is off; the rule assigns nobody new until it is back. */
  status: RuleStatus;
  memberCount: number;
  createdAt: string;
  updatedAt: string;
}

export type ExceptionAction = 'set_realistic_due_date' | 'assign' | 'dismiss';

export interface ExceptionView {
  id: number;
  programId: number;
  userId: number;
  learner: { id: number; username: string; fullname: string };
  type: string;
  status: string;
  raisedAt: string;
  explanation: string;
}

/** One exception in a learner's assignment history and what was decided about it. */
export interface AssignmentHistoryEntry {
  exceptionId: number;
  type: string;
  /** open, dismissed or resolved. */
  status: string;
  raisedAt: string;
  explanation: string;
  /** set_realistic_due_date, assign or dismiss (an operator); recheck or unassigned (the sync); null while open. */
  resolution: string | null;
  resolvedAt: string | null;
  /** The operator who decided, null for the sync's own decisions. */
  resolvedBy: { id: number; fullname: string } | null;
}

/** A learner's effective assignment to one program (the learner view's `assigned`, `dueAt`, `exception`). */
export interface LearnerAssignment {
  /** False while an exception is open or dismissed, for a future assignment, and after unassignment. */
  assigned: boolean;
  status: 'active' | 'future' | 'exception' | 'unassigned';
  dueAt: string | null;
  assignedAt: string | null;
  exception: { id: number; type: string; status: string; raisedAt: string; explanation: string } | null;
  /**
   * The due date an operator accepted by assigning despite a time-allowance exception: while this
   * assignment lasts, no new time-allowance exception is raised unless the due date moves earlier.
   */
  acceptedDueAt: string | null;
  /** The learner's exceptions in this program and their decisions, newest first (at most 50). */
  history: AssignmentHistoryEntry[];
}

/** Entries of the assignment history returned with a learner's assignment. */
const HISTORY_LIMIT = 50;

export interface SyncOptions {
  /** Users per batch (one transaction each); default 50,000. */
  batchSize?: number;
  /** Reconcile only: programs worked on at once on MySQL/MariaDB (one connection each); default 2. SQLite: always 1. */
  concurrency?: number;
  progress?(done: number, total: number, message?: string): Promise<void>;
}

export interface AssignmentService {
  readonly engine: AssignmentSync;
  /** A program launch guard's inputs for one learner and course, in one prepared statement. */
  launchState(userId: number, courseId: number): Promise<LaunchState>;
  /** Of the learners' courses, the (user, course) pairs another of their programs still reaches. */
  reachableElsewhere(
    trx: Knex.Transaction,
    exceptProgramId: number,
    userIds: readonly number[],
    courseIds: readonly number[],
  ): Promise<Array<{ userId: number; courseId: number }>>;
  addRule(programId: number, input: AssignmentRuleInput): Promise<{ rule: RuleView; jobId: number }>;
  /**
   * Assigns the program to these users, one `individual` rule each with the same due rule, in one
   * transaction and with one sync job for all of them (the user list's "Assign a program"). Users
   * who already have an individual rule on the program, and suspended or deleted ones, are skipped.
   */
  assignUsers(programId: number, userIds: readonly number[], due: DueRule): Promise<{ added: number; jobId: number | null }>;
  /** Changes the due rule; memberships' due dates are recomputed by a job. */
  updateRule(programId: number, ruleId: number, patch: { due?: DueRule }): Promise<{ rule: RuleView; jobId: number }>;
  removeRule(programId: number, ruleId: number): Promise<{ jobId: number }>;
  listRules(programId: number): Promise<RuleView[]>;
  /**
   * A keyset page of exceptions in one status, of one program and/or type when given (404 for an
   * unknown program), in a named order of {@link EXCEPTION_ORDERS} (the first, oldest first, by default).
   */
  listExceptions(
    filter: { status: 'open' | 'dismissed' | 'resolved'; programId?: number; type?: string },
    order?: KeysetOrder,
    position?: PagePosition,
  ): Promise<KeysetPage<ExceptionView & { programName: string }>>;
  resolveExceptions(
    exceptionIds: readonly number[],
    action: ExceptionAction,
    byUserId?: number | null,
  ): Promise<{ action: ExceptionAction; resolved: number; assigned: number }>;
  learnerAssignment(programId: number, userId: number, executor?: Executor): Promise<LearnerAssignment>;
  /**
   * Gives an actively assigned learner a later due date (an approved extension request), in `trx`,
   * if their due date is still `from`. A later date cannot make a time allowance too short, and the
   * other exceptions do not depend on the date, so nothing is raised; rules never move it back
   * (a due date never moves earlier automatically). False when the date or the assignment changed.
   */
  extendDueDate(trx: Knex.Transaction, programId: number, userId: number, from: number, to: number): Promise<boolean>;
  /**
   * A recurring program's new period: a new cycle starting at `at` (the assignment time that keys
   * notification cycles) with a new due date for each of these actively assigned learners, in `trx`.
   * Set by the period, not the rules, so no exception is raised; rules never move it earlier.
   */
  startCycles(trx: Knex.Transaction, programId: number, rows: ReadonlyArray<{ userId: number; dueAt: number }>, at: number): Promise<void>;
  /**
   * Body of the rules job `assignUsers` queues: the set differences of several new rules of one
   * program, together, over every user batch, or only over `users` when the rules list no one outside it.
   */
  syncRules(programId: number, ruleIds: readonly number[], options?: SyncOptions & { users?: UserScope }): Promise<SyncCounters & { batches: number }>;
  /** Body of the rule job: the rule's set difference over every user batch. */
  syncRule(ruleId: number, options?: SyncOptions & { fullDue?: boolean }): Promise<SyncCounters & { batches: number }>;
  /**
   * Re-runs every rule of every program (nightly safety net; also the "full sync"), and evaluates
   * learners assigned to a program that is complete from the start but not recorded complete.
   */
  reconcile(options?: SyncOptions): Promise<SyncCounters & { programs: number; batches: number; completionsEvaluated: number }>;
  /** Incremental sync for the changed user, inside the change's transaction. */
  syncUser(trx: Knex.Transaction, change: AssignmentChange): Promise<SyncCounters>;
  /** Set-based sync of the rules a batch of audience membership flips affects, inside the batch's transaction. */
  syncAudienceBatch(trx: Knex.Transaction, batch: AudienceMembershipBatch): Promise<SyncCounters>;
}

const DEFAULT_BATCH = 50_000;
/** Exceptions per page when the caller does not say (the API allows 1..1000). */
const EXCEPTIONS_PAGE = 500;
const DEFAULT_CONCURRENCY = 2;

/**
 * The programs module's `selectTargets` port: no completion recalculation while an exception is
 * open or dismissed (DOMAIN 4.1). Learners without any assignment row keep being recalculated, so
 * completion history recorded before assignment is not lost.
 */
export async function withoutOpenExceptions(executor: Executor, pairs: ReadonlyArray<RecalcPair>): Promise<RecalcPair[]> {
  if (!pairs.length) return [];
  const blocked = new Set((await pairsHeldByException(executor, pairs)).map((p) => `${p.programId}:${p.userId}`));
  return pairs.filter((p) => !blocked.has(`${p.programId}:${p.userId}`));
}

/** A learner's effective assignment to a program (status, due date, exception) and its exception history: two indexed reads. */
export async function learnerAssignmentOf(executor: Executor, programId: number, userId: number): Promise<LearnerAssignment> {
  const row = await learnerAssignmentRow(executor, programId, userId);
  const history = (await exceptionHistory(executor, programId, userId, HISTORY_LIMIT)).map((h): AssignmentHistoryEntry => ({
    exceptionId: num(h.id),
    type: String(h.type),
    status: String(h.status),
    raisedAt: isoOrNull(h.raised_at)!,
    explanation: String(h.explanation),
    resolution: h.resolution === null ? null : String(h.resolution),
    resolvedAt: isoOrNull(h.resolved_at),
    resolvedBy: h.resolved_by === null ? null : { id: num(h.resolved_by), fullname: String(h.resolver ?? '') },
  }));
  if (!row) return { assigned: false, status: 'unassigned', dueAt: null, assignedAt: null, exception: null, acceptedDueAt: null, history };
  const status = String(row.status) as LearnerAssignment['status'];
  return {
    assigned: status === 'active',
    status,
    dueAt: status === 'unassigned' || status === 'future' ? null : isoOrNull(row.due_at),
    assignedAt: isoOrNull(row.assigned_at),
    exception:
      row.exception_id === null || row.exception_id === undefined
        ? null
        : {
            id: num(row.exception_id),
            type: String(row.type),
            status: String(row.exception_status),
            raisedAt: isoOrNull(row.raised_at)!,
            explanation: String(row.explanation),
          },
    acceptedDueAt: status === 'active' ? isoOrNull(row.accepted_due_at) : null,
    history,
  };
}

function dueOf(rule: LoadedRule): DueRule {
  if (rule.dueKind === 'fixed') return { date: new Date(rule.dueDate!).toISOString() };
  if (rule.dueKind === 'relative')
    return { within: rule.dueWithin!, event: rule.dueEvent!, ...(rule.dueInstanceId !== null ? { instanceId: rule.dueInstanceId } : {}) };
  return null;
}

export function createAssignmentService(context: AssignmentContext): AssignmentService {
  const engine = new AssignmentSync(context);
  const db = () => context.db;
  const ajv = new Ajv2020({ allErrors: true, strict: 'log', strictRequired: false, coerceTypes: false, logger: false });
  addFormats(ajv);
  addFormKeywords(ajv);
  const compiled = new WeakMap<JsonSchema, ValidateFunction>();

  function compiledOf(schema: JsonSchema): ValidateFunction {
    let fn = compiled.get(schema);
    if (!fn) {
      fn = ajv.compile(schema);
      compiled.set(schema, fn);
    }
    return fn;
  }

  function validateInstance(schema: JsonSchema, instance: RuleInstance): void {
    const fn = compiledOf(schema);
    if (fn(instance)) return;
    const details = (fn.errors ?? []).map(toDetail);
    throw new WaymarkError('VALIDATION_FAILED', `Request body is invalid: ${details.map((d) => `${d.path || '/'} ${d.message}`).join('; ')}`, 400, details);
  }

  async function programExists(executor: Executor, programId: number): Promise<void> {
    if (!Number.isInteger(programId) || !(await programFound(executor, programId))) throw notFound('Program', programId);
  }

  /** Validates a due rule for a source; returns the columns to store. */
  async function dueColumns(executor: Executor, sourceType: string, due: DueRule | undefined): Promise<Record<string, unknown>> {
    if (due === undefined || due === null) return { due_kind: 'none', due_date: null, due_within: null, due_event: null, due_instance_id: null };
    if ('date' in due) {
      // Strict: 2026-02-30 is refused rather than rolled over; a day alone means its end in the site's zone.
      const ms = parseDateInput(String(due.date), { field: 'due/date', zone: context.timezone });
      return { due_kind: 'fixed', due_date: ms, due_within: null, due_event: null, due_instance_id: null };
    }
    const details: ErrorDetail[] = [];
    if (!isValidDuration(due.within))
      details.push({ path: 'due/within', code: 'DUE_WITHIN_INVALID', message: `"${due.within}" is not an ISO-8601 duration such as P1M` });
    const event = engine.event(sourceType, due.event);
    if (!event) {
      const known = [...context.extensions.list('dueDateEvents').map((c) => c.key), ...Object.keys(engine.source(sourceType)?.dueEvents ?? {})];
      throw invalid('DUE_EVENT_UNKNOWN', `Unknown due-date event "${due.event}"`, [
        { path: 'due/event', code: 'DUE_EVENT_UNKNOWN', message: `must be one of ${known.join(', ')}` },
      ]);
    }
    const fields = compiledOf(dueEventSchema(event));
    if (event.needsInstance && due.instanceId === undefined)
      details.push({ path: 'due/instanceId', code: 'REQUIRED', message: `event ${due.event} needs due.instanceId` });
    else if (!fields(due.instanceId === undefined ? {} : { instanceId: due.instanceId }))
      details.push(...(fields.errors ?? []).map((e) => ({ ...toDetail(e), path: `due${toDetail(e).path}` })));
    else if (event.validate) details.push(...(await event.validate(due.instanceId, engine.ctx(executor))));
    if (details.length) throw invalid(details[0]!.code ?? 'DUE_INVALID', details[0]!.message, details);
    return { due_kind: 'relative', due_date: null, due_within: due.within, due_event: due.event, due_instance_id: due.instanceId ?? null };
  }

  async function describe(executor: Executor, rule: LoadedRule): Promise<string> {
    const source = engine.source(rule.source);
    let text = source ? await source.describe(rule.instance, engine.ctx(executor)) : `${rule.source} ${rule.instance.instanceId} (source disabled)`;
    if (rule.dueKind === 'fixed') text += `, due by ${new Date(rule.dueDate!).toISOString().slice(0, 10)}`;
    if (rule.dueKind === 'relative') {
      const event = engine.event(rule.source, rule.dueEvent!);
      const what = event ? ((await event.describe?.(rule.dueInstanceId ?? undefined, engine.ctx(executor))) ?? event.label) : rule.dueEvent!;
      text += `, due within ${humanDuration(rule.dueWithin!)} of ${what}`;
    }
    return text;
  }

  async function views(executor: Executor, rules: LoadedRule[]): Promise<RuleView[]> {
    const counts = await memberCountsByRule(
      executor,
      rules.map((r) => r.id),
    );
    const out: RuleView[] = [];
    for (const rule of rules) {
      out.push({
        id: rule.id,
        programId: rule.programId,
        source: rule.source,
        instance: rule.instance,
        due: dueOf(rule),
        description: await describe(executor, rule),
        status: rule.deletedAt !== null ? 'removing' : engine.source(rule.source) ? 'active' : 'source_disabled',
        memberCount: counts.get(rule.id) ?? 0,
        createdAt: new Date(rule.createdAt).toISOString(),
        updatedAt: new Date(rule.updatedAt).toISOString(),
      });
    }
    return out;
  }

  async function findRule(executor: Executor, programId: number, ruleId: number): Promise<LoadedRule> {
    const [rule] = await loadRules(executor, { ruleId });
    if (!rule || rule.programId !== programId)
      throw new WaymarkError('ASSIGNMENT_RULE_NOT_FOUND', `Assignment rule ${ruleId} not found in program ${programId}`, 404);
    return rule;
  }

  const enqueueRuleSync = (trx: Knex.Transaction, ruleId: number, fullDue: boolean): Promise<number> =>
    context.queue.enqueue(RULE_SYNC_JOB, { ruleId, fullDue }, { trx, dedupeKey: `${RULE_SYNC_JOB}:${ruleId}` });

  async function userRanges(batchSize: number): Promise<UserScope[]> {
    const { lo, hi } = await userIdSpan(db().knex);
    if (lo === null || hi === null) return [];
    return splitRange({ lo, hi }, batchSize);
  }

  const service: AssignmentService = {
    engine,
    launchState: createLaunchStateReader(context.db),
    reachableElsewhere,

    async addRule(programId, input) {
      const { source: type, due, ...instance } = input;
      const source = context.extensions.get('assignmentSources', type)?.value;
      if (!source) {
        const known = context.extensions.list('assignmentSources').map((c) => c.key);
        throw invalid('ASSIGNMENT_SOURCE_UNKNOWN', `Unknown or disabled assignment source "${type}"`, [
          {
            path: 'source',
            code: 'ASSIGNMENT_SOURCE_UNKNOWN',
            message: known.length ? `must be one of ${known.join(', ')}` : 'no assignment source is enabled',
          },
        ]);
      }
      const inst = instance as RuleInstance;
      const now = db().now();
      return db().transaction(async (trx) => {
        await programExists(trx, programId);
        validateInstance(source.instanceSchema, inst);
        const problems = (await source.validate?.(inst, engine.ctx(trx))) ?? [];
        if (problems.length) throw invalid('ASSIGNMENT_INSTANCE_INVALID', problems[0]!.message, problems);
        const dueCols = await dueColumns(trx, type, due);
        const id = await insertRule(trx, {
          program_id: programId,
          source: type,
          instance: JSON.stringify(inst),
          instance_id: inst.instanceId,
          ...dueCols,
          version: 1,
          created_at: now,
          updated_at: now,
        });
        const jobId = await enqueueRuleSync(trx, id, false);
        const [view] = await views(trx, await loadRules(trx, { ruleId: id }));
        return { rule: view!, jobId };
      });
    },

    async assignUsers(programId, userIds, due) {
      if (!context.extensions.get('assignmentSources', INDIVIDUAL_SOURCE)) {
        throw invalid('ASSIGNMENT_SOURCE_UNKNOWN', 'Assigning to individual users needs the assign_individual plugin: enable it on the plugins page', [
          { path: 'source', code: 'ASSIGNMENT_SOURCE_UNKNOWN', message: 'the individual source is disabled' },
        ]);
      }
      const now = db().now();
      return db().transaction(async (trx) => {
        await programExists(trx, programId);
        const columns = { ...(await dueColumns(trx, INDIVIDUAL_SOURCE, due)), version: 1, created_at: now, updated_at: now };
        const users = await usersWithoutIndividualRule(trx, programId, await activeUsersAmong(trx, [...new Set(userIds)]));
        if (!users.length) return { added: 0, jobId: null };
        const ruleIds = await insertIndividualRules(trx, programId, users, columns);
        // Each rule lists exactly its user, so the job syncs only the users' id range (the user
        // list's job goes through users in id order: its pages' ranges do not overlap).
        const payload: RulesSyncPayload = { programId, ruleIds, users: { lo: users[0]!, hi: users[users.length - 1]! } };
        return { added: users.length, jobId: await context.queue.enqueue(RULES_SYNC_JOB, payload, { trx }) };
      });
    },

    async updateRule(programId, ruleId, patch) {
      return db().transaction(async (trx) => {
        const rule = await findRule(trx, programId, ruleId);
        if (rule.deletedAt !== null) throw conflict('ASSIGNMENT_RULE_REMOVING', `Assignment rule ${ruleId} is being removed`);
        const changes: Record<string, unknown> = { updated_at: db().now(), version: rule.version + 1 };
        if (patch.due !== undefined) Object.assign(changes, await dueColumns(trx, rule.source, patch.due));
        await updateRule(trx, ruleId, changes);
        const jobId = await enqueueRuleSync(trx, ruleId, true);
        const [view] = await views(trx, await loadRules(trx, { ruleId }));
        return { rule: view!, jobId };
      });
    },

    async removeRule(programId, ruleId) {
      return db().transaction(async (trx) => {
        const rule = await findRule(trx, programId, ruleId);
        if (rule.deletedAt === null) {
          await updateRule(trx, ruleId, { deleted_at: db().now(), version: rule.version + 1, updated_at: db().now() });
        }
        return { jobId: await enqueueRuleSync(trx, ruleId, false) };
      });
    },

    async listRules(programId) {
      const knex = db().knex;
      await programExists(knex, programId);
      return views(knex, await loadRules(knex, { programId, includeDeleted: true }));
    },

    async listExceptions(filter, order = EXCEPTION_ORDERS[0]!, position = { limit: EXCEPTIONS_PAGE, from: null }) {
      const knex = db().knex;
      if (filter.programId !== undefined) await programExists(knex, filter.programId);
      const page = await exceptionPage(knex, filter, order, position);
      return {
        ...page,
        items: page.items.map((r) => ({
          id: num(r.id),
          programId: num(r.program_id),
          programName: String(r.program),
          userId: num(r.user_id),
          learner: { id: num(r.user_id), username: String(r.username), fullname: String(r.fullname) },
          type: String(r.type),
          status: String(r.status),
          raisedAt: isoOrNull(r.raised_at)!,
          explanation: String(r.explanation),
        })),
      };
    },

    async resolveExceptions(exceptionIds, action, byUserId = null) {
      const ids = [...new Set(exceptionIds)];
      return db().transaction(async (trx) => {
        const found = await exceptionsWithCurrent(trx, ids);
        const seen = new Set(found.map((f) => num(f.id)));
        const missing = ids.filter((id) => !seen.has(id));
        if (missing.length) {
          throw new WaymarkError(
            'EXCEPTION_NOT_FOUND',
            `Exception${missing.length > 1 ? 's' : ''} ${missing.join(', ')} not found`,
            404,
            missing.map((id) => ({ path: 'exceptionIds', code: 'EXCEPTION_NOT_FOUND', message: `no exception ${id}` })),
          );
        }
        // Only the learner's current exception can be acted on; resolved ones are history.
        const stale = found.filter(
          (f) => f.status === 'resolved' || numOrNull(f.pua_exception) !== num(f.id) || (action === 'dismiss' && f.status === 'dismissed'),
        );
        if (stale.length) {
          throw new WaymarkError(
            'EXCEPTION_NOT_OPEN',
            `Exception${stale.length > 1 ? 's' : ''} ${stale.map((s) => s.id).join(', ')} cannot be ${action === 'dismiss' ? 'dismissed' : 'resolved'}: already ${stale[0]!.status}`,
            409,
          );
        }
        const now = db().now();
        const resolution = action;
        const newStatus = action === 'dismiss' ? 'dismissed' : 'resolved';
        await decideExceptions(trx, ids, { status: newStatus, resolution, at: now, by: byUserId });
        if (action === 'dismiss') return { action, resolved: ids.length, assigned: 0 };
        const byProgram = new Map<number, typeof found>();
        for (const f of found) byProgram.set(num(f.program_id), [...(byProgram.get(num(f.program_id)) ?? []), f]);
        let assigned = 0;
        for (const [programId, exceptions] of byProgram) {
          const userIds = exceptions.map((f) => num(f.user_id));
          if (action === 'set_realistic_due_date') {
            // A realistic due date: the program's minimum time from now, plus a week.
            const minTime = (await engine.minTimes(trx, [programId])).get(programId) ?? null;
            const dueAt = addDuration(minTime ? addDuration(now, minTime) : now, 'P1W');
            assigned += await activateAssignments(trx, programId, userIds, now, { dueAt });
          } else {
            // `assign` on a time allowance is a decision about this due date: it stands (issue 11).
            const accepting = exceptions.filter((f) => f.type === 'time_allowance').map((f) => num(f.user_id));
            const others = exceptions.filter((f) => f.type !== 'time_allowance').map((f) => num(f.user_id));
            if (accepting.length) assigned += await activateAssignments(trx, programId, accepting, now, { acceptDue: true });
            if (others.length) assigned += await activateAssignments(trx, programId, others, now);
          }
          await context.hooks.within('onProgramAssigned', trx, { programId, userIds });
          await context.hooks.publish('afterProgramAssigned', trx, { programId, userIds });
          await engine.recalculateCompletion(trx, programId, userIds, now);
        }
        return { action, resolved: ids.length, assigned };
      });
    },

    learnerAssignment: (programId, userId, executor = db().knex) => learnerAssignmentOf(executor, programId, userId),
    extendDueDate: (trx, programId, userId, from, to) => moveDueDate(trx, programId, userId, from, to, db().now()),
    startCycles: (trx, programId, rows, at) => startCycles(trx, programId, rows, at, db().now()),

    async syncRule(ruleId, options = {}) {
      const totals = { ...emptyCounters(), batches: 0 };
      for (let pass = 0; pass < 10; pass++) {
        const [rule] = await loadRules(db().knex, { ruleId, includeDeleted: true });
        if (!rule) return totals;
        const ranges = await userRanges(options.batchSize ?? DEFAULT_BATCH);
        for (const [i, scope] of ranges.entries()) {
          addCounters(totals, await db().transaction((trx) => engine.syncProgramScope(trx, rule.programId, [rule], scope, { fullDue: options.fullDue })));
          totals.batches++;
          await options.progress?.(i + 1, ranges.length);
        }
        // An edit made while we ran bumps the version: run again so it is not lost.
        if (rule.deletedAt !== null) {
          const removed = await deleteRuleAtVersion(db().knex, ruleId, rule.version);
          if (removed) return totals;
        } else {
          const [now] = await loadRules(db().knex, { ruleId, includeDeleted: true });
          if (!now || now.version === rule.version) return totals;
        }
        options = { ...options, fullDue: true };
      }
      return totals;
    },

    async syncRules(programId, ruleIds, options = {}) {
      const totals = { ...emptyCounters(), batches: 0 };
      const rules = await loadRules(db().knex, { programId, ruleIds, includeDeleted: true });
      if (!rules.length) return totals;
      const batch = options.batchSize ?? DEFAULT_BATCH;
      const ranges = options.users ? splitRange(options.users, batch) : await userRanges(batch);
      for (const [i, scope] of ranges.entries()) {
        addCounters(totals, await db().transaction((trx) => engine.syncProgramScope(trx, programId, rules, scope)));
        totals.batches++;
        await options.progress?.(i + 1, ranges.length);
      }
      // A rule edited or removed while this ran has its own job queued; one that edit's job already
      // ran for, before these members existed, is synced again here so the edit is not lost.
      const now = new Map((await loadRules(db().knex, { programId, ruleIds, includeDeleted: true })).map((r) => [r.id, r]));
      for (const rule of rules) {
        const latest = now.get(rule.id);
        if (latest && latest.version !== rule.version) addCounters(totals, await service.syncRule(rule.id));
      }
      return totals;
    },

    async reconcile(options = {}) {
      const knex = db().knex;
      const programIds = (await programsWithRuleWork(knex)).sort((a, b) => a - b);
      const ranges = await userRanges(options.batchSize ?? DEFAULT_BATCH);
      const totals = { ...emptyCounters(), programs: programIds.length, batches: 0, completionsEvaluated: 0 };
      let next = 0;
      let done = 0;
      // Programs are independent (each batch writes only its own program's rows), so a server
      // database works on several at once, one connection each; SQLite has one writer.
      const lanes = db().dialect === 'mysql' ? Math.max(1, options.concurrency ?? DEFAULT_CONCURRENCY) : 1;
      const lane = async () => {
        while (next < programIds.length) {
          const programId = programIds[next++]!;
          const rules = await loadRules(knex, { programId, includeDeleted: true });
          for (const scope of ranges) {
            addCounters(totals, await db().transaction((trx) => engine.syncProgramScope(trx, programId, rules, scope)));
            totals.batches++;
          }
          for (const rule of rules.filter((r) => r.deletedAt !== null)) {
            await deleteRuleAtVersion(knex, rule.id, rule.version);
          }
          // Awaited first: `totals.x += await …` would read the total before the await and lose the
          // other lane's additions.
          const evaluated = await engine.completeFromStart(programId);
          totals.completionsEvaluated += evaluated;
          await options.progress?.(++done, programIds.length, `program ${programId}`);
        }
      };
      await Promise.all(Array.from({ length: Math.min(lanes, programIds.length) }, lane));
      return totals;
    },

    syncUser: (trx, change) => engine.syncUser(trx, change),
    syncAudienceBatch: (trx, batch) => engine.syncAudienceBatch(trx, batch),
  };
  return service;
}
