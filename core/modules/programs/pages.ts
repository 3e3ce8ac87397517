import type { Request, Response } from 'express';
import type { RouteRegistrar } from '../../kernel/http/routes';
import type { Database } from '../../kernel/db/database';
import type { ProgramsService } from './service';
import { WaymarkError } from '../../kernel/errors';
import { field, pageId, renderView } from '../../kernel/http/render';
import { createBodyValidator } from '../../kernel/http/validation';
import { courseNamesOf, coursesNamed, PROGRAM_ORDERS } from './store/programs';
import { PERIOD_ORDERS } from './store/recurrence';
import { PickError, pickState, resolvePick, type Picker } from '../../kernel/pickers';
import { parseId } from '../../kernel/http/contract';
import { pageLinks, pagePositionOf } from '../../kernel/http/paging';
import { programCreateSchema, programPatchSchema, type ProgramInput, type ProgramPatch } from './program-input';
import {
  OPERATORS,
  RULES,
  createBody,
  editPatch,
  emptyForm,
  formFromBody,
  formFromProgram,
  formProblems,
  readableProblems,
  type ProgramFormState,
} from './program-form';

/** Ids per IN list. */
const CHUNK = 500;

interface CourseName {
  id: number;
  shortname: string;
  fullname: string;
}

/** How a course was offered before the picker ("Full name (short name)"), still matched back to it. */
const choiceText = (c: { shortname: string; fullname: string }): string => `${c.fullname} (${c.shortname})`;

