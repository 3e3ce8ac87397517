import { DateTime } from 'luxon';
import {
  abstain,
  allow,
  canLaunch,
  evaluateProgram,
  isRetryableConflict,
  prepareStatement,
  queryRows,
  type CourseLaunchArgs,
  type Database,
  type GuardDecision,
  type Site,
} from '../../core/index';

/** The enrolment method this plugin owns in `enrolments.method`. */
export const PROGRAM_METHOD = 'program';

/** Stable decision codes (the diagnostics page and tests assert on these). */
export const LaunchCode = {
  enrolled: 'ENROL_PROGRAM_ENROLLED',
  wouldEnrol: 'ENROL_PROGRAM_WOULD_ENROL',
  notAssigned: 'ENROL_PROGRAM_NOT_ASSIGNED',
  unavailable: 'ENROL_PROGRAM_UNAVAILABLE',
  locked: 'ENROL_PROGRAM_SET_LOCKED',
} as const;

export const NOT_ASSIGNED_REASON = 'You are not assigned to a program containing this course';

interface CandidateRow {
  id: number;
  fullname: string;
  structure_version: number;
  available: number | boolean;
  available_from: number | string | null;
  available_until: number | string | null;
  assignment_status: string | null;
  blocking_exceptions: number | string;
}

/** A row of LAUNCH_STATE_SQL: a candidate program (`p`) or one of the learner's course completions (`c`). */
interface LaunchStateRow extends CandidateRow {
  kind: 'p' | 'c';
  completed_at: number | string | null;
}

/**
 * Everything the guard reads, in one statement (one round trip on MySQL): every program containing
 * the course, with this learner's assignment state and whether an open or dismissed exception
 * blocks it (indexed joins: course -> sets -> programs, then the (program_id, user_id) unique index
 * of assignments and exceptions), followed by the learner's course completions (the
 * (user_id, course_id) unique index). For a completion row `id` is the course id.
 */
const LAUNCH_STATE_SQL = `
  SELECT 'p' AS kind, p.id AS id, p.fullname, p.structure_version, p.available, p.available_from, p.available_until,
         a.status AS assignment_status,
         (SELECT COUNT(*) FROM program_exceptions e
            WHERE e.program_id = p.id AND e.user_id = ? AND e.status IN ('open', 'dismissed')) AS blocking_exceptions,
         NULL AS completed_at
    FROM programs p
    LEFT JOIN program_user_assignments a ON a.program_id = p.id AND a.user_id = ?
   WHERE p.id IN (SELECT s.program_id FROM program_course_set_courses sc
                    JOIN program_course_sets s ON s.id = sc.course_set_id
                   WHERE sc.course_id = ?)
  UNION ALL
  SELECT 'c', course_id, NULL, NULL, NULL, NULL, NULL, NULL, 0, completed_at FROM course_completions WHERE user_id = ?
  ORDER BY kind DESC, id`;

function enrolSql(db: Database): string {
  // One statement, no prior SELECT: the (user_id, course_id, method) unique index makes a
  // concurrent second insert a no-op, and the conflict branch reactivates a suspended enrolment.
  return db.dialect === 'mysql'
    ? `INSERT INTO enrolments (user_id, course_id, method, status, created_at, updated_at) VALUES (?, ?, '${PROGRAM_METHOD}', 'active', ?, ?)
       ON DUPLICATE KEY UPDATE updated_at = IF(status = 'active', updated_at, VALUES(updated_at)), status = 'active'`
    : `INSERT INTO enrolments (user_id, course_id, method, status, created_at, updated_at) VALUES (?, ?, '${PROGRAM_METHOD}', 'active', ?, ?)
       ON CONFLICT (user_id, course_id, method) DO UPDATE SET status = 'active', updated_at = excluded.updated_at WHERE enrolments.status <> 'active'`;
}

function formatDay(ms: number, timezone: string): string {
  let dt = DateTime.fromMillis(ms, { zone: timezone });
  if (!dt.isValid) dt = DateTime.fromMillis(ms, { zone: 'utc' });
  return dt.setLocale('en').toFormat('d MMMM yyyy');
}

