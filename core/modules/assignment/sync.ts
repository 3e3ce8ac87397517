import { courseCompletionsOfUsers } from '../learning/index';
import type { Knex } from 'knex';
import type { AssignmentContext } from './context';
import type { Executor } from '../../kernel/db/database';
import type { AssignmentChange, AudienceMembershipBatch } from '../people/index';
import type { ExceptionsRaisedArgs } from './hooks';
import { addDuration, parseDuration, evaluateProgram, applyEvaluations, hasTimedSets, key, loadStoredState, loadStoredStateInRange } from '../programs/index';
import { ASSIGNMENT_DATE_EVENT } from './events';
import type { AssignmentSource, DueDateEvent, RuleInstance, SourceContext } from './types';
import { chunk, sqlOf } from '../../kernel/db/sql';
import { num, numOrNull } from '../../kernel/db/values';
import { bool } from '../../kernel/db/values';
import { liveRulesSignature, ruleRows, type RuleRow } from './store/rules';
import {
  activeMembersInRange,
  compareManyWithMembers,
  compareWithMembers,
  conflictingInRange,
  holdersInRange,
  insertFirstMembers,
  deleteMembersInRange,
  deleteUndesiredMembers,
  deleteUserMemberships,
  dueNotFixedAt,
  dueStillNew,
  insertDesiredMembers,
  insertMembers,
  memberCountsInRange,
  memberUserIds,
  membersDueFromCreation,
  membersWithEventTimes,
  ruleIdsListingUser,
  rulesListingUser,
  setFixedDue,
  writeMemberDue,
  type MemberDueRow,
  type MemberComparison,
  type SqlFragment,
} from './store/members';
import { activeAssignedTimes, activeWithoutCompletion, assignmentsDifferingFromRules, upsertAssignments, type AssignmentRow } from './store/assignments';
import { insertOpenExceptions, resolveExceptionsWith, type NewException } from './store/exceptions';
import { courseCompletionsInRange, programStructureVersions, userStanding } from './store/lookups';

/** A stored assignment rule. */
export interface LoadedRule {
  id: number;
  programId: number;
  source: string;
  instance: RuleInstance;
  dueKind: 'none' | 'fixed' | 'relative';
  /** The fixed due date; null unless `dueKind` is `fixed` (the service stores it that way). */
  dueDate: number | null;
  dueWithin: string | null;
  dueEvent: string | null;
  dueInstanceId: number | null;
  version: number;
  deletedAt: number | null;
  createdAt: number;
  updatedAt: number;
}

/** An inclusive range of user ids: the unit of one batch (a single user for incremental sync). */
export interface UserScope {
  lo: number;
  hi: number;
}

/** What a sync wrote; all zero means it changed nothing. */
export interface SyncCounters {
  membersInserted: number;
  membersDeleted: number;
  membersUpdated: number;
  assignmentsWritten: number;
  exceptionsRaised: number;
  assigned: number;
  unassigned: number;
}

export const emptyCounters = (): SyncCounters => ({
  membersInserted: 0,
  membersDeleted: 0,
  membersUpdated: 0,
  assignmentsWritten: 0,
  exceptionsRaised: 0,
  assigned: 0,
  unassigned: 0,
});

export function addCounters<T extends SyncCounters>(into: T, more: SyncCounters): T {
  for (const k of Object.keys(more) as Array<keyof SyncCounters>) into[k] += more[k];
  return into;
}

export const totalWrites = (c: SyncCounters): number => c.membersInserted + c.membersDeleted + c.membersUpdated + c.assignmentsWritten;

export type ExceptionType = 'already_assigned' | 'completion_time_unknown' | 'time_allowance';

export function toRule(row: RuleRow): LoadedRule {
  return {
    id: num(row.id),
    programId: num(row.program_id),
    source: row.source,
    instance: JSON.parse(row.instance) as RuleInstance,
    dueKind: row.due_kind,
    dueDate: numOrNull(row.due_date),
    dueWithin: row.due_within,
    dueEvent: row.due_event,
    dueInstanceId: numOrNull(row.due_instance_id),
    version: num(row.version),
    deletedAt: numOrNull(row.deleted_at),
    createdAt: num(row.created_at),
    updatedAt: num(row.updated_at),
  };
}

/**
 * Live rules for incremental sync, cached per process and revalidated on every use by one
 * aggregate over the (small) rules table: any add, edit (updated_at) or removal changes it, in
 * this process or another, so a change never reads a stale rule set.
 */
export class RuleCache {
  private signature = '';
  private rules: LoadedRule[] = [];
  private bySource = new Map<string, LoadedRule[]>();
  private byId = new Map<number, LoadedRule>();

  async get(executor: Executor): Promise<{ rules: readonly LoadedRule[]; bySource: ReadonlyMap<string, LoadedRule[]>; byId: ReadonlyMap<number, LoadedRule> }> {
    const signature = await liveRulesSignature(executor);
    if (signature !== this.signature) {
      this.rules = await loadRules(executor);
      this.bySource = new Map();
      for (const r of this.rules) {
        const list = this.bySource.get(r.source);
        if (list) list.push(r);
        else this.bySource.set(r.source, [r]);
      }
      this.byId = new Map(this.rules.map((r) => [r.id, r]));
      this.signature = signature;
    }
    return { rules: this.rules, bySource: this.bySource, byId: this.byId };
  }
}

