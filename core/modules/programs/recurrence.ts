/**
 * Recurring programs (DOMAIN 9, issue 15 item 1): a program whose only course set holds one course
 * recurs every `period`. Periods are counted from an anchor (`recurrence_start`) with calendar
 * arithmetic in the site zone, so `P1Y` from 1 January always starts on 1 January and `P1M` from the
 * 31st does not drift. A scheduled job, `lead` before the current period ends, copies its course
 * (course copy service, hidden, named with the next period's label); when the next period starts,
 * it switches the program to the copy in one transaction: the set's course is replaced, the copy
 * shown, completions moved to history with the period, each assigned learner's record of the
 * period kept (who had not finished may still launch it), and a new cycle with a new due date
 * started for every assigned learner. Every step checks the stored state under the program's lock
 * first, so a late, repeated or concurrent run does each step once.
 */
import type { Knex } from 'knex';
import { DateTime, type Duration } from 'luxon';
import type { Database, Executor } from '../../kernel/db/database';
import type { PluginHooks } from '../../kernel/hooks/bus';
import { invalid, type ErrorDetail } from '../../kernel/errors';
import { iso } from '../../kernel/db/sql';
import { parseDateInput } from '../../kernel/dates';
import type { KeysetOrder, KeysetPage, PagePosition } from '../../kernel/db/keyset';
import type { SqlView } from '../../kernel/db/views';
import type { CoursesService } from '../learning/index';
import { compareDurations, parseDuration } from './durations';
import type { RecalcPair } from './recalc';
import {
  activeLearnersAfter,
  archiveCompletionsForPeriod,
  completeOwedPeriods,
  courseNames,
  deleteUpcomingPeriods,
  insertPeriod,
  insertPeriodLearners,
  lastSeq,
  livePeriods,
  lockProgram,
  owedPeriodsOf,
  owedPeriodsOfCourse,
  periodPage,
  recurringCourseOf,
  recurringProgramIds,
  replaceRecurringCourse,
  setRecurrenceColumns,
  shortnameTaken,
  updatePeriod,
  type PeriodPageRow,
  type PeriodRow,
} from './store/recurrence';
import { programById } from './store/programs';

/** The recurrence of a program as the API takes it. */
export interface RecurrenceInput {
  /** ISO-8601 duration: how long a period lasts (`P1Y`). */
  period: string;
  /** ISO-8601 duration, positive: how long before a period ends its successor's copy is made (`P1M`); shorter than the period. */
  leadTime: string;
  /** When the first period starts (a date alone: the start of that day in the site zone); default: now. */
  startsAt?: string;
}

/** A period as the API shows it. */
export interface PeriodView {
  id: number;
  seq: number;
  label: string;
  status: 'upcoming' | 'current' | 'past';
  course: { id: number; shortname: string; fullname: string };
  startsAt: string;
  endsAt: string;
  createdAt: string;
  switchedAt: string | null;
  /** Learners assigned when the period ended, and how many of them had completed it (or did later); 0 before it ends. */
  learners: number;
  completed: number;
}

/** A program's recurrence as the API shows it. */
export interface RecurrenceView {
  period: string;
  leadTime: string;
  /** Where period boundaries are counted from. */
  startsAt: string;
  current: { id: number; label: string; courseId: number; startsAt: string; endsAt: string } | null;
  /** The next period, once its copy exists. */
  next: { id: number; label: string; courseId: number; startsAt: string; endsAt: string } | null;
  /** When the next period's copy is (or was) due to be made. */
  nextCopyAt: string | null;
}

/** What a switch needs from the assignment module (plugged in through the programs service's port). */
export interface CyclePort {
  assignmentsView: SqlView<'program_id' | 'user_id' | 'status' | 'due_at'>;
  selectTargets(executor: Executor, pairs: ReadonlyArray<RecalcPair>): Promise<RecalcPair[]>;
  /** Starts a new cycle at `at` for these actively assigned learners, each with a new due date. */
  startCycles(trx: Knex.Transaction, programId: number, rows: ReadonlyArray<{ userId: number; dueAt: number }>, at: number): Promise<void>;
}

export interface RecurrenceDeps {
  db: Database;
  hooks: PluginHooks;
  timezone: string;
  courses: () => CoursesService;
  cycles: () => CyclePort | null;
  /** Queues the program's recompute job in `trx` (course-set records of the new period). */
  enqueueRecompute(trx: Knex.Transaction, programId: number): Promise<number>;
  /** Forgets the program's cached structure in this process (others notice the version). */
  invalidate(programId: number): void;
}

