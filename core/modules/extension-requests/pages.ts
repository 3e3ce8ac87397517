import type { Request, Response } from 'express';
import type { RouteRegistrar } from '../../kernel/http/routes';
import { WaymarkError } from '../../kernel/errors';
import { field, pageId, renderView } from '../../kernel/http/render';
import { pageLinks, pagePositionOf } from '../../kernel/http/paging';
import type { ProgramsService } from '../programs/index';
import { NEWEST_FIRST } from './store/requests';
import { formError, type ExtensionRequestService, type ExtensionRequestView } from './service';

const PAGE = 20;

function viewer(req: Request) {
  // Page routes declared with access 'user' never run without a user.
  if (!req.user) throw new WaymarkError('UNAUTHENTICATED', 'Log in to see this page', 401);
  return req.user;
}

/** The day part of a date-time, for a date field's value. */
const day = (iso: string | null): string => (iso ?? '').slice(0, 10);

/**
 * The learner's request page (`/programs/{id}/extension`: ask, and see what was decided) and the
 * manager's decision page (`/my/team/extension-requests`: pending requests of the team with
 * approve and decline forms, then the decided ones). Both work without JavaScript.
 */
export function registerExtensionPages(service: () => ExtensionRequestService, programs: ProgramsService, pages: RouteRegistrar): void {
  const showRequestPage = async (req: Request, res: Response, programId: number, form?: Record<string, unknown>, status?: number) => {
    const user = viewer(req);
    const program = await programs.get(programId);
    const eligibility = await service().eligibility(programId, user.id);
    const history = await service().list({ userId: user.id, programId }, { limit: PAGE, from: null });
    renderView(
      req,
      res,
      'extensions/request',
      {
        title: `Extension: ${program.fullname}`,
        program: { id: program.id, fullname: program.fullname },
        eligibility,
        currentDue: eligibility.allowed ? new Date(eligibility.dueAt).toISOString() : null,
        form: form ?? {},
        requests: history.items,
      },
      status,
    );
  };

  pages.page({
    method: 'get',
    path: '/programs/:id/extension',
    access: 'user',
    handler: async (req, res) => showRequestPage(req, res, pageId(req.params.id, 'Program')),
  });

  pages.page({
    method: 'post',
    path: '/programs/:id/extension',
    access: 'user',
    async handler(req, res) {
      const programId = pageId(req.params.id, 'Program');
      const input = { dueAt: field(req.body, 'dueAt'), reason: field(req.body, 'reason') };
      try {
        await service().request(programId, viewer(req).id, input);
      } catch (error) {
        const problem = formError(error);
        return showRequestPage(req, res, programId, { ...input, error: problem.message, field: problem.details[0]?.path ?? null }, problem.status);
      }
      res.redirect(303, `/programs/${programId}/extension?notice=extension-requested`);
    },
  });

  const showTeamPage = async (req: Request, res: Response, failed?: { id: number; error: string }, status?: number) => {
    const user = viewer(req);
    const pending = await service().list({ managerId: user.id, status: 'pending' }, { limit: 200, from: null });
    const decidedStatus = req.query.status === 'declined' ? 'declined' : 'approved';
    const position = pagePositionOf(NEWEST_FIRST, req.query, PAGE);
    const decided = await service().list({ managerId: user.id, status: decidedStatus }, position);
    const withForm = (r: ExtensionRequestView) => ({ ...r, suggested: day(r.requestedDueAt), error: failed?.id === r.id ? failed.error : null });
    renderView(
      req,
      res,
      'extensions/team',
      {
        title: 'Extension requests',
        pending: pending.items.map(withForm),
        morePending: pending.nextCursor !== null,
        decided: decided.items,
        decidedStatus,
        pager: pageLinks('/my/team/extension-requests', { status: decidedStatus === 'declined' ? 'declined' : undefined }, decided, position, PAGE),
      },
      status,
    );
  };

  pages.page({ method: 'get', path: '/my/team/extension-requests', access: 'user', handler: (req, res) => showTeamPage(req, res) });

  pages.page({
    method: 'post',
    path: '/extension-requests/:id/decide',
    access: 'user',
    async handler(req, res) {
      const id = pageId(req.params.id, 'Extension request');
      const decision = field(req.body, 'decision') === 'decline' ? 'decline' : 'approve';
      try {
        await service().decide(id, viewer(req), { decision, dueAt: field(req.body, 'dueAt'), reason: field(req.body, 'reason') });
      } catch (error) {
        const problem = formError(error);
        return showTeamPage(req, res, { id, error: problem.message }, problem.status);
      }
      res.redirect(303, `/my/team/extension-requests?notice=extension-${decision === 'approve' ? 'approved' : 'declined'}`);
    },
  });
}
