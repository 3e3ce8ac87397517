import type { Request, Response } from 'express';
import type { RouteRegistrar } from '../../kernel/http/routes';
import type { Database } from '../../kernel/db/database';
import type { ProgramsService } from './service';
import { WaymarkError } from '../../kernel/errors';
import { field, pageId, renderView } from '../../kernel/http/render';
import { courseChoices } from './store/programs';
import {
  OPERATORS,
  RULES,
  emptyForm,
  formFromBody,
  formFromProgram,
  readableProblems,
  setsChanged,
  toProgramInput,
  type ProgramFormState,
} from './program-form';

/** Operator pages for programs: the list, and the create and edit forms. */
export function registerProgramPages(site: { db: Database; programs: ProgramsService }, pages: RouteRegistrar): void {
  // ---- programs ------------------------------------------------------------------------------
  pages.page({
    method: 'get',
    path: '/admin/programs',
    access: 'admin',
    async handler(req, res) {
      renderView(req, res, 'admin/programs', { title: 'Programs', adminNav: 'programs', programs: await site.programs.summaries() });
    },
  });

  const courseOptions = async (): Promise<Array<{ id: number; shortname: string; fullname: string }>> =>
    (await courseChoices(site.db.knex)).map((c) => ({ ...c, id: Number(c.id) }));

  const showForm = async (
    req: Request,
    res: Response,
    form: ProgramFormState,
    extra: { programId?: number; errors?: string[] },
    status?: number,
  ): Promise<void> => {
    const courses = await courseOptions();
    const sets = form.sets.map((s) => ({
      ...s,
      courses: courses.map((c) => ({ ...c, selected: s.courseIds.includes(String(c.id)) })),
      rules: RULES.map((r) => ({ ...r, selected: r.value === s.rule })),
      operators: OPERATORS.map((o) => ({ ...o, selected: o.value === s.operator })),
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
        errors: extra.errors ?? [],
      },
      status,
    );
  };

  const submit = async (req: Request, res: Response, programId: number | null): Promise<void> => {
    const adding = field(req.body, 'action') === 'add-set';
    const form = formFromBody(req.body, adding);
    if (adding) return showForm(req, res, form, { programId: programId ?? undefined });
    const { input, problems } = toProgramInput(form);
    if (problems.length) return showForm(req, res, form, { programId: programId ?? undefined, errors: readableProblems(problems) }, 422);
    try {
      if (programId === null) {
        const { program } = await site.programs.create(input);
        res.redirect(303, `/admin/programs/${program.id}/edit?notice=program-created`);
      } else {
        const stored = await site.programs.get(programId);
        const { courseSets, ...rest } = input;
        await site.programs.update(programId, setsChanged(stored, courseSets) ? input : rest);
        res.redirect(303, `/admin/programs/${programId}/edit?notice=program-saved`);
      }
    } catch (error) {
      if (error instanceof WaymarkError && (error.status === 422 || error.status === 409)) {
        const messages = error.details.length ? readableProblems(error.details) : [error.message];
        return showForm(req, res, form, { programId: programId ?? undefined, errors: messages }, error.status);
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
}
