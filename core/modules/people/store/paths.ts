import type { Knex } from 'knex';
import type { Dialect } from '../../../kernel/db/database';
import { PATH_UPPER_SUFFIX } from '../paths';

/**
 * SQL over materialised paths (`/1/4/9/`, see ../paths.ts): "this node and all below" is the
 * range [P, P + '~'), which uses the path index on both databases.
 */

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
