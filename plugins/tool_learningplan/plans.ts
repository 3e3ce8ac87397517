import {
  assignmentViews,
  conflict,
  isUniqueViolation,
  notFound,
  peopleViews,
  programViews,
  readPage,
  type Database,
  type Executor,
  type KeysetOrder,
  type KeysetPage,
  type Knex,
  type PagePosition,
} from '../../core/index';

/** The plugin's one table: a program in a learner's plan. */
export const PLAN_TABLE = 'tool_learningplan_items';

/** Plans read in the order programs were added to them. */
export const PLAN_ORDER: KeysetOrder = { name: 'added', keys: [{ column: 'i.id', direction: 'asc' }] };

/** How the program's own assignment stands for the learner, next to their plan. */
export type ProgramRoute = 'none' | 'exception' | 'assigned';

/** One program in a learner's plan, as the API and the pages show it. */
export interface PlanItem {
  programId: number;
  fullname: string;
  shortname: string;
  addedAt: string;
  addedBy: { id: number; fullname: string } | null;
  /** The program's own assignment of this learner: none, held by an exception (often this plan's), or assigned. */
  programAssignment: ProgramRoute;
}

interface PlanRow {
  id: number;
  program_id: number;
  fullname: string;
  shortname: string;
  added_at: number | string;
  added_by: number | null;
  added_by_name: string | null;
  assignment_status: string | null;
}

function routeOf(status: string | null): ProgramRoute {
  if (status === 'active') return 'assigned';
  if (status === 'exception') return 'exception';
  return 'none';
}

function toItem(row: PlanRow): PlanItem {
  return {
    programId: Number(row.program_id),
    fullname: row.fullname,
    shortname: row.shortname,
    addedAt: new Date(Number(row.added_at)).toISOString(),
    addedBy: row.added_by === null ? null : { id: Number(row.added_by), fullname: row.added_by_name ?? '' },
    programAssignment: routeOf(row.assignment_status),
  };
}

/**
 * Learning plans: the programs each learner follows on their own plan, outside the program's
 * assignment rules (Totara's learning plans, reduced to their programs). A program in a plan is a
 * conflicting route for assignment (`assignmentConflicts`): a rule reaching the learner raises
 * `already_assigned` and an operator decides which route stands.
 *
 * The plugin reads users, programs and assignments through their owners' published views and writes
 * only its own table; items of deleted programs are hidden by the join (no foreign key into another
 * owner's table).
 */
export class LearningPlans {
  constructor(private readonly db: Database) {}

  /** A keyset page of the learner's plan, in the order programs were added. */
  async list(userId: number, position: PagePosition): Promise<KeysetPage<PlanItem>> {
    const page = await readPage<PlanRow>(this.rows(this.db.knex).where('i.user_id', userId), PLAN_ORDER, position);
    return { ...page, items: page.items.map(toItem) };
  }

  /** How many programs the learner's plan holds. */
  async count(userId: number): Promise<number> {
    const [row] = (await this.db
      .knex(`${PLAN_TABLE} as i`)
      .join(programViews.programs.as('p'), 'p.id', 'i.program_id')
      .where('i.user_id', userId)
      .count({ n: '*' })) as Array<{ n: number | string }>;
    return Number(row?.n ?? 0);
  }

  /**
   * Adds a program to the learner's plan. Refused (409) when the program's own rules already assign
   * it to them, or hold it for them in an exception: the plan would then be a second route to
   * something they have, which is exactly the conflict an operator is asked to settle.
   */
  async add(userId: number, programId: number, byUserId: number | null): Promise<PlanItem> {
    return this.db.transaction(async (trx) => {
      await this.requireLearner(trx, userId);
      const program = (await trx(programViews.programs.as('p')).where('p.id', programId).first('p.id')) as { id: number } | undefined;
      if (!program) throw notFound('Program', programId);
      const assignment = (await trx(assignmentViews.programUserAssignments.as('a'))
        .where({ 'a.program_id': programId, 'a.user_id': userId })
        .first('a.status')) as { status: string } | undefined;
      const route = routeOf(assignment?.status ?? null);
      if (route === 'assigned') throw conflict('PROGRAM_ALREADY_ASSIGNED', 'The learner is already assigned this program by its own assignment rules');
      if (route === 'exception') {
        throw conflict('PROGRAM_ASSIGNMENT_EXCEPTION', "The program's assignment of this learner has an exception: resolve it before planning the program");
      }
      try {
        await trx(PLAN_TABLE).insert({ user_id: userId, program_id: programId, added_by: byUserId, added_at: this.db.now() });
      } catch (error) {
        if (isUniqueViolation(error)) throw conflict('PROGRAM_ALREADY_PLANNED', "The program is already in the learner's plan");
        throw error;
      }
      const [row] = (await this.rows(trx).where({ 'i.user_id': userId, 'i.program_id': programId })) as PlanRow[];
      return toItem(row!);
    });
  }

  /** Takes a program out of the learner's plan; 404 when it was not there. */
  async remove(userId: number, programId: number): Promise<void> {
    const removed = await this.db.knex(PLAN_TABLE).where({ user_id: userId, program_id: programId }).delete();
    if (!removed) throw notFound('Program in this learning plan', programId);
  }

  /** The (program, user) pairs of these programs' plans: what assignment asks of a conflicting route. */
  holders(executor: Executor, programIds: readonly number[]): Knex.QueryBuilder {
    return executor(PLAN_TABLE).whereIn('program_id', programIds).select('program_id', 'user_id');
  }

  private rows(executor: Executor): Knex.QueryBuilder {
    return executor(`${PLAN_TABLE} as i`)
      .join(programViews.programs.as('p'), 'p.id', 'i.program_id')
      .leftJoin(peopleViews.users.as('b'), 'b.id', 'i.added_by')
      .leftJoin(assignmentViews.programUserAssignments.as('a'), (on) => on.on('a.program_id', '=', 'i.program_id').andOn('a.user_id', '=', 'i.user_id'))
      .select('i.id', 'i.program_id', 'p.fullname', 'p.shortname', 'i.added_at', 'i.added_by', 'b.fullname as added_by_name', 'a.status as assignment_status');
  }

  private async requireLearner(executor: Executor, userId: number): Promise<void> {
    const user = (await executor(peopleViews.users.as('u')).where('u.id', userId).first('u.deleted')) as { deleted: number | boolean } | undefined;
    if (!user || Boolean(Number(user.deleted))) throw notFound('User', userId);
  }
}
