import type { Knex } from 'knex';
import type { Executor } from '../../../kernel/db/database';
import { chunk } from '../../../kernel/db/sql';
import type { ProfileFieldType } from '../types';
import { insertId } from './insert';

/** A `profile_fields` row (`options` is a JSON array for menu fields). */
export interface FieldRow {
  id: number;
  shortname: string;
  name: string;
  type: string;
  options: string | null;
  created_at: number;
  updated_at: number;
}

/** A user's stored value of one field: one of the two value columns is set. */
export interface StoredValueRow {
  value_text: string | null;
  value_date: number | null;
}

/** Inserts a field and returns its id; a taken shortname fails with the database's unique violation. */
export function insertField(trx: Knex.Transaction, row: Omit<FieldRow, 'id'>): Promise<number> {
  return insertId(trx, 'profile_fields', row);
}

/** The field with this id, or undefined. */
export async function findFieldRow(executor: Executor, id: number): Promise<FieldRow | undefined> {
  return (await executor('profile_fields').where({ id }).first()) as FieldRow | undefined;
}

/** The field with this shortname, or undefined. */
export async function findFieldRowByShortname(executor: Executor, shortname: string): Promise<FieldRow | undefined> {
  return (await executor('profile_fields').where({ shortname }).first()) as FieldRow | undefined;
}

/** Every field, by id. */
export async function fieldRows(executor: Executor): Promise<FieldRow[]> {
  return (await executor('profile_fields').orderBy('id')) as FieldRow[];
}

/** The fields with these shortnames (batched; unknown names are simply absent). */
export async function fieldRowsByShortname(trx: Knex.Transaction, shortnames: readonly string[]): Promise<FieldRow[]> {
  const rows: FieldRow[] = [];
  for (const batch of chunk(shortnames)) rows.push(...((await trx('profile_fields').whereIn('shortname', batch)) as FieldRow[]));
  return rows;
}

/** A user's stored values with their field's shortname and type, by field id. */
export async function profileValueRowsOf(executor: Executor, userId: number): Promise<Array<StoredValueRow & { shortname: string; type: ProfileFieldType }>> {
  return (await executor('user_profile_values as v')
    .join('profile_fields as f', 'f.id', 'v.field_id')
    .where('v.user_id', userId)
    .select('f.shortname', 'f.type', 'v.value_text', 'v.value_date')
    .orderBy('f.id')) as Array<StoredValueRow & { shortname: string; type: ProfileFieldType }>;
}

/** A user's stored values of these fields. */
export async function storedValueRows(
  trx: Knex.Transaction,
  userId: number,
  fieldIds: readonly number[],
): Promise<Array<StoredValueRow & { field_id: number }>> {
  return (await trx('user_profile_values')
    .where('user_id', userId)
    .whereIn('field_id', fieldIds as number[])
    .select('field_id', 'value_text', 'value_date')) as Array<StoredValueRow & { field_id: number }>;
}

/** Clears a user's value of one field. */
export async function deleteProfileValue(trx: Knex.Transaction, userId: number, fieldId: number): Promise<void> {
  await trx('user_profile_values').where({ user_id: userId, field_id: fieldId }).delete();
}

/** Replaces a user's existing value of one field. */
export async function updateProfileValue(trx: Knex.Transaction, userId: number, fieldId: number, value: StoredValueRow, at: number): Promise<void> {
  await trx('user_profile_values')
    .where({ user_id: userId, field_id: fieldId })
    .update({ value_text: value.value_text, value_date: value.value_date, updated_at: at });
}

/** Stores a user's first value of one field. */
export async function insertProfileValue(trx: Knex.Transaction, userId: number, fieldId: number, value: StoredValueRow, at: number): Promise<void> {
  await trx('user_profile_values').insert({ user_id: userId, field_id: fieldId, value_text: value.value_text, value_date: value.value_date, updated_at: at });
}