/** Stored rules in id order: all live ones, or a program's, or one; rules being removed only with `includeDeleted`. */
export async function loadRules(
  executor: Executor,
  where: { programId?: number; ruleId?: number; ruleIds?: readonly number[]; includeDeleted?: boolean } = {},
): Promise<LoadedRule[]> {
  return (await ruleRows(executor, where)).map(toRule);
}

interface UtcParts {
  years: number;
  months: number;
  days: number;
  ms: number;
}
const parsedParts = new Map<string, UtcParts | null>();

/**
 * Adds an ISO duration in UTC with the same calendar rules as `addDuration` (luxon): years and
 * months move the calendar date with the day clamped to the target month's length, then weeks and
 * days move whole days, then time units add milliseconds. Done with `Date.UTC` because the full
 * sync adds one per membership row and luxon costs tens of microseconds a call; the unit tests
 * compare the two on random instants.
 */
export function addDurationFast(epochMs: number, iso: string): number {
  let parts = parsedParts.get(iso);
  if (parts === undefined) {
    const d = parseDuration(iso);
    const o = d?.toObject() ?? {};
    parts = d
      ? {
          years: o.years ?? 0,
          months: (o.months ?? 0) + 3 * (o.quarters ?? 0),
          days: (o.days ?? 0) + 7 * (o.weeks ?? 0),
          ms: (((o.hours ?? 0) * 60 + (o.minutes ?? 0)) * 60 + (o.seconds ?? 0)) * 1000 + (o.milliseconds ?? 0),
        }
      : null;
    if (parsedParts.size > 1000) parsedParts.clear();
    parsedParts.set(iso, parts);
  }
  // Anything unusual (fractional calendar units, an unparseable value) goes through luxon.
  if (!parts || !Number.isInteger(parts.years) || !Number.isInteger(parts.months) || !Number.isInteger(parts.days)) return addDuration(epochMs, iso);
  const t = new Date(epochMs);
  const monthIndex = t.getUTCMonth() + parts.months;
  const year = t.getUTCFullYear() + parts.years + Math.floor(monthIndex / 12);
  const month = ((monthIndex % 12) + 12) % 12;
  const daysInMonth = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  const day = Math.min(t.getUTCDate(), daysInMonth) + parts.days;
  return Date.UTC(year, month, day, t.getUTCHours(), t.getUTCMinutes(), t.getUTCSeconds(), t.getUTCMilliseconds()) + parts.ms;
}

/** Learners per read when recalculating completion outside a sync batch's user range. */
const RECALC_CHUNK = 300;

/** The engine: membership set differences, due dates, effective assignments and exceptions. */
export class AssignmentSync {
  private readonly rules = new RuleCache();

  constructor(private readonly context: AssignmentContext) {}

  private get dialect() {
    return this.context.db.dialect;
  }

  ctx(executor: Executor): SourceContext {
    return { db: executor };
  }

  /** The source contribution of a rule, or undefined when its plugin is disabled or gone. */
  source(type: string): AssignmentSource | undefined {
    return this.context.extensions.get('assignmentSources', type)?.value;
  }

  /** A due-date event by name: the rule's source may add its own, else the registry's. */
  event(sourceType: string, name: string): DueDateEvent | undefined {
    return this.source(sourceType)?.dueEvents?.[name] ?? this.context.extensions.get('dueDateEvents', name)?.value;
  }

  /** Desired members of a rule within a scope: active users only, distinct. */
  private desired(trx: Knex.Transaction, rule: LoadedRule, source: AssignmentSource, scope: UserScope): SqlFragment {
    return activeMembersInRange(trx, source.members(rule.instance, this.ctx(trx)), scope);
  }

  /**
   * The due state a new membership row starts with. Rules without an event, and rules relative to
   * the assignment date (the row's own creation), are final at insert; rules relative to another
   * event start `new` and get their date from `syncRuleDue`, which reads the event.
   */
  private initialDue(rule: LoadedRule, now: number): { state: string; eventAt: number | null; dueAt: number | null } {
    if (rule.dueKind !== 'relative') return { state: 'known', eventAt: null, dueAt: rule.dueDate };
    if (rule.dueEvent === ASSIGNMENT_DATE_EVENT) return { state: 'known', eventAt: now, dueAt: addDurationFast(now, rule.dueWithin!) };
    return { state: 'new', eventAt: null, dueAt: null };
  }

  /** Whether the rule's due dates depend on an event read from elsewhere (so they can move without a membership change). */
  private readsEvent(rule: LoadedRule): boolean {
    return rule.dueKind === 'relative' && rule.dueEvent !== ASSIGNMENT_DATE_EVENT;
  }

  /**
   * For rules whose due date is fixed at insert: the condition (on membership row `m`) of a row whose
   * due values are not what the rule says, e.g. left by an interrupted due-rule change. Null for
   * rules reading an event, whose rows `syncRuleDue` compares with the event itself.
   */
  private staleDue(rule: LoadedRule): SqlFragment | null {
    if (this.readsEvent(rule)) return null;
    if (rule.dueKind === 'relative') return dueStillNew();
    return dueNotFixedAt(this.dialect, rule.dueDate);
  }

