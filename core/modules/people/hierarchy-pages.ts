import type { Request, Response } from 'express';
import type { RouteRegistrar } from '../../kernel/http/routes';
import { WaymarkError, invalid } from '../../kernel/errors';
import { field, pageId, renderView } from '../../kernel/http/render';
import { createBodyValidator } from '../../kernel/http/validation';
import { pageLinks, pagePositionOf } from '../../kernel/http/paging';
import { PickError, pickerOf, pickState, resolvePick, type PickState } from '../../kernel/pickers';
import { NODE_ORDERS } from './store/hierarchy';
import { USER_ORDERS } from './store/users';
import { nodeBody, nodePatchBody } from './routes';
import type { PeoplePagesDeps } from './user-pages';
import type { HierarchyKind, HierarchyNode } from './types';

const PAGE_SIZE = 50;

const KINDS: ReadonlyArray<{ kind: HierarchyKind; base: string; noun: string; article: string; plural: string; picker: string; nav: string }> = [
  { kind: 'position', base: '/admin/positions', noun: 'position', article: 'a', plural: 'Positions', picker: 'positions', nav: 'positions' },
  {
    kind: 'organisation',
    base: '/admin/organisations',
    noun: 'organisation',
    article: 'an',
    plural: 'Organisations',
    picker: 'organisations',
    nav: 'organisations',
  },
];

const ancestorIds = (node: HierarchyNode): number[] =>
  node.path
    .split('/')
    .filter((p) => p !== '')
    .map(Number)
    .filter((id) => id !== node.id);

/**
 * Operator pages for the position and organisation trees: the top level (or a name search) paged
 * by name, a node with its sub-nodes or its holders (both paged), rename, add below, and move
 * (the new parent picked by name; moving under its own descendant is refused in words).
 */
