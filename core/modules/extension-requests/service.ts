import type { Database, Executor } from '../../kernel/db/database';
import type { KeysetPage, PagePosition } from '../../kernel/db/keyset';
import { isoOrNull } from '../../kernel/db/values';
import { parseDateInput } from '../../kernel/dates';
import { conflict, forbidden, invalid, notFound, WaymarkError } from '../../kernel/errors';
import type { PluginHooks } from '../../kernel/hooks/bus';
import type { AuthUser } from '../../kernel/http/routes';
import type { IdentityProvider } from '../../kernel/features/kernel-services';
import type { AssignmentService } from '../assignment/index';
import type { JobAssignmentService } from '../people/index';
import type { ProgramsService } from '../programs/index';
import { insertRequest, pendingRequestId, recordDecision, requestById, requestsPage, type RequestRow, type RequestStatus } from './store/requests';

export const REQUEST_STATUSES: readonly RequestStatus[] = ['pending', 'approved', 'declined'];
/** The longest reason a learner or a manager may give (a paragraph, not an essay). */
export const MAX_REASON = 2000;

export interface ExtensionRequestView {
  id: number;
  program: { id: number; fullname: string };
  learner: { id: number; fullname: string };
  status: RequestStatus;
  /** The due date when the learner asked. */
  dueAt: string;
  requestedDueAt: string;
  reason: string;
  requestedAt: string;
  /** Null while pending. */
  decision: { by: { id: number; fullname: string } | null; at: string; approvedDueAt: string | null; reason: string | null } | null;
}

/** Whether a learner may ask now, and if not why, in words the learner page shows. */
export type Eligibility = { allowed: true; dueAt: number } | { allowed: false; code: string; message: string; pendingId?: number };

export interface RequestInput {
  dueAt: string;
  reason: string;
}

export interface DecisionInput {
  decision: 'approve' | 'decline';
  /** The approved date; the one asked for when left out. */
  dueAt?: string;
  /** Required to decline, so the learner learns why. */
  reason?: string;
}

export interface RequestListFilter {
  userId?: number;
  /** Requests of the learners this manager manages, directly or from higher up. */
  managerId?: number;
  programId?: number;
  status?: RequestStatus;
}

export interface ExtensionRequestService {
  eligibility(programId: number, userId: number): Promise<Eligibility>;
  /** The learner asks for `input.dueAt`; 409 with the reason when they may not, 422 for a date not after the current one. */
  request(programId: number, userId: number, input: RequestInput): Promise<ExtensionRequestView>;
  /** A manager of the learner (or an administrator) decides; 403 for anyone else, 409 once decided. */
  decide(requestId: number, decider: AuthUser, input: DecisionInput): Promise<ExtensionRequestView>;
  /** One request, for the learner, their managers and administrators (403 for anyone else). */
  get(requestId: number, viewer: AuthUser): Promise<ExtensionRequestView>;
  list(filter: RequestListFilter, position: PagePosition): Promise<KeysetPage<ExtensionRequestView>>;
  /** Whether `viewer` may see and decide `userId`'s requests: an administrator, or one of their managers. */
  mayDecideFor(viewer: AuthUser, userId: number, executor?: Executor): Promise<boolean>;
}

export interface ExtensionRequestDeps {
  db: Database;
  hooks: PluginHooks;
  timezone: string;
  identity: Pick<IdentityProvider, 'lockLearners'>;
  assignment: AssignmentService;
  programs: ProgramsService;
  jobAssignments: JobAssignmentService;
}

function toView(row: RequestRow): ExtensionRequestView {
  return {
    id: Number(row.id),
    program: { id: Number(row.program_id), fullname: row.program_fullname },
    learner: { id: Number(row.user_id), fullname: row.learner_fullname },
    status: row.status,
    dueAt: isoOrNull(row.due_at)!,
    requestedDueAt: isoOrNull(row.requested_due_at)!,
    reason: row.reason,
    requestedAt: isoOrNull(row.requested_at)!,
    decision:
      row.decided_at === null
        ? null
        : {
            by: row.decided_by === null ? null : { id: Number(row.decided_by), fullname: row.decider_fullname ?? '' },
            at: isoOrNull(row.decided_at)!,
            approvedDueAt: isoOrNull(row.approved_due_at),
            reason: row.decision_reason,
          },
  };
}

