import type { Knex } from 'knex';
import { isUniqueViolation, type Executor } from '../../../kernel/db/database';
import { readPage, type KeysetOrder, type KeysetPage, type PagePosition } from '../../../kernel/db/keyset';
import { conflict } from '../../../kernel/errors';
import { peopleViews } from '../../people/index';

export interface SavedReportRow {
  id: number;
  name: string;
  report: string;
  query: string;
  on_dashboard: boolean | number;
  created_by: number | null;
  creator_fullname: string | null;
  created_at: number;
  updated_at: number;
}

/** By name (unique), so the list reads like the dashboard. */
export const SAVED_BY_NAME: KeysetOrder = {
  name: 'name',
  keys: [
    { column: 's.name', direction: 'asc' },
    { column: 's.id', direction: 'asc' },
  ],
};

/** The dashboard shows at most this many saved reports (a panel, not a list to page through). */
export const DASHBOARD_LIMIT = 12;

function withCreator(executor: Executor): Knex.QueryBuilder {
  return executor
    .from('saved_reports as s')
    .leftJoin(peopleViews.users.as('u'), 'u.id', 's.created_by')
    .select('s.id', 's.name', 's.report', 's.query', 's.on_dashboard', 's.created_by', 'u.fullname as creator_fullname', 's.created_at', 's.updated_at');
}

export async function savedReportById(executor: Executor, id: number): Promise<SavedReportRow | undefined> {
  return (await withCreator(executor).where('s.id', id))[0] as SavedReportRow | undefined;
}

export function savedReportsPage(executor: Executor, position: PagePosition, filter: { report?: string } = {}): Promise<KeysetPage<SavedReportRow>> {
  const query = withCreator(executor);
  if (filter.report !== undefined) query.where('s.report', filter.report);
  return readPage<SavedReportRow>(query, SAVED_BY_NAME, position, (r) => [r.name, Number(r.id)]);
}

export async function dashboardReports(executor: Executor): Promise<SavedReportRow[]> {
  return (await withCreator(executor).where('s.on_dashboard', true).orderBy('s.name').orderBy('s.id').limit(DASHBOARD_LIMIT)) as SavedReportRow[];
}

const nameTaken = (name: string) => conflict('SAVED_REPORT_NAME_TAKEN', `A saved report is already called "${name}"`);

export async function insertSavedReport(
  executor: Executor,
  row: { name: string; report: string; query: string; on_dashboard: boolean; created_by: number | null; created_at: number },
): Promise<number> {
  try {
    const [id] = (await executor('saved_reports').insert({ ...row, updated_at: row.created_at })) as [number];
    return Number(id);
  } catch (err) {
    if (isUniqueViolation(err)) throw nameTaken(row.name);
    throw err;
  }
}

export async function updateSavedReport(
  executor: Executor,
  id: number,
  patch: { name?: string; query?: string; on_dashboard?: boolean; updated_at: number },
): Promise<boolean> {
  try {
    return (await executor('saved_reports').where({ id }).update(patch)) === 1;
  } catch (err) {
    if (isUniqueViolation(err) && patch.name !== undefined) throw nameTaken(patch.name);
    throw err;
  }
}

export async function deleteSavedReport(executor: Executor, id: number): Promise<boolean> {
  return (await executor('saved_reports').where({ id }).delete()) === 1;
}
