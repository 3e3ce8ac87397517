import { assignmentViews, extensionRequestViews, notFound, programViews, queryRows, type Database } from '../../core/index';
import { loadContext, type Person } from './context';
import { valuesFor } from './sender';
import type { TemplateRenderer } from './templates';
import { EXTENSION_TYPES, type Message } from './types';

export interface Rendered {
  subject: string;
  text: string;
  html: string;
}

/**
 * A message rendered for one learner as it would be sent now: the learner's copy (for an
 * exception report, the administrator's, listing that learner's open exceptions in the program)
 * and the manager copy as their first manager would get it. Reads only; writes nothing.
 */
export async function previewMessage(
  db: Database,
  renderer: TemplateRenderer,
  message: Message,
  userId: number,
  viewer: { id: number; fullname: string; lang: string; timezone: string },
): Promise<{ learner: Rendered; manager: Rendered | null }> {
  const [firstSet] = message.type.startsWith('courseset_')
    ? await queryRows<{ id: number }>(
        db.knex,
        `SELECT s.id FROM ${programViews.programCourseSets.as('s')} WHERE s.program_id = ? ORDER BY s.sortorder LIMIT 1`,
        [message.programId],
      )
    : [];
  const exceptionIds =
    message.type === 'exception_report'
      ? (
          await queryRows<{ id: number }>(
            db.knex,
            `SELECT e.id FROM ${assignmentViews.programExceptions.as('e')} WHERE e.program_id = ? AND e.user_id = ? AND e.status = 'open'`,
            [message.programId, userId],
          )
        ).map((r) => Number(r.id))
      : [];
  // The learner's latest request in the program, for an extension message's placeholders.
  const [latest] = EXTENSION_TYPES.has(message.type)
    ? await queryRows<{ id: number }>(
        db.knex,
        `SELECT r.id FROM ${extensionRequestViews.requests.as('r')} WHERE r.program_id = ? AND r.user_id = ? ORDER BY r.id DESC LIMIT 1`,
        [message.programId, userId],
      )
    : [];
  const row = {
    program_id: message.programId,
    user_id: userId,
    course_set_id: firstSet ? Number(firstSet.id) : 0,
    type: message.type,
    exceptionIds,
    extensionId: latest ? Number(latest.id) : null,
  };
  const ctx = await loadContext(db.knex, [{ ...row, recipient_id: viewer.id }]);
  const learner = ctx.people.get(userId);
  if (!learner) throw notFound('User', userId);
  const self: Person = message.type === 'exception_report' ? { ...viewer, email: '', active: true } : learner;
  const managerName = ctx.managers.get(userId)?.[0];
  const manager: Person = { ...learner, id: 0, email: '', fullname: managerName ?? 'their manager' };
  return {
    learner: renderer.render(message.subject, message.body, valuesFor(row, self, ctx)),
    manager: message.managerCopy
      ? renderer.render(message.managerSubject ?? message.subject, message.managerBody ?? message.body, valuesFor(row, manager, ctx))
      : null,
  };
}
