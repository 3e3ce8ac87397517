import type { JsonSchema } from './json-schema';

/**
 * The shared pieces of the HTTP contract: the one id parser, the schemas every route reuses for
 * ids, paging and "no query parameters", and named component schemas for the OpenAPI document.
 */

/** Ids are positive integers written in plain decimal: no sign, no leading zero, no `0x`, `1e3` or `1.0`. */
const ID_TEXT = /^[1-9][0-9]{0,15}$/;

/** The largest id the API accepts (a safe JavaScript integer; larger cannot name a row). */
export const MAX_ID = Number.MAX_SAFE_INTEGER;

/**
 * Parses an id from a URL (path segment, query value or form field). Null for anything that is not
 * a positive decimal integer, so callers answer 404 (a path that names nothing) or 400 (a query).
 * This is the only id parser; API routes get it through the `Id` schema, pages call it directly.
 */
export function parseId(value: unknown): number | null {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value > 0 ? value : null;
  if (typeof value !== 'string' || !ID_TEXT.test(value)) return null;
  const id = Number(value);
  return Number.isSafeInteger(id) ? id : null;
}

/** A resource id in a path, query or body. */
export const Id: JsonSchema = { type: 'integer', minimum: 1, maximum: MAX_ID };

/**
 * A date or date-time a person typed. The schema only bounds it: its shape, the calendar and the
 * time zone are checked by `parseDateInput` (core/kernel/dates.ts), whose 422 names the field, so
 * `2026-02-30` and `%00` fail the same way (a day alone is its end, an offset-less time is read in
 * the site's time zone).
 */
export const DateInput: JsonSchema = {
  type: 'string',
  minLength: 1,
  maxLength: 64,
  description:
    'A date (2026-12-31: the end of that day) or a date-time (2026-12-31T17:00, with an optional offset), in the site time zone unless an offset is given',
};

/** Upper bound of `offset` (and of any cursor): beyond it no page can exist, and it must not reach SQL. */
export const MAX_OFFSET = 2_147_483_647;
export const MAX_LIMIT = 1000;

/** `?limit=` (1..1000) and `?offset=` (0..2^31-1). */
export const pagingQuery: Record<string, JsonSchema> = {
  limit: { type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: 100, description: 'Page size, 1..1000' },
  offset: { type: 'integer', minimum: 0, maximum: MAX_OFFSET, default: 0, description: 'Rows to skip' },
};

/**
 * The path parameters of a route as an object schema: each name maps to its schema, `Id` when only a
 * name is given. A value that does not match answers 404, since such a path names no resource.
 */
export function pathParams(params: Record<string, JsonSchema> | string[]): JsonSchema {
  const properties: Record<string, JsonSchema> = Array.isArray(params) ? Object.fromEntries(params.map((name) => [name, Id])) : params;
  return { type: 'object', properties, required: Object.keys(properties), additionalProperties: false };
}

/**
 * The query parameters a route accepts. Anything else is 400 (never silently ignored), and so is a
 * value outside a parameter's schema (an unknown enum value, a limit of 0).
 */
export function queryParams(properties: Record<string, JsonSchema> = {}, required: string[] = []): JsonSchema {
  return { type: 'object', properties, ...(required.length ? { required } : {}), additionalProperties: false };
}

/** A route that takes no query parameters. */
export const noQuery: JsonSchema = queryParams();

/** A route without path parameters. */
export const noParams: JsonSchema = pathParams({});

/**
 * A closed object schema (every listed property, `additionalProperties: false`), the usual shape of
 * a response: the response check then also catches a field the document does not list.
 */
export function object(properties: Record<string, JsonSchema>, required: string[] = Object.keys(properties)): JsonSchema {
  return { type: 'object', properties, required, additionalProperties: false };
}

const COMPONENT = Symbol('waymark.component');

/**
 * Names a schema so the OpenAPI document lists it once under `components/schemas/<name>` and refers
 * to it with `$ref` wherever a route uses it. Validation is unaffected (the name is a symbol key,
 * invisible to Ajv and to JSON).
 */
export function component<T extends JsonSchema>(name: string, schema: T): T {
  Object.defineProperty(schema, COMPONENT, { value: name, enumerable: false });
  return schema;
}

/** The component name given to a schema by `component()`, if any. */
export function componentName(schema: unknown): string | undefined {
  return schema && typeof schema === 'object' ? ((schema as { [COMPONENT]?: string })[COMPONENT] ?? undefined) : undefined;
}

export const dateTime: JsonSchema = { type: 'string', format: 'date-time' };
export const nullableDateTime: JsonSchema = { type: ['string', 'null'], format: 'date-time' };

/**
 * A user id in a path: an id, or `me` for the caller. The request validator turns `me` into the
 * caller's id before the route sees it (one place for every route: `resolveMe`), so a handler only
 * ever receives a number; without a caller `me` names nobody (404).
 */
export const UserId: JsonSchema = { anyOf: [Id, { const: 'me' }], description: 'A user id, or `me` for the caller' };

/** Path parameters as written, with every user-id parameter that says `me` replaced by the caller's id. */
export function resolveMe(schema: JsonSchema, raw: Record<string, string>, callerId: number | null): Record<string, string> {
  const properties = (schema.properties ?? {}) as Record<string, unknown>;
  let out = raw;
  for (const [name, value] of Object.entries(raw)) {
    if (value !== 'me' || properties[name] !== UserId) continue;
    // Without a caller `me` stays as written: it is not an id, so the path names nothing (404).
    if (callerId !== null) out = { ...out, [name]: String(callerId) };
  }
  return out;
}