const BATCH = 500;
/** Steps one run takes per program at most: a site whose task stopped for years catches up period by period. */
const MAX_STEPS = 200;

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/** `start + n × period`, with calendar arithmetic in `zone`. */
function boundary(anchor: number, period: Duration, n: number, zone: string): number {
  return DateTime.fromMillis(anchor, { zone })
    .plus(period.mapUnits((x) => x * n))
    .toMillis();
}

/**
 * The period that contains `at`, counted from `anchor`: `[anchor + n×P, anchor + (n+1)×P)`; the
 * first one when `at` is before the anchor.
 */
export function periodAround(anchor: number, period: Duration, at: number, zone: string): { start: number; end: number } {
  let n = 0;
  // Whole periods between the two, estimated, then corrected: calendar units are not fixed lengths.
  const length = boundary(anchor, period, 1, zone) - anchor;
  if (at > anchor && length > 0) n = Math.max(0, Math.floor((at - anchor) / length) - 1);
  while (boundary(anchor, period, n + 1, zone) <= at) n++;
  while (n > 0 && boundary(anchor, period, n, zone) > at) n--;
  return { start: boundary(anchor, period, n, zone), end: boundary(anchor, period, n + 1, zone) };
}

/** The first boundary counted from `anchor` strictly after `after`. */
function boundaryAfter(anchor: number, period: Duration, after: number, zone: string): number {
  return periodAround(anchor, period, after, zone).end;
}

/**
 * A period's label, as precise as its length needs: `2027` for yearly periods starting on 1
 * January, `2027-03` for periods of whole months starting on the 1st, the start day for periods
 * starting at midnight, else the start day and time.
 */
export function periodLabel(start: number, period: Duration, zone: string): string {
  const at = DateTime.fromMillis(start, { zone });
  const units = period.toObject();
  const onlyYears = Object.entries(units).every(([unit, value]) => unit === 'years' || !value);
  const onlyMonths = Object.entries(units).every(([unit, value]) => unit === 'years' || unit === 'months' || !value);
  const midnight = at.hour === 0 && at.minute === 0 && at.second === 0 && at.millisecond === 0;
  if (onlyYears && midnight && at.month === 1 && at.day === 1) return at.toFormat('yyyy');
  if (onlyMonths && midnight && at.day === 1) return at.toFormat('yyyy-MM');
  return at.toFormat(midnight ? 'yyyy-MM-dd' : 'yyyy-MM-dd HH:mm');
}

/** `text` without a trailing previous label (`Fire safety 2026` -> `Fire safety`), joined by one of `separators`. */
function withoutLabel(text: string, label: string, separators: readonly string[]): string {
  for (const sep of separators)
    if (text.endsWith(`${sep}${label}`) && text.length > label.length + sep.length) return text.slice(0, -(label.length + sep.length));
  return text;
}

/** The names of the next period's copy: the course's names with the period's label in place of the previous one. */
export function copyNames(source: { shortname: string; fullname: string }, previous: string, label: string): { shortname: string; fullname: string } {
  const fullBase = withoutLabel(source.fullname, previous, [' ']);
  const shortBase = withoutLabel(source.shortname, previous.replace(/ /g, '-').replace(/:/g, ''), ['-', '_', ' ']);
  // A short name is typed and put in URLs: no spaces or colons (`drill-2026-12-01-0900`).
  const shortLabel = label.replace(/ /g, '-').replace(/:/g, '');
  return { fullname: `${fullBase.slice(0, 255 - label.length - 1)} ${label}`, shortname: `${shortBase.slice(0, 100 - shortLabel.length - 4)}-${shortLabel}` };
}

/** A recurrence checked: durations parsed, the anchor in epoch ms (undefined: keep / now). */
export interface CheckedRecurrence {
  period: string;
  leadTime: string;
  anchor: number | undefined;
}