  /**
   * Set difference for one rule in one user range: INSERT desired-not-current, DELETE
   * current-not-desired. A rule being removed, or whose source is gone while the rule is being
   * removed, desires nobody. A rule whose source plugin is disabled is left as it is: it assigns
   * nobody new and unassigns nobody until the plugin returns or the rule is removed.
   *
   * `dueWork` tells the caller whether membership due dates may need `syncRuleDue`: always for rules
   * reading an event that has rows here, otherwise only when kept rows were found stale.
   */
  async syncRuleMembers(
    trx: Knex.Transaction,
    rule: LoadedRule,
    scope: UserScope,
    now: number,
    currentCount: number,
    known: { desired?: SqlFragment; compared?: MemberComparison } = {},
  ): Promise<{ inserted: number; deleted: number; dueWork: boolean }> {
    if (rule.deletedAt !== null) {
      const deleted = await deleteMembersInRange(trx, rule.id, scope);
      return { inserted: 0, deleted, dueWork: false };
    }
    const source = this.source(rule.source);
    if (!source) return { inserted: 0, deleted: 0, dueWork: false };
    const d = known.desired ?? this.desired(trx, rule, source, scope);
    const due = this.initialDue(rule, now);
    let needInsert = true;
    let needDelete = false;
    let stale = 0;
    if (currentCount > 0) {
      // One pass over the desired set says which side of the difference is non-empty and whether
      // kept rows carry a stale due date, so an unchanged rule costs one evaluation of its members.
      const m = known.compared ?? (await compareWithMembers(trx, rule.id, d, this.staleDue(rule)));
      needInsert = m.desired > m.matched;
      needDelete = currentCount > m.matched;
      stale = m.stale;
    }
    // With no current rows in the range (a first sync) every desired user is new: no per-row probe.
    const inserted = needInsert ? await insertDesiredMembers(trx, rule, d, due, now, currentCount > 0) : 0;
    const deleted = needDelete ? await deleteUndesiredMembers(this.dialect, trx, rule.id, scope, d) : 0;
    const dueWork = this.readsEvent(rule) ? currentCount > 0 || inserted > 0 : stale > 0;
    return { inserted, deleted, dueWork };
  }

  /**
   * Brings membership due dates up to date. For a relative rule, only rows that are new or whose
   * event time moved are read (the comparison is in SQL); their calendar arithmetic is done here and
   * written back with one CASE update per chunk. `full` recomputes every row (the due rule changed)
   * and still writes only rows whose values differ.
   */
  async syncRuleDue(trx: Knex.Transaction, rule: LoadedRule, scope: UserScope, full: boolean): Promise<number> {
    if (rule.deletedAt !== null) return 0;
    if (rule.dueKind !== 'relative') return setFixedDue(trx, rule.id, rule.dueDate, scope, this.staleDue(rule)!);
    const within = rule.dueWithin!;
    const eventName = rule.dueEvent!;
    const event = this.event(rule.source, eventName);
    let found: MemberDueRow[];
    if (eventName === ASSIGNMENT_DATE_EVENT) {
      found = await membersDueFromCreation(trx, rule.id, scope, !full);
    } else if (!event) {
      // The event's plugin is gone: keep the dates computed while it was there; new rows wait.
      return 0;
    } else {
      const users = memberUserIds(trx, rule.id, scope);
      const e = sqlOf(event.eventTimes(users, rule.dueInstanceId ?? undefined, this.ctx(trx)));
      found = await membersWithEventTimes(this.dialect, trx, rule.id, scope, e, !full);
    }
    const missing = event?.whenMissing ?? 'unknown';
    const updates: Array<{ id: number; values: unknown[] }> = [];
    for (const r of found) {
      const eventAt = numOrNull(r.new_event);
      const state = eventAt === null ? missing : 'known';
      const dueAt = eventAt === null ? null : addDurationFast(eventAt, within);
      if (r.due_state === state && numOrNull(r.event_at) === eventAt && numOrNull(r.due_at) === dueAt) continue;
      updates.push({ id: num(r.id), values: [state, eventAt, dueAt] });
    }
    if (!updates.length) return 0;
    return writeMemberDue(this.dialect, trx, updates);
  }

