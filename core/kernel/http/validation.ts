import { Ajv2020 } from 'ajv/dist/2020';
import type { ErrorObject, ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { Logger } from '../logging';
import { WaymarkError, type ErrorDetail } from '../errors';
import type { JsonSchema } from './routes';
import { addFormKeywords } from './schema-form';

/**
 * Request body validation with JSON Schema 2020-12, the dialect of OpenAPI 3.1, so one schema both
 * validates and documents. Each schema is compiled once (keyed by the schema object, which the
 * route keeps for its whole life), so a request pays no compile.
 */
export interface BodyValidator {
  /** Throws 400 VALIDATION_FAILED listing every problem; returns the body otherwise. */
  validate<T = unknown>(schema: JsonSchema, body: unknown): T;
}

export function createBodyValidator(logger?: Logger): BodyValidator {
  const ajv = new Ajv2020({
    allErrors: true,
    // Unknown keywords are reported, not fatal: a plugin's doc-only keyword must not break its route.
    strict: 'log',
    strictRequired: false,
    coerceTypes: false,
    logger: logger
      ? {
          log: (...a: unknown[]) => logger.debug(String(a[0])),
          warn: (...a: unknown[]) => logger.warn(String(a[0])),
          error: (...a: unknown[]) => logger.error(String(a[0])),
        }
      : false,
  });
  addFormats(ajv);
  addJsonSizeKeyword(ajv);
  addFormKeywords(ajv);
  const compiled = compiler(ajv);

  return {
    validate<T>(schema: JsonSchema, body: unknown): T {
      const fn = compiled(schema);
      if (fn(body)) return body as T;
      const details = (fn.errors ?? []).map(toDetail);
      throw new WaymarkError('VALIDATION_FAILED', `Request body is invalid: ${details.map((d) => `${d.path || '/'} ${d.message}`).join('; ')}`, 400, details);
    },
  };
}

/**
 * `x-maxJsonBytes`: bounds the serialized size of a free-form JSON field (a value stored as given,
 * such as an activity's restriction tree). Nesting depth is already bounded for every body by
 * `checkJsonInput`, so serializing here cannot overflow the stack.
 */
function addJsonSizeKeyword(ajv: Ajv2020): void {
  ajv.addKeyword({
    keyword: 'x-maxJsonBytes',
    schemaType: 'number',
    error: { message: (cxt) => `must be at most ${String(cxt.schemaValue ?? cxt.schema)} bytes of JSON` },
    validate: (max: number, data: unknown) => data === null || data === undefined || Buffer.byteLength(JSON.stringify(data)) <= max,
  });
}

/** An Ajv error as `{path, code, message}`, with path pointing at the offending field itself. */
export function toDetail(error: ErrorObject): ErrorDetail {
  const params = error.params as Record<string, unknown>;
  let path = error.instancePath;
  if (error.keyword === 'required' && typeof params.missingProperty === 'string') path = `${path}/${params.missingProperty}`;
  if (error.keyword === 'additionalProperties' && typeof params.additionalProperty === 'string') path = `${path}/${params.additionalProperty}`;
  const message =
    error.keyword === 'required'
      ? 'is required'
      : error.keyword === 'additionalProperties'
        ? 'is not an allowed property'
        : error.keyword === 'enum' && Array.isArray(params.allowedValues)
          ? `must be one of ${params.allowedValues.map((v) => JSON.stringify(v)).join(', ')}`
          : (error.message ?? 'is invalid');
  return { path, code: error.keyword, message };
}

/**
 * Path and query validation. URL values are strings; each is coerced to the type its property
 * schema declares, strictly (an integer is plain decimal digits, a boolean is `true`/`false`), so
 * `0x10`, `1e1`, ` 16` or `1.0` never become numbers. Ajv's own coercion (`+value`) would accept
 * them. Defaults declared in the schema are applied.
 */
export interface RequestValidator {
  /** Path parameters; anything that does not match the schema names no resource, so 404. */
  params(schema: JsonSchema, raw: Record<string, string>): Record<string, unknown>;
  /** Query parameters; an unknown parameter or an invalid value is 400 QUERY_INVALID. */
  query(schema: JsonSchema, raw: Record<string, unknown>): Record<string, unknown>;
}

const INTEGER_TEXT = /^-?(0|[1-9][0-9]*)$/;
const NUMBER_TEXT = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?$/;

function types(schema: unknown): string[] {
  const s = schema as { type?: unknown; anyOf?: unknown; oneOf?: unknown } | undefined;
  const type = s?.type;
  const own = Array.isArray(type) ? (type as string[]) : typeof type === 'string' ? [type] : [];
  // A union (`UserId`: an id or `me`) coerces to whatever its branches declare.
  const branches = [s?.anyOf, s?.oneOf].flatMap((b) => (Array.isArray(b) ? b : []));
  return [...own, ...branches.flatMap(types)];
}

/** A URL string as the type its schema asks for; unchanged when it does not fit (Ajv then reports it). */
export function coerceUrlValue(schema: unknown, value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const wanted = types(schema);
  if (wanted.length === 0 || wanted.includes('string')) return value;
  if (wanted.includes('integer') && INTEGER_TEXT.test(value)) return Number(value);
  if (wanted.includes('number') && NUMBER_TEXT.test(value)) return Number(value);
  if (wanted.includes('boolean') && (value === 'true' || value === 'false')) return value === 'true';
  if (wanted.includes('null') && value === '') return null;
  return value;
}

function coerceObject(schema: JsonSchema, raw: Record<string, unknown>): Record<string, unknown> {
  const properties = (schema.properties ?? {}) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(raw)) out[name] = Object.hasOwn(properties, name) ? coerceUrlValue(properties[name], value) : value;
  return out;
}

