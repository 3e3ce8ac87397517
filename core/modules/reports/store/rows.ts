import type { Knex } from 'knex';
import type { Executor } from '../../../kernel/db/database';
import { assignmentViews } from '../../assignment/index';
import { learningViews } from '../../learning/index';
import { peopleViews } from '../../people/index';
import { programViews } from '../../programs/index';

/**
 * The built-in report sources' reads, composed from the owners' published views (the reports module
 * owns no table). Each returns the unordered, unpaged rows of a report as a Knex query; the reports
 * service adds order, position and limit (core/kernel/db/keyset.ts).
 */

/** Sorts "no due date" after every real one (epoch ms far beyond any date a person types). */
export const NO_DUE_DATE = 9_000_000_000_000_000;

/** The learner's due date as the learner pages show it: the assignment's, else the stored record's. */
const DUE = 'COALESCE(a.due_at, pc.due_at)';

/** Active assignments with learner, program and stored completion: one row per learner and program. */
export function assignmentRows(executor: Executor): Knex.QueryBuilder {
  return (
    executor(assignmentViews.programUserAssignments.as('a'))
      .join(peopleViews.users.as('u'), 'u.id', 'a.user_id')
      // An outer join (every assignment has its program: a foreign key) so that neither database puts
      // the few-row programs table first, which would stop an index on `a` giving a report's order.
      .leftJoin(programViews.programs.as('p'), 'p.id', 'a.program_id')
      .leftJoin(programViews.programCompletions.as('pc'), (j) => j.on('pc.program_id', '=', 'a.program_id').andOn('pc.user_id', '=', 'a.user_id'))
      .where('a.status', 'active')
      .select(assignmentColumns(executor, 'a.program_id'))
  );
}

/** The columns of a program completion row, over `a` (assignment), `u`, `p` and `pc`; the program id from `programId`. */
function assignmentColumns(executor: Executor, programId: string): Array<string | Knex.Raw> {
  return [
    'a.id as row_id',
    `${programId} as program_id`,
    'p.fullname as program_name',
    'u.id as user_id',
    'u.username',
    'u.fullname',
    'pc.status as completion_status',
    'pc.completed_at',
    executor.raw(`${DUE} AS due_at`),
    executor.raw(`COALESCE(${DUE}, ${NO_DUE_DATE}) AS due_key`),
  ];
}

/**
 * One program's active assignments driven from `users` in name order: the same rows and columns as
 * {@link assignmentRows} narrowed to the program, for reading a page by learner name. The outer query
 * is `users` alone (the program is a constant row, the assignment and completion record are outer
 * joins by their unique keys), and who is assigned is a correlated scalar subquery (the learner's
 * one assignment, by its unique key), which neither database turns into a join: so the
 * `users (fullname, id)` index (migration 0017) gives the order and the read stops after a page,
 * instead of sorting every assigned learner. (MariaDB turns an `EXISTS` into a semi-join and
 * materialises every assigned learner first: 0.3 s a page at 100,000.) `narrow` adds the filters
 * about the assignment (status, due window) inside the subquery, over its own `a` and `pc`.
 */
export function programAssignmentsByLearner(executor: Executor, programId: number, narrow: (assigned: Knex.QueryBuilder) => void): Knex.QueryBuilder {
  const assigned = executor(assignmentViews.programUserAssignments.as('a'))
    .leftJoin(programViews.programCompletions.as('pc'), (j) => j.on('pc.program_id', '=', 'a.program_id').andOn('pc.user_id', '=', 'a.user_id'))
    .whereRaw('a.user_id = u.id')
    .where('a.program_id', programId)
    .where('a.status', 'active')
    .select('a.id');
  narrow(assigned);
  return executor(peopleViews.users.as('u'))
    .join(programViews.programs.as('p'), (j) => j.on('p.id', '=', executor.raw('?', [programId])))
    .leftJoin(assignmentViews.programUserAssignments.as('a'), (j) => j.on('a.program_id', '=', 'p.id').andOn('a.user_id', '=', 'u.id'))
    .leftJoin(programViews.programCompletions.as('pc'), (j) => j.on('pc.program_id', '=', 'p.id').andOn('pc.user_id', '=', 'u.id'))
    .whereRaw('(?) IS NOT NULL', [assigned])
    .select(assignmentColumns(executor, 'p.id'));
}

/** Whether the program has more than `n` active assignments: one index range of at most n + 1 entries. */
export async function activeAssignmentsExceed(executor: Executor, programId: number, n: number): Promise<boolean> {
  const rows = (await executor(assignmentViews.programUserAssignments.as('a'))
    .where('a.program_id', programId)
    .where('a.status', 'active')
    .select('a.id')
    .limit(1)
    .offset(n)) as unknown[];
  return rows.length > 0;
}

/** Sort key of "by due date" (no due date last). */
export const dueKey = (executor: Executor): Knex.Raw => executor.raw(`COALESCE(${DUE}, ${NO_DUE_DATE})`);