  /**
   * Learners of these programs (within the scope) who already have the program through a
   * conflicting route, as `programId:userId` keys mapped to the route in words: the routes
   * contributed to `assignmentConflicts` (one query each) and the sources that implement
   * `AssignmentSource.conflicts` (one query per rule). Nothing is read when there are neither.
   */
  async conflictingUsers(executor: Executor, programIds: readonly number[], scope: UserScope): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const { value: route } of this.context.extensions.list('assignmentConflicts')) {
      for (const { programId, userId } of await holdersInRange(executor, route.holders(programIds, this.ctx(executor)), programIds, scope)) {
        if (!out.has(`${programId}:${userId}`)) out.set(`${programId}:${userId}`, route.route);
      }
    }
    if (!this.context.extensions.list('assignmentSources').some((c) => c.value.conflicts)) return out;
    const { rules } = await this.rules.get(executor);
    const wanted = new Set(programIds);
    for (const rule of rules) {
      if (!wanted.has(rule.programId) || rule.deletedAt !== null) continue;
      const source = this.source(rule.source);
      const conflicts = source?.conflicts?.(rule.programId, rule.instance, this.ctx(executor));
      if (!conflicts) continue;
      for (const userId of await conflictingInRange(executor, conflicts, scope)) {
        if (!out.has(`${rule.programId}:${userId}`)) out.set(`${rule.programId}:${userId}`, source!.name);
      }
    }
    return out;
  }

  /** Program minimum times (ISO or null) for several programs: one query when structures are cached. */
  async minTimes(executor: Executor, programIds: readonly number[]): Promise<Map<number, string | null>> {
    const out = new Map<number, string | null>();
    if (!programIds.length) return out;
    const structures = await this.context.programs.structures.get(executor, await programStructureVersions(executor, programIds));
    for (const st of structures) out.set(st.programId, st.compiled.minTimeRequired ?? null);
    return out;
  }

  /**
   * Recomputes effective assignments of some programs for a user range, set-based: one aggregate
   * query returns only learners whose rules now say something different from what their assignment
   * row recorded (so an unchanged site reads nothing back and writes nothing); their transitions are
   * decided here and written with one upsert per chunk. Exceptions are checked when an assignment is
   * created or its due date changes (DOMAIN 4.1) and hooks fire inside `trx`.
   */
  async recomputeEffective(trx: Knex.Transaction, programIds: readonly number[], scope: UserScope, now: number): Promise<SyncCounters> {
    const counters = emptyCounters();
    if (!programIds.length) return counters;
    const changed = await assignmentsDifferingFromRules(this.dialect, trx, programIds, scope);
    if (!changed.length) return counters;
    const touched = [...new Set(changed.map((r) => num(r.program_id)))];
    const minTimes = await this.minTimes(trx, touched);
    const thresholds = new Map(
      touched.map((id) => {
        const minTime = minTimes.get(id) ?? null;
        return [id, minTime ? addDuration(now, minTime) : now] as const;
      }),
    );

    const conflicting = await this.conflictingUsers(trx, touched, scope);
    const upserts: AssignmentRow[] = [];
    const raise: Array<{ programId: number; userId: number; type: ExceptionType; dueAt: number | null; route?: string }> = [];
    const closeExceptions: Array<{ id: number; resolution: string }> = [];
    const assigned = new Map<number, number[]>();
    const unassigned = new Map<number, number[]>();
    const recalc = new Map<number, number[]>();
    const push = (m: Map<number, number[]>, programId: number, userId: number) => {
      const list = m.get(programId);
      if (list) list.push(userId);
      else m.set(programId, [userId]);
    };

    for (const r of changed) {
      const programId = num(r.program_id);
      const userId = num(r.user_id);
      const threshold = thresholds.get(programId)!;
      // A learner who has completed the program owes nothing: their due date is frozen (until a new
      // cycle takes the completion away) and no time allowance can be too short.
      const completed = r.completion_status === 'complete';
      const accepted = numOrNull(r.accepted_due_at);
      const route = conflicting.get(`${programId}:${userId}`);
      const check = (due: number | null, unknown: boolean, acceptedDue: number | null = null, routeMatters = true): ExceptionType | null => {
        // DOMAIN 4.1 detection order: a conflicting route first, then an unknown date, then time.
        if (route !== undefined && routeMatters) return 'already_assigned';
        if (unknown) return 'completion_time_unknown';
        // The operator's decision stands: a due date at or after the one they accepted is not re-checked.
        if (due !== null && due < threshold && !completed && !(acceptedDue !== null && due >= acceptedDue)) return 'time_allowance';
        return null;
      };
      const status = r.status as AssignmentStatus | null;
      const liveException = r.exception_id !== null && (r.exception_status === 'open' || r.exception_status === 'dismissed');
      const base: AssignmentRow = {
        program_id: programId,
        user_id: userId,
        status: status ?? 'unassigned',
        due_at: numOrNull(r.due_at),
        rule_state: r.rule_state,
        rule_due_at: numOrNull(r.agg_due),
        assigned_at: numOrNull(r.assigned_at),
        exception_id: numOrNull(r.exception_id),
        accepted_due_at: accepted,
        created_at: now,
        updated_at: now,
      };
      if (r.rule_state === null || r.rule_state === 'future') {
        // No rule matches any more (unassigned; completion records stay), or only rules whose
        // event has not happened yet (future: not assigned until it does). Either ends the
        // assignment, and with it any time allowance an operator accepted.
        if (liveException) closeExceptions.push({ id: num(r.exception_id), resolution: 'unassigned' });
        if (status === 'active') push(unassigned, programId, userId);
        if (r.rule_state === null)
          upserts.push({ ...base, status: 'unassigned', exception_id: null, rule_state: null, rule_due_at: null, accepted_due_at: null });
        else upserts.push({ ...base, status: 'future', due_at: null, exception_id: null, accepted_due_at: null });
        continue;
      }
      const unknown = r.rule_state === 'unknown';
      const aggDue = numOrNull(r.agg_due);
      const oldDue = numOrNull(r.due_at);
      if (status !== 'active' && status !== 'exception') {
        // A new assignment (or re-assignment): its due date is what the rules say now, except that a
        // learner who completed the program keeps the due date they had.
        const frozen = completed && oldDue !== null;
        const due = frozen ? oldDue : unknown ? null : aggDue;
        const hit = check(due, unknown && !frozen);
        if (hit) {
          raise.push({ programId, userId, type: hit, dueAt: due, route });
          upserts.push({ ...base, status: 'exception', due_at: due, exception_id: null, accepted_due_at: null });
        } else {
          push(assigned, programId, userId);
          // Evaluated at once (issue 11): prior learning, or a program of optional sets only, completes now.
          push(recalc, programId, userId);
          upserts.push({ ...base, status: 'active', due_at: due, assigned_at: now, exception_id: null, accepted_due_at: null });
        }
        continue;
      }
      // Never earlier automatically: the later of what the learner has and what the rules say;
      // frozen once the learner has completed the program.
      const newDue = unknown || (completed && status === 'active') ? oldDue : later(oldDue, aggDue);
      const dueChanged = newDue !== oldDue;
      if (status === 'active') {
        if (dueChanged) {
          // A learner already assigned through the program's rules keeps them when another route
          // appears later: the conflict is raised for newcomers, and an operator's `assign` stands.
          const hit = check(newDue, false, accepted, false);
          if (hit) {
            raise.push({ programId, userId, type: hit, dueAt: newDue });
            push(unassigned, programId, userId);
            upserts.push({ ...base, status: 'exception', due_at: newDue, exception_id: null, accepted_due_at: null });
            continue;
          }
        }
        upserts.push({ ...base, due_at: newDue });
        continue;
      }
      // status === 'exception': re-checked when the due date changes (also after a dismissal).
      const recheck = liveException && (dueChanged || (r.exception_type === 'completion_time_unknown' && !unknown));
      if (!recheck) {
        upserts.push({ ...base, due_at: newDue });
        continue;
      }
      const hit = check(newDue, unknown);
      if (!hit) {
        closeExceptions.push({ id: num(r.exception_id), resolution: 'recheck' });
        push(assigned, programId, userId);
        push(recalc, programId, userId);
        upserts.push({ ...base, status: 'active', due_at: newDue, assigned_at: now, exception_id: null, accepted_due_at: null });
      } else if (hit === r.exception_type && r.exception_status === 'open') {
        upserts.push({ ...base, due_at: newDue });
      } else {
        closeExceptions.push({ id: num(r.exception_id), resolution: 'recheck' });
        raise.push({ programId, userId, type: hit, dueAt: newDue, route });
        upserts.push({ ...base, status: 'exception', due_at: newDue, exception_id: null, accepted_due_at: null });
      }
    }

    for (const resolution of new Set(closeExceptions.map((c) => c.resolution))) {
      const ids = closeExceptions.filter((c) => c.resolution === resolution).map((c) => c.id);
      await resolveExceptionsWith(trx, ids, resolution, now);
    }
    const raisedIds = new Map<string, number>();
    const raised = await insertOpenExceptions(
      trx,
      raise.map((x): NewException => ({
        program_id: x.programId,
        user_id: x.userId,
        type: x.type,
        status: 'open',
        raised_at: now,
        explanation: explain(x, now, minTimes.get(x.programId) ?? null),
      })),
    );
    for (const row of raised) raisedIds.set(`${num(row.program_id)}:${num(row.user_id)}`, num(row.id));
    if (raise.length) {
      for (const u of upserts) if (u.status === 'exception' && u.exception_id === null) u.exception_id = raisedIds.get(`${u.program_id}:${u.user_id}`) ?? null;
      counters.exceptionsRaised += raise.length;
    }
    await upsertAssignments(this.dialect, trx, upserts);
    counters.assignmentsWritten += upserts.length;
    for (const list of assigned.values()) counters.assigned += list.length;
    for (const list of unassigned.values()) counters.unassigned += list.length;

    const raisedByProgram = new Map<number, ExceptionsRaisedArgs['exceptions']>();
    for (const x of raise) {
      const exceptionId = raisedIds.get(`${x.programId}:${x.userId}`);
      if (exceptionId === undefined) continue;
      await this.context.hooks.within('onExceptionRaised', trx, { programId: x.programId, userId: x.userId, exceptionId, type: x.type });
      const list = raisedByProgram.get(x.programId) ?? [];
      list.push({ userId: x.userId, exceptionId, type: x.type });
      raisedByProgram.set(x.programId, list);
    }
    // Events carry the whole batch per program: a rule sync of N learners publishes about N / batch
    // events per program, never one per learner.
    for (const [programId, exceptions] of raisedByProgram) await this.context.hooks.publish('afterExceptionRaised', trx, { programId, exceptions });
    for (const [programId, userIds] of assigned) {
      await this.context.hooks.within('onProgramAssigned', trx, { programId, userIds });
      await this.context.hooks.publish('afterProgramAssigned', trx, { programId, userIds });
    }
    for (const [programId, userIds] of unassigned) {
      await this.context.hooks.within('onProgramUnassigned', trx, { programId, userIds });
      await this.context.hooks.publish('afterProgramUnassigned', trx, { programId, userIds });
    }
    // Completion last, so hooks hear "assigned" before "completed"; stamped with the assignment time.
    for (const [programId, userIds] of recalc) await this.recalculateCompletion(trx, programId, userIds, now, scope);
    return counters;
  }

  /**
   * Program completion for these learners, evaluated now, in `trx` (DOMAIN 3.2 and 4.1: an
   * assignment that starts or restarts is evaluated at once, and resolving an exception
   * recalculates immediately), with the programs module's evaluation and bulk upsert. Reads are
   * set-based: for a sync batch (`scope`) one statement each for the completions and the stored
   * state of the whole user range, otherwise per 300 learners. Only learners with a completion in
   * the program's courses or a stored record are evaluated, unless the program is complete from the
   * start (optional sets only), which completes everyone: at `now`, the assignment time.
   */
  async recalculateCompletion(
    trx: Knex.Transaction,
    programId: number,
    userIds: readonly number[],
    now = this.context.db.now(),
    scope?: UserScope,
  ): Promise<void> {
    const programs = this.context.programs;
    if (!userIds.length) return;
    const structure = await programs.structures.getOne(trx, programId);
    if (!structure) return;
    const fromStart = evaluateProgram(structure.compiled, new Map()).complete;
    // Timed sets get their dates when their group opens, the first group at assignment: everyone.
    const timed = hasTimedSets(structure.compiled);
    const ranged = scope !== undefined && userIds.length > RECALC_CHUNK;
    for (const part of ranged ? [userIds] : chunk(userIds, RECALC_CHUNK)) {
      const completions = new Map<number, Map<number, number>>();
      if (structure.courseIds.length) {
        const rows = ranged ? await courseCompletionsInRange(trx, structure.courseIds, scope) : await courseCompletionsOfUsers(trx, part, structure.courseIds);
        for (const row of rows) {
          const m = completions.get(num(row.user_id)) ?? new Map<number, number>();
          m.set(num(row.course_id), num(row.completed_at));
          completions.set(num(row.user_id), m);
        }
      }
      const state = ranged ? await loadStoredStateInRange(trx, programId, scope) : await loadStoredState(trx, [programId], part);
      // Everyone else has nothing complete and nothing stored: evaluating them would write nothing.
      const candidates =
        fromStart || timed
          ? part
          : part.filter((userId) => completions.has(userId) || state.programs.has(key(programId, userId)) || state.sets.has(key(programId, userId)));
      if (!candidates.length) continue;
      const assignedTimes = timed ? await activeAssignedTimes(trx, programId, candidates) : null;
      const events = await applyEvaluations(
        trx,
        candidates.map((userId) => ({
          userId,
          structure,
          evaluation: evaluateProgram(structure.compiled, completions.get(userId) ?? new Map()),
          program: state.programs.get(key(programId, userId)),
          sets: state.sets.get(key(programId, userId)) ?? new Map(),
          assignedAt: assignedTimes ? (assignedTimes.get(userId) ?? null) : undefined,
        })),
        now,
        this.context.timezone,
      );
      await programs.fireEvents(trx, events);
    }
  }

  /**
   * The safety net for programs complete from the start (optional sets only): learners actively
   * assigned without a complete completion, e.g. assigned before assignments were evaluated at
   * once, are evaluated now, 500 per transaction. Costs one indexed read for such a program and
   * nothing for any other; writes nothing when every assigned learner is complete.
   */
  async completeFromStart(programId: number): Promise<number> {
    const structure = await this.context.programs.structures.getOne(this.context.db.knex, programId);
    if (!structure || !evaluateProgram(structure.compiled, new Map()).complete) return 0;
    let after = 0;
    let evaluated = 0;
    for (;;) {
      const userIds = await activeWithoutCompletion(this.context.db.knex, programId, after, 500);
      if (!userIds.length) return evaluated;
      await this.context.db.transaction((trx) => this.recalculateCompletion(trx, programId, userIds));
      evaluated += userIds.length;
      after = userIds[userIds.length - 1]!;
    }
  }

  /** Membership rows per rule in the range: one index-only statement for all the rules. */
  private currentCounts(trx: Knex.Transaction, rules: readonly LoadedRule[], scope: UserScope): Promise<Map<number, number>> {
    return memberCountsInRange(
      trx,
      rules.map((r) => r.id),
      scope,
    );
  }

  /**
   * One program, one user range: every rule's set difference and due dates, then assignments.
   * Effective assignments are only ever written in the transaction that changes memberships (the
   * incremental sync runs in the change's transaction, so a failure leaves neither), so when no membership row
   * changed here they cannot need a change either and the aggregate is skipped; `verify` forces it.
   */
  async syncProgramScope(
    trx: Knex.Transaction,
    programId: number,
    rules: readonly LoadedRule[],
    scope: UserScope,
    options: { fullDue?: boolean; verify?: boolean } = {},
  ): Promise<SyncCounters> {
    const now = this.context.db.now();
    const counters = emptyCounters();
    const current = await this.currentCounts(trx, rules, scope);
    const count = (rule: LoadedRule): number => current.get(rule.id) ?? 0;
    // Each live rule's desired set is built once, for the combined statements and its own.
    const live = rules.filter((r) => r.deletedAt === null && this.source(r.source));
    const desired = new Map(live.map((r) => [r.id, this.desired(trx, r, this.source(r.source)!, scope)] as const));
    // Rules that list nobody in the range yet and whose due dates are final at insert (a batch of
    // new individual rules) get their members together: a statement per hundred rules, not per rule.
    const first = options.fullDue ? [] : live.filter((r) => count(r) === 0 && !this.readsEvent(r));
    const batched = new Set(first.length > 1 ? first.map((r) => r.id) : []);
    if (batched.size) {
      counters.membersInserted += await insertFirstMembers(
        trx,
        programId,
        first.map((r) => ({ ruleId: r.id, desired: desired.get(r.id)!, due: this.initialDue(r, now) })),
        now,
      );
    }
    // Rules that already list people here are compared with what they desire together too (the
    // reconcile of thousands of individual rules), so an unchanged one costs no statement of its own.
    // MariaDB only: a statement there is a round trip, while SQLite's per-rule statements are cached
    // and in process, and measured faster than the combined one.
    const listing = this.dialect === 'mysql' ? live.filter((r) => count(r) > 0) : [];
    const compared =
      listing.length > 1
        ? await compareManyWithMembers(
            trx,
            listing.map((r) => ({ ruleId: r.id, desired: desired.get(r.id)!, stale: this.staleDue(r) })),
          )
        : null;
    for (const rule of rules) {
      if (batched.has(rule.id)) continue;
      const known = { desired: desired.get(rule.id), compared: compared?.get(rule.id) };
      const { inserted, deleted, dueWork } = await this.syncRuleMembers(trx, rule, scope, now, count(rule), known);
      counters.membersInserted += inserted;
      counters.membersDeleted += deleted;
      if (dueWork || options.fullDue) counters.membersUpdated += await this.syncRuleDue(trx, rule, scope, options.fullDue ?? false);
    }
    if (!options.verify && totalWrites(counters) === 0) return counters;
    return addCounters(counters, await this.recomputeEffective(trx, [programId], scope, now));
  }

  /**
   * Which of these rules list the user as a member. Each rule's members query is filtered to the
   * one user, which the sources' indexes answer directly (sources must not DISTINCT, see
   * AssignmentSource.members), so the cost follows the number of rules, not their size.
   */
  private probe(trx: Knex.Transaction, rules: readonly LoadedRule[], userId: number): Promise<number[]> {
    return rulesListingUser(
      this.dialect,
      trx,
      rules.map((r) => ({ ruleId: r.id, members: () => this.source(r.source)!.members(r.instance, this.ctx(trx)) })),
      userId,
    );
  }

  /**
   * Incremental sync of the one user a change is about, inside the change's transaction: ask each
   * source which of its rules the change affects, evaluate only those rules for only this user (one
   * UNION query), apply the difference, refresh due dates whose event may have moved, and recompute
   * the user's assignment in the programs touched.
   */
  async syncUser(trx: Knex.Transaction, change: AssignmentChange): Promise<SyncCounters> {
    // No savepoint of its own: it runs as a `within` handler, so a failure here fails the whole
    // change (nothing of either is written) and a deadlock retries the whole transaction.
    const counters = emptyCounters();
    const userId = change.userId;
    const { rules, bySource, byId } = await this.rules.get(trx);
    if (!rules.length) return counters;
    const currentIds = new Set(await ruleIdsListingUser(trx, userId));

    const affected = new Set<number>();
    if (change.type === 'user' && (change.field === 'suspended' || change.field === 'deleted')) {
      // Leaving (or coming back): every rule the user is in, or could be in.
      for (const r of change.new ? currentIds : rules.map((x) => x.id)) affected.add(r);
    } else {
      for (const [type, list] of bySource) {
        const source = this.source(type);
        if (!source) continue;
        const ids = await source.affectedRules(change, list, this.ctx(trx));
        for (const id of ids) if (byId.has(id)) affected.add(id);
      }
    }

    const now = this.context.db.now();
    const touchedPrograms = new Set<number>();
    const dueRules = new Set<number>();
    if (affected.size) {
      const user = await userStanding(trx, userId);
      const active = !!user && !bool(user.suspended) && !bool(user.deleted);
      const desired = new Set<number>();
      const evaluable = [...affected].map((id) => byId.get(id)!).filter((r) => this.source(r.source));
      if (active && evaluable.length) {
        for (const id of await this.probe(trx, evaluable, userId)) desired.add(id);
      }
      const toInsert = evaluable.filter((r) => desired.has(r.id) && !currentIds.has(r.id));
      // A disabled source's rules stay as they are: nobody new, nobody removed.
      const toDelete = [...affected].filter((id) => currentIds.has(id) && !desired.has(id) && (!active || this.source(byId.get(id)!.source)));
      if (toInsert.length) {
        await insertMembers(
          trx,
          toInsert.map((r) => {
            const due = this.initialDue(r, now);
            return { program_id: r.programId, rule_id: r.id, user_id: userId, due_state: due.state, event_at: due.eventAt, due_at: due.dueAt, created_at: now };
          }),
        );
        counters.membersInserted += toInsert.length;
        for (const r of toInsert) {
          touchedPrograms.add(r.programId);
          if (this.readsEvent(r)) dueRules.add(r.id);
        }
      }
      if (toDelete.length) {
        counters.membersDeleted += await deleteUserMemberships(trx, userId, toDelete);
        for (const id of toDelete) touchedPrograms.add(byId.get(id)!.programId);
      }
    }
    // Due events that may have moved for this user (first login, a completion, a profile date...).
    for (const id of currentIds) {
      const r = byId.get(id);
      if (!r || r.dueKind !== 'relative' || dueRules.has(id)) continue;
      const event = this.event(r.source, r.dueEvent!);
      if (event && (event.affectedBy?.(change, r.dueInstanceId ?? undefined) ?? true)) dueRules.add(id);
    }
    const scope = { lo: userId, hi: userId };
    for (const id of dueRules) {
      const r = byId.get(id)!;
      const n = await this.syncRuleDue(trx, r, scope, false);
      counters.membersUpdated += n;
      if (n) touchedPrograms.add(r.programId);
    }
    addCounters(counters, await this.recomputeEffective(trx, [...touchedPrograms], scope, now));
    return counters;
  }

  /**
   * A batch of one audience's membership flips (a recompute batch, or its cascade), inside the
   * batch's transaction: the rules the flips may affect are re-synced for the batch's user-id range
   * with the rule job's set-based statements (one set difference per rule, one effective-assignment
   * pass per program), never learner by learner. Rules whose due-date event the flips may move get
   * their due dates re-read for the range, as `syncUser` does for one learner.
   */
  async syncAudienceBatch(trx: Knex.Transaction, batch: AudienceMembershipBatch): Promise<SyncCounters> {
    const counters = emptyCounters();
    const { rules, bySource, byId } = await this.rules.get(trx);
    if (!rules.length || (!batch.added.length && !batch.removed.length)) return counters;
    // The learner-level changes, for sources and due events that only answer those (in memory).
    const changes: AssignmentChange[] = [
      ...batch.added.map((userId): AssignmentChange => ({ type: 'audience_membership', userId, audienceId: batch.audienceId, member: true })),
      ...batch.removed.map((userId): AssignmentChange => ({ type: 'audience_membership', userId, audienceId: batch.audienceId, member: false })),
    ];
    const affected = new Set<number>();
    for (const [type, list] of bySource) {
      const source = this.source(type);
      if (!source) continue;
      const ids: number[] = [];
      if (source.affectedRulesInBatch) ids.push(...(await source.affectedRulesInBatch(batch, list, this.ctx(trx))));
      else for (const change of changes) ids.push(...(await source.affectedRules(change, list, this.ctx(trx))));
      for (const id of ids) if (byId.has(id)) affected.add(id);
    }
    const scope: UserScope = { lo: batch.range.lo, hi: batch.range.hi };
    const byProgram = new Map<number, LoadedRule[]>();
    for (const id of affected) {
      const rule = byId.get(id)!;
      const list = byProgram.get(rule.programId);
      if (list) list.push(rule);
      else byProgram.set(rule.programId, [rule]);
    }
    for (const [programId, list] of byProgram) addCounters(counters, await this.syncProgramScope(trx, programId, list, scope));

    // None of the core due-date events moves with an audience; a plugin's event may.
    const touched = new Set<number>();
    for (const rule of rules) {
      if (affected.has(rule.id) || rule.dueKind !== 'relative' || !this.source(rule.source)) continue;
      const event = this.event(rule.source, rule.dueEvent!);
      if (!event) continue;
      const moves = event.affectedBy ? changes.some((change) => event.affectedBy!(change, rule.dueInstanceId ?? undefined)) : true;
      if (!moves) continue;
      const n = await this.syncRuleDue(trx, rule, scope, false);
      counters.membersUpdated += n;
      if (n) touched.add(rule.programId);
    }
    if (touched.size) addCounters(counters, await this.recomputeEffective(trx, [...touched], scope, this.context.db.now()));
    return counters;
  }
}

