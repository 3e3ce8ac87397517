import type { ErrorDetail } from '../errors';
import type { JsonSchema } from './json-schema';
import { PickError, resolvePick, type Picker, type PickState } from '../pickers';

/**
 * Forms generated from JSON Schema: one renderer (schema + value → fields the theme's `schema-fields`
 * partial draws) and one reader (posted form → value for the same schema's Ajv check). Plugin
 * settings, assignment sources' rules and due-date events' fields all use it, so a plugin that
 * declares a schema gets a working admin form without page code.
 *
 * What a schema property becomes:
 * - `enum` (or `oneOf` of `const`s with titles): a select;
 * - `boolean`: a checkbox;
 * - `integer` / `number`: a number box;
 * - `string`: a text box (`x-control: "textarea"` a text area, `x-control: "date"` or `format: "date"` a date box);
 * - `array` of strings or numbers: a text area, one value a line (`x-control: "repeat"`: repeated boxes);
 * - `object`: a fieldset of its own properties;
 * - `x-picker: "<lookup>"`: a pick-by-name control for the `pickers` extension point (the value is the picked id).
 * `title` is the label, `description` the help text; `x-form: false` leaves a property off the form.
 */

/** One control of a generated form. */
export interface SchemaField {
  /** The posted name: the form's prefix and the property path, dot-joined. */
  name: string;
  /** The HTML id. */
  id: string;
  label: string;
  description: string | null;
  control: 'select' | 'checkbox' | 'number' | 'text' | 'textarea' | 'lines' | 'repeat' | 'date' | 'fieldset' | 'picker';
  required: boolean;
  value: string;
  checked: boolean;
  /** `integer` or `any` for number boxes. */
  step: string | null;
  options: Array<{ value: string; label: string; selected: boolean }>;
  /** Repeated boxes: one per value and a blank one. */
  values: Array<{ value: string; index: number }>;
  /** The `pickers` lookup name of a picker control. */
  picker: string | null;
  /** A picker control's state for the `pick` partial (the typed text, the chosen id, candidates, its error). */
  pick: PickState | null;
  /** A fieldset's own fields. */
  fields: SchemaField[];
  /** "Label: what is wrong", or null. */
  error: string | null;
}

/** The parts of a JSON Schema the forms read. */
interface PropertySchema {
  title?: string;
  description?: string;
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  oneOf?: PropertySchema[];
  anyOf?: PropertySchema[];
  format?: string;
  items?: PropertySchema;
  properties?: Record<string, PropertySchema>;
  required?: string[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  default?: unknown;
  'x-control'?: string;
  'x-picker'?: string;
  'x-form'?: boolean;
}

/** Options a page adds to a generated form. */
export interface SchemaFormOptions {
  /** Prefix of every posted name (e.g. `rule.`), so two generated forms can share one `<form>`. */
  prefix?: string;
  /** Choices a page supplies for a property (e.g. a course's sections): a select of these. */
  choices?: Record<string, Array<{ value: string | number | null; label: string }>>;
  /** Properties left off the form. */
  omit?: readonly string[];
  /**
   * Pick states by posted name ({@link savedPicks}, {@link readSchemaForm}). An `x-picker` property
   * without one (its picker is not contributed) is a plain number box.
   */
  picks?: ReadonlyMap<string, PickState>;
}

/** Where pickers are looked up: the extension registrar. */
export interface PickerLookup {
  get(point: 'pickers', key: string): { value: Picker } | undefined;
}

/** A property's effective schema: a nullable union (`anyOf: [X, {type: null}]`) is X, marked nullable. */
function unwrap(p: PropertySchema): { schema: PropertySchema; nullable: boolean } {
  const branches = p.anyOf ?? (p.oneOf && !p.oneOf.every((b) => 'const' in b) ? p.oneOf : undefined);
  if (branches) {
    const real = branches.filter((b) => !(b.type === 'null' || (Array.isArray(b.type) && b.type.length === 1 && b.type[0] === 'null')));
    const merged = { ...(real[0] ?? {}), ...p, anyOf: undefined, oneOf: undefined };
    return { schema: merged, nullable: real.length < branches.length };
  }
  const types = Array.isArray(p.type) ? p.type : undefined;
  if (types?.includes('null')) return { schema: { ...p, type: types.find((t) => t !== 'null') }, nullable: true };
  return { schema: p, nullable: false };
}

const typeOf = (p: PropertySchema): string | undefined => (Array.isArray(p.type) ? p.type.find((t) => t !== 'null') : p.type);

/** The enum of a property as value/label pairs (`oneOf` of titled `const`s keeps its titles). */
function enumOf(p: PropertySchema): Array<{ value: unknown; label: string }> | null {
  if (p.enum) return p.enum.map((v) => ({ value: v, label: String(v) }));
  if (p.oneOf?.length && p.oneOf.every((b) => 'const' in b)) return p.oneOf.map((b) => ({ value: b.const, label: b.title ?? String(b.const) }));
  return null;
}

/** A property name as words when the schema gives no title: `instanceId` → "Instance id". */
export function wordsOf(name: string): string {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_-]+/g, ' ')
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function controlOf(p: PropertySchema, choices: boolean, picked: boolean): SchemaField['control'] {
  const type = typeOf(p);
  if (p['x-picker'] && picked) return 'picker';
  if (choices || enumOf(p)) return 'select';
  if (type === 'boolean') return 'checkbox';
  if (type === 'integer' || type === 'number') return 'number';
  if (type === 'object') return 'fieldset';
  if (type === 'array') return p['x-control'] === 'repeat' ? 'repeat' : 'lines';
  if (p['x-control'] === 'textarea') return 'textarea';
  if (p['x-control'] === 'date' || p.format === 'date') return 'date';
  return 'text';
}

