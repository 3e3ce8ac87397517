import type { Knex } from 'knex';
import { DateTime } from 'luxon';
import type { Executor } from '../../kernel/db/database';
import { isUniqueViolation } from '../../kernel/db/database';
import { conflict, invalid, notFound } from '../../kernel/errors';
import { num, type PeopleContext } from './context';
import {
  deleteProfileValue,
  fieldRows,
  fieldRowsByShortname,
  findFieldRow,
  findFieldRowByShortname,
  insertField,
  insertProfileValue,
  profileValueRowsOf,
  storedValueRows,
  updateProfileValue,
  type FieldRow,
} from './store/profile-fields';
import type { CreateProfileFieldInput, ProfileField, ProfileFieldType, ProfileInput, ProfileValue } from './types';

export interface ProfileFieldService {
  /** Defines a custom profile field; 409 PROFILE_FIELD_TAKEN when the shortname exists. */
  create(input: CreateProfileFieldInput, trx?: Executor): Promise<ProfileField>;
  /** 404 when missing. */
  get(id: number, executor?: Executor): Promise<ProfileField>;
  findByShortname(shortname: string, executor?: Executor): Promise<ProfileField | null>;
  list(executor?: Executor): Promise<ProfileField[]>;
  /** The user's values keyed by shortname (unset fields are absent). */
  valuesOf(userId: number, executor?: Executor): Promise<Record<string, ProfileValue>>;
  /**
   * Writes profile values for one user inside `trx` and returns what changed (old and new typed
   * values). Validates everything before writing anything. Used by the user service, which fires
   * the change events.
   */
  write(trx: Knex.Transaction, userId: number, input: ProfileInput, pathPrefix?: string): Promise<ProfileValueChange[]>;
  /** Validates and converts a value to its stored form (for audience rules). */
  normalise(field: ProfileField, value: unknown, path: string): StoredValue;
}

export interface ProfileValueChange {
  field: string;
  old: ProfileValue | null;
  new: ProfileValue | null;
}

/** A value as stored: one of the two columns is set. */
export interface StoredValue {
  valueText: string | null;
  valueDate: number | null;
}

const FIELD_TYPES: readonly ProfileFieldType[] = ['text', 'menu', 'date', 'checkbox'];
const SHORTNAME = /^[a-z][a-z0-9_]{0,99}$/;

function toField(row: FieldRow): ProfileField {
  return {
    id: num(row.id),
    shortname: row.shortname,
    name: row.name,
    type: row.type as ProfileFieldType,
    options: row.options ? (JSON.parse(row.options) as string[]) : [],
    createdAt: num(row.created_at),
    updatedAt: num(row.updated_at),
  };
}

/** The typed value of a stored row. */
export function typedValue(type: ProfileFieldType, valueText: string | null, valueDate: number | string | null): ProfileValue | null {
  switch (type) {
    case 'date':
      return valueDate === null ? null : Number(valueDate);
    case 'checkbox':
      return valueText === null ? null : valueText === '1';
    default:
      return valueText;
  }
}

/**
 * Parses a person's date (a hire date, a position start): a calendar date, stored as its midnight
 * UTC, or a date-time with an offset. Strict: null for 2026-02-30, `%00`, week dates, bare years or
 * a time without an offset (which would be read in the server's zone).
 */
export function parseIsoDate(value: string): number | null {
  const text = value.trim();
  if (!/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/.test(text)) return null;
  const parsed = DateTime.fromISO(text, { zone: 'utc' });
  return parsed.isValid ? parsed.toMillis() : null;
}

