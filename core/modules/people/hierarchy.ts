import type { Knex } from 'knex';
import type { Executor } from '../../kernel/db/database';
import { invalid, WaymarkError } from '../../kernel/errors';
import { num, numOrNull, type PeopleContext } from './context';
import { childPath } from './paths';
import {
  childNodeRows,
  descendantIdsQuery,
  findNodeRow,
  insertNode,
  renameNode,
  rePathSubtree,
  setNodeParent,
  setNodePath,
  nodePage,
  type NodeListFilter,
  type NodeRow,
} from './store/hierarchy';
import type { KeysetOrder, KeysetPage, PagePosition } from '../../kernel/db/keyset';
import type { CreateHierarchyNodeInput, HierarchyKind, HierarchyNode } from './types';

export interface HierarchyService {
  createOrganisation(input: CreateHierarchyNodeInput, trx?: Executor): Promise<HierarchyNode>;
  createPosition(input: CreateHierarchyNodeInput, trx?: Executor): Promise<HierarchyNode>;
  create(kind: HierarchyKind, input: CreateHierarchyNodeInput, trx?: Executor): Promise<HierarchyNode>;
  /** 404 ORGANISATION_NOT_FOUND / POSITION_NOT_FOUND when missing. */
  get(kind: HierarchyKind, id: number, executor?: Executor): Promise<HierarchyNode>;
  find(kind: HierarchyKind, id: number, executor?: Executor): Promise<HierarchyNode | null>;
  /** Direct children, by name; the first `limit` when given (a flat tree may have thousands). */
  children(kind: HierarchyKind, id: number, executor?: Executor, limit?: number): Promise<HierarchyNode[]>;
  rename(kind: HierarchyKind, id: number, name: string, trx?: Executor): Promise<HierarchyNode>;
  /**
   * Re-parents a node (null = make it a root). The whole subtree's paths are rewritten by one
   * UPDATE; a move below its own subtree is refused (422 HIERARCHY_CYCLE). Every job assignment in
   * the subtree gets a job_assignment change (old = new) and its user's dynamic audiences are recomputed.
   */
  move(kind: HierarchyKind, id: number, parentId: number | null, trx?: Executor): Promise<HierarchyNode>;
  /**
   * A subquery of node ids: `nodeId` (when includeSelf) and every node below it. One indexed
   * range query on (kind, path); usable in `whereIn('position_id', ...)`.
   */
  descendantsQuery(kind: HierarchyKind, nodeId: number, includeSelf: boolean, executor?: Executor): Knex.QueryBuilder;
  /** One page of the nodes of `kind` (name prefix, parent, roots), in a named order of {@link NODE_ORDERS}. */
  list(kind: HierarchyKind, filter: NodeListFilter, order: KeysetOrder, position: PagePosition): Promise<KeysetPage<HierarchyNode>>;
}

/** Hooks the hierarchy service calls into the audience service with (wired in index.ts). */
export interface HierarchyDeps {
  /** Called inside the move's transaction once the subtree rooted at `nodeId` has its new paths. */
  subtreeMoved(trx: Knex.Transaction, kind: HierarchyKind, nodeId: number): Promise<void>;
}

function toNode(row: NodeRow): HierarchyNode {
  return {
    id: num(row.id),
    kind: row.kind as HierarchyKind,
    name: row.name,
    parentId: numOrNull(row.parent_id),
    path: row.path,
    depth: num(row.depth),
    createdAt: num(row.created_at),
    updatedAt: num(row.updated_at),
  };
}

/** Stable error codes per tree, e.g. POSITION_NOT_FOUND. */
export const nodeNotFoundCode = (kind: HierarchyKind): string => `${kind.toUpperCase()}_NOT_FOUND`;

export function createHierarchyService(ctx: PeopleContext, deps: HierarchyDeps): HierarchyService {
  const knex = ctx.db.knex;

  async function find(kind: HierarchyKind, id: number, executor: Executor = knex): Promise<HierarchyNode | null> {
    if (!Number.isInteger(id)) return null;
    const row = await findNodeRow(executor, kind, id);
    return row ? toNode(row) : null;
  }

  async function referenced(kind: HierarchyKind, id: number, path: string, executor: Executor): Promise<HierarchyNode> {
    const node = await find(kind, id, executor);
    if (!node) throw invalid(nodeNotFoundCode(kind), `No ${kind} with id ${id}`, [{ path, code: nodeNotFoundCode(kind), message: `no ${kind} ${id}` }]);
    return node;
  }

  const service: HierarchyService = {
    async list(kind, filter, order, position) {
      const page = await nodePage(knex, kind, filter, order, position);
      return { ...page, items: page.items.map(toNode) };
    },
    createOrganisation: (input, trx) => service.create('organisation', input, trx),
    createPosition: (input, trx) => service.create('position', input, trx),

    async create(kind, input, trx) {
      const name = input.name?.trim();
      if (!name) throw invalid('HIERARCHY_NAME_REQUIRED', 'name is required', [{ path: 'name', message: 'required' }]);
      return ctx.tx(trx, async (t) => {
        const parent = input.parentId === undefined || input.parentId === null ? null : await referenced(kind, input.parentId, 'parentId', t);
        const now = ctx.db.now();
        // The path needs the id, which only exists after the insert; the row is never visible half-made.
        const id = await insertNode(t, {
          kind,
          name,
          parent_id: parent?.id ?? null,
          path: '/',
          depth: (parent?.depth ?? 0) + 1,
          created_at: now,
          updated_at: now,
        });
        await setNodePath(t, id, childPath(parent?.path ?? null, id));
        return (await find(kind, id, t))!;
      });
    },

    async get(kind, id, executor) {
      const node = await find(kind, id, executor);
      if (!node) throw new WaymarkError(nodeNotFoundCode(kind), `${kind} ${id} not found`, 404);
      return node;
    },

    find,

    async children(kind, id, executor = knex, limit) {
      return (await childNodeRows(executor, kind, id, limit)).map(toNode);
    },

    async rename(kind, id, name, trx) {
      const trimmed = name?.trim();
      if (!trimmed) throw invalid('HIERARCHY_NAME_REQUIRED', 'name is required', [{ path: 'name', message: 'required' }]);
      return ctx.tx(trx, async (t) => {
        await service.get(kind, id, t);
        await renameNode(t, kind, id, trimmed, ctx.db.now());
        return service.get(kind, id, t);
      });
    },

    async move(kind, id, parentId, trx) {
      return ctx.tx(trx, async (t) => {
        const node = await service.get(kind, id, t);
        const parent = parentId === null ? null : await referenced(kind, parentId, 'parentId', t);
        if (parent && parent.path.startsWith(node.path)) {
          throw invalid('HIERARCHY_CYCLE', `A ${kind} cannot be moved below itself`, [
            { path: 'parentId', code: 'HIERARCHY_CYCLE', message: 'would create a cycle' },
          ]);
        }
        if ((parent?.id ?? null) === node.parentId) return node;
        const newPath = childPath(parent?.path ?? null, node.id);
        const depthDelta = (parent?.depth ?? 0) + 1 - node.depth;
        const now = ctx.db.now();
        await setNodeParent(t, node.id, parent?.id ?? null);
        await rePathSubtree(t, ctx.db.dialect, kind, { oldPath: node.path, newPath, depthDelta, at: now });
        await deps.subtreeMoved(t, kind, node.id);
        return service.get(kind, id, t);
      });
    },

    descendantsQuery(kind, nodeId, includeSelf, executor = knex) {
      return descendantIdsQuery(executor, ctx.db.dialect, kind, nodeId, includeSelf);
    },
  };
  return service;
}
