import type { Knex } from 'knex';
import { DateTime } from 'luxon';
import { WaymarkError } from '../../kernel/errors';
import { parseDateInput } from '../../kernel/dates';
import { DateInput, Id } from '../../kernel/http/contract';
import type { JsonSchema } from '../../kernel/http/json-schema';
import { iso } from '../../kernel/db/sql';
import type { AudienceService, HierarchyService, JobAssignmentService, UserService } from '../people/index';
import type { ProgramsService } from '../programs/index';
import type { CoursesService } from '../learning/index';
import type { LearnerViewsService, ProgressColumns } from '../learner-views/index';
import type { ReportColumn, ReportFilters, ReportOrder, ReportQueryContext, ReportRow, ReportSource } from './types';
import {
  activeAssignmentsExceed,
  assignmentRows,
  courseCompletionRows,
  dueKey,
  dueOrderedBranches,
  exceptionRows,
  learnersMatching,
  programAssignmentsByLearner,
  programCourseIds,
  usersAtNodes,
  whereAssignmentStatus,
  whereDueBetween,
  whereLearnerMatches,
} from './store/rows';

/** What the built-in sources read through: the owners' services (subqueries, existence checks) and the learner's progress. */
export interface BuiltInSourceDeps {
  users: UserService;
  audiences: AudienceService;
  hierarchy: HierarchyService;
  jobAssignments: JobAssignmentService;
  programs: ProgramsService;
  courses: CoursesService;
  learnerViews: LearnerViewsService;
  /** The site's time zone: a due window's plain dates are days there. */
  timezone: string;
  /** For the raw sort expressions of the orders (SQL text only, run on whatever executor reads). */
  knex: Knex;
}

/** 400 naming a filter whose value is well-formed but unusable (names nothing, not a date). */
export function reportFilterInvalid(name: string, message: string): WaymarkError {
  return new WaymarkError('QUERY_INVALID', `Query is invalid: ${name} ${message}`, 400, [{ path: `/${name}`, code: 'filter', message }]);
}

const id = (description: string): JsonSchema => ({ ...Id, description });

/** The filters every learner-based report offers: who the learners are. */
const PEOPLE_FILTERS: Record<string, JsonSchema> = {
  audienceId: id('Only members of this audience'),
  organisationId: id('Only learners with a job assignment in this organisation or any below it'),
  positionId: id('Only learners with a job assignment in this position or any below it'),
  managerId: id("Only this user's team: their direct and indirect reports"),
  search: { type: 'string', minLength: 1, maxLength: 100, description: 'Only learners whose name or username contains this text' },
};

const DUE_WINDOW: Record<string, JsonSchema> = {
  dueFrom: { ...DateInput, description: 'Only due dates at or after this date (a plain date is from the start of that day, site time zone)' },
  dueTo: { ...DateInput, description: 'Only due dates at or before this date (a plain date is to the end of that day, site time zone)' },
};

const text = { type: 'string' } as const;
const nullableText = { type: ['string', 'null'] } as const;
const integer = { type: 'integer' } as const;
const nullableDate = { type: ['string', 'null'], format: 'date-time' } as const;

const LEARNER_COLUMNS: ReportColumn[] = [
  { key: 'userId', label: 'User id', schema: integer },
  { key: 'username', label: 'Username', schema: text },
  { key: 'learner', label: 'Learner', schema: text },
];

/** The cells of LEARNER_COLUMNS from a row that selected `user_id`, `username` and `fullname`. */
const learnerCells = (row: Record<string, unknown>) => ({ userId: Number(row.user_id), username: String(row.username), learner: String(row.fullname) });

const textOrNull = (value: unknown): string | null => (value === null || value === undefined ? null : String(value));

/**
 * Learner by name, then the learner's id, then `tieColumn` (what makes a learner's rows unique: the
 * program of an assignment, the row id otherwise). Over one program the tie is constant, so the
 * order is exactly the `users (fullname, id)` index: MariaDB walks it and stops after a page.
 */
