import { pipeline } from 'node:stream/promises';
import type { Knex } from 'knex';
import { Readable, type Writable } from 'node:stream';
import type { Database } from '../../kernel/db/database';
import { readPage, seek, type KeyValue } from '../../kernel/db/keyset';
import { WaymarkError } from '../../kernel/errors';
import { cursorQuery, pagePosition, pickOrder } from '../../kernel/http/paging';
import { queryParams } from '../../kernel/http/contract';
import type { JsonSchema } from '../../kernel/http/json-schema';
import { createRequestValidator } from '../../kernel/http/validation';
import type { ExtensionRegistrar } from '../../kernel/features/context';
import type { Logger } from '../../kernel/logging';
import { csvLines, csvRows } from './csv';
import { keyValuesOf, type ReportFilters, type ReportQueryContext, type ReportRow, type ReportSource } from './types';

/**
 * Rows an export presents at a time (and, on SQLite, reads per statement, where a statement costs no
 * round trip). Small so that a batch's rows die young: with 5,000 they outlived V8's young
 * generation and the old one grew by 140 MB over a million rows before collecting.
 */
export const EXPORT_BATCH = 1000;

/** A report as `GET /reports` lists it. */
export interface ReportInfo {
  name: string;
  label: string;
  description: string;
  /** The report's query parameters as one object schema (filters, `sort`, `limit`, `cursor`). */
  query: JsonSchema;
  requiredFilters: string[];
  orders: Array<{ name: string; label: string }>;
  columns: Array<{ key: string; label: string }>;
}

/** A validated request for a report: its filters, order and page. */
export interface ReportRequest {
  filters: ReportFilters;
  sort: string;
  limit: number;
  cursor?: string;
  before?: string;
}

export interface ReportPage {
  items: ReportRow[];
  nextCursor: string | null;
  prevCursor: string | null;
}

export interface ExportOptions {
  /** Called after each batch with the rows written so far. */
  progress?(rowsWritten: number): void;
}

export interface ReportsService {
  /** The available reports (built in and from plugins), by name. */
  list(): ReportInfo[];
  /** 404 REPORT_NOT_FOUND for a name no source has. */
  info(name: string): ReportInfo;
  /**
   * Validates raw query values (strings from a URL or a command line) against the report's query
   * schema: an unknown parameter, a value outside its schema or one that names nothing is 400
   * QUERY_INVALID naming it, and nothing is read.
   */
  parse(name: string, raw: Record<string, unknown>, use?: 'page' | 'export'): Promise<ReportRequest>;
  /** One page, keyset-paged in the chosen order. */
  page(name: string, request: ReportRequest): Promise<ReportPage>;
  /** How many rows the filtered report has (for a progress bar). */
  count(name: string, request: ReportRequest): Promise<number>;
  /**
   * Writes the whole filtered report as CSV (a header row, then one line per row, in the source's
   * export order: see `ReportSource.exportOrder`) to `out`, read in keyset batches of
   * {@link EXPORT_BATCH} on SQLite and as one streamed statement on MariaDB, each batch written as
   * one chunk, waiting whenever `out` is full, so memory stays flat whatever the size. Resolves with
   * the number of rows written.
   */
  exportCsv(name: string, request: ReportRequest, out: Writable, options?: ExportOptions): Promise<number>;
  /**
   * The export's read as one statement (every row, in the export order, with the columns the export
   * reads): what MariaDB streams, and what the benchmark streams raw next to the export.
   */
  exportStatement(name: string, request: ReportRequest): Promise<{ sql: string; bindings: readonly unknown[] }>;
}

const PAGE_SIZE = 50;

/** The few members of a mysql2 connection and of Knex's client that a streamed export uses. */
interface StreamingConnection {
  query(sql: string, bindings: readonly unknown[]): { stream(): AsyncIterable<Record<string, unknown>> };
  destroy(): void;
}
interface PoolClient {
  acquireConnection(): Promise<StreamingConnection>;
  releaseConnection(connection: StreamingConnection): Promise<void>;
}

/**
 * MariaDB: the export's one statement streamed (mysql2 reads the result as it arrives and pauses the
 * socket while the consumer is behind, so memory stays flat), cut into batches of
 * {@link EXPORT_BATCH} rows for presentation. Keyset batches cost 40 ms per 5,000 rows there against
 * 15 ms streamed. It holds one pooled connection for the export, taken here rather
 * than through Knex's `.stream()`: when the reader goes away mid-result, the connection still has
 * the rest of the result coming, so it is closed (the pool then drops it) instead of being handed
 * back to the next query.
 */
async function* streamedBatches(db: Database, query: Knex.QueryBuilder): AsyncGenerator<Record<string, unknown>[]> {
  const { sql, bindings } = query.toSQL().toNative();
  const client = db.knex.client as unknown as PoolClient;
  const connection = await client.acquireConnection();
  let finished = false;
  try {
    let batch: Record<string, unknown>[] = [];
    for await (const row of connection.query(sql, bindings).stream()) {
      batch.push(row);
      if (batch.length === EXPORT_BATCH) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length) yield batch;
    finished = true;
  } finally {
    if (!finished) connection.destroy();
    await client.releaseConnection(connection);
  }
}

