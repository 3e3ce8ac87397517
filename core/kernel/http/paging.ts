import { decodeCursor, type KeysetOrder, type KeysetPage, type PagePosition } from '../db/keyset';
import { WaymarkError } from '../errors';
import type { JsonSchema } from './json-schema';
import { MAX_LIMIT } from './contract';

/**
 * The one list convention of the API and the pages (docs/api.md "Lists"): `?limit=` 1..1000,
 * `?cursor=` the `nextCursor` of the page before, `?sort=` one of the list's named orders; the body
 * is `{items, nextCursor}`. Pages add `?before=` (a `prevCursor`) for their "previous" link.
 */

export const CURSOR_PATTERN = '^[A-Za-z0-9_-]{1,1024}$';

/** `limit` and `cursor`, for a route's `queryParams`. */
export function cursorQuery(defaultLimit = 100): Record<string, JsonSchema> {
  return {
    limit: { type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: defaultLimit, description: `Page size, 1..${MAX_LIMIT}` },
    cursor: { type: 'string', pattern: CURSOR_PATTERN, description: 'The nextCursor of the previous page' },
  };
}

/** `sort`: the names of a list's orders, the first being the default. */
export function sortQuery(orders: readonly KeysetOrder[]): Record<string, JsonSchema> {
  return { sort: { enum: orders.map((o) => o.name), default: orders[0]!.name, description: 'Order of the list' } };
}

/** The response of a list route: one page of `item`s and the cursor of the next page. */
export function listResponse(item: JsonSchema, extra: Record<string, JsonSchema> = {}): JsonSchema {
  const properties = { items: { type: 'array', items: item }, nextCursor: { type: ['string', 'null'] }, ...extra };
  return { type: 'object', properties, required: Object.keys(properties), additionalProperties: false };
}

/** The order a `?sort=` value names (the first order when none is given). */
export function pickOrder<O extends KeysetOrder>(orders: readonly O[], sort: unknown): O {
  return orders.find((o) => o.name === sort) ?? orders[0]!;
}

/**
 * The page a validated query asks for under `order`. A cursor this order did not write (garbled, or
 * from another sort) is 400 QUERY_INVALID, the code an invalid query parameter gets everywhere.
 */
export function pagePosition(order: KeysetOrder, query: { limit?: unknown; cursor?: unknown; before?: unknown }, defaultLimit = 100): PagePosition {
  const limit = typeof query.limit === 'number' ? query.limit : defaultLimit;
  const [name, text, backward] = typeof query.before === 'string' && query.before !== '' ? ['before', query.before, true] : ['cursor', query.cursor, false];
  if (typeof text !== 'string' || text === '') return { limit, from: null };
  const from = decodeCursor(order, text);
  if (from === null) {
    throw new WaymarkError('QUERY_INVALID', `Query is invalid: ${name} is not a cursor of this list in this order`, 400, [
      { path: `/${name}`, code: 'cursor', message: 'is not a cursor of this list in this order' },
    ]);
  }
  return { limit, from, backward };
}

/**
 * The page a page route's query asks for: `?limit=` (1..1000; anything else is the default, as a
 * page reads its plain GET form leniently), `?cursor=` or `?before=`. A cursor this order did not
 * write is 400, as on the API.
 */
export function pagePositionOf(order: KeysetOrder, query: Record<string, unknown>, defaultLimit = 50): PagePosition {
  const text = typeof query.limit === 'string' ? query.limit : '';
  const asked = /^[1-9][0-9]{0,3}$/.test(text) ? Number(text) : NaN;
  const limit = asked >= 1 && asked <= MAX_LIMIT ? asked : defaultLimit;
  const cursor = typeof query.cursor === 'string' ? query.cursor : undefined;
  const before = typeof query.before === 'string' ? query.before : undefined;
  return pagePosition(order, { limit, cursor, before }, defaultLimit);
}

/** The previous and next links of a page: its path and filters, with `before` / `cursor` and the page size. */
export interface PageLinks {
  prev: string | null;
  next: string | null;
  limit: number;
  /** Whether there is a link to show at all. */
  shown: boolean;
}

export function pageLinks(
  path: string,
  filters: Record<string, string | undefined>,
  page: KeysetPage<unknown>,
  position: PagePosition,
  defaultLimit = 50,
): PageLinks {
  const kept = Object.entries(filters).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== '');
  if (position.limit !== defaultLimit) kept.push(['limit', String(position.limit)]);
  const link = (name: 'cursor' | 'before', value: string | null): string | null =>
    value === null ? null : `${path}?${new URLSearchParams([...kept, [name, value]]).toString()}`;
  const prev = link('before', page.prevCursor);
  const next = link('cursor', page.nextCursor);
  return { prev, next, limit: position.limit, shown: prev !== null || next !== null };
}
