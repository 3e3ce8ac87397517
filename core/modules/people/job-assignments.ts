import type { Knex } from 'knex';
import type { Executor } from '../../kernel/db/database';
import type { JobAssignmentSnapshot } from './hooks';
import { invalid, WaymarkError, type ErrorDetail } from '../../kernel/errors';
import { num, numOrNull, type PeopleContext } from './context';
import { nodeNotFoundCode, type HierarchyService } from './hierarchy';
import { childPath } from './paths';
import {
  clearManagers,
  deleteJob,
  directReportRows,
  findJobRow,
  insertJob,
  jobRowsAtNodes,
  jobRowsBelow,
  jobRowsOfUser,
  rePathManagement,
  hasDirectReports,
  managedUserIdsQuery,
  teamMemberIdsQuery,
  updateJob,
  usersAtNodesQuery,
  directManagerIds,
  type JobRow,
} from './store/job-assignments';
import type { HierarchyKind, JobAssignment, JobAssignmentInput } from './types';

export interface JobAssignmentService {
  /** Adds a job assignment to a user; unknown referenced ids are 422 naming the field. */
  create(userId: number, input: JobAssignmentInput, trx?: Executor): Promise<JobAssignment>;
  /**
   * Changes a job assignment. Changing the manager rewrites the management path of everyone
   * below in one UPDATE; a manager inside the assignment's own team is 422 MANAGER_CYCLE.
   */
  update(id: number, patch: JobAssignmentInput, trx?: Executor): Promise<JobAssignment>;
  /** Deletes a job assignment; its direct reports are left without a manager. */
  remove(id: number, trx?: Executor): Promise<void>;
  /** 404 JOB_ASSIGNMENT_NOT_FOUND when missing. */
  get(id: number, executor?: Executor): Promise<JobAssignment>;
  find(id: number, executor?: Executor): Promise<JobAssignment | null>;
  listForUser(userId: number, executor?: Executor): Promise<JobAssignment[]>;
  /**
   * A subquery of user ids managed through the job assignment: its direct team, or (allBelow)
   * everyone below it in the management tree. One indexed query either way. A user with several
   * job assignments in the team is listed once per assignment (take DISTINCT where it matters).
   */
  teamQuery(managerJobAssignmentId: number, allBelow: boolean, executor?: Executor): Knex.QueryBuilder;
  /**
   * A subquery of the user ids a person manages, directly or indirectly, through any of their job
   * assignments (a user may be listed more than once). One indexed range per manager assignment.
   */
  managedUsersQuery(managerUserId: number, executor?: Executor): Knex.QueryBuilder;
  /** Whether `managerUserId` manages `userId`, directly or indirectly (the manager's team view and its 403). */
  manages(managerUserId: number, userId: number, executor?: Executor): Promise<boolean>;
  /** Whether anyone reports directly to this user (the header's "My team" link). */
  managesAnyone(userId: number, executor?: Executor): Promise<boolean>;
  /** The users who directly manage `userId`, once each. */
  managerIdsOf(userId: number, executor?: Executor): Promise<number[]>;
}

/** Calls into the other people services (wired in index.ts). */
export interface JobAssignmentDeps {
  hierarchy: HierarchyService;
  userExists(trx: Knex.Transaction, userId: number): Promise<boolean>;
  /** Recomputes dynamic audience membership for these users (their job data changed). */
  usersChanged(trx: Knex.Transaction, users: number[] | Knex.QueryBuilder): Promise<void>;
}

function toJob(row: JobRow): JobAssignment {
  return {
    id: num(row.id),
    userId: num(row.user_id),
    positionId: numOrNull(row.position_id),
    organisationId: numOrNull(row.organisation_id),
    managerJobAssignmentId: numOrNull(row.manager_job_assignment_id),
    managerUserId: numOrNull(row.manager_user_id),
    managerPath: row.manager_path,
    startDate: numOrNull(row.start_date),
    positionAssignedDate: numOrNull(row.position_assigned_date),
    createdAt: num(row.created_at),
    updatedAt: num(row.updated_at),
  };
}

/** The part of a job assignment that onAssignmentChange reports as old/new. */
export function snapshotOf(job: JobAssignment): JobAssignmentSnapshot {
  return {
    positionId: job.positionId,
    organisationId: job.organisationId,
    managerJobAssignmentId: job.managerJobAssignmentId,
    startDate: job.startDate,
    positionAssignedDate: job.positionAssignedDate,
  };
}

function detail(path: string, code: string, message: string): ErrorDetail[] {
  return [{ path, code, message }];
}

/** Internal extras the other people services call. */
export interface JobAssignmentInternals {
  /**
   * A position/organisation subtree moved: every job assignment in it now answers "X and all
   * below" differently, so each gets a job_assignment change (old = new snapshot) for sources.
   */
  hierarchyMoved(trx: Knex.Transaction, kind: HierarchyKind, nodeId: number): Promise<void>;
}