/** A program completion status filter: complete, overdue (not complete, due before `now`) or in progress. */
export function whereAssignmentStatus(qb: Knex.QueryBuilder, status: 'complete' | 'overdue' | 'in_progress', now: number): Knex.QueryBuilder {
  if (status === 'complete') return qb.where('pc.status', 'complete');
  qb.where((w) => w.whereNull('pc.status').orWhere('pc.status', '<>', 'complete'));
  if (status === 'overdue') return qb.whereRaw(`${DUE} < ?`, [now]);
  return qb.where((w) => w.whereRaw(`${DUE} IS NULL`).orWhereRaw(`${DUE} >= ?`, [now]));
}

/** Assignment rows whose due date falls in [from, to] (either end open). */
export function whereDueBetween(qb: Knex.QueryBuilder, from: number | null, to: number | null): Knex.QueryBuilder {
  if (from !== null) qb.whereRaw(`${DUE} >= ?`, [from]);
  if (to !== null) qb.whereRaw(`${DUE} <= ?`, [to]);
  return qb;
}

/** Assignment exceptions with learner and program. */
export function exceptionRows(executor: Executor): Knex.QueryBuilder {
  return executor(assignmentViews.programExceptions.as('e'))
    .join(peopleViews.users.as('u'), 'u.id', 'e.user_id')
    .join(programViews.programs.as('p'), 'p.id', 'e.program_id')
    .select(
      'e.id as row_id',
      'e.program_id',
      'p.fullname as program_name',
      'e.user_id',
      'u.username',
      'u.fullname',
      'e.type',
      'e.status',
      'e.raised_at',
      'e.explanation',
    );
}

/** Course completions with learner and course. */
export function courseCompletionRows(executor: Executor): Knex.QueryBuilder {
  return executor(learningViews.courseCompletions.as('cc'))
    .join(peopleViews.users.as('u'), 'u.id', 'cc.user_id')
    .join(learningViews.courses.as('c'), 'c.id', 'cc.course_id')
    .select('cc.id as row_id', 'cc.course_id', 'c.fullname as course_name', 'cc.user_id', 'u.username', 'u.fullname', 'cc.completed_at', 'cc.source');
}

/** A subquery of the course ids of a program (any of its course sets). */
export function programCourseIds(executor: Executor, programId: number): Knex.QueryBuilder {
  return executor(programViews.programCourseSetCourses.as('sc'))
    .join(programViews.programCourseSets.as('s'), 's.id', 'sc.course_set_id')
    .where('s.program_id', programId)
    .select('sc.course_id');
}

/** A subquery of the users holding a job assignment at one of `nodeIds` (a subquery of organisation or position ids). */
export function usersAtNodes(executor: Executor, column: 'organisation_id' | 'position_id', nodeIds: Knex.QueryBuilder): Knex.QueryBuilder {
  return executor(peopleViews.jobAssignments.as('jn')).whereIn(`jn.${column}`, nodeIds).select('jn.user_id');
}

/** `%text%` for LIKE, with `%`, `_` and `!` matched literally ('!' escapes: a backslash would need doubling in MySQL string literals and not in SQLite's). */
const containsPattern = (text: string): string => `%${text.replace(/[!%_]/g, (c) => `!${c}`)}%`;

/**
 * Learners whose name or username contains `text`, tested on each row of the report's read. Both
 * databases' LIKE already ignores case (MariaDB's `_ci` collation; SQLite for ASCII, as LOWER did).
 * What a search costs when it matches too many users to list their ids (see {@link learnersMatching}).
 */
export function whereLearnerMatches(qb: Knex.QueryBuilder, text: string): Knex.QueryBuilder {
  const pattern = containsPattern(text);
  return qb.where((w) => w.whereRaw(`u.fullname LIKE ? ESCAPE '!'`, [pattern]).orWhereRaw(`u.username LIKE ? ESCAPE '!'`, [pattern]));
}

/**
 * The ids of the users whose name or username contains `text` (of a program's active learners when
 * `programId` is given), or null when more than `cap` do. No sort, stops after `cap` + 1 matches;
 * for a program the database drives from the smaller side (every user, each probed for the
 * program's assignment by its unique key, or the program's learners, each user by id): 40-80 ms
 * at 200,000 users on MariaDB, against 250-300 ms for testing the text on every learner of a
 * 100,000-learner program joined, sorted and paged. The report then reads only those learners.
 */
export async function learnersMatching(executor: Executor, text: string, cap: number, programId: number | null): Promise<number[] | null> {
  const pattern = containsPattern(text);
  const query = executor(peopleViews.users.as('u'))
    .where((w) => w.whereRaw(`u.fullname LIKE ? ESCAPE '!'`, [pattern]).orWhereRaw(`u.username LIKE ? ESCAPE '!'`, [pattern]))
    .limit(cap + 1)
    .select('u.id');
  if (programId !== null) {
    query.join(assignmentViews.programUserAssignments.as('a'), 'a.user_id', 'u.id').where('a.program_id', programId).where('a.status', 'active');
  }
  const rows = (await query) as Array<{ id: number }>;
  return rows.length > cap ? null : rows.map((r) => Number(r.id));
}

