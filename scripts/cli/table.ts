/** Prints rows as an aligned text table (the default output of list commands). */
export function printTable(rows: Array<Record<string, string>>, out: (line: string) => void = console.log): void {
  if (rows.length === 0) return out('(none)');
  const columns = Object.keys(rows[0]!);
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  out(line(columns.map((c) => c.toUpperCase())));
  for (const row of rows) out(line(columns.map((c) => row[c] ?? '')));
}
