import fc from 'fast-check';

type Schema = Record<string, unknown>;

/** Values that have broken parsers before: surrogates, NULs, odd numbers, very long and very deep input. */
const hostileStrings = [
  '\ud800',
  'a\udfffb',
  '\u0000',
  '%00',
  '',
  ' ',
  '2026-02-30',
  '0x10',
  '1e3',
  '-1',
  'NaN',
  '<script>x</script>',
  '{{x}}',
  'x'.repeat(70_000),
];

function deepNesting(depth: number): unknown {
  let value: unknown = {};
  for (let i = 0; i < depth; i++) value = { op: '&', c: [value] };
  return value;
}

const hostile: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(...hostileStrings, null, true, 0, -1, 1.5, 2 ** 53, 1e300, [], {}, deepNesting(60)),
  fc.anything({ maxDepth: 3 }),
);

/**
 * Request values derived from a JSON schema (OpenAPI 3.1 flavour): mostly values the schema accepts,
 * so requests reach deep into handlers, and at every node, now and then, something it does not
 * (wrong types, hostile strings, extra keys, missing required keys), so every validation path runs.
 */
export class SchemaArbitraries {
  constructor(private readonly components: Record<string, Schema>) {}

  private resolve(schema: Schema): Schema {
    const ref = schema.$ref;
    if (typeof ref !== 'string') return schema;
    return this.resolve(this.components[ref.replace('#/components/schemas/', '')] ?? {});
  }

  /** A value for `schema`: valid nineteen times in twenty at each node. */
  value(schema: Schema, depth = 0): fc.Arbitrary<unknown> {
    return fc.oneof({ weight: 19, arbitrary: this.valid(this.resolve(schema), depth) }, { weight: 1, arbitrary: hostile });
  }

  private valid(schema: Schema, depth: number): fc.Arbitrary<unknown> {
    const alternatives = (schema.oneOf ?? schema.anyOf) as Schema[] | undefined;
    if (alternatives?.length) return fc.oneof(...alternatives.map((s) => this.value(s, depth)));
    if ('const' in schema) return fc.constant(schema.const);
    if (Array.isArray(schema.enum)) return fc.constantFrom(...(schema.enum as unknown[]));
    const types = Array.isArray(schema.type) ? (schema.type as string[]) : schema.type ? [schema.type as string] : ['object'];
    return fc.oneof(...types.map((type) => this.ofType(type, schema, depth)));
  }

  private ofType(type: string, schema: Schema, depth: number): fc.Arbitrary<unknown> {
    switch (type) {
      case 'null':
        return fc.constant(null);
      case 'boolean':
        return fc.boolean();
      case 'integer': {
        const min = typeof schema.minimum === 'number' ? schema.minimum : -10;
        const max = typeof schema.maximum === 'number' ? schema.maximum : 1_000;
        return fc.oneof(fc.integer({ min, max: Math.max(min, Math.min(max, min + 1_000)) }), fc.constantFrom(1, 2, 3));
      }
      case 'number':
        return fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }), fc.integer({ min: 0, max: 100 }));
      case 'string':
        return this.string(schema);
      case 'array': {
        if (depth > 4) return fc.constant([]);
        const items = (schema.items as Schema | undefined) ?? {};
        return fc.array(this.value(items, depth + 1), { maxLength: typeof schema.maxItems === 'number' ? Math.min(schema.maxItems, 4) : 4 });
      }
      default:
        return this.object(schema, depth);
    }
  }

  private string(schema: Schema): fc.Arbitrary<unknown> {
    switch (schema.format) {
      case 'date':
        return fc.oneof(fc.constantFrom('2026-12-31', '2027-01-15', '2026-02-30', '2026-13-01'), fc.string());
      case 'date-time':
        return fc.oneof(fc.constantFrom('2026-12-31T10:00:00Z', '2027-01-15T08:30:00+02:00', '2026-12-31T10:00:00', 'yesterday'), fc.string());
      case 'email':
        return fc.oneof(fc.emailAddress(), fc.string());
      case 'duration':
        return fc.constantFrom('P3D', 'P1M', 'PT12H', 'P', 'P-1D', '3 days');
    }
    const min = typeof schema.minLength === 'number' ? schema.minLength : 0;
    const max = typeof schema.maxLength === 'number' ? Math.min(schema.maxLength, 40) : 40;
    return fc.oneof(fc.string({ minLength: min, maxLength: Math.max(min, max) }), fc.stringMatching(/^[a-z][a-z0-9_]{0,15}$/));
  }

  private object(schema: Schema, depth: number): fc.Arbitrary<unknown> {
    if (depth > 4) return fc.constant({});
    const properties = (schema.properties as Record<string, Schema> | undefined) ?? {};
    const required = (schema.required as string[] | undefined) ?? [];
    const record = fc.record(Object.fromEntries(Object.entries(properties).map(([name, s]) => [name, this.value(s, depth + 1)])), {
      requiredKeys: required.filter((name) => name in properties),
    });
    // Now and then a key the schema does not know, or a required key left out.
    return fc.oneof(
      { weight: 6, arbitrary: record },
      { weight: 1, arbitrary: fc.tuple(record, fc.string({ minLength: 1, maxLength: 8 }), hostile).map(([r, k, v]) => ({ ...(r as object), [k]: v })) },
      { weight: 1, arbitrary: record.map((r) => Object.fromEntries(Object.entries(r as object).filter(([k]) => !required.includes(k)))) },
    );
  }
}

/** A path segment for an id parameter: an id that may exist, one that does not, or a wrong spelling. */
export const idSegment: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('1', '2', '3') },
  { weight: 1, arbitrary: fc.integer({ min: 4, max: 2 ** 31 }).map(String) },
  { weight: 2, arbitrary: fc.constantFrom('0', '-1', '0x10', '1e3', '01', '%201', 'abc', '%00', '%F0%9F%98%80', '99999999999999999999', '1.0', 'me') },
);