export function createProfileFieldService(ctx: PeopleContext): ProfileFieldService {
  const knex = ctx.db.knex;

  function normalise(field: ProfileField, value: unknown, path: string): StoredValue {
    const bad = (why: string) =>
      invalid('USER_PROFILE_VALUE_INVALID', `Profile field "${field.shortname}" ${why}`, [{ path, code: 'USER_PROFILE_VALUE_INVALID', message: why }]);
    switch (field.type) {
      case 'text':
        if (typeof value !== 'string') throw bad('needs a string');
        if (value.length > 255) throw bad('is longer than 255 characters');
        return { valueText: value, valueDate: null };
      case 'menu':
        if (typeof value !== 'string' || !field.options.includes(value)) throw bad(`must be one of: ${field.options.join(', ')}`);
        return { valueText: value, valueDate: null };
      case 'checkbox':
        if (typeof value !== 'boolean') throw bad('needs true or false');
        return { valueText: value ? '1' : '0', valueDate: null };
      case 'date': {
        const ms = typeof value === 'number' && Number.isFinite(value) ? Math.trunc(value) : typeof value === 'string' ? parseIsoDate(value) : null;
        if (ms === null) throw bad('needs an ISO-8601 date');
        return { valueText: null, valueDate: ms };
      }
    }
  }

  const service: ProfileFieldService = {
    async create(input, trx) {
      const shortname = input.shortname;
      if (!SHORTNAME.test(shortname)) {
        throw invalid('PROFILE_FIELD_SHORTNAME_INVALID', 'shortname must start with a lowercase letter and use a-z, 0-9 and _', [
          { path: 'shortname', message: 'invalid shortname' },
        ]);
      }
      if (!FIELD_TYPES.includes(input.type)) {
        throw invalid('PROFILE_FIELD_TYPE_INVALID', `type must be one of ${FIELD_TYPES.join(', ')}`, [{ path: 'type', message: 'invalid type' }]);
      }
      if (!input.name?.trim()) throw invalid('PROFILE_FIELD_NAME_REQUIRED', 'name is required', [{ path: 'name', message: 'required' }]);
      let options: string[] = [];
      if (input.type === 'menu') {
        options = input.options ?? [];
        if (options.length === 0 || new Set(options).size !== options.length || options.some((o) => typeof o !== 'string' || o === '' || o.length > 255)) {
          throw invalid('PROFILE_FIELD_OPTIONS_INVALID', 'A menu field needs a non-empty list of distinct, non-empty options', [
            { path: 'options', message: 'invalid options' },
          ]);
        }
      } else if (input.options && input.options.length > 0) {
        throw invalid('PROFILE_FIELD_OPTIONS_INVALID', 'Only menu fields have options', [{ path: 'options', message: 'not allowed' }]);
      }
      return ctx.tx(trx, async (t) => {
        const now = ctx.db.now();
        try {
          const id = await insertField(t, {
            shortname,
            name: input.name.trim(),
            type: input.type,
            options: input.type === 'menu' ? JSON.stringify(options) : null,
            created_at: now,
            updated_at: now,
          });
          return service.get(id, t);
        } catch (error) {
          if (isUniqueViolation(error)) throw conflict('PROFILE_FIELD_TAKEN', `A profile field "${shortname}" already exists`);
          throw error;
        }
      });
    },

    async get(id, executor = knex) {
      const row = await findFieldRow(executor, id);
      if (!row) throw notFound('Profile field', id);
      return toField(row);
    },

    async findByShortname(shortname, executor = knex) {
      const row = await findFieldRowByShortname(executor, shortname);
      return row ? toField(row) : null;
    },

    async list(executor = knex) {
      return (await fieldRows(executor)).map(toField);
    },

    async valuesOf(userId, executor = knex) {
      const rows = await profileValueRowsOf(executor, userId);
      const out: Record<string, ProfileValue> = {};
      for (const r of rows) {
        const value = typedValue(r.type, r.value_text, r.value_date);
        if (value !== null) out[r.shortname] = value;
      }
      return out;
    },

    async write(trx, userId, input, pathPrefix = 'profile') {
      const names = Object.keys(input);
      if (names.length === 0) return [];
      const fields = new Map<string, ProfileField>();
      for (const row of await fieldRowsByShortname(trx, names)) fields.set(row.shortname, toField(row));
      const unknown = names.filter((n) => !fields.has(n));
      if (unknown.length > 0) {
        throw invalid(
          'USER_PROFILE_FIELD_UNKNOWN',
          `Unknown profile field${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}`,
          unknown.map((n) => ({ path: `${pathPrefix}/${n}`, code: 'USER_PROFILE_FIELD_UNKNOWN', message: `no profile field "${n}"` })),
        );
      }
      // Validate every value before the first write, so a bad value changes nothing.
      const wanted = names.map((n) => {
        const field = fields.get(n)!;
        const value = input[n];
        return { field, stored: value === null || value === undefined ? null : normalise(field, value, `${pathPrefix}/${n}`) };
      });
      const existing = new Map<number, { value_text: string | null; value_date: number | null }>();
      const current = await storedValueRows(
        trx,
        userId,
        wanted.map((w) => w.field.id),
      );
      for (const row of current) existing.set(num(row.field_id), row);

      const now = ctx.db.now();
      const changes: ProfileValueChange[] = [];
      for (const { field, stored } of wanted) {
        const before = existing.get(field.id);
        const old = before ? typedValue(field.type, before.value_text, before.value_date) : null;
        const next = stored ? typedValue(field.type, stored.valueText, stored.valueDate) : null;
        if (old === next) continue;
        if (stored === null) {
          await deleteProfileValue(trx, userId, field.id);
        } else if (before) {
          await updateProfileValue(trx, userId, field.id, { value_text: stored.valueText, value_date: stored.valueDate }, now);
        } else {
          await insertProfileValue(trx, userId, field.id, { value_text: stored.valueText, value_date: stored.valueDate }, now);
        }
        changes.push({ field: field.shortname, old, new: next });
      }
      return changes;
    },

    normalise,
  };
  return service;
}