const text = (value: unknown): string => (value === undefined || value === null ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value));

/** A detail's path as dot-joined property names (`/values/0` → `values`, `due/instanceId` → `due.instanceId`). */
function detailPath(detail: ErrorDetail): string {
  return (detail.path ?? '')
    .replace(/^\//, '')
    .replace(/\[(\d+)\]/g, '/$1')
    .split(/[/.]/)
    .filter((part) => part !== '' && !/^\d+$/.test(part))
    .join('.');
}

/**
 * What is wrong, in words an operator reads after the field's label. Ajv's messages ("must be
 * integer", "must NOT have fewer than 1 items") are rephrased; a service's own message is kept.
 */
function plainMessage(detail: ErrorDetail, p: PropertySchema | undefined): string {
  const { schema } = unwrap(p ?? {});
  const type = typeOf(schema);
  switch (detail.code) {
    case 'required':
      if (schema['x-picker'] || enumOf(schema)) return 'choose one';
      return type === 'array' ? 'enter at least one value' : 'enter a value';
    case 'minItems':
      return schema.minItems === 1 || schema.minItems === undefined ? 'enter at least one value' : `enter at least ${schema.minItems} values`;
    case 'maxItems':
      return `enter at most ${schema.maxItems} values`;
    case 'uniqueItems':
      return 'enter each value once';
    case 'minLength':
      return schema.minLength === 1 || schema.minLength === undefined ? 'enter a value' : `enter at least ${schema.minLength} characters`;
    case 'maxLength':
      return `enter at most ${schema.maxLength} characters`;
    case 'minimum':
      return `enter ${schema.minimum} or more`;
    case 'maximum':
      return `enter ${schema.maximum} or less`;
    case 'pattern':
      return 'enter a value';
    case 'enum':
      return 'choose one of the options';
    case 'type':
      if (schema['x-picker']) return 'choose one';
      if (type === 'integer') return 'enter a whole number';
      if (type === 'number') return 'enter a number';
      return 'is not valid';
    case 'additionalProperties':
      return 'is not a field of this form';
    case 'PICK_REQUIRED':
    case 'PICK_NONE':
    case 'PICK_AMBIGUOUS':
      // The resolver's message already starts with the label.
      return detail.message.replace(/^[^:]*: /, '');
    default:
      return detail.message;
  }
}

/** The schema of the property at a dot-joined path, if any. */
function propertyAt(schema: JsonSchema, path: string): PropertySchema | undefined {
  let current: PropertySchema | undefined = schema as PropertySchema;
  for (const part of path.split('.')) {
    current = current ? (unwrap(current).schema.properties ?? {})[part] : undefined;
    if (!current) return undefined;
  }
  return current;
}

/** The label of the property at a path (its title, else its name in words); the form's own name for the root. */
function labelAt(schema: JsonSchema, path: string): string {
  if (!path) return '';
  const p = propertyAt(schema, path);
  return p?.title ?? wordsOf(path.split('.').pop()!);
}

/**
 * Validation problems in words, each naming its field: "Values: enter at least one value". Details
 * whose path is not a property of the schema keep their message (a service's problem about the whole).
 */
export function schemaProblems(schema: JsonSchema, details: readonly ErrorDetail[]): string[] {
  return details.map((d) => {
    const path = detailPath(d);
    const p = path ? propertyAt(schema, path) : undefined;
    if (!path || !p) return d.message;
    return `${labelAt(schema, path)}: ${plainMessage(d, p)}`;
  });
}

/** The fields of `schema` (an object schema), filled with `value` and the problems that name them. */
export function schemaForm(schema: JsonSchema, value: unknown, details: readonly ErrorDetail[] = [], options: SchemaFormOptions = {}): SchemaField[] {
  const errors = new Map<string, string>();
  for (const d of details) {
    const path = detailPath(d);
    if (!path || errors.has(path)) continue;
    const p = propertyAt(schema, path);
    if (p) errors.set(path, `${labelAt(schema, path)}: ${plainMessage(d, p)}`);
  }
  return fieldsOf(schema as PropertySchema, value, '', errors, options);
}

function fieldsOf(schema: PropertySchema, value: unknown, path: string, errors: Map<string, string>, options: SchemaFormOptions): SchemaField[] {
  const { schema: object } = unwrap(schema);
  const required = new Set(object.required ?? []);
  const values = (value && typeof value === 'object' ? value : {}) as Record<string, unknown>;
  const prefix = options.prefix ?? '';
  return Object.entries(object.properties ?? {}).flatMap(([key, raw]): SchemaField[] => {
    const here = path ? `${path}.${key}` : key;
    if (raw['x-form'] === false || options.omit?.includes(here)) return [];
    const { schema: p } = unwrap(raw);
    const choices = options.choices?.[here];
    const name = `${prefix}${here}`;
    const pick = options.picks?.get(name) ?? null;
    const control = controlOf(p, Boolean(choices), pick !== null);
    const current = values[key] === undefined ? p.default : values[key];
    const error = errors.get(here) ?? null;
    const options_ = choices
      ? choices.map((c) => ({ value: text(c.value), label: c.label, selected: text(c.value) === text(current) }))
      : (enumOf(p) ?? []).map((o) => ({ value: text(o.value), label: o.label, selected: o.value === current }));
    const list = Array.isArray(current) ? current.map(text) : [];
    return [
      {
        name,
        id: `f-${name.replace(/[^A-Za-z0-9_-]/g, '-')}`,
        label: p.title ?? wordsOf(key),
        description: p.description ?? null,
        control,
        required: required.has(key),
        value: control === 'lines' ? list.join('\n') : Array.isArray(current) ? '' : text(current),
        checked: current === true,
        step: typeOf(p) === 'integer' ? '1' : typeOf(p) === 'number' ? 'any' : null,
        options: options_,
        values: control === 'repeat' ? [...list, ''].map((v, index) => ({ value: v, index })) : [],
        picker: p['x-picker'] ?? null,
        // The pick partial shows its own error: the resolver's, else the one the save reported.
        pick: pick && control === 'picker' ? { ...pick, error: pick.error ?? error } : null,
        fields: control === 'fieldset' ? fieldsOf(p, current, here, errors, options) : [],
        error: control === 'picker' ? null : error,
      },
    ];
  });
}

/** A posted value as `body[name]`: the first when repeated. */
function posted(body: Record<string, unknown>, name: string): string | undefined {
  const raw = body[name];
  if (raw === undefined || raw === null) return undefined;
  return String(Array.isArray(raw) ? (raw[0] ?? '') : raw).trim();
}

/** A typed scalar from form text: numbers for number properties (kept as text when not one, so Ajv names the field). */
function scalar(p: PropertySchema, raw: string): unknown {
  const type = typeOf(p);
  const choices = enumOf(p);
  if (choices) return choices.find((c) => text(c.value) === raw)?.value ?? raw;
  if (type === 'integer' || type === 'number') {
    const normal = raw.replace(',', '.');
    return /^-?\d+(\.\d+)?$/.test(normal) ? Number(normal) : raw;
  }
  if (type === 'boolean') return raw === 'true' || raw === 'on';
  return raw;
}

/**
 * The posted form as a value of `schema`, for its Ajv check: an empty box is left out (so `required`
 * and defaults apply; a nullable property becomes null), an unticked checkbox is false, a one-a-line
 * text area is an array of its non-empty lines, a fieldset is an object (left out when all empty).
 */
export function valueFromForm(
  schema: JsonSchema,
  body: Record<string, unknown>,
  options: Pick<SchemaFormOptions, 'prefix' | 'omit'> = {},
): Record<string, unknown> {
  return readObject(schema as PropertySchema, body, '', options) ?? {};
}

function readObject(
  schema: PropertySchema,
  body: Record<string, unknown>,
  path: string,
  options: Pick<SchemaFormOptions, 'prefix' | 'omit'>,
): Record<string, unknown> | undefined {
  const { schema: object } = unwrap(schema);
  const out: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(object.properties ?? {})) {
    const here = path ? `${path}.${key}` : key;
    if (raw['x-form'] === false || options.omit?.includes(here)) continue;
    const { schema: p, nullable } = unwrap(raw);
    const name = `${options.prefix ?? ''}${here}`;
    const type = typeOf(p);
    if (type === 'object' && !enumOf(p)) {
      const inner = readObject(p, body, here, options);
      if (inner) out[key] = inner;
      continue;
    }
    if (type === 'boolean' && !enumOf(p)) {
      const value = posted(body, name);
      out[key] = value === 'on' || value === 'true' || value === '1';
      continue;
    }
    if (type === 'array') {
      const item = unwrap(p.items ?? {}).schema;
      const rawValue = body[name];
      const texts = (Array.isArray(rawValue) ? rawValue.map(String) : rawValue === undefined || rawValue === null ? [] : String(rawValue).split(/\r?\n/))
        .map((t) => t.trim())
        .filter((t) => t !== '');
      if (texts.length) out[key] = texts.map((t) => scalar(item, t));
      continue;
    }
    const value = posted(body, name);
    if (value === undefined || value === '') {
      if (nullable && value === '') out[key] = null;
      continue;
    }
    out[key] = scalar(p, value);
  }
  return Object.keys(out).length || !path ? out : undefined;
}

