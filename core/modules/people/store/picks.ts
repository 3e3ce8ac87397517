import type { Executor } from '../../../kernel/db/database';
import { firstByPrefix, mergePicks } from '../../../kernel/pickers';
import type { HierarchyKind } from '../types';

/**
 * The people module's pick-by-name lookups (core/kernel/pickers.ts). Each search is one prefix
 * range per searched column, read in name order from an index and stopped at `limit` (migrations
 * 0014, 0017 and 0022), so a keystroke costs the same at 100,000 users as at 100.
 */

export interface PickRow {
  id: number;
  label: string;
  hint: string | null;
}

interface UserPickRow {
  id: number;
  fullname: string;
  email: string;
  username: string;
}

const userLabel = (r: UserPickRow): PickRow => ({ id: r.id, label: r.fullname, hint: r.email || r.username });

/** Users (not deleted) whose full name, email or username starts with `q`: three index ranges, merged. */
export async function searchUserPicks(executor: Executor, q: string, limit: number): Promise<PickRow[]> {
  const lists = await Promise.all(
    ['fullname', 'email', 'username'].map((column) =>
      firstByPrefix<UserPickRow>(executor('users').select('id', 'fullname', 'email', 'username').where('deleted', false), column, q, limit),
    ),
  );
  return mergePicks(
    lists.map((l) => l.map(userLabel)),
    limit,
  );
}

export async function userPicksById(executor: Executor, ids: readonly number[]): Promise<PickRow[]> {
  if (!ids.length) return [];
  return ((await executor('users').whereIn('id', ids).select('id', 'fullname', 'email', 'username')) as UserPickRow[]).map(userLabel);
}

/** Audiences whose name starts with `q`. */
export async function searchAudiencePicks(executor: Executor, q: string, limit: number, type?: 'static' | 'dynamic'): Promise<PickRow[]> {
  const query = executor('audiences').select('id', 'name', 'type');
  if (type) query.where('type', type);
  const rows = await firstByPrefix<{ id: number; name: string; type: string }>(query, 'name', q, limit);
  return rows.map((r) => ({ id: r.id, label: r.name, hint: `${r.type} audience` }));
}

export async function audiencePicksById(executor: Executor, ids: readonly number[], type?: 'static' | 'dynamic'): Promise<PickRow[]> {
  if (!ids.length) return [];
  const query = executor('audiences').whereIn('id', ids).select('id', 'name', 'type');
  if (type) query.where('type', type);
  const rows = (await query) as Array<{ id: number; name: string; type: string }>;
  return rows.map((r) => ({ id: r.id, label: r.name, hint: `${r.type} audience` }));
}

interface NodePickRow {
  id: number;
  name: string;
  path: string;
}

/** The nodes with their ancestors' names as the hint ("in Sales / EMEA"): one read for every ancestor. */
async function withAncestry(executor: Executor, rows: NodePickRow[]): Promise<PickRow[]> {
  const ancestorsOf = (r: NodePickRow): number[] =>
    r.path
      .split('/')
      .filter((p) => p !== '')
      .map(Number)
      .filter((id) => id !== r.id);
  const ancestorIds = [...new Set(rows.flatMap(ancestorsOf))];
  const names = new Map<number, string>();
  if (ancestorIds.length) {
    const found = (await executor('hierarchy_nodes').whereIn('id', ancestorIds).select('id', 'name')) as Array<{ id: number; name: string }>;
    for (const a of found) names.set(a.id, a.name);
  }
  return rows.map((r) => {
    const ancestry = ancestorsOf(r).map((id) => names.get(id) ?? '?');
    return { id: r.id, label: r.name, hint: ancestry.length ? `in ${ancestry.join(' / ')}` : null };
  });
}

/** Positions or organisations whose name starts with `q`. */
export async function searchNodePicks(executor: Executor, kind: HierarchyKind, q: string, limit: number): Promise<PickRow[]> {
  const query = executor('hierarchy_nodes').select('id', 'name', 'path').where('kind', kind);
  return withAncestry(executor, await firstByPrefix<NodePickRow>(query, 'name', q, limit));
}

export async function nodePicksById(executor: Executor, kind: HierarchyKind, ids: readonly number[]): Promise<PickRow[]> {
  if (!ids.length) return [];
  const rows = (await executor('hierarchy_nodes').where('kind', kind).whereIn('id', ids).select('id', 'name', 'path')) as NodePickRow[];
  return withAncestry(executor, rows);
}

interface FieldPickRow {
  id: number;
  name: string;
  shortname: string;
}
const fieldLabel = (r: FieldPickRow): PickRow => ({ id: r.id, label: r.name, hint: r.shortname });

/** Custom profile fields whose name or short name starts with `q`. */
export async function searchFieldPicks(executor: Executor, q: string, limit: number): Promise<PickRow[]> {
  const lists = await Promise.all(
    ['name', 'shortname'].map((column) => firstByPrefix<FieldPickRow>(executor('profile_fields').select('id', 'name', 'shortname'), column, q, limit)),
  );
  return mergePicks(
    lists.map((l) => l.map(fieldLabel)),
    limit,
  );
}

export async function fieldPicksById(executor: Executor, ids: readonly number[]): Promise<PickRow[]> {
  if (!ids.length) return [];
  return ((await executor('profile_fields').whereIn('id', ids).select('id', 'name', 'shortname')) as FieldPickRow[]).map(fieldLabel);
}

interface JobPickRow {
  id: number;
  fullname: string;
  email: string;
  position: string | null;
  organisation: string | null;
}

const jobLabel = (r: JobPickRow): PickRow => {
  const where = [r.position, r.organisation].filter((x) => x).join(', ');
  return { id: r.id, label: `${r.fullname} — ${where || `job ${r.id}`}`, hint: r.email };
};

function jobQuery(executor: Executor) {
  return executor('job_assignments as ja')
    .join('users as u', 'u.id', 'ja.user_id')
    .leftJoin('hierarchy_nodes as pos', 'pos.id', 'ja.position_id')
    .leftJoin('hierarchy_nodes as org', 'org.id', 'ja.organisation_id')
    .select('ja.id', 'u.fullname', 'u.email', 'pos.name as position', 'org.name as organisation');
}

/**
 * Job assignments of users whose name starts with `q`, labelled "Ann Smith — Team lead, Sales" (a
 * manager is one of a person's jobs): users in name order from their index, each one's jobs by user id.
 */
export async function searchJobPicks(executor: Executor, q: string, limit: number): Promise<PickRow[]> {
  return (await firstByPrefix<JobPickRow>(jobQuery(executor).where('u.deleted', false), 'u.fullname', q, limit, 'ja.id')).map(jobLabel);
}

export async function jobPicksById(executor: Executor, ids: readonly number[]): Promise<PickRow[]> {
  if (!ids.length) return [];
  return ((await jobQuery(executor).whereIn('ja.id', ids)) as JobPickRow[]).map(jobLabel);
}
