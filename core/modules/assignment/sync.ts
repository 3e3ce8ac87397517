import type { Knex } from 'knex';
import type { AssignmentSite } from './site';
import type { Executor } from '../../kernel/db/database';
import type { AssignmentChange } from '../people/index';
import type { ExceptionsRaisedArgs } from './hooks';
import { addDuration, parseDuration, evaluateProgram, applyEvaluations, key, loadStoredState } from '../programs/index';
import { ASSIGNMENT_DATE_EVENT } from './events';
import type { AssignmentSource, DueDateEvent, RuleInstance, SourceContext } from './types';
import { chunk, nullSafeDistinct, placeholders, queryRows, runStatement, sqlOf, updateById, upsertRows, type StatementBinding } from '../../kernel/db/sql';
import { num, numOrNull } from '../../kernel/db/values';
import { bool } from '../../kernel/db/values';

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

interface RuleRow {
  id: number;
  program_id: number;
  source: string;
  instance: string;
  due_kind: LoadedRule['dueKind'];
  due_date: number | null;
  due_within: string | null;
  due_event: string | null;
  due_instance_id: number | null;
  version: number;
  deleted_at: number | null;
  created_at: number;
  updated_at: number;
}

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
    const [sig] = await queryRows<{ n: number; m: number | null; u: number | null }>(
      executor,
      'SELECT COUNT(*) AS n, MAX(id) AS m, MAX(updated_at) AS u FROM program_assignment_rules WHERE deleted_at IS NULL',
    );
    const signature = `${sig?.n}:${sig?.m}:${sig?.u}`;
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