const byLearner = (tieColumn: string, tieField: string): ReportOrder => ({
  name: 'learner',
  label: 'Learner name',
  keys: [
    { column: 'u.fullname', direction: 'asc' },
    { column: 'u.id', direction: 'asc' },
    { column: tieColumn, direction: 'asc' },
  ],
  fields: ['fullname', 'user_id', tieField],
});

/** The row id order of a source whose unique row id is `column`: what exports read in. */
const byRowId = (column: string, label: string): ReportOrder => ({ name: 'id', label, keys: [{ column, direction: 'asc' }], fields: ['row_id'] });

/**
 * From this many active learners up, a program's page by learner name is read from `users` in name
 * order (see `programAssignmentsByLearner`): at 100,000 learners on MariaDB that is a few ms against
 * 0.5-1 s for sorting them all, while below it sorting the learners costs less than walking users.
 */
const USERS_DRIVEN_FROM = 1000;
/**
 * A search matching at most this many users is read as that list of learners (each probed by the
 * report's unique key); a broader one is tested on the rows as they are read in order, where it
 * matches often enough to fill a page early (docs/decisions.md, "Report search and due order").
 */
const SEARCH_LIST_MAX = 2000;
/** What a source's `prepare` decided for one read. */
interface CompletionPlan {
  /** Read the page from `users` in name order. */
  byUsers?: boolean;
  /** The learners' progress inputs come as columns of the query (an export, or a page in its order). */
  progress?: ProgressColumns | null;
  /** The users the search matches, when they are few; null when they are too many to list. */
  searchIds?: number[] | null;
}
const planOf = (context: ReportQueryContext): CompletionPlan | null => (context.prepared as CompletionPlan | null | undefined) ?? null;
const searchText = (filters: ReportFilters): string | null =>
  typeof filters.search === 'string' && filters.search.trim() !== '' ? filters.search.trim() : null;