/** The annotations generated forms read; Ajv instances that compile such schemas declare them (no validation). */
export const FORM_KEYWORDS = ['x-control', 'x-picker', 'x-form'] as const;

/** Declares {@link FORM_KEYWORDS} on an Ajv instance, so a strict Ajv compiles annotated schemas. */
export function addFormKeywords(ajv: { addKeyword(keyword: string): unknown }): void {
  for (const keyword of FORM_KEYWORDS) ajv.addKeyword(keyword);
}

/** The picker properties of a schema: their dot-joined path, their `pickers` key and their label. */
function pickerPaths(schema: PropertySchema, path = ''): Array<{ path: string; key: string; label: string; required: boolean }> {
  const { schema: object } = unwrap(schema);
  const required = new Set(object.required ?? []);
  return Object.entries(object.properties ?? {}).flatMap(([key, raw]) => {
    const here = path ? `${path}.${key}` : key;
    const { schema: p } = unwrap(raw);
    if (p['x-picker']) return [{ path: here, key: p['x-picker'], label: p.title ?? wordsOf(key), required: required.has(key) }];
    return typeOf(p) === 'object' ? pickerPaths(p, here) : [];
  });
}

const valueAt = (value: unknown, path: string): unknown =>
  path.split('.').reduce<unknown>((v, part) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[part] : undefined), value);

