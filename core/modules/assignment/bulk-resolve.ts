import type { Executor } from '../../kernel/db/database';
import { EXCEPTION_ORDERS } from './store/exceptions';
import { countOpenExceptions } from './store/bulk-exceptions';
import type { AssignmentService, ExceptionAction } from './service';

export const BULK_RESOLVE_JOB = 'assignment.bulk_resolve';
/** "All matching" resolves at once up to this many exceptions; more run as a job with progress. */
export const INLINE_RESOLVE = 100;
const BATCH = 200;

/** Every open exception matching the exceptions page's filter, as "select all matching this filter" means it. */
export interface ExceptionScope {
  type?: string;
  programId?: number;
}

export interface BulkResolvePayload extends ExceptionScope {
  action: ExceptionAction;
  byUserId: number | null;
}

export function countMatchingExceptions(executor: Executor, scope: ExceptionScope): Promise<number> {
  return countOpenExceptions(executor, scope);
}

/**
 * Resolves every open exception in the scope, a batch at a time in id order (a keyset walk, so a
 * resolved batch leaving the open list skips nothing), reporting progress after each batch.
 */
export async function resolveMatching(
  service: AssignmentService,
  executor: Executor,
  payload: BulkResolvePayload,
  progress?: (done: number, total: number, message: string) => Promise<void>,
): Promise<{ resolved: number; assigned: number }> {
  const scope = { ...(payload.type ? { type: payload.type } : {}), ...(payload.programId ? { programId: payload.programId } : {}) };
  const total = await countOpenExceptions(executor, scope);
  const order = EXCEPTION_ORDERS[0]!;
  let from: Array<string | number> | null = null;
  let resolved = 0;
  let assigned = 0;
  let seen = 0;
  for (;;) {
    const page = await service.listExceptions({ status: 'open', ...scope }, order, { limit: BATCH, from });
    const ids = page.items.map((e) => e.id);
    if (ids.length) {
      const done = await service.resolveExceptions(ids, payload.action, payload.byUserId);
      resolved += done.resolved;
      assigned += done.assigned;
    }
    seen += ids.length;
    await progress?.(Math.min(seen, total), total, `${resolved} resolved`);
    if (!page.nextCursor || !ids.length) break;
    from = [ids[ids.length - 1]!];
  }
  return { resolved, assigned };
}