/** The four built-in report sources, keyed by their public names. */
export function builtInReportSources(deps: BuiltInSourceDeps): Record<string, ReportSource> {
  const num = (value: unknown): number | null => (typeof value === 'number' ? value : null);

  /** Narrows learner rows (user id in `userColumn`) by the people filters. */
  function peopleFilters(qb: Knex.QueryBuilder, filters: ReportFilters, context: ReportQueryContext, userColumn: string): Knex.QueryBuilder {
    const { executor } = context;
    const audienceId = num(filters.audienceId);
    const organisationId = num(filters.organisationId);
    const positionId = num(filters.positionId);
    const managerId = num(filters.managerId);
    if (audienceId !== null) qb.whereIn(userColumn, deps.audiences.membersQuery(audienceId, executor));
    if (organisationId !== null) {
      qb.whereIn(userColumn, usersAtNodes(executor, 'organisation_id', deps.hierarchy.descendantsQuery('organisation', organisationId, true, executor)));
    }
    if (positionId !== null)
      qb.whereIn(userColumn, usersAtNodes(executor, 'position_id', deps.hierarchy.descendantsQuery('position', positionId, true, executor)));
    if (managerId !== null) qb.whereIn(userColumn, deps.jobAssignments.managedUsersQuery(managerId, executor));
    const search = searchText(filters);
    const listed = planOf(context)?.searchIds;
    if (search !== null) {
      if (Array.isArray(listed)) qb.whereIn(userColumn, listed);
      else whereLearnerMatches(qb, search);
    }
    return qb;
  }

  /** The search's matching users when they are few enough to list (see {@link SEARCH_LIST_MAX}). */
  async function searchPlan(filters: ReportFilters, { executor }: ReportQueryContext): Promise<CompletionPlan | null> {
    const search = searchText(filters);
    return search === null ? null : { searchIds: await learnersMatching(executor, search, SEARCH_LIST_MAX, num(filters.programId)) };
  }

  /** 400 for a people filter that names nothing. */
  async function checkPeopleFilters(filters: ReportFilters, { executor }: ReportQueryContext): Promise<void> {
    const audienceId = num(filters.audienceId);
    const organisationId = num(filters.organisationId);
    const positionId = num(filters.positionId);
    const managerId = num(filters.managerId);
    if (audienceId !== null && !(await deps.audiences.find(audienceId, executor))) throw reportFilterInvalid('audienceId', `names no audience: ${audienceId}`);
    if (organisationId !== null && !(await deps.hierarchy.find('organisation', organisationId, executor))) {
      throw reportFilterInvalid('organisationId', `names no organisation: ${organisationId}`);
    }
    if (positionId !== null && !(await deps.hierarchy.find('position', positionId, executor)))
      throw reportFilterInvalid('positionId', `names no position: ${positionId}`);
    if (managerId !== null && !(await deps.users.find(managerId, executor))) throw reportFilterInvalid('managerId', `names no user: ${managerId}`);
  }

  async function checkProgram(filters: ReportFilters): Promise<void> {
    const programId = num(filters.programId);
    if (programId === null) return;
    try {
      await deps.programs.get(programId);
    } catch (error) {
      if (error instanceof WaymarkError && error.status === 404) throw reportFilterInvalid('programId', `names no program: ${programId}`);
      throw error;
    }
  }

  /** The due window in epoch ms; a plain date is a whole day in the site's time zone. */
  function dueWindow(filters: ReportFilters, fromName = 'dueFrom', toName = 'dueTo'): { from: number | null; to: number | null } {
    const parse = (name: string, startOfDay: boolean): number | null => {
      const value = filters[name];
      if (typeof value !== 'string') return null;
      let at: number;
      try {
        at = parseDateInput(value, { field: name, zone: deps.timezone });
      } catch (error) {
        throw reportFilterInvalid(name, error instanceof WaymarkError ? error.message.replace(`${name} `, '') : 'is not a date');
      }
      return startOfDay && /^\d{4}-\d{2}-\d{2}$/.test(value.trim()) ? DateTime.fromMillis(at, { zone: deps.timezone }).startOf('day').toMillis() : at;
    };
    return { from: parse(fromName, true), to: parse(toName, false) };
  }

  // Due and completion dates repeat across a program's learners (a cohort's due date, a day's
  // completions): an export formats each distinct one once instead of once per row.
  const isoText = new Map<number, string>();
  const isoOf = (ms: number | null): string | null => {
    if (ms === null) return null;
    let text = isoText.get(ms);
    if (text === undefined) {
      if (isoText.size >= 10_000) isoText.clear();
      isoText.set(ms, (text = iso(ms)!));
    }
    return text;
  };

  /** Program completion rows with the learner's own progress number, read per program for the batch. */
  async function presentAssignments(rows: readonly Record<string, unknown>[], context: ReportQueryContext, withCompleted: boolean): Promise<ReportRow[]> {
    const byProgram = new Map<number, Array<{ userId: number; complete: boolean }>>();
    for (const row of rows) {
      const programId = Number(row.program_id);
      const list = byProgram.get(programId) ?? [];
      list.push({ userId: Number(row.user_id), complete: row.completion_status === 'complete' });
      byProgram.set(programId, list);
    }
    const progress = new Map<number, Map<number, number>>();
    const columns = planOf(context)?.progress;
    if (columns && byProgram.size === 1) {
      // The inputs came with the rows (one program: the report's own filter).
      const [programId] = byProgram.keys();
      progress.set(programId!, columns.progress(rows.map((row) => ({ userId: Number(row.user_id), complete: row.completion_status === 'complete', row }))));
    } else {
      for (const [programId, learners] of byProgram) progress.set(programId, await deps.learnerViews.programProgress(context.executor, programId, learners));
    }
    return rows.map((row) => {
      const complete = row.completion_status === 'complete';
      const due = row.due_at === null || row.due_at === undefined ? null : Number(row.due_at);
      const overdue = !complete && due !== null && due < context.now;
      const out: ReportRow = {
        programId: Number(row.program_id),
        program: String(row.program_name),
        // Written out rather than spread from learnerCells: this runs once per row of a million-row export.
        userId: Number(row.user_id),
        username: String(row.username),
        learner: String(row.fullname),
        status: complete ? 'complete' : overdue ? 'overdue' : 'in_progress',
        progress: progress.get(Number(row.program_id))?.get(Number(row.user_id)) ?? 0,
        dueAt: isoOf(due),
        overdue,
      };
      if (withCompleted) out.completedAt = complete && row.completed_at !== null && row.completed_at !== undefined ? isoOf(Number(row.completed_at)) : null;
      return out;
    });
  }

  const assignmentColumns = (withCompleted: boolean): ReportColumn[] => [
    { key: 'programId', label: 'Program id', schema: integer },
    { key: 'program', label: 'Program', schema: text },
    ...LEARNER_COLUMNS,
    { key: 'status', label: 'Status', schema: { enum: ['in_progress', 'overdue', 'complete'] } },
    { key: 'progress', label: 'Progress %', schema: { type: 'integer', minimum: 0, maximum: 100 } },
    { key: 'dueAt', label: 'Due date', schema: nullableDate },
    { key: 'overdue', label: 'Overdue', schema: { type: 'boolean' } },
    ...(withCompleted ? [{ key: 'completedAt', label: 'Completed', schema: nullableDate }] : []),
  ];

  const assignmentOrders = (overdueFirst: boolean): ReportOrder[] => {
    // The program as `p.id`: equal to the assignment's, and a constant when the page is read from users.
    const learner = byLearner('p.id', 'program_id');
    // The program completion report reads this order over a derived table `r` (its query's own
    // columns: see `dueOrderedBranches`); the overdue report over the joined tables.
    const due: ReportOrder = overdueFirst
      ? {
          name: 'due',
          label: 'Due date',
          keys: [
            { column: dueKey(deps.knex), direction: 'asc' },
            { column: 'a.id', direction: 'asc' },
          ],
          fields: ['due_key', 'row_id'],
        }
      : {
          name: 'due',
          label: 'Due date',
          keys: [
            { column: 'r.due_key', direction: 'asc' },
            { column: 'r.row_id', direction: 'asc' },
          ],
          fields: ['due_key', 'row_id'],
        };
    const program: ReportOrder = {
      name: 'program',
      label: 'Program',
      keys: [
        { column: 'p.fullname', direction: 'asc' },
        { column: 'u.fullname', direction: 'asc' },
        { column: 'a.id', direction: 'asc' },
      ],
      fields: ['program_name', 'fullname', 'row_id'],
    };
    return overdueFirst ? [due, learner, program] : [learner, due, program];
  };

  const byAssignment = byRowId('a.id', 'Order of assignment');

  const programCompletion: ReportSource = {
    label: 'Program completion',
    description: 'Each learner actively assigned to a program: status (overdue when past the due date), progress %, due date and completion date.',
    filters: {
      programId: id('Only this program'),
      status: {
        enum: ['in_progress', 'overdue', 'complete'],
        description: 'in_progress: not complete and not past due; overdue: not complete, past due; complete',
      },
      ...PEOPLE_FILTERS,
      ...DUE_WINDOW,
    },
    orders: [...assignmentOrders(false), byAssignment],
    exportOrder: byAssignment,
    columns: assignmentColumns(true),
    query(filters, context) {
      const programId = num(filters.programId);
      const window = dueWindow(filters);
      const narrow = (qb: Knex.QueryBuilder): void => {
        if (typeof filters.status === 'string') whereAssignmentStatus(qb, filters.status as 'complete', context.now);
        whereDueBetween(qb, window.from, window.to);
      };
      const plan = planOf(context);
      if (programId !== null && plan?.byUsers) {
        const qb = programAssignmentsByLearner(context.executor, programId, narrow);
        if (plan.progress) qb.select(plan.progress.columns(context.executor, 'u.id'));
        return peopleFilters(qb, filters, context, 'u.id');
      }
      const rows = (): Knex.QueryBuilder => {
        const qb = assignmentRows(context.executor);
        if (programId !== null) qb.where('a.program_id', programId);
        if (plan?.progress) qb.select(plan.progress.columns(context.executor, 'a.user_id'));
        narrow(qb);
        return peopleFilters(qb, filters, context, 'a.user_id');
      };
      if (context.order !== 'due') return rows();
      // A page of one program by due date: index ranges bounded by the page. Otherwise (an export,
      // all programs) the same rows as a derived table, which both databases merge into the query.
      if (programId !== null && context.position) {
        const datedOnly = filters.status === 'overdue' || window.from !== null || window.to !== null;
        return dueOrderedBranches(context.executor, programId, rows, context.position, !datedOnly);
      }
      return context.executor.select('*').from(rows().as('r'));
    },
    async prepare(filters, context): Promise<CompletionPlan | null> {
      const programId = num(filters.programId);
      if (programId === null) return searchPlan(filters, context);
      // An export (the assignment order) reads the learners' progress inputs with its rows, a batch
      // of 5,000 at a time, instead of reading them for each batch.
      const progress = context.order === byAssignment.name ? await deps.learnerViews.progressColumns(context.executor, programId) : null;
      const search = await searchPlan(filters, context);
      // A page by name of a large program reads users in name order, probing each one's assignment,
      // and stops after a page. Not for a small program (sorting its learners is cheaper than
      // walking the site's users until the page is full), nor with a filter on who the learners
      // are (a team, an audience, a search matching few users: the walk would read most users to
      // fill a page). A search matching more users than it lists matches often enough to walk.
      const narrowed = Object.keys(PEOPLE_FILTERS).some((name) => filters[name] !== undefined && !(name === 'search' && search?.searchIds === null));
      const byUsers = context.order === 'learner' && !narrowed && (await activeAssignmentsExceed(context.executor, programId, USERS_DRIVEN_FROM));
      return byUsers || progress || search ? { byUsers, progress, ...search } : null;
    },
    present: (rows, context) => presentAssignments(rows, context, true),
    async checkFilters(filters, context) {
      await checkProgram(filters);
      await checkPeopleFilters(filters, context);
      dueWindow(filters);
    },
  };

  const overdue: ReportSource = {
    label: 'Overdue learners',
    description: 'Each learner past the due date of a program they are assigned to and have not completed, across all programs.',
    filters: { programId: id('Only this program'), ...PEOPLE_FILTERS, ...DUE_WINDOW },
    orders: [...assignmentOrders(true), byAssignment],
    exportOrder: byAssignment,
    columns: assignmentColumns(false),
    query(filters, context) {
      const qb = whereAssignmentStatus(assignmentRows(context.executor), 'overdue', context.now);
      const programId = num(filters.programId);
      if (programId !== null) qb.where('a.program_id', programId);
      const window = dueWindow(filters);
      whereDueBetween(qb, window.from, window.to);
      return peopleFilters(qb, filters, context, 'a.user_id');
    },
    prepare: searchPlan,
    present: (rows, context) => presentAssignments(rows, context, false),
    checkFilters: programCompletion.checkFilters!,
  };

  const exceptions: ReportSource = {
    label: 'Assignment exceptions',
    description: 'Assignment exceptions waiting for a decision (or, by status, decided ones), with the learner, program, type and explanation.',
    filters: {
      programId: id('Only this program'),
      status: { enum: ['open', 'resolved', 'dismissed'], default: 'open', description: 'open (default): waiting for a decision' },
      type: { enum: ['already_assigned', 'completion_time_unknown', 'time_allowance'], description: 'Only this kind of exception' },
      ...PEOPLE_FILTERS,
    },
    orders: [
      {
        name: 'raised',
        label: 'Oldest first',
        keys: [
          { column: 'e.raised_at', direction: 'asc' },
          { column: 'e.id', direction: 'asc' },
        ],
        fields: ['raised_at', 'row_id'],
      },
      byLearner('e.id', 'row_id'),
      byRowId('e.id', 'Order raised'),
    ],
    exportOrder: byRowId('e.id', 'Order raised'),
    columns: [
      { key: 'id', label: 'Exception id', schema: integer },
      { key: 'programId', label: 'Program id', schema: integer },
      { key: 'program', label: 'Program', schema: text },
      ...LEARNER_COLUMNS,
      { key: 'type', label: 'Type', schema: text },
      { key: 'status', label: 'Status', schema: text },
      { key: 'raisedAt', label: 'Raised', schema: { type: 'string', format: 'date-time' } },
      { key: 'explanation', label: 'Explanation', schema: nullableText },
    ],
    query(filters, context) {
      const qb = exceptionRows(context.executor).where('e.status', typeof filters.status === 'string' ? filters.status : 'open');
      const programId = num(filters.programId);
      if (programId !== null) qb.where('e.program_id', programId);
      if (typeof filters.type === 'string') qb.where('e.type', filters.type);
      return peopleFilters(qb, filters, context, 'e.user_id');
    },
    prepare: searchPlan,
    present: async (rows) =>
      rows.map((row) => ({
        id: Number(row.row_id),
        programId: Number(row.program_id),
        program: String(row.program_name),
        ...learnerCells(row),
        type: String(row.type),
        status: String(row.status),
        raisedAt: iso(Number(row.raised_at)),
        explanation: textOrNull(row.explanation),
      })),
    async checkFilters(filters, context) {
      await checkProgram(filters);
      await checkPeopleFilters(filters, context);
    },
  };

  const courseCompletion: ReportSource = {
    label: 'Course completions',
    description: 'Each recorded course completion: learner, course, when and how it was recorded.',
    filters: {
      courseId: id('Only this course'),
      programId: id("Only the courses of this program's course sets"),
      ...PEOPLE_FILTERS,
      completedFrom: { ...DateInput, description: 'Only completions at or after this date' },
      completedTo: { ...DateInput, description: 'Only completions at or before this date' },
    },
    orders: [
      {
        name: '-completed',
        label: 'Latest first',
        keys: [
          { column: 'cc.completed_at', direction: 'desc' },
          { column: 'cc.id', direction: 'desc' },
        ],
        fields: ['completed_at', 'row_id'],
      },
      byLearner('cc.id', 'row_id'),
      byRowId('cc.id', 'Order recorded'),
    ],
    exportOrder: byRowId('cc.id', 'Order recorded'),
    columns: [
      { key: 'courseId', label: 'Course id', schema: integer },
      { key: 'course', label: 'Course', schema: text },
      ...LEARNER_COLUMNS,
      { key: 'completedAt', label: 'Completed', schema: { type: 'string', format: 'date-time' } },
      { key: 'source', label: 'Recorded by', schema: nullableText },
    ],
    query(filters, context) {
      const qb = courseCompletionRows(context.executor);
      const courseId = num(filters.courseId);
      const programId = num(filters.programId);
      if (courseId !== null) qb.where('cc.course_id', courseId);
      if (programId !== null) qb.whereIn('cc.course_id', programCourseIds(context.executor, programId));
      const window = completedWindow(filters);
      if (window.from !== null) qb.where('cc.completed_at', '>=', window.from);
      if (window.to !== null) qb.where('cc.completed_at', '<=', window.to);
      return peopleFilters(qb, filters, context, 'cc.user_id');
    },
    prepare: searchPlan,
    present: async (rows) =>
      rows.map((row) => ({
        courseId: Number(row.course_id),
        course: String(row.course_name),
        ...learnerCells(row),
        completedAt: iso(Number(row.completed_at)),
        source: textOrNull(row.source),
      })),
    async checkFilters(filters, context) {
      await checkProgram(filters);
      const courseId = num(filters.courseId);
      if (courseId !== null) {
        try {
          await deps.courses.get(courseId, context.executor);
        } catch (error) {
          if (error instanceof WaymarkError && error.status === 404) throw reportFilterInvalid('courseId', `names no course: ${courseId}`);
          throw error;
        }
      }
      await checkPeopleFilters(filters, context);
      completedWindow(filters);
    },
  };

  function completedWindow(filters: ReportFilters): { from: number | null; to: number | null } {
    return dueWindow(filters, 'completedFrom', 'completedTo');
  }

  return { program_completion: programCompletion, overdue, exceptions, course_completion: courseCompletion };
}
