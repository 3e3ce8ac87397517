import type { Request, Response } from 'express';
import { notFound } from '../errors';
import { parseId } from '../http/contract';

/**
 * Renders a page with what every form needs: the CSRF token (set on res.locals by the session
 * middleware) and a one-line notice passed back through `?notice=` after a redirect.
 */
export function renderView(req: Request, res: Response, view: string, data: Record<string, unknown> = {}, status?: number): void {
  const locals = res.locals as Record<string, unknown>;
  const notice = typeof req.query.notice === 'string' ? NOTICES[req.query.notice] : undefined;
  res.locals.render(view, { csrfToken: locals.csrfToken ?? '', notice, ...data }, status === undefined ? {} : { status });
}

/**
 * Fixed notices a redirect may ask for. Only keys travel in the URL, so nobody can craft a link
 * that puts their own words on the page.
 */
const NOTICES: Record<string, string> = {
  'plugin-enabled': 'The plugin was enabled.',
  'plugin-disabled': 'The plugin was disabled.',
  'program-saved': 'The program was saved.',
  'program-created': 'The program was created.',
  'rule-added': 'The assignment rule was added. Learners are being assigned in the background.',
  'rule-removed': 'The assignment rule was removed. Learners are being updated in the background.',
  'exceptions-resolved': 'The selected exceptions were resolved.',
  'theme-saved': 'The theme was changed.',
  'plugin-settings-saved': 'The plugin settings were saved.',
  'grade-saved': 'Your grade was recorded.',
  'extension-requested': 'Your request was sent to your manager.',
  'extension-approved': 'The extension was approved and the due date moved.',
  'extension-declined': 'The request was declined.',
  'audience-saved': 'The audience was saved.',
  'audience-recomputing': 'The rules were saved. Members are being recomputed in the background.',
  'quiz-saved': 'The quiz was saved.',
  'course-created': 'The course was created.',
  'course-saved': 'The course settings were saved.',
  'course-copied': 'The course was copied. This is the copy (hidden until you make it visible).',
  'section-added': 'The section was added.',
  'section-saved': 'The section was renamed.',
  'section-moved': 'The section was moved.',
  'section-deleted': 'The section was deleted. Its activities are now at the top of the course.',
  'activity-added': 'The activity was added.',
  'activity-saved': 'The activity was saved.',
  'activity-moved': 'The activity was moved.',
  'activity-deleted': 'The activity was deleted.',
  'criteria-saved': 'The completion criteria were saved.',
  'attempt-graded': 'Your answers were submitted and graded.',
  'user-created': 'The user was created.',
  'user-saved': 'The user was saved.',
  'users-suspended': 'The selected users were suspended.',
  'users-reactivated': 'The selected users were reactivated.',
  'programs-assigned': 'The program was assigned to the selected users. Learners are being assigned in the background.',
  'job-saved': 'The job assignment was saved.',
  'job-removed': 'The job assignment was removed.',
  'node-created': 'It was created.',
  'node-saved': 'The name was saved.',
  'node-moved': 'It was moved.',
  'member-added': 'The member was added.',
  'member-removed': 'The member was removed.',
  'report-saved': 'The report was saved.',
  'saved-report-deleted': 'The saved report was deleted.',
  'saved-report-updated': 'The saved report was changed.',
};

/** `/things/:id` parameter as a positive integer; anything else is a 404 (not a 400) on pages. */
export function pageId(value: unknown, what: string): number {
  const id = parseId(value);
  if (id === null) throw notFound(what, String(value ?? ''));
  return id;
}

/** A form field as one trimmed string ('' when absent). */
export function field(body: unknown, name: string): string {
  const value = (body as Record<string, unknown> | undefined)?.[name];
  if (Array.isArray(value)) return String(value[0] ?? '').trim();
  return value === undefined || value === null ? '' : String(value).trim();
}

/** A repeated form field (checkboxes, multi-selects) as a list of strings. */
export function fields(body: unknown, name: string): string[] {
  const value = (body as Record<string, unknown> | undefined)?.[name];
  if (value === undefined || value === null || value === '') return [];
  return (Array.isArray(value) ? value : [value]).map((v) => String(v).trim()).filter((v) => v !== '');
}
