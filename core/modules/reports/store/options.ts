import type { Executor } from '../../../kernel/db/database';
import { queryRows } from '../../../kernel/db/sql';
import { learningViews } from '../../learning/index';
import { peopleViews } from '../../people/index';
import { programViews } from '../../programs/index';

/**
 * Names for the report pages' filter pickers: an operator picks a program, audience, organisation,
 * position, manager or course by name and the form sends its id. Each list is capped: a site with
 * more than {@link PICKER_LIMIT} of a kind needs the type-ahead picker (docs/decisions.md).
 */
export const PICKER_LIMIT = 1000;

export interface NamedOption {
  id: number;
  name: string;
  depth?: number;
}

export function programOptions(executor: Executor): Promise<NamedOption[]> {
  return queryRows<NamedOption>(
    executor,
    `SELECT p.id, p.fullname AS name FROM ${programViews.programs.as('p')} ORDER BY p.fullname, p.id LIMIT ${PICKER_LIMIT}`,
  );
}

export function courseOptions(executor: Executor): Promise<NamedOption[]> {
  return queryRows<NamedOption>(
    executor,
    `SELECT c.id, c.fullname AS name FROM ${learningViews.courses.as('c')} ORDER BY c.fullname, c.id LIMIT ${PICKER_LIMIT}`,
  );
}

export function audienceOptions(executor: Executor): Promise<NamedOption[]> {
  return queryRows<NamedOption>(executor, `SELECT a.id, a.name FROM ${peopleViews.audiences.as('a')} ORDER BY a.name, a.id LIMIT ${PICKER_LIMIT}`);
}

/** A tree in path order (parents before children), with depth for indenting. */
export function hierarchyOptions(executor: Executor, kind: 'organisation' | 'position'): Promise<NamedOption[]> {
  return queryRows<NamedOption>(
    executor,
    `SELECT n.id, n.name, n.depth FROM ${peopleViews.hierarchyNodes.as('n')} WHERE n.kind = ? ORDER BY n.path LIMIT ${PICKER_LIMIT}`,
    [kind],
  );
}

/** People who manage someone (someone's job assignment names them as manager). */
export function managerOptions(executor: Executor): Promise<NamedOption[]> {
  return queryRows<NamedOption>(
    executor,
    `SELECT u.id, u.fullname AS name FROM ${peopleViews.users.as('u')}
      WHERE u.id IN (SELECT j.manager_user_id FROM ${peopleViews.jobAssignments.as('j')} WHERE j.manager_user_id IS NOT NULL)
      ORDER BY u.fullname, u.id LIMIT ${PICKER_LIMIT}`,
  );
}
