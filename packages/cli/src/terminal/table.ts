/**
 * Tables that fit the terminal: columns as wide as their content, the widest ones cut
 * with "…" until the table fits `process.stdout.columns` (`$COLUMNS` or 120 when piped).
 * An `ID` column is never cut: ids are copied into the next command.
 *
 * @example
 * console.log(formatTable(['NAME', 'STATUS'], [['mnist', 'Complete']]));
 */
const MIN_WIDTH = 6;

export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[], width?: number): string {
  const available = width ?? process.stdout.columns ?? (Number(process.env.COLUMNS) || 120);
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const gap = 2;
  const total = () => widths.reduce((sum, each) => sum + each, 0) + gap * (widths.length - 1);
  const cuttable = (column: number) => headers[column] !== 'ID';
  while (total() > available) {
    const candidates = widths.map((each, column) => (cuttable(column) ? each : 0));
    const widest = candidates.indexOf(Math.max(...candidates));
    if ((candidates[widest] as number) <= MIN_WIDTH) break;
    widths[widest] = (widths[widest] as number) - 1;
  }
  const cell = (text: string, column: number) => {
    const size = widths[column] as number;
    const fitted = text.length > size ? `${text.slice(0, Math.max(0, size - 1))}…` : text;
    return fitted.padEnd(size);
  };
  const line = (row: readonly string[]) =>
    row
      .map((text, column) => cell(text, column))
      .join(' '.repeat(gap))
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}
