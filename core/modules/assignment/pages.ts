import type { Request, Response } from 'express';
import type { RouteRegistrar } from '../../kernel/http/routes';
import { WaymarkError, type ErrorDetail } from '../../kernel/errors';
import type { AssignmentContext } from './context';
import { EXCEPTION_ORDERS, openExceptionCount } from './store/exceptions';
import { PickError, pickerOf, pickState, resolvePick } from '../../kernel/pickers';
import { pageLinks, pagePositionOf } from '../../kernel/http/paging';
import type { AssignmentService, ExceptionAction } from './service';
import type { AssignmentSource, DueDateEvent, DueRule } from './types';
import { dueEventSchema } from './events';
import { createBodyValidator } from '../../kernel/http/validation';
import { readSchemaForm, savedPicks, schemaForm, schemaProblems } from '../../kernel/http/schema-form';
import type { JsonSchema } from '../../kernel/http/json-schema';
import type { PickState } from '../../kernel/pickers';
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

/** The state of the "add a rule" form: the chosen source and event, what was posted, and its problems. */
interface RuleFormState {
  source: AssignmentSource | null;
  body: Record<string, unknown>;
  sourceValue: Record<string, unknown>;
  eventValue: Record<string, unknown>;
  picks: Map<string, PickState>;
  sourceDetails: ErrorDetail[];
  eventDetails: ErrorDetail[];
  /** Problems of the due-date part outside the event's own fields (date, duration, event). */
  dueProblems: string[];
}

/** Labels of the due-date part's own fields, for its problems in words. */
const dueLabels: JsonSchema = {
  type: 'object',
  properties: { date: { title: 'Due date', type: 'string' }, within: { title: 'Within', type: 'string' }, event: { title: 'Of (event)', enum: [] } },
};

/** Which part of the form a service problem belongs to: `due/...` the due date, anything else the source's fields. */
const isDuePath = (d: ErrorDetail): boolean => /^\/?due(\/|\.|$)/.test(d.path ?? '');
const withoutDue = (d: ErrorDetail): ErrorDetail => ({ ...d, path: (d.path ?? '').replace(/^\/?due[/.]?/, '') });

const validator = createBodyValidator();

/** What the schema's Ajv check says of a value (none when it passes). */
function schemaDetails(schema: JsonSchema, value: unknown): ErrorDetail[] {
  try {
    validator.validate(schema, value);
    return [];
  } catch (error) {
    if (error instanceof WaymarkError) return error.details;
    throw error;
  }
}