export type AssignmentStatus = 'active' | 'future' | 'exception' | 'unassigned';

function later(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.max(a, b);
}

/** "2 weeks", "1 month 3 days": operator-facing text for an ISO duration. */
export function humanDuration(iso: string): string {
  const d = parseDuration(iso);
  if (!d) return iso;
  const o = d.toObject();
  const parts: string[] = [];
  const units: Array<[keyof typeof o, string]> = [
    ['years', 'year'],
    ['months', 'month'],
    ['weeks', 'week'],
    ['days', 'day'],
    ['hours', 'hour'],
    ['minutes', 'minute'],
    ['seconds', 'second'],
  ];
  for (const [k, name] of units) {
    const v = o[k];
    if (typeof v === 'number' && v > 0) parts.push(`${v} ${name}${v === 1 ? '' : 's'}`);
  }
  return parts.join(' ') || iso;
}

function explain({ type, dueAt, route }: { type: ExceptionType; dueAt: number | null; route?: string }, now: number, minTime: string | null): string {
  if (type === 'completion_time_unknown') {
    return 'The due date is relative to an event that has no date for this learner (for example an empty profile date, a course not completed, or no job assignment with that position), so the time to complete is unknown.';
  }
  if (type === 'already_assigned') {
    return `The learner already has this program through another route (${route ?? 'unnamed'}). Assign to let the program's assignment take over; dismiss to leave it to that route.`;
  }
  const need = minTime ? humanDuration(minTime) : 'no minimum time';
  const due = dueAt === null ? 'unknown' : new Date(dueAt).toISOString().slice(0, 10);
  if (dueAt !== null && dueAt < now) return `The due date ${due} is in the past; the program needs at least ${need}.`;
  const days = dueAt === null ? 0 : Math.floor((dueAt - now) / 86_400_000);
  return `The due date ${due} leaves ${days} day${days === 1 ? '' : 's'}, but the program needs at least ${need}.`;
}
