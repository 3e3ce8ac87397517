import { Ajv2020 } from 'ajv/dist/2020';
import type { ErrorObject, ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { Logger } from '../logging';
import { WaymarkError, type ErrorDetail } from '../errors';
import type { JsonSchema } from './routes';

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
      ? { log: (...a: unknown[]) => logger.debug(String(a[0])), warn: (...a: unknown[]) => logger.warn(String(a[0])), error: (...a: unknown[]) => logger.error(String(a[0])) }
      : false,
  });
  addFormats(ajv);
  const cache = new WeakMap<JsonSchema, ValidateFunction>();

  function compiled(schema: JsonSchema): ValidateFunction {
    let fn = cache.get(schema);
    if (!fn) {
      fn = ajv.compile(schema);
      cache.set(schema, fn);
    }
    return fn;
  }

  return {
    validate<T>(schema: JsonSchema, body: unknown): T {
      const fn = compiled(schema);
      if (fn(body)) return body as T;
      const details = (fn.errors ?? []).map(toDetail);
      throw new WaymarkError('VALIDATION_FAILED', `Request body is invalid: ${details.map((d) => `${d.path || '/'} ${d.message}`).join('; ')}`, 400, details);
    },
  };
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
