import {
  assignmentViews,
  extensionRequestViews,
  learningViews,
  peopleViews,
  placeholders,
  programViews,
  queryRows,
  type Executor,
  type StatementBinding,
} from '../../core/index';

/**
 * What rendering and the send-time eligibility check need about a set of deliveries, read in a
 * handful of set-based statements per chunk (never one per delivery), through the owners'
 * published views.
 */

export interface Person {
  id: number;
  email: string;
  fullname: string;
  lang: string;
  timezone: string;
  active: boolean;
}

export interface Assignment {
  status: string;
  dueAt: number | null;
  assignedAt: number | null;
  /** An open or dismissed exception holds the learner back (DOMAIN 4.1). */
  blocked: boolean;
}

export interface ProgramInfo {
  fullname: string;
  criteria: string;
  /** The first course of the first set: a recurring program's course of the current period. */
  firstCourse: string;
  sets: Map<number, string>;
}

export interface DeliveryContext {
  people: Map<number, Person>;
  /** By `programId:userId`. */
  assignments: Map<string, Assignment>;
  /** Program completions by `programId:userId`. */
  completed: Set<string>;
  /** Course-set records by `courseSetId:userId`. */
  sets: Map<string, { complete: boolean; dueAt: number | null }>;
  /** Manager names by learner. */
  managers: Map<number, string[]>;
  programs: Map<number, ProgramInfo>;
  /** Exceptions by id, for reports. */
  exceptions: Map<number, { userId: number; fullname: string; type: string; open: boolean }>;
  /** Extension requests by id, for the extension messages (whose cycle is the request id). */
  extensions: Map<number, ExtensionInfo>;
}

export interface ExtensionInfo {
  status: string;
  requestedDueAt: number;
  approvedDueAt: number | null;
  reason: string;
  decisionReason: string | null;
}

const num = (v: unknown): number => Number(v);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const key = (a: number, b: number): string => `${a}:${b}`;
const inList = (ids: readonly number[]): string => placeholders(Math.max(ids.length, 1));
const ids = (values: Iterable<number>): number[] => {
  const list = [...new Set(values)];
  return list.length ? list : [0];
};

const RULE_TEXT: Record<string, (set: { min_courses: number; min_score: number }) => string> = {
  all: () => 'all of',
  any: () => 'any of',
  some: (s) => {
    const parts: string[] = [];
    if (Number(s.min_courses) > 0) parts.push(`at least ${Number(s.min_courses)} of`);
    if (Number(s.min_score) > 0) parts.push(`a score of ${Number(s.min_score)} from`);
    return parts.length ? parts.join(' and ') : 'optionally';
  },
  optional: () => 'optionally',
};

/** "Basics: all of Course A, Course B; then Practice: any of Course C" (DOMAIN 3's operators kept). */
export function criteriaText(
  sets: ReadonlyArray<{ id: number; label: string; rule: string; min_courses: number; min_score: number; operator: string | null }>,
  courses: Map<number, string[]>,
): string {
  return sets
    .map((s, i) => {
      const rule = (RULE_TEXT[s.rule] ?? RULE_TEXT.all!)(s);
      const names = courses.get(Number(s.id)) ?? [];
      const text = `${s.label}: ${rule} ${names.length ? names.join(', ') : '(no courses)'}`;
      const joiner = i < sets.length - 1 ? ` ${s.operator === 'and' || s.operator === 'or' ? s.operator : 'then'}` : '';
      return text + joiner;
    })
    .join(' ')
    .replace(/ then /g, '; then ');
}

