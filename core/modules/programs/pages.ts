import type { Request, Response } from 'express';
import type { Site } from '../../site';
import type { RouteRegistrar } from '../../kernel/http/routes';
import { WaymarkError } from '../../kernel/errors';
import { selectRows } from '../learning/sql';
import { field, pageId, renderView } from '../../kernel/http/render';
import { loadLearnerProgram } from '../learner-views/learner-data';
import { saveTheme } from '../../kernel/themes/theme-setting';
import { OPERATORS, RULES, emptyForm, formFromBody, formFromProgram, readableProblems, setsChanged, toProgramInput, type ProgramFormState } from './program-form';
import { registerAssignmentPages } from '../assignment/pages';
import { assignmentService } from '../assignment/index';

/** Ids in URLs of plugin actions: frankenstyle, nothing that could escape a path. */
const PLUGIN_ID = /^[a-z][a-z0-9]*_[a-z0-9_]+$/;

/** Operator pages under /admin (site administrator only: the route table refuses anyone else with 403). */
export function registerAdminPages(site: Site, pages: RouteRegistrar): void {
  pages.page({
    method: 'get',
    path: '/admin',
    access: 'admin',
    handler(req, res) {
      // Pages that enabled plugins add under /admin/ are listed here and vanish when a plugin is disabled.
      const pluginPages = site.routes
        .pages()
        .filter((r) => r.owner !== 'core' && r.method === 'get' && r.path.startsWith('/admin/') && !r.path.includes(':'))
        .map((r) => ({ owner: r.owner, path: r.path }));
      renderView(req, res, 'admin/index', { title: 'Administration', adminNav: 'index', pluginPages });
    },
  });

  // ---- plugins -------------------------------------------------------------------------------
  pages.page({
    method: 'get',
    path: '/admin/plugins',
    access: 'admin',
    async handler(req, res) {
      const plugins = (await site.plugins.list()).map((p) => ({ ...p, canEnable: !p.enabled && p.state !== 'invalid' && p.state !== 'missing', canDisable: p.enabled }));
      renderView(req, res, 'admin/plugins', { title: 'Plugins', adminNav: 'plugins', plugins });
    },
  });
  for (const action of ['enable', 'disable'] as const) {
    pages.page({
      method: 'post',
      path: `/admin/plugins/:id/${action}`,
      access: 'admin',
      async handler(req, res) {
        const id = String(req.params.id);
        if (!PLUGIN_ID.test(id)) throw new WaymarkError('NOT_FOUND', `Plugin ${id} not found`, 404);
        await (action === 'enable' ? site.plugins.enable(id) : site.plugins.disable(id));
        res.redirect(303, `/admin/plugins?notice=plugin-${action}d`);
      },
    });
  }

  // ---- programs ------------------------------------------------------------------------------
  pages.page({
    method: 'get',
    path: '/admin/programs',
    access: 'admin',
    async handler(req, res) {
      const programs = await selectRows<{ id: number; shortname: string; fullname: string; available: number | boolean; sets: number; learners: number }>(
        site.db.knex,
        `SELECT p.id, p.shortname, p.fullname, p.available,
                (SELECT COUNT(*) FROM program_course_sets s WHERE s.program_id = p.id) AS sets,
                (SELECT COUNT(*) FROM program_user_assignments a WHERE a.program_id = p.id AND a.status = 'active') AS learners
         FROM programs p ORDER BY p.fullname, p.id LIMIT 500`,
      );
      renderView(req, res, 'admin/programs', {
        title: 'Programs',
        adminNav: 'programs',
        programs: programs.map((p) => ({ ...p, id: Number(p.id), sets: Number(p.sets), learners: Number(p.learners), available: p.available === true || Number(p.available) === 1 })),
      });
    },
  });

  const courseOptions = async (): Promise<Array<{ id: number; shortname: string; fullname: string }>> =>
    (await selectRows<{ id: number; shortname: string; fullname: string }>(site.db.knex, 'SELECT id, shortname, fullname FROM courses ORDER BY fullname, id LIMIT 2000')).map((c) => ({ ...c, id: Number(c.id) }));

  const showForm = async (req: Request, res: Response, form: ProgramFormState, extra: { programId?: number; errors?: string[] }, status?: number): Promise<void> => {
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
        const { program } = await site.services.programs.create(input);
        res.redirect(303, `/admin/programs/${program.id}/edit?notice=program-created`);
      } else {
        const stored = await site.services.programs.get(programId);
        const { courseSets, ...rest } = input;
        await site.services.programs.update(programId, setsChanged(stored, courseSets) ? input : rest);
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
      await showForm(req, res, formFromProgram(await site.services.programs.get(programId)), { programId });
    },
  });
  pages.page({ method: 'post', path: '/admin/programs/:id/edit', access: 'admin', handler: (req, res) => submit(req, res, pageId(req.params.id, 'Program')) });

  // ---- learner progress ----------------------------------------------------------------------
  pages.page({
    method: 'get',
    path: '/admin/programs/:id/learners',
    access: 'admin',
    async handler(req, res) {
      const programId = pageId(req.params.id, 'Program');
      const program = await site.services.programs.get(programId);
      const learners = await selectRows<{ id: number; username: string; fullname: string; due_at: number | null; status: string | null; completed_at: number | null }>(
        site.db.knex,
        `SELECT u.id, u.username, u.fullname, a.due_at, pc.status, pc.completed_at
         FROM program_user_assignments a JOIN users u ON u.id = a.user_id
         LEFT JOIN program_completions pc ON pc.program_id = a.program_id AND pc.user_id = a.user_id
         WHERE a.program_id = ? AND a.status = 'active' ORDER BY u.fullname, u.id LIMIT 500`,
        [programId],
      );
      renderView(req, res, 'admin/program-learners', {
        title: `Learners in ${program.fullname}`,
        adminNav: 'programs',
        program,
        learners: learners.map((l) => ({ ...l, id: Number(l.id), complete: l.status === 'complete', dueAt: l.due_at === null ? null : Number(l.due_at), completedAt: l.completed_at === null ? null : Number(l.completed_at) })),
      });
    },
  });

  pages.page({
    method: 'get',
    path: '/admin/programs/:id/learners/:userId',
    access: 'admin',
    async handler(req, res) {
      const programId = pageId(req.params.id, 'Program');
      const userId = pageId(req.params.userId, 'User');
      const learner = await site.services.users.get(userId);
      const program = await loadLearnerProgram(site, programId, userId);
      const assignment = await assignmentService(site).learnerAssignment(programId, userId);
      renderView(req, res, 'admin/learner-progress', { title: `${learner.fullname} in ${program.fullname}`, adminNav: 'programs', learner, program, assignment, launchCheckFor: userId });
    },
  });

  // ---- theme ---------------------------------------------------------------------------------
  const showThemes = (req: Request, res: Response, error?: string, status?: number): void => {
    const active = site.themes.activeTheme();
    const themes = site.themes.listThemes().map((name) => ({ name, active: name === active }));
    renderView(req, res, 'admin/theme', { title: 'Theme', adminNav: 'theme', themes, effective: site.themes.effectiveTheme(), active, error }, status);
  };
  pages.page({ method: 'get', path: '/admin/theme', access: 'admin', handler: (req, res) => showThemes(req, res) });
  pages.page({
    method: 'post',
    path: '/admin/theme',
    access: 'admin',
    async handler(req, res) {
      try {
        await saveTheme(site, field(req.body, 'theme'));
      } catch (error) {
        if (error instanceof WaymarkError && error.status === 422) return showThemes(req, res, error.message, 422);
        throw error;
      }
      res.redirect(303, '/admin/theme?notice=theme-saved');
    },
  });

  registerAssignmentPages(site, pages);
}
