import type { Knex } from 'knex';
import type { Dialect } from '../../kernel/db/database';

/**
 * Materialised paths are ids joined by '/', with a leading and trailing slash: `/1/4/9/`.
 * Every path below `/1/4/` starts with it and continues with digits and slashes only, all of
 * which sort below '~', so "this node and all below" is the range [P, P + '~'). A range uses the
 * index on SQLite and MySQL alike, where `LIKE 'P%'` would not on SQLite (LIKE is case-insensitive
 * there and skips the index).
 */
export const PATH_UPPER_SUFFIX = '~';

/** The path of a child of `parentPath` (or a root when parentPath is null). */
export function childPath(parentPath: string | null, id: number): string {
  return `${parentPath ?? '/'}${id}/`;
}

/** Restricts `column` to the subtree rooted at `prefix`; `includeSelf` keeps the root row itself. */
export function whereUnder<Q extends Knex.QueryBuilder>(qb: Q, column: string, prefix: string, includeSelf: boolean): Q {
  return qb.where(column, includeSelf ? '>=' : '>', prefix).andWhere(column, '<', prefix + PATH_UPPER_SUFFIX) as Q;
}

/**
 * The same restriction when the root's path is a column of a joined row (`anchorColumn`), so the
 * whole subtree query stays one statement. Both databases look the anchor up by primary key
 * first and then range-scan the path index with its value.
 */
export function whereUnderColumn<Q extends Knex.QueryBuilder>(dialect: Dialect, qb: Q, column: string, anchorColumn: string, includeSelf: boolean): Q {
  const upper = dialect === 'mysql' ? `CONCAT(??, '${PATH_UPPER_SUFFIX}')` : `(?? || '${PATH_UPPER_SUFFIX}')`;
  return qb.whereRaw(`?? ${includeSelf ? '>=' : '>'} ??`, [column, anchorColumn]).andWhereRaw(`?? < ${upper}`, [column, anchorColumn]) as Q;
}

/** SQL that rewrites the `oldPrefix` of `column` to `newPrefix` (used to move a subtree in one UPDATE). */
export function rePrefixSql(knex: Knex | Knex.Transaction, dialect: Dialect, column: string, oldPrefix: string, newPrefix: string): Knex.Raw {
  const from = oldPrefix.length + 1;
  return dialect === 'mysql' ? knex.raw('CONCAT(?, SUBSTRING(??, ?))', [newPrefix, column, from]) : knex.raw('(? || SUBSTR(??, ?))', [newPrefix, column, from]);
}