/**
 * The enrol_program launch guard (DOMAIN 5): allows, and enrols with method `program`, when the
 * learner has an effective assignment without an open or dismissed exception to an available
 * program that has the course in an open group. Any one such program is enough. Otherwise it
 * abstains with reasons the learner can act on. In dry-run (explain) mode it writes nothing and
 * adds operator detail to its reasons.
 */
export function createLaunchGuard(site: Site): (args: CourseLaunchArgs) => Promise<GuardDecision> {
  const db = site.db;
  const launchStateQuery = prepareStatement<LaunchStateRow>(db, LAUNCH_STATE_SQL);
  const enrolStatement = prepareStatement(db, enrolSql(db));

  async function enrol(userId: number, courseId: number): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        const now = db.now();
        await enrolStatement.run([userId, courseId, now, now]);
        return;
      } catch (error) {
        // InnoDB may report a deadlock between concurrent upserts of one key; the statement is idempotent, so run it again.
        if (attempt >= 5 || !isRetryableConflict(error)) throw error;
        await new Promise((resolve) => setTimeout(resolve, 5 * 2 ** attempt));
      }
    }
  }

  async function timezoneOf(userId: number): Promise<string> {
    const rows = await queryRows<{ timezone: string }>(db.knex, 'SELECT timezone FROM users WHERE id = ?', [userId]);
    return rows[0]?.timezone ?? 'UTC';
  }

  return async ({ userId, courseId, dryRun }) => {
    const knex = db.knex;
    const state = await launchStateQuery.all([userId, userId, courseId, userId]);
    const programs = state.filter((row) => row.kind === 'p');
    const assigned = programs.filter((p) => p.assignment_status === 'active' && Number(p.blocking_exceptions) === 0);
    if (!assigned.length) {
      const detail = dryRun
        ? programs.map((p) =>
            Number(p.blocking_exceptions) > 0
              ? `${p.fullname}: the assignment has an open or dismissed exception`
              : `${p.fullname}: ${p.assignment_status ? `assignment is ${p.assignment_status}` : 'not assigned'}`,
          )
        : [];
      if (dryRun && !programs.length) detail.push('The course is not part of any program');
      return abstain([NOT_ASSIGNED_REASON, ...detail], LaunchCode.notAssigned);
    }

    const now = db.now();
    const several = assigned.length > 1;
    const prefix = (p: CandidateRow, reason: string): string => (several ? `${p.fullname}: ${reason}` : reason);
    const reasons: string[] = [];
    let code: string = LaunchCode.unavailable;
    const open: CandidateRow[] = [];
    let timezone: string | undefined;
    for (const p of assigned) {
      const from = p.available_from === null ? null : Number(p.available_from);
      const until = p.available_until === null ? null : Number(p.available_until);
      if (!Number(p.available)) reasons.push(prefix(p, 'This program is not available at the moment'));
      else if (from !== null && now < from) reasons.push(prefix(p, `This program is not available until ${formatDay(from, (timezone ??= await timezoneOf(userId)))}`));
      else if (until !== null && now > until) reasons.push(prefix(p, `This program closed on ${formatDay(until, (timezone ??= await timezoneOf(userId)))}`));
      else open.push(p);
    }

    if (open.length) {
      const structures = await site.services.programs.structures.get(
        knex,
        open.map((p) => ({ id: Number(p.id), version: Number(p.structure_version) })),
      );
      const completions = new Map<number, number>();
      for (const row of state) if (row.kind === 'c') completions.set(Number(row.id), Number(row.completed_at));
      for (const structure of structures) {
        const program = open.find((p) => Number(p.id) === structure.programId)!;
        const decision = canLaunch(structure.compiled, evaluateProgram(structure.compiled, completions), courseId);
        if (decision.allowed) {
          if (dryRun) return { ...allow(`Would enrol through ${program.fullname}`), code: LaunchCode.wouldEnrol };
          await enrol(userId, courseId);
          return { ...allow(`Enrolled through ${program.fullname}`), code: LaunchCode.enrolled };
        }
        code = LaunchCode.locked;
        for (const reason of decision.reasons) reasons.push(prefix(program, reason));
      }
    }
    return abstain(reasons, code);
  };
}
