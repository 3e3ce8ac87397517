import { expect } from 'chai';
import fc from 'fast-check';
import { stringify } from 'csv-stringify/sync';
import { csvLines, csvRows } from '../../core/modules/reports/csv';

/** What the export wrote through csv-stringify before it wrote CSV itself (the options it used). */
const library = (records: unknown[][]): string =>
  stringify(records, { cast: { boolean: (value: boolean) => (value ? 'true' : 'false') }, escape_formulas: true });

describe('report CSV text', () => {
  // Text that is mostly the characters CSV and spreadsheets treat specially.
  const special = fc.constantFrom(',', '"', '\n', '\r', '=', '+', '-', '@', '\t', ' ', "'", '\uFF1D', '\uFF0B', '\uFF0D', '\uFF20', 'a', 'é', '1');
  const text = fc.oneof(
    fc.string(),
    fc.array(special, { maxLength: 8 }).map((chars) => chars.join('')),
  );
  const field = fc.oneof(text, fc.integer({ min: -1e6, max: 1e6 }), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null));

  it('writes exactly what csv-stringify wrote with the same options, for any fields', () => {
    fc.assert(
      fc.property(fc.array(fc.array(field, { minLength: 1, maxLength: 6 }), { maxLength: 5 }), (records) => {
        expect(csvLines(records)).to.equal(library(records));
      }),
      { numRuns: 2000 },
    );
  });

  it('writes report rows (objects) field by field in the order of the keys, a missing field empty', () => {
    fc.assert(
      fc.property(fc.array(fc.array(field, { minLength: 3, maxLength: 3 }), { maxLength: 5 }), (records) => {
        const rows = records.map(([a, b, c]) => ({ b, a, c, extra: 'x' }));
        expect(csvRows(rows, ['a', 'b', 'c', 'missing'])).to.equal(library(records.map((r) => [...r, null])));
      }),
      { numRuns: 500 },
    );
  });

  it('quotes, doubles quotes and defuses formulas, but leaves negative numbers alone', () => {
    expect(csvLines([['Safety <b>first</b>', 'a,b', 'say "hi"', '=SUM(A1)', '-3', -3, true, null, '']])).to.equal(
      'Safety <b>first</b>,"a,b","say ""hi""",\'=SUM(A1),\'-3,-3,true,,\n',
    );
  });
});