/** Checks a recurrence body; the problems name the exact field. */
export function checkRecurrence(input: RecurrenceInput, zone: string): { value: CheckedRecurrence | null; problems: ErrorDetail[] } {
  const problems: ErrorDetail[] = [];
  const period = parseDuration(input.period);
  if (!period || compareDurations(input.period, 'PT1H') < 0)
    problems.push({
      path: 'recurrence.period',
      code: 'RECURRENCE_PERIOD_INVALID',
      message: `"${input.period}" is not a period such as P1Y or P6M (at least an hour)`,
    });
  const lead = parseDuration(input.leadTime);
  if (!lead)
    problems.push({ path: 'recurrence.leadTime', code: 'RECURRENCE_LEAD_INVALID', message: `"${input.leadTime}" is not a duration such as P1M or P2W` });
  else if (period && compareDurations(input.leadTime, input.period) >= 0)
    problems.push({
      path: 'recurrence.leadTime',
      code: 'RECURRENCE_LEAD_TOO_LONG',
      message: 'The next copy must be made less than one period ahead: the lead time must be shorter than the period',
    });
  let anchor: number | undefined;
  if (input.startsAt !== undefined) {
    const text = input.startsAt.trim();
    try {
      anchor = DATE_ONLY.test(text) ? DateTime.fromISO(text, { zone }).startOf('day').toMillis() : parseDateInput(text, { field: 'recurrence.startsAt', zone });
      if (!Number.isFinite(anchor)) throw new Error('invalid');
    } catch {
      problems.push({ path: 'recurrence.startsAt', code: 'DATE_INVALID', message: `recurrence.startsAt is not a date: "${input.startsAt}"` });
    }
  }
  return problems.length ? { value: null, problems } : { value: { period: input.period, leadTime: input.leadTime, anchor }, problems };
}

/** Refuses a recurrence on anything but one course set holding one course. */
export function checkRecurringStructure(sets: ReadonlyArray<{ courseIds?: readonly number[] }>): ErrorDetail[] {
  if (sets.length === 1 && new Set(sets[0]!.courseIds ?? []).size === 1) return [];
  return [
    {
      path: 'recurrence',
      code: 'RECURRENCE_NEEDS_ONE_COURSE',
      message: 'A recurring program has exactly one course set holding exactly one course (the recurring course)',
    },
  ];
}

export function recurrenceInvalid(problems: ErrorDetail[]): never {
  throw invalid('RECURRENCE_INVALID', problems[0]!.message, problems);
}

const periodSummary = (p: PeriodRow | undefined) =>
  p ? { id: Number(p.id), label: p.label, courseId: Number(p.course_id), startsAt: iso(p.starts_at)!, endsAt: iso(p.ends_at)! } : null;

