import { paramsSchemaOf, querySchemaOf, type JsonSchema, type OwnedApiRoute } from './routes';
import { componentName } from './contract';

/** The parts of an OpenAPI 3.1 document Waymark produces. */
export interface OpenApiDocument {
  openapi: '3.1.0';
  info: { title: string; version: string; description?: string };
  servers: Array<{ url: string }>;
  security: Array<Record<string, string[]>>;
  tags: Array<{ name: string }>;
  paths: Record<string, Record<string, OpenApiOperation>>;
  components: {
    securitySchemes: Record<string, { type: 'http'; scheme: 'bearer'; description?: string }>;
    schemas: Record<string, JsonSchema>;
    responses: Record<string, { description: string; content: { 'application/json': { schema: JsonSchema } } }>;
  };
}

export interface OpenApiOperation {
  operationId: string;
  summary: string;
  tags: string[];
  security: Array<Record<string, string[]>>;
  parameters?: Array<{ name: string; in: 'path' | 'query'; required: boolean; schema: JsonSchema; description?: string }>;
  requestBody?: { required: true; content: { 'application/json': { schema: JsonSchema } } };
  responses: Record<string, { description: string; content?: { 'application/json': { schema: JsonSchema } } } | { $ref: string }>;
  'x-waymark-owner': string;
  'x-waymark-access': string;
}

export interface OpenApiOptions {
  version: string;
  /** Mount point of the routes; default `/api/v1`. */
  basePath?: string;
}

/** The one error shape of every API error response. */
export const ERROR_SCHEMA: JsonSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message', 'details'],
      properties: {
        code: { type: 'string', description: 'Stable machine-readable code, e.g. VALIDATION_FAILED' },
        message: { type: 'string' },
        details: {
          type: 'array',
          items: { type: 'object', required: ['message'], properties: { path: { type: 'string' }, code: { type: 'string' }, message: { type: 'string' } } },
        },
        requestId: { type: 'string' },
      },
    },
  },
};

const STANDARD_RESPONSES: Record<string, string> = {
  BadRequest: 'Malformed JSON or a body that does not match the schema (VALIDATION_FAILED)',
  Unauthenticated: 'Missing, invalid or revoked bearer token',
  Forbidden: 'The caller may not do this',
  NotFound: 'No such resource',
  Conflict: 'Conflicts with the current state',
  Unprocessable: 'Valid JSON whose meaning is invalid',
};

/**
 * A copy of a response schema in which every schema named with `component()` is replaced by a
 * `$ref` to `components/schemas/<name>` (and recorded there once).
 */
function withRefs(schema: unknown, components: Record<string, JsonSchema>): JsonSchema {
  const walk = (node: unknown, top: boolean): unknown => {
    if (Array.isArray(node)) return node.map((n) => walk(n, false));
    if (!node || typeof node !== 'object') return node;
    const name = componentName(node);
    if (name && !top) {
      if (!(name in components)) {
        components[name] = {}; // placeholder: a schema that contains itself stays finite
        components[name] = walk(node, true) as JsonSchema;
      }
      return { $ref: `#/components/schemas/${name}` };
    }
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, k === 'enum' || k === 'const' || k === 'default' ? v : walk(v, false)]));
  };
  return walk(schema, false) as JsonSchema;
}

/** Express `/programs/:id` as OpenAPI `/programs/{id}`, plus the parameter names in order. */
export function toOpenApiPath(expressPath: string): { path: string; params: string[] } {
  const params: string[] = [];
  const path = expressPath.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, (_whole, name: string) => {
    params.push(name);
    return `{${name}}`;
  });
  return { path, params };
}

function operationId(route: OwnedApiRoute): string {
  const words = `${route.method} ${route.path}`
    .replace(/:([A-Za-z0-9_]+)/g, 'by $1')
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean);
  const camel = words.map((w, i) => (i === 0 ? w.toLowerCase() : w[0]!.toUpperCase() + w.slice(1))).join('');
  return route.owner === 'core' ? camel : `${route.owner}_${camel}`;
}

