import { DateTime } from 'luxon';
import {
  abstain,
  allow,
  availabilityAt,
  canLaunch,
  evaluateProgram,
  type AssignmentService,
  type CourseLaunchArgs,
  type Database,
  type EnrolmentsService,
  type GuardDecision,
  type LaunchCandidate,
  type ProgramsService,
  type UserService,
} from '../../core/index';
import { PROGRAM_METHOD } from './enrolments';

/** Stable decision codes (the diagnostics page and tests assert on these). */
export const LaunchCode = {
  enrolled: 'ENROL_PROGRAM_ENROLLED',
  wouldEnrol: 'ENROL_PROGRAM_WOULD_ENROL',
  notAssigned: 'ENROL_PROGRAM_NOT_ASSIGNED',
  unavailable: 'ENROL_PROGRAM_UNAVAILABLE',
  locked: 'ENROL_PROGRAM_SET_LOCKED',
} as const;

export const NOT_ASSIGNED_REASON = 'You are not assigned to a program containing this course';

function formatDay(ms: number, timezone: string): string {
  let dt = DateTime.fromMillis(ms, { zone: timezone });
  if (!dt.isValid) dt = DateTime.fromMillis(ms, { zone: 'utc' });
  return dt.setLocale('en').toFormat('d MMMM yyyy');
}

/**
 * The enrol_program launch guard (DOMAIN 5): allows, and enrols with method `program`, when the
 * learner has an effective assignment without an open or dismissed exception to an available
 * program that has the course in an open group, or whose earlier period's copy it is and the learner
 * has not finished it (recurring programs). Any one such program is enough. Otherwise it
 * abstains with reasons the learner can act on. In dry-run (explain) mode it writes nothing and
 * adds operator detail to its reasons.
 */
export interface LaunchGuardDeps {
  enrolments: EnrolmentsService;
  programs: ProgramsService;
  assignment: AssignmentService;
  users: UserService;
  db: Database;
}

export function createLaunchGuard(deps: LaunchGuardDeps): (args: CourseLaunchArgs) => Promise<GuardDecision> {
  const timezoneOf = async (userId: number): Promise<string> => (await deps.users.find(userId))?.timezone ?? 'UTC';

  return async ({ userId, courseId, dryRun }) => {
    const state = await deps.assignment.launchState(userId, courseId);
    const programs = state.programs;
    const assigned = programs.filter((p) => p.assignmentStatus === 'active' && !p.blocked);
    if (!assigned.length) {
      const detail = dryRun
        ? programs.map((p) =>
            p.blocked
              ? `${p.fullname}: the assignment has an open or dismissed exception`
              : `${p.fullname}: ${p.assignmentStatus ? `assignment is ${p.assignmentStatus}` : 'not assigned'}`,
          )
        : [];
      if (dryRun && !programs.length) detail.push('The course is not part of any program');
      return abstain([NOT_ASSIGNED_REASON, ...detail], LaunchCode.notAssigned);
    }

    const now = deps.db.now();
    const several = assigned.length > 1;
    const prefix = (p: LaunchCandidate, reason: string): string => (several ? `${p.fullname}: ${reason}` : reason);
    const reasons: string[] = [];
    let code: string = LaunchCode.unavailable;
    const open: LaunchCandidate[] = [];
    let timezone: string | undefined;
    for (const p of assigned) {
      const availability = availabilityAt(p, now);
      if (availability.open) open.push(p);
      else if (availability.reason === 'switched_off') reasons.push(prefix(p, 'This program is not available at the moment'));
      else {
        const day = formatDay(availability.at, (timezone ??= await timezoneOf(userId)));
        reasons.push(prefix(p, availability.reason === 'not_yet' ? `This program is not available until ${day}` : `This program closed on ${day}`));
      }
    }

    // A recurring program's earlier period the learner had not finished: they keep its copy until they do.
    const owed = open.find((p) => p.owedPeriod !== null);
    if (owed) {
      const what = `${owed.fullname} (period ${owed.owedPeriod}, still to finish)`;
      if (dryRun) return { ...allow(`Would enrol through ${what}`), code: LaunchCode.wouldEnrol };
      await deps.enrolments.ensureActive(userId, courseId, PROGRAM_METHOD);
      return { ...allow(`Enrolled through ${what}`), code: LaunchCode.enrolled };
    }

    if (open.length) {
      const structures = await deps.programs.structures.get(
        deps.db.knex,
        open.map((p) => ({ id: p.programId, version: p.structureVersion })),
      );
      for (const structure of structures) {
        const program = open.find((p) => p.programId === structure.programId)!;
        const decision = canLaunch(structure.compiled, evaluateProgram(structure.compiled, state.completions), courseId);
        if (decision.allowed) {
          if (dryRun) return { ...allow(`Would enrol through ${program.fullname}`), code: LaunchCode.wouldEnrol };
          await deps.enrolments.ensureActive(userId, courseId, PROGRAM_METHOD);
          return { ...allow(`Enrolled through ${program.fullname}`), code: LaunchCode.enrolled };
        }
        code = LaunchCode.locked;
        for (const reason of decision.reasons) reasons.push(prefix(program, reason));
      }
    }
    return abstain(reasons, code);
  };
}
