import type { Knex } from 'knex';
import type { Executor } from '../../kernel/db/database';
import type { ErrorDetail } from '../../kernel/errors';
import type { AssignmentChange, AudienceMembershipBatch } from '../people/index';
import type { JsonSchema } from '../../kernel/http/routes';

/**
 * The assignment-source extension point. A source says WHO a rule instance means, as SQL, and which
 * changes can alter that; the core owns every write (memberships, assignments, exceptions), diffs
 * desired against current members in the database, and runs bulk work as background jobs.
 *
 * A rule's instance is the REST body's `instanceId`, `includeChildren` and any extra properties the
 * source's `instanceSchema` allows (e.g. `values` for a profile-field source).
 */
export interface AssignmentSource<Instance extends RuleInstance = RuleInstance> {
  /** The `source` value in POST /programs/{id}/assignments, e.g. `audience`. Unique site-wide. */
  type: string;
  /** Operator-facing name, e.g. "Audience". */
  name: string;
  /** JSON Schema of the instance (validated with Ajv before anything is written). */
  instanceSchema: JsonSchema;
  /**
   * The `pickers` key of the kind of thing `instanceId` names (`users`, `audiences`, `managers`), so
   * the rule form offers it by name (docs/admin-pages.md). Absent: a picker contributed under the
   * source's own `type`, if any (see `instancePicker`).
   */
  picker?: string;
  /** Checks that referenced things exist; each problem becomes a 422 detail. Optional. */
  validate?(instance: Instance, ctx: SourceContext): Promise<ErrorDetail[]>;
  /** "Members of audience Support Analysts", "Position Analyst and all below". */
  describe(instance: Instance, ctx: SourceContext): Promise<string>;
  /**
   * The member user ids of the instance as a subquery selecting one column named `user_id`. The
   * core adds its own filters (active users, batches, one user) around it, so it must not apply
   * LIMIT/ORDER BY. It must be set-based SQL: it runs for 100,000 users at once.
   */
  members(instance: Instance, ctx: SourceContext): Knex.QueryBuilder;
  /**
   * Which of this source's rules a change may affect (for incremental sync of that one user).
   * Return the affected rule ids, or `[]` when the change is irrelevant. Called inside the
   * transaction that made the change; must be cheap (one indexed query at most).
   */
  affectedRules(change: AssignmentChange, rules: ReadonlyArray<SourceRule<Instance>>, ctx: SourceContext): Promise<number[]> | number[];
  /**
   * Which of this source's rules a batch of audience membership flips may affect (a recompute of a
   * dynamic audience); the core then re-syncs those rules for the batch's user-id range with
   * set-based statements. Optional: without it, `affectedRules` is asked once per flipped learner,
   * which costs nothing for a source that ignores audience changes before querying.
   */
  affectedRulesInBatch?(batch: AudienceMembershipBatch, rules: ReadonlyArray<SourceRule<Instance>>, ctx: SourceContext): Promise<number[]> | number[];
  /** Extra due-date events this source offers ("within P1M of <event>"). Optional. */
  dueEvents?: Record<string, DueDateEvent>;
  /**
   * Report users who already have the program through a conflicting route (raises `already_assigned`).
   * Returns a subquery of user ids or null. Optional. A route that is not itself an assignment
   * source (a learning plan) contributes to `assignmentConflicts` instead.
   */
  conflicts?(programId: number, instance: Instance, ctx: SourceContext): Knex.QueryBuilder | null;
}

/**
 * Another route by which a learner may already have a program: a learning plan, an HR system's own
 * enrolment. Whenever sync is about to assign a learner a program, through any rule, a learner this
 * route reports gets an `already_assigned` exception instead (DOMAIN 4.1), and an operator decides
 * which route stands: `assign` lets the program's rules take over, `dismiss` leaves it to the route.
 */
export interface AssignmentConflict {
  /** The route in words, for the exception's explanation: "learning plan". */
  route: string;
  /**
   * The learners who hold any of these programs through this route, as a subquery selecting
   * `program_id` and `user_id`. Set-based: it runs once per sync batch, narrowed by the core to the
   * batch's users, so it must not apply LIMIT/ORDER BY.
   */
  holders(programIds: readonly number[], ctx: SourceContext): Knex.QueryBuilder;
}

/** Every instance has these; sources add their own properties. */
export interface RuleInstance {
  instanceId: number;
  includeChildren?: boolean;
  [extra: string]: unknown;
}

export interface SourceRule<Instance extends RuleInstance = RuleInstance> {
  id: number;
  programId: number;
  instance: Instance;
}

/**
 * What a source is handed per call: the executor of the current unit of work (query only through it:
 * on SQLite a second connection would wait on this transaction). Services a source needs come from
 * its plugin's declared `deps`, captured when the source is created in register().
 */
export interface SourceContext {
  db: Executor;
}

/**
 * A due-date event ("first login", "completion of course X"): the time the event happened for each
 * user, as a subquery selecting `user_id` and `event_at` (epoch ms, NULL when it has not happened).
 */
export interface DueDateEvent {
  /** Operator-facing label: "first login", "completion of course {instance}". */
  label: string;
  /** Whether the event needs `instanceId` (course, program, profile field). */
  needsInstance: boolean;
  /** The `pickers` key of what `instanceId` names (`courses`), for the rule form; as {@link AssignmentSource.picker}. */
  picker?: string;
  /**
   * JSON Schema of the event's fields in a rule's `due` (today `instanceId`), annotated for the
   * generated rule form (`title`, `x-picker`; docs/assignment-sources.md). Checked with Ajv when a
   * rule is saved. Absent: derived from `needsInstance` and `picker` (see `dueEventSchema`).
   */
  instanceSchema?: JsonSchema;
  /** Checks the instance exists; problems become 422 details. */
  validate?(instanceId: number | undefined, ctx: SourceContext): Promise<ErrorDetail[]>;
  describe?(instanceId: number | undefined, ctx: SourceContext): Promise<string>;
  /** `users` is a subquery of user ids; returns rows (user_id, event_at) for those users. */
  eventTimes(users: Knex.QueryBuilder, instanceId: number | undefined, ctx: SourceContext): Knex.QueryBuilder;
  /**
   * What a missing event time means. `future` (e.g. first login): the event will happen, so the
   * learner gets a future assignment that activates when it does. `unknown` (default; e.g. an empty
   * profile date): raise a `completion_time_unknown` exception.
   */
  whenMissing?: 'future' | 'unknown';
  /**
   * Whether a change may move this event's time for the changed user (incremental sync re-reads
   * the event time of rules using it). Default: any change may.
   */
  affectedBy?(change: AssignmentChange, instanceId: number | undefined): boolean;
}

/** A rule's due-date setting, as in the REST body's `due`. */
export type DueRule = null | { date: string } | { within: string; event: string; instanceId?: number };

declare module '../../kernel/extensions' {
  interface ExtensionPointMap {
    assignmentSources: AssignmentSource;
    dueDateEvents: DueDateEvent;
    assignmentConflicts: AssignmentConflict;
  }
}
