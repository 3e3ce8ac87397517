import type { Request, Response } from 'express';
import type { RouteRegistrar } from '../../kernel/http/routes';
import { WaymarkError, invalid } from '../../kernel/errors';
import type { AssignmentContext } from './context';
import { EXCEPTION_ORDERS, openExceptionCount, programsWithOpenExceptions } from './store/exceptions';
import { pageLinks, pagePositionOf } from '../../kernel/http/paging';
import type { AssignmentRuleInput, AssignmentService, ExceptionAction } from './service';
import type { DueRule } from './types';
import { field, fields, pageId, renderView } from '../../kernel/http/render';
import { parseId } from '../../kernel/http/contract';
import { BULK_RESOLVE_JOB, INLINE_RESOLVE, countMatchingExceptions, resolveMatching } from './bulk-resolve';

export const EXCEPTION_TYPES = [
  { value: 'already_assigned', label: 'Already assigned' },
  { value: 'completion_time_unknown', label: 'Completion time unknown' },
  { value: 'time_allowance', label: 'Time allowance' },
] as const;

export const EXCEPTION_ACTIONS: ReadonlyArray<{ value: ExceptionAction; label: string }> = [
  { value: 'set_realistic_due_date', label: 'Set a realistic due date and assign' },
  { value: 'assign', label: 'Assign, keeping the due date' },
  { value: 'dismiss', label: 'Dismiss (stay unassigned)' },
];

/** Reads the "add a rule" form into the REST body shape, so the same validation applies. */
export function ruleFromForm(body: unknown): AssignmentRuleInput {
  const problems: Array<{ path: string; code: string; message: string }> = [];
  const source = field(body, 'source');
  const instanceText = field(body, 'instanceId');
  if (!source) problems.push({ path: 'source', code: 'REQUIRED', message: 'Choose who to assign' });
  if (parseId(instanceText) === null)
    problems.push({ path: 'instanceId', code: 'REQUIRED', message: 'Enter the id of the user, audience, position, organisation or manager job assignment' });
  let due: DueRule = null;
  const kind = field(body, 'dueKind') || 'none';
  if (kind === 'fixed') {
    const date = field(body, 'dueDate');
    if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) problems.push({ path: 'dueDate', code: 'REQUIRED', message: 'Enter the due date as YYYY-MM-DD' });
    // End of that day in UTC: "due 31 March" should still allow work on 31 March everywhere.
    else due = { date: `${date}T23:59:59.000Z` };
  } else if (kind === 'relative') {
    const within = field(body, 'dueWithin');
    const event = field(body, 'dueEvent');
    const eventInstance = field(body, 'dueInstanceId');
    if (!within) problems.push({ path: 'dueWithin', code: 'REQUIRED', message: 'Enter a duration such as P1M' });
    if (!event) problems.push({ path: 'dueEvent', code: 'REQUIRED', message: 'Choose the event the due date counts from' });
    if (eventInstance && parseId(eventInstance) === null)
      problems.push({ path: 'dueInstanceId', code: 'NOT_AN_INTEGER', message: 'The event’s course, program or profile field id must be a whole number' });
    due = { within, event, ...(eventInstance ? { instanceId: Number(eventInstance) } : {}) };
  }
  if (problems.length) throw invalid('RULE_FORM_INVALID', problems[0]!.message, problems);
  return { source, instanceId: Number(instanceText), ...(field(body, 'includeChildren') ? { includeChildren: true } : {}), due };
}