function setAt(value: Record<string, unknown>, path: string, item: unknown): void {
  const parts = path.split('.');
  let target = value;
  for (const part of parts.slice(0, -1)) {
    if (!target[part] || typeof target[part] !== 'object') target[part] = {};
    target = target[part] as Record<string, unknown>;
  }
  if (item === undefined) delete target[parts[parts.length - 1]!];
  else target[parts[parts.length - 1]!] = item;
}

/** The pick states that show a saved value's ids by name (an empty box where there is none). */
export async function savedPicks(
  schema: JsonSchema,
  value: unknown,
  pickers: PickerLookup,
  options: Pick<SchemaFormOptions, 'prefix'> = {},
): Promise<Map<string, PickState>> {
  const picks = new Map<string, PickState>();
  for (const { path, key } of pickerPaths(schema as PropertySchema)) {
    const picker = pickers.get('pickers', key)?.value;
    if (!picker) continue;
    const id = valueAt(value, path);
    const item = typeof id === 'number' ? (await picker.labelsOf([id])).get(id) : undefined;
    picks.set(`${options.prefix ?? ''}${path}`, { text: item?.label ?? '', id: item ? item.id : null, candidates: [], error: null });
  }
  return picks;
}

/** A posted generated form: its value, the pick state of each picker field, and the picks that did not resolve. */
export interface SchemaFormRead {
  value: Record<string, unknown>;
  picks: Map<string, PickState>;
  problems: ErrorDetail[];
}

/**
 * {@link valueFromForm}, with each picker field resolved from the name the operator typed or chose
 * (`resolvePick`): the value holds the picked id. A name that matches nothing or several things is
 * a problem naming the field, and its pick state carries the candidates to choose from.
 */
export async function readSchemaForm(
  schema: JsonSchema,
  body: Record<string, unknown>,
  pickers: PickerLookup,
  options: Pick<SchemaFormOptions, 'prefix' | 'omit'> = {},
): Promise<SchemaFormRead> {
  const value = valueFromForm(schema, body, options);
  const picks = new Map<string, PickState>();
  const problems: ErrorDetail[] = [];
  for (const { path, key, label, required } of pickerPaths(schema as PropertySchema)) {
    if (options.omit?.includes(path)) continue;
    const picker = pickers.get('pickers', key)?.value;
    if (!picker) continue;
    const name = `${options.prefix ?? ''}${path}`;
    try {
      const item = await resolvePick(picker, body, name, { label, required });
      setAt(value, path, item?.id);
      picks.set(name, { text: item?.label ?? '', id: item?.id ?? null, candidates: [], error: null });
    } catch (error) {
      if (!(error instanceof PickError)) throw error;
      setAt(value, path, undefined);
      picks.set(name, error.state);
      problems.push({ path, code: error.code, message: error.message });
    }
  }
  return { value, picks, problems };
}