export function createRecurrence(deps: RecurrenceDeps) {
  const { db, timezone: zone } = deps;

  /** Writes the program's recurrence (or removes it) in `trx`: the columns and the current period. */
  async function configure(trx: Knex.Transaction, programId: number, value: CheckedRecurrence | null, now: number): Promise<void> {
    const program = (await programById(trx, programId))!;
    if (value === null) {
      // The periods so far stay as history; a copy made for a period that will not come stays hidden.
      await setRecurrenceColumns(trx, programId, { recurrence_period: null, recurrence_lead: null, recurrence_start: null });
      await deleteUpcomingPeriods(trx, programId);
      return;
    }
    const period = parseDuration(value.period)!;
    const [current, upcoming] = splitLive(await livePeriods(trx, programId));
    const recurring = (await recurringCourseOf(trx, programId))!;
    if (!current) {
      // The first period known to Waymark is the one around now, counted from the anchor.
      const anchor = value.anchor ?? now;
      const span = periodAround(anchor, period, now, zone);
      await setRecurrenceColumns(trx, programId, { recurrence_period: value.period, recurrence_lead: value.leadTime, recurrence_start: anchor });
      await insertPeriod(trx, {
        program_id: programId,
        seq: (await lastSeq(trx, programId)) + 1,
        label: periodLabel(span.start, period, zone),
        course_id: Number(recurring.course_id),
        starts_at: span.start,
        ends_at: span.end,
        status: 'current',
        created_at: now,
      });
      return;
    }
    // The period in force keeps its start; a new length or anchor decides when it ends (the next
    // boundary after now: a shorter period never makes periods that are already over), and the
    // upcoming period, if its copy exists, moves with it. Unchanged, it keeps its end.
    const samePeriod = program.recurrence_period === value.period;
    const changed = !samePeriod || value.anchor !== undefined;
    const anchor = value.anchor ?? (samePeriod && program.recurrence_start !== null ? Number(program.recurrence_start) : Number(current.starts_at));
    await setRecurrenceColumns(trx, programId, { recurrence_period: value.period, recurrence_lead: value.leadTime, recurrence_start: anchor });
    // A start date after the current period's start means "the periods begin then": it ends there.
    const from = changed ? Math.max(Number(current.starts_at), now) : Number(current.starts_at);
    const ends = anchor > Number(current.starts_at) ? anchor : boundaryAfter(anchor, period, from, zone);
    await updatePeriod(trx, current.id, { ends_at: ends, course_id: Number(recurring.course_id) });
    if (upcoming)
      await updatePeriod(trx, upcoming.id, { starts_at: ends, ends_at: boundaryAfter(anchor, period, ends, zone), label: periodLabel(ends, period, zone) });
  }

  async function view(executor: Executor, programId: number): Promise<RecurrenceView | null> {
    const program = await programById(executor, programId);
    if (!program?.recurrence_period) return null;
    const [current, upcoming] = splitLive(await livePeriods(executor, programId));
    const lead = parseDuration(program.recurrence_lead ?? '');
    const nextCopyAt = current && lead ? DateTime.fromMillis(Number(current.ends_at), { zone }).minus(lead).toMillis() : null;
    return {
      period: program.recurrence_period,
      leadTime: program.recurrence_lead ?? '',
      startsAt: iso(program.recurrence_start)!,
      current: periodSummary(current),
      next: periodSummary(upcoming),
      nextCopyAt: iso(nextCopyAt),
    };
  }

  /** One step for one program under its lock: make the next copy, or switch to it, or nothing. */
  async function step(programId: number, now: number): Promise<'copied' | 'switched' | 'idle'> {
    let switched: number | null = null;
    const result = await db.transaction(async (trx) => {
      if (!(await lockProgram(trx, db.dialect, programId))) return 'idle' as const;
      const program = (await programById(trx, programId))!;
      if (!program.recurrence_period) return 'idle' as const;
      const period = parseDuration(program.recurrence_period);
      const lead = parseDuration(program.recurrence_lead ?? '');
      const [current, upcoming] = splitLive(await livePeriods(trx, programId));
      if (!period || !lead || !current) return 'idle' as const;
      if (!upcoming) {
        const copyAt = DateTime.fromMillis(Number(current.ends_at), { zone }).minus(lead).toMillis();
        if (now < copyAt) return 'idle' as const;
        await makeCopy(trx, programId, current, period, program.recurrence_start === null ? Number(current.starts_at) : Number(program.recurrence_start), now);
        return 'copied' as const;
      }
      if (now < Number(upcoming.starts_at)) return 'idle' as const;
      await switchTo(trx, programId, current, upcoming, program.recurrence_period, now);
      switched = programId;
      return 'switched' as const;
    });
    if (switched !== null) deps.invalidate(switched);
    return result;
  }

  async function makeCopy(trx: Knex.Transaction, programId: number, current: PeriodRow, period: Duration, anchor: number, now: number): Promise<void> {
    const starts = Number(current.ends_at);
    const ends = boundaryAfter(anchor, period, starts, zone);
    const label = periodLabel(starts, period, zone);
    const source = (await courseNames(trx, Number(current.course_id)))!;
    const names = copyNames(source, current.label, label);
    let shortname = names.shortname;
    for (let n = 2; await shortnameTaken(trx, shortname); n++) shortname = `${names.shortname}-${n}`;
    const copy = await deps.courses().copyWithin(trx, Number(current.course_id), { shortname, fullname: names.fullname, visible: false, startDate: starts });
    await insertPeriod(trx, {
      program_id: programId,
      seq: Number(current.seq) + 1,
      label,
      course_id: copy.courseId,
      starts_at: starts,
      ends_at: ends,
      status: 'upcoming',
      created_at: now,
    });
  }

  async function switchTo(trx: Knex.Transaction, programId: number, current: PeriodRow, next: PeriodRow, periodIso: string, now: number): Promise<void> {
    const recurring = (await recurringCourseOf(trx, programId))!;
    const port = deps.cycles();
    const starts = Number(next.starts_at);
    // How each assigned learner stood when the period ended, and their due date in the new one: a
    // completion still younger than one period carries them until it is one period old; anyone
    // else owes the new period by its end.
    if (port) {
      let after = 0;
      for (;;) {
        const rows = await activeLearnersAfter(trx, port.assignmentsView, programId, after, BATCH);
        if (!rows.length) break;
        after = Number(rows[rows.length - 1]!.user_id);
        const kept = new Set(
          (
            await port.selectTargets(
              trx,
              rows.map((r) => ({ programId, userId: Number(r.user_id) })),
            )
          ).map((p) => p.userId),
        );
        const learners = rows.filter((r) => kept.has(Number(r.user_id)));
        await insertPeriodLearners(
          trx,
          learners.map((r) => ({
            period_id: Number(current.id),
            program_id: programId,
            user_id: Number(r.user_id),
            status: r.status === 'complete' ? 'complete' : 'incomplete',
            due_at: r.due_at === null ? null : Number(r.due_at),
            completed_at: r.status === 'complete' && r.completed_at !== null ? Number(r.completed_at) : null,
            archived_at: now,
          })),
        );
        await port.startCycles(
          trx,
          programId,
          learners.map((r) => {
            const expires = r.status === 'complete' && r.completed_at !== null ? addIso(Number(r.completed_at), periodIso) : null;
            return { userId: Number(r.user_id), dueAt: expires !== null && expires > starts ? expires : Number(next.ends_at) };
          }),
          starts,
        );
        if (rows.length < BATCH) break;
      }
    }
    await archiveCompletionsForPeriod(trx, programId, current.label, now);
    await replaceRecurringCourse(trx, programId, Number(recurring.course_set_id), Number(next.course_id), now);
    await deps.courses().setVisible(trx, Number(next.course_id), true);
    await updatePeriod(trx, current.id, { status: 'past' });
    await updatePeriod(trx, next.id, { status: 'current', switched_at: now });
    await deps.enqueueRecompute(trx, programId);
    await deps.hooks.publish('afterRecurrencePeriodStarted', trx, {
      programId,
      periodId: Number(next.id),
      courseId: Number(next.course_id),
      label: next.label,
      startsAt: starts,
    });
  }

  const addIso = (ms: number, duration: string): number => DateTime.fromMillis(ms, { zone }).plus(parseDuration(duration)!).toMillis();

  return {
    configure,
    view,

    /** The scheduled job's body: every recurring program brought up to `now`, step by step. */
    async advance(now: number): Promise<{ programs: number; copies: number; switches: number }> {
      let copies = 0;
      let switches = 0;
      const ids = await recurringProgramIds(db.knex);
      for (const programId of ids) {
        for (let i = 0; i < MAX_STEPS; i++) {
          const done = await step(programId, now);
          if (done === 'idle') break;
          if (done === 'copied') copies++;
          else switches++;
        }
      }
      return { programs: ids.length, copies, switches };
    },

    /** In a completion's transaction: a learner who finishes an earlier period's course late gets that period recorded complete. */
    async followCourseCompletion(trx: Knex.Transaction, userId: number, courseId: number, now: number): Promise<void> {
      const owed = await owedPeriodsOfCourse(trx, userId, courseId);
      const done = owed
        .filter((o) => o.completed_at !== null)
        .map((o) => ({ ...o, id: Number(o.id), program_id: Number(o.program_id), completed_at: Number(o.completed_at) }));
      if (done.length) await completeOwedPeriods(trx, done, userId, now);
    },

    async owed(programId: number, userId: number): Promise<Array<{ label: string; courseId: number; courseFullname: string }>> {
      return (await owedPeriodsOf(db.knex, programId, userId)).map((r) => ({ label: r.label, courseId: Number(r.course_id), courseFullname: r.fullname }));
    },

    async periods(programId: number, order: KeysetOrder, position: PagePosition): Promise<KeysetPage<PeriodView>> {
      const page = await periodPage(db.knex, programId, order, position);
      return { ...page, items: page.items.map(toPeriodView) };
    },
  };
}

function splitLive(rows: PeriodRow[]): [PeriodRow | undefined, PeriodRow | undefined] {
  return [rows.find((r) => r.status === 'current'), rows.find((r) => r.status === 'upcoming')];
}

function toPeriodView(row: PeriodPageRow): PeriodView {
  return {
    id: Number(row.id),
    seq: Number(row.seq),
    label: row.label,
    status: row.status,
    course: { id: Number(row.course_id), shortname: row.course_shortname, fullname: row.course_fullname },
    startsAt: iso(row.starts_at)!,
    endsAt: iso(row.ends_at)!,
    createdAt: iso(row.created_at)!,
    switchedAt: iso(row.switched_at),
    learners: Number(row.learners),
    completed: Number(row.completed),
  };
}