const sameField = (a: ErrorDetail, b: ErrorDetail): boolean => (a.path ?? '').replace(/^\//, '') === (b.path ?? '').replace(/^\//, '');

/** Assignment rules of a program and the exceptions report. */
export function registerAssignmentPages(context: AssignmentContext, pages: RouteRegistrar, assignments: AssignmentService): void {
  const service = () => assignments;
  const sourceOf = (type: string): AssignmentSource | null => (type ? (context.extensions.get('assignmentSources', type)?.value ?? null) : null);
  const eventsOf = (source: AssignmentSource | null): Map<string, DueDateEvent> => {
    const events = new Map(context.extensions.list('dueDateEvents').map((c) => [c.key, c.value] as const));
    for (const [key, event] of Object.entries(source?.dueEvents ?? {})) events.set(key, event);
    return events;
  };
  /**
   * The schema the rule form is generated from: the source's instance schema, with `instanceId`
   * picked by name through the source's `picker` when the schema does not say (older sources).
   */
  const formSchemaOf = (source: AssignmentSource): JsonSchema => {
    const properties = (source.instanceSchema.properties ?? {}) as Record<string, JsonSchema>;
    const instanceId = properties.instanceId;
    if (!instanceId || instanceId['x-picker']) return source.instanceSchema;
    const picker = source.picker ?? (context.extensions.get('pickers', source.type) ? source.type : undefined);
    if (!picker) return source.instanceSchema;
    return { ...source.instanceSchema, properties: { ...properties, instanceId: { title: source.name, ...instanceId, 'x-picker': picker } } };
  };

  const showRules = async (req: Request, res: Response, form: RuleFormState, status?: number): Promise<void> => {
    const programId = pageId(req.params.id, 'Program');
    const program = await context.programs.get(programId);
    const rules = await service().listRules(programId);
    const source = form.source;
    const sources = context.extensions
      .list('assignmentSources')
      .map((c) => ({ value: c.key, label: c.value.name, selected: c.key === source?.type }))
      .sort((a, b) => a.label.localeCompare(b.label));
    const events = eventsOf(source);
    const eventKey = field(form.body, 'dueEvent');
    const event = events.get(eventKey) ?? null;
    const sourceSchema = source ? formSchemaOf(source) : null;
    const eventSchema = event ? dueEventSchema(event) : null;
    const openExceptions = await openExceptionCount(context.db.knex, programId);
    const dueErrors = [...form.dueProblems, ...(eventSchema ? schemaProblems(eventSchema, form.eventDetails) : form.eventDetails.map((d) => d.message))];
    renderView(
      req,
      res,
      'admin/assignments',
      {
        title: `Assignments of ${program.fullname}`,
        adminNav: 'programs',
        program,
        // The source by its name ("Audience"), as the "Assign" choice says it; a disabled plugin's by its key.
        rules: rules.map((r) => ({ ...r, sourceName: sourceOf(r.source)?.name ?? r.source })),
        sources,
        source: source ? { type: source.type, name: source.name } : null,
        sourceFields: sourceSchema ? schemaForm(sourceSchema, form.sourceValue, form.sourceDetails, { prefix: 'rule.', picks: form.picks }) : [],
        events: [...events].map(([value, e]) => ({ value, label: e.label, selected: value === eventKey })).sort((a, b) => a.label.localeCompare(b.label)),
        eventFields: eventSchema ? schemaForm(eventSchema, form.eventValue, form.eventDetails, { prefix: 'due.', picks: form.picks }) : [],
        values: form.body,
        dueKind: field(form.body, 'dueKind') || 'none',
        dueErrors,
        openExceptions,
        errors: [...(sourceSchema ? schemaProblems(sourceSchema, form.sourceDetails) : form.sourceDetails.map((d) => d.message)), ...dueErrors],
      },
      status,
    );
  };

  /** The form for a source chosen in step one (`?source=`), empty, with the due-date event as posted. */
  const emptyForm = async (source: AssignmentSource | null, body: Record<string, unknown> = {}): Promise<RuleFormState> => {
    const picks = new Map<string, PickState>();
    if (source) for (const [k, v] of await savedPicks(formSchemaOf(source), {}, context.extensions, { prefix: 'rule.' })) picks.set(k, v);
    const event = eventsOf(source).get(field(body, 'dueEvent'));
    if (event) for (const [k, v] of await savedPicks(dueEventSchema(event), {}, context.extensions, { prefix: 'due.' })) picks.set(k, v);
    return { source, body, sourceValue: {}, eventValue: {}, picks, sourceDetails: [], eventDetails: [], dueProblems: [] };
  };

  pages.page({
    method: 'get',
    path: '/admin/programs/:id/assignments',
    access: 'admin',
    handler: async (req, res) => {
      const source = sourceOf(typeof req.query.source === 'string' ? req.query.source : '');
      await showRules(req, res, await emptyForm(source));
    },
  });

  /**
   * Step two of "add a rule": the source's generated fields and the due date. "Show the event's
   * fields" (action=event) re-renders the form with the chosen event's own fields; "Add rule" saves.
   */
  pages.page({
    method: 'post',
    path: '/admin/programs/:id/assignments',
    access: 'admin',
    async handler(req, res) {
      const programId = pageId(req.params.id, 'Program');
      const body = (req.body ?? {}) as Record<string, unknown>;
      const source = sourceOf(field(body, 'source'));
      if (!source) {
        const form = await emptyForm(null, body);
        form.sourceDetails.push({ path: 'source', code: 'REQUIRED', message: 'Assign: choose who to assign' });
        return showRules(req, res, form, 422);
      }
      const read = await readSchemaForm(formSchemaOf(source), body, context.extensions, { prefix: 'rule.' });
      const kind = field(body, 'dueKind') || 'none';
      const eventKey = field(body, 'dueEvent');
      const event = eventsOf(source).get(eventKey) ?? null;
      const eventRead = event
        ? await readSchemaForm(dueEventSchema(event), body, context.extensions, { prefix: 'due.' })
        : { value: {}, picks: new Map<string, PickState>(), problems: [] };
      const form: RuleFormState = {
        source,
        body,
        sourceValue: read.value,
        eventValue: eventRead.value,
        picks: new Map([...read.picks, ...eventRead.picks]),
        sourceDetails: read.problems,
        eventDetails: kind === 'relative' ? eventRead.problems : [],
        dueProblems: [],
      };
      if (field(body, 'action') === 'event') return showRules(req, res, { ...form, sourceDetails: [], eventDetails: [] });

      let due: DueRule = null;
      if (kind === 'fixed') {
        const date = field(body, 'dueDate');
        if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) form.dueProblems.push('Due date: enter the date');
        // End of that day in UTC: "due 31 March" should still allow work on 31 March everywhere.
        else due = { date: `${date}T23:59:59.000Z` };
      } else if (kind === 'relative') {
        const within = field(body, 'dueWithin');
        if (!within) form.dueProblems.push('Within: enter a duration such as P1M');
        if (!event) form.dueProblems.push('Of (event): choose the event the due date counts from');
        const instanceId = eventRead.value.instanceId;
        due = { within, event: eventKey, ...(typeof instanceId === 'number' ? { instanceId } : {}) };
      }
      if (form.sourceDetails.length || form.eventDetails.length || form.dueProblems.length) {
        // Every problem at once: the schema's own check of the rest of the source's fields too.
        form.sourceDetails.push(...schemaDetails(formSchemaOf(source), read.value).filter((d) => !read.problems.some((p) => sameField(p, d))));
        return showRules(req, res, form, 422);
      }
      try {
        await service().addRule(programId, { source: source.type, ...(read.value as { instanceId: number }), due });
      } catch (error) {
        if (error instanceof WaymarkError && (error.status === 422 || error.status === 400)) {
          const details = error.details.length ? error.details : [{ path: '', code: error.code, message: error.message }];
          form.sourceDetails = details.filter((d) => !isDuePath(d));
          const dueDetails = details.filter(isDuePath).map(withoutDue);
          form.eventDetails = dueDetails.filter((d) => (d.path ?? '').replace(/^\//, '').startsWith('instanceId'));
          form.dueProblems = schemaProblems(
            dueLabels,
            dueDetails.filter((d) => !form.eventDetails.includes(d)),
          );
          return showRules(req, res, form, 422);
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
    const problems = [...errors];
    // The program is picked by name (any number of programs); a link or the bulk form carries its id.
    const programs = pickerOf(context.extensions, 'programs');
    let programId: number | null = null;
    let programPick: PickState;
    // A name that matched nothing, or an id of no program, lists nothing (not every program's).
    let unmatched = false;
    try {
      programId = (await resolvePick(programs, filter, 'program', { label: 'Program' }))?.id ?? null;
      programPick = await pickState(programs, programId);
      unmatched = programId === null && parseId(typeof filter.program === 'string' ? filter.program : '') !== null;
    } catch (error) {
      if (!(error instanceof PickError)) throw error;
      programPick = error.state;
      problems.push(error.message);
      unmatched = true;
    }
    const order = EXCEPTION_ORDERS[0]!;
    const position = pagePositionOf(order, filter);
    // An unknown program in the filter lists nothing rather than failing the page.
    const page = unmatched
      ? { items: [], nextCursor: null, prevCursor: null }
      : await service()
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
        programPick,
        actions: EXCEPTION_ACTIONS,
        filterQuery,
        matching,
        errors: problems,
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
