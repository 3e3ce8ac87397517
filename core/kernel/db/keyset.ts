import type { Knex } from 'knex';

/**
 * Keyset ("seek") paging: a page is the rows after (or before) the last row the reader saw, in a
 * fixed order, never "skip N rows". A deep page costs what the first one does, and a row inserted or
 * removed while someone pages is neither skipped nor shown twice.
 *
 * An order is a list of non-null sort keys whose last key is unique (usually the id), so every row
 * has exactly one position. The cursor is that position, opaque to clients (base64url JSON) and tied
 * to the order's name, so a cursor from one sort cannot be replayed against another.
 */

export type KeyValue = string | number;

export interface SortKey {
  /** A column (`u.fullname`) or a raw expression (`knex.raw('lower(u.fullname)')`); never null. */
  column: string | Knex.Raw;
  direction: 'asc' | 'desc';
  /**
   * Order (and compare) this text column without regard to letter case: a name order. MariaDB's
   * collation already does; on SQLite the column is read `COLLATE NOCASE`, which an index declared
   * the same way serves (migration 0014), so both databases list "anna" next to "Anna".
   */
  caseInsensitive?: boolean;
}

export interface KeysetOrder {
  /** Names the order in cursors (`name`, `-created`, ...). */
  name: string;
  keys: readonly SortKey[];
}

/** Where a page starts: the first page, or after / before a position taken from a cursor. */
export interface PagePosition {
  limit: number;
  /** Decoded cursor; null for the first page. */
  from: readonly KeyValue[] | null;
  /** True to read the page that ends just before `from` (a "previous" link). */
  backward?: boolean;
}

export interface KeysetPage<Row> {
  items: Row[];
  /** Cursor of the page after this one, or null on the last page. */
  nextCursor: string | null;
  /** Cursor of the page before this one, or null on the first page. */
  prevCursor: string | null;
}

const MAX_CURSOR_LENGTH = 1024;

export function encodeCursor(order: KeysetOrder, values: readonly KeyValue[]): string {
  return Buffer.from(JSON.stringify([order.name, ...values]), 'utf8').toString('base64url');
}

/**
 * The position a cursor names under `order`, or null when the text is not a cursor this order wrote
 * (garbled, from another sort, or with values of the wrong kind). Callers answer 400 on null.
 */
export function decodeCursor(order: KeysetOrder, text: string): KeyValue[] | null {
  if (text.length === 0 || text.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(text)) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  if (!Array.isArray(parsed) || parsed.length !== order.keys.length + 1 || parsed[0] !== order.name) return null;
  const values = parsed.slice(1) as unknown[];
  const valid = values.every((v) => (typeof v === 'string' && v.length <= 512) || (typeof v === 'number' && Number.isFinite(v)));
  return valid ? (values as KeyValue[]) : null;
}

/**
 * Orders `query` by `order`, keeps the rows past `position.from` and reads one row more than the page
 * (which says whether another page follows). Pair it with {@link keysetPage}.
 */
export function seek(query: Knex.QueryBuilder, order: KeysetOrder, position: PagePosition): Knex.QueryBuilder {
  const backward = position.backward === true && position.from !== null;
  const sqlite = (query as unknown as { client: { config: { client: unknown } } }).client.config.client !== 'mysql2';
  const keys = order.keys.map((k) => ({
    column: k.caseInsensitive && sqlite && typeof k.column === 'string' ? query.client.raw(`${quoteColumn(k.column)} COLLATE NOCASE`) : k.column,
    direction: backward ? flip(k.direction) : k.direction,
  }));
  if (position.from !== null) {
    const from = position.from;
    // The first key's bound alone, redundant with the expansion below: it is what lets the database
    // start the index range at the cursor rather than scan from the first row (neither SQLite nor
    // MariaDB derives a range from the OR form).
    if (keys.length > 1) query.where(keys[0]!.column as string, keys[0]!.direction === 'asc' ? '>=' : '<=', from[0]!);
    // (a, b, c) after (x, y, z) is: a > x, or a = x and b > y, or a = x and b = y and c > z, with
    // each comparison turned round for a descending key. Row-value comparison would be shorter but
    // cannot mix directions.
    query.where((outer) => {
      keys.forEach((key, i) => {
        outer.orWhere((branch) => {
          for (let j = 0; j < i; j++) branch.where(keys[j]!.column as string, '=', from[j]!);
          branch.where(key.column as string, key.direction === 'asc' ? '>' : '<', from[i]!);
        });
      });
    });
  }
  for (const key of keys) {
    if (typeof key.column === 'string') query.orderBy(key.column, key.direction);
    else query.orderByRaw(`${key.column.toQuery()} ${key.direction}`);
  }
  return query.limit(position.limit + 1);
}

