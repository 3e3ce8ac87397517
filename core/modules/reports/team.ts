import type { Database } from '../../kernel/db/database';
import { readPage, type KeysetOrder } from '../../kernel/db/keyset';
import { pagePosition } from '../../kernel/http/paging';
import type { JobAssignmentService, UserService } from '../people/index';
import { teamMembers } from './store/rows';
import type { ReportSource } from './types';

/** One of a manager's reports with their required learning. */
export interface TeamMember {
  id: number;
  username: string;
  fullname: string;
  /** Reports to the manager directly (else through someone in the team). */
  direct: boolean;
  programs: Array<{
    id: number;
    fullname: string;
    status: 'in_progress' | 'overdue' | 'complete';
    progress: number;
    dueAt: string | null;
    overdue: boolean;
    completedAt: string | null;
  }>;
}

export interface TeamPage {
  items: TeamMember[];
  nextCursor: string | null;
  prevCursor: string | null;
}

export interface TeamService {
  /**
   * A page of the manager's direct and indirect reports by name, each with the programs they are
   * assigned to: the program completion report's rows for them (same status, progress and due date),
   * overdue first. 404 for an unknown manager.
   */
  page(managerId: number, query: { limit?: unknown; cursor?: unknown; before?: unknown }): Promise<TeamPage>;
}

const BY_NAME: KeysetOrder = {
  name: 'name',
  keys: [
    { column: 'u.fullname', direction: 'asc' },
    { column: 'u.id', direction: 'asc' },
  ],
};

const STATUS_RANK = { overdue: 0, in_progress: 1, complete: 2 } as const;

export function createTeamService(
  db: Database,
  deps: { users: UserService; jobAssignments: JobAssignmentService },
  programCompletion: ReportSource,
): TeamService {
  return {
    async page(managerId, query) {
      await deps.users.get(managerId);
      const knex = db.knex;
      const position = pagePosition(BY_NAME, query, 50);
      const page = await readPage<{ id: number; username: string; fullname: string; direct: number | string }>(
        teamMembers(knex, deps.jobAssignments.managedUsersQuery(managerId, knex), managerId),
        BY_NAME,
        position,
        (row) => [row.fullname, Number(row.id)],
      );
      const ids = page.items.map((r) => Number(r.id));
      const context = { executor: knex, now: db.now() };
      // The same rows (and numbers) as the program completion report, for this page's people only.
      const raw = ids.length ? ((await programCompletion.query({}, context).whereIn('a.user_id', ids)) as Record<string, unknown>[]) : [];
      const learning = await programCompletion.present(raw, context);
      const byUser = new Map<number, TeamMember['programs']>();
      for (const row of learning) {
        const list = byUser.get(Number(row.userId)) ?? [];
        list.push({
          id: Number(row.programId),
          fullname: String(row.program),
          status: row.status as TeamMember['programs'][number]['status'],
          progress: Number(row.progress),
          dueAt: (row.dueAt as string | null) ?? null,
          overdue: row.overdue === true,
          completedAt: (row.completedAt as string | null) ?? null,
        });
        byUser.set(Number(row.userId), list);
      }
      for (const list of byUser.values()) {
        list.sort(
          (a, b) =>
            STATUS_RANK[a.status] - STATUS_RANK[b.status] || (a.dueAt ?? '\uffff').localeCompare(b.dueAt ?? '\uffff') || a.fullname.localeCompare(b.fullname),
        );
      }
      return {
        items: page.items.map((r) => ({
          id: Number(r.id),
          username: r.username,
          fullname: r.fullname,
          direct: Number(r.direct) === 1,
          programs: byUser.get(Number(r.id)) ?? [],
        })),
        nextCursor: page.nextCursor,
        prevCursor: page.prevCursor,
      };
    },
  };
}