/** Reads everything the given deliveries need. */
export async function loadContext(
  executor: Executor,
  rows: ReadonlyArray<{ program_id: number; user_id: number; course_set_id: number; recipient_id: number; exceptionIds: number[]; extensionId: number | null }>,
): Promise<DeliveryContext> {
  const learnerIds = ids(rows.map((r) => num(r.user_id)).filter((id) => id > 0));
  const programIds = ids(rows.map((r) => num(r.program_id)));
  const setIds = ids(rows.map((r) => num(r.course_set_id)).filter((id) => id > 0));
  const exceptionIds = ids(rows.flatMap((r) => r.exceptionIds));
  const extensionIds = ids(rows.flatMap((r) => (r.extensionId === null ? [] : [r.extensionId])));
  const q = <R>(sql: string, bindings: StatementBinding[]) => queryRows<R>(executor, sql, bindings);

  const [exceptionRows, managerRows, assignmentRows, blockedRows, completionRows, setRows, programRows, courseSetRows, setCourseRows, extensionRows] =
    await Promise.all([
      q<{ id: number; user_id: number; type: string; status: string; fullname: string }>(
        `SELECT e.id, e.user_id, e.type, e.status, u.fullname FROM ${assignmentViews.programExceptions.as('e')} JOIN ${peopleViews.users.as('u')} ON u.id = e.user_id
        WHERE e.id IN (${inList(exceptionIds)}) ORDER BY u.fullname, e.id`,
        exceptionIds,
      ),
      q<{ user_id: number; manager_user_id: number; fullname: string }>(
        `SELECT DISTINCT j.user_id, j.manager_user_id, mu.fullname FROM ${peopleViews.jobAssignments.as('j')} JOIN ${peopleViews.users.as('mu')} ON mu.id = j.manager_user_id
        WHERE j.user_id IN (${inList(learnerIds)}) ORDER BY mu.fullname`,
        learnerIds,
      ),
      q<{ program_id: number; user_id: number; status: string; due_at: number | null; assigned_at: number | null }>(
        `SELECT a.program_id, a.user_id, a.status, a.due_at, a.assigned_at FROM ${assignmentViews.programUserAssignments.as('a')}
        WHERE a.program_id IN (${inList(programIds)}) AND a.user_id IN (${inList(learnerIds)})`,
        [...programIds, ...learnerIds],
      ),
      q<{ program_id: number; user_id: number }>(
        `SELECT e.program_id, e.user_id FROM ${assignmentViews.programExceptions.as('e')}
        WHERE e.program_id IN (${inList(programIds)}) AND e.user_id IN (${inList(learnerIds)}) AND e.status IN ('open', 'dismissed')`,
        [...programIds, ...learnerIds],
      ),
      q<{ program_id: number; user_id: number }>(
        `SELECT pc.program_id, pc.user_id FROM ${programViews.programCompletions.as('pc')}
        WHERE pc.program_id IN (${inList(programIds)}) AND pc.user_id IN (${inList(learnerIds)}) AND pc.status = 'complete'`,
        [...programIds, ...learnerIds],
      ),
      q<{ course_set_id: number; user_id: number; status: string; due_at: number | null }>(
        `SELECT cs.course_set_id, cs.user_id, cs.status, cs.due_at FROM ${programViews.courseSetCompletions.as('cs')}
        WHERE cs.course_set_id IN (${inList(setIds)}) AND cs.user_id IN (${inList(learnerIds)})`,
        [...setIds, ...learnerIds],
      ),
      q<{ id: number; fullname: string }>(`SELECT p.id, p.fullname FROM ${programViews.programs.as('p')} WHERE p.id IN (${inList(programIds)})`, programIds),
      q<{ id: number; program_id: number; label: string; rule: string; min_courses: number; min_score: number; operator: string | null }>(
        `SELECT s.id, s.program_id, s.label, s.rule, s.min_courses, s.min_score, s.operator FROM ${programViews.programCourseSets.as('s')}
        WHERE s.program_id IN (${inList(programIds)}) ORDER BY s.program_id, s.sortorder`,
        programIds,
      ),
      q<{ course_set_id: number; fullname: string }>(
        `SELECT sc.course_set_id, c.fullname FROM ${programViews.programCourseSetCourses.as('sc')} JOIN ${programViews.programCourseSets.as('s')} ON s.id = sc.course_set_id
         JOIN ${learningViews.courses.as('c')} ON c.id = sc.course_id
        WHERE s.program_id IN (${inList(programIds)}) ORDER BY sc.course_set_id, sc.sortorder`,
        programIds,
      ),
      q<{ id: number; status: string; requested_due_at: number; approved_due_at: number | null; reason: string; decision_reason: string | null }>(
        `SELECT r.id, r.status, r.requested_due_at, r.approved_due_at, r.reason, r.decision_reason FROM ${extensionRequestViews.requests.as('r')}
        WHERE r.id IN (${inList(extensionIds)})`,
        extensionIds,
      ),
    ]);

  const exceptions = new Map(
    exceptionRows.map((e) => [num(e.id), { userId: num(e.user_id), fullname: e.fullname, type: e.type, open: e.status === 'open' }] as const),
  );
  const managers = new Map<number, string[]>();
  for (const m of managerRows) {
    const list = managers.get(num(m.user_id)) ?? [];
    if (!list.includes(m.fullname)) list.push(m.fullname);
    managers.set(num(m.user_id), list);
  }
  const peopleIds = ids([...rows.map((r) => num(r.recipient_id)), ...learnerIds, ...exceptionRows.map((e) => num(e.user_id))]);
  const peopleRows = await q<{ id: number; email: string; fullname: string; lang: string; timezone: string; suspended: unknown; deleted: unknown }>(
    `SELECT u.id, u.email, u.fullname, u.lang, u.timezone, u.suspended, u.deleted FROM ${peopleViews.users.as('u')} WHERE u.id IN (${inList(peopleIds)})`,
    peopleIds,
  );
  const people = new Map(
    peopleRows.map(
      (p) =>
        [
          num(p.id),
          { id: num(p.id), email: p.email, fullname: p.fullname, lang: p.lang, timezone: p.timezone, active: !Number(p.suspended) && !Number(p.deleted) },
        ] as const,
    ),
  );
  const blocked = new Set(blockedRows.map((b) => key(num(b.program_id), num(b.user_id))));
  const assignments = new Map(
    assignmentRows.map((a) => {
      const k = key(num(a.program_id), num(a.user_id));
      return [k, { status: a.status, dueAt: numOrNull(a.due_at), assignedAt: numOrNull(a.assigned_at), blocked: blocked.has(k) }] as const;
    }),
  );
  const courses = new Map<number, string[]>();
  for (const c of setCourseRows) courses.set(num(c.course_set_id), [...(courses.get(num(c.course_set_id)) ?? []), c.fullname]);
  const programs = new Map<number, ProgramInfo>();
  for (const p of programRows) {
    const sets = courseSetRows.filter((s) => num(s.program_id) === num(p.id));
    programs.set(num(p.id), {
      fullname: p.fullname,
      criteria: criteriaText(sets, courses),
      firstCourse: sets.length ? (courses.get(num(sets[0]!.id))?.[0] ?? '') : '',
      sets: new Map(sets.map((s) => [num(s.id), s.label])),
    });
  }
  return {
    people,
    assignments,
    completed: new Set(completionRows.map((c) => key(num(c.program_id), num(c.user_id)))),
    sets: new Map(setRows.map((s) => [key(num(s.course_set_id), num(s.user_id)), { complete: s.status === 'complete', dueAt: numOrNull(s.due_at) }] as const)),
    managers,
    programs,
    exceptions,
    extensions: new Map(
      extensionRows.map((r) => [
        num(r.id),
        {
          status: r.status,
          requestedDueAt: num(r.requested_due_at),
          approvedDueAt: numOrNull(r.approved_due_at),
          reason: r.reason,
          decisionReason: r.decision_reason,
        },
      ]),
    ),
  };
}
