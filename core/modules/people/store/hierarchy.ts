import type { Knex } from 'knex';
import type { Dialect, Executor } from '../../../kernel/db/database';
import type { HierarchyKind } from '../types';
import { rePrefixSql, whereUnder, whereUnderColumn } from './paths';
import { insertId } from './insert';
import { readPage, wherePrefix, type KeysetOrder, type KeysetPage, type PagePosition } from '../../../kernel/db/keyset';

/** A `hierarchy_nodes` row (positions and organisations share the table, told apart by `kind`). */
export interface NodeRow {
  id: number;
  kind: string;
  name: string;
  parent_id: number | null;
  path: string;
  depth: number;
  created_at: number;
  updated_at: number;
}

/** The node of this kind with this id, or undefined. */
export async function findNodeRow(executor: Executor, kind: HierarchyKind, id: number): Promise<NodeRow | undefined> {
  return (await executor('hierarchy_nodes').where({ id, kind }).first()) as NodeRow | undefined;
}

/** The direct children of a node, by name then id; the first `limit` when given. */
export async function childNodeRows(executor: Executor, kind: HierarchyKind, parentId: number, limit?: number): Promise<NodeRow[]> {
  const query = executor('hierarchy_nodes').where({ kind, parent_id: parentId }).orderBy(['name', 'id']);
  if (limit !== undefined) query.limit(limit);
  return (await query) as NodeRow[];
}

/** Inserts a node and returns its id (its path is set once the id exists: {@link setNodePath}). */
export function insertNode(trx: Knex.Transaction, row: Omit<NodeRow, 'id'>): Promise<number> {
  return insertId(trx, 'hierarchy_nodes', row);
}

/** Writes a node's materialised path. */
export async function setNodePath(trx: Knex.Transaction, id: number, path: string): Promise<void> {
  await trx('hierarchy_nodes').where({ id }).update({ path });
}

/** Renames a node of this kind. */
export async function renameNode(trx: Knex.Transaction, kind: HierarchyKind, id: number, name: string, at: number): Promise<void> {
  await trx('hierarchy_nodes').where({ id, kind }).update({ name, updated_at: at });
}

/** Sets a node's parent (its subtree's paths are rewritten by {@link rePathSubtree}). */
export async function setNodeParent(trx: Knex.Transaction, id: number, parentId: number | null): Promise<void> {
  await trx('hierarchy_nodes').where({ id }).update({ parent_id: parentId });
}

/**
 * Moves a whole subtree in one UPDATE: every node of `kind` at or below `oldPath` gets `newPath`
 * in place of that prefix and its depth shifted by `depthDelta`.
 */
export async function rePathSubtree(
  trx: Knex.Transaction,
  dialect: Dialect,
  kind: HierarchyKind,
  move: { oldPath: string; newPath: string; depthDelta: number; at: number },
): Promise<void> {
  await whereUnder(trx('hierarchy_nodes').where('kind', kind), 'path', move.oldPath, true).update({
    path: rePrefixSql(trx, dialect, 'path', move.oldPath, move.newPath),
    depth: trx.raw('depth + ?', [move.depthDelta]),
    updated_at: move.at,
  });
}

/**
 * A subquery of node ids: `nodeId` (when includeSelf) and every node below it. One indexed range
 * query on (kind, path), the root's path read by primary key in the same statement.
 */
export function descendantIdsQuery(executor: Executor, dialect: Dialect, kind: HierarchyKind, nodeId: number, includeSelf: boolean): Knex.QueryBuilder {
  const qb = executor('hierarchy_nodes as d')
    .join('hierarchy_nodes as anchor', (j) => j.on('anchor.id', '=', executor.raw('?', [nodeId])))
    .where('d.kind', kind)
    .where('anchor.kind', kind)
    .select('d.id');
  return whereUnderColumn(dialect, qb, 'd.path', 'anchor.path', includeSelf);
}

/** A subquery of the ids of nodes of `kind` at or below the node whose path is `path`. */
export function idsUnderPathQuery(executor: Executor, kind: string, path: string): Knex.QueryBuilder {
  return whereUnder(executor('hierarchy_nodes').where('kind', kind).select('id'), 'path', path, true);
}

/** The named orders of a position or organisation list (`?sort=`). */
export const NODE_ORDERS: readonly KeysetOrder[] = [
  {
    name: 'name',
    keys: [
      { column: 'name', direction: 'asc', caseInsensitive: true },
      { column: 'id', direction: 'asc' },
    ],
  },
  { name: 'id', keys: [{ column: 'id', direction: 'asc' }] },
];

export interface NodeListFilter {
  /** Name prefix, any case. */
  q?: string;
  /** Only the direct children of this node. */
  parentId?: number;
  /** Only the roots (nodes without a parent). */
  root?: boolean;
}

/** One page of the nodes of `kind`, filtered, in `order`. */
export function nodePage(
  executor: Executor,
  kind: HierarchyKind,
  filter: NodeListFilter,
  order: KeysetOrder,
  position: PagePosition,
): Promise<KeysetPage<NodeRow>> {
  const query = executor('hierarchy_nodes').select('id', 'kind', 'name', 'parent_id', 'path', 'depth', 'created_at', 'updated_at').where('kind', kind);
  if (filter.parentId !== undefined) query.where('parent_id', filter.parentId);
  if (filter.root === true) query.whereNull('parent_id');
  if (filter.root === false) query.whereNotNull('parent_id');
  if (filter.q) wherePrefix(query, ['name'], filter.q);
  return readPage<NodeRow>(query, order, position);
}