function reasonText(value: string | undefined, path: string, required: boolean): string | null {
  const text = (value ?? '').trim();
  if (text === '') {
    if (!required) return null;
    throw invalid('REASON_REQUIRED', 'Say why', [{ path, code: 'REASON_REQUIRED', message: 'Say why' }]);
  }
  if (text.length > MAX_REASON)
    throw invalid('REASON_TOO_LONG', `Keep it under ${MAX_REASON} characters`, [
      { path, code: 'REASON_TOO_LONG', message: `at most ${MAX_REASON} characters` },
    ]);
  return text;
}

/**
 * Due-date extension requests (DOMAIN 9): a learner with a due date in a program that allows it
 * asks for a later date with a reason; one of their managers (direct or higher up) or an
 * administrator approves it, possibly with another later date, or declines it with a reason. An
 * approval moves the due date in the same transaction. Both steps publish an event after commit,
 * which notify_program turns into the extension_request and extension_decided messages.
 */
export function createExtensionRequestService(deps: ExtensionRequestDeps): ExtensionRequestService {
  const { db } = deps;
  const laterThan = (current: number, value: string, path: string): number => {
    const date = parseDateInput(value, { field: path, zone: deps.timezone });
    if (date <= current) {
      const message = `must be after the current due date, ${new Date(current).toISOString()}`;
      throw invalid('EXTENSION_DATE_NOT_LATER', `${path} ${message}`, [{ path, code: 'EXTENSION_DATE_NOT_LATER', message }]);
    }
    return date;
  };
  const view = async (id: number): Promise<ExtensionRequestView> => {
    const row = await requestById(db.knex, id);
    if (!row) throw notFound('Extension request', id);
    return toView(row);
  };

  const service: ExtensionRequestService = {
    async eligibility(programId, userId) {
      const program = await deps.programs.get(programId);
      if (!program.allowExtensionRequests) return { allowed: false, code: 'EXTENSIONS_NOT_ALLOWED', message: 'This program does not take extension requests.' };
      const assignment = await deps.assignment.learnerAssignment(programId, userId);
      if (!assignment.assigned) return { allowed: false, code: 'NOT_ASSIGNED', message: 'You are not assigned to this program.' };
      if (assignment.dueAt === null)
        return { allowed: false, code: 'NO_DUE_DATE', message: 'This program has no due date for you, so there is nothing to extend.' };
      if ((await deps.programs.completionOf(programId, userId)).status === 'complete')
        return { allowed: false, code: 'ALREADY_COMPLETE', message: 'You have completed this program.' };
      if (!(await deps.jobAssignments.managerIdsOf(userId)).length)
        return {
          allowed: false,
          code: 'NO_MANAGER',
          message: 'You have no manager to decide on a request, so you cannot ask for an extension. Ask your administrator.',
        };
      const pending = await pendingRequestId(db.knex, programId, userId);
      if (pending !== null) return { allowed: false, code: 'REQUEST_PENDING', message: 'Your request is waiting for your manager.', pendingId: pending };
      return { allowed: true, dueAt: Date.parse(assignment.dueAt) };
    },

    async request(programId, userId, input) {
      const reason = reasonText(input.reason, 'reason', true)!;
      const eligible = await service.eligibility(programId, userId);
      if (!eligible.allowed) throw conflict(eligible.code, eligible.message);
      const requested = laterThan(eligible.dueAt, input.dueAt, 'dueAt');
      const id = await db.transaction(async (trx) => {
        // One request at a time per learner: concurrent submissions queue on the learner's lock,
        // then the second finds the first; and the due date asked about must still be the one.
        await deps.identity.lockLearners(trx, [userId]);
        if ((await pendingRequestId(trx, programId, userId)) !== null) throw conflict('REQUEST_PENDING', 'Your request is waiting for your manager.');
        const now = await deps.assignment.learnerAssignment(programId, userId, trx);
        if (!now.assigned || now.dueAt === null || Date.parse(now.dueAt) !== eligible.dueAt)
          throw conflict('DUE_DATE_CHANGED', 'Your due date changed meanwhile; look at it again before asking');
        const requestId = await insertRequest(trx, {
          program_id: programId,
          user_id: userId,
          due_at: eligible.dueAt,
          requested_due_at: requested,
          reason,
          requested_at: db.now(),
        });
        await deps.hooks.publish('afterExtensionRequested', trx, { requestId, programId, userId });
        return requestId;
      });
      return view(id);
    },

    async decide(requestId, decider, input) {
      const id = await db.transaction(async (trx) => {
        const row = await requestById(trx, requestId);
        if (!row) throw notFound('Extension request', requestId);
        if (!(await service.mayDecideFor(decider, Number(row.user_id), trx))) {
          throw forbidden(Number(row.user_id) === decider.id ? 'Your manager decides on your request' : 'You may decide only for the people you manage');
        }
        if (row.status !== 'pending') throw conflict('REQUEST_DECIDED', `This request was already ${row.status}`);
        const programId = Number(row.program_id);
        const userId = Number(row.user_id);
        const now = db.now();
        if (input.decision === 'decline') {
          const reason = reasonText(input.reason, 'reason', true);
          if (
            !(await recordDecision(trx, requestId, {
              status: 'declined',
              decided_by: decider.id,
              decided_at: now,
              approved_due_at: null,
              decision_reason: reason,
            }))
          )
            throw conflict('REQUEST_DECIDED', 'This request was decided meanwhile');
        } else {
          const assignment = await deps.assignment.learnerAssignment(programId, userId, trx);
          if (!assignment.assigned || assignment.dueAt === null)
            throw conflict('NOT_ASSIGNED', `${row.learner_fullname} is no longer assigned to this program with a due date`);
          const current = Date.parse(assignment.dueAt);
          const approved = input.dueAt === undefined || input.dueAt === '' ? Number(row.requested_due_at) : laterThan(current, input.dueAt, 'dueAt');
          if (approved <= current) throw conflict('EXTENSION_OVERTAKEN', 'The due date has moved past the date asked for; approve with a later date');
          if (!(await deps.assignment.extendDueDate(trx, programId, userId, current, approved)))
            throw conflict('EXTENSION_OVERTAKEN', 'The due date changed meanwhile; reload and decide again');
          const reason = reasonText(input.reason, 'reason', false);
          if (
            !(await recordDecision(trx, requestId, {
              status: 'approved',
              decided_by: decider.id,
              decided_at: now,
              approved_due_at: approved,
              decision_reason: reason,
            }))
          )
            throw conflict('REQUEST_DECIDED', 'This request was decided meanwhile');
        }
        await deps.hooks.publish('afterExtensionDecided', trx, {
          requestId,
          programId,
          userId,
          decision: input.decision === 'approve' ? 'approved' : 'declined',
        });
        return requestId;
      });
      return view(id);
    },

    async get(requestId, viewer) {
      const request = await view(requestId);
      if (request.learner.id !== viewer.id && !(await service.mayDecideFor(viewer, request.learner.id)))
        throw forbidden('You may see only your own and your team’s requests');
      return request;
    },

    async list(filter, position) {
      const learners = filter.managerId === undefined ? undefined : deps.jobAssignments.managedUsersQuery(filter.managerId);
      const page = await requestsPage(db.knex, { userId: filter.userId, learners, programId: filter.programId, status: filter.status }, position);
      return { ...page, items: page.items.map(toView) };
    },

    async mayDecideFor(viewer, userId, executor = db.knex) {
      if (viewer.isAdmin) return true;
      return deps.jobAssignments.manages(viewer.id, userId, executor);
    },
  };
  return service;
}

/** For pages: a WaymarkError's message for a form, rethrowing anything else. */
export function formError(error: unknown): WaymarkError {
  if (error instanceof WaymarkError && (error.status === 409 || error.status === 422)) return error;
  throw error;
}
