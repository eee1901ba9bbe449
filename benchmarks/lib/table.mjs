// Plain-text tables for the terminal: no dependency, numbers right-aligned.

/** Formats one cell: '—' for a missing value, numbers with precision that suits their size. */
export function formatCell(value) {
  if (value === null || value === undefined || (typeof value === 'number' && !Number.isFinite(value))) return '—';
  if (typeof value !== 'number') return String(value);
  if (Number.isInteger(value)) return String(value);
  const abs = Math.abs(value);
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 0.01) return value.toFixed(2);
  return value.toFixed(3);
}

/**
 * Formats `rows` (objects) as an aligned table. `columns` picks and orders the keys; by
 * default every key of the first row. Numeric columns are right-aligned.
 */
export function formatRows(rows, columns = Object.keys(rows[0] ?? {})) {
  const cells = rows.map((row) => columns.map((c) => formatCell(row[c])));
  const numeric = columns.map((c) => rows.some((r) => typeof r[c] === 'number') && rows.every((r) => r[c] === null || r[c] === undefined || typeof r[c] === 'number'));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i].length)));
  const line = (values) => values.map((v, i) => (numeric[i] ? v.padStart(widths[i]) : v.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(columns), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}
