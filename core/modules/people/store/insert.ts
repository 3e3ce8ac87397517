import type { Knex } from 'knex';

/** Inserts one row into one of this module's tables and returns its id on both dialects. */
export async function insertId(trx: Knex.Transaction, table: string, row: Record<string, unknown>): Promise<number> {
  const [id] = (await trx(table).insert(row)) as unknown as Array<number | { id: number }>;
  return typeof id === 'object' ? Number(id.id) : Number(id);
}
