import { WaymarkError, type ErrorDetail } from './errors';
import type { Knex } from 'knex';
import { parseId } from './http/contract';
import { seek, wherePrefix, type KeysetOrder } from './db/keyset';

/**
 * Pick-by-name: operators choose users, audiences, courses ... by typing a name, never an id.
 *
 * A module contributes a named lookup to the `pickers` extension point for the things whose table
 * it owns; a form renders the theme's `pick` partial; the handler turns what came back into an id
 * with {@link resolvePick}. Without JavaScript the operator types a name and submits: a unique
 * match is taken, several are offered back as radio choices. With JavaScript the `pick.js` script
 * suggests names as they type from `GET /admin/pick/:picker?q=` (docs/admin-pages.md).
 */

/** One thing a picker found: its id, the name an operator knows it by, and a hint telling namesakes apart. */
export interface PickItem {
  id: number;
  label: string;
  /** A second line: an email, a short name, a path ("Sales / EMEA"). */
  hint?: string;
}

/** A named lookup contributed to the `pickers` extension point. */
export interface Picker {
  /** The thing in words, singular and plural: `user` / `users`. */
  noun: string;
  plural: string;
  /**
   * At most `limit` things whose name (or other searched text: email, username, short name) starts
   * with `q`, any case, in name order. Set-based and served by an index: it runs on every keystroke.
   */
  search(q: string, limit: number): Promise<PickItem[]>;
  /** The things with these ids (those that exist), for showing a saved choice by name. */
  labelsOf(ids: readonly number[]): Promise<Map<number, PickItem>>;
}

declare module './extensions' {
  interface ExtensionPointMap {
    pickers: Picker;
  }
}

/** How many names one search offers (type-ahead and the no-JavaScript candidates alike). */
export const PICK_LIMIT = 20;

/** The `pick` partial's state for one field: what the operator typed, what it resolved to, what to choose from. */
export interface PickState {
  /** The text in the search box. */
  text: string;
  /** The chosen id, when there is one. */
  id: number | null;
  /** Offered as radio choices after an ambiguous search. */
  candidates: Array<PickItem & { checked: boolean }>;
  /** The field's error in words, naming the field. */
  error: string | null;
}

/** A field that did not resolve: 422 naming the field, carrying the state to re-render it with. */
export class PickError extends WaymarkError {
  constructor(
    code: string,
    message: string,
    readonly field: string,
    readonly state: PickState,
  ) {
    super(code, message, 422, [{ path: field, code, message } satisfies ErrorDetail]);
  }
}

export interface ResolveOptions {
  /** The field's label, put in front of its errors ("Audience: no audience matches “Sal”"). */
  label?: string;
  /** An empty box is an error ("Choose a user"); default: an empty box resolves to null. */
  required?: boolean;
}

const text = (body: unknown, name: string): string => {
  const value = (body as Record<string, unknown> | undefined)?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined || first === null ? '' : String(first).trim();
};

const quoted = (q: string): string => `“${q}”`;
const prefixed = (options: ResolveOptions, message: string): string => (options.label ? `${options.label}: ${message}` : message);

/**
 * What the operator picked in the field `name` of a posted form, as `{id, label}`; null when the
 * box was left empty (and the field is not required).
 *
 * The partial posts three fields: `<name>_q` (the search box), `<name>` (the id of a previous
 * choice: a hidden field, or the radio the operator ticked) and `<name>_was` (the text that choice
 * was made for). The id counts while the box still shows that text; once the operator types
 * something else the text is searched again: one match is taken, an exact name among several
 * wins, and otherwise a {@link PickError} says so and offers the candidates.
 */
export async function resolvePick(picker: Picker, body: unknown, name: string, options: ResolveOptions = {}): Promise<PickItem | null> {
  const q = text(body, `${name}_q`);
  const chosen = parseId(text(body, name));
  const was = text(body, `${name}_was`);
  if (chosen !== null && q === was) {
    const found = (await picker.labelsOf([chosen])).get(chosen);
    if (found) return found;
  }
  const state: PickState = { text: q, id: null, candidates: [], error: null };
  const fail = (code: string, message: string): PickError => {
    state.error = prefixed(options, message);
    return new PickError(code, state.error, name, state);
  };
  if (q === '') {
    if (options.required) throw fail('PICK_REQUIRED', `choose ${/^[aeio]/i.test(picker.noun) ? 'an' : 'a'} ${picker.noun}`);
    return null;
  }
  const found = await picker.search(q, PICK_LIMIT + 1);
  if (found.length === 1) return found[0]!;
  const exact = found.filter((f) => f.label.toLowerCase() === q.toLowerCase());
  if (exact.length === 1) return exact[0]!;
  if (found.length === 0) throw fail('PICK_NONE', `no ${picker.noun} matches ${quoted(q)}`);
  state.candidates = found.slice(0, PICK_LIMIT).map((f) => ({ ...f, checked: false }));
  const count = found.length > PICK_LIMIT ? `More than ${PICK_LIMIT}` : String(found.length);
  throw fail('PICK_AMBIGUOUS', `${count} ${picker.plural} match ${quoted(q)}: choose one${found.length > PICK_LIMIT ? ' or type more of the name' : ''}`);
}

/**
 * The partial's state for a field: after a failed submit the state the error carries, otherwise the
 * saved choice shown by name (or an empty box).
 */
export async function pickState(picker: Picker, id: number | null, error?: unknown, name?: string): Promise<PickState> {
  if (error instanceof PickError && (name === undefined || error.field === name)) return error.state;
  if (id === null) return { text: '', id: null, candidates: [], error: null };
  const item = (await picker.labelsOf([id])).get(id);
  return { text: item?.label ?? '', id: item ? id : null, candidates: [], error: null };
}

/** The state of a field as it was posted (to re-render a form that failed for another reason). */
export function postedPickState(body: unknown, name: string): PickState {
  const q = text(body, `${name}_q`);
  const id = parseId(text(body, name));
  return { text: q, id: id !== null && q === text(body, `${name}_was`) ? id : null, candidates: [], error: null };
}

/** The picker contributed under `key`; a missing one is a programming error, not an operator's. */
export function pickerOf(extensions: { get(point: 'pickers', key: string): { value: Picker } | undefined }, key: string): Picker {
  const picker = extensions.get('pickers', key)?.value;
  if (!picker) throw new WaymarkError('PICKER_MISSING', `No picker "${key}" is contributed`, 500);
  return picker;
}

/**
 * The first `limit` rows of `query` whose `column` starts with `q` (any case), in `column` then
 * `idColumn` order: one index range, read in order and stopped after the page, for a picker's search.
 */
export async function firstByPrefix<T>(query: Knex.QueryBuilder, column: string, q: string, limit: number, idColumn = 'id'): Promise<T[]> {
  const order: KeysetOrder = {
    name: 'pick',
    keys: [
      { column, direction: 'asc', caseInsensitive: true },
      { column: idColumn, direction: 'asc' },
    ],
  };
  return ((await seek(wherePrefix(query, [column], q), order, { limit, from: null })) as T[]).slice(0, limit);
}

/**
 * Several name-ordered search results (one per searched column: name, email, short name) as one
 * list in name order, each thing once, cut at `limit`.
 */
export function mergePicks<T extends { id: number; label: string }>(lists: T[][], limit: number): T[] {
  const seen = new Map<number, T>();
  for (const list of lists) for (const row of list) if (!seen.has(row.id)) seen.set(row.id, row);
  return [...seen.values()].sort((a, b) => a.label.localeCompare(b.label, undefined, { sensitivity: 'base' }) || a.id - b.id).slice(0, limit);
}