/** Assignment rules of a program and the exceptions report. */
export function registerAssignmentPages(context: AssignmentContext, pages: RouteRegistrar, assignments: AssignmentService): void {
  const service = () => assignments;

  const showRules = async (req: Request, res: Response, errors: string[] = [], status?: number): Promise<void> => {
    const programId = pageId(req.params.id, 'Program');
    const program = await context.programs.get(programId);
    const rules = await service().listRules(programId);
    const sources = context.extensions
      .list('assignmentSources')
      .map((c) => ({ value: c.key, label: c.value.name, selected: c.key === field(req.body, 'source') }))
      .sort((a, b) => a.label.localeCompare(b.label));
    const events = context.extensions
      .list('dueDateEvents')
      .map((c) => ({ value: c.key, label: c.value.label, selected: c.key === field(req.body, 'dueEvent') }))
      .sort((a, b) => a.label.localeCompare(b.label));
    const openExceptions = await openExceptionCount(context.db.knex, programId);
    renderView(
      req,
      res,
      'admin/assignments',
      {
        title: `Assignments of ${program.fullname}`,
        adminNav: 'programs',
        program,
        rules,
        sources,
        events,
        values: req.method === 'POST' ? req.body : {},
        dueKind: field(req.body, 'dueKind') || 'none',
        openExceptions,
        errors,
      },
      status,
    );
  };

  pages.page({ method: 'get', path: '/admin/programs/:id/assignments', access: 'admin', handler: (req, res) => showRules(req, res) });

  pages.page({
    method: 'post',
    path: '/admin/programs/:id/assignments',
    access: 'admin',
    async handler(req, res) {
      const programId = pageId(req.params.id, 'Program');
      try {
        await service().addRule(programId, ruleFromForm(req.body));
      } catch (error) {
        if (error instanceof WaymarkError && (error.status === 422 || error.status === 400)) {
          const messages = error.details.length ? error.details.map((d) => d.message) : [error.message];
          return showRules(req, res, messages, 422);
        }
        throw error;
      }
      res.redirect(303, `/admin/programs/${programId}/assignments?notice=rule-added`);
    },
  });

  pages.page({
    method: 'post',
    path: '/admin/programs/:id/assignments/:ruleId/delete',
    access: 'admin',
    async handler(req, res) {
      const programId = pageId(req.params.id, 'Program');
      await service().removeRule(programId, pageId(req.params.ruleId, 'Assignment rule'));
      res.redirect(303, `/admin/programs/${programId}/assignments?notice=rule-removed`);
    },
  });

  const showExceptions = async (req: Request, res: Response, filter: Record<string, unknown>, errors: string[] = [], status?: number): Promise<void> => {
    const type = typeof filter.type === 'string' && EXCEPTION_TYPES.some((t) => t.value === filter.type) ? filter.type : '';
    const programText = typeof filter.program === 'string' ? filter.program : '';
    const programId = parseId(programText);
    const order = EXCEPTION_ORDERS[0]!;
    const position = pagePositionOf(order, filter);
    // An unknown program in the filter lists nothing rather than failing the page.
    const page = await service()
      .listExceptions({ status: 'open', ...(type ? { type } : {}), ...(programId !== null ? { programId } : {}) }, order, position)
      .catch((error: unknown) => {
        if (error instanceof WaymarkError && error.status === 404) return { items: [], nextCursor: null, prevCursor: null };
        throw error;
      });
    const filterQuery = new URLSearchParams({ ...(type ? { type } : {}), ...(programId !== null ? { program: String(programId) } : {}) }).toString();
    // "Select all N matching": counted only when the filter spans more than this page.
    const matching =
      page.nextCursor || page.prevCursor
        ? await countMatchingExceptions(context.db.knex, { ...(type ? { type } : {}), ...(programId !== null ? { programId } : {}) })
        : page.items.length;
    const programs = await programsWithOpenExceptions(context.db.knex);
    renderView(
      req,
      res,
      'admin/exceptions',
      {
        title: 'Assignment exceptions',
        adminNav: 'exceptions',
        exceptions: page.items.map((e) => ({
          id: e.id,
          program_id: e.programId,
          user_id: e.userId,
          fullname: e.learner.fullname,
          username: e.learner.username,
          program: e.programName,
          explanation: e.explanation,
          raisedAt: e.raisedAt,
          typeLabel: EXCEPTION_TYPES.find((t) => t.value === e.type)?.label ?? e.type,
        })),
        pager: pageLinks('/admin/exceptions', { type: type || undefined, program: programId !== null ? String(programId) : undefined }, page, position),
        types: EXCEPTION_TYPES.map((t) => ({ ...t, selected: t.value === type })),
        programs: programs.map((p) => ({ id: Number(p.id), fullname: p.fullname, selected: Number(p.id) === programId })),
        actions: EXCEPTION_ACTIONS,
        filterQuery,
        matching,
        errors,
      },
      status,
    );
  };

  pages.page({ method: 'get', path: '/admin/exceptions', access: 'admin', handler: (req, res) => showExceptions(req, res, req.query) });

  pages.page({
    method: 'post',
    path: '/admin/exceptions/resolve',
    access: 'admin',
    async handler(req, res) {
      const ids = fields(req.body, 'exceptionIds').flatMap((v) => parseId(v) ?? []);
      const action = field(req.body, 'action') as ExceptionAction;
      const all = field(req.body, 'scope') === 'all';
      const problems: string[] = [];
      if (!ids.length && !all) problems.push('Select at least one exception, or all matching this filter');
      if (!EXCEPTION_ACTIONS.some((a) => a.value === action)) problems.push('Choose what to do with the selected exceptions');
      const back = field(req.body, 'filter');
      if (problems.length) {
        return showExceptions(req, res, Object.fromEntries(new URLSearchParams(back)), problems, 422);
      }
      const query = new URLSearchParams(back);
      if (all) {
        // Every open exception the filter matches, on every page: a job with progress when there are many.
        const typeText = query.get('type') ?? '';
        const scope = {
          ...(EXCEPTION_TYPES.some((t) => t.value === typeText) ? { type: typeText } : {}),
          ...(parseId(query.get('program')) !== null ? { programId: parseId(query.get('program'))! } : {}),
        };
        const payload = { ...scope, action, byUserId: req.user?.id ?? null };
        if ((await countMatchingExceptions(context.db.knex, scope)) > INLINE_RESOLVE) {
          const jobId = await context.queue.enqueue(BULK_RESOLVE_JOB, payload);
          return res.redirect(303, `/admin/jobs/${jobId}`);
        }
        await resolveMatching(service(), context.db.knex, payload);
      } else await service().resolveExceptions(ids, action, req.user?.id ?? null);
      query.set('notice', 'exceptions-resolved');
      res.redirect(303, `/admin/exceptions?${query.toString()}`);
    },
  });
}