/**
 * Builds the OpenAPI 3.1 document from the routes registered right now, so it always matches what
 * the dispatcher serves (a disabled plugin's routes vanish from both at once). The request schemas
 * are the very objects Ajv validates with; JSON Schema 2020-12 is native to OpenAPI 3.1.
 */
export function buildOpenApiDocument(routes: readonly OwnedApiRoute[], options: OpenApiOptions): OpenApiDocument {
  const paths: OpenApiDocument['paths'] = {};
  const components: Record<string, JsonSchema> = {};
  const tagNames = new Set<string>();
  for (const route of routes) {
    const { path, params } = toOpenApiPath(route.path);
    const tags = route.tags?.length ? route.tags : [route.owner];
    for (const t of tags) tagNames.add(t);
    const success = String(route.successStatus ?? 200);
    const responses: OpenApiOperation['responses'] = {
      [success]:
        success === '204'
          ? { description: 'Done' }
          : { description: 'Success', content: { 'application/json': { schema: route.response ? withRefs(route.response, components) : {} } } },
    };
    if (route.body) responses['400'] = { $ref: '#/components/responses/BadRequest' };
    if (route.access !== 'public') responses['401'] = { $ref: '#/components/responses/Unauthenticated' };
    if (route.access === 'admin') responses['403'] = { $ref: '#/components/responses/Forbidden' };
    const query = querySchemaOf(route);
    const queryNames = Object.keys((query.properties ?? {}) as object);
    if (route.body || queryNames.length || query.additionalProperties === false) responses['400'] = { $ref: '#/components/responses/BadRequest' };
    if (params.length) responses['404'] = { $ref: '#/components/responses/NotFound' };
    if (route.method !== 'get') responses['422'] = { $ref: '#/components/responses/Unprocessable' };
    const op: OpenApiOperation = {
      operationId: operationId(route),
      summary: route.summary,
      tags,
      security: route.access === 'public' ? [] : [{ bearerAuth: [] }],
      responses,
      'x-waymark-owner': route.owner,
      'x-waymark-access': route.access,
    };
    const paramSchemas = (paramsSchemaOf(route).properties ?? {}) as Record<string, JsonSchema>;
    const required = new Set((query.required ?? []) as string[]);
    const parameters: NonNullable<OpenApiOperation['parameters']> = [
      ...params.map((name) => ({ name, in: 'path' as const, required: true, schema: paramSchemas[name] ?? { type: 'string' } })),
      ...queryNames.map((name) => {
        const schema = (query.properties as Record<string, JsonSchema>)[name]!;
        const description = typeof schema.description === 'string' ? schema.description : undefined;
        return { name, in: 'query' as const, required: required.has(name), schema, ...(description ? { description } : {}) };
      }),
    ];
    if (parameters.length) op.parameters = parameters;
    if (route.body) op.requestBody = { required: true, content: { 'application/json': { schema: route.body } } };
    (paths[path] ??= {})[route.method] = op;
  }
  const responses: OpenApiDocument['components']['responses'] = {};
  for (const [name, description] of Object.entries(STANDARD_RESPONSES)) {
    responses[name] = { description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Waymark API',
      version: options.version,
      description: 'Times are ISO-8601 UTC strings, ids are integers. Errors are {"error":{"code","message","details"}}.',
    },
    servers: [{ url: options.basePath ?? '/api/v1' }],
    security: [{ bearerAuth: [] }],
    tags: [...tagNames].sort().map((name) => ({ name })),
    paths,
    components: {
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'An API token from `npx waymark token create USERNAME`' } },
      schemas: { Error: ERROR_SCHEMA, ...Object.fromEntries(Object.entries(components).sort(([a], [b]) => a.localeCompare(b))) },
      responses,
    },
  };
}
