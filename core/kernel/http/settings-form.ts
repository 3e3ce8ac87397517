import type { ErrorDetail } from '../errors';
import type { JsonSchema } from './json-schema';

/** One field of a form generated from a JSON Schema property. */
export interface SchemaField {
  name: string;
  label: string;
  description: string | null;
  /** How the theme renders it. */
  control: 'select' | 'checkbox' | 'number' | 'text';
  value: string;
  checked: boolean;
  options: Array<{ value: string; label: string; selected: boolean }>;
  error: string | null;
}

interface PropertySchema {
  title?: string;
  description?: string;
  type?: string | string[];
  enum?: unknown[];
}

const typeOf = (p: PropertySchema): string | undefined => (Array.isArray(p.type) ? p.type.find((t) => t !== 'null') : p.type);

/**
 * The fields of a flat settings schema (an object of scalar properties, which is what plugin settings
 * are), filled with `values` and the errors that name them. Enums become selects, booleans
 * checkboxes, numbers number inputs, everything else text.
 */
export function schemaFields(schema: JsonSchema, values: Record<string, unknown>, errors: readonly ErrorDetail[] = []): SchemaField[] {
  const properties = (schema.properties ?? {}) as Record<string, PropertySchema>;
  return Object.entries(properties).map(([name, p]) => {
    const value = values[name];
    const type = typeOf(p);
    const control: SchemaField['control'] = p.enum ? 'select' : type === 'boolean' ? 'checkbox' : type === 'integer' || type === 'number' ? 'number' : 'text';
    return {
      name,
      label: p.title ?? name,
      description: p.description ?? null,
      control,
      value: value === undefined || value === null ? '' : String(value),
      checked: value === true,
      options: (p.enum ?? []).map((option) => ({ value: String(option), label: String(option), selected: option === value })),
      error: errors.find((e) => e.path === name || (e.path ?? '').startsWith(`${name}/`))?.message ?? null,
    };
  });
}

/**
 * Form fields back to typed values for validation: a checkbox absent from the post is false, an
 * empty number or text field is left out (so the schema's default applies), numbers are numbers.
 */
export function valuesFromForm(schema: JsonSchema, body: Record<string, unknown>): Record<string, unknown> {
  const properties = (schema.properties ?? {}) as Record<string, PropertySchema>;
  const values: Record<string, unknown> = {};
  for (const [name, p] of Object.entries(properties)) {
    const raw = body[name];
    const type = typeOf(p);
    if (type === 'boolean' && !p.enum) {
      values[name] = raw === 'on' || raw === 'true';
      continue;
    }
    if (typeof raw !== 'string' || raw === '') continue;
    values[name] = type === 'integer' || type === 'number' ? (Number.isFinite(Number(raw)) ? Number(raw) : raw) : raw;
  }
  return values;
}