export function registerHierarchyPages(deps: PeoplePagesDeps, pages: RouteRegistrar): void {
  const people = deps.services;
  const validator = createBodyValidator();

  for (const k of KINDS) {
    const picker = () => pickerOf(deps.extensions, k.picker);

    const showList = async (req: Request, res: Response, over: { errors?: string[]; name?: string; parent?: PickState } = {}, status?: number) => {
      const query = req.query as Record<string, unknown>;
      const q = typeof query.q === 'string' ? query.q.trim().slice(0, 100) : '';
      const order = NODE_ORDERS[0]!;
      const position = pagePositionOf(order, query, PAGE_SIZE);
      // The top level, or every node whose name starts with the search (with where it sits).
      const page = await people().hierarchy.list(k.kind, q ? { q } : { root: true }, order, position);
      const where = q ? await picker().labelsOf(page.items.map((n) => n.id)) : new Map();
      renderView(
        req,
        res,
        'admin/hierarchy',
        {
          title: k.plural,
          adminNav: k.nav,
          k,
          q,
          nodes: page.items.map((n) => ({ ...n, hint: where.get(n.id)?.hint ?? null })),
          pager: pageLinks(k.base, { q: q || undefined }, page, position, PAGE_SIZE),
          name: over.name ?? '',
          parent: over.parent ?? (await pickState(picker(), null)),
          errors: over.errors ?? [],
        },
        status,
      );
    };

    pages.page({ method: 'get', path: k.base, access: 'admin', handler: (req, res) => showList(req, res) });
    pages.page({
      method: 'post',
      path: k.base,
      access: 'admin',
      async handler(req, res) {
        const name = field(req.body, 'name');
        let parent: PickState | undefined;
        try {
          const picked = await resolvePick(picker(), req.body, 'parent', { label: `Parent ${k.noun}` });
          parent = await pickState(picker(), picked?.id ?? null);
          const node = await people().hierarchy.create(k.kind, validator.validate(nodeBody, { name, parentId: picked?.id ?? null }));
          res.redirect(303, `${k.base}/${node.id}?notice=node-created`);
        } catch (error) {
          if (error instanceof PickError) return showList(req, res, { errors: [error.message], name, parent: error.state }, 422);
          if (error instanceof WaymarkError && (error.status === 400 || error.status === 422))
            return showList(req, res, { errors: [`Name: ${error.details[0]?.message ?? error.message}`], name, parent }, 422);
          throw error;
        }
      },
    });

    const showNode = async (
      req: Request,
      res: Response,
      node: HierarchyNode,
      over: { errors?: string[]; parent?: PickState; name?: string } = {},
      status?: number,
    ): Promise<void> => {
      const query = req.query as Record<string, unknown>;
      const holders = query.show === 'holders';
      const ancestors = ancestorIds(node);
      const names = await picker().labelsOf(ancestors);
      const trail = ancestors.map((id) => ({ id, name: names.get(id)?.label ?? `${k.noun} ${id}` }));
      let list: { items: unknown[]; pager: unknown };
      if (holders) {
        const order = USER_ORDERS[0]!;
        const position = pagePositionOf(order, query, PAGE_SIZE);
        const filter = k.kind === 'position' ? { positionId: node.id } : { organisationId: node.id };
        const page = await people().users.list(filter, order, position);
        list = { items: page.items, pager: pageLinks(`${k.base}/${node.id}`, { show: 'holders' }, page, position, PAGE_SIZE) };
      } else {
        const order = NODE_ORDERS[0]!;
        const position = pagePositionOf(order, query, PAGE_SIZE);
        const page = await people().hierarchy.list(k.kind, { parentId: node.id }, order, position);
        list = { items: page.items, pager: pageLinks(`${k.base}/${node.id}`, {}, page, position, PAGE_SIZE) };
      }
      const parentId = node.parentId;
      renderView(
        req,
        res,
        'admin/hierarchy-node',
        {
          title: node.name,
          adminNav: k.nav,
          k,
          node,
          trail,
          holders,
          items: list.items,
          pager: list.pager,
          name: over.name ?? node.name,
          parent: over.parent ?? (await pickState(picker(), parentId)),
          errors: over.errors ?? [],
        },
        status,
      );
    };

    pages.page({
      method: 'get',
      path: `${k.base}/:id`,
      access: 'admin',
      async handler(req, res) {
        await showNode(req, res, await people().hierarchy.get(k.kind, pageId(req.params.id, k.plural.slice(0, -1))));
      },
    });

    pages.page({
      method: 'post',
      path: `${k.base}/:id`,
      access: 'admin',
      async handler(req, res) {
        const node = await people().hierarchy.get(k.kind, pageId(req.params.id, k.plural.slice(0, -1)));
        const action = field(req.body, 'action');
        if (action === 'rename') {
          const name = field(req.body, 'name');
          try {
            await people().hierarchy.rename(k.kind, node.id, validator.validate<{ name: string }>(nodePatchBody, { name }).name);
          } catch (error) {
            if (error instanceof WaymarkError && (error.status === 400 || error.status === 422))
              return showNode(req, res, node, { errors: [`Name: ${error.details[0]?.message ?? error.message}`], name }, 422);
            throw error;
          }
          return res.redirect(303, `${k.base}/${node.id}?notice=node-saved`);
        }
        if (action === 'add-child') {
          const name = field(req.body, 'childName');
          try {
            const child = await people().hierarchy.create(k.kind, validator.validate(nodeBody, { name, parentId: node.id }));
            return res.redirect(303, `${k.base}/${child.id}?notice=node-created`);
          } catch (error) {
            if (error instanceof WaymarkError && (error.status === 400 || error.status === 422))
              return showNode(req, res, node, { errors: [`New ${k.noun} below: ${error.details[0]?.message ?? error.message}`] }, 422);
            throw error;
          }
        }
        if (action !== 'move') throw invalid('ACTION_INVALID', 'Choose rename, move or add', [{ path: 'action', message: 'Unknown action' }]);
        let parentState: PickState | undefined;
        try {
          const parent = await resolvePick(picker(), req.body, 'parent', { label: `New parent ${k.noun}` });
          parentState = await pickState(picker(), parent?.id ?? null);
          if (parent && (parent.id === node.id || ancestorIds(await people().hierarchy.get(k.kind, parent.id)).includes(node.id))) {
            const message =
              parent.id === node.id
                ? `“${node.name}” cannot be moved under itself`
                : `“${node.name}” cannot be moved under “${parent.label}”: “${parent.label}” is inside “${node.name}”`;
            return showNode(req, res, node, { errors: [message], parent: parentState }, 422);
          }
          await people().hierarchy.move(
            k.kind,
            node.id,
            validator.validate<{ parentId: number | null }>(nodePatchBody, { parentId: parent?.id ?? null }).parentId,
          );
        } catch (error) {
          if (error instanceof PickError) return showNode(req, res, node, { errors: [error.message], parent: error.state }, 422);
          if (error instanceof WaymarkError && (error.status === 400 || error.status === 422))
            return showNode(req, res, node, { errors: [error.details[0]?.message ?? error.message], parent: parentState }, 422);
          throw error;
        }
        res.redirect(303, `${k.base}/${node.id}?notice=node-moved`);
      },
    });
  }
}