export function createJobAssignmentService(ctx: PeopleContext, deps: JobAssignmentDeps): JobAssignmentService & JobAssignmentInternals {
  const knex = ctx.db.knex;

  async function find(id: number, executor: Executor = knex): Promise<JobAssignment | null> {
    if (!Number.isInteger(id)) return null;
    const row = await findJobRow(executor, id);
    return row ? toJob(row) : null;
  }

  async function checkNode(trx: Knex.Transaction, kind: HierarchyKind, id: number | null | undefined, path: string): Promise<void> {
    if (id === null || id === undefined) return;
    if (!(await deps.hierarchy.find(kind, id, trx)))
      throw invalid(nodeNotFoundCode(kind), `No ${kind} with id ${id}`, detail(path, nodeNotFoundCode(kind), `no ${kind} ${id}`));
  }

  async function managerOf(trx: Knex.Transaction, id: number | null | undefined, userId: number): Promise<JobAssignment | null> {
    if (id === null || id === undefined) return null;
    const manager = await find(id, trx);
    if (!manager) {
      throw invalid(
        'MANAGER_JOB_ASSIGNMENT_NOT_FOUND',
        `No job assignment with id ${id}`,
        detail('managerJobAssignmentId', 'MANAGER_JOB_ASSIGNMENT_NOT_FOUND', `no job assignment ${id}`),
      );
    }
    if (manager.userId === userId) {
      throw invalid('MANAGER_SELF', 'A user cannot be their own manager', detail('managerJobAssignmentId', 'MANAGER_SELF', 'same user'));
    }
    return manager;
  }

  function checkDates(input: JobAssignmentInput): void {
    for (const key of ['startDate', 'positionAssignedDate'] as const) {
      const v = input[key];
      if (v !== undefined && v !== null && !Number.isFinite(v))
        throw invalid('DATE_INVALID', `${key} is not a valid date`, detail(key, 'DATE_INVALID', 'invalid date'));
    }
  }

  /** Assignments strictly below `path`, with their users: the people whose "all below" chain moves. */
  async function below(trx: Knex.Transaction, path: string): Promise<JobAssignment[]> {
    return (await jobRowsBelow(trx, path)).map(toJob);
  }

  /**
   * Rewrites the management path of `job` and everyone below it, then tells listeners about every
   * assignment whose chain moved (the snapshot of those below is unchanged, but "all below
   * manager X" now answers differently for them).
   */
  async function rePath(trx: Knex.Transaction, job: JobAssignment, managerPath: string | null): Promise<JobAssignment[]> {
    const newPath = childPath(managerPath, job.id);
    if (newPath === job.managerPath) return [];
    const moved = await below(trx, job.managerPath);
    await rePathManagement(trx, ctx.db.dialect, job.managerPath, newPath);
    return moved;
  }

  async function emitUnchanged(trx: Knex.Transaction, jobs: JobAssignment[]): Promise<void> {
    for (const j of jobs) {
      const snap = snapshotOf(j);
      await ctx.changed(trx, { type: 'job_assignment', userId: j.userId, jobAssignmentId: j.id, old: snap, new: { ...snap } });
    }
  }

  const service: JobAssignmentService & JobAssignmentInternals = {
    async create(userId, input, trx) {
      checkDates(input);
      return ctx.tx(trx, async (t) => {
        if (!(await deps.userExists(t, userId))) throw new WaymarkError('USER_NOT_FOUND', `User ${userId} not found`, 404);
        await checkNode(t, 'position', input.positionId, 'positionId');
        await checkNode(t, 'organisation', input.organisationId, 'organisationId');
        const manager = await managerOf(t, input.managerJobAssignmentId, userId);
        const now = ctx.db.now();
        const positionId = input.positionId ?? null;
        const id = await insertJob(t, {
          user_id: userId,
          position_id: positionId,
          organisation_id: input.organisationId ?? null,
          manager_job_assignment_id: manager?.id ?? null,
          manager_user_id: manager?.userId ?? null,
          manager_path: '/',
          start_date: input.startDate ?? null,
          position_assigned_date: input.positionAssignedDate !== undefined ? input.positionAssignedDate : positionId !== null ? now : null,
          created_at: now,
          updated_at: now,
        });
        await updateJob(t, id, { manager_path: childPath(manager?.managerPath ?? null, id) });
        const job = (await find(id, t))!;
        await ctx.changed(t, { type: 'job_assignment', userId, jobAssignmentId: id, old: null, new: snapshotOf(job) });
        await deps.usersChanged(t, [userId]);
        return job;
      });
    },

    async update(id, patch, trx) {
      checkDates(patch);
      return ctx.tx(trx, async (t) => {
        const job = await service.get(id, t);
        if (patch.positionId !== undefined) await checkNode(t, 'position', patch.positionId, 'positionId');
        if (patch.organisationId !== undefined) await checkNode(t, 'organisation', patch.organisationId, 'organisationId');
        const changes: Record<string, unknown> = {};
        let moved: JobAssignment[] = [];
        if (patch.managerJobAssignmentId !== undefined && patch.managerJobAssignmentId !== job.managerJobAssignmentId) {
          const manager = await managerOf(t, patch.managerJobAssignmentId, job.userId);
          if (manager && manager.managerPath.startsWith(job.managerPath)) {
            throw invalid(
              'MANAGER_CYCLE',
              'That manager is in this job assignment’s own team',
              detail('managerJobAssignmentId', 'MANAGER_CYCLE', 'would create a cycle'),
            );
          }
          changes.manager_job_assignment_id = manager?.id ?? null;
          changes.manager_user_id = manager?.userId ?? null;
          moved = await rePath(t, job, manager?.managerPath ?? null);
        }
        if (patch.positionId !== undefined && patch.positionId !== job.positionId) {
          changes.position_id = patch.positionId;
          // The position assigned date feeds due dates; it moves when the position does.
          if (patch.positionAssignedDate === undefined) changes.position_assigned_date = patch.positionId === null ? null : ctx.db.now();
        }
        if (patch.organisationId !== undefined) changes.organisation_id = patch.organisationId;
        if (patch.startDate !== undefined) changes.start_date = patch.startDate;
        if (patch.positionAssignedDate !== undefined) changes.position_assigned_date = patch.positionAssignedDate;
        if (Object.keys(changes).length === 0) return job;
        await updateJob(t, id, { ...changes, updated_at: ctx.db.now() });
        const updated = (await find(id, t))!;
        const before = snapshotOf(job);
        const after = snapshotOf(updated);
        if (JSON.stringify(before) !== JSON.stringify(after)) {
          await ctx.changed(t, { type: 'job_assignment', userId: job.userId, jobAssignmentId: id, old: before, new: after });
        }
        await emitUnchanged(t, moved);
        await deps.usersChanged(t, [job.userId]);
        return updated;
      });
    },

    async remove(id, trx) {
      await ctx.tx(trx, async (t) => {
        const job = await service.get(id, t);
        // Direct reports lose their manager and become the tops of their own chains.
        const reports = (await directReportRows(t, id)).map(toJob);
        const moved: JobAssignment[] = [];
        const now = ctx.db.now();
        for (const report of reports) {
          moved.push(...(await rePath(t, report, null)));
        }
        await clearManagers(
          t,
          reports.map((r) => r.id),
          now,
        );
        await deleteJob(t, id);
        await ctx.changed(t, { type: 'job_assignment', userId: job.userId, jobAssignmentId: id, old: snapshotOf(job), new: null });
        for (const report of reports) {
          const old = snapshotOf(report);
          await ctx.changed(t, {
            type: 'job_assignment',
            userId: report.userId,
            jobAssignmentId: report.id,
            old,
            new: { ...old, managerJobAssignmentId: null },
          });
        }
        await emitUnchanged(t, moved);
        await deps.usersChanged(t, [job.userId]);
      });
    },

    async get(id, executor) {
      const job = await find(id, executor);
      if (!job) throw new WaymarkError('JOB_ASSIGNMENT_NOT_FOUND', `Job assignment ${id} not found`, 404);
      return job;
    },

    find,

    async listForUser(userId, executor = knex) {
      return (await jobRowsOfUser(executor, userId)).map(toJob);
    },

    async hierarchyMoved(trx, kind, nodeId) {
      const column = kind === 'position' ? 'position_id' : 'organisation_id';
      const rows = await jobRowsAtNodes(trx, column, deps.hierarchy.descendantsQuery(kind, nodeId, true, trx));
      await emitUnchanged(trx, rows.map(toJob));
      if (rows.length > 0) await deps.usersChanged(trx, usersAtNodesQuery(trx, column, deps.hierarchy.descendantsQuery(kind, nodeId, true, trx)));
    },

    teamQuery(managerJobAssignmentId, allBelow, executor = knex) {
      return teamMemberIdsQuery(executor, ctx.db.dialect, managerJobAssignmentId, allBelow);
    },

    managedUsersQuery(managerUserId, executor = knex) {
      return managedUserIdsQuery(executor, ctx.db.dialect, managerUserId);
    },

    async manages(managerUserId, userId, executor = knex) {
      if (managerUserId === userId) return false;
      const row: unknown = await managedUserIdsQuery(executor, ctx.db.dialect, managerUserId).where('t.user_id', userId).first();
      return row !== undefined;
    },

    managesAnyone(userId, executor = knex) {
      return hasDirectReports(executor, userId);
    },

    managerIdsOf(userId, executor = knex) {
      return directManagerIds(executor, userId);
    },
  };
  return service;
}