export function createRequestValidator(logger?: Logger): RequestValidator {
  const ajv = new Ajv2020({
    allErrors: true,
    strict: 'log',
    strictRequired: false,
    coerceTypes: false,
    useDefaults: true,
    logger: logger ? { log: () => {}, warn: (...a: unknown[]) => logger.warn(String(a[0])), error: (...a: unknown[]) => logger.error(String(a[0])) } : false,
  });
  addFormats(ajv);
  addFormKeywords(ajv);
  const compiled = compiler(ajv);
  return {
    params(schema, raw) {
      const value = coerceObject(schema, raw);
      if (compiled(schema)(value)) return value;
      const shown = Object.values(raw).join('/');
      throw new WaymarkError('NOT_FOUND', `Nothing is found at ${shown}: not a valid identifier`, 404);
    },
    query(schema, raw) {
      const value = coerceObject(schema, raw);
      const fn = compiled(schema);
      if (fn(value)) return value;
      const details = (fn.errors ?? []).map((e) => {
        const d = toDetail(e);
        return e.keyword === 'additionalProperties' ? { ...d, code: 'unknown_parameter', message: 'is not a query parameter of this route' } : d;
      });
      throw new WaymarkError(
        'QUERY_INVALID',
        `Query is invalid: ${details.map((d) => `${(d.path ?? '').replace(/^\//, '') || 'query'} ${d.message}`).join('; ')}`,
        400,
        details,
      );
    },
  };
}

/** One way a response differs from its declared schema. */
export interface ResponseMismatch {
  route: string;
  status: number;
  /** Where in the body (JSON pointer) and where in the schema the difference is. */
  path: string;
  schemaPath: string;
  message: string;
}

/**
 * Checks response bodies against the route's declared schema. An object schema that lists
 * `properties` but says nothing of `additionalProperties` is checked as closed: a field the
 * document does not list is drift too.
 */
export interface ResponseChecker {
  check(route: string, status: number, schema: JsonSchema, body: unknown): ResponseMismatch[];
}

/** A deep copy of a schema in which every object schema with `properties` and no stated `additionalProperties` is closed. */
export function closeObjectSchemas(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(closeObjectSchemas);
  if (!schema || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    // `properties`, `$defs` and friends map names to schemas: keep the names, close the schemas.
    out[key] =
      (key === 'properties' || key === '$defs' || key === 'patternProperties') && value && typeof value === 'object'
        ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, closeObjectSchemas(v)]))
        : key === 'enum' || key === 'const' || key === 'default' || key === 'examples' || key === 'required'
          ? value
          : closeObjectSchemas(value);
  }
  if ('properties' in out && !('additionalProperties' in out) && !('patternProperties' in out) && !('unevaluatedProperties' in out) && !('allOf' in out))
    out.additionalProperties = false;
  return out;
}

export function createResponseChecker(): ResponseChecker {
  const ajv = new Ajv2020({ allErrors: true, strict: false, coerceTypes: false });
  addFormats(ajv);
  addFormKeywords(ajv);
  // Compiled from the closed copy, cached by the route's own schema object.
  const compiled = compiler(ajv, (schema) => closeObjectSchemas(schema) as JsonSchema);
  return {
    check(route, status, schema, body) {
      const fn = compiled(schema);
      if (fn(body)) return [];
      return (fn.errors ?? []).map((e) => ({ route, status, path: toDetail(e).path || '/', schemaPath: e.schemaPath, message: toDetail(e).message }));
    },
  };
}

/**
 * Compiles each schema once per Ajv instance: routes hand the same schema objects on every request,
 * so a WeakMap keyed by them is the cache (and forgets a removed plugin's schemas with its routes).
 */
function compiler(ajv: Ajv2020, prepare: (schema: JsonSchema) => JsonSchema = (schema) => schema): (schema: JsonSchema) => ValidateFunction {
  const cache = new WeakMap<JsonSchema, ValidateFunction>();
  return (schema) => {
    let fn = cache.get(schema);
    if (!fn) {
      fn = ajv.compile(prepare(schema));
      cache.set(schema, fn);
    }
    return fn;
  };
}
