import { expect } from 'chai';
import { schemaForm, schemaProblems, valueFromForm, type SchemaField } from '../../core/kernel/http/schema-form';
import { createBodyValidator } from '../../core/kernel/http/validation';
import { WaymarkError, type ErrorDetail } from '../../core/kernel/errors';

/** A schema using every control the generated forms know. */
const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'tags'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 20, title: 'Name', description: 'What people call it' },
    notes: { type: ['string', 'null'], title: 'Notes', 'x-control': 'textarea' },
    starts: { type: 'string', format: 'date', title: 'Starts' },
    count: { type: 'integer', minimum: 1, title: 'How many' },
    ratio: { type: 'number' },
    enabled: { type: 'boolean', title: 'Enabled' },
    level: { enum: [1, 2, 3], title: 'Level' },
    colour: {
      oneOf: [
        { const: 'r', title: 'Red' },
        { const: 'g', title: 'Green' },
      ],
      title: 'Colour',
    },
    tags: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 }, title: 'Tags' },
    aliases: { type: 'array', items: { type: 'string' }, 'x-control': 'repeat', title: 'Aliases' },
    limits: {
      type: 'object',
      title: 'Limits',
      additionalProperties: false,
      properties: { low: { type: 'integer', title: 'Low' }, high: { type: 'integer', title: 'High' } },
    },
    secret: { type: 'string', 'x-form': false },
  },
};

/** What a browser posts for the generated fields (checkboxes ticked when checked, lines CRLF-joined). */
function post(fields: SchemaField[], body: Record<string, unknown> = {}): Record<string, unknown> {
  for (const f of fields) {
    if (f.control === 'fieldset') post(f.fields, body);
    else if (f.control === 'checkbox') {
      if (f.checked) body[f.name] = 'on';
    } else if (f.control === 'select') body[f.name] = f.options.find((o) => o.selected)?.value ?? '';
    else if (f.control === 'repeat') body[f.name] = f.values.map((v) => v.value);
    else body[f.name] = f.value.replace(/\n/g, '\r\n');
  }
  return body;
}

const validator = createBodyValidator();
const problemsOf = (value: unknown): ErrorDetail[] => {
  try {
    validator.validate(schema, value);
    return [];
  } catch (error) {
    if (error instanceof WaymarkError) return error.details;
    throw error;
  }
};

describe('forms generated from JSON Schema', () => {
  it('draws each property as its control, labelled by its title (or its name in words), leaving out x-form: false', () => {
    const fields = schemaForm(schema, {});
    const byName = Object.fromEntries(fields.map((f) => [f.name, f]));
    expect(Object.keys(byName)).to.deep.equal(['name', 'notes', 'starts', 'count', 'ratio', 'enabled', 'level', 'colour', 'tags', 'aliases', 'limits']);
    expect(byName.name).to.include({ control: 'text', label: 'Name', description: 'What people call it', required: true });
    expect(byName.notes).to.include({ control: 'textarea', required: false });
    expect(byName.starts!.control).to.equal('date');
    expect(byName.count).to.include({ control: 'number', step: '1' });
    expect(byName.ratio).to.include({ control: 'number', step: 'any', label: 'Ratio' });
    expect(byName.enabled!.control).to.equal('checkbox');
    expect(byName.level!.options.map((o) => o.value)).to.deep.equal(['1', '2', '3']);
    expect(byName.colour!.options.map((o) => o.label)).to.deep.equal(['Red', 'Green']);
    expect(byName.tags!.control).to.equal('lines');
    expect(byName.aliases!.control).to.equal('repeat');
    expect(byName.limits!.control).to.equal('fieldset');
    expect(byName.limits!.fields.map((f) => f.name)).to.deep.equal(['limits.low', 'limits.high']);
    // A prefix keeps two generated forms apart in one <form>.
    expect(schemaForm(schema, {}, [], { prefix: 'rule.' })[0]!.name).to.equal('rule.name');
  });

  it('round-trips every value the schema accepts: drawn, posted, read back equal', () => {
    const values = [
      { name: 'Alpha', tags: ['a'] },
      {
        name: 'Beta',
        notes: 'two\nlines',
        starts: '2026-03-01',
        count: 3,
        ratio: 0.25,
        enabled: true,
        level: 2,
        colour: 'g',
        tags: ['x', 'y z'],
        aliases: ['b1', 'b2'],
        limits: { low: 1, high: 9 },
      },
      { name: 'Gamma', tags: ['only'], enabled: false, limits: { high: 5 } },
    ];
    for (const value of values) {
      expect(problemsOf(value), JSON.stringify(value)).to.deep.equal([]);
      const read = valueFromForm(schema, post(schemaForm(schema, value)));
      // An unticked box is false and an empty nullable box null: what the API stores for "absent" too.
      // A text area's line breaks come back as the browser sends them (CRLF).
      const expected = { enabled: false, notes: null, ...value };
      if (typeof expected.notes === 'string') expected.notes = expected.notes.replace(/\n/g, '\r\n');
      expect(read, JSON.stringify(value)).to.deep.equal(expected);
    }
  });

  it('reads empty boxes as absent (null where the property may be null), numbers as numbers, non-numbers as text for Ajv to name', () => {
    const read = valueFromForm(schema, { name: ' Zed ', notes: '', count: 'three', ratio: '0,5', tags: '\r\n\r\n', level: '3' });
    expect(read).to.deep.equal({ name: 'Zed', notes: null, count: 'three', ratio: 0.5, enabled: false, level: 3 });
  });

  it('names every problem by its field in words, never by a JSON pointer alone', () => {
    const said = schemaProblems(schema, problemsOf({ name: '', count: 'three', tags: [], level: 7, limits: { low: 'x' }, enabled: false }));
    expect(said).to.have.members([
      'Name: enter a value',
      'How many: enter a whole number',
      'Tags: enter at least one value',
      'Level: choose one of the options',
      'Low: enter a whole number',
    ]);
    expect(schemaProblems(schema, problemsOf({ enabled: false }))).to.have.members(['Name: enter a value', 'Tags: enter at least one value']);
    expect(schemaProblems(schema, problemsOf({ name: 'x'.repeat(21), tags: ['a'], enabled: false }))).to.deep.equal(['Name: enter at most 20 characters']);
    // A service's own problem about a field keeps its message after the label; one about no field stays as it is.
    expect(
      schemaProblems(schema, [
        { path: 'tags/1', code: 'NOT_AN_OPTION', message: '"Z" is not an option' },
        { path: '', code: 'CONFLICT', message: 'Someone else changed it' },
      ]),
    ).to.deep.equal(['Tags: "Z" is not an option', 'Someone else changed it']);
    // The field itself carries its problem too.
    const fields = schemaForm(schema, {}, problemsOf({ name: '', tags: ['a'], enabled: false }));
    expect(fields.find((f) => f.name === 'name')!.error).to.equal('Name: enter a value');
  });
});