/**
 * Turns the rows {@link seek} read into a page with its cursors. `keyOf` gives a row's sort-key
 * values, in the order's key order.
 */
export function keysetPage<Row>(rows: Row[], order: KeysetOrder, position: PagePosition, keyOf: (row: Row) => KeyValue[]): KeysetPage<Row> {
  const backward = position.backward === true && position.from !== null;
  const more = rows.length > position.limit;
  const page = more ? rows.slice(0, position.limit) : rows.slice();
  if (backward) page.reverse();
  const first = page[0];
  const last = page[page.length - 1];
  // Going forward, a page exists behind us whenever we started from a cursor; going backward, one
  // exists ahead of us (the page we came from).
  const hasNext = backward ? true : more;
  const hasPrev = backward ? more : position.from !== null;
  return {
    items: page,
    nextCursor: hasNext && last !== undefined ? encodeCursor(order, keyOf(last)) : null,
    prevCursor: hasPrev && first !== undefined ? encodeCursor(order, keyOf(first)) : null,
  };
}

/** `u.fullname` as a quoted identifier for raw SQL (both dialects accept backticks). */
function quoteColumn(column: string): string {
  return column
    .split('.')
    .map((part) => `\`${part.replace(/`/g, '')}\``)
    .join('.');
}

function flip(direction: 'asc' | 'desc'): 'asc' | 'desc' {
  return direction === 'asc' ? 'desc' : 'asc';
}

/**
 * A row's position under `order`, read from the columns the order sorts by: `u.fullname` is the
 * row's `fullname`. For orders whose keys are plain (optionally aliased) columns that the query
 * selects under their own names.
 */
export function keyOfColumns<Row>(order: KeysetOrder): (row: Row) => KeyValue[] {
  const names = order.keys.map((k) => {
    if (typeof k.column !== 'string') throw new Error(`keyOfColumns: order "${order.name}" sorts by an expression; give keyOf explicitly`);
    return k.column.slice(k.column.lastIndexOf('.') + 1);
  });
  return (row) => names.map((n) => (row as Record<string, KeyValue>)[n]!);
}

/** {@link seek} then {@link keysetPage}: one page of `query` under `order`. */
export async function readPage<Row>(
  query: Knex.QueryBuilder,
  order: KeysetOrder,
  position: PagePosition,
  keyOf: (row: Row) => KeyValue[] = keyOfColumns<Row>(order),
): Promise<KeysetPage<Row>> {
  const rows = (await seek(query, order, position)) as Row[];
  return keysetPage(rows, order, position, keyOf);
}

/**
 * `column LIKE 'text%'` for a case-insensitive name prefix search, on any of `columns`, with `%`,
 * `_` and `!` in the text matched literally (`!` is the escape character: no backslash quoting
 * differences between the dialects). A prefix (not a substring) so that it is an index range at
 * any size (migration 0014: (name, id) on MariaDB, a NOCASE index on SQLite).
 */
export function wherePrefix(query: Knex.QueryBuilder, columns: readonly string[], text: string): Knex.QueryBuilder {
  const pattern = `${text.replace(/[!%_]/g, (c) => `!${c}`)}%`;
  return query.where((any) => {
    for (const column of columns) any.orWhereRaw(`${column} LIKE ? ESCAPE '!'`, [pattern]);
  });
}
