import type { Request, Response } from 'express';
import type { Database } from '../../kernel/db/database';
import type { ExtensionRegistrar, JobRunner } from '../../kernel/features/context';
import type { JobRegistrar } from '../../kernel/jobs/types';
import type { RouteRegistrar } from '../../kernel/http/routes';
import { invalid, WaymarkError } from '../../kernel/errors';
import { parseDateInput } from '../../kernel/dates';
import { field, fields, renderView } from '../../kernel/http/render';
import { pickOrder } from '../../kernel/http/paging';
import { PickError, pickerOf, pickState, resolvePick, type PickState } from '../../kernel/pickers';
import { bulkSelectionOf, listFilterOf, USER_ORDERS, type HierarchyService, type UserFilterChoice, type UserService } from '../people/index';
import { countUserPrograms, userProgramRows } from './store/user-programs';
import type { AssignmentService } from './service';

export const BULK_ASSIGN_JOB = 'assignment.bulk_assign';
/** At most this many ticked users are assigned during the request; more, or "all matching", is a job. */
const INLINE_BULK = 100;
/** Users per page of an "all matching" job: each page is one transaction of rules and one sync job. */
const BULK_BATCH = 1000;

const STATUS_WORDS: Record<string, string> = { active: 'in progress', complete: 'complete', future: 'starts later' };

export interface UserAssignmentPagesDeps {
  db: Database;
  service: AssignmentService;
  users: UserService;
  hierarchy: HierarchyService;
  extensions: Pick<ExtensionRegistrar, 'get' | 'contribute'>;
  queue: JobRunner;
  jobs: JobRegistrar;
  /** The site's time zone: a due date typed as a day means the end of that day there. */
  timezone: string;
}

interface BulkAssignPayload {
  programId: number;
  choice: UserFilterChoice;
  ids?: number[];
  /** A fixed due date for every rule (YYYY-MM-DD), or none. */
  dueDate?: string;
}

/**
 * What the assignment module adds to the operator's user pages: the "Programs" section of a user
 * (each linked to the learner's progress), and "assign a program to the selected users" from the
 * user list, as one individual assignment rule per user (the `individual` source), skipping users
 * who have one on that program already. Many users run as a job with progress.
 */
export function registerUserAssignmentPages(deps: UserAssignmentPagesDeps, pages: RouteRegistrar): void {
  deps.extensions.contribute('userAdminSections', 'programs', {
    title: 'Programs',
    order: 10,
    async lines(userId, limit) {
      const rows = await userProgramRows(deps.db.knex, userId, limit);
      const total = rows.length > limit ? await countUserPrograms(deps.db.knex, userId) : rows.length;
      return {
        items: rows.slice(0, limit).map((r) => ({
          label: r.fullname,
          href: `/admin/programs/${r.programId}/learners/${userId}`,
          hint: [STATUS_WORDS[r.status] ?? r.status, r.dueAt ? `due ${new Date(r.dueAt).toISOString().slice(0, 10)}` : ''].filter((x) => x).join(', '),
        })),
        empty: 'Not assigned to any program.',
        more: total > limit ? { label: `All ${total} programs (the program completion report)`, href: `/admin/reports/program_completion` } : null,
      };
    },
  });

  const dueOf = (dueDate?: string) => (dueDate ? { date: dueDate } : null);

  deps.jobs.define<BulkAssignPayload>({
    name: BULK_ASSIGN_JOB,
    handler: async (job) => {
      const { programId, choice, ids, dueDate } = job.payload;
      const filter = { ...(await listFilterOf({ hierarchy: deps.hierarchy }, choice)), ...(ids ? { ids } : {}) };
      const total = await deps.users.countMatching(filter);
      const order = pickOrder(USER_ORDERS, 'id');
      let done = 0;
      let added = 0;
      let from: Array<string | number> | null = null;
      await job.progress(0, total, 'Assigning');
      for (;;) {
        const page = await deps.users.list(filter, order, { limit: BULK_BATCH, from });
        const assigned = await deps.service.assignUsers(
          programId,
          page.items.map((u) => u.id),
          dueOf(dueDate),
        );
        added += assigned.added;
        done += page.items.length;
        await job.progress(Math.min(done, total), total, `${added} assigned`);
        const last = page.items[page.items.length - 1];
        if (!page.nextCursor || !last) break;
        from = [last.id];
      }
      return { added, seen: done };
    },
  });

  const showConfirm = async (req: Request, res: Response, state: PickState, status: number, problems: string[] = []): Promise<void> => {
    renderView(
      req,
      res,
      'admin/bulk-assign',
      {
        title: 'Assign a program',
        adminNav: 'users',
        scope: field(req.body, 'scope') || 'selected',
        filter: field(req.body, 'filter'),
        userIds: fields(req.body, 'userIds'),
        dueDate: field(req.body, 'dueDate'),
        program: state,
        errors: [...(state.error ? [state.error] : []), ...problems],
      },
      status,
    );
  };

  pages.page({
    method: 'post',
    path: '/admin/assign-program',
    access: 'admin',
    async handler(req, res) {
      if (!deps.extensions.get('assignmentSources', 'individual'))
        throw invalid('SOURCE_DISABLED', 'Assigning to individual users needs the assign_individual plugin: enable it on the plugins page', []);
      let programId: number;
      let programState: PickState;
      const programs = pickerOf(deps.extensions, 'programs');
      try {
        programId = (await resolvePick(programs, req.body, 'programId', { label: 'Program to assign', required: true }))!.id;
        programState = await pickState(programs, programId);
      } catch (error) {
        if (error instanceof PickError) return showConfirm(req, res, error.state, 422);
        throw error;
      }
      // Checked once here, as every rule would check it: a bad date fails before anything is written.
      const dueDate = field(req.body, 'dueDate') || undefined;
      if (dueDate) {
        try {
          parseDateInput(dueDate, { field: 'Due date', zone: deps.timezone });
        } catch (error) {
          if (error instanceof WaymarkError) return showConfirm(req, res, programState, 422, [error.message]);
          throw error;
        }
      }
      const { choice, ids } = bulkSelectionOf(req.body, 'assign');
      if (ids && ids.length <= INLINE_BULK) {
        await deps.service.assignUsers(programId, ids, dueOf(dueDate));
        return res.redirect(303, '/admin/users?notice=programs-assigned');
      }
      const payload: BulkAssignPayload = { programId, choice, ...(ids ? { ids } : {}), ...(dueDate ? { dueDate } : {}) };
      const jobId = await deps.queue.enqueue(BULK_ASSIGN_JOB, payload);
      res.redirect(303, `/admin/jobs/${jobId}`);
    },
  });
}