export async function loadRules(executor: Executor, where: { programId?: number; ruleId?: number; includeDeleted?: boolean } = {}): Promise<LoadedRule[]> {
  const qb = executor('program_assignment_rules').select('*').orderBy('id');
  if (where.programId !== undefined) qb.where('program_id', where.programId);
  if (where.ruleId !== undefined) qb.where('id', where.ruleId);
  if (!where.includeDeleted) qb.whereNull('deleted_at');
  return ((await qb) as RuleRow[]).map(toRule);
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

/** The engine: membership set differences, due dates, effective assignments and exceptions. */
export class AssignmentSync {
  private readonly rules = new RuleCache();

  constructor(private readonly site: AssignmentSite) {}

  private get dialect() {
    return this.site.db.dialect;
  }

  ctx(executor: Executor): SourceContext {
    return { db: executor };
  }

  /** The source contribution of a rule, or undefined when its plugin is disabled or gone. */
  source(type: string): AssignmentSource | undefined {
    return this.site.extensions.get('assignmentSources', type)?.value;
  }

  /** A due-date event by name: the rule's source may add its own, else the registry's. */
  event(sourceType: string, name: string): DueDateEvent | undefined {
    return this.source(sourceType)?.dueEvents?.[name] ?? this.site.extensions.get('dueDateEvents', name)?.value;
  }

  /** Desired members of a rule within a scope: active users only, distinct. */
  private desired(trx: Knex.Transaction, rule: LoadedRule, source: AssignmentSource, scope: UserScope): Knex.QueryBuilder {
    return trx
      .from(source.members(rule.instance, this.ctx(trx)).as('s'))
      .join('users as u', 'u.id', 's.user_id')
      .where('u.suspended', false)
      .where('u.deleted', false)
      .whereBetween('s.user_id', [scope.lo, scope.hi])
      .distinct('s.user_id');
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
  private staleDue(rule: LoadedRule): { sql: string; bindings: StatementBinding[] } | null {
    if (this.readsEvent(rule)) return null;
    if (rule.dueKind === 'relative') return { sql: "m.due_state = 'new'", bindings: [] };
    return { sql: `m.due_state <> 'known' OR ${nullSafeDistinct(this.dialect, 'm.due_at', '?')} OR m.event_at IS NOT NULL`, bindings: [rule.dueDate] };
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
  ): Promise<{ inserted: number; deleted: number; dueWork: boolean }> {
    if (rule.deletedAt !== null) {
      const deleted = await runStatement(trx, 'DELETE FROM program_rule_members WHERE rule_id = ? AND user_id BETWEEN ? AND ?', [rule.id, scope.lo, scope.hi]);
      return { inserted: 0, deleted, dueWork: false };
    }
    const source = this.source(rule.source);
    if (!source) return { inserted: 0, deleted: 0, dueWork: false };
    const d = sqlOf(this.desired(trx, rule, source, scope));
    const due = this.initialDue(rule, now);
    let needInsert = true;
    let needDelete = false;
    let stale = 0;
    if (currentCount > 0) {
      // One pass over the desired set says which side of the difference is non-empty and whether
      // kept rows carry a stale due date, so an unchanged rule costs one evaluation of its members.
      const staleDue = this.staleDue(rule);
      const [m] = await queryRows<{ desired: number; matched: number; stale?: number }>(
        trx,
        `SELECT COUNT(*) AS desired, COUNT(m.user_id) AS matched${staleDue ? `, COUNT(CASE WHEN ${staleDue.sql} THEN 1 END) AS stale` : ''}
         FROM (${d.sql}) d LEFT JOIN program_rule_members m ON m.rule_id = ? AND m.user_id = d.user_id`,
        [...(staleDue?.bindings ?? []), ...d.bindings, rule.id],
      );
      needInsert = num(m?.desired ?? 0) > num(m?.matched ?? 0);
      needDelete = currentCount > num(m?.matched ?? 0);
      stale = num(m?.stale ?? 0);
    }
    // With no current rows in the range (a first sync) every desired user is new: no per-row probe.
    const inserted = needInsert
      ? await runStatement(
          trx,
          `INSERT INTO program_rule_members (program_id, rule_id, user_id, due_state, event_at, due_at, created_at)
           SELECT ?, ?, d.user_id, ?, ?, ?, ? FROM (${d.sql}) d${
             currentCount > 0 ? ' WHERE NOT EXISTS (SELECT 1 FROM program_rule_members m WHERE m.rule_id = ? AND m.user_id = d.user_id)' : ''
           }`,
          [rule.programId, rule.id, due.state, due.eventAt, due.dueAt, now, ...d.bindings, ...(currentCount > 0 ? [rule.id] : [])],
        )
      : 0;
    // MariaDB runs `NOT IN (subquery)` in a single-table DELETE as a dependent subquery; the
    // multi-table form joins against the desired set materialised once.
    const deleteSql =
      this.dialect === 'mysql'
        ? `DELETE m FROM program_rule_members m LEFT JOIN (${d.sql}) d ON d.user_id = m.user_id
           WHERE m.rule_id = ? AND m.user_id BETWEEN ? AND ? AND d.user_id IS NULL`
        : `DELETE FROM program_rule_members WHERE rule_id = ? AND user_id BETWEEN ? AND ? AND user_id NOT IN (${d.sql})`;
    const deleteBindings = this.dialect === 'mysql' ? [...d.bindings, rule.id, scope.lo, scope.hi] : [rule.id, scope.lo, scope.hi, ...d.bindings];
    const deleted = needDelete ? await runStatement(trx, deleteSql, deleteBindings) : 0;
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
    if (rule.dueKind !== 'relative') {
      const stale = this.staleDue(rule)!;
      return runStatement(
        trx,
        `UPDATE program_rule_members AS m SET due_state = 'known', event_at = NULL, due_at = ?
         WHERE m.rule_id = ? AND m.user_id BETWEEN ? AND ? AND (${stale.sql})`,
        [rule.dueDate, rule.id, scope.lo, scope.hi, ...stale.bindings],
      );
    }
    const within = rule.dueWithin!;
    const eventName = rule.dueEvent!;
    const event = this.event(rule.source, eventName);
    const changedFilter = full ? '' : ` AND (m.due_state = 'new' OR ${nullSafeDistinct(this.dialect, 'm.event_at', 'e.event_at')})`;
    let found: Array<{ id: number; due_state: string; event_at: number | null; due_at: number | null; created_at: number; new_event: number | null }>;
    if (eventName === ASSIGNMENT_DATE_EVENT) {
      found = await queryRows(
        trx,
        `SELECT m.id, m.due_state, m.event_at, m.due_at, m.created_at, m.created_at AS new_event FROM program_rule_members m
         WHERE m.rule_id = ? AND m.user_id BETWEEN ? AND ?${full ? '' : " AND m.due_state = 'new'"}`,
        [rule.id, scope.lo, scope.hi],
      );
    } else if (!event) {
      // The event's plugin is gone: keep the dates computed while it was there; new rows wait.
      return 0;
    } else {
      const users = trx('program_rule_members').select('user_id').where('rule_id', rule.id).whereBetween('user_id', [scope.lo, scope.hi]);
      const e = sqlOf(event.eventTimes(users, rule.dueInstanceId ?? undefined, this.ctx(trx)));
      found = await queryRows(
        trx,
        `SELECT m.id, m.due_state, m.event_at, m.due_at, m.created_at, e.event_at AS new_event
         FROM program_rule_members m LEFT JOIN (${e.sql}) e ON e.user_id = m.user_id
         WHERE m.rule_id = ? AND m.user_id BETWEEN ? AND ?${changedFilter}`,
        [...e.bindings, rule.id, scope.lo, scope.hi],
      );
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
    return updateById(trx, this.dialect, 'program_rule_members', ['due_state', 'event_at', 'due_at'], updates);
  }

  /**
   * Learners of these programs (within the scope) whom a source reports as already having the
   * program through a conflicting route (`AssignmentSource.conflicts`), as `programId:userId` keys.
   * One query per rule whose source reports conflicts; none for sources that do not.
   */
  async conflictingUsers(executor: Executor, programIds: readonly number[], scope: UserScope): Promise<Set<string>> {
    const out = new Set<string>();
    // Most sites have no source that reports conflicts: then this costs nothing, not even the rule-cache check.
    if (!this.site.extensions.list('assignmentSources').some((c) => c.value.conflicts)) return out;
    const { rules } = await this.rules.get(executor);
    const wanted = new Set(programIds);
    for (const rule of rules) {
      if (!wanted.has(rule.programId) || rule.deletedAt !== null) continue;
      const source = this.source(rule.source);
      const conflicts = source?.conflicts?.(rule.programId, rule.instance, this.ctx(executor));
      if (!conflicts) continue;
      const found = (await executor.from(conflicts.as('c')).whereBetween('c.user_id', [scope.lo, scope.hi]).distinct('c.user_id')) as Array<{
        user_id: number;
      }>;
      for (const row of found) out.add(`${rule.programId}:${num(row.user_id)}`);
    }
    return out;
  }

  /** Program minimum times (ISO or null) for several programs: one query when structures are cached. */
  async minTimes(executor: Executor, programIds: readonly number[]): Promise<Map<number, string | null>> {
    const out = new Map<number, string | null>();
    if (!programIds.length) return out;
    const versions = await queryRows<{ id: number; structure_version: number }>(
      executor,
      `SELECT id, structure_version FROM programs WHERE id IN (${placeholders(programIds.length)})`,
      [...programIds],
    );
    const structures = await this.site.programs.structures.get(
      executor,
      versions.map((v) => ({ id: num(v.id), version: num(v.structure_version) })),
    );
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
    const diff = nullSafeDistinct(this.dialect, 'p.rule_due_at', 'a.agg_due');
    const inList = placeholders(programIds.length);
    const changed = await queryRows<DiffRow>(
      trx,
      `SELECT a.program_id, a.user_id, a.rule_state, a.agg_due, p.id AS pid, p.status, p.due_at, p.rule_state AS old_state, p.assigned_at, p.exception_id,
              e.status AS exception_status, e.type AS exception_type
       FROM (SELECT x.program_id, x.user_id, CASE WHEN x.has_known = 1 THEN 'known' WHEN x.has_unknown = 1 THEN 'unknown' ELSE 'future' END AS rule_state, x.agg_due
             FROM (SELECT m.program_id, m.user_id,
                          MAX(CASE WHEN m.due_state = 'known' THEN 1 ELSE 0 END) AS has_known,
                          MAX(CASE WHEN m.due_state = 'unknown' THEN 1 ELSE 0 END) AS has_unknown,
                          MAX(CASE WHEN m.due_state = 'known' THEN m.due_at ELSE NULL END) AS agg_due
                   FROM program_rule_members m WHERE m.program_id IN (${inList}) AND m.user_id BETWEEN ? AND ? GROUP BY m.program_id, m.user_id) x) a
       LEFT JOIN program_user_assignments p ON p.program_id = a.program_id AND p.user_id = a.user_id
       LEFT JOIN program_exceptions e ON e.id = p.exception_id
       WHERE p.id IS NULL OR p.rule_state IS NULL OR p.rule_state <> a.rule_state OR ${diff}
       UNION ALL
       SELECT p.program_id, p.user_id, NULL, NULL, p.id, p.status, p.due_at, p.rule_state, p.assigned_at, p.exception_id, e.status, e.type
       FROM program_user_assignments p LEFT JOIN program_exceptions e ON e.id = p.exception_id
       WHERE p.program_id IN (${inList}) AND p.user_id BETWEEN ? AND ? AND p.rule_state IS NOT NULL
         AND NOT EXISTS (SELECT 1 FROM program_rule_members m WHERE m.program_id = p.program_id AND m.user_id = p.user_id)`,
      [...programIds, scope.lo, scope.hi, ...programIds, scope.lo, scope.hi],
    );
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
    const raise: Array<{ programId: number; userId: number; type: ExceptionType; dueAt: number | null }> = [];
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
      const check = (due: number | null, unknown: boolean): ExceptionType | null => {
        // DOMAIN 4.1 detection order: a conflicting route first, then an unknown date, then time.
        if (conflicting.has(`${programId}:${userId}`)) return 'already_assigned';
        if (unknown) return 'completion_time_unknown';
        if (due !== null && due < threshold) return 'time_allowance';
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
        created_at: now,
        updated_at: now,
      };
      if (r.rule_state === null || r.rule_state === 'future') {
        // No rule matches any more (unassigned; completion records stay), or only rules whose
        // event has not happened yet (future: not assigned until it does).
        if (liveException) closeExceptions.push({ id: num(r.exception_id), resolution: 'unassigned' });
        if (status === 'active') push(unassigned, programId, userId);
        if (r.rule_state === null) upserts.push({ ...base, status: 'unassigned', exception_id: null, rule_state: null, rule_due_at: null });
        else upserts.push({ ...base, status: 'future', due_at: null, exception_id: null });
        continue;
      }
      const unknown = r.rule_state === 'unknown';
      const aggDue = numOrNull(r.agg_due);
      if (status !== 'active' && status !== 'exception') {
        // A new assignment (or re-assignment): its due date is what the rules say now.
        const due = unknown ? null : aggDue;
        const hit = check(due, unknown);
        if (hit) {
          raise.push({ programId, userId, type: hit, dueAt: due });
          upserts.push({ ...base, status: 'exception', due_at: due, exception_id: null });
        } else {
          push(assigned, programId, userId);
          upserts.push({ ...base, status: 'active', due_at: due, assigned_at: now, exception_id: null });
        }
        continue;
      }
      const oldDue = numOrNull(r.due_at);
      // Never earlier automatically: the later of what the learner has and what the rules say.
      const newDue = unknown ? oldDue : later(oldDue, aggDue);
      const dueChanged = newDue !== oldDue;
      if (status === 'active') {
        if (dueChanged) {
          const hit = check(newDue, false);
          if (hit) {
            raise.push({ programId, userId, type: hit, dueAt: newDue });
            push(unassigned, programId, userId);
            upserts.push({ ...base, status: 'exception', due_at: newDue, exception_id: null });
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
        upserts.push({ ...base, status: 'active', due_at: newDue, assigned_at: now, exception_id: null });
      } else if (hit === r.exception_type && r.exception_status === 'open') {
        upserts.push({ ...base, due_at: newDue });
      } else {
        closeExceptions.push({ id: num(r.exception_id), resolution: 'recheck' });
        raise.push({ programId, userId, type: hit, dueAt: newDue });
        upserts.push({ ...base, status: 'exception', due_at: newDue, exception_id: null });
      }
    }

    for (const resolution of new Set(closeExceptions.map((c) => c.resolution))) {
      const ids = closeExceptions.filter((c) => c.resolution === resolution).map((c) => c.id);
      for (const part of chunk(ids, 500)) {
        await runStatement(
          trx,
          `UPDATE program_exceptions SET status = 'resolved', resolution = ?, resolved_at = ? WHERE id IN (${placeholders(part.length)})`,
          [resolution, now, ...part],
        );
      }
    }
    const raisedIds = new Map<string, number>();
    for (const part of chunk(raise, 300)) {
      await trx('program_exceptions').insert(
        part.map((x) => ({
          program_id: x.programId,
          user_id: x.userId,
          type: x.type,
          status: 'open',
          raised_at: now,
          explanation: explain(x.type, x.dueAt, now, minTimes.get(x.programId) ?? null),
        })),
      );
      const ids = await queryRows<{ id: number; program_id: number; user_id: number }>(
        trx,
        `SELECT MAX(id) AS id, program_id, user_id FROM program_exceptions
         WHERE status = 'open' AND (${part.map(() => '(program_id = ? AND user_id = ?)').join(' OR ')}) GROUP BY program_id, user_id`,
        part.flatMap((x) => [x.programId, x.userId]),
      );
      for (const row of ids) raisedIds.set(`${num(row.program_id)}:${num(row.user_id)}`, num(row.id));
    }
    if (raise.length) {
      for (const u of upserts) if (u.status === 'exception' && u.exception_id === null) u.exception_id = raisedIds.get(`${u.program_id}:${u.user_id}`) ?? null;
      counters.exceptionsRaised += raise.length;
    }
    await upsertRows(
      trx,
      this.dialect,
      'program_user_assignments',
      ['program_id', 'user_id', 'status', 'due_at', 'rule_state', 'rule_due_at', 'assigned_at', 'exception_id', 'created_at', 'updated_at'],
      upserts as unknown as Array<Record<string, unknown>>,
      ['program_id', 'user_id'],
      ['status', 'due_at', 'rule_state', 'rule_due_at', 'assigned_at', 'exception_id', 'updated_at'],
    );
    counters.assignmentsWritten += upserts.length;
    for (const list of assigned.values()) counters.assigned += list.length;
    for (const list of unassigned.values()) counters.unassigned += list.length;

    for (const [programId, userIds] of recalc) await this.recalculateCompletion(trx, programId, userIds);
    const raisedByProgram = new Map<number, ExceptionsRaisedArgs['exceptions']>();
    for (const x of raise) {
      const exceptionId = raisedIds.get(`${x.programId}:${x.userId}`);
      if (exceptionId === undefined) continue;
      await this.site.hooks.within('onExceptionRaised', trx, { programId: x.programId, userId: x.userId, exceptionId, type: x.type });
      const list = raisedByProgram.get(x.programId) ?? [];
      list.push({ userId: x.userId, exceptionId, type: x.type });
      raisedByProgram.set(x.programId, list);
    }
    // Events carry the whole batch per program: a rule sync of N learners publishes about N / batch
    // events per program, never one per learner.
    for (const [programId, exceptions] of raisedByProgram) await this.site.hooks.publish('afterExceptionRaised', trx, { programId, exceptions });
    for (const [programId, userIds] of assigned) {
      await this.site.hooks.within('onProgramAssigned', trx, { programId, userIds });
      await this.site.hooks.publish('afterProgramAssigned', trx, { programId, userIds });
    }
    for (const [programId, userIds] of unassigned) {
      await this.site.hooks.within('onProgramUnassigned', trx, { programId, userIds });
      await this.site.hooks.publish('afterProgramUnassigned', trx, { programId, userIds });
    }
    return counters;
  }

  /**
   * Program completion for these learners, recalculated now (resolving an exception assigns the
   * learner at once; DOMAIN 4.1 "completion recalculated immediately").
   */
  async recalculateCompletion(trx: Knex.Transaction, programId: number, userIds: readonly number[]): Promise<void> {
    const programs = this.site.programs;
    const structure = await programs.structures.getOne(trx, programId);
    if (!structure || !userIds.length) return;
    for (const part of chunk(userIds, 300)) {
      const completions = new Map<number, Map<number, number>>();
      if (structure.courseIds.length) {
        for (const row of await queryRows<{ user_id: number; course_id: number; completed_at: number }>(
          trx,
          `SELECT user_id, course_id, completed_at FROM course_completions WHERE user_id IN (${placeholders(part.length)}) AND course_id IN (${placeholders(structure.courseIds.length)})`,
          [...part, ...structure.courseIds],
        )) {
          const m = completions.get(num(row.user_id)) ?? new Map<number, number>();
          m.set(num(row.course_id), num(row.completed_at));
          completions.set(num(row.user_id), m);
        }
      }
      const state = await loadStoredState(trx, [programId], part);
      const events = await applyEvaluations(
        trx,
        part.map((userId) => ({
          userId,
          structure,
          evaluation: evaluateProgram(structure.compiled, completions.get(userId) ?? new Map()),
          program: state.programs.get(key(programId, userId)),
          sets: state.sets.get(key(programId, userId)) ?? new Map(),
        })),
        this.site.db.now(),
      );
      await programs.fireEvents(trx, events);
    }
  }

  /** Membership rows per rule in the range: one index-only statement for all the rules. */
  private async currentCounts(trx: Knex.Transaction, rules: readonly LoadedRule[], scope: UserScope): Promise<Map<number, number>> {
    const out = new Map<number, number>();
    for (const part of chunk(rules, 500)) {
      const found = await queryRows<{ rule_id: number; n: number }>(
        trx,
        `SELECT rule_id, COUNT(*) AS n FROM program_rule_members WHERE rule_id IN (${placeholders(part.length)}) AND user_id BETWEEN ? AND ? GROUP BY rule_id`,
        [...part.map((r) => r.id), scope.lo, scope.hi],
      );
      for (const r of found) out.set(num(r.rule_id), num(r.n));
    }
    return out;
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
    const now = this.site.db.now();
    const counters = emptyCounters();
    const current = await this.currentCounts(trx, rules, scope);
    for (const rule of rules) {
      const { inserted, deleted, dueWork } = await this.syncRuleMembers(trx, rule, scope, now, current.get(rule.id) ?? 0);
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
  private async probe(trx: Knex.Transaction, rules: readonly LoadedRule[], userId: number): Promise<number[]> {
    const found: number[] = [];
    if (this.dialect === 'sqlite') {
      // In-process: one cached statement per rule shape (rules of a source share their SQL text),
      // no round trips to save by combining them.
      for (const r of rules) {
        const q = sqlOf(this.source(r.source)!.members(r.instance, this.ctx(trx)));
        const hit = await queryRows(trx, `SELECT 1 AS hit FROM (${q.sql}) s WHERE s.user_id = ? LIMIT 1`, [...q.bindings, userId]);
        if (hit.length) found.push(r.id);
      }
      return found;
    }
    // One round trip for up to 100 rules. `const IN (subquery)` lets MariaDB probe each members
    // query for this one user (IN-to-EXISTS through the user_id indexes).
    for (const part of chunk(rules, 100)) {
      const arms = part.map((r) => {
        const q = sqlOf(this.source(r.source)!.members(r.instance, this.ctx(trx)));
        return { sql: `SELECT ? AS rule_id FROM DUAL WHERE ? IN (${q.sql})`, bindings: [r.id, userId, ...q.bindings] };
      });
      const hits = await queryRows<{ rule_id: number }>(
        trx,
        arms.map((a) => a.sql).join(' UNION ALL '),
        arms.flatMap((a) => a.bindings),
      );
      for (const h of hits) found.push(num(h.rule_id));
    }
    return found;
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
    const current = await queryRows<{ rule_id: number }>(trx, 'SELECT rule_id FROM program_rule_members WHERE user_id = ?', [userId]);
    const currentIds = new Set(current.map((r) => num(r.rule_id)));

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

    const now = this.site.db.now();
    const touchedPrograms = new Set<number>();
    const dueRules = new Set<number>();
    if (affected.size) {
      const user = (await trx('users').where({ id: userId }).first('suspended', 'deleted')) as { suspended: unknown; deleted: unknown } | undefined;
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
        await trx('program_rule_members').insert(
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
        counters.membersDeleted += await runStatement(
          trx,
          `DELETE FROM program_rule_members WHERE user_id = ? AND rule_id IN (${placeholders(toDelete.length)})`,
          [userId, ...toDelete],
        );
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
}

export type AssignmentStatus = 'active' | 'future' | 'exception' | 'unassigned';

interface DiffRow {
  program_id: number;
  user_id: number;
  rule_state: 'known' | 'unknown' | 'future' | null;
  agg_due: number | null;
  pid: number | null;
  status: string | null;
  due_at: number | null;
  old_state: string | null;
  assigned_at: number | null;
  exception_id: number | null;
  exception_status: string | null;
  exception_type: string | null;
}

interface AssignmentRow {
  program_id: number;
  user_id: number;
  status: AssignmentStatus;
  due_at: number | null;
  rule_state: string | null;
  rule_due_at: number | null;
  assigned_at: number | null;
  exception_id: number | null;
  created_at: number;
  updated_at: number;
}

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

function explain(type: ExceptionType, dueAt: number | null, now: number, minTime: string | null): string {
  if (type === 'completion_time_unknown') {
    return 'The due date is relative to an event that has no date for this learner (for example an empty profile date, a course not completed, or no job assignment with that position), so the time to complete is unknown.';
  }
  if (type === 'already_assigned') return 'The learner already has this program through another route that conflicts with this assignment.';
  const need = minTime ? humanDuration(minTime) : 'no minimum time';
  const due = dueAt === null ? 'unknown' : new Date(dueAt).toISOString().slice(0, 10);
  if (dueAt !== null && dueAt < now) return `The due date ${due} is in the past; the program needs at least ${need}.`;
  const days = dueAt === null ? 0 : Math.floor((dueAt - now) / 86_400_000);
  return `The due date ${due} leaves ${days} day${days === 1 ? '' : 's'}, but the program needs at least ${need}.`;
}