/**
 * One program's active assignments in due-date order (the assignment's due date, else the completion
 * record's, none last: {@link dueKey}), as three index ranges each read in order and cut at `limit`
 * rows past `from`, merged by the caller's ORDER BY: those with their own due date (migration 0027's
 * `(program_id, status, due_at, id)`), those with none anywhere (the same index's NULL range, by
 * id) and those whose date comes from the completion record (its `(program_id, due_at, user_id)`;
 * the engine writes none today). The single ORDER BY on the COALESCE could use no index: at 100,000
 * learners it sorted all of them for each page (280-610 ms on MariaDB). `build` makes each range's
 * query (the report's columns, filters and joins); the result selects `due_key` and `row_id`.
 */
export function dueOrderedBranches(
  executor: Executor,
  programId: number,
  build: () => Knex.QueryBuilder,
  position: { limit: number; from: readonly (string | number)[] | null; backward?: boolean },
  /** False when the filters only keep dated rows (overdue, a due window): the dateless range is skipped, not scanned for none. */
  undated = true,
): Knex.QueryBuilder {
  const backward = position.backward === true && position.from !== null;
  const dir = backward ? 'desc' : 'asc';
  const after = backward ? '<' : '>';
  const from = position.from ? { key: Number(position.from[0]), id: Number(position.from[1]) } : null;
  /** Rows past the cursor whose sort key is `key` (a column or, for a constant, null with `constant`). */
  const bound = (qb: Knex.QueryBuilder, key: string | null, constant: number): Knex.QueryBuilder => {
    if (!from) return qb;
    if (key === null) {
      // A constant key: every row when it lies past the cursor's, only ids past it when equal.
      if (constant === from.key) return qb.where('a.id', after, from.id);
      return (backward ? constant < from.key : constant > from.key) ? qb : qb.whereRaw('1 = 0');
    }
    return qb
      .where(key, `${after}=`, from.key)
      .where((w) => w.where(key, after, from.key).orWhere((eq) => eq.where(key, from.key).where('a.id', after, from.id)));
  };
  const own = bound(build().whereNotNull('a.due_at'), 'a.due_at', 0).orderBy([
    { column: 'a.due_at', order: dir },
    { column: 'a.id', order: dir },
  ]);
  const none = bound(build().whereNull('a.due_at').whereNull('pc.due_at'), null, NO_DUE_DATE).orderBy('a.id', dir);
  if (!undated) none.whereRaw('1 = 0');
  // Driven from the completion records that carry a date (an IN list, not the join's probe of every
  // dateless assignment), then sorted: they are few.
  const dated = executor(programViews.programCompletions.as('pd')).where('pd.program_id', programId).whereNotNull('pd.due_at').select('pd.user_id');
  if (from) dated.where('pd.due_at', `${after}=`, from.key);
  const recorded = bound(build().whereNull('a.due_at').whereIn('a.user_id', dated), 'pc.due_at', 0).orderBy([
    { column: 'pc.due_at', order: dir },
    { column: 'a.id', order: dir },
  ]);
  for (const branch of [own, none, recorded]) branch.limit(position.limit + 1);
  // Each range is a derived table (SQLite allows no ORDER BY or LIMIT on a compound's own members).
  return executor
    .select('*')
    .from(executor.raw('(SELECT * FROM ? AS d1 UNION ALL SELECT * FROM ? AS d2 UNION ALL SELECT * FROM ? AS d3) AS r', [own, none, recorded]));
}

/** A page of a manager's team (users below them in the management tree), by name; `direct` when they report to the manager. */
export function teamMembers(executor: Executor, managedUsers: Knex.QueryBuilder, managerUserId: number): Knex.QueryBuilder {
  const direct = executor(peopleViews.jobAssignments.as('jd'))
    .whereRaw('jd.user_id = u.id')
    .where('jd.manager_user_id', managerUserId)
    .select(executor.raw('1'));
  return executor(peopleViews.users.as('u'))
    .whereIn('u.id', managedUsers)
    .select('u.id', 'u.username', 'u.fullname', executor.raw(`CASE WHEN EXISTS (${direct.toQuery()}) THEN 1 ELSE 0 END AS direct`));
}

/**
 * Learners a program's rules match who are not on its learners page yet: waiting for the event their
 * due date counts from (`future`, such as a first sign-in) or held back by an open exception. Each
 * count reads the (program_id, status) index and stops at `cap`.
 */
export async function notYetAssignedCounts(executor: Executor, programId: number, cap: number): Promise<{ future: number; exception: number }> {
  const count = async (status: string): Promise<number> => {
    const matching = executor(assignmentViews.programUserAssignments.as('a'))
      .where({ 'a.program_id': programId, 'a.status': status })
      .select('a.id')
      .limit(cap);
    const row = (await executor.from(matching.as('m')).count({ n: '*' }).first()) as { n: number | string } | undefined;
    return Number(row?.n ?? 0);
  };
  return { future: await count('future'), exception: await count('exception') };
}
