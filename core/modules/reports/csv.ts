/**
 * CSV text for report rows: RFC 4180 quoting (a field with a comma, a quote or a line break is
 * quoted, quotes doubled), `\n` between records, and a cell starting with a spreadsheet formula
 * character prefixed with `'` so a learner's name never runs as a formula. Written out rather than
 * through csv-stringify because the export's rows are a few plain kinds (text, numbers, booleans,
 * null) and the library's per-field option handling cost more than reading the rows; the unit test
 * checks it writes exactly what csv-stringify writes with the options the export used
 * (`escape_formulas`, booleans as true / false).
 */

/** What a spreadsheet may read as the start of a formula (with the full-width forms Apple Numbers folds). */
const FORMULA_START = new Set(['=', '+', '-', '@', '\t', '\r', '\uFF1D', '\uFF0B', '\uFF0D', '\uFF20']);
const NEEDS_QUOTES = /[",\n\r]/;

/** One field: null is empty, numbers and booleans as written, text escaped and quoted when needed. */
export function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  // A negative number is a number, not a formula.
  if (typeof value === 'number') return String(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  let text = String(value);
  if (text === '') return '';
  if (FORMULA_START.has(text[0]!)) text = `'${text}`;
  return NEEDS_QUOTES.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Records as CSV lines, each ended by `\n`. */
export function csvLines(records: ReadonlyArray<readonly unknown[]>): string {
  let out = '';
  for (const record of records) {
    let line = '';
    for (let i = 0; i < record.length; i++) line += i === 0 ? csvField(record[i]) : `,${csvField(record[i])}`;
    out += `${line}\n`;
  }
  return out;
}

/** Report rows as CSV lines: the fields `keys` of each row, in that order (a missing one is empty). */
export function csvRows(rows: ReadonlyArray<Readonly<Record<string, unknown>>>, keys: readonly string[]): string {
  let out = '';
  for (const row of rows) {
    let line = csvField(row[keys[0]!]);
    for (let i = 1; i < keys.length; i++) line += `,${csvField(row[keys[i]!])}`;
    out += `${line}\n`;
  }
  return out;
}
