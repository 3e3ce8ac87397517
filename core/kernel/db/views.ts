/**
 * A relation one owner publishes so another can read its data in a set-based statement: the SQL of a
 * FROM or JOIN item and the columns it promises. Only the owner's store knows what is behind it (one
 * table today; a derived table if the owner's tables change shape), so a module reads another's data
 * in one statement without knowing its table layout. Views are read-only: other owners' data
 * changes through their services.
 */
export interface SqlView<C extends string = never> {
  /** The columns consumers may use. */
  readonly columns: readonly string[];
  /**
   * A column of the view, checked by the compiler (`view.column('user_id')`). A function property,
   * so a view with more columns fits where fewer are asked for.
   */
  readonly column: (name: C) => string;
  /** The FROM/JOIN item under `alias`, for raw SQL and for Knex (`db.knex(view.as('cc'))`). */
  as(alias: string): string;
}

/** A view that is one of the owner's tables, exposing `columns` of it. */
export function tableView<C extends string>(table: string, columns: readonly C[]): SqlView<C> {
  return { columns, column: (name) => name, as: (alias) => `${table} as ${alias}` };
}
