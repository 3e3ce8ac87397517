import type { Knex } from 'knex';
import type { Executor } from '../../../kernel/db/database';
import { readPage, type KeysetOrder, type KeysetPage, type PagePosition } from '../../../kernel/db/keyset';
import { queryRows, runStatement } from '../../../kernel/db/sql';
import { peopleViews } from '../../people/index';
import { programViews } from '../../programs/index';

export type RequestStatus = 'pending' | 'approved' | 'declined';

/** A request with the names people see: the program, the learner and whoever decided. */
export interface RequestRow {
  id: number;
  program_id: number;
  program_fullname: string;
  user_id: number;
  learner_fullname: string;
  status: RequestStatus;
  due_at: number;
  requested_due_at: number;
  reason: string;
  requested_at: number;
  decided_by: number | null;
  decider_fullname: string | null;
  decided_at: number | null;
  approved_due_at: number | null;
  decision_reason: string | null;
}

/** Newest first; the id is unique, so it alone orders a page. */
export const NEWEST_FIRST: KeysetOrder = { name: 'newest', keys: [{ column: 'r.id', direction: 'desc' }] };

function withNames(executor: Executor): Knex.QueryBuilder {
  return executor
    .from('program_extension_requests as r')
    .join(programViews.programs.as('p'), 'p.id', 'r.program_id')
    .join(peopleViews.users.as('u'), 'u.id', 'r.user_id')
    .leftJoin(peopleViews.users.as('d'), 'd.id', 'r.decided_by')
    .select(
      'r.id',
      'r.program_id',
      'p.fullname as program_fullname',
      'r.user_id',
      'u.fullname as learner_fullname',
      'r.status',
      'r.due_at',
      'r.requested_due_at',
      'r.reason',
      'r.requested_at',
      'r.decided_by',
      'd.fullname as decider_fullname',
      'r.decided_at',
      'r.approved_due_at',
      'r.decision_reason',
    );
}

export async function requestById(executor: Executor, id: number): Promise<RequestRow | undefined> {
  return (await withNames(executor).where('r.id', id))[0] as RequestRow | undefined;
}

/** The learner's pending request in the program, if any. */
export async function pendingRequestId(executor: Executor, programId: number, userId: number): Promise<number | null> {
  const rows = await queryRows<{ id: number }>(
    executor,
    `SELECT id FROM program_extension_requests WHERE user_id = ? AND program_id = ? AND status = 'pending' LIMIT 1`,
    [userId, programId],
  );
  return rows.length ? Number(rows[0]!.id) : null;
}

export async function insertRequest(
  trx: Knex.Transaction,
  row: { program_id: number; user_id: number; due_at: number; requested_due_at: number; reason: string; requested_at: number },
): Promise<number> {
  const [id] = (await trx('program_extension_requests').insert({ ...row, status: 'pending' })) as [number];
  return Number(id);
}

/** Records a decision on a request that is still pending; false when someone decided first. */
export async function recordDecision(
  trx: Knex.Transaction,
  id: number,
  decision: { status: 'approved' | 'declined'; decided_by: number; decided_at: number; approved_due_at: number | null; decision_reason: string | null },
): Promise<boolean> {
  const changed = await runStatement(
    trx,
    `UPDATE program_extension_requests SET status = ?, decided_by = ?, decided_at = ?, approved_due_at = ?, decision_reason = ?
      WHERE id = ? AND status = 'pending'`,
    [decision.status, decision.decided_by, decision.decided_at, decision.approved_due_at, decision.decision_reason, id],
  );
  return changed === 1;
}

export interface RequestFilter {
  /** One learner's requests. */
  userId?: number;
  /** Requests of the learners this subquery of user ids lists (a manager's team). */
  learners?: Knex.QueryBuilder;
  programId?: number;
  status?: RequestStatus;
}

/** A page of requests, newest first. */
export function requestsPage(executor: Executor, filter: RequestFilter, position: PagePosition): Promise<KeysetPage<RequestRow>> {
  const query = withNames(executor);
  if (filter.userId !== undefined) query.where('r.user_id', filter.userId);
  if (filter.learners !== undefined) query.whereIn('r.user_id', filter.learners);
  if (filter.programId !== undefined) query.where('r.program_id', filter.programId);
  if (filter.status !== undefined) query.where('r.status', filter.status);
  return readPage<RequestRow>(query, NEWEST_FIRST, position, (r) => [Number(r.id)]);
}