/** Operator pages for programs: the list, and the create and edit forms. */
export function registerProgramPages(site: { db: Database; programs: ProgramsService; courses: () => Picker }, pages: RouteRegistrar): void {
  // The API's own request schemas, applied to what the form parsed (see program-input.ts).
  const validator = createBodyValidator();

  // ---- programs ------------------------------------------------------------------------------
  pages.page({
    method: 'get',
    path: '/admin/programs',
    access: 'admin',
    async handler(req, res) {
      // Searched by name start and paged by keyset, as the API's GET /programs (50 a page by default).
      const q = typeof req.query.q === 'string' ? req.query.q.trim().slice(0, 100) : '';
      const order = PROGRAM_ORDERS[0]!;
      const position = pagePositionOf(order, req.query as Record<string, unknown>);
      const page = await site.programs.list(q ? { q } : {}, order, position);
      renderView(req, res, 'admin/programs', {
        title: 'Programs',
        adminNav: 'programs',
        programs: page.items,
        q,
        pager: pageLinks('/admin/programs', { q: q || undefined }, page, position),
      });
    },
  });

  const namesOf = async (ids: readonly number[]): Promise<Map<number, CourseName>> => {
    const names = new Map<number, CourseName>();
    for (let i = 0; i < ids.length; i += CHUNK) {
      for (const c of await courseNamesOf(site.db.knex, ids.slice(i, i + CHUNK))) names.set(Number(c.id), { ...c, id: Number(c.id) });
    }
    return names;
  };

  /**
   * Moves each "Add a course" box's course into its set's courses. A course picked from the
   * type-ahead or the candidates counts as picked; typed text matches a course's short name, its
   * "Full name (short name)", or a full name no other course has, and otherwise is searched by name
   * start: one match is taken, several come back as choices, none is a problem naming the set.
   */
  const addTypedCourses = async (form: ProgramFormState, body: unknown): Promise<string[]> => {
    const rows = form.sets.filter((s) => s.addCourse !== '');
    if (!rows.length) return [];
    const picked = (row: (typeof rows)[number]): boolean => {
      const name = `set${row.source}_add`;
      return parseId(field(body, name)) !== null && field(body, `${name}_q`) === field(body, `${name}_was`);
    };
    const lookups = new Set<string>();
    for (const row of rows) {
      if (picked(row)) continue;
      lookups.add(row.addCourse);
      // "Full name (short name)": every " (" could start the short name.
      if (row.addCourse.endsWith(')')) {
        for (let k = row.addCourse.indexOf(' ('); k >= 0; k = row.addCourse.indexOf(' (', k + 1)) lookups.add(row.addCourse.slice(k + 2, -1));
      }
    }
    const names = [...lookups];
    const found: CourseName[] = [];
    for (let i = 0; i < names.length; i += CHUNK) {
      for (const c of await coursesNamed(site.db.knex, names.slice(i, i + CHUNK))) found.push({ ...c, id: Number(c.id) });
    }
    const problems: string[] = [];
    for (const row of rows) {
      const text = row.addCourse;
      const byFullname = found.filter((c) => c.fullname === text);
      let courseId: number | undefined = picked(row)
        ? undefined
        : (found.find((c) => choiceText(c) === text) ?? found.find((c) => c.shortname === text) ?? (byFullname.length === 1 ? byFullname[0] : undefined))?.id;
      if (courseId === undefined) {
        try {
          courseId = (await resolvePick(site.courses(), body, `set${row.source}_add`, { label: `Course set ${row.number}` }))?.id;
        } catch (error) {
          if (!(error instanceof PickError)) throw error;
          problems.push(error.message);
          row.addState = await pickState(site.courses(), null, error);
          continue;
        }
      }
      if (courseId === undefined) continue;
      if (!row.courseIds.includes(String(courseId))) row.courseIds.push(String(courseId));
      row.addCourse = '';
    }
    return problems;
  };

  const showForm = async (
    req: Request,
    res: Response,
    form: ProgramFormState,
    extra: { programId?: number; errors?: string[]; focus?: string },
    status?: number,
  ): Promise<void> => {
    // The stored recurrence, said in words above the fields (the periods page has the history).
    const recurrence = extra.programId ? (await site.programs.get(extra.programId)).recurrence : null;
    const chosen = [...new Set(form.sets.flatMap((s) => s.courseIds))].filter((id) => /^[1-9][0-9]{0,15}$/.test(id)).map(Number);
    const names = await namesOf(chosen);
    const sets = form.sets.map((s) => ({
      ...s,
      courses: s.courseIds.map((id) => names.get(Number(id)) ?? { id, fullname: `Course ${id}`, shortname: '', unknown: true }),
      rules: RULES.map((r) => ({ ...r, selected: r.value === s.rule })),
      operators: OPERATORS.map((o) => ({ ...o, selected: o.value === s.operator })),
      focusLabel: extra.focus === `set${s.index}_label`,
      focusAdd: extra.focus === `set${s.index}_add`,
      addName: `set${s.index}_add`,
      addState: s.addState ?? { text: s.addCourse, id: null, candidates: [], error: null },
    }));
    renderView(
      req,
      res,
      'admin/program-form',
      {
        adminNav: 'programs',
        title: extra.programId ? `Edit ${form.fullname || 'program'}` : 'Create a program',
        form: { ...form, sets },
        setCount: form.sets.length,
        action: extra.programId ? `/admin/programs/${extra.programId}/edit` : '/admin/programs/new',
        programId: extra.programId ?? null,
        recurring: form.recurrencePeriod !== '' || recurrence !== null,
        recurrence,
        errors: extra.errors ?? [],
      },
      status,
    );
  };

  const submit = async (req: Request, res: Response, programId: number | null): Promise<void> => {
    const action = field(req.body, 'action');
    const addingSet = action === 'add-set';
    const addingCourse = /^add-course-(\d+)$/.exec(action);
    const form = formFromBody(req.body, addingSet);
    const shown = { programId: programId ?? undefined };
    const limits = formProblems(form);
    if (limits.length) return showForm(req, res, form, { ...shown, errors: readableProblems(limits) }, 422);
    const row = addingCourse ? form.sets.find((s) => s.source === Number(addingCourse[1])) : undefined;
    const focus = addingSet ? `set${form.sets.length - 1}_label` : row ? `set${row.index}_add` : undefined;
    const typed = await addTypedCourses(form, req.body);
    if (typed.length) return showForm(req, res, form, { ...shown, errors: typed, focus }, 422);
    if (addingSet || addingCourse) return showForm(req, res, form, { ...shown, focus });
    try {
      if (programId === null) {
        const input = validator.validate<ProgramInput>(programCreateSchema, createBody(form));
        const { program } = await site.programs.create(input);
        res.redirect(303, `/admin/programs/${program.id}/edit?notice=program-created`);
        return;
      }
      const stored = await site.programs.get(programId);
      const { patch, structureChanged } = editPatch(form, stored);
      if (structureChanged && form.structureVersion !== '' && form.structureVersion !== String(stored.structureVersion)) {
        // Someone changed the sets since this form was filled: saving would silently undo that.
        // (A post without the field, from a script, is not checked.)
        form.structureVersion = String(stored.structureVersion);
        const message =
          'The course sets were changed by someone else after you opened this form. Save again to replace them with the sets below, or reload the page to see the current ones.';
        return showForm(req, res, form, { ...shown, errors: [message] }, 409);
      }
      const body = validator.validate<ProgramPatch>(programPatchSchema, patch);
      if (Object.keys(body).length) await site.programs.update(programId, body);
      res.redirect(303, `/admin/programs/${programId}/edit?notice=program-saved`);
    } catch (error) {
      if (error instanceof WaymarkError && (error.code === 'VALIDATION_FAILED' || error.status === 422 || error.status === 409)) {
        const messages = error.details.length ? readableProblems(error.details) : [error.message];
        return showForm(req, res, form, { ...shown, errors: messages }, error.status === 409 ? 409 : 422);
      }
      throw error;
    }
  };

  pages.page({ method: 'get', path: '/admin/programs/new', access: 'admin', handler: (req, res) => showForm(req, res, emptyForm(), {}) });
  pages.page({ method: 'post', path: '/admin/programs/new', access: 'admin', handler: (req, res) => submit(req, res, null) });
  pages.page({
    method: 'get',
    path: '/admin/programs/:id/edit',
    access: 'admin',
    async handler(req, res) {
      const programId = pageId(req.params.id, 'Program');
      await showForm(req, res, formFromProgram(await site.programs.get(programId)), { programId });
    },
  });
  pages.page({ method: 'post', path: '/admin/programs/:id/edit', access: 'admin', handler: (req, res) => submit(req, res, pageId(req.params.id, 'Program')) });

  // A recurring program's periods: the history of its copies, newest first, paged by keyset.
  const PERIOD_STATUS: Record<string, [string, string]> = {
    upcoming: ['Copy made, hidden until it starts', 'open'],
    current: ['Current', 'complete'],
    past: ['Ended', 'past'],
  };
  pages.page({
    method: 'get',
    path: '/admin/programs/:id/periods',
    access: 'admin',
    async handler(req, res) {
      const programId = pageId(req.params.id, 'Program');
      const program = await site.programs.get(programId);
      const order = PERIOD_ORDERS[0]!;
      const position = pagePositionOf(order, req.query as Record<string, unknown>);
      const page = await site.programs.periods(programId, order, position);
      renderView(req, res, 'admin/program-periods', {
        title: `Periods of ${program.fullname}`,
        adminNav: 'programs',
        program,
        recurrence: program.recurrence,
        periods: page.items.map((p) => ({
          ...p,
          statusLabel: PERIOD_STATUS[p.status]![0],
          statusClass: PERIOD_STATUS[p.status]![1],
          ended: p.status === 'past',
        })),
        pager: pageLinks(`/admin/programs/${programId}/periods`, {}, page, position),
      });
    },
  });
}
