import type { Knex } from 'knex';
import type { Executor } from '../../kernel/db/database';
import type { KeysetOrder, KeyValue, PagePosition } from '../../kernel/db/keyset';
import type { JsonSchema } from '../../kernel/http/json-schema';

/**
 * The report sources extension point (docs/plugin-authors.md, "Report sources"). A source says what
 * its rows are (columns), how they may be narrowed (filters, as JSON Schema query parameters) and
 * ordered (named keyset orders), and gives one query for "every row that matches". The reports
 * module does the rest the same way for every source: validation (an unknown filter value is 400),
 * keyset paging for the API and the pages, and the streamed CSV export (keyset batches on SQLite,
 * one streamed statement on MariaDB).
 */
export interface ReportSource {
  /** Shown to operators ("Program completion"). */
  label: string;
  /** One sentence: what a row is. */
  description: string;
  /**
   * The query parameters the report takes besides `limit`, `cursor` and `sort`, each a JSON Schema
   * for a URL value (integers, enums, strings). Published by `GET /reports` and used to validate.
   */
  filters: Record<string, JsonSchema>;
  /** Filters that must be given (`programId` on a program's learner list). Default: none. */
  requiredFilters?: readonly string[];
  /** The orders a reader may pick by name; the first is the default. See {@link ReportOrder}. */
  orders: readonly ReportOrder[];
  /**
   * The order a CSV export reads in, batch after batch: one the database walks along an index (the
   * row id), so each batch is an index range and the export's cost grows linearly with its size.
   * A name order would make every batch scan and sort the whole remaining report. Default: the
   * first of `orders`.
   */
  exportOrder?: ReportOrder;
  /** The columns of a row, in the order of the CSV. The row objects `present` returns have these keys. */
  columns: readonly ReportColumn[];
  /**
   * Every row matching `filters` (already validated against `filters`), unordered and unpaged: the
   * module adds the order, the position and the limit. It must select each order's `fields`.
   * Filter values that name something (a program, an audience) are checked before this is called
   * when the source says so in {@link checkFilters}.
   */
  query(filters: ReportFilters, context: ReportQueryContext): Knex.QueryBuilder;
  /**
   * Lookups the query's plan depends on, awaited before `query` for a page (the size of a program:
   * which table to drive a name order from); the result is `context.prepared`. Separate because a
   * query builder is thenable: `query` must return it unawaited. Optional.
   */
  prepare?(filters: ReportFilters, context: ReportQueryContext): Promise<unknown>;
  /**
   * Turns one batch of raw rows (at most a page, or an export batch of 5,000) into report rows,
   * reading whatever else it needs set-based for the whole batch (never per row).
   */
  present(rows: readonly Record<string, unknown>[], context: ReportQueryContext): Promise<ReportRow[]>;
  /**
   * Refuses filter values that are well-formed but name nothing (a program id that does not exist):
   * throw a 400 (`reportFilterInvalid`). Optional.
   */
  checkFilters?(filters: ReportFilters, context: ReportQueryContext): Promise<void>;
}

/** A keyset order plus the names of the selected fields holding each key's value (for the cursor). */
export interface ReportOrder extends KeysetOrder {
  /** One per key, in key order: the property of a raw row that holds that key's value. */
  fields: readonly string[];
  /** Shown to operators ("Learner name"). */
  label: string;
}

export interface ReportColumn {
  /** The property of a report row and the JSON key (`dueAt`). */
  key: string;
  /** The CSV header and the table heading ("Due date"). */
  label: string;
  /** JSON Schema of the value in the API's items. */
  schema: JsonSchema;
}

/** Validated filter values by name (integers already numbers, defaults applied). */
export type ReportFilters = Readonly<Record<string, unknown>>;

/** A report row: column key to value (strings, numbers, booleans, null; dates as ISO strings). */
export type ReportRow = Record<string, string | number | boolean | null>;

/** What a source's query and presentation are handed for one request or export. */
export interface ReportQueryContext {
  /** The connection to read with (one request, one export). */
  executor: Executor;
  /** "Now" for the whole request or export (overdue is decided against it), epoch ms. */
  now: number;
  /** The name of the order the rows are read in (a page's `sort`, the export order); absent for a count. */
  order?: string;
  /** What `prepare` returned, when the source has one. */
  prepared?: unknown;
  /**
   * For a page: where it starts and how many rows it holds, so a source can read an order as
   * several index ranges each bounded by the page (the module still applies the order, the
   * position and the limit to what `query` returns). Absent for an export and a count.
   */
  position?: PagePosition;
}

/** A cursor's key values for one raw row under `order`. */
export function keyValuesOf(order: ReportOrder, row: Record<string, unknown>): KeyValue[] {
  return order.fields.map((field) => {
    const value = row[field];
    return typeof value === 'number' || typeof value === 'string' ? value : Number(value);
  });
}

declare module '../../kernel/extensions' {
  interface ExtensionPointMap {
    reportSources: ReportSource;
  }
}