export function createReportsService(db: Database, extensions: ExtensionRegistrar, logger: Logger): ReportsService {
  const validator = createRequestValidator(logger);

  function source(name: string): ReportSource {
    const found = extensions.get('reportSources', name)?.value;
    if (!found) throw new WaymarkError('REPORT_NOT_FOUND', `No report is named "${name}"`, 404);
    return found;
  }

  function querySchema(report: ReportSource): JsonSchema {
    return queryParams(
      {
        ...report.filters,
        sort: { enum: report.orders.map((o) => o.name), default: report.orders[0]!.name, description: 'Order of the rows' },
        ...cursorQuery(PAGE_SIZE),
        before: { ...cursorQuery().cursor, description: 'The prevCursor of the next page (pages only, for a "previous" link)' },
      },
      [...(report.requiredFilters ?? [])],
    );
  }

  /** An export takes the filters only: it is the whole report, in the export order. */
  const exportSchema = (report: ReportSource): JsonSchema => queryParams({ ...report.filters }, [...(report.requiredFilters ?? [])]);

  // Schemas are built once per source object, so Ajv compiles each once (it caches by identity).
  const schemas = new WeakMap<ReportSource, { page: JsonSchema; export: JsonSchema }>();
  const schemasOf = (report: ReportSource): { page: JsonSchema; export: JsonSchema } => {
    let built = schemas.get(report);
    if (!built) schemas.set(report, (built = { page: querySchema(report), export: exportSchema(report) }));
    return built;
  };
  const schemaOf = (report: ReportSource): JsonSchema => schemasOf(report).page;

  function infoOf(name: string, report: ReportSource): ReportInfo {
    return {
      name,
      label: report.label,
      description: report.description,
      query: schemaOf(report),
      requiredFilters: [...(report.requiredFilters ?? [])],
      orders: report.orders.map((o) => ({ name: o.name, label: o.label })),
      columns: report.columns.map((c) => ({ key: c.key, label: c.label })),
    };
  }

  const context = (): ReportQueryContext => ({ executor: db.knex, now: db.now() });

  return {
    list: () =>
      extensions
        .list('reportSources')
        .map((c) => infoOf(c.key, c.value))
        .sort((a, b) => a.name.localeCompare(b.name)),

    info: (name) => infoOf(name, source(name)),

    async parse(name, raw, use = 'page') {
      const report = source(name);
      const query = validator.query(schemasOf(report)[use], raw);
      const { sort, limit, cursor, before, ...filters } = query;
      const request: ReportRequest = {
        filters,
        sort: typeof sort === 'string' ? sort : report.orders[0]!.name,
        limit: typeof limit === 'number' ? limit : PAGE_SIZE,
        ...(typeof cursor === 'string' ? { cursor } : {}),
        ...(typeof before === 'string' ? { before } : {}),
      };
      await report.checkFilters?.(filters, context());
      return request;
    },

    async page(name, request) {
      const report = source(name);
      const order = pickOrder(report.orders, request.sort);
      const position = pagePosition(order, request, PAGE_SIZE);
      const ctx: ReportQueryContext = { ...context(), order: order.name, position };
      if (report.prepare) ctx.prepared = await report.prepare(request.filters, ctx);
      const page = await readPage<Record<string, unknown>>(report.query(request.filters, ctx), order, position, (row) => keyValuesOf(order, row));
      return { items: await report.present(page.items, ctx), nextCursor: page.nextCursor, prevCursor: page.prevCursor };
    },

    async count(name, request) {
      const report = source(name);
      const ctx = context();
      if (report.prepare) ctx.prepared = await report.prepare(request.filters, ctx);
      const [row] = (await ctx.executor.count('* as n').from(report.query(request.filters, ctx).as('r'))) as Array<{ n: number | string }>;
      return Number(row?.n ?? 0);
    },

    async exportCsv(name, request, out, options = {}) {
      const report = source(name);
      const order = report.exportOrder ?? report.orders[0]!;
      // One "now" for the whole export, so a row cannot turn overdue halfway through.
      const ctx: ReportQueryContext = { ...context(), order: order.name };
      if (report.prepare) ctx.prepared = await report.prepare(request.filters, ctx);
      const keys = report.columns.map((c) => c.key);
      let rowsWritten = 0;
      async function* present(batches: AsyncIterable<Record<string, unknown>[]>): AsyncGenerator<string> {
        yield csvLines([report.columns.map((c) => c.label)]);
        for await (const batch of batches) {
          const presented = await report.present(batch, ctx);
          if (presented.length) yield csvRows(presented, keys);
          rowsWritten += batch.length;
          options.progress?.(rowsWritten);
        }
      }
      // Each batch becomes one chunk of text (./csv.ts), and the pipeline waits whenever `out` is
      // full, ends it, and stops the reads if the reader goes away.
      const batches =
        db.dialect === 'mysql'
          ? streamedBatches(db, seek(report.query(request.filters, ctx), order, { limit: 0, from: null }).clear('limit'))
          : keysetBatches();
      await pipeline(Readable.from(present(batches)), out);
      return rowsWritten;

      /**
       * SQLite: keyset batches of {@link EXPORT_BATCH}, each its own statement, so the one
       * connection is free for other requests between batches (a statement left open would hold it
       * for the whole export).
       */
      async function* keysetBatches(): AsyncGenerator<Record<string, unknown>[]> {
        let from: KeyValue[] | null = null;
        for (;;) {
          const rows = (await seek(report.query(request.filters, ctx), order, { limit: EXPORT_BATCH, from })) as Record<string, unknown>[];
          const batch = rows.length > EXPORT_BATCH ? rows.slice(0, EXPORT_BATCH) : rows;
          if (batch.length) yield batch;
          if (rows.length <= EXPORT_BATCH) return;
          from = keyValuesOf(order, batch[batch.length - 1]!);
        }
      }
    },

    async exportStatement(name, request) {
      const report = source(name);
      const order = report.exportOrder ?? report.orders[0]!;
      const ctx: ReportQueryContext = { ...context(), order: order.name };
      if (report.prepare) ctx.prepared = await report.prepare(request.filters, ctx);
      const { sql, bindings } = seek(report.query(request.filters, ctx), order, { limit: 0, from: null }).clear('limit').toSQL();
      return { sql, bindings };
    },
  };
}
